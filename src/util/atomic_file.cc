#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace retention {

namespace {

// fsync of the file or directory at `path`. A file's data is flushed by an
// fsync on any descriptor of it, so reopening read-only is enough.
Status SyncPath(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return Status::IoError(path.string() + ": cannot open to sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError(path.string() + ": fsync failed: " + std::strerror(err));
  return Status::Ok();
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path file, std::filesystem::path tmp)
    : file_(std::move(file)), tmp_(std::move(tmp)), out_(tmp_, std::ios::binary | std::ios::trunc) {}

Result<std::unique_ptr<AtomicFile>> AtomicFile::Create(const std::filesystem::path& file) {
  std::unique_ptr<AtomicFile> f(new AtomicFile(file, file.string() + ".tmp"));
  if (!f->out_) {
    const int err = errno;
    f->done_ = true;  // nothing to remove: it was never created
    return Status::IoError(f->tmp_.string() + ": cannot write: " + std::strerror(err));
  }
  return f;
}

AtomicFile::~AtomicFile() {
  if (done_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(tmp_, ec);
}

Status AtomicFile::Commit() {
  if (done_) return Status::Internal(tmp_.string() + ": committed twice");
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  Status st;
  if (!written || !out_) st = Status::IoError(tmp_.string() + ": write failed");
  if (st.ok()) st = SyncPath(tmp_, /*directory=*/false);
  if (st.ok() && std::rename(tmp_.c_str(), file_.c_str()) != 0)
    st = Status::IoError("cannot rename " + tmp_.string() + " to " + file_.string() + ": " + std::strerror(errno));
  if (!st.ok()) {
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
    done_ = true;
    return st;
  }
  done_ = true;
  const std::filesystem::path dir = file_.has_parent_path() ? file_.parent_path() : std::filesystem::path(".");
  return SyncPath(dir, /*directory=*/true);
}

Status WriteFileAtomically(const std::filesystem::path& file, std::string_view content) {
  auto f = AtomicFile::Create(file);
  if (!f.ok()) return f.status();
  (*f)->out().write(content.data(), static_cast<std::streamsize>(content.size()));
  return (*f)->Commit();
}

}  // namespace retention
