// An LD_PRELOAD shim for the tests: a disk that fills up while the program
// runs. While the file named by DISK_FULL_TRIGGER exists, every write to a
// file whose path contains DISK_FULL_MATCH fails with ENOSPC before a byte
// is written, as on a full file system; other files write as usual. The
// test creates the trigger at the moment it wants (e.g. at a
// RETENTION_PAUSE point) and removes it to free the disk again.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int Full(int fd) {
  const char* trigger = getenv("DISK_FULL_TRIGGER");
  const char* match = getenv("DISK_FULL_MATCH");
  if (trigger == NULL || match == NULL || access(trigger, F_OK) != 0) return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return strstr(path, match) != NULL;
}

typedef ssize_t (*write_fn)(int, const void*, size_t);
typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void*, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec*, int);
typedef int (*fallocate_fn)(int, int, off_t, off_t);
typedef int (*posix_fallocate_fn)(int, off_t, off_t);

// The next definition of `name` (libc's), looked up once.
#define REAL(name)                 \
  static name##_fn real_##name = NULL; \
  if (real_##name == NULL) real_##name = (name##_fn)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void* buf, size_t n) {
  REAL(write);
  if (Full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  REAL(pwrite);
  if (Full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  REAL(pwrite64);
  if (Full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  REAL(writev);
  if (Full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return real_writev(fd, iov, n);
}

int fallocate(int fd, int mode, off_t off, off_t len) {
  REAL(fallocate);
  if (Full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return real_fallocate(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len) {
  REAL(posix_fallocate);
  if (Full(fd)) return ENOSPC;
  return real_posix_fallocate(fd, off, len);
}
