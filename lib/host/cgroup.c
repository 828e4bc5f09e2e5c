#include "lib/host/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- hierarchies ---------------------------------------------------------- */

void vc_cgroup_hierarchies_add(struct vc_cgroup_hierarchies *h,
                               const char *mount, const char *name, bool v2) {
  h->items = xrealloc(h->items, (h->n + 1) * sizeof(*h->items));
  h->items[h->n++] = (struct vc_cgroup_hierarchy){xstrdup(mount),
                                                  xstrdup(name), v2};
}

void vc_cgroup_hierarchies_free(struct vc_cgroup_hierarchies *h) {
  for (size_t i = 0; i < h->n; i++) {
    free(h->items[i].mount);
    free(h->items[i].name);
  }
  free(h->items);
  memset(h, 0, sizeof(*h));
}

/* A v1 mount's name in /proc/<pid>/cgroup: its controllers, which the
 * directory is named after ("cpu,cpuacct"), or name=<dir> for a named
 * hierarchy without controllers (systemd's). */
static char *v1_name(const char *dir_name) {
  static const char *const controllers[] = {
      "blkio",  "cpu",     "cpuacct",    "cpuset", "devices", "freezer",
      "hugetlb", "memory", "misc",       "net_cls", "net_prio",
      "perf_event", "pids", "rdma"};
  cleanup_free char *copy = xstrdup(dir_name);
  char *save = NULL;
  for (char *part = strtok_r(copy, ",", &save); part != NULL;
       part = strtok_r(NULL, ",", &save)) {
    bool known = false;
    for (size_t i = 0; i < N_ELEMS(controllers) && !known; i++)
      known = strcmp(part, controllers[i]) == 0;
    if (!known)
      return xasprintf("name=%s", dir_name);
  }
  return xstrdup(dir_name);
}

static int by_mount(const void *a, const void *b) {
  const struct vc_cgroup_hierarchy *x = a, *y = b;
  return strcmp(x->mount, y->mount);
}

int vc_cgroup_detect(const char *root, struct vc_cgroup_hierarchies *h,
                     vc_error **err) {
  memset(h, 0, sizeof(*h));
  struct statfs fs;
  if (statfs(root, &fs) < 0)
    return errno == ENOENT ? 0 : vc_error_set(err, errno, "statfs `%s`", root);
  if ((unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC) {
    vc_cgroup_hierarchies_add(h, root, "", true);
    h->layout = VC_CGROUP_UNIFIED;
    return 0;
  }
  DIR *d = opendir(root);
  if (d == NULL)
    return vc_error_set(err, errno, "open `%s`", root);
  bool v1 = false, v2 = false;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.')
      continue;
    cleanup_free char *path = xasprintf("%s/%s", root, de->d_name);
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || statfs(path, &fs) < 0)
      continue;
    if ((unsigned long)fs.f_type == CGROUP_SUPER_MAGIC) {
      cleanup_free char *name = v1_name(de->d_name);
      vc_cgroup_hierarchies_add(h, path, name, false);
      v1 = true;
    } else if ((unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC) {
      vc_cgroup_hierarchies_add(h, path, "", true);
      v2 = true;
    }
  }
  closedir(d);
  if (h->n > 1)
    qsort(h->items, h->n, sizeof(*h->items), by_mount);
  h->layout = v1 ? (v2 ? VC_CGROUP_HYBRID : VC_CGROUP_LEGACY)
                 : (v2 ? VC_CGROUP_UNIFIED : VC_CGROUP_NONE);
  return 0;
}

char *vc_cgroup_describe(const struct vc_cgroup_hierarchies *h) {
  static const char *const layouts[] = {"none", "legacy (cgroup v1)",
                                        "hybrid", "unified (cgroup v2)"};
  char *out = xasprintf("%s", layouts[h->layout]);
  if (h->layout == VC_CGROUP_NONE)
    return out;
  char *v1 = xstrdup(""), *v2 = xstrdup("");
  for (size_t i = 0; i < h->n; i++) {
    char **list = h->items[i].v2 ? &v2 : &v1;
    char *next = xasprintf("%s%s%s", *list, (*list)[0] ? " " : "",
                           h->items[i].v2 ? h->items[i].mount : h->items[i].name);
    free(*list);
    *list = next;
  }
  char *full = xasprintf("%s: %s%s%s%s%s", out, v1[0] ? "v1 " : "", v1,
                         v1[0] && v2[0] ? "; " : "", v2[0] ? "v2 " : "", v2);
  free(out);
  free(v1);
  free(v2);
  return full;
}

/* ---- files -------------------------------------------------------------- */

/* Writes text into an existing control file (never creates one). */
static int write_control(const char *dir, const char *file, const char *text,
                         vc_error **err) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "host cgroup: open `%s`", path);
  int r = vc_write_all(fd, text, strlen(text));
  int e = errno;
  close(fd);
  if (r < 0)
    return vc_error_set(err, e, "host cgroup: write \"%s\" to `%s`", text, path);
  return 0;
}

static bool has_file(const char *dir, const char *file) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

/* A control file's first line, or NULL. */
static char *read_control(const char *dir, const char *file) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  char *text = NULL;
  vc_error *e = NULL;
  if (vc_read_file(path, &text, NULL, &e) < 0) {
    vc_error_free(&e);
    return NULL;
  }
  text[strcspn(text, "\n")] = '\0';
  return text;
}

static char *parent_of(const char *dir) {
  const char *slash = strrchr(dir, '/');
  return slash == NULL || slash == dir ? xstrdup("/")
                                       : xasprintf("%.*s", (int)(slash - dir), dir);
}

/* ---- the cgroup ------------------------------------------------------------ */

static void push(char ***list, size_t *n, char *s) {
  *list = xrealloc(*list, (*n + 1) * sizeof(**list));
  (*list)[(*n)++] = s;
}

/* hierarchy's path in /proc/self/cgroup's text ("N:name:path" lines), or
 * NULL. */
static char *own_path(const char *self_cgroup,
                      const struct vc_cgroup_hierarchy *hier) {
  for (const char *line = self_cgroup; line != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    cleanup_free char *copy = xasprintf("%.*s", (int)len, line);
    char *first = strchr(copy, ':');
    char *second = first ? strchr(first + 1, ':') : NULL;
    if (second != NULL) {
      *first = *second = '\0';
      bool match = hier->v2 ? strcmp(copy, "0") == 0 && first[1] == '\0'
                            : strcmp(first + 1, hier->name) == 0;
      if (match)
        return xstrdup(second + 1);
    }
    line = end ? end + 1 : NULL;
  }
  return NULL;
}

int vc_host_cgroup_resolve(const struct vc_cgroup_hierarchies *h,
                           const char *path, const char *self_cgroup,
                           struct vc_host_cgroup *cg, vc_error **err) {
  memset(cg, 0, sizeof(*cg));
  cleanup_free char *clean = vc_path_clean(path);
  if (clean == NULL)
    return vc_error_set(err, 0, "host cgroup \"%s\" must not contain \"..\"", path);
  if (clean[strspn(clean, "/")] == '\0')
    return vc_error_set(err, 0, "host cgroup \"%s\" names a cgroup root", path);
  bool relative = path[0] != '/';
  for (size_t i = 0; i < h->n; i++) {
    const struct vc_cgroup_hierarchy *hier = &h->items[i];
    cleanup_free char *own = relative ? own_path(self_cgroup, hier) : NULL;
    if (relative && own == NULL) {
      vc_host_cgroup_free(cg);
      return vc_error_set(err, 0, "host cgroup: no %s hierarchy in "
                          "/proc/self/cgroup for the relative path \"%s\"",
                          hier->v2 ? "cgroup2" : hier->name, path);
    }
    cleanup_free char *own_clean = own ? vc_path_clean(own) : xstrdup("");
    if (own_clean == NULL) {
      vc_host_cgroup_free(cg);
      return vc_error_set(err, 0, "host cgroup: own cgroup \"%s\" has \"..\"", own);
    }
    const char *own_rel = own_clean + strspn(own_clean, "/");
    push(&cg->dirs, &cg->n_dirs,
         xasprintf("%s%s%s/%s", hier->mount, own_rel[0] ? "/" : "", own_rel,
                   clean + strspn(clean, "/")));
  }
  return 0;
}

int vc_host_cgroup_own(const struct vc_cgroup_hierarchies *h,
                       const char *self_cgroup, struct vc_host_cgroup *cg,
                       vc_error **err) {
  memset(cg, 0, sizeof(*cg));
  for (size_t i = 0; i < h->n; i++) {
    cleanup_free char *own = own_path(self_cgroup, &h->items[i]);
    cleanup_free char *clean = own ? vc_path_clean(own) : NULL;
    if (clean == NULL) {
      vc_host_cgroup_free(cg);
      return vc_error_set(err, 0, "host cgroup: no %s hierarchy in "
                          "/proc/self/cgroup", h->items[i].v2 ? "cgroup2"
                                                              : h->items[i].name);
    }
    const char *rel = clean + strspn(clean, "/");
    push(&cg->dirs, &cg->n_dirs, xasprintf("%s%s%s", h->items[i].mount,
                                           rel[0] ? "/" : "", rel));
  }
  return 0;
}

/* A new v1 cpuset directory has empty cpus and mems: it would take no
 * task.  Copy its parent's, as runc does. */
static int fill_cpuset(const char *dir, vc_error **err) {
  static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
  for (size_t i = 0; i < N_ELEMS(files); i++) {
    if (!has_file(dir, files[i]))
      return 0;
    cleanup_free char *mine = read_control(dir, files[i]);
    if (mine != NULL && mine[0] != '\0')
      continue;
    cleanup_free char *parent = parent_of(dir);
    cleanup_free char *value = read_control(parent, files[i]);
    if (value == NULL || value[0] == '\0' ||
        write_control(dir, files[i], value, err) < 0)
      return value == NULL || value[0] == '\0'
                 ? vc_error_set(err, 0, "host cgroup: `%s/%s` is empty",
                                parent, files[i])
                 : -1;
  }
  return 0;
}

/* v2: the controllers each ancestor offers, enabled for its children, top
 * down.  Best effort: a parent with processes of its own refuses. */
static void enable_v2_controllers(const char *dir) {
  char *ancestors[64];
  size_t n = 0;
  for (char *p = parent_of(dir); n < N_ELEMS(ancestors);) {
    if (!has_file(p, "cgroup.controllers") || strcmp(p, "/") == 0) {
      free(p);
      break;
    }
    ancestors[n++] = p;
    p = parent_of(p);
  }
  while (n > 0) {
    cleanup_free char *anc = ancestors[--n];
    cleanup_free char *offered = read_control(anc, "cgroup.controllers");
    if (offered == NULL || offered[0] == '\0')
      continue;
    cleanup_free char *enable = xstrdup("");
    char *save = NULL;
    for (char *c = strtok_r(offered, " ", &save); c != NULL;
         c = strtok_r(NULL, " ", &save)) {
      char *next = xasprintf("%s%s+%s", enable, enable[0] ? " " : "", c);
      free(enable);
      enable = next;
    }
    vc_error *e = NULL;
    write_control(anc, "cgroup.subtree_control", enable, &e);
    vc_error_free(&e);
  }
}

int vc_host_cgroup_create(struct vc_host_cgroup *cg, vc_error **err) {
  for (size_t i = 0; i < cg->n_dirs; i++) {
    const char *dir = cg->dirs[i];
    cleanup_free char *prefix = xstrdup(dir);
    for (char *p = strchr(prefix + 1, '/');; p = strchr(p + 1, '/')) {
      if (p != NULL)
        *p = '\0';
      if (mkdir(prefix, 0755) == 0) {
        if (p != NULL)
          push(&cg->made, &cg->n_made, xstrdup(prefix));
        if (fill_cpuset(prefix, err) < 0)
          return -1;
      } else if (errno != EEXIST) {
        return vc_error_set(err, errno, "host cgroup: mkdir `%s`", prefix);
      }
      if (p == NULL)
        break;
      *p = '/';
    }
    if (has_file(dir, "cgroup.controllers"))
      enable_v2_controllers(dir);
  }
  return 0;
}

int vc_host_cgroup_enter(const struct vc_host_cgroup *cg, pid_t pid,
                         vc_error **err) {
  char text[32];
  snprintf(text, sizeof(text), "%d", (int)pid);
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (write_control(cg->dirs[i], "cgroup.procs", text, err) < 0)
      return -1;
  return 0;
}

uint64_t vc_cgroup_shares_to_weight(uint64_t shares) {
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

/* Writes text to file in every directory that has it; true if one did. */
static int write_where_present(const struct vc_host_cgroup *cg, const char *file,
                               const char *text, bool *written, vc_error **err) {
  for (size_t i = 0; i < cg->n_dirs; i++) {
    if (!has_file(cg->dirs[i], file))
      continue;
    if (write_control(cg->dirs[i], file, text, err) < 0)
      return -1;
    *written = true;
  }
  return 0;
}

static int set_limit(const struct vc_host_cgroup *cg, const char *what,
                     const char *v1_file, const char *v1_text,
                     const char *v2_file, const char *v2_text, vc_error **err) {
  bool written = false;
  if (write_where_present(cg, v1_file, v1_text, &written, err) < 0 ||
      write_where_present(cg, v2_file, v2_text, &written, err) < 0)
    return -1;
  if (!written)
    return vc_error_set(err, 0, "host cgroup `%s`: no hierarchy offers the %s "
                        "controller (%s or %s)", cg->n_dirs ? cg->dirs[0] : "",
                        what, v1_file, v2_file);
  return 0;
}

int vc_host_cgroup_set_limits(const struct vc_host_cgroup *cg,
                              const struct vc_cgroup_limits *l,
                              vc_error **err) {
  char a[64], b[64];
  if (l->memory_bytes > 0) {
    snprintf(a, sizeof(a), "%" PRIu64, l->memory_bytes);
    if (set_limit(cg, "memory", "memory.limit_in_bytes", a, "memory.max", a,
                  err) < 0)
      return -1;
  }
  if (l->cpu_quota_us > 0) {
    uint64_t period = l->cpu_period_us ? l->cpu_period_us : 100000;
    snprintf(a, sizeof(a), "%" PRIu64, period);
    snprintf(b, sizeof(b), "%" PRId64 " %" PRIu64, l->cpu_quota_us, period);
    bool written = false;
    /* v1: the period first, so that the quota is checked against it. */
    if (write_where_present(cg, "cpu.cfs_period_us", a, &written, err) < 0)
      return -1;
    snprintf(a, sizeof(a), "%" PRId64, l->cpu_quota_us);
    if (set_limit(cg, "cpu", "cpu.cfs_quota_us", a, "cpu.max", b, err) < 0)
      return -1;
  }
  if (l->cpu_shares > 0) {
    snprintf(a, sizeof(a), "%" PRIu64, l->cpu_shares);
    snprintf(b, sizeof(b), "%" PRIu64, vc_cgroup_shares_to_weight(l->cpu_shares));
    if (set_limit(cg, "cpu", "cpu.shares", a, "cpu.weight", b, err) < 0)
      return -1;
  }
  return 0;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int vc_host_cgroup_remove(const struct vc_host_cgroup *cg, int timeout_ms,
                          vc_error **err) {
  int ret = 0;
  long long deadline = vc_now_ms() + timeout_ms;
  for (size_t i = 0; i < cg->n_dirs; i++) {
    /* A process that was killed leaves its cgroup a moment later. */
    int e;
    for (;;) {
      e = rmdir(cg->dirs[i]) == 0 ? 0 : errno;
      if (e != EBUSY || vc_now_ms() >= deadline)
        break;
      sleep_ms(10);
    }
    if (e != 0 && e != ENOENT && ret == 0)
      ret = vc_error_set(err, e, "host cgroup: remove `%s`", cg->dirs[i]);
  }
  /* Parents another cgroup still uses stay (EBUSY). */
  for (size_t i = cg->n_made; i > 0; i--)
    rmdir(cg->made[i - 1]);
  return ret;
}

void vc_host_cgroup_free(struct vc_host_cgroup *cg) {
  for (size_t i = 0; i < cg->n_dirs; i++)
    free(cg->dirs[i]);
  for (size_t i = 0; i < cg->n_made; i++)
    free(cg->made[i]);
  free(cg->dirs);
  free(cg->made);
  if (cg->origin != NULL) {
    vc_host_cgroup_free(cg->origin);
    free(cg->origin);
  }
  memset(cg, 0, sizeof(*cg));
}
