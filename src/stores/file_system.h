// The file system calls the files store makes, behind an interface
// (STYLE.md, "Seams for tests").
//
// Each call has the shape and meaning of the POSIX call it is named after:
// on failure it returns -1 (or the error as stated) with errno set, so the
// store's error handling reads as it would over the raw calls. The default,
// PosixFileSystem(), makes the raw calls; tests wrap it to fail chosen
// calls with EIO, ENOSPC, EPERM... (tests/support/fault_file_system.h).
// Descriptors are real kernel descriptors either way; closing one is left
// to the caller's ::close (a failed close of a descriptor the store only
// read through changes nothing the store decides).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace retention::files {

// One name in a directory listing (not "." or "..").
struct DirectoryEntry {
  std::string name;
  unsigned char type = 0;  // d_type (DT_UNKNOWN when the file system does not say)
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual int Open(const char* path, int flags) const = 0;
  virtual int OpenAt(int dirfd, const char* name, int flags) const = 0;
  virtual int Fstat(int fd, struct stat* st) const = 0;
  virtual int FstatAt(int dirfd, const char* name, struct stat* st, int flags) const = 0;
  virtual int Lstat(const char* path, struct stat* st) const = 0;
  virtual int Statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* sx) const = 0;
  // name_to_handle_at(2): the mount id, even when the handle does not fit.
  virtual int NameToHandleAt(int dirfd, const char* name, struct file_handle* handle, int* mount_id,
                             int flags) const = 0;
  virtual ssize_t Read(int fd, void* buf, size_t count) const = 0;
  virtual int UnlinkAt(int dirfd, const char* name, int flags) const = 0;
  virtual int Flock(int fd, int operation) const = 0;
  // ioctl(FS_IOC_GETFLAGS): the inode flags (chattr).
  virtual int GetInodeFlags(int fd, int* flags) const = 0;
  // Lists the directory open as `fd` (fdopendir/readdir/closedir): takes
  // the descriptor over and closes it in every case. Returns 0 or an errno.
  virtual int ReadDirectory(int fd, std::vector<DirectoryEntry>* out) const = 0;
  // fsync(2) of an open file or directory (O_RDONLY, not O_PATH).
  virtual int Fsync(int fd) const = 0;
  // syncfs(2): every file of the file system `fd` is on.
  virtual int SyncFs(int fd) const = 0;
};

// The raw POSIX calls. One shared instance; it has no state.
std::shared_ptr<const FileSystem> PosixFileSystem();

}  // namespace retention::files
