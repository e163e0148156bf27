// The files backend: log and backup files under a root directory.
//
// A record is a regular file under the store's root whose path relative to
// the root matches one of the target's `paths` globs (files_glob.h); its key
// is that relative path ("logs/access.log-20260301.gz"). Its clock is the
// mtime or a date in its name (files_clock.h). Files have no filters and no
// subjects: holds match them by category, target, key and clock range.
//
// Safety (SPEC 6.8, after systemd-tmpfiles' dir_cleanup): the root is opened
// once with O_NOFOLLOW; every later access is relative to directory
// descriptors, one component at a time with O_NOFOLLOW, never following a
// symlink (a symlink is never a record in this version, whatever it points
// to), never entering another file system. Just before each unlinkat the
// file is re-stat'ed and re-evaluated (clock, floors, holds), and a file
// another process holds a flock on is skipped. When unsure, the file stays.
#pragma once

#include <memory>

#include "config/config.h"
#include "stores/file_system.h"
#include "stores/store.h"
#include "util/status.h"

namespace retention {

// Opens the root directory of a files store. A missing or unusable root is
// Unavailable "store 'NAME': root DIR: reason". The store keeps the root's
// descriptor for its lifetime; cursors it opens must not outlive it. Every
// file system call the store makes goes through `fs` (file_system.h).
Result<std::unique_ptr<Store>> OpenFilesStore(
    const StoreConfig& config, bool read_only,
    std::shared_ptr<const files::FileSystem> fs = files::PosixFileSystem());

}  // namespace retention
