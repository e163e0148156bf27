// An LD_PRELOAD library that makes every fsync, fdatasync and
// sync_file_range(SYNC_FILE_RANGE_WAIT_AFTER) RETENTION_FSYNC_PAD_MS
// milliseconds slower (default 3), after the real call: the cost of a
// flush on a slower disk than this VM's when it is quiet (bench/README.md,
// "The 3 ms fsync variant"). bench/run loads it into both sides of a
// comparison -- the engine and sqlite3 or find -- so that a design that
// flushes more often pays for it and one that flushes less does not.
// msync and O_SYNC/O_DSYNC writes are not padded: neither side uses them.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off_t, off_t, unsigned int);
static struct timespec pad;

static void Init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_sync_file_range = (int (*)(int, off_t, off_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
  const char* ms = getenv("RETENTION_FSYNC_PAD_MS");
  const double v = ms != NULL && *ms != '\0' ? atof(ms) : 3.0;
  pad.tv_sec = (time_t)(v / 1000);
  pad.tv_nsec = (long)((v - pad.tv_sec * 1000.0) * 1e6);
}

// Sleeps the pad, whatever signals interrupt it; keeps errno.
static void Pad(void) {
  const int err = errno;
  struct timespec left = pad;
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  errno = err;
}

int fsync(int fd) {
  pthread_once(&once, Init);
  const int rc = real_fsync(fd);
  Pad();
  return rc;
}

int fdatasync(int fd) {
  pthread_once(&once, Init);
  const int rc = real_fdatasync(fd);
  Pad();
  return rc;
}

int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags) {
  pthread_once(&once, Init);
  const int rc = real_sync_file_range(fd, offset, nbytes, flags);
  if (flags & SYNC_FILE_RANGE_WAIT_AFTER) Pad();  // only a waiting call is a flush the caller waits for
  return rc;
}
