/* The VM factory (lib/factory.h): a pool of pre-booted idle sandboxes. */
#include "lib/factory.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/base/agent_proto.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"
#include "lib/host/process.h"
#include "lib/share.h"
#include "lib/sizing.h"

#define ENTRY_VERSION 1
#define VM_NAME_LEN 8

char *vc_factory_root(const struct vc_config *cfg) {
  if (cfg->factory.path != NULL && cfg->factory.path[0] != '\0')
    return xstrdup(cfg->factory.path);
  return xasprintf("%s/pool", cfg->runtime.run_root);
}

/* ---- the key ------------------------------------------------------------- */

static void key_file(char **text, const char *what, const char *path) {
  struct stat st;
  char *old = *text;
  if (path == NULL || stat(path, &st) < 0)
    *text = xasprintf("%s%s %s missing\n", old, what, path ? path : "-");
  else
    *text = xasprintf("%s%s %s ino=%llu size=%lld mtime=%lld.%09ld\n", old, what,
                      path, (unsigned long long)st.st_ino, (long long)st.st_size,
                      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  free(old);
}

/* FNV-1a, 64 bits: a name for the key's directory, not a defence (the
 * whole text is compared at claim). */
static uint64_t fnv1a(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ULL;
  }
  return h;
}

int vc_factory_key(const struct vc_config *cfg, char **key, char **text_out,
                   vc_error **err) {
  const struct vc_hypervisor_config *h = &cfg->hypervisor;
  bool kvm = false, hybrid = true;
  if (vc_accel_resolve(h, &kvm, err) < 0 ||
      vc_sandbox_pick_transport(cfg->agent.transport, &hybrid, err) < 0)
    return -1;
  /* The headroom as the VM gets it (the host's size where configured 0):
   * a clone must be restored into the very same machine. */
  struct vc_host_size host;
  struct vc_vm_size max;
  vc_host_size(&host);
  vc_vm_size_max(h, &host, &max);
  char *text = xasprintf(
      "protocol %d\nhypervisor %s\nmachine_type %s\nvcpus %u max %u\n"
      "memory %u max %u slots %u\naccel %s\ntransport %s\nkernel_params %s\n"
      "virtiofs_cache %s\npcie_root_ports %u\nrun_root %s\n",
      VC_AGENT_PROTOCOL_VERSION, h->type, h->machine_type, h->vcpus,
      max.vcpus, h->memory_mib, max.memory_mib, h->memory_slots,
      kvm ? "kvm" : "tcg", hybrid ? "hybrid-vsock" : "vhost-vsock",
      h->kernel_params ? h->kernel_params : "", h->virtiofs_cache,
      h->pcie_root_ports, cfg->runtime.run_root);
  key_file(&text, "qemu", h->path);
  key_file(&text, "kernel", h->kernel);
  key_file(&text, "initrd", h->initrd);
  key_file(&text, "virtiofsd", h->virtiofsd);
  key_file(&text, "vsock_backend", h->vsock_backend);
  *key = xasprintf("%016llx", (unsigned long long)fnv1a(text));
  *text_out = text;
  return 0;
}

/* ---- the pool's lock and entries ------------------------------------------ */

/* An exclusive flock on the pool directory (made when create is set).
 * *fd is -1 (and 0 returned) when there is no pool.  A directory removed
 * by a destroy while this waited is not the pool any more: try again. */
static int lock_root(const char *root, bool create, int *fd, vc_error **err) {
  *fd = -1;
  for (;;) {
    if (create && vc_mkdir_p(root, 0700, err) < 0)
      return -1;
    int lfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lfd < 0) {
      if (errno == ENOENT && !create)
        return 0;
      return vc_error_set(err, errno, "open the VM pool `%s`", root);
    }
    if (flock(lfd, LOCK_EX) < 0) {
      int e = errno;
      close(lfd);
      return vc_error_set(err, e, "lock the VM pool `%s`", root);
    }
    struct stat held, now;
    if (fstat(lfd, &held) == 0 && stat(root, &now) == 0 &&
        held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
      *fd = lfd;
      return 0;
    }
    close(lfd);
    if (!create)
      return 0;
  }
}

static void unlock_root(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

enum entry_state { ENTRY_READY, ENTRY_BOOT, ENTRY_CLAIM, ENTRY_OTHER };

/* Splits an entry's file name: "<vm>.ready", "<vm>.boot.<pid>",
 * "<vm>.claim.<pid>". */
static enum entry_state parse_entry(const char *file, char *vm, size_t vm_size,
                                    pid_t *pid) {
  const char *dot = strchr(file, '.');
  *pid = 0;
  if (dot == NULL || (size_t)(dot - file) >= vm_size || dot == file)
    return ENTRY_OTHER;
  memcpy(vm, file, (size_t)(dot - file));
  vm[dot - file] = '\0';
  const char *rest = dot + 1;
  if (strcmp(rest, "ready") == 0)
    return ENTRY_READY;
  enum entry_state state;
  if (strncmp(rest, "boot.", 5) == 0)
    state = ENTRY_BOOT, rest += 5;
  else if (strncmp(rest, "claim.", 6) == 0)
    state = ENTRY_CLAIM, rest += 6;
  else
    return ENTRY_OTHER;
  char *end = NULL;
  long n = strtol(rest, &end, 10);
  if (end == rest || *end != '\0' || n <= 0 || n > INT_MAX)
    return ENTRY_OTHER;
  *pid = (pid_t)n;
  return state;
}

/* The entry files of a key's directory, sorted (caller frees each). */
static char **list_dir(const char *dir, size_t *n) {
  *n = 0;
  char **names = NULL;
  size_t cap = 0;
  DIR *d = opendir(dir);
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.')
      continue;
    if (*n == cap)
      names = xrealloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));
    names[(*n)++] = xstrdup(de->d_name);
  }
  if (d != NULL)
    closedir(d);
  if (*n > 0)
    qsort(names, *n, sizeof(*names), vc_strcmp_ptr);
  return names;
}

static void free_list(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* Reads an entry (NULL if it cannot be read or parsed). */
static yajl_val read_entry(const char *path) {
  cleanup_free char *text = NULL;
  vc_error *e = NULL;
  yajl_val tree = NULL;
  if (vc_read_file(path, &text, NULL, &e) < 0 || vc_json_parse(text, &tree, &e) < 0)
    tree = NULL;
  vc_error_free(&e);
  return tree;
}

/* An entry's run directory, only if it is one of ours: directly below
 * run_root (the sweep below must never be pointed anywhere else). */
static const char *entry_run_dir(const struct vc_config *cfg, yajl_val entry) {
  const char *dir = vc_json_get_str(entry, "run_dir");
  const char *root = cfg->runtime.run_root;
  size_t len = strlen(root);
  if (dir == NULL || strncmp(dir, root, len) != 0 || dir[len] != '/' ||
      dir[len + 1] == '\0' || strchr(dir + len + 1, '/') != NULL ||
      strstr(dir, "..") != NULL)
    return NULL;
  return dir;
}

/* The recorded pid `key` of the entry's "start_times" still runs as the
 * process that was started: same start time, and its command line names
 * the run directory. */
static bool recorded_pid_runs(yajl_val entry, const char *key, pid_t pid,
                              const char *run_dir) {
  if (pid <= 0)
    return true; /* not a helper this VM has */
  yajl_val times = vc_json_get_object(entry, "start_times");
  unsigned long long want = (unsigned long long)vc_json_get_int(times, key);
  cleanup_free char *needle = xasprintf("%s/", run_dir);
  return want != 0 && vc_pid_start_time(pid) == want && vc_pid_is(pid, needle);
}

/* A sandbox object for a pooled VM from its entry (no container). */
static int load_pooled(const struct vc_config *cfg, const char *keydir,
                       const char *name, yajl_val entry, const char *run_dir,
                       struct vc_sandbox *sb, vc_error **err) {
  sb->id = xasprintf("pool-%s", name);
  sb->dir = xstrdup(keydir);
  sb->cfg = cfg;
  sb->run_dir = xstrdup(run_dir);
  return vc_sandbox_load_json(sb, entry, name, err);
}

static bool ready_vm_alive(const struct vc_config *cfg, const char *keydir,
                           const char *name, yajl_val entry) {
  const char *run_dir = entry_run_dir(cfg, entry);
  if (run_dir == NULL)
    return false;
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  vc_error *e = NULL;
  bool alive = load_pooled(cfg, keydir, name, entry, run_dir, &sb, &e) == 0 &&
               recorded_pid_runs(entry, "qemu", sb.vm.pid, run_dir) &&
               recorded_pid_runs(entry, "virtiofsd", sb.vm.virtiofsd_pid, run_dir) &&
               recorded_pid_runs(entry, "vsock_backend", sb.vm.vsock_backend_pid,
                                 run_dir) &&
               vc_sandbox_alive(&sb);
  vc_error_free(&e);
  vc_sandbox_free(&sb);
  return alive;
}

/* Stops a pooled VM and removes its run directory: the agent powers the
 * guest off when it still answers (entry known), then whatever process
 * names the run directory is terminated, the share unmounted and the
 * directory removed.  Best effort. */
static void discard_vm(const struct vc_config *cfg, const char *keydir,
                       const char *name, yajl_val entry) {
  const char *run_dir = entry ? entry_run_dir(cfg, entry) : NULL;
  if (run_dir == NULL)
    return;
  vc_error *e = NULL;
  if (vc_json_get_object(entry, "hypervisor") != NULL) {
    struct vc_sandbox sb = VC_SANDBOX_INIT;
    if (load_pooled(cfg, keydir, name, entry, run_dir, &sb, &e) == 0)
      vc_sandbox_stop(&sb, &e);
    vc_error_free(&e);
    vc_sandbox_free(&sb);
  }
  cleanup_free char *needle = xasprintf("%s/", run_dir);
  vc_kill_processes_naming((const char *const[]){needle}, 1, 1000);
  /* A clone's RAM copy, if its booter died before QEMU had it mapped:
   * <pool>/ram/<vm>.ram, the pool being keydir's parent. */
  cleanup_free char *pool = xstrdup(keydir);
  char *slash = strrchr(pool, '/');
  if (slash != NULL) {
    *slash = '\0';
    cleanup_free char *ram = xasprintf("%s/ram/%s.ram", pool, name);
    unlink(ram);
  }
  cleanup_free char *share = vc_share_dir(run_dir);
  struct stat st;
  if (lstat(share, &st) == 0 && vc_share_teardown(share, &e) < 0) {
    vc_error_free(&e);
    return; /* never remove a directory with a mount left below it */
  }
  vc_rmdir_r(run_dir, &e);
  vc_error_free(&e);
}

/* The file in a claimed VM's run directory naming the claimer's state
 * directory, and whether that state directory has adopted it. */
static char *claimed_by_path(const char *run_dir) {
  return xasprintf("%s/claimed-by", run_dir);
}

static bool adopted(const char *run_dir) {
  cleanup_free char *path = claimed_by_path(run_dir);
  cleanup_free char *state_dir = NULL;
  vc_error *e = NULL;
  if (vc_read_file(path, &state_dir, NULL, &e) < 0) {
    vc_error_free(&e);
    return false;
  }
  cleanup_free char *link = xasprintf("%s/run", state_dir);
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  if (n <= 0)
    return false;
  target[n] = '\0';
  return strcmp(target, run_dir) == 0;
}

/* Sweeps key dir entries whose booter or claimer is gone and ready VMs
 * that died (under the lock).  Counts what is left. */
static void sweep(const struct vc_config *cfg, const char *keydir,
                  unsigned *ready, unsigned *booting) {
  size_t n = 0;
  char **names = list_dir(keydir, &n);
  *ready = *booting = 0;
  for (size_t i = 0; i < n; i++) {
    char vm[64];
    pid_t pid = 0;
    enum entry_state state = parse_entry(names[i], vm, sizeof(vm), &pid);
    cleanup_free char *path = xasprintf("%s/%s", keydir, names[i]);
    if (state == ENTRY_OTHER) {
      size_t len = strlen(names[i]);
      if (len > 4 && strcmp(names[i] + len - 4, ".tmp") == 0)
        unlink(path); /* a write a crash interrupted */
      continue;
    }
    if (state != ENTRY_READY && vc_pid_alive(pid)) {
      *booting += state == ENTRY_BOOT && strcmp(vm, "template") != 0;
      continue;
    }
    yajl_val entry = read_entry(path);
    if (state == ENTRY_READY && entry != NULL &&
        ready_vm_alive(cfg, keydir, vm, entry)) {
      (*ready)++;
      yajl_tree_free(entry);
      continue;
    }
    const char *run_dir = entry ? entry_run_dir(cfg, entry) : NULL;
    if (!(state == ENTRY_CLAIM && run_dir != NULL && adopted(run_dir)))
      discard_vm(cfg, keydir, vm, entry);
    unlink(path);
    yajl_tree_free(entry);
  }
  free_list(names, n);
}

/* ---- templates ------------------------------------------------------------ */

/* The pool's tmpfs for guest RAM files ([factory] template): each key's
 * template (<key>.template/{ram,state}) and clones' copies of its RAM file
 * (<vm>.ram) until their QEMU mapped them.  A tmpfs of its own, so RAM
 * never goes to a disk whatever file system run_root is on. */
static char *ram_dir(const char *root) { return xasprintf("%s/ram", root); }

static char *template_dir(const char *root, const char *key) {
  return xasprintf("%s/ram/%s.template", root, key);
}

static bool template_ready(const char *tdir) {
  cleanup_free char *state = xasprintf("%s/state", tdir);
  return vc_file_exists(state);
}

/* Under the lock. */
static int mount_ram_dir(const char *root, vc_error **err) {
  cleanup_free char *dir = ram_dir(root);
  struct stat st, parent;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return vc_error_set(err, errno, "create `%s`", dir);
  if (stat(dir, &st) < 0 || stat(root, &parent) < 0)
    return vc_error_set(err, errno, "stat `%s`", dir);
  if (st.st_dev != parent.st_dev)
    return 0; /* mounted already */
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
    return vc_error_set(err, errno, "mount a tmpfs on `%s`", dir);
  return 0;
}

static void unmount_ram_dir(const char *root) {
  cleanup_free char *dir = ram_dir(root);
  while (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
    ;
  rmdir(dir);
}

/* src to dst (created), copying only the ranges src has data in: a RAM
 * file the guest touched a third of costs a third. */
static int sparse_copy(const char *src, const char *dst, vc_error **err) {
  cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return vc_error_set(err, errno, "open `%s`", src);
  cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  struct stat st;
  if (out < 0 || fstat(in, &st) < 0 || ftruncate(out, st.st_size) < 0)
    return vc_error_set(err, errno, "create `%s`", dst);
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = lseek(in, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break; /* only a hole is left */
    off_t hole = data < 0 ? -1 : lseek(in, data, SEEK_HOLE);
    if (data < 0 || hole < 0)
      return vc_error_set(err, errno, "seek in `%s`", src);
    off_t from = data, to = data;
    while (from < hole) {
      ssize_t n = copy_file_range(in, &from, out, &to, (size_t)(hole - from), 0);
      if (n <= 0)
        return vc_error_set(err, n < 0 ? errno : EIO, "copy `%s`", src);
    }
    pos = hole;
  }
  return 0;
}

/* A run directory of a random name below run_root. */
static int make_run_dir(const struct vc_config *cfg, char **name, char **dir,
                        vc_error **err) {
  if (vc_mkdir_p(cfg->runtime.run_root, 0711, err) < 0)
    return -1;
  for (int attempt = 0; attempt < 16; attempt++) {
    char *n = vc_random_name(VM_NAME_LEN);
    char *d = xasprintf("%s/%s", cfg->runtime.run_root, n);
    if (mkdir(d, 0700) == 0) {
      *name = n;
      *dir = d;
      return 0;
    }
    int e = errno;
    free(n);
    free(d);
    if (e != EEXIST)
      return vc_error_set(err, e, "create a directory in `%s`", cfg->runtime.run_root);
  }
  return vc_error_set(err, EEXIST, "no free name under `%s`", cfg->runtime.run_root);
}

/* Waits until the guest agent says on the console that it listens (a
 * template has no vsock device yet, so nothing else can tell). */
static int wait_for_console(const struct vc_sandbox *sb, const char *marker,
                            vc_error **err) {
  long long deadline = vc_now_ms() + sb->cfg->agent.boot_timeout_ms;
  for (;;) {
    cleanup_free char *text = NULL;
    vc_error *e = NULL;
    if (vc_read_file(sb->vm.console_path, &text, NULL, &e) == 0 &&
        strstr(text, marker) != NULL)
      return 0;
    vc_error_free(&e);
    if (!sb->vm.ops->alive(&sb->vm) || vc_now_ms() > deadline) {
      cleanup_free char *console = vc_log_tail(sb->vm.console_path, 1200);
      cleanup_free char *qlog = vc_log_tail(sb->vm.log_path, 1200);
      return vc_error_set(err, 0, "the template's agent did not start: guest "
                          "console: %s; QEMU log: %s", console[0] ? console : "(empty)",
                          qlog[0] ? qlog : "(empty)");
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* Boots the template VM of key (no vhost-user device, RAM in a file of the
 * pool's tmpfs) to a listening agent and saves it: <key>.template/ram and
 * state, made in a directory of its own and renamed into place.  Its run
 * directory is recorded as <keydir>/template.boot.<pid> meanwhile, so a
 * crash is swept like a dead booter's VM. */
static int build_template(const struct vc_config *cfg, const char *root,
                          const char *keydir, const char *key, vc_error **err) {
  cleanup_free char *tdir = template_dir(root, key);
  if (template_ready(tdir))
    return 0;
  if (strcmp(cfg->hypervisor.machine_type, "q35") != 0)
    return vc_error_set(err, ENOTSUP, "[factory] template = true needs "
                        "machine_type = \"q35\" (clones get their devices by hot-plug)");
  cleanup_free char *tmp = xasprintf("%s.tmp.%d", tdir, (int)getpid());
  cleanup_free char *ram = xasprintf("%s/ram", tmp);
  cleanup_free char *state = xasprintf("%s/state", tmp);
  cleanup_free char *entry = xasprintf("%s/template.boot.%d", keydir, (int)getpid());
  cleanup_free char *name = NULL, *run_dir = NULL;
  vc_rmdir_r(tmp, NULL);
  if (mkdir(tmp, 0700) < 0)
    return vc_error_set(err, errno, "create `%s`", tmp);
  if (make_run_dir(cfg, &name, &run_dir, err) < 0) {
    vc_rmdir_r(tmp, NULL);
    return -1;
  }
  cleanup_free char *quoted = vc_json_quote(run_dir);
  cleanup_free char *json = xasprintf("{\"run_dir\":%s}", quoted);
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  sb.id = xasprintf("template-%s", key);
  sb.dir = xstrdup(keydir);
  sb.run_dir = xstrdup(run_dir);
  sb.cfg = cfg;
  int ret = -1;
  if (vc_write_file_atomic(entry, json, strlen(json), 0600, err) < 0 ||
      vc_sandbox_init(&sb, err) < 0)
    goto out;
  sb.vm.ram_file = ram;
  sb.vm.vhost_user_later = true;
  if (sb.vm.ops->start(&sb.vm, err) < 0 ||
      wait_for_console(&sb, "vcrun-agent: listening on vsock port", err) < 0 ||
      sb.vm.ops->save_vm(&sb.vm, state, err) < 0)
    goto out;
  /* A concurrent init may have been faster: its template is as good. */
  if (rename(tmp, tdir) < 0 && !template_ready(tdir)) {
    vc_error_set(err, errno, "rename `%s`", tmp);
    goto out;
  }
  ret = 0;
out:;
  vc_error *e = NULL;
  if (sb.vm.ops != NULL)
    sb.vm.ops->stop(&sb.vm, true, &e);
  vc_error_free(&e);
  vc_rmdir_r(run_dir, NULL);
  unlink(entry);
  if (ret < 0)
    vc_rmdir_r(tmp, NULL);
  sb.vm.ram_file = NULL;
  vc_sandbox_free(&sb);
  return ret;
}

/* ---- filling the pool ----------------------------------------------------- */

static void json_start_time(struct vc_jb *b, const char *key, pid_t pid) {
  vc_jb_key(b, key);
  vc_jb_uint(b, pid > 0 ? vc_pid_start_time(pid) : 0);
}

static char *ready_entry_json(const struct vc_sandbox *sb, const char *key_text) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "version");
  vc_jb_int(&b, ENTRY_VERSION);
  vc_jb_key(&b, "key");
  vc_jb_str(&b, key_text);
  vc_jb_key(&b, "run_dir");
  vc_jb_str(&b, sb->run_dir);
  vc_jb_key(&b, "created");
  vc_jb_int(&b, (long long)time(NULL));
  vc_sandbox_save_json(sb, &b);
  vc_jb_key(&b, "start_times");
  vc_jb_open(&b, '{');
  json_start_time(&b, "qemu", sb->vm.pid);
  json_start_time(&b, "virtiofsd", sb->vm.virtiofsd_pid);
  json_start_time(&b, "vsock_backend", sb->vm.vsock_backend_pid);
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

/* Under the lock: one more VM if the pool is short of pool_size, with an
 * entry <vm>.boot.<this pid> written before its run directory is made.
 * 0 with *name NULL when the pool is full or gone. */
static int reserve(const struct vc_config *cfg, const char *root,
                   const char *keydir, char **name, char **run_dir,
                   vc_error **err) {
  *name = *run_dir = NULL;
  int fd = -1;
  if (lock_root(root, false, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  int ret = 0;
  struct stat st;
  unsigned ready = 0, booting = 0;
  if (stat(keydir, &st) < 0)
    goto out; /* destroyed, or another key's init replaced it */
  sweep(cfg, keydir, &ready, &booting);
  if (ready + booting >= cfg->factory.pool_size)
    goto out;
  if (vc_mkdir_p(cfg->runtime.run_root, 0711, err) < 0) {
    ret = -1;
    goto out;
  }
  for (int attempt = 0; attempt < 16; attempt++) {
    cleanup_free char *vm = vc_random_name(VM_NAME_LEN);
    cleanup_free char *dir = xasprintf("%s/%s", cfg->runtime.run_root, vm);
    cleanup_free char *entry = xasprintf("%s/%s.boot.%d", keydir, vm, (int)getpid());
    cleanup_free char *quoted = vc_json_quote(dir);
    cleanup_free char *json = xasprintf("{\"run_dir\":%s}", quoted);
    if (vc_write_file_atomic(entry, json, strlen(json), 0600, err) < 0) {
      ret = -1;
      goto out;
    }
    if (mkdir(dir, 0700) == 0) {
      *name = vc_steal(&vm);
      *run_dir = vc_steal(&dir);
      goto out;
    }
    int e = errno;
    unlink(entry);
    if (e != EEXIST) {
      ret = vc_error_set(err, e, "create `%s`", dir);
      goto out;
    }
  }
  ret = vc_error_set(err, EEXIST, "no free name under `%s`", cfg->runtime.run_root);
out:
  unlock_root(&fd);
  return ret;
}

/* Boots the reserved VM name in run_dir and makes it ready: its entry is
 * renamed from .boot.<pid> to .ready under the lock, unless a destroy
 * removed the entry meanwhile (then the VM is stopped again). */
static int boot_pooled(const struct vc_config *cfg, const char *root,
                       const char *keydir, const char *key_text,
                       const char *name, const char *run_dir, vc_error **err) {
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  sb.id = xasprintf("pool-%s", name);
  sb.dir = xstrdup(keydir);
  sb.run_dir = xstrdup(run_dir);
  sb.cfg = cfg;
  cleanup_free char *share = vc_share_dir(run_dir);
  cleanup_free char *booting = xasprintf("%s/%s.boot.%d", keydir, name, (int)getpid());
  cleanup_free char *ready = xasprintf("%s/%s.ready", keydir, name);
  cleanup_free char *tdir = template_dir(root, strrchr(keydir, '/') + 1);
  cleanup_free char *json = NULL;
  int ret = -1, fd = -1;
  if (vc_sandbox_init(&sb, err) < 0 || vc_share_create(share, err) < 0) {
    vc_sandbox_stop(&sb, NULL);
    goto out;
  }
  if (cfg->factory.template_vm && template_ready(tdir)) {
    /* A clone: its own copy of the template's RAM, mapped shared (so the
     * vhost-user daemons can map it too), unlinked once QEMU has it. */
    cleanup_free char *rdir = ram_dir(root);
    cleanup_free char *ram = xasprintf("%s/%s.ram", rdir, name);
    cleanup_free char *template_ram = xasprintf("%s/ram", tdir);
    cleanup_free char *template_state = xasprintf("%s/state", tdir);
    sb.vm.ram_file = ram;
    sb.vm.vhost_user_later = true;
    int r = sparse_copy(template_ram, ram, err);
    if (r == 0)
      r = vc_sandbox_restore(&sb, template_state, err);
    else
      vc_sandbox_stop(&sb, NULL);
    unlink(ram);
    sb.vm.ram_file = NULL;
    if (r < 0)
      goto out;
  } else if (vc_sandbox_boot(&sb, NULL, NULL, err) < 0) {
    goto out;
  }
  /* A refill boots at a low priority (it competes with the create that
   * claimed); the ready VM runs as any other. */
  pid_t pids[] = {sb.vm.pid, sb.vm.virtiofsd_pid, sb.vm.vsock_backend_pid};
  for (size_t i = 0; i < N_ELEMS(pids); i++)
    vc_renice_process(pids[i], 0);
  json = ready_entry_json(&sb, key_text);
  if (vc_write_file_atomic(booting, json, strlen(json), 0600, err) < 0 ||
      lock_root(root, false, &fd, err) < 0)
    goto stop;
  if (fd >= 0 && rename(booting, ready) == 0) {
    ret = 0;
    goto out;
  }
  vc_error_set(err, 0, "the pool `%s` was destroyed while VM %s booted", root, name);
stop:;
  vc_error *e = NULL;
  vc_sandbox_stop(&sb, &e);
  vc_error_free(&e);
  unlink(booting);
out:
  unlock_root(&fd);
  vc_sandbox_free(&sb);
  return ret;
}

/* A child process: reserve one VM and boot it.  Exit status 0: booted,
 * 2: nothing to do, 1: failed (the error on stderr). */
static int fill_one(const struct vc_config *cfg, const char *root,
                    const char *keydir, const char *key_text) {
  vc_error *err = NULL;
  cleanup_free char *name = NULL, *run_dir = NULL;
  int status = 1;
  if (reserve(cfg, root, keydir, &name, &run_dir, &err) == 0)
    status = name == NULL ? 2
                          : boot_pooled(cfg, root, keydir, key_text, name,
                                        run_dir, &err) == 0 ? 0 : 1;
  if (status == 1 && err != NULL)
    fprintf(stderr, "vcrun: factory: %s\n", err->msg);
  vc_error_free(&err);
  return status;
}

/* Stops every VM of a key's directory and removes it; a claim in progress
 * by a live create stays (and so does the directory). */
static void destroy_key(const struct vc_config *cfg, const char *keydir) {
  size_t n = 0;
  char **names = list_dir(keydir, &n);
  bool left = false;
  /* Booters first, so that none makes another VM ready meanwhile. */
  for (size_t i = 0; i < n; i++) {
    char vm[64];
    pid_t pid = 0;
    if (parse_entry(names[i], vm, sizeof(vm), &pid) == ENTRY_BOOT &&
        vc_pid_alive(pid)) {
      kill(pid, SIGKILL);
      vc_pid_terminate(pid, 0);
    }
  }
  for (size_t i = 0; i < n; i++) {
    char vm[64];
    pid_t pid = 0;
    enum entry_state state = parse_entry(names[i], vm, sizeof(vm), &pid);
    cleanup_free char *path = xasprintf("%s/%s", keydir, names[i]);
    if (state == ENTRY_CLAIM && vc_pid_alive(pid)) {
      left = true;
      continue;
    }
    yajl_val entry = state == ENTRY_OTHER ? NULL : read_entry(path);
    const char *run_dir = entry ? entry_run_dir(cfg, entry) : NULL;
    if (entry != NULL &&
        !(state == ENTRY_CLAIM && run_dir != NULL && adopted(run_dir)))
      discard_vm(cfg, keydir, vm, entry);
    yajl_tree_free(entry);
    unlink(path);
  }
  free_list(names, n);
  if (!left)
    rmdir(keydir);
}

/* Key directories are 16 hex digits. */
static bool is_key_name(const char *name) {
  size_t len = strlen(name);
  return len == 16 && strspn(name, "0123456789abcdef") == 16;
}

int vc_factory_fill(const struct vc_config *cfg, bool init, unsigned *booted,
                    vc_error **err) {
  if (booted != NULL)
    *booted = 0;
  cleanup_free char *root = vc_factory_root(cfg);
  cleanup_free char *key = NULL, *key_text = NULL;
  if (vc_factory_key(cfg, &key, &key_text, err) < 0)
    return -1;
  cleanup_free char *keydir = xasprintf("%s/%s", root, key);
  unsigned ready = 0, booting = 0;
  int fd = -1;
  if (lock_root(root, init, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  struct stat st;
  if (init) {
    /* A pool of another key can never be claimed: stop it. */
    size_t n = 0;
    char **names = list_dir(root, &n);
    for (size_t i = 0; i < n; i++) {
      if (!is_key_name(names[i]) || strcmp(names[i], key) == 0)
        continue;
      cleanup_free char *other = xasprintf("%s/%s", root, names[i]);
      cleanup_free char *other_template = template_dir(root, names[i]);
      destroy_key(cfg, other);
      vc_rmdir_r(other_template, NULL);
    }
    free_list(names, n);
    cleanup_free char *key_path = xasprintf("%s/key", keydir);
    if (vc_mkdir_p(keydir, 0700, err) < 0 ||
        vc_write_file_atomic(key_path, key_text, strlen(key_text), 0600, err) < 0) {
      unlock_root(&fd);
      return -1;
    }
  } else if (stat(keydir, &st) < 0) {
    unlock_root(&fd);
    return 0;
  }
  sweep(cfg, keydir, &ready, &booting);
  if (init && cfg->factory.template_vm && mount_ram_dir(root, err) < 0) {
    unlock_root(&fd);
    return -1;
  }
  unlock_root(&fd);
  /* The template first (init only): the VMs below are its clones. */
  if (init && cfg->factory.template_vm &&
      build_template(cfg, root, keydir, key, err) < 0)
    return vc_error_wrap(err, "factory: build the template");
  unsigned want = cfg->factory.pool_size > ready + booting
                      ? cfg->factory.pool_size - ready - booting : 0;
  /* One child per VM, so that the boots overlap; each reserves its VM
   * under the lock again, so concurrent fills never overshoot. */
  pid_t children[64];
  unsigned started = 0, failed = 0;
  fflush(NULL);
  for (unsigned i = 0; i < want && i < N_ELEMS(children); i++) {
    pid_t pid = fork();
    if (pid < 0) {
      failed++;
      break;
    }
    if (pid == 0)
      _exit(fill_one(cfg, root, keydir, key_text));
    children[started++] = pid;
  }
  for (unsigned i = 0; i < started; i++) {
    int status = 0;
    while (waitpid(children[i], &status, 0) < 0 && errno == EINTR)
      ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      if (booted != NULL)
        (*booted)++;
    } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 2)) {
      failed++;
    }
  }
  if (failed > 0)
    return vc_error_set(err, 0, "factory: %u of %u pooled VM(s) did not boot "
                        "(see above)", failed, want);
  return 0;
}

int vc_factory_destroy(const struct vc_config *cfg, vc_error **err) {
  cleanup_free char *root = vc_factory_root(cfg);
  int fd = -1;
  if (lock_root(root, false, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  size_t n = 0;
  char **names = list_dir(root, &n);
  for (size_t i = 0; i < n; i++) {
    if (!is_key_name(names[i]))
      continue;
    cleanup_free char *keydir = xasprintf("%s/%s", root, names[i]);
    cleanup_free char *key_path = xasprintf("%s/key", keydir);
    unlink(key_path);
    destroy_key(cfg, keydir);
  }
  free_list(names, n);
  /* The templates and any clone's RAM copy left by a crash. */
  unmount_ram_dir(root);
  /* Gone unless a claim in progress keeps its key's directory. */
  cleanup_free char *log = xasprintf("%s/refill.log", root);
  unlink(log);
  if (rmdir(root) < 0 && errno != ENOENT && errno != ENOTEMPTY &&
      errno != EEXIST) {
    int e = errno;
    unlock_root(&fd);
    return vc_error_set(err, e, "remove `%s`", root);
  }
  unlock_root(&fd);
  return 0;
}

/* ---- status --------------------------------------------------------------- */

static void add_vm(struct vc_factory_status *st, const char *key, const char *name,
                   const char *state, pid_t owner, pid_t qemu, bool alive) {
  st->vms = xrealloc(st->vms, (st->n_vms + 1) * sizeof(*st->vms));
  st->vms[st->n_vms++] = (struct vc_factory_vm){
      xstrdup(key), xstrdup(name), xstrdup(state), owner, qemu, alive};
}

int vc_factory_status(const struct vc_config *cfg, struct vc_factory_status *st,
                      vc_error **err) {
  memset(st, 0, sizeof(*st));
  st->root = vc_factory_root(cfg);
  cleanup_free char *key_text = NULL;
  if (vc_factory_key(cfg, &st->key, &key_text, err) < 0)
    return -1;
  cleanup_free char *tdir = template_dir(st->root, st->key);
  st->template_ready = template_ready(tdir);
  size_t nkeys = 0;
  char **keys = list_dir(st->root, &nkeys);
  for (size_t k = 0; k < nkeys; k++) {
    if (!is_key_name(keys[k]))
      continue;
    bool current = strcmp(keys[k], st->key) == 0;
    if (current)
      st->pool = true;
    else
      st->stale_keys++;
    cleanup_free char *keydir = xasprintf("%s/%s", st->root, keys[k]);
    size_t n = 0;
    char **names = list_dir(keydir, &n);
    for (size_t i = 0; i < n; i++) {
      char vm[64];
      pid_t pid = 0;
      enum entry_state state = parse_entry(names[i], vm, sizeof(vm), &pid);
      if (state == ENTRY_OTHER)
        continue;
      cleanup_free char *path = xasprintf("%s/%s", keydir, names[i]);
      yajl_val entry = read_entry(path);
      yajl_val hv = entry ? vc_json_get_object(entry, "hypervisor") : NULL;
      pid_t qemu = hv ? (pid_t)vc_json_get_int(hv, "pid") : 0;
      bool alive = state == ENTRY_READY
                       ? entry != NULL && ready_vm_alive(cfg, keydir, vm, entry)
                       : vc_pid_alive(pid);
      yajl_tree_free(entry);
      const char *word = state == ENTRY_READY ? "ready"
                         : state == ENTRY_BOOT ? "booting" : "claiming";
      add_vm(st, keys[k], vm, alive ? word : "dead", pid, qemu, alive);
      if (!current) {
        st->stale_vms++;
        continue;
      }
      if (!alive)
        st->dead++;
      else if (state == ENTRY_READY)
        st->ready++;
      else if (state == ENTRY_BOOT)
        st->booting++;
      else
        st->claiming++;
    }
    free_list(names, n);
  }
  free_list(keys, nkeys);
  return 0;
}

void vc_factory_status_free(struct vc_factory_status *st) {
  for (size_t i = 0; i < st->n_vms; i++) {
    free(st->vms[i].key);
    free(st->vms[i].name);
    free(st->vms[i].state);
  }
  free(st->vms);
  free(st->root);
  free(st->key);
  memset(st, 0, sizeof(*st));
}

/* ---- claim ---------------------------------------------------------------- */

static void add_reason(char **why, const char *fmt, const char *arg) {
  char *line = xasprintf(fmt, arg);
  char *old = *why;
  *why = old ? xasprintf("%s; %s", old, line) : line;
  if (old) {
    free(old);
    free(line);
  }
}

/* A detached `vcrun [--config FILE] factory refill`, its output in the
 * pool's refill.log.  Best effort: a pool that is not refilled only makes
 * later creates boot. */
static void spawn_refill(const struct vc_config *cfg, const char *root) {
  cleanup_free char *exe = vc_self_exe();
  cleanup_free char *log = xasprintf("%s/refill.log", root);
  char *argv[6];
  size_t n = 0;
  argv[n++] = exe;
  if (cfg->source != NULL) {
    argv[n++] = "--config";
    argv[n++] = cfg->source;
  }
  argv[n++] = "factory";
  argv[n++] = "refill";
  argv[n] = NULL;
  /* Under the pool's lock: a destroy running meanwhile must not find the
   * log made again after it removed it (and so the pool directory left);
   * a pool destroyed already gets no refill. */
  int fd = -1;
  pid_t pid;
  vc_error *e = NULL;
  if (lock_root(root, false, &fd, &e) == 0 && fd >= 0)
    vc_spawn_detached(argv, log, NULL, 0, &pid, &e);
  unlock_root(&fd);
  vc_error_free(&e);
}

/* Under the lock: renames the first live ready entry of keydir to
 * <vm>.claim.<this pid>; dead ones are discarded (and said in *why). */
static yajl_val take_ready(const struct vc_config *cfg, const char *keydir,
                           const char *key_text, char **claim_path,
                           char **name, char **why) {
  size_t n = 0;
  char **names = list_dir(keydir, &n);
  yajl_val taken = NULL;
  for (size_t i = 0; i < n && taken == NULL; i++) {
    char vm[64];
    pid_t pid = 0;
    if (parse_entry(names[i], vm, sizeof(vm), &pid) != ENTRY_READY)
      continue;
    cleanup_free char *path = xasprintf("%s/%s", keydir, names[i]);
    yajl_val entry = read_entry(path);
    const char *entry_key = entry ? vc_json_get_str(entry, "key") : NULL;
    if (entry == NULL || entry_key == NULL || strcmp(entry_key, key_text) != 0 ||
        !ready_vm_alive(cfg, keydir, vm, entry)) {
      add_reason(why, "pooled VM %s is dead or unreadable (discarded)", vm);
      discard_vm(cfg, keydir, vm, entry);
      unlink(path);
      yajl_tree_free(entry);
      continue;
    }
    char *claimed = xasprintf("%s/%s.claim.%d", keydir, vm, (int)getpid());
    if (rename(path, claimed) < 0) {
      free(claimed);
      yajl_tree_free(entry);
      continue;
    }
    *claim_path = claimed;
    *name = xstrdup(vm);
    taken = entry;
  }
  free_list(names, n);
  return taken;
}

int vc_factory_claim(struct vc_sandbox *sb,
                     int (*persist)(void *arg, vc_error **err), void *arg,
                     char **why, vc_error **err) {
  const struct vc_config *cfg = sb->cfg;
  *why = NULL;
  cleanup_free char *root = vc_factory_root(cfg);
  cleanup_free char *key = NULL, *key_text = NULL;
  vc_error *kerr = NULL;
  if (vc_factory_key(cfg, &key, &key_text, &kerr) < 0) {
    add_reason(why, "no pool key: %s", kerr->msg);
    vc_error_free(&kerr);
    return 0;
  }
  cleanup_free char *keydir = xasprintf("%s/%s", root, key);
  int fd = -1;
  struct stat st;
  if (lock_root(root, false, &fd, &kerr) < 0 || fd < 0) {
    add_reason(why, "no VM pool in `%s` (vcrun factory init has not run)", root);
    vc_error_free(&kerr);
    return 0;
  }
  if (stat(keydir, &st) < 0) {
    unlock_root(&fd);
    add_reason(why, "no VM pool for this configuration (key %s): it changed "
               "since vcrun factory init", key);
    return 0;
  }
  cleanup_free char *claim_path = NULL, *name = NULL;
  yajl_val entry = take_ready(cfg, keydir, key_text, &claim_path, &name, why);
  unlock_root(&fd);
  if (entry == NULL) {
    /* Claimed empty or its dead VMs discarded: without a refill now the
     * pool would stay short until a claim succeeds. */
    spawn_refill(cfg, root);
    add_reason(why, "the VM pool (key %s) has no ready VM", key);
    return 0;
  }
  /* Adopt it: dir/run names its run directory (what delete --force
   * follows), claimed-by names dir (what a sweep checks), then sb is
   * loaded from the entry as from a state file. */
  const char *run_dir = entry_run_dir(cfg, entry);
  cleanup_free char *link = xasprintf("%s/run", sb->dir);
  cleanup_free char *claimed_by = run_dir ? claimed_by_path(run_dir) : NULL;
  vc_error *aerr = NULL;
  int ret = -1;
  if (run_dir == NULL || symlink(run_dir, link) < 0 ||
      vc_write_file_atomic(claimed_by, sb->dir, strlen(sb->dir), 0600, &aerr) < 0) {
    /* Nothing of the container's runs in it yet: give it up, boot. */
    add_reason(why, "pooled VM %s could not be adopted", name);
    vc_error_free(&aerr);
    discard_vm(cfg, keydir, name, entry);
    unlink(link);
    unlink(claim_path);
    ret = 0;
    goto out;
  }
  sb->run_dir = xstrdup(run_dir);
  if (vc_sandbox_load_json(sb, entry, claim_path, err) < 0 ||
      (persist != NULL && persist(arg, err) < 0)) {
    vc_error *e = NULL;
    vc_sandbox_stop(sb, &e);
    vc_error_free(&e);
    unlink(link);
    unlink(claim_path);
    goto out;
  }
  unlink(claim_path);
  spawn_refill(cfg, root);
  add_reason(why, "claimed pooled VM %s", name);
  ret = 1;
out:
  yajl_tree_free(entry);
  return ret;
}

int vc_factory_template_copy(const struct vc_config *cfg, char **state_path,
                             char **ram_path, char **why, vc_error **err) {
  *state_path = *ram_path = NULL;
  if (!cfg->factory.template_vm)
    return 0;
  cleanup_free char *root = vc_factory_root(cfg);
  cleanup_free char *key = NULL, *key_text = NULL;
  vc_error *kerr = NULL;
  if (vc_factory_key(cfg, &key, &key_text, &kerr) < 0) {
    vc_error_free(&kerr);
    return 0;
  }
  cleanup_free char *tdir = template_dir(root, key);
  if (!template_ready(tdir)) {
    add_reason(why, "no template for key %s", key);
    return 0;
  }
  cleanup_free char *rdir = ram_dir(root);
  cleanup_free char *name = vc_random_name(12);
  cleanup_free char *template_ram = xasprintf("%s/ram", tdir);
  char *ram = xasprintf("%s/c-%s.ram", rdir, name);
  if (sparse_copy(template_ram, ram, err) < 0) {
    unlink(ram);
    free(ram);
    return -1;
  }
  *ram_path = ram;
  *state_path = xasprintf("%s/state", tdir);
  add_reason(why, "restoring a clone of the template (key %s)", key);
  return 1;
}
