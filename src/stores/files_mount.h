// Telling which mount a file or directory is on (SPEC 6.8: never cross a
// mount).
//
// st_dev alone cannot see a bind mount of the same file system: a directory
// bind-mounted from outside the root has the root's st_dev, and a walk that
// compared devices only would descend into it and delete there. A mount id
// names the mount itself, so every bind mount has its own. It is read, as
// systemd's fd_is_mount_point does, from the first source that gives it:
//   1. statx(STATX_MNT_ID)                     Linux >= 5.8
//   2. name_to_handle_at()'s mount id          any file system, even one
//                                              that cannot encode handles
//   3. /proc/self/fdinfo/FD "mnt_id:"          needs /proc
// When none does (no /proc, very old kernel), the mount id is unknown and
// only st_dev is compared: the walk still stops at other file systems.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>

#include "stores/file_system.h"

namespace retention::files {

// A mount id; nullopt when it could not be read.
using MountId = std::optional<uint64_t>;

// fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW) plus the mount id of what it
// names; `name` nullptr or "" means dirfd itself (which may be an O_PATH
// descriptor), through `fs`. A mount point is never followed into by name lookup: the
// stat and the mount id are those of what is mounted there, as the kernel
// resolves the name. Returns 0 or an errno.
int StatWithMount(const FileSystem& fs, int dirfd, const char* name, struct stat* st, MountId* mount);

// The fallbacks, each on its own (StatWithMount uses them when statx gives
// no mount id; tests check they agree with it). nullopt when unavailable.
MountId MountIdByHandle(const FileSystem& fs, int dirfd, const char* name);
MountId MountIdByFdinfo(const FileSystem& fs, int dirfd, const char* name);

// Whether (st, mount) is on the mount of the root (root_dev, root_mount).
// An unknown mount id of the entry while the root's is known is "not on
// it": when unsure, keep.
inline bool OnRootMount(dev_t root_dev, const MountId& root_mount, const struct stat& st, const MountId& mount) {
  if (st.st_dev != root_dev) return false;
  if (!root_mount) return true;  // mount ids unavailable on this system: st_dev only
  return mount && *mount == *root_mount;
}

}  // namespace retention::files
