#include "lib/base/util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

static void oom(void) {
  fputs("vcrun: out of memory\n", stderr);
  abort();
}

char *xstrdup(const char *s) {
  if (s == NULL)
    return NULL;
  char *r = strdup(s);
  if (r == NULL)
    oom();
  return r;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    oom();
  return s;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xrealloc(void *p, size_t size) {
  void *q = realloc(p, size);
  if (q == NULL)
    oom();
  return q;
}

bool vc_id_valid(const char *id) {
  if (id == NULL || id[0] == '\0' || strcmp(id, ".") == 0 ||
      strcmp(id, "..") == 0 || strlen(id) > VC_ID_MAX)
    return false;
  for (const char *p = id; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' ||
              c == '.';
    if (!ok)
      return false;
  }
  return true;
}

int vc_read_file(const char *path, char **out, size_t *len, vc_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "open `%s`", path);
  size_t cap = 4096, used = 0;
  cleanup_free char *buf = malloc(cap);
  if (buf == NULL)
    oom();
  for (;;) {
    if (used + 1 >= cap) {
      cap *= 2;
      char *n = realloc(buf, cap);
      if (n == NULL)
        oom();
      buf = n;
    }
    ssize_t r = read(fd, buf + used, cap - used - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return vc_error_set(err, errno, "read `%s`", path);
    if (r == 0)
      break;
    used += (size_t)r;
  }
  buf[used] = '\0';
  if (len != NULL)
    *len = used;
  *out = vc_steal(&buf);
  return 0;
}

int vc_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, vc_error **err) {
  cleanup_free char *tmp = xasprintf("%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return vc_error_set(err, errno, "create `%s`", tmp);
  if (vc_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    int saved = errno;
    close(fd);
    unlink(tmp);
    return vc_error_set(err, saved, "write `%s`", tmp);
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    int saved = errno;
    unlink(tmp);
    return vc_error_set(err, saved, "rename `%s`", tmp);
  }
  return 0;
}

int vc_mkdir_p(const char *path, mode_t mode, vc_error **err) {
  cleanup_free char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return vc_error_set(err, errno, "mkdir `%s`", p);
    *s = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return vc_error_set(err, errno, "mkdir `%s`", p);
  return 0;
}

static int rm_at(int dirfd, const char *name, dev_t dev, vc_error **err) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : vc_error_set(err, errno, "stat `%s`", name);
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev)
      return vc_error_set(err, EBUSY, "refusing to remove mount point `%s`",
                          name);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                     O_NOFOLLOW);
    if (fd < 0)
      return vc_error_set(err, errno, "open `%s`", name);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
      close(fd);
      return vc_error_set(err, errno, "opendir `%s`", name);
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      if (rm_at(fd, de->d_name, dev, err) < 0) {
        ret = -1;
        break;
      }
    }
    closedir(d);
    if (ret < 0)
      return ret;
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
      return vc_error_set(err, errno, "rmdir `%s`", name);
    return 0;
  }
  if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
    return vc_error_set(err, errno, "unlink `%s`", name);
  return 0;
}

int vc_rmdir_r(const char *path, vc_error **err) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : vc_error_set(err, errno, "stat `%s`", path);
  if (rm_at(AT_FDCWD, path, st.st_dev, err) < 0)
    return vc_error_wrap(err, "remove `%s`", path);
  return 0;
}

ssize_t vc_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    done += (size_t)w;
  }
  return (ssize_t)done;
}

ssize_t vc_read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t r = read(fd, p + done, len - done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0) {
      if (done == 0)
        return 0;
      errno = EIO;
      return -1;
    }
    done += (size_t)r;
  }
  return (ssize_t)done;
}

long long vc_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool vc_file_exists(const char *path) { return access(path, F_OK) == 0; }

size_t vc_printable(char *s, size_t len) {
  size_t out = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
      continue; /* serial consoles end lines with "\r\n" */
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      s[out++] = '?';
    } else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
               (unsigned char)s[i + 1] <= 0x9f) {
      s[out++] = '?';
      s[out++] = '?';
      i++;
    } else {
      s[out++] = (char)c;
    }
  }
  return out;
}

char *vc_path_clean(const char *path) {
  size_t cap = strlen(path) + 2, len = 0;
  char *res = xcalloc(1, cap);
  for (const char *part = path; *part != '\0';) {
    while (*part == '/')
      part++;
    size_t n = strcspn(part, "/");
    if (n == 2 && strncmp(part, "..", 2) == 0) {
      free(res);
      return NULL;
    }
    if (n > 0 && !(n == 1 && part[0] == '.'))
      len += (size_t)snprintf(res + len, cap - len, "/%.*s", (int)n, part);
    part += n;
  }
  return res;
}

ssize_t vc_send_fd(int sock, const void *msg, size_t len, int fd) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  memset(&ctl, 0, sizeof(ctl));
  struct iovec iov = {(void *)msg, len};
  struct msghdr m = {.msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = ctl.buf,
                     .msg_controllen = sizeof(ctl.buf)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do
    n = sendmsg(sock, &m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

ssize_t vc_recv_fd(int sock, void *buf, size_t len, int *fd) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  struct iovec iov = {buf, len};
  struct msghdr m = {.msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = ctl.buf,
                     .msg_controllen = sizeof(ctl.buf)};
  ssize_t n;
  do
    n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  *fd = -1;
  struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
  if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
      c->cmsg_len == CMSG_LEN(sizeof(int)))
    memcpy(fd, CMSG_DATA(c), sizeof(int));
  return n;
}

int vc_dir_lock(const char *dir, int *lock_fd, vc_error **err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "open `%s`", dir);
  if (flock(fd, LOCK_EX) < 0) {
    int e = errno;
    close(fd);
    return vc_error_set(err, e, "lock `%s`", dir);
  }
  *lock_fd = fd;
  return 0;
}

int vc_strcmp_ptr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char *vc_random_name(size_t n) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[64];
  char *name = xcalloc(1, n + 1);
  size_t got = 0;
  while (got < n) {
    size_t want = n - got < sizeof(bytes) ? n - got : sizeof(bytes);
    ssize_t r = getrandom(bytes, want, 0);
    if (r <= 0)
      abort(); /* the kernel's random source never fails for small reads */
    for (ssize_t i = 0; i < r; i++)
      name[got++] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
  }
  return name;
}
