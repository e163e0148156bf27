#include "stores/files_store.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "stores/files_clock.h"
#include "stores/files_glob.h"
#include "stores/files_selection.h"
#include "stores/files_walk.h"

namespace retention {
namespace {

using files::DirWalker;
using files::FileClock;
using files::FileClockReader;
using files::FilesSelection;
using files::GlobSet;
using files::RootDir;
using files::UniqueFd;
using files::WalkEntry;

std::string Errno(int err) { return std::strerror(err); }

// A file's identity beyond its name (SPEC 6.2), as Candidate::identity
// records it: "DEV:INO:SIZE:MTIME_NS". A file re-created under the same
// name has another inode (or, if the inode number is reused, almost surely
// another size or mtime); one rewritten in place another size or mtime.
// Compared whole, never parsed back.
std::string FileIdentity(const struct stat& st) {
  return std::to_string(static_cast<uint64_t>(st.st_dev)) + ":" + std::to_string(static_cast<uint64_t>(st.st_ino)) +
         ":" + std::to_string(static_cast<int64_t>(st.st_size)) + ":" +
         std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

// The inode flags (chattr) of an open file or directory; 0 when the file
// system has none.
int InodeFlags(const files::FileSystem& fs, int fd) {
  int flags = 0;
  if (fd < 0 || fs.GetInodeFlags(fd, &flags) != 0) return 0;
  return flags;
}

// Why unlinkat refused a file, for the kept entry and the log: the errno's
// text and, when it can be seen, its cause. `fd` is the open file or -1;
// `dirfd` its directory (O_PATH).
std::string UndeletableDetail(const files::FileSystem& fs, int err, int dirfd, int fd, const struct stat& st) {
  std::string why = "cannot be deleted: " + Errno(err);
  if (err == EBUSY) return why + " (a mount point)";
  if (err == EROFS) return why;
  const int file_flags = InodeFlags(fs, fd);
  if (file_flags & FS_IMMUTABLE_FL) return why + " (immutable)";
  if (file_flags & FS_APPEND_FL) return why + " (append-only)";
  UniqueFd dir(fs.OpenAt(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  const int dir_flags = InodeFlags(fs, dir.get());
  if (dir_flags & FS_IMMUTABLE_FL) return why + " (its directory is immutable)";
  if (dir_flags & FS_APPEND_FL) return why + " (its directory is append-only)";
  struct stat dst;
  if (fs.Fstat(dirfd, &dst) == 0 && (dst.st_mode & S_ISVTX) && st.st_uid != ::geteuid() && dst.st_uid != ::geteuid())
    return why + " (another user's file in a sticky directory)";
  if (err == EACCES) return why + " (no write permission on its directory)";
  return why;
}

// Streams the deletable files of one target in walk order: byte order within
// each directory, depth first. Files are NOT returned oldest first (that
// would need the whole list in memory); the purge does not depend on it.
// Each page is judged under the selection passed with it (the holds as the
// caller read them last); DeleteBatch re-checks every candidate anyway.
class FilesCursor : public CandidateCursor {
 public:
  FilesCursor(const RootDir& root, FilesSelection compiled) : compiled_(std::move(compiled)), walker_(root, compiled_.globs()) {}

  Result<std::vector<Candidate>> Next(const Selection& selection, size_t limit) override {
    RETENTION_RETURN_IF_ERROR(CheckRenderable(selection));
    std::vector<Candidate> out;
    WalkEntry e;
    while (out.size() < limit && !done_) {
      auto more = walker_.Next(&e);
      if (!more.ok()) return more.status();
      if (!*more) {
        done_ = true;
        break;
      }
      RecordFacts facts = compiled_.Facts(e.key, e.basename(), e.st);
      if (Evaluate(selection, facts).deletable)
        out.push_back(Candidate{e.key, facts.scopes[0].clock_text, "", FileIdentity(e.st)});
    }
    return out;
  }

 private:
  FilesSelection compiled_;
  DirWalker walker_;
  bool done_ = false;
};

class FilesStore : public Store {
 public:
  FilesStore(StoreConfig config, bool read_only, std::shared_ptr<const files::FileSystem> fs, UniqueFd root_fd,
             dev_t dev, files::MountId mount, ino_t ino)
      : config_(std::move(config)), read_only_(read_only), fs_(std::move(fs)), root_fd_(std::move(root_fd)),
        root_ino_(ino) {
    root_.fs = fs_.get();
    root_.fd = root_fd_.get();
    root_.dev = dev;
    root_.mount = mount;
    root_.store = config_.name;
    root_.path = config_.root.string();
  }

  const StoreConfig& config() const override { return config_; }

  Status CheckTarget(const Category& category, const Target& target, TargetCheck* out) override;
  Result<TargetStats> Measure(const Selection& selection) override;
  Result<int64_t> CountCovered(const Selection& selection) override;
  Result<std::unique_ptr<CandidateCursor>> OpenCursor(const Selection& selection) override;
  Result<BatchResult> DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) override;
  Result<std::vector<Presence>> Exist(const Target& target, const std::vector<Candidate>& records) override;
  Result<RecordFacts> Lookup(const Selection& selection, const std::string& key) override;
  Result<DueBound> BoundDue(const Selection& selection) override;
  Status Sync() override;
  // On this host's disk: nothing another host could compare.
  Result<std::optional<std::string>> Identity(const Target&) override { return std::optional<std::string>(); }

 private:
  std::string Prefix() const { return "store '" + config_.name + "'"; }

  // The parent directory of the last key, reused for consecutive keys in
  // the same directory within one batch (it was reached by the safe walk).
  struct ParentCache {
    std::string dir;
    UniqueFd fd;
    int error = 0;  // errno of the walk, 0 when fd is valid
    bool set = false;
    bool noted = false;  // NoteUnlinked already called for this directory
  };
  int OpenParent(const std::vector<std::string_view>& parts, std::string_view dir, ParentCache* cache);

  // Deletes one candidate if it is still deletable, adding it to
  // out->deleted; a file the store itself leaves (locked, changed, unsafe
  // path, refused by the system) goes to out->skipped with the reason; one
  // the selection keeps, or gone, to neither. A Status only for an error
  // that must stop the purge.
  Status DeleteOne(const Selection& selection, const FilesSelection& compiled, const Candidate& c,
                   ParentCache* cache, BatchResult* out);

  // Remembers that a file was unlinked in the directory `cache` holds, so
  // that the next Sync makes the unlink durable. The directory is opened
  // O_RDONLY from the O_PATH descriptor the delete used (fsync refuses
  // O_PATH), so it is the very directory the unlink went to, reached by the
  // safe walk. A directory this user may not read (write and search only)
  // cannot be opened for fsync: then Sync falls back to syncfs.
  void NoteUnlinked(ParentCache* cache);

  // For log lines: the file as the operator knows it.
  std::string FullPath(const std::string& key) const {
    return root_.path + (root_.path.empty() || root_.path.back() == '/' ? "" : "/") + key;
  }

  StoreConfig config_;
  bool read_only_;
  std::shared_ptr<const files::FileSystem> fs_;  // every file system call (file_system.h)
  UniqueFd root_fd_;
  ino_t root_ino_;
  RootDir root_;

  // Directories unlinked in since the last Sync (key: their path under the
  // root, "" for the root), each held open O_RDONLY; at most
  // kMaxUnsyncedDirs (beyond that the oldest is synced at once: early
  // durability is harmless, and descriptors stay bounded). Guarded by
  // sync_mu_: DeleteBatch and Sync run on one thread while the cursor reads
  // on another, and the cursor never touches these.
  static constexpr size_t kMaxUnsyncedDirs = 64;
  std::mutex sync_mu_;
  std::vector<std::pair<std::string, UniqueFd>> unsynced_;
  bool unsynced_unreadable_ = false;  // some directory could not be opened: syncfs
};

int FilesStore::OpenParent(const std::vector<std::string_view>& parts, std::string_view dir, ParentCache* cache) {
  if (cache->set && cache->dir == dir) return cache->error;
  cache->set = true;
  cache->noted = false;
  cache->dir.assign(dir);
  int fd = files::OpenDirUnder(root_, parts, parts.size() - 1, O_PATH);
  cache->fd.Reset(fd >= 0 ? fd : -1);
  cache->error = fd >= 0 ? 0 : -fd;
  return cache->error;
}

void FilesStore::NoteUnlinked(ParentCache* cache) {
  if (cache->noted) return;
  cache->noted = true;
  std::lock_guard<std::mutex> lock(sync_mu_);
  for (const auto& [dir, fd] : unsynced_)
    if (dir == cache->dir) return;
  UniqueFd fd(fs_->OpenAt(cache->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    spdlog::debug("{}: cannot open {} to fsync it ({}); the next sync is a syncfs", Prefix(),
                  cache->dir.empty() ? std::string(".") : cache->dir, Errno(errno));
    unsynced_unreadable_ = true;
    return;
  }
  if (unsynced_.size() >= kMaxUnsyncedDirs) {
    // Synced early; an error here surfaces at the next Sync through syncfs.
    if (fs_->Fsync(unsynced_.front().second.get()) != 0) unsynced_unreadable_ = true;
    unsynced_.erase(unsynced_.begin());
  }
  unsynced_.emplace_back(cache->dir, std::move(fd));
}

Status FilesStore::Sync() {
  std::lock_guard<std::mutex> lock(sync_mu_);
  // An unlink is durable once its directory is: fsync each directory the
  // store unlinked in (ext4, xfs, btrfs commit the directory's change with
  // it). Nothing else: the store never writes a file.
  while (!unsynced_.empty()) {
    auto& [dir, fd] = unsynced_.back();
    if (fs_->Fsync(fd.get()) != 0) {
      const int err = errno;
      return Status::IoError(Prefix() + ": cannot make the deletions in " + FullPath(dir) +
                             " durable (fsync of the directory): " + Errno(err));
    }
    unsynced_.pop_back();
  }
  if (unsynced_unreadable_) {
    if (fs_->SyncFs(root_.fd) != 0) {
      const int err = errno;
      return Status::IoError(Prefix() + ": cannot make its deletions durable (syncfs of " + root_.path +
                             "): " + Errno(err));
    }
    unsynced_unreadable_ = false;
  }
  return Status::Ok();
}

Result<DueBound> FilesStore::BoundDue(const Selection& selection) {
  // A directory tree has no index: any bound costs a walk with one stat
  // per matched file, which is all Measure does (judging a file from its
  // stat is CPU only), so the bound is the exact count.
  auto stats = Measure(selection);
  if (!stats.ok()) return stats.status();
  DueBound bound;
  bound.deletable_at_most = stats->deletable;
  bound.total_at_least = stats->total;
  bound.exact = true;
  return bound;
}

Result<TargetStats> FilesStore::Measure(const Selection& selection) {
  auto compiled = FilesSelection::Compile(selection, config_.name);
  if (!compiled.ok()) return compiled.status();
  TargetStats stats;
  // The five oldest deletable (clock, key), kept sorted: memory stays flat.
  std::vector<std::pair<Timestamp, std::string>> oldest;
  DirWalker walker(root_, compiled->globs());
  WalkEntry e;
  while (true) {
    auto more = walker.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++stats.total;
    RecordFacts facts = compiled->Facts(e.key, e.basename(), e.st);
    switch (Evaluate(selection, facts).decided_by) {
      case Decider::kUndated: ++stats.undated; break;
      case Decider::kHeld: ++stats.due; ++stats.held; break;
      case Decider::kFloor: ++stats.due; ++stats.floor_protected; break;
      case Decider::kDeletable: {
        ++stats.due;
        ++stats.deletable;
        std::pair<Timestamp, std::string> item(*facts.scopes[0].clock, e.key);
        if (oldest.size() < 5 || item < oldest.back()) {
          oldest.insert(std::upper_bound(oldest.begin(), oldest.end(), item), std::move(item));
          if (oldest.size() > 5) oldest.pop_back();
        }
        break;
      }
      default: break;  // not due, or not this selection's (another subject)
    }
  }
  if (!oldest.empty()) stats.oldest_due = oldest.front().first;
  for (auto& [t, key] : oldest) stats.sample_keys.push_back(std::move(key));
  return stats;
}

Result<int64_t> FilesStore::CountCovered(const Selection& selection) {
  auto compiled = FilesSelection::Compile(selection, config_.name);
  if (!compiled.ok()) return compiled.status();
  if (selection.exclusions.empty()) return int64_t{0};
  DirWalker walker(root_, compiled->globs());
  WalkEntry e;
  int64_t covered = 0;
  while (true) {
    auto more = walker.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    const RecordFacts facts = compiled->Facts(e.key, e.basename(), e.st);
    for (const HoldExclusion& x : selection.exclusions) {
      if (ExclusionCovers(x, facts)) {
        ++covered;
        break;
      }
    }
  }
  return covered;
}

Result<std::unique_ptr<CandidateCursor>> FilesStore::OpenCursor(const Selection& selection) {
  auto compiled = FilesSelection::Compile(selection, config_.name);
  if (!compiled.ok()) return compiled.status();
  return std::unique_ptr<CandidateCursor>(std::make_unique<FilesCursor>(root_, std::move(*compiled)));
}

Status FilesStore::DeleteOne(const Selection& selection, const FilesSelection& compiled, const Candidate& c,
                             ParentCache* cache, BatchResult* out) {
  // The store's own reasons to leave a file: recorded by the caller as a
  // kept entry with this reason, and logged here naming the file.
  auto skip = [&](SkipReason reason, const std::string& detail) {
    spdlog::warn("{}: not deleting {}: {}", Prefix(), FullPath(c.key), detail);
    out->skipped.push_back(SkippedRecord{c.key, c.clock, c.subject, reason, detail});
    return Status::Ok();
  };
  std::vector<std::string_view> parts;
  // The key is used only through the safe walk below, and only when it is a
  // file of this target: a stale or edited plan cannot name anything else.
  if (!files::SplitKey(c.key, &parts) || !compiled.globs().Matches(c.key))
    return skip(SkipReason::kChanged, "not a path the target selects");
  const std::string_view key(c.key);
  const std::string leaf(parts.back());
  const std::string_view dir = key.substr(0, key.size() - leaf.size());

  if (int err = OpenParent(parts, dir, cache); err != 0) {
    switch (err) {
      case ENOENT:
        return Status::Ok();  // already gone
      case ELOOP:
      case ENOTDIR:
      case EXDEV:
        return skip(SkipReason::kChanged,
                    "a directory on its path is now a symlink, not a directory, or another mount");
      case EACCES:
      case EPERM:
        return skip(SkipReason::kUndeletable, "cannot be deleted: cannot open its directory: " + Errno(err));
      default:
        return Status::IoError(Prefix() + ": " + c.key + ": " + Errno(err));
    }
  }
  const int dirfd = cache->fd.get();

  // Open the leaf (never through a symlink; O_NONBLOCK: never hang on a
  // fifo swapped in) to see what it is now and to test for a lock: skip what
  // another process holds a flock on, as systemd-tmpfiles does, and hold our
  // own exclusive lock until the unlink. (No fstatat first: the open itself
  // refuses symlinks, and a fifo or socket swapped in is seen by fstat; a
  // device node would take root to plant.)
  struct stat st;
  const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  UniqueFd fd(fs_->OpenAt(dirfd, leaf.c_str(), flags | O_NOATIME));
  if (!fd.valid() && errno == EPERM) fd.Reset(fs_->OpenAt(dirfd, leaf.c_str(), flags));  // not our file
  if (fd.valid()) {
    files::MountId mount;
    if (int err = files::StatWithMount(*fs_, fd.get(), nullptr, &st, &mount); err != 0)
      return Status::IoError(Prefix() + ": " + c.key + ": " + Errno(err));
    if (!S_ISREG(st.st_mode)) return skip(SkipReason::kChanged, "no longer a regular file");
    // A file bind mount (unlinkat would say EBUSY), or one from another
    // file system: what is mounted there is not this store's.
    if (!files::OnRootMount(root_.dev, root_.mount, st, mount))
      return skip(SkipReason::kUndeletable, "cannot be deleted: a mount point");
    if (fs_->Flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) return skip(SkipReason::kLocked, "another process holds a lock on it");
      return skip(SkipReason::kLocked, "cannot check for a lock: " + Errno(err));
    }
  } else {
    const int err = errno;
    switch (err) {
      case ENOENT:
        return Status::Ok();  // already gone
      case ELOOP:
      case ENXIO:  // a socket
        return skip(SkipReason::kChanged, "no longer a regular file");
      case EACCES:
      case EPERM:
        break;  // unreadable: decided on its stat below
      default:
        return skip(SkipReason::kLocked, "cannot open it to check for a lock: " + Errno(err));
    }
    // Not readable by this user, so not lockable by us either; unlinking
    // needs only the directory. As tmpfiles, decide on its stat.
    files::MountId mount;
    if (int e = files::StatWithMount(*fs_, dirfd, leaf.c_str(), &st, &mount); e != 0) {
      if (e == ENOENT) return Status::Ok();
      return skip(SkipReason::kChanged, "cannot read its metadata: " + Errno(e));
    }
    if (!S_ISREG(st.st_mode)) return skip(SkipReason::kChanged, "no longer a regular file");
    if (!files::OnRootMount(root_.dev, root_.mount, st, mount))
      return skip(SkipReason::kUndeletable, "cannot be deleted: a mount point");
    spdlog::debug("{}: {}: cannot open to check for a lock ({}); deciding on its stat", Prefix(), c.key,
                  Errno(err));
  }

  // The file selected, or another one under its name since (re-created,
  // rewritten in place): only the selected file may go (SPEC 6.2).
  if (c.identity && FileIdentity(st) != *c.identity)
    return skip(SkipReason::kChanged, "changed since selection (another file, or rewritten)");

  // The re-check: clock from this fresh stat or the name, floors, and the
  // holds the caller re-read just before this batch. What it keeps the
  // caller judges and records (a reason of the selection, not the store's).
  const RecordFacts facts = compiled.Facts(key, leaf, st);
  const Evaluation verdict = Evaluate(selection, facts);
  if (!verdict.deletable) {
    spdlog::debug("{}: keeping {}: {}", Prefix(), c.key, DeciderName(verdict.decided_by));
    return Status::Ok();
  }
  FileClock clock{facts.scopes[0].clock_text, facts.scopes[0].clock};
  // A candidate known by name and clock only (a saved plan): the clock is
  // what identity it has.
  if (!c.identity && !c.clock.empty() && clock.text != c.clock)
    return skip(SkipReason::kChanged, "changed since selection (its clock is now " + clock.text + ")");
  // unlinkat goes by name, and the name may have been given to another file
  // since the open (a rename over it): stat the name once more, just before
  // the unlink, and unlink only when it still names the file judged above.
  struct stat now;
  if (fs_->FstatAt(dirfd, leaf.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    if (err == ENOENT) return Status::Ok();  // someone else removed it: not ours to record
    return skip(SkipReason::kChanged, "cannot stat it again before deleting: " + Errno(err));
  }
  if (!S_ISREG(now.st_mode) || FileIdentity(now) != FileIdentity(st))
    return skip(SkipReason::kChanged, "changed since selection (another file, or rewritten)");
  if (fs_->UnlinkAt(dirfd, leaf.c_str(), 0) != 0) {
    const int err = errno;
    switch (err) {
      case ENOENT:
        return Status::Ok();  // someone else removed it: not ours to record
      // The system refuses this one file (SPEC 6.14): an immutable or
      // append-only file or directory, another user's file in a sticky
      // directory, a mount point, a read-only file system. Kept and
      // reported; the rest of the run goes on. Anything else (EIO, ...) is
      // an unknown state: stop.
      case EPERM:
      case EACCES:
      case EBUSY:
      case EROFS:
        return skip(SkipReason::kUndeletable, UndeletableDetail(*fs_, err, dirfd, fd.get(), st));
      default:
        return Status::IoError(Prefix() + ": cannot delete " + c.key + ": " + Errno(err));
    }
  }
  NoteUnlinked(cache);
  out->deleted.push_back(DeletedRecord{c.key, clock.text, ""});
  return Status::Ok();
}

Result<BatchResult> FilesStore::DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) {
  if (read_only_) return Status::Internal(Prefix() + ": opened read-only; refusing to delete");
  auto compiled = FilesSelection::Compile(selection, config_.name);
  if (!compiled.ok()) return compiled.status();
  BatchResult result;
  ParentCache cache;
  for (const Candidate& c : batch) {
    // On an error, the files already removed in this batch are not returned:
    // the purge keeps the batch pending and reconciles it through Exist().
    // Each unlink is irrevocable: the hold barrier still held first
    // (Selection::confirm_barrier; cheap while recently confirmed).
    RETENTION_RETURN_IF_ERROR(selection.ConfirmBarrier().WithContext(Prefix()));
    RETENTION_RETURN_IF_ERROR(DeleteOne(selection, *compiled, c, &cache, &result));
  }
  return result;
}

Result<std::vector<Presence>> FilesStore::Exist(const Target& target, const std::vector<Candidate>& records) {
  // For records selected without an identity (a saved plan, a batch left by
  // schema version 2): the clock's text, which does not depend on the zone
  // (an mtime is written in UTC, a name's date as it is in the name).
  std::optional<FileClockReader> clock_reader;
  std::vector<Presence> out;
  out.reserve(records.size());
  std::vector<std::string_view> parts;
  for (const Candidate& c : records) {
    if (!files::SplitKey(c.key, &parts)) {
      out.push_back(Presence::kAbsent);  // names nothing under the root
      continue;
    }
    UniqueFd dir;
    int fd = files::OpenDirUnder(root_, parts, parts.size() - 1, O_PATH);
    int err = 0;
    struct stat st;
    const std::string leaf(parts.back());
    if (fd >= 0) {
      dir.Reset(fd);
      if (fs_->FstatAt(dir.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) err = errno;
    } else {
      err = -fd;
    }
    switch (err) {
      case 0: break;
      case ENOENT:
      case ENOTDIR: out.push_back(Presence::kAbsent); continue;
      // A symlink or a mount on the path now: whether the file is still
      // there cannot be seen from the root. Never guess: a deletion could go
      // unrecorded, or one be claimed that did not happen.
      case ELOOP:
      case EXDEV:
        return Status::Unavailable(Prefix() + ": cannot tell whether " + c.key +
                                   " is still there: a directory on its path is now a symbolic link or on "
                                   "another file system; restore the directory and run again");
      default: return Status::IoError(Prefix() + ": " + c.key + ": " + Errno(err));
    }
    if (st.st_dev != root_.dev) {
      return Status::Unavailable(Prefix() + ": cannot tell whether " + c.key +
                                 " is still there: its name is now a mount point; unmount it and run again");
    }
    if (!S_ISREG(st.st_mode)) {
      out.push_back(Presence::kReplaced);  // only regular files are ever selected
    } else if (c.identity) {
      out.push_back(FileIdentity(st) == *c.identity ? Presence::kSame : Presence::kReplaced);
    } else {
      if (!clock_reader) {
        auto reader = FileClockReader::Make(target.clock, TimeZone::Utc());
        if (!reader.ok()) return reader.status().WithContext(target.where.ToString());
        clock_reader.emplace(std::move(*reader));
      }
      out.push_back(clock_reader->Read(st, leaf).text == c.clock ? Presence::kSame : Presence::kReplaced);
    }
  }
  return out;
}

Result<RecordFacts> FilesStore::Lookup(const Selection& selection, const std::string& key_arg) {
  auto compiled = FilesSelection::Compile(selection, config_.name);
  if (!compiled.ok()) return compiled.status();
  RecordFacts facts;
  // `explain` may be given the file's full path: accept it under the root.
  std::string key = key_arg;
  const std::string root = root_.path;
  if (!root.empty() && key.size() > root.size() + 1 && key.compare(0, root.size(), root) == 0 &&
      (key[root.size()] == '/' || root.back() == '/')) {
    key.erase(0, root.size());
    while (!key.empty() && key.front() == '/') key.erase(0, 1);
  }
  std::vector<std::string_view> parts;
  if (!files::SplitKey(key, &parts)) return facts;
  int fd = files::OpenDirUnder(root_, parts, parts.size() - 1, O_PATH);
  if (fd < 0) {
    if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP || fd == -EXDEV) return facts;
    return Status::IoError(Prefix() + ": " + key + ": " + Errno(-fd));
  }
  UniqueFd dir(fd);
  const std::string leaf(parts.back());
  struct stat st;
  files::MountId mount;
  if (int err = files::StatWithMount(*fs_, dir.get(), leaf.c_str(), &st, &mount); err != 0) {
    if (err == ENOENT || err == ENOTDIR) return facts;
    return Status::IoError(Prefix() + ": " + key + ": " + Errno(err));
  }
  // Symlinks and mount points are never records.
  if (!S_ISREG(st.st_mode) || !files::OnRootMount(root_.dev, root_.mount, st, mount)) return facts;
  return compiled->Facts(key, leaf, st);
}

Status FilesStore::CheckTarget(const Category& /*category*/, const Target& target, TargetCheck* out) {
  const std::string where = target.where.ToString().empty() ? "target '" + target.name + "'" : target.where.ToString();
  const std::string root_where = Prefix() + ": root " + root_.path;

  // The root: still there, still the directory we opened, readable.
  struct stat st;
  if (fs_->Fstat(root_.fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
    out->errors.push_back(root_where + ": not a directory");
    return Status::Ok();
  }
  struct stat now;
  if (fs_->Lstat(root_.path.c_str(), &now) != 0) {
    out->errors.push_back(root_where + ": " + Errno(errno));
    return Status::Ok();
  }
  if (now.st_dev != st.st_dev || now.st_ino != root_ino_)
    out->warnings.push_back(root_where + ": replaced since it was opened");
  {
    UniqueFd probe(fs_->OpenAt(root_.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!probe.valid()) {
      out->errors.push_back(root_where + ": cannot read: " + Errno(errno));
      return Status::Ok();
    }
  }

  auto globs = GlobSet::Compile(target.paths);
  if (!globs.ok()) out->errors.push_back(where + ": " + globs.status().message());
  const SourceLocation& clock_at = target.clock.where.ToString().empty() ? target.where : target.clock.where;
  const std::string clock_where = clock_at.ToString().empty() ? where : clock_at.ToString();
  auto reader = FileClockReader::Make(target.clock, TimeZone::Utc());
  if (!reader.ok()) out->errors.push_back(clock_where + ": " + reader.status().message());
  if (!globs.ok() || !reader.ok()) return Status::Ok();
  // The walk below only warns; a purge walks the tree itself.
  if (out->depth == CheckDepth::kGate) return Status::Ok();

  // What the target selects today: none at all is probably a typo.
  DirWalker walker(root_, *globs);
  WalkEntry e;
  int64_t total = 0, undated = 0;
  while (true) {
    auto more = walker.Next(&e);
    if (!more.ok()) {
      out->errors.push_back(more.status().message());
      return Status::Ok();
    }
    if (!*more) break;
    ++total;
    if (!reader->Read(e.st, e.basename()).value) ++undated;
  }
  std::string patterns;
  for (const std::string& p : target.paths) patterns += (patterns.empty() ? "\"" : ", \"") + p + "\"";
  if (total == 0) {
    out->warnings.push_back(where + ": no file under " + root_.path + " currently matches paths [" + patterns + "]");
  } else if (undated > 0) {
    out->warnings.push_back(where + ": " + std::to_string(undated) + " of " + std::to_string(total) +
                            " matching files have no usable date" +
                            (target.clock.source == ClockSource::kFileName
                                 ? " in their name (pattern \"" + target.clock.name_pattern + "\")"
                                 : " (mtime)") +
                            "; they are kept as undated");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenFilesStore(const StoreConfig& config, bool read_only,
                                              std::shared_ptr<const files::FileSystem> fs) {
  const std::string prefix = "store '" + config.name + "'";
  if (config.type != StoreType::kFiles) return Status::Internal(prefix + " is not a files store");
  std::string root = config.root.string();
  if (root.empty()) return Status::Invalid(prefix + ": no root directory configured");
  // A trailing '/' would make the kernel follow a symlinked root.
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (!fs) return Status::Internal(prefix + ": no file system");
  UniqueFd fd(fs->Open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    std::string why = Errno(err);
    struct stat lst;
    if (err == ELOOP || (err == ENOTDIR && fs->Lstat(root.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))) {
      why = "is a symbolic link (not followed; name the real directory)";
    } else if (err == ENOTDIR) {
      why = "not a directory";
    }
    return Status::Unavailable(prefix + ": root " + root + ": " + why);
  }
  struct stat st;
  files::MountId mount;
  if (int err = files::StatWithMount(*fs, fd.get(), nullptr, &st, &mount); err != 0)
    return Status::Unavailable(prefix + ": root " + root + ": " + Errno(err));
  if (!mount)
    spdlog::warn("{}: cannot read mount ids here (no statx, name_to_handle_at or /proc); bind mounts under "
                 "{} cannot be told apart and only other file systems are skipped",
                 prefix, root);
  StoreConfig copy = config;
  copy.root = root;
  return std::unique_ptr<Store>(
      std::make_unique<FilesStore>(std::move(copy), read_only, std::move(fs), std::move(fd), st.st_dev, mount, st.st_ino));
}

}  // namespace retention
