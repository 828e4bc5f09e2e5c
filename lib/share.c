#include "lib/share.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/base/util.h"

char *vc_share_dir(const char *sandbox_dir) {
  return xasprintf("%s/shared", sandbox_dir);
}

static char *mount_source_path(const struct oci_mount *m, const char *bundle) {
  const char *src = m->source ? m->source : "";
  return src[0] == '/' ? xstrdup(src) : xasprintf("%s/%s", bundle, src);
}

/* path with ".", "..", empty and trailing parts resolved as written, without
 * asking the file system (as Go's filepath.Clean, which runc compares
 * with).  path is absolute; the caller frees the result. */
static char *clean_lexically(const char *path) {
  size_t cap = strlen(path) + 2, len = 0;
  char *res = xcalloc(1, cap);
  for (const char *part = path; *part != '\0';) {
    while (*part == '/')
      part++;
    size_t n = strcspn(part, "/");
    if (n == 2 && strncmp(part, "..", 2) == 0) {
      char *last = strrchr(res, '/');
      len = last != NULL ? (size_t)(last - res) : 0;
      res[len] = '\0';
    } else if (n > 0 && !(n == 1 && part[0] == '.')) {
      len += (size_t)snprintf(res + len, cap - len, "/%.*s", (int)n, part);
    }
    part += n;
  }
  if (len == 0)
    strcpy(res, "/");
  return res;
}

int vc_share_check_rootfs(const char *joined, const char *resolved,
                          const char *config_path, vc_error **err) {
  /* runc 1.1's own words: a rootfs reached through a symlink is refused,
   * not followed (a link to "/" would share the host's whole root). */
  cleanup_free char *cleaned = clean_lexically(joined);
  if (strcmp(cleaned, resolved) != 0)
    return vc_error_set(err, 0, "%s: root.path `%s`: invalid rootfs: not an "
                        "absolute path, or a symlink", config_path, joined);
  struct stat st;
  if (stat(resolved, &st) < 0)
    return vc_error_set(err, errno, "%s: root.path `%s`", config_path, joined);
  if (!S_ISDIR(st.st_mode))
    return vc_error_set(err, ENOTDIR, "%s: root.path `%s`", config_path, joined);
  return 0;
}

/* What a bind source on the host must not be, for the VM to see what runc's
 * container would: src is the path to open, as written in mounts[index]. */
static int check_source_kind(const char *src, const struct stat *st,
                             size_t index, const char *source,
                             const char *config_path, vc_error **err) {
  /* The guest kernel keeps such inodes of virtio-fs to itself: a socket or
   * FIFO there never reaches the host's listener or writer. */
  if (S_ISSOCK(st->st_mode) || S_ISFIFO(st->st_mode))
    return vc_error_set(err, 0, "%s: mounts[%zu].source `%s`: a %s on the host "
                        "cannot be reached from the VM through virtio-fs",
                        config_path, index, source,
                        S_ISSOCK(st->st_mode) ? "unix socket" : "FIFO");
  /* /proc/self/fd/N, /dev/stdin, /proc/<pid>/root...: here they would name
   * vcrun's own (its caller's) files, not the container's. */
  bool own_process = false;
  struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                         .resolve = RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof(how));
  if (fd >= 0)
    close(fd);
  else
    own_process = errno == ELOOP;
  cleanup_free char *real = realpath(src, NULL);
  cleanup_free char *self_dir = xasprintf("/proc/%d/", (int)getpid());
  if (real != NULL && strncmp(real, self_dir, strlen(self_dir)) == 0)
    own_process = true;
  if (own_process)
    return vc_error_set(err, 0, "%s: mounts[%zu].source `%s`: a link of a "
                        "process in /proc would name vcrun's own files on the "
                        "host, not the container's", config_path, index,
                        source);
  return 0;
}

int vc_share_check_sources(const struct oci_spec *spec, const char *bundle,
                           const char *config_path, vc_error **err) {
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct oci_mount *m = &spec->mounts[i];
    if (!oci_mount_is_bind(m))
      continue;
    if (m->source == NULL || m->source[0] == '\0')
      return vc_error_set(err, 0, "%s: mounts[%zu].source: a bind mount needs a source",
                          config_path, i);
    /* Below the rootfs the agent checks it, after the mounts before it. */
    cleanup_free char *in_root = oci_mount_source_in_root(spec, bundle, m);
    if (in_root != NULL)
      continue;
    cleanup_free char *src = mount_source_path(m, bundle);
    struct stat st;
    if (stat(src, &st) < 0)
      return vc_error_set(err, errno, "%s: mounts[%zu].source `%s`", config_path,
                          i, m->source);
    if (check_source_kind(src, &st, i, m->source, config_path, err) < 0)
      return -1;
  }
  return 0;
}

/* Binds source onto target (created as an empty file or a directory, like
 * the source), then makes it a slave so nothing mounted under it here
 * flows back to where it came from. */
static int bind_into_share(const char *source, const char *target,
                           unsigned long rec, const char *what, vc_error **err) {
  struct stat st;
  if (stat(source, &st) < 0)
    return vc_error_set(err, errno, "%s `%s`", what, source);
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(target, 0755) < 0 && errno != EEXIST)
      return vc_error_set(err, errno, "create `%s`", target);
  } else {
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return vc_error_set(err, errno, "create `%s`", target);
    close(fd);
  }
  if (mount(source, target, NULL, MS_BIND | rec, NULL) < 0)
    return vc_error_set(err, errno, "bind %s `%s` into the sandbox share", what,
                        source);
  if (mount(NULL, target, NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return vc_error_set(err, errno, "make `%s` a slave mount", target);
  return 0;
}

int vc_share_create(const char *share_dir, vc_error **err) {
  /* Traversable (0711): a container in a user namespace reaches its rootfs
   * through these as a mapped, unprivileged guest uid.  Host users are kept
   * out by the state directory above (0700). */
  if (mkdir(share_dir, 0711) < 0)
    return vc_error_set(err, errno, "create `%s`", share_dir);
  /* A mount of its own, in a peer group of its own: what is bound below
   * reaches virtiofsd's namespace (a slave of it) and nothing else, also
   * after virtiofsd started (pod members join later). */
  if (mount(share_dir, share_dir, NULL, MS_BIND, NULL) < 0) {
    vc_error_set(err, errno, "bind `%s` onto itself", share_dir);
    rmdir(share_dir);
    return -1;
  }
  if (mount(NULL, share_dir, NULL, MS_PRIVATE, NULL) < 0 ||
      mount(NULL, share_dir, NULL, MS_SHARED, NULL) < 0) {
    vc_error_set(err, errno, "make `%s` a shared mount of its own", share_dir);
    vc_share_teardown(share_dir, NULL);
    return -1;
  }
  return 0;
}

int vc_share_add(const char *share_dir, const char *cid, const char *rootfs,
                 const char *bundle, const struct oci_spec *spec,
                 vc_error **err) {
  cleanup_free char *cdir = xasprintf("%s/%s", share_dir, cid);
  cleanup_free char *root_target = xasprintf("%s/rootfs", cdir);
  cleanup_free char *mounts_dir = xasprintf("%s/mounts", cdir);
  if (mkdir(cdir, 0711) < 0)
    return vc_error_set(err, errno, "create `%s`", cdir);
  if (mkdir(mounts_dir, 0711) < 0) {
    vc_error_set(err, errno, "create `%s`", mounts_dir);
    goto fail;
  }
  if (bind_into_share(rootfs, root_target, MS_REC, "root.path", err) < 0)
    goto fail;
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct oci_mount *m = &spec->mounts[i];
    if (!oci_mount_is_bind(m))
      continue;
    cleanup_free char *in_root = oci_mount_source_in_root(spec, bundle, m);
    if (in_root != NULL)
      continue; /* reached through the rootfs's share */
    cleanup_free char *src = mount_source_path(m, bundle);
    cleanup_free char *target = xasprintf("%s/%zu", mounts_dir, i);
    cleanup_free char *what = xasprintf("mounts[%zu].source", i);
    unsigned long rec = oci_mount_has_option(m, "rbind") ? MS_REC : 0;
    if (bind_into_share(src, target, rec, what, err) < 0)
      goto fail;
  }
  return 0;

fail:
  vc_share_remove(share_dir, cid, NULL);
  return -1;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s) {
  char *out = s;
  for (char *in = s; *in; in++) {
    if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] >= '0' &&
        in[2] <= '7' && in[3] >= '0' && in[3] <= '7') {
      *out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
      in += 3;
    } else {
      *out++ = *in;
    }
  }
  *out = '\0';
}

/* True if anything is mounted on dir or below it (or if that cannot be
 * told: then nothing may be removed). */
static bool mounted_at_or_below(const char *dir) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return true;
  size_t len = strlen(dir);
  bool found = false;
  char *line = NULL;
  size_t cap = 0;
  while (!found && getline(&line, &cap, f) > 0) {
    /* id parent major:minor root mount-point ... */
    char *save = NULL, *field = strtok_r(line, " ", &save);
    for (int i = 0; field != NULL && i < 4; i++)
      field = strtok_r(NULL, " ", &save);
    if (field == NULL)
      continue;
    unescape_mountinfo(field);
    found = strncmp(field, dir, len) == 0 && (field[len] == '\0' || field[len] == '/');
  }
  free(line);
  fclose(f);
  return found;
}

int vc_share_teardown(const char *share_dir, vc_error **err) {
  struct stat st;
  if (lstat(share_dir, &st) < 0)
    return errno == ENOENT ? 0 : vc_error_set(err, errno, "stat `%s`", share_dir);
  /* A detached unmount takes every mount below with it. */
  while (umount2(share_dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
    ;
  if (errno != EINVAL)
    return vc_error_set(err, errno, "unmount `%s`", share_dir);
  if (mounted_at_or_below(share_dir))
    return vc_error_set(err, EBUSY, "`%s` still has mounts; not removed", share_dir);
  return vc_rmdir_r(share_dir, err);
}

int vc_share_remove(const char *share_dir, const char *cid, vc_error **err) {
  cleanup_free char *cdir = xasprintf("%s/%s", share_dir, cid);
  cleanup_free char *mounts_dir = xasprintf("%s/mounts", cdir);
  cleanup_free char *root_target = xasprintf("%s/rootfs", cdir);
  struct stat st;
  if (lstat(cdir, &st) < 0)
    return errno == ENOENT ? 0 : vc_error_set(err, errno, "stat `%s`", cdir);
  DIR *d = opendir(mounts_dir);
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.')
      continue;
    cleanup_free char *target = xasprintf("%s/%s", mounts_dir, de->d_name);
    while (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
      ;
  }
  if (d != NULL)
    closedir(d);
  while (umount2(root_target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
    ;
  if (mounted_at_or_below(cdir))
    return vc_error_set(err, EBUSY, "`%s` still has mounts; not removed", cdir);
  return vc_rmdir_r(cdir, err);
}
