/*
 * faultShim.c: an LD_PRELOAD library for framelog's fault sweep (npm run test:faults).
 *
 * It counts the I/O calls a process makes on paths under FAULT_ROOT (opens, writes, syncs,
 * renames, links, unlinks, truncates, mkdirs; fd calls are matched by the fd's path) and fails
 * call number FAULT_AT (1-based; with FAULT_PERSIST=1, every call from it on): an open with
 * EMFILE, a write with ENOSPC, anything else with EIO. Each counted call is logged to FAULT_LOG as
 * "<n> <call> <path>\n", so a clean run enumerates the points to fail. With FAULT_ACTION=stop, call
 * FAULT_AT is not failed: the process stops itself (SIGSTOP) just before making it, so a test can
 * copy the disk image as a power cut at that instant would leave it. Without FAULT_ROOT it only
 * passes calls through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <signal.h>
#include <unistd.h>

static char root[4096];
static size_t rootlen;
static long fault_at;
static int persist;
static int stop_instead;
static int logfd = -1;
static long counter;

__attribute__((constructor)) static void fault_init(void) {
  const char *r = getenv("FAULT_ROOT");
  if (r && *r && strlen(r) < sizeof root) {
    strcpy(root, r);
    rootlen = strlen(root);
  }
  const char *a = getenv("FAULT_AT");
  fault_at = a ? atol(a) : 0;
  const char *p = getenv("FAULT_PERSIST");
  persist = p && p[0] == '1';
  const char *act = getenv("FAULT_ACTION");
  stop_instead = act && strcmp(act, "stop") == 0;
  const char *l = getenv("FAULT_LOG");
  if (l && *l) logfd = (int)syscall(SYS_openat, AT_FDCWD, l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int under_root(const char *path) {
  return rootlen > 0 && strncmp(path, root, rootlen) == 0 && (path[rootlen] == '/' || path[rootlen] == 0);
}

/* The absolute path of `path` relative to `dirfd` (AT_FDCWD: the working directory). */
static int resolve_at(int dirfd, const char *path, char *out, size_t size) {
  if (!path) return 0;
  if (path[0] == '/') return snprintf(out, size, "%s", path) < (int)size;
  char base[4096];
  if (dirfd == AT_FDCWD) {
    if (!getcwd(base, sizeof base)) return 0;
  } else {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, base, sizeof base - 1);
    if (n < 0) return 0;
    base[n] = 0;
  }
  return snprintf(out, size, "%s/%s", base, path) < (int)size;
}

static int fd_path(int fd, char *out, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, out, size - 1);
  if (n < 0) return 0;
  out[n] = 0;
  return 1;
}

/* Counts a call on `path` when it lies under the root; returns the errno to fail it with, or 0. */
static int judge(const char *call, const char *path, int err) {
  if (!path || !under_root(path)) return 0;
  long n = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
  if (logfd >= 0) {
    char line[4400];
    int len = snprintf(line, sizeof line, "%ld %s %s\n", n, call, path);
    if (len > 0) syscall(SYS_write, logfd, line, (size_t)(len < (int)sizeof line ? len : (int)sizeof line - 1));
  }
  if (fault_at > 0 && stop_instead) {
    if (n == fault_at) raise(SIGSTOP);
    return 0;
  }
  if (fault_at > 0 && (n == fault_at || (persist && n > fault_at))) return err;
  return 0;
}

static int judge_at(const char *call, int dirfd, const char *path, int err) {
  if (rootlen == 0) return 0;
  char abs[4096];
  return resolve_at(dirfd, path, abs, sizeof abs) ? judge(call, abs, err) : 0;
}

static int judge_fd(const char *call, int fd, int err) {
  if (rootlen == 0) return 0;
  char p[4096];
  return fd_path(fd, p, sizeof p) ? judge(call, p, err) : 0;
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)
#define FAIL_WITH(e) do { errno = (e); return -1; } while (0)

static mode_t mode_of(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  REAL(open);
  va_list ap; va_start(ap, flags); mode_t m = mode_of(flags, ap); va_end(ap);
  int e = judge_at("open", AT_FDCWD, path, EMFILE);
  if (e) FAIL_WITH(e);
  return real_open(path, flags, m);
}
int open64(const char *path, int flags, ...) {
  REAL(open64);
  va_list ap; va_start(ap, flags); mode_t m = mode_of(flags, ap); va_end(ap);
  int e = judge_at("open", AT_FDCWD, path, EMFILE);
  if (e) FAIL_WITH(e);
  return real_open64(path, flags, m);
}
int openat(int dirfd, const char *path, int flags, ...) {
  REAL(openat);
  va_list ap; va_start(ap, flags); mode_t m = mode_of(flags, ap); va_end(ap);
  int e = judge_at("open", dirfd, path, EMFILE);
  if (e) FAIL_WITH(e);
  return real_openat(dirfd, path, flags, m);
}
int openat64(int dirfd, const char *path, int flags, ...) {
  REAL(openat64);
  va_list ap; va_start(ap, flags); mode_t m = mode_of(flags, ap); va_end(ap);
  int e = judge_at("open", dirfd, path, EMFILE);
  if (e) FAIL_WITH(e);
  return real_openat64(dirfd, path, flags, m);
}
ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write);
  int e = judge_fd("write", fd, ENOSPC);
  if (e) FAIL_WITH(e);
  return real_write(fd, buf, n);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite);
  int e = judge_fd("write", fd, ENOSPC);
  if (e) FAIL_WITH(e);
  return real_pwrite(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite64);
  int e = judge_fd("write", fd, ENOSPC);
  if (e) FAIL_WITH(e);
  return real_pwrite64(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  REAL(writev);
  int e = judge_fd("write", fd, ENOSPC);
  if (e) FAIL_WITH(e);
  return real_writev(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(pwritev);
  int e = judge_fd("write", fd, ENOSPC);
  if (e) FAIL_WITH(e);
  return real_pwritev(fd, iov, cnt, off);
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(pwritev64);
  int e = judge_fd("write", fd, ENOSPC);
  if (e) FAIL_WITH(e);
  return real_pwritev64(fd, iov, cnt, off);
}
int fsync(int fd) {
  REAL(fsync);
  int e = judge_fd("fsync", fd, EIO);
  if (e) FAIL_WITH(e);
  return real_fsync(fd);
}
int fdatasync(int fd) {
  REAL(fdatasync);
  int e = judge_fd("fdatasync", fd, EIO);
  if (e) FAIL_WITH(e);
  return real_fdatasync(fd);
}
int ftruncate(int fd, off_t len) {
  REAL(ftruncate);
  int e = judge_fd("ftruncate", fd, EIO);
  if (e) FAIL_WITH(e);
  return real_ftruncate(fd, len);
}
int ftruncate64(int fd, off_t len) {
  REAL(ftruncate64);
  int e = judge_fd("ftruncate", fd, EIO);
  if (e) FAIL_WITH(e);
  return real_ftruncate64(fd, len);
}
int rename(const char *from, const char *to) {
  REAL(rename);
  int e = judge_at("rename", AT_FDCWD, to, EIO);
  if (e) FAIL_WITH(e);
  return real_rename(from, to);
}
int renameat(int fd1, const char *from, int fd2, const char *to) {
  REAL(renameat);
  int e = judge_at("rename", fd2, to, EIO);
  if (e) FAIL_WITH(e);
  return real_renameat(fd1, from, fd2, to);
}
int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags) {
  REAL(renameat2);
  int e = judge_at("rename", fd2, to, EIO);
  if (e) FAIL_WITH(e);
  return real_renameat2(fd1, from, fd2, to, flags);
}
int link(const char *from, const char *to) {
  REAL(link);
  int e = judge_at("link", AT_FDCWD, to, EIO);
  if (e) FAIL_WITH(e);
  return real_link(from, to);
}
int linkat(int fd1, const char *from, int fd2, const char *to, int flags) {
  REAL(linkat);
  int e = judge_at("link", fd2, to, EIO);
  if (e) FAIL_WITH(e);
  return real_linkat(fd1, from, fd2, to, flags);
}
int unlink(const char *path) {
  REAL(unlink);
  int e = judge_at("unlink", AT_FDCWD, path, EIO);
  if (e) FAIL_WITH(e);
  return real_unlink(path);
}
int unlinkat(int dirfd, const char *path, int flags) {
  REAL(unlinkat);
  int e = judge_at("unlink", dirfd, path, EIO);
  if (e) FAIL_WITH(e);
  return real_unlinkat(dirfd, path, flags);
}
int rmdir(const char *path) {
  REAL(rmdir);
  int e = judge_at("rmdir", AT_FDCWD, path, EIO);
  if (e) FAIL_WITH(e);
  return real_rmdir(path);
}
int mkdir(const char *path, mode_t m) {
  REAL(mkdir);
  int e = judge_at("mkdir", AT_FDCWD, path, EIO);
  if (e) FAIL_WITH(e);
  return real_mkdir(path, m);
}
int mkdirat(int dirfd, const char *path, mode_t m) {
  REAL(mkdirat);
  int e = judge_at("mkdir", dirfd, path, EIO);
  if (e) FAIL_WITH(e);
  return real_mkdirat(dirfd, path, m);
}
