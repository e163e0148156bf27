// Lock files named by a path: the run lock and the hold barrier.
//
// flock() locks an inode, not a name. If the file is removed (or another
// renamed over it) while a process holds the lock, the next process to open
// the path gets a new inode and locks it at once: two holders, each sure it
// is alone. So whoever takes a lock checks afterwards that the path still
// names the file it locked (and retries if not), and a long holder checks
// again before each step that relies on it.
#pragma once

#include <filesystem>

namespace retention {

// The state database's path with symlinks resolved, to derive the lock
// files' paths from: two configs naming one database through different
// paths (one through a symlink to the file) must lock the same files, as
// SQLite (which resolves symlinks) shares one -wal between them. The path
// as given when it cannot be resolved.
std::filesystem::path ResolvedStatePath(const std::filesystem::path& state_path);

// Whether `path` names the file open as `fd` (same device and inode).
// False when the path is gone or names another file.
bool PathNamesDescriptor(const std::filesystem::path& path, int fd);

// Whether some process holds an exclusive flock on the file at `path`
// (probed with a shared, non-blocking flock, released at once). False when
// the file does not exist. Does not create it.
bool LockHeldElsewhere(const std::filesystem::path& path);

// How many times a lock is retaken when the path turned out to name
// another file just after it was locked.
inline constexpr int kLockInPlaceAttempts = 10;

}  // namespace retention
