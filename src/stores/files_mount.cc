#include "stores/files_mount.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

namespace retention::files {

namespace {

bool IsSelf(const char* name) { return name == nullptr || name[0] == '\0'; }

// The stat the rest of the store works with, from a statx answer.
void FromStatx(const struct statx& sx, struct stat* st) {
  *st = {};
  st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  st->st_ino = sx.stx_ino;
  st->st_mode = sx.stx_mode;
  st->st_nlink = sx.stx_nlink;
  st->st_uid = sx.stx_uid;
  st->st_gid = sx.stx_gid;
  st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
  st->st_size = static_cast<off_t>(sx.stx_size);
  st->st_blksize = sx.stx_blksize;
  st->st_blocks = static_cast<blkcnt_t>(sx.stx_blocks);
  st->st_atim = {sx.stx_atime.tv_sec, sx.stx_atime.tv_nsec};
  st->st_mtim = {sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec};
  st->st_ctim = {sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec};
}

}  // namespace

// Fallback 2: name_to_handle_at reports the mount id even when the file
// system cannot encode a handle into the buffer (EOVERFLOW).
MountId MountIdByHandle(const FileSystem& fs, int dirfd, const char* name) {
  union {
    struct file_handle handle;
    char bytes[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  } h{};
  h.handle.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = -1;
  const int flags = IsSelf(name) ? AT_EMPTY_PATH : 0;  // never AT_SYMLINK_FOLLOW
  if (fs.NameToHandleAt(dirfd, IsSelf(name) ? "" : name, &h.handle, &mount_id, flags) != 0 && errno != EOVERFLOW)
    return std::nullopt;
  if (mount_id < 0) return std::nullopt;
  return static_cast<uint64_t>(mount_id);
}

// Fallback 3: the "mnt_id:" line of the descriptor's fdinfo.
MountId MountIdByFdinfo(const FileSystem& fs, int dirfd, const char* name) {
  int fd = IsSelf(name) ? dirfd : fs.OpenAt(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const std::string path = "/proc/self/fdinfo/" + std::to_string(fd);
  // Read while `fd` is still open: its fdinfo goes with it.
  char buf[4096];
  ssize_t n = -1;
  if (int info = fs.Open(path.c_str(), O_RDONLY | O_CLOEXEC); info >= 0) {
    do {
      n = fs.Read(info, buf, sizeof buf - 1);
    } while (n < 0 && errno == EINTR);
    ::close(info);
  }
  if (!IsSelf(name)) ::close(fd);
  if (n <= 0) return std::nullopt;
  std::string_view text(buf, static_cast<size_t>(n));
  constexpr std::string_view kKey = "mnt_id:";
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, kKey.size()) != kKey) continue;
    line.remove_prefix(kKey.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    uint64_t id = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
    if (ec != std::errc() || p == line.data()) return std::nullopt;
    return id;
  }
  return std::nullopt;
}

int StatWithMount(const FileSystem& fs, int dirfd, const char* name, struct stat* st, MountId* mount) {
  const char* path = IsSelf(name) ? "" : name;
  const int self = IsSelf(name) ? AT_EMPTY_PATH : 0;
  struct statx sx;
  if (fs.Statx(dirfd, path, self | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &sx) ==
      0) {
    // Every basic field we use must be there; a file system that cannot
    // give one is read through fstatat instead.
    constexpr unsigned kNeeded = STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_MTIME | STATX_UID;
    if ((sx.stx_mask & kNeeded) == kNeeded) {
      FromStatx(sx, st);
      if (sx.stx_mask & STATX_MNT_ID) {
        *mount = sx.stx_mnt_id;
        return 0;
      }
      *mount = MountIdByHandle(fs, dirfd, name);
      if (!*mount) *mount = MountIdByFdinfo(fs, dirfd, name);
      return 0;
    }
  } else if (errno != ENOSYS && errno != EINVAL) {
    return errno;
  }
  if (fs.FstatAt(dirfd, path, st, self | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0) return errno;
  *mount = MountIdByHandle(fs, dirfd, name);
  if (!*mount) *mount = MountIdByFdinfo(fs, dirfd, name);
  return 0;
}

}  // namespace retention::files
