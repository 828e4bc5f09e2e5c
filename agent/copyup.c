#include "agent/copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/util.h"

static int copy_file(int src_dir, int dest_dir, const char *name,
                     const struct stat *st, vc_error **err) {
  int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return vc_error_set(err, errno, "tmpcopyup: open `%s`", name);
  int out = openat(dest_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                   st->st_mode & 07777);
  if (out < 0) {
    close(in);
    return vc_error_set(err, errno, "tmpcopyup: create `%s`", name);
  }
  char buf[65536];
  ssize_t n;
  int ret = 0;
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (vc_write_all(out, buf, (size_t)n) < 0)
      break;
  if (n != 0)
    ret = vc_error_set(err, errno, "tmpcopyup: copy `%s`", name);
  close(in);
  close(out);
  return ret;
}

static int copy_entry(int src_dir, int dest_dir, const char *name,
                      vc_error **err) {
  struct stat st;
  if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return vc_error_set(err, errno, "tmpcopyup: stat `%s`", name);
  int ret = 0;
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(dest_dir, name, st.st_mode & 07777) < 0)
      return vc_error_set(err, errno, "tmpcopyup: mkdir `%s`", name);
    int s = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int d = openat(dest_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ret = s < 0 || d < 0 ? vc_error_set(err, errno, "tmpcopyup: open `%s`", name)
                         : agent_copy_tree(s, d, err);
    if (s >= 0)
      close(s);
    if (d >= 0)
      close(d);
  } else if (S_ISREG(st.st_mode)) {
    ret = copy_file(src_dir, dest_dir, name, &st, err);
  } else if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t len = readlinkat(src_dir, name, target, sizeof(target) - 1);
    if (len < 0)
      return vc_error_set(err, errno, "tmpcopyup: readlink `%s`", name);
    target[len] = '\0';
    if (symlinkat(target, dest_dir, name) < 0)
      return vc_error_set(err, errno, "tmpcopyup: symlink `%s`", name);
  } else if (mknodat(dest_dir, name, st.st_mode, st.st_rdev) < 0) {
    return vc_error_set(err, errno, "tmpcopyup: mknod `%s`", name);
  }
  if (ret < 0)
    return -1;
  if (fchownat(dest_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return vc_error_set(err, errno, "tmpcopyup: chown `%s`", name);
  /* chown clears set-id bits: the mode goes on after it. */
  if (!S_ISLNK(st.st_mode) && fchmodat(dest_dir, name, st.st_mode & 07777, 0) < 0)
    return vc_error_set(err, errno, "tmpcopyup: chmod `%s`", name);
  return 0;
}

int agent_copy_tree(int src_dir_fd, int dest_dir_fd, vc_error **err) {
  int fd = dup(src_dir_fd);
  DIR *dir = fd < 0 ? NULL : fdopendir(fd);
  if (dir == NULL) {
    if (fd >= 0)
      close(fd);
    return vc_error_set(err, errno, "tmpcopyup: read directory");
  }
  int ret = 0;
  struct dirent *e;
  while (ret == 0 && (e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    ret = copy_entry(src_dir_fd, dest_dir_fd, e->d_name, err);
  }
  closedir(dir);
  return ret;
}
