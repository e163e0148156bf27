// The power-loss simulator's recording half: an LD_PRELOAD library that
// keeps, beside a watched directory, the "durable image" of it -- what a
// power cut at this moment could not take away. The model, the argument
// for it and the rebuilding half are in power_loss.h.
//
//   POWER_LOSS_DIR    the watched directory (absolute, no symlink on it)
//   POWER_LOSS_IMAGE  the image directory, seeded by power_loss.h's Seed()
//                     and on the same file system (limbo/ hard-links)
//
// What it records, each step completed before the intercepted call returns
// (so a SIGKILL between the real call and the record is a power cut before
// the call returned, which the program could not tell apart):
//   fsync/fdatasync of a regular file under the directory: its bytes now
//       -> IMAGE/data/INO (written to a temporary and renamed);
//   fsync/fdatasync of a directory under it: its entries now (name, inode,
//       file or directory) -> IMAGE/dirs/INO, then "S INO" in IMAGE/log;
//   syncfs/sync: both for every file and directory under it;
//   unlink/unlinkat/rmdir of a name under it: the file is first hard-linked
//       as IMAGE/limbo/INO (so that the rebuild can bring back the very
//       inode, with its identity), then "U DIR_INO NAME" in IMAGE/log once
//       the real unlink succeeded;
//   rename/renameat over an existing file under it: the file replaced is
//       hard-linked into limbo first, for the same reason.
// Calls are serialized by one mutex so that a directory's listing and an
// unlink in it are recorded in the order they happened.
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_dir[PATH_MAX];
static size_t g_dir_len;
static char g_img[PATH_MAX - 64];  // room for "/data/INO.tmp"
static int g_on;

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static void (*real_sync)(void);
static int (*real_unlink)(const char*);
static int (*real_unlinkat)(int, const char*, int);
static int (*real_rmdir)(const char*);
static int (*real_rename)(const char*, const char*);
static int (*real_renameat)(int, const char*, int, const char*);

static void Init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_syncfs = (int (*)(int))dlsym(RTLD_NEXT, "syncfs");
  real_sync = (void (*)(void))dlsym(RTLD_NEXT, "sync");
  real_unlink = (int (*)(const char*))dlsym(RTLD_NEXT, "unlink");
  real_unlinkat = (int (*)(int, const char*, int))dlsym(RTLD_NEXT, "unlinkat");
  real_rmdir = (int (*)(const char*))dlsym(RTLD_NEXT, "rmdir");
  real_rename = (int (*)(const char*, const char*))dlsym(RTLD_NEXT, "rename");
  real_renameat = (int (*)(int, const char*, int, const char*))dlsym(RTLD_NEXT, "renameat");
  const char* dir = getenv("POWER_LOSS_DIR");
  const char* img = getenv("POWER_LOSS_IMAGE");
  if (dir == NULL || img == NULL || strlen(dir) >= sizeof g_dir || strlen(img) >= sizeof g_img) return;
  strcpy(g_dir, dir);
  g_dir_len = strlen(g_dir);
  while (g_dir_len > 1 && g_dir[g_dir_len - 1] == '/') g_dir[--g_dir_len] = '\0';
  strcpy(g_img, img);
  g_on = 1;
}

static int Under(const char* path) {
  return strncmp(path, g_dir, g_dir_len) == 0 && (path[g_dir_len] == '/' || path[g_dir_len] == '\0');
}

// The absolute path of `name` relative to `dirfd` (or of dirfd itself when
// name is NULL); 0 on success.
static int PathAt(int dirfd, const char* name, char* out) {
  char base[PATH_MAX];
  if (name != NULL && name[0] == '/') {
    if (strlen(name) >= PATH_MAX) return -1;
    strcpy(out, name);
    return 0;
  }
  if (dirfd == AT_FDCWD) {
    if (getcwd(base, sizeof base) == NULL) return -1;
  } else {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    const ssize_t n = readlink(link, base, sizeof base - 1);
    if (n <= 0) return -1;
    base[n] = '\0';
  }
  if (name == NULL) {
    strcpy(out, base);
    return 0;
  }
  if ((size_t)snprintf(out, PATH_MAX, "%s/%s", base, name) >= PATH_MAX) return -1;
  return 0;
}

static void ImagePath(char* out, const char* sub, unsigned long long ino, const char* suffix) {
  snprintf(out, PATH_MAX, "%s/%s/%llu%s", g_img, sub, ino, suffix);
}

static void Log(const char* line) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/log", g_img);
  const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const ssize_t ignored = write(fd, line, strlen(line));  // one write: all or nothing under SIGKILL
  (void)ignored;
  close(fd);
}

// IMAGE/data/INO := the bytes of the regular file at `path` now.
static void SaveFile(const char* path, unsigned long long ino) {
  char tmp[PATH_MAX], dst[PATH_MAX];
  ImagePath(tmp, "data", ino, ".tmp");
  ImagePath(dst, "data", ino, "");
  const int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return;
  const int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    close(in);
    return;
  }
  char buf[1 << 16];
  ssize_t n;
  int ok = 1;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) ok = 0;
  if (n < 0) ok = 0;
  close(in);
  close(out);
  if (ok) rename(tmp, dst);
}

// IMAGE/dirs/INO := the entries of the directory at `path` now; then "S INO".
static void SaveDir(const char* path, unsigned long long ino) {
  char tmp[PATH_MAX], dst[PATH_MAX];
  ImagePath(tmp, "dirs", ino, ".tmp");
  ImagePath(dst, "dirs", ino, "");
  DIR* d = opendir(path);
  if (d == NULL) return;
  FILE* out = fopen(tmp, "w");
  if (out == NULL) {
    closedir(d);
    return;
  }
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
      fprintf(out, "%c %llu %s\n", S_ISREG(st.st_mode) ? 'f' : 'd', (unsigned long long)st.st_ino, e->d_name);
  }
  closedir(d);
  if (fclose(out) != 0) return;
  rename(tmp, dst);
  char line[64];
  snprintf(line, sizeof line, "S %llu\n", ino);
  Log(line);
}

static int SaveAny(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
  (void)flag;
  (void)ftw;
  if (S_ISREG(st->st_mode)) SaveFile(path, (unsigned long long)st->st_ino);
  if (S_ISDIR(st->st_mode)) SaveDir(path, (unsigned long long)st->st_ino);
  return 0;
}

// After a successful sync of `fd`: record what it made durable.
static void AfterSync(int fd) {
  struct stat st;
  char path[PATH_MAX];
  if (fstat(fd, &st) != 0 || PathAt(fd, NULL, path) != 0 || !Under(path)) return;
  pthread_mutex_lock(&g_mu);
  if (S_ISREG(st.st_mode)) SaveFile(path, (unsigned long long)st.st_ino);
  if (S_ISDIR(st.st_mode)) SaveDir(path, (unsigned long long)st.st_ino);
  pthread_mutex_unlock(&g_mu);
}

static void AfterSyncAll(void) {
  pthread_mutex_lock(&g_mu);
  nftw(g_dir, SaveAny, 16, FTW_PHYS);
  pthread_mutex_unlock(&g_mu);
}

// Before the name at `path` goes (unlink, rmdir, rename over it): keep its
// inode alive in limbo. Sets *dir_ino to its directory's inode.
static void KeepInLimbo(const char* path, unsigned long long* dir_ino) {
  struct stat st;
  *dir_ino = 0;
  char dir[PATH_MAX];
  strcpy(dir, path);
  char* slash = strrchr(dir, '/');
  if (slash == NULL) return;
  *slash = '\0';
  struct stat dst;
  if (stat(dir[0] ? dir : "/", &dst) == 0) *dir_ino = (unsigned long long)dst.st_ino;
  if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) return;
  char limbo[PATH_MAX];
  ImagePath(limbo, "limbo", (unsigned long long)st.st_ino, "");
  link(path, limbo);  // EEXIST: already there
}

static int Unlinked(int rc, int err, const char* path, unsigned long long dir_ino) {
  if (rc == 0) {
    const char* name = strrchr(path, '/');
    char line[PATH_MAX + 64];
    snprintf(line, sizeof line, "U %llu %s\n", dir_ino, name ? name + 1 : path);
    Log(line);
  }
  pthread_mutex_unlock(&g_mu);
  errno = err;
  return rc;
}

static int RemoveAt(int dirfd, const char* name, int flags, int how) {
  pthread_once(&g_once, Init);
  char path[PATH_MAX];
  if (!g_on || PathAt(dirfd, name, path) != 0 || !Under(path)) {
    if (how == 0) return real_unlink(name);
    if (how == 1) return real_rmdir(name);
    return real_unlinkat(dirfd, name, flags);
  }
  pthread_mutex_lock(&g_mu);
  unsigned long long dir_ino;
  KeepInLimbo(path, &dir_ino);
  int rc;
  if (how == 0) rc = real_unlink(name);
  else if (how == 1) rc = real_rmdir(name);
  else rc = real_unlinkat(dirfd, name, flags);
  return Unlinked(rc, errno, path, dir_ino);
}

static int Sync(int fd, int data_only) {
  pthread_once(&g_once, Init);
  const int rc = data_only ? real_fdatasync(fd) : real_fsync(fd);
  const int err = errno;
  if (rc == 0 && g_on) AfterSync(fd);
  errno = err;
  return rc;
}

int fsync(int fd) { return Sync(fd, 0); }
int fdatasync(int fd) { return Sync(fd, 1); }
int syncfs(int fd) {
  pthread_once(&g_once, Init);
  const int rc = real_syncfs(fd);
  const int err = errno;
  if (rc == 0 && g_on) AfterSyncAll();
  errno = err;
  return rc;
}
void sync(void) {
  pthread_once(&g_once, Init);
  real_sync();
  if (g_on) AfterSyncAll();
}
int unlink(const char* path) { return RemoveAt(AT_FDCWD, path, 0, 0); }
int rmdir(const char* path) { return RemoveAt(AT_FDCWD, path, AT_REMOVEDIR, 1); }
int unlinkat(int dirfd, const char* name, int flags) { return RemoveAt(dirfd, name, flags, 2); }

static int RenameAt(int olddirfd, const char* oldname, int newdirfd, const char* newname) {
  pthread_once(&g_once, Init);
  char path[PATH_MAX];
  if (g_on && PathAt(newdirfd, newname, path) == 0 && Under(path)) {
    pthread_mutex_lock(&g_mu);
    unsigned long long dir_ino;
    KeepInLimbo(path, &dir_ino);
    const int rc = real_renameat(olddirfd, oldname, newdirfd, newname);
    const int err = errno;
    pthread_mutex_unlock(&g_mu);
    errno = err;
    return rc;
  }
  return real_renameat(olddirfd, oldname, newdirfd, newname);
}
int rename(const char* from, const char* to) { return RenameAt(AT_FDCWD, from, AT_FDCWD, to); }
int renameat(int olddirfd, const char* from, int newdirfd, const char* to) {
  return RenameAt(olddirfd, from, newdirfd, to);
}
