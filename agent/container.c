/* The container side of process creation, run in the cloned child: it is
 * already in its new namespaces and prepares the rootfs, then waits for the
 * agent's start signal and execs the container process. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent/cgroups.h"
#include "agent/copyup.h"
#include "oci/hooks.h"
#include "oci/mount_attr.h"
#include "oci/state.h"
#include "agent/security.h"
#include "lib/base/util.h"

int agent_namespace_flags(const struct oci_spec *spec, int joined, int vm_level,
                          int *flags, vc_error **err) {
  /* The container always gets its own mount namespace: its root is a
   * pivot_root into the shared rootfs, which must not move the agent's. */
  int f = CLONE_NEWNS;
  for (size_t i = 0; i < spec->n_namespaces; i++) {
    const struct oci_namespace *ns = &spec->namespaces[i];
    int flag = agent_namespace_flag(ns->type, NULL);
    if (flag == 0)
      return vc_error_set(err, 0, "linux.namespaces[%zu].type: \"%s\" is not supported",
                          i, ns->type);
    if (ns->path != NULL && ns->path[0] != '\0' && !(vm_level & flag)) {
      if (!(joined & flag) || flag == CLONE_NEWNS)
        return vc_error_set(err, 0,
                            "linux.namespaces[%zu].path: `%s` is not a "
                            "namespace of a container in this sandbox",
                            i, ns->path);
      continue;
    }
    f |= flag;
  }
  /* As runc: a new user namespace needs both mappings, and mappings need
   * a user namespace. */
  bool user = f & CLONE_NEWUSER;
  if (user && (spec->n_uid_mappings == 0 || spec->n_gid_mappings == 0))
    return vc_error_set(err, 0, "linux.%s: a user namespace needs uid and gid "
                        "mappings", spec->n_uid_mappings == 0 ? "uidMappings"
                                                              : "gidMappings");
  if (!user && (spec->n_uid_mappings > 0 || spec->n_gid_mappings > 0))
    return vc_error_set(err, 0, "linux.%s: mappings given without a user "
                        "namespace", spec->n_uid_mappings > 0 ? "uidMappings"
                                                              : "gidMappings");
  *flags = f;
  return 0;
}

static int write_id_map(pid_t pid, const char *file,
                        const struct oci_id_mapping *m, size_t n,
                        vc_error **err) {
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int)pid, file);
  size_t cap = n * 36 + 1, len = 0;
  cleanup_free char *text = xcalloc(cap, 1);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(text + len, cap - len, "%u %u %u\n",
                            m[i].container_id, m[i].host_id, m[i].size);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return vc_error_set(err, e, "linux.%s: write %s",
                        file[0] == 'u' ? "uidMappings" : "gidMappings", path);
  }
  close(fd);
  return 0;
}

int agent_write_id_maps(pid_t pid, const struct oci_spec *spec, vc_error **err) {
  if (write_id_map(pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings,
                   err) < 0 ||
      write_id_map(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings,
                   err) < 0)
    return -1;
  return 0;
}

/* ---- failure reporting from the child ---------------------------------- */

static int child_sync_fd = -1;

void agent_child_set_sync_fd(int fd) { child_sync_fd = fd; }

_Noreturn void child_fail(const char *fmt, ...) {
  char msg[2048];
  msg[0] = 'E';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
  va_end(ap);
  if (child_sync_fd >= 0 && write(child_sync_fd, msg, strlen(msg)) < 0)
    _exit(127);
  _exit(127);
}

/* ---- mounts ------------------------------------------------------------- */

struct mount_flag {
  const char *name;
  bool clear;
  unsigned long flag;
};

/* Options as runc reads them: these become mount flags, the rest is data. */
static const struct mount_flag mount_flags[] = {
    {"ro", false, MS_RDONLY},        {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},      {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS}, {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},  {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},  {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME}, {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME}, {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION}, {"noiversion", true, MS_I_VERSION},
    {"silent", false, MS_SILENT},    {"loud", true, MS_SILENT},
    {"defaults", false, 0},
    {"bind", false, MS_BIND},        {"rbind", false, MS_BIND | MS_REC},
    /* Not a mount flag: the tmpfs gets a copy of what it covers. */
    {"tmpcopyup", false, 0},
};

static const struct mount_flag propagation_flags[] = {
    {"private", false, MS_PRIVATE},  {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},    {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},      {"rslave", false, MS_SLAVE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE},
    {"runbindable", false, MS_UNBINDABLE | MS_REC},
};


static void parse_mount_options(const struct oci_mount *m, unsigned long *flags,
                                unsigned long *propagation,
                                struct oci_recursive_attr *recursive,
                                char *data, size_t data_size) {
  *flags = 0;
  *propagation = 0;
  *recursive = (struct oci_recursive_attr){0};
  data[0] = '\0';
  for (size_t i = 0; i < m->n_options; i++) {
    const char *o = m->options[i];
    if (oci_recursive_option(o, recursive))
      continue;
    size_t j;
    for (j = 0; j < N_ELEMS(mount_flags); j++) {
      if (strcmp(o, mount_flags[j].name) == 0) {
        if (mount_flags[j].clear)
          *flags &= ~mount_flags[j].flag;
        else
          *flags |= mount_flags[j].flag;
        break;
      }
    }
    if (j < N_ELEMS(mount_flags))
      continue;
    for (j = 0; j < N_ELEMS(propagation_flags); j++) {
      if (strcmp(o, propagation_flags[j].name) == 0) {
        *propagation |= propagation_flags[j].flag;
        break;
      }
    }
    if (j < N_ELEMS(propagation_flags))
      continue;
    size_t used = strlen(data);
    snprintf(data + used, data_size - used, "%s%s", used ? "," : "", o);
  }
}

/* Resolves path inside rootfs as if rootfs were "/": symlinks met on the
 * way are followed but can never lead out of it (as runc's securejoin), so
 * a hostile rootfs cannot point a mount at the agent's files or another
 * container's share.  what names path in errors ("destination"). */
static void resolve_in_rootfs(const char *rootfs, const char *path,
                              const char *what, char *out, size_t out_size) {
  char resolved[4096] = "", pending[8192];
  int hops = 0;
  snprintf(pending, sizeof(pending), "%s", path);
  char *rest = pending;
  while (*rest != '\0') {
    while (*rest == '/')
      rest++;
    if (*rest == '\0')
      break;
    char *slash = strchr(rest, '/');
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    char comp[256];
    if (len >= sizeof(comp))
      child_fail("mounts: %s `%s`: name too long", what, path);
    memcpy(comp, rest, len);
    comp[len] = '\0';
    rest += len;
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      char *last = strrchr(resolved, '/');
      if (last != NULL)
        *last = '\0';
      continue;
    }
    size_t used = strlen(resolved);
    snprintf(resolved + used, sizeof(resolved) - used, "/%s", comp);
    char full[8192], target[4096];
    snprintf(full, sizeof(full), "%s%s", rootfs, resolved);
    ssize_t n = readlink(full, target, sizeof(target) - 1);
    if (n < 0)
      continue; /* not a symlink, or not there yet: created as named */
    if (++hops > 40)
      child_fail("mounts: %s `%s`: too many symlinks", what, path);
    target[n] = '\0';
    resolved[used] = '\0';
    if (target[0] == '/')
      resolved[0] = '\0';
    char joined[8192];
    snprintf(joined, sizeof(joined), "%s/%s", target, rest);
    snprintf(pending, sizeof(pending), "%s", joined);
    rest = pending;
  }
  snprintf(out, out_size, "%s%s", rootfs, resolved);
}

/* Creates what a bind of src needs at dest: a directory, or an empty file
 * for a single file (as runc does). */
static void make_bind_target(const char *src, const char *dest,
                             const char *destination) {
  struct stat st;
  if (stat(src, &st) < 0)
    child_fail("mounts: source of `%s` missing in the share: %s", destination,
               strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    if (vc_mkdir_p(dest, 0755, NULL) < 0)
      child_fail("mounts: create `%s`: %s", destination, strerror(errno));
    return;
  }
  cleanup_free char *parent = xstrdup(dest);
  *strrchr(parent, '/') = '\0';
  if (vc_mkdir_p(parent, 0755, NULL) < 0)
    child_fail("mounts: create the parent of `%s`: %s", destination,
               strerror(errno));
  int fd = open(dest, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && errno != EISDIR)
    child_fail("mounts: create `%s`: %s", destination, strerror(errno));
  if (fd >= 0)
    close(fd);
}

/* Remounts a bind mount with the flags a bind ignores (ro, nosuid, ...).
 * In a user namespace the flags a mount had when the namespace copied it
 * are locked and a remount must keep them: a refusal is retried with the
 * mount's current flags added. */
static void remount_bind(size_t index, const char *dest,
                         const char *destination, unsigned long flags) {
  static const struct {
    unsigned long st, ms;
  } kept[] = {{ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},
              {ST_NODEV, MS_NODEV},       {ST_NOEXEC, MS_NOEXEC},
              {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
              {ST_RELATIME, MS_RELATIME}};
  unsigned long extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (extra == 0 ||
      mount(NULL, dest, NULL, extra | MS_BIND | MS_REMOUNT, NULL) == 0)
    return;
  struct statvfs current;
  if (errno == EPERM && statvfs(dest, &current) == 0) {
    for (size_t i = 0; i < N_ELEMS(kept); i++)
      if (current.f_flag & kept[i].st)
        extra |= kept[i].ms;
    if (mount(NULL, dest, NULL, extra | MS_BIND | MS_REMOUNT, NULL) == 0)
      return;
  }
  child_fail("mounts[%zu]: remount `%s` with its options: %s", index,
             destination, strerror(errno));
}

/* A host path, which the host bound into the share as mounts/<index>
 * (below the rootfs: the container's view of it, see
 * oci_mount_source_in_root): bound here, then remounted for the flags a
 * bind mount ignores. */
static void bind_host_mount(const struct agent_container *c, size_t index,
                            const char *dest, unsigned long flags,
                            const char *destination) {
  const struct oci_mount *m = &c->spec->mounts[index];
  cleanup_free char *below = oci_mount_source_in_root(c->spec, c->bundle, m);
  cleanup_free char *src = NULL;
  if (below != NULL) {
    char in_root[4096];
    resolve_in_rootfs(c->rootfs, below[0] ? below : "/", "source", in_root,
                      sizeof(in_root));
    /* The host could not check it: an earlier mount may have made it. */
    if (access(in_root, F_OK) < 0)
      child_fail("mounts[%zu].source `%s`: %s", index, m->source,
                 strerror(errno));
    src = xstrdup(in_root);
  } else {
    src = xasprintf("%s/%s/mounts/%zu", AGENT_SHARE_DIR, c->share_name, index);
  }
  make_bind_target(src, dest, destination);
  if (mount(src, dest, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
    child_fail("mounts[%zu]: bind on `%s`: %s", index, destination,
               strerror(errno));
  remount_bind(index, dest, destination, flags);
}

/* A cgroup2 mount the kernel refused: in a user namespace without a cgroup
 * namespace of its own, the container may not mount cgroup2.  As runc, bind
 * the container's own cgroup directory there instead (it is still reachable
 * by the agent's path before pivot_root); the remount applies ro and the
 * other flags, which a bind ignores. */
static void bind_own_cgroup(const struct agent_container *c, size_t index,
                            const char *dest, unsigned long flags) {
  const char *destination = c->spec->mounts[index].destination;
  if (mount(c->cgroup_dir, dest, NULL, MS_BIND, NULL) < 0)
    child_fail("mounts[%zu]: bind the container's cgroup `%s` on `%s`: %s",
               index, c->cgroup_dir, destination, strerror(errno));
  remount_bind(index, dest, destination, flags);
}

/* A mount of a file system the guest kernel makes (proc, tmpfs, ...). */
static void mount_filesystem(const struct agent_container *c, size_t index,
                             const char *dest, unsigned long flags,
                             const char *data) {
  const struct oci_mount *m = &c->spec->mounts[index];
  const char *type = m->type ? m->type : "";
  if (strcmp(type, "cgroup") == 0)
    type = "cgroup2"; /* the guest has only the unified hierarchy */
  if (vc_mkdir_p(dest, 0755, NULL) < 0)
    child_fail("mounts: create `%s`: %s", m->destination, strerror(errno));
  /* What the tmpfs will cover, for tmpcopyup. */
  int covered_fd = -1;
  if (strcmp(type, "tmpfs") == 0 && oci_mount_has_option(m, "tmpcopyup")) {
    covered_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (covered_fd < 0)
      child_fail("mounts: open `%s`: %s", m->destination, strerror(errno));
  }
  if (mount(m->source ? m->source : type, dest, type, flags,
            data[0] ? data : NULL) < 0) {
    /* sysfs needs a network namespace of our own; without one, runc binds
     * the host's /sys instead, which is what we do with the guest's. */
    if (strcmp(type, "sysfs") == 0 && errno == EPERM &&
        mount("/sys", dest, NULL, MS_BIND | MS_REC, NULL) == 0) {
    } else if (strcmp(type, "cgroup2") == 0 &&
               (errno == EPERM || errno == EBUSY)) {
      bind_own_cgroup(c, index, dest, flags);
    } else {
      child_fail("mounts[%zu]: mount %s on `%s`%s%s: %s", index, type,
                 m->destination, data[0] ? " with " : "", data, strerror(errno));
    }
  }
  if (covered_fd >= 0) {
    vc_error *err = NULL;
    int tmpfs_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tmpfs_fd < 0 || agent_copy_tree(covered_fd, tmpfs_fd, &err) < 0)
      child_fail("mounts: `%s`: %s", m->destination,
                 err ? err->msg : strerror(errno));
    close(tmpfs_fd);
    close(covered_fd);
  }
}

/* As runc: proc and sysfs go only on a directory (or where nothing is yet),
 * never through a symlink or onto a file there, which once let a rootfs
 * aim the kernel's files somewhere else.  The last part of the destination
 * is looked at as it is; the parts above it are resolved in the rootfs. */
static void check_proc_sys_target(const struct agent_container *c,
                                  size_t index) {
  const struct oci_mount *m = &c->spec->mounts[index];
  const char *type = m->type ? m->type : "";
  if (strcmp(type, "proc") != 0 && strcmp(type, "sysfs") != 0)
    return;
  cleanup_free char *dest = xstrdup(m->destination);
  for (size_t n = strlen(dest); n > 1 && dest[n - 1] == '/'; n--)
    dest[n - 1] = '\0';
  char *slash = strrchr(dest, '/');
  if (slash == NULL || slash[1] == '\0')
    return; /* the root itself: not a link */
  *slash = '\0';
  char parent[4096];
  resolve_in_rootfs(c->rootfs, dest[0] ? dest : "/", "destination", parent,
                    sizeof(parent));
  cleanup_free char *target = xasprintf("%s/%s", parent, slash + 1);
  struct stat st;
  if (lstat(target, &st) < 0) {
    if (errno == ENOENT)
      return;
    child_fail("mounts[%zu]: `%s`: %s", index, m->destination, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode))
    child_fail("mounts[%zu]: filesystem \"%s\" must be mounted on ordinary "
               "directory (`%s` is a %s)", index, type, m->destination,
               S_ISLNK(st.st_mode) ? "symlink" : "file");
}

static void do_mount(const struct agent_container *c, size_t index) {
  const char *rootfs = c->rootfs;
  const struct oci_mount *m = &c->spec->mounts[index];
  char dest[4096], data[4096];
  unsigned long flags, propagation;
  struct oci_recursive_attr recursive;
  if (m->destination == NULL || m->destination[0] != '/')
    child_fail("mounts: destination `%s` must be an absolute path",
               m->destination ? m->destination : "");
  check_proc_sys_target(c, index);
  resolve_in_rootfs(rootfs, m->destination, "destination", dest, sizeof(dest));
  parse_mount_options(m, &flags, &propagation, &recursive, data, sizeof(data));
  /* As runc: /dev is filled first and made read-only at the end
   * (finalize_rootfs). */
  if (strcmp(m->destination, "/dev") == 0)
    flags &= ~(unsigned long)MS_RDONLY;
  if (oci_mount_is_bind(m))
    bind_host_mount(c, index, dest, flags, m->destination);
  else
    mount_filesystem(c, index, dest, flags, data);
  if (propagation != 0 && mount(NULL, dest, NULL, propagation, NULL) < 0)
    child_fail("mount propagation of `%s`: %s", m->destination, strerror(errno));
  /* Last, as runc: over the whole tree the mount brought (an rbind's
   * sub-mounts too), which a remount cannot reach. */
  if (recursive.any) {
    struct mount_attr attr = {.attr_set = recursive.set,
                              .attr_clr = recursive.clear};
    if (syscall(SYS_mount_setattr, -1, dest, AT_RECURSIVE, &attr,
                sizeof(attr)) < 0)
      child_fail("mounts[%zu]: recursive options on `%s`: %s", index,
                 m->destination, strerror(errno));
  }
}

static bool spec_mounts_dev(const struct oci_spec *spec) {
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (spec->mounts[i].destination &&
        strcmp(spec->mounts[i].destination, "/dev") == 0)
      return true;
  return false;
}

/* The default devices of the OCI spec, in a /dev the spec mounted. */
static void populate_dev(const char *rootfs) {
  static const struct {
    const char *name;
    unsigned major, minor;
  } devs[] = {{"null", 1, 3}, {"zero", 1, 5},    {"full", 1, 7},
              {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  char path[4096];
  for (size_t i = 0; i < N_ELEMS(devs); i++) {
    snprintf(path, sizeof(path), "%s/dev/%s", rootfs, devs[i].name);
    if (mknod(path, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor)) < 0 &&
        errno == EPERM) {
      /* No mknod in a user namespace: bind the guest's node, as runc
       * binds the host's. */
      char guest[64];
      snprintf(guest, sizeof(guest), "/dev/%s", devs[i].name);
      int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
      if (fd >= 0)
        close(fd);
      if (fd < 0 || mount(guest, path, NULL, MS_BIND, NULL) < 0)
        child_fail("bind /dev/%s: %s", devs[i].name, strerror(errno));
      continue;
    }
    if (errno != EEXIST && access(path, F_OK) < 0)
      child_fail("create /dev/%s: %s", devs[i].name, strerror(errno));
    chmod(path, 0666);
  }
  static const struct {
    const char *target, *name;
  } links[] = {{"/proc/self/fd", "fd"},     {"/proc/self/fd/0", "stdin"},
               {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
               {"pts/ptmx", "ptmx"},         {"/proc/kcore", "core"}};
  for (size_t i = 0; i < N_ELEMS(links); i++) {
    /* As runc: /dev/core only where the kernel has a /proc/kcore. */
    if (strcmp(links[i].name, "core") == 0 && access("/proc/kcore", F_OK) < 0)
      continue;
    snprintf(path, sizeof(path), "%s/dev/%s", rootfs, links[i].name);
    if (symlink(links[i].target, path) < 0 && errno != EEXIST)
      child_fail("create /dev/%s: %s", links[i].name, strerror(errno));
  }
}

/* Read-only paths first, then masks, in runc's order. */
static void mask_paths(const struct oci_spec *spec) {
  for (size_t i = 0; i < spec->n_readonly_paths; i++) {
    const char *p = spec->readonly_paths[i];
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT)
        continue;
      child_fail("linux.readonlyPaths: `%s`: %s", p, strerror(errno));
    }
    if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
      child_fail("linux.readonlyPaths: `%s`: %s", p, strerror(errno));
  }
  for (size_t i = 0; i < spec->n_masked_paths; i++) {
    const char *p = spec->masked_paths[i];
    struct stat st;
    if (stat(p, &st) < 0)
      continue;
    int r = S_ISDIR(st.st_mode)
                ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0")
                : mount("/dev/null", p, NULL, MS_BIND, NULL);
    if (r < 0 && errno != ENOENT)
      child_fail("linux.maskedPaths: `%s`: %s", p, strerror(errno));
  }
}

/* createContainer and startContainer, run by the container's init in its
 * namespaces with the state runc gives them: pid is the init's own (in its
 * pid namespace), bundle the host's path.  Paths are inside the container:
 * root_prefix is its rootfs before pivot_root (see docs/deviations.md). */
static void run_guest_hooks(const struct agent_container *c,
                            const struct oci_hook *hooks, size_t n,
                            const char *root_prefix, const char *status) {
  if (n == 0)
    return;
  const struct oci_spec *spec = c->spec;
  struct oci_state st = {
      .oci_version = spec->oci_version,
      .id = c->id,
      .status = status,
      .pid = getpid(),
      .bundle = c->bundle,
      .with_annotations = true,
      .annotations = spec->annotations,
      .n_annotations = spec->n_annotations,
  };
  cleanup_free char *state = oci_state_json(&st);
  struct oci_hook *resolved = xcalloc(n, sizeof(*resolved));
  for (size_t i = 0; i < n; i++) {
    resolved[i] = hooks[i];
    resolved[i].path = xasprintf("%s%s", root_prefix, hooks[i].path);
  }
  vc_error *err = NULL;
  int rc = vc_hooks_run(resolved, n, state, &err);
  for (size_t i = 0; i < n; i++)
    free(resolved[i].path);
  free(resolved);
  child_check(rc, &err);
}

/* linux.rootfsPropagation's flags (rslave when unset). */
static unsigned long rootfs_propagation(const struct oci_spec *spec) {
  if (spec->rootfs_propagation == NULL)
    return MS_SLAVE | MS_REC;
  for (size_t j = 0; j < N_ELEMS(propagation_flags); j++)
    if (strcmp(spec->rootfs_propagation, propagation_flags[j].name) == 0)
      return propagation_flags[j].flag;
  child_fail("linux.rootfsPropagation: unknown value `%s`",
             spec->rootfs_propagation);
}

/* Whether the root's propagation is set again after the pivot (all but
 * private, as runc). */
static bool reapply_root_propagation(const struct oci_spec *spec,
                                     unsigned long root_prop) {
  return spec->rootfs_propagation != NULL && !(root_prop & MS_PRIVATE);
}

static void setup_rootfs(const struct agent_container *c) {
  const struct oci_spec *spec = c->spec;
  unsigned long prop = rootfs_propagation(spec);
  /* pivot_root refuses a shared parent, and an unbindable one cannot be
   * bound onto itself below: those are made after the pivot, from a slave,
   * so nothing flows to the agent.  As runc, the root's propagation is set
   * again after the pivot (all but private): before it, it reached the
   * agent's old root, not the rootfs that becomes "/". */
  unsigned long root_prop = prop;
  if (prop & (MS_SHARED | MS_UNBINDABLE))
    prop = MS_SLAVE | MS_REC;
  if (mount(NULL, "/", NULL, prop, NULL) < 0)
    child_fail("set / propagation: %s", strerror(errno));
  if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    child_fail("bind rootfs: %s", strerror(errno));

  for (size_t i = 0; i < spec->n_mounts; i++)
    do_mount(c, i);
  if (spec_mounts_dev(spec))
    populate_dev(c->rootfs);
  /* After the mounts, before pivot_root, as runc runs it. */
  run_guest_hooks(c, spec->hooks.create_container,
                  spec->hooks.n_create_container, c->rootfs, "creating");

  if (chdir(c->rootfs) < 0)
    child_fail("chdir rootfs: %s", strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    child_fail("pivot_root: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0)
    child_fail("detach old root: %s", strerror(errno));
  if (chdir("/") < 0)
    child_fail("chdir /: %s", strerror(errno));
  if (reapply_root_propagation(spec, root_prop) && !(root_prop & MS_UNBINDABLE) &&
      mount(NULL, "/", NULL, root_prop, NULL) < 0)
    child_fail("linux.rootfsPropagation: %s", strerror(errno));

  mask_paths(spec);
}

/* Last of the rootfs, after /dev has its devices, in runc's order: a
 * read-only /dev, then a read-only root. */
static void finalize_rootfs(const struct oci_spec *spec) {
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct oci_mount *m = &spec->mounts[i];
    if (m->destination == NULL || strcmp(m->destination, "/dev") != 0)
      continue;
    char data[4096];
    unsigned long flags, propagation;
    struct oci_recursive_attr recursive;
    parse_mount_options(m, &flags, &propagation, &recursive, data,
                        sizeof(data));
    if (!(flags & MS_RDONLY))
      break;
    /* The mount's own flags again, which a remount would otherwise clear. */
    flags &= ~(unsigned long)(MS_REC | MS_BIND);
    if (oci_mount_is_bind(m))
      flags |= MS_BIND;
    if (mount(NULL, "/dev", NULL, flags | MS_REMOUNT | MS_RDONLY, NULL) < 0)
      child_fail("mounts[%zu]: make `/dev` read-only: %s", i, strerror(errno));
    break;
  }
  if (spec->root_readonly &&
      mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    child_fail("root.readonly: %s", strerror(errno));
  /* Unbindable last: readonlyPaths, maskedPaths and a read-only root are
   * binds, which an unbindable mount refuses. */
  unsigned long root_prop = rootfs_propagation(spec);
  if (reapply_root_propagation(spec, root_prop) && (root_prop & MS_UNBINDABLE) &&
      mount(NULL, "/", NULL, root_prop, NULL) < 0)
    child_fail("linux.rootfsPropagation: %s", strerror(errno));
}

/* ---- the process ------------------------------------------------------- */

static const char *env_get(char **env, size_t n, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
      return env[i] + len + 1;
  return NULL;
}

/* Looks args[0] up in the container's PATH, as execvp would. */
char *agent_resolve_executable(const struct oci_process *p) {
  const char *name = p->args[0];
  if (strchr(name, '/') != NULL) {
    if (access(name, X_OK) < 0)
      child_fail("exec: \"%s\": %s", name, strerror(errno));
    return xstrdup(name);
  }
  const char *path = env_get(p->env, p->n_env, "PATH");
  if (path == NULL)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  cleanup_free char *copy = xstrdup(path);
  char *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir;
       dir = strtok_r(NULL, ":", &save)) {
    char *full = xasprintf("%s/%s", dir, name);
    struct stat st;
    if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
      return full;
    free(full);
  }
  child_fail("exec: \"%s\": executable file not found in $PATH", name);
}

/* As runc: the process's stdio, its terminal with process.terminal, is
 * handed to the user it will run as, keeping the group (devpts gave the
 * terminal tty's).  /dev/null stays root's; an owner the user namespace
 * cannot map (EINVAL, EPERM) or a read-only /dev (EROFS) leaves it as it
 * is. */
static void give_stdio_to(uid_t uid) {
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0)
      continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
      continue;
    if (fchown(fd, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM &&
        errno != EROFS)
      child_fail("give stdio fd %d to uid %u: %s", fd, (unsigned)uid,
                 strerror(errno));
  }
}

void agent_set_user(const struct oci_user *u) {
  give_stdio_to(u->uid);
  gid_t groups[256];
  size_t n = u->n_additional_gids < 256 ? u->n_additional_gids : 256;
  for (size_t i = 0; i < n; i++)
    groups[i] = u->additional_gids[i];
  if (setgroups(n, groups) < 0)
    child_fail("setgroups: %s", strerror(errno));
  if (setresgid(u->gid, u->gid, u->gid) < 0)
    child_fail("setgid %u: %s", u->gid, strerror(errno));
  if (setresuid(u->uid, u->uid, u->uid) < 0)
    child_fail("setuid %u: %s", u->uid, strerror(errno));
}

/* True when the container got a new namespace of this type (one joined
 * by path was entered by the agent before the clone: the child is in it). */
static bool new_namespace(const struct agent_container *c, const char *type) {
  return c->ns_flags & agent_namespace_flag(type, NULL);
}

/* A new network namespace has only lo, down; runc brings it up (its
 * "loopback" network), so do we. */
static void loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
    child_fail("network namespace: lo: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
    child_fail("network namespace: bring lo up: %s", strerror(errno));
  close(fd);
}

void child_check(int rc, vc_error **err) {
  if (rc < 0)
    child_fail("%s", *err && (*err)->msg ? (*err)->msg : "container setup failed");
}

_Noreturn void agent_container_child(struct agent_container *c, int sync_fd,
                                     int stdio[3]) {
  child_sync_fd = sync_fd;
  const struct oci_spec *spec = c->spec;
  const struct oci_process *p = spec->process;
  vc_error *err = NULL;

  /* The agent blocks SIGCHLD for its signalfd; the container must not
   * inherit that, nor ignored signals. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);

  /* Capabilities and the seccomp filter are checked and built now, so a
   * bad spec fails at create; while stderr is still the guest console,
   * which is where the warnings belong. */
  struct agent_security *sec = NULL;
  child_check(agent_security_prepare(p, spec->seccomp_json, &sec, &err), &err);

  for (int i = 0; i < 3; i++)
    if (dup2(stdio[i], i) < 0)
      child_fail("dup2 stdio: %s", strerror(errno));
  setsid();

  /* In the container's cgroup (and cgroup namespace) before any mount, so
   * a cgroup mount in the spec shows the container's own cgroup. */
  if (new_namespace(c, "user")) {
    /* The agent puts us in our cgroup and writes our uid/gid maps (the
     * guest's files are not ours to write from here), then says 'M'; from
     * then on we act as the namespace's root, as runc's nsexec does. */
    char mapped;
    if (read(sync_fd, &mapped, 1) != 1 || mapped != 'M')
      _exit(127);
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
      child_fail("user namespace: become root (is 0 mapped?): %s",
                 strerror(errno));
    if (new_namespace(c, "cgroup") && unshare(CLONE_NEWCGROUP) < 0)
      child_fail("linux.namespaces: cgroup namespace: %s", strerror(errno));
  } else {
    child_check(agent_cgroup_enter(c->cgroup_dir, spec->resources_json,
                                   spec->devices_json,
                                   new_namespace(c, "cgroup"), &err), &err);
  }
  /* Through the guest's /proc, before the spec can make /proc/sys
   * read-only; this process is in the new namespaces already. */
  child_check(agent_sysctl_apply(spec, &err), &err);
  if (new_namespace(c, "network"))
    loopback_up();
  setup_rootfs(c);
  child_check(agent_devices_create("", spec->devices_json, spec_mounts_dev(spec), &err),
        &err);
  finalize_rootfs(spec);
  if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
    child_fail("hostname: %s", strerror(errno));
  if (spec->domainname &&
      setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
    child_fail("domainname: %s", strerror(errno));
  const char *cwd = p->cwd && p->cwd[0] ? p->cwd : "/";
  if (chdir(cwd) < 0)
    child_fail("process.cwd `%s`: %s", cwd, strerror(errno));
  agent_child_terminal(p, sync_fd);
  cleanup_free char *exe = agent_resolve_executable(p);
  child_check(agent_process_limits(p, &err), &err);

  /* Ready: wait until the agent says start. */
  if (write(sync_fd, "R", 1) != 1)
    _exit(127);
  char go;
  ssize_t n;
  do
    n = read(sync_fd, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1 || go != 'S')
    _exit(127);
  umask(p->user.has_umask ? p->user.umask : 0022);
  char **argv = xcalloc(p->n_args + 1, sizeof(char *));
  for (size_t i = 0; i < p->n_args; i++)
    argv[i] = p->args[i];
  char **envp = xcalloc(p->n_env + 1, sizeof(char *));
  for (size_t i = 0; i < p->n_env; i++)
    envp[i] = p->env[i];
  /* User, capabilities, no_new_privs and seccomp, the filter last. */
  child_check(agent_security_apply(sec, &p->user, &err), &err);
  /* As runc: startContainer runs as the process will, under its seccomp
   * filter, so a hook making a blocked syscall fails the start. */
  run_guest_hooks(c, spec->hooks.start_container,
                  spec->hooks.n_start_container, "", "created");
  execve(exe, argv, envp);
  child_fail("exec: \"%s\": %s", p->args[0], strerror(errno));
}
