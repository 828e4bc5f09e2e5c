#include "oci/spec.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/util.h"

/* --- error reporting ------------------------------------------------------
 * A field is named by its parent's path plus its key, and the full path is
 * only put together when something is wrong. */

struct pctx {
  const char *src;
  vc_error **err;
};

/* "<src>: <parent>.<key>: <message>"; key may be NULL (the parent itself)
 * and parent may be "" (a top-level field). */
static int fail(struct pctx *c, const char *parent, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct pctx *c, const char *parent, const char *key,
                const char *fmt, ...) {
  va_list ap;
  char *msg = NULL;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  const char *dot = parent[0] != '\0' && key != NULL ? "." : "";
  vc_error_set(c->err, 0, "%s: %s%s%s: %s", c->src, parent, dot,
               key != NULL ? key : "", msg != NULL ? msg : "invalid");
  free(msg);
  return -1;
}

/* Same, for element i of the array parent.key. */
static int fail_at(struct pctx *c, const char *parent, const char *key,
                   size_t i, const char *what) {
  cleanup_free char *k = xasprintf("%s[%zu]", key, i);
  return fail(c, parent, k, "%s", what);
}

/* The path of parent.key, or of parent.key[i] when i >= 0. */
static char *path_of(const char *parent, const char *key, long i) {
  const char *dot = parent[0] != '\0' ? "." : "";
  if (i < 0)
    return xasprintf("%s%s%s", parent, dot, key);
  return xasprintf("%s%s%s[%ld]", parent, dot, key, i);
}

/* --- typed field access ---------------------------------------------------
 * A member set to JSON null counts as absent, as it does for runc (Go's
 * encoding/json leaves the zero value). */

static yajl_val field(yajl_val obj, const char *key) {
  yajl_val v = vc_json_get(obj, key);
  return YAJL_IS_NULL(v) ? NULL : v;
}

static int get_str(struct pctx *c, yajl_val obj, const char *parent,
                   const char *key, bool required, char **out) {
  yajl_val v = field(obj, key);
  if (v == NULL)
    return required ? fail(c, parent, key, "missing") : 0;
  if (!YAJL_IS_STRING(v))
    return fail(c, parent, key, "must be a string");
  *out = xstrdup(v->u.string);
  return 0;
}

static int get_bool(struct pctx *c, yajl_val obj, const char *parent,
                    const char *key, bool *out) {
  yajl_val v = field(obj, key);
  if (v == NULL)
    return 0;
  if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
    return fail(c, parent, key, "must be a boolean");
  *out = YAJL_IS_TRUE(v);
  return 0;
}

/* An unsigned integer value v named parent.key (key may carry "[i]"). */
static int to_uint(struct pctx *c, yajl_val v, const char *parent,
                   const char *key, uint64_t max, uint64_t *out) {
  int rc = vc_json_to_u64(v, max, out);
  if (rc == VC_JSON_NUM_OK)
    return 0;
  bool negative = YAJL_IS_NUMBER(v) && YAJL_GET_NUMBER(v) != NULL &&
                  YAJL_GET_NUMBER(v)[0] == '-';
  if (rc == VC_JSON_NUM_TYPE || negative)
    return fail(c, parent, key, "must be a non-negative integer");
  return fail(c, parent, key, "must be at most %llu", (unsigned long long)max);
}

/* Returns 1 when present, 0 when absent (and required is false). */
static int get_uint(struct pctx *c, yajl_val obj, const char *parent,
                    const char *key, bool required, uint64_t max,
                    uint64_t *out) {
  yajl_val v = field(obj, key);
  if (v == NULL)
    return required ? fail(c, parent, key, "missing") : 0;
  return to_uint(c, v, parent, key, max, out) < 0 ? -1 : 1;
}

static int get_u32(struct pctx *c, yajl_val obj, const char *parent,
                   const char *key, bool required, uint32_t *out) {
  uint64_t n = 0;
  int rc = get_uint(c, obj, parent, key, required, UINT32_MAX, &n);
  if (rc > 0)
    *out = (uint32_t)n;
  return rc;
}

/* Returns 1 when present, 0 when absent. */
static int get_int(struct pctx *c, yajl_val obj, const char *parent,
                   const char *key, int min, int max, const char *what,
                   int *out) {
  yajl_val v = field(obj, key);
  if (v == NULL)
    return 0;
  int64_t n;
  if (vc_json_to_i64(v, min, max, &n) != VC_JSON_NUM_OK)
    return fail(c, parent, key, "%s", what);
  *out = (int)n;
  return 1;
}

/* The member as an object or array, NULL when absent; a member of another
 * type is an error. */
static int get_object(struct pctx *c, yajl_val obj, const char *parent,
                      const char *key, yajl_val *out) {
  yajl_val v = field(obj, key);
  *out = NULL;
  if (v != NULL && !YAJL_IS_OBJECT(v))
    return fail(c, parent, key, "must be an object");
  *out = v;
  return 0;
}

static int get_array(struct pctx *c, yajl_val obj, const char *parent,
                     const char *key, yajl_val *out) {
  yajl_val v = field(obj, key);
  *out = NULL;
  if (v != NULL && !YAJL_IS_ARRAY(v))
    return fail(c, parent, key, "must be an array");
  *out = v;
  return 0;
}

/* A NULL-terminated copy of an array of strings (see spec.h). */
static int get_strv(struct pctx *c, yajl_val obj, const char *parent,
                    const char *key, char ***out, size_t *n_out) {
  yajl_val v = field(obj, key);
  if (v == NULL)
    return 0;
  if (!YAJL_IS_ARRAY(v))
    return fail(c, parent, key, "must be an array of strings");
  size_t n = v->u.array.len;
  char **a = xcalloc(n + 1, sizeof(*a));
  *out = a; /* owned by the spec from here on, even if half filled */
  *n_out = n;
  for (size_t i = 0; i < n; i++) {
    yajl_val e = v->u.array.values[i];
    if (!YAJL_IS_STRING(e))
      return fail_at(c, parent, key, i, "must be a string");
    a[i] = xstrdup(e->u.string);
  }
  return 0;
}

/* Absolute paths for every entry of an already parsed vector. */
static int check_absolute_v(struct pctx *c, const char *parent,
                            const char *key, char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i][0] != '/')
      return fail_at(c, parent, key, i, "must be an absolute path");
  return 0;
}

static int cmp_str_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key that appears twice in keys[0..n), NULL if none (n log n). */
static const char *find_duplicate(const char *const *keys, size_t n) {
  if (n < 2)
    return NULL;
  cleanup_free const char **sorted = xcalloc(n, sizeof(*sorted));
  memcpy(sorted, keys, n * sizeof(*sorted));
  qsort(sorted, n, sizeof(*sorted), cmp_str_ptr);
  for (size_t i = 1; i < n; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0)
      return sorted[i];
  return NULL;
}

/* A map of strings to strings (annotations, linux.sysctl), in document
 * order, as a temporary array that the caller moves into its own type. */
struct kv {
  char *key, *value;
};

static void free_kv(struct kv *a, size_t n) {
  for (size_t i = 0; a != NULL && i < n; i++) {
    free(a[i].key);
    free(a[i].value);
  }
  free(a);
}

static int get_string_map(struct pctx *c, yajl_val obj, const char *parent,
                          const char *key, struct kv **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  yajl_val v = NULL;
  if (get_object(c, obj, parent, key, &v) < 0)
    return -1;
  if (v == NULL || v->u.object.len == 0)
    return 0;
  size_t n = v->u.object.len;
  const char *dup = find_duplicate(v->u.object.keys, n);
  if (dup != NULL)
    return fail(c, parent, key, "duplicate key \"%s\"", dup);
  struct kv *a = xcalloc(n, sizeof(*a));
  for (size_t i = 0; i < n; i++) {
    const char *k = v->u.object.keys[i];
    yajl_val e = v->u.object.values[i];
    if (k[0] == '\0') {
      free_kv(a, n);
      return fail(c, parent, key, "keys must not be empty");
    }
    if (!YAJL_IS_STRING(e)) {
      free_kv(a, n);
      cleanup_free char *quoted = xasprintf("%s[\"%s\"]", key, k);
      return fail(c, parent, quoted, "must be a string");
    }
    a[i].key = xstrdup(k);
    a[i].value = xstrdup(e->u.string);
  }
  *out = a;
  *n_out = n;
  return 0;
}

/* --- process ------------------------------------------------------------- */

static const char *const rlimit_names[] = {
    "RLIMIT_AS",     "RLIMIT_CORE",     "RLIMIT_CPU",        "RLIMIT_DATA",
    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",    "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",   "RLIMIT_NOFILE",   "RLIMIT_NPROC",      "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME",   "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};
#define N_RLIMITS (sizeof(rlimit_names) / sizeof(rlimit_names[0]))

static int lookup(const char *const *names, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0)
      return (int)i;
  return -1;
}

static int parse_user(struct pctx *c, yajl_val proc, struct oci_user *u) {
  yajl_val v = NULL;
  if (get_object(c, proc, "process", "user", &v) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const char *p = "process.user";
  if (get_u32(c, v, p, "uid", true, &u->uid) < 0 ||
      get_u32(c, v, p, "gid", true, &u->gid) < 0)
    return -1;
  int rc = get_u32(c, v, p, "umask", false, &u->umask);
  if (rc < 0)
    return -1;
  u->has_umask = rc > 0;
  yajl_val gids = NULL;
  if (get_array(c, v, p, "additionalGids", &gids) < 0)
    return -1;
  if (gids == NULL || gids->u.array.len == 0)
    return 0;
  u->n_additional_gids = gids->u.array.len;
  u->additional_gids = xcalloc(u->n_additional_gids, sizeof(uint32_t));
  for (size_t i = 0; i < u->n_additional_gids; i++) {
    cleanup_free char *k = xasprintf("additionalGids[%zu]", i);
    uint64_t n;
    if (to_uint(c, gids->u.array.values[i], p, k, UINT32_MAX, &n) < 0)
      return -1;
    u->additional_gids[i] = (uint32_t)n;
  }
  return 0;
}

static int parse_capabilities(struct pctx *c, yajl_val proc,
                              struct oci_process *p) {
  yajl_val v = NULL;
  if (get_object(c, proc, "process", "capabilities", &v) < 0)
    return -1;
  if (v == NULL)
    return 0;
  struct oci_capabilities *caps = xcalloc(1, sizeof(*caps));
  p->capabilities = caps;
  const char *pp = "process.capabilities";
  if (get_strv(c, v, pp, "bounding", &caps->bounding, &caps->n_bounding) < 0 ||
      get_strv(c, v, pp, "effective", &caps->effective, &caps->n_effective) < 0 ||
      get_strv(c, v, pp, "inheritable", &caps->inheritable,
               &caps->n_inheritable) < 0 ||
      get_strv(c, v, pp, "permitted", &caps->permitted, &caps->n_permitted) < 0 ||
      get_strv(c, v, pp, "ambient", &caps->ambient, &caps->n_ambient) < 0)
    return -1;
  return 0;
}

static int parse_rlimits(struct pctx *c, yajl_val proc, struct oci_process *p) {
  yajl_val v = NULL;
  if (get_array(c, proc, "process", "rlimits", &v) < 0)
    return -1;
  if (v == NULL || v->u.array.len == 0)
    return 0;
  p->n_rlimits = v->u.array.len;
  p->rlimits = xcalloc(p->n_rlimits, sizeof(*p->rlimits));
  bool seen[N_RLIMITS] = {false};
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct oci_rlimit *r = &p->rlimits[i];
    yajl_val e = v->u.array.values[i];
    cleanup_free char *path = path_of("process", "rlimits", (long)i);
    if (!YAJL_IS_OBJECT(e))
      return fail(c, path, NULL, "must be an object");
    if (get_str(c, e, path, "type", true, &r->type) < 0)
      return -1;
    int idx = lookup(rlimit_names, N_RLIMITS, r->type);
    if (idx < 0)
      return fail(c, path, "type", "unknown rlimit \"%s\"", r->type);
    if (seen[idx])
      return fail(c, path, "type", "duplicate rlimit \"%s\"", r->type);
    seen[idx] = true;
    if (get_uint(c, e, path, "soft", true, UINT64_MAX, &r->soft) < 0 ||
        get_uint(c, e, path, "hard", true, UINT64_MAX, &r->hard) < 0)
      return -1;
    if (r->soft > r->hard)
      return fail(c, path, NULL, "soft limit %llu is above hard limit %llu",
                  (unsigned long long)r->soft, (unsigned long long)r->hard);
  }
  return 0;
}

static int parse_process(struct pctx *c, yajl_val root, struct oci_spec *s) {
  yajl_val v = NULL;
  if (get_object(c, root, "", "process", &v) < 0)
    return -1;
  if (v == NULL)
    return 0;
  struct oci_process *p = xcalloc(1, sizeof(*p));
  s->process = p;
  const char *pp = "process";
  if (get_bool(c, v, pp, "terminal", &p->terminal) < 0)
    return -1;

  yajl_val console = NULL;
  if (get_object(c, v, pp, "consoleSize", &console) < 0)
    return -1;
  if (console != NULL) {
    uint32_t h = 0, w = 0;
    if (get_u32(c, console, "process.consoleSize", "height", true, &h) < 0 ||
        get_u32(c, console, "process.consoleSize", "width", true, &w) < 0)
      return -1;
    p->console_height = h;
    p->console_width = w;
  }

  if (parse_user(c, v, &p->user) < 0)
    return -1;

  yajl_val args = field(v, "args");
  if (!YAJL_IS_ARRAY(args) || args->u.array.len == 0)
    return fail(c, pp, "args", "must be a non-empty array of strings");
  if (get_strv(c, v, pp, "args", &p->args, &p->n_args) < 0)
    return -1;

  if (get_strv(c, v, pp, "env", &p->env, &p->n_env) < 0)
    return -1;
  for (size_t i = 0; i < p->n_env; i++) {
    const char *eq = strchr(p->env[i], '=');
    if (eq == NULL || eq == p->env[i])
      return fail_at(c, pp, "env", i, "must be of the form NAME=value");
  }

  if (get_str(c, v, pp, "cwd", true, &p->cwd) < 0)
    return -1;
  if (p->cwd[0] != '/')
    return fail(c, pp, "cwd", "must be an absolute path");

  if (parse_capabilities(c, v, p) < 0 || parse_rlimits(c, v, p) < 0)
    return -1;
  if (get_bool(c, v, pp, "noNewPrivileges", &p->no_new_privileges) < 0)
    return -1;
  int rc = get_int(c, v, pp, "oomScoreAdj", -1000, 1000,
                   "must be an integer between -1000 and 1000",
                   &p->oom_score_adj);
  if (rc < 0)
    return -1;
  p->has_oom_score_adj = rc > 0;
  if (get_str(c, v, pp, "apparmorProfile", false, &p->apparmor_profile) < 0 ||
      get_str(c, v, pp, "selinuxLabel", false, &p->selinux_label) < 0)
    return -1;
  return 0;
}

/* --- root, mounts, hooks ------------------------------------------------- */

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* Skips a SemVer numeric identifier (digits, no leading zero); NULL if p
 * does not start with one. */
static const char *semver_number(const char *p) {
  if (!is_digit(*p) || (p[0] == '0' && is_digit(p[1])))
    return NULL;
  while (is_digit(*p))
    p++;
  return p;
}

/* SemVer 2.0.0 with major 1: "1.0.2-dev", "1.3.0".  Any minor is taken:
 * a later 1.x only adds properties, which the spec says to ignore when
 * they are not known (runc 1.1 takes them too); another major is not
 * the spec read here. */
static bool supported_version(const char *v) {
  const char *p = semver_number(v);
  if (p == NULL || p - v != 1 || v[0] != '1' || *p++ != '.')
    return false;
  if ((p = semver_number(p)) == NULL || *p++ != '.')
    return false;
  if ((p = semver_number(p)) == NULL)
    return false;
  if (*p == '\0')
    return true;
  if ((*p != '-' && *p != '+') || p[1] == '\0')
    return false;
  for (p++; *p; p++)
    if (!is_digit(*p) && !(*p >= 'a' && *p <= 'z') &&
        !(*p >= 'A' && *p <= 'Z') && *p != '-' && *p != '.' && *p != '+')
      return false;
  return true;
}

static int parse_root(struct pctx *c, yajl_val root, struct oci_spec *s) {
  yajl_val v = NULL;
  if (get_object(c, root, "", "root", &v) < 0)
    return -1;
  if (v == NULL)
    return fail(c, "", "root", "missing");
  if (get_str(c, v, "root", "path", true, &s->root_path) < 0)
    return -1;
  if (s->root_path[0] == '\0')
    return fail(c, "root", "path", "must not be empty");
  return get_bool(c, v, "root", "readonly", &s->root_readonly);
}

static int parse_mounts(struct pctx *c, yajl_val root, struct oci_spec *s) {
  yajl_val v = NULL;
  if (get_array(c, root, "", "mounts", &v) < 0)
    return -1;
  if (v == NULL || v->u.array.len == 0)
    return 0;
  s->n_mounts = v->u.array.len;
  s->mounts = xcalloc(s->n_mounts, sizeof(*s->mounts));
  for (size_t i = 0; i < s->n_mounts; i++) {
    struct oci_mount *m = &s->mounts[i];
    yajl_val e = v->u.array.values[i];
    cleanup_free char *path = path_of("", "mounts", (long)i);
    if (!YAJL_IS_OBJECT(e))
      return fail(c, path, NULL, "must be an object");
    if (get_str(c, e, path, "destination", true, &m->destination) < 0)
      return -1;
    if (m->destination[0] == '\0')
      return fail(c, path, "destination", "must not be empty");
    if (get_str(c, e, path, "type", false, &m->type) < 0 ||
        get_str(c, e, path, "source", false, &m->source) < 0 ||
        get_strv(c, e, path, "options", &m->options, &m->n_options) < 0)
      return -1;
  }
  return 0;
}

static int parse_hook_list(struct pctx *c, yajl_val hooks, const char *name,
                           struct oci_hook **out, size_t *n_out) {
  yajl_val v = NULL;
  if (get_array(c, hooks, "hooks", name, &v) < 0)
    return -1;
  if (v == NULL || v->u.array.len == 0)
    return 0;
  size_t n = v->u.array.len;
  struct oci_hook *a = xcalloc(n, sizeof(*a));
  *out = a;
  *n_out = n;
  for (size_t i = 0; i < n; i++) {
    struct oci_hook *h = &a[i];
    yajl_val e = v->u.array.values[i];
    cleanup_free char *path = path_of("hooks", name, (long)i);
    if (!YAJL_IS_OBJECT(e))
      return fail(c, path, NULL, "must be an object");
    if (get_str(c, e, path, "path", true, &h->path) < 0)
      return -1;
    if (h->path[0] != '/')
      return fail(c, path, "path", "must be an absolute path");
    if (get_strv(c, e, path, "args", &h->args, &h->n_args) < 0 ||
        get_strv(c, e, path, "env", &h->env, &h->n_env) < 0)
      return -1;
    int rc = get_int(c, e, path, "timeout", 1, INT_MAX,
                     "must be a positive integer", &h->timeout);
    if (rc < 0)
      return -1;
    h->has_timeout = rc > 0;
  }
  return 0;
}

static int parse_hooks(struct pctx *c, yajl_val root, struct oci_spec *s) {
  yajl_val v = NULL;
  if (get_object(c, root, "", "hooks", &v) < 0)
    return -1;
  if (v == NULL)
    return 0;
  struct oci_hooks *h = &s->hooks;
  if (parse_hook_list(c, v, "prestart", &h->prestart, &h->n_prestart) < 0 ||
      parse_hook_list(c, v, "createRuntime", &h->create_runtime,
                      &h->n_create_runtime) < 0 ||
      parse_hook_list(c, v, "createContainer", &h->create_container,
                      &h->n_create_container) < 0 ||
      parse_hook_list(c, v, "startContainer", &h->start_container,
                      &h->n_start_container) < 0 ||
      parse_hook_list(c, v, "poststart", &h->poststart, &h->n_poststart) < 0 ||
      parse_hook_list(c, v, "poststop", &h->poststop, &h->n_poststop) < 0)
    return -1;
  return 0;
}

/* --- linux --------------------------------------------------------------- */

static const char *const namespace_types[] = {
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};
#define N_NAMESPACE_TYPES (sizeof(namespace_types) / sizeof(namespace_types[0]))

static const char *const propagations[] = {
    "shared", "slave", "private", "unbindable",
    "rshared", "rslave", "rprivate", "runbindable",
};

static int parse_namespaces(struct pctx *c, yajl_val lx,
                            struct oci_spec *s) {
  yajl_val v = NULL;
  if (get_array(c, lx, "linux", "namespaces", &v) < 0)
    return -1;
  if (v == NULL || v->u.array.len == 0)
    return 0;
  s->n_namespaces = v->u.array.len;
  s->namespaces = xcalloc(s->n_namespaces, sizeof(*s->namespaces));
  bool seen[N_NAMESPACE_TYPES] = {false};
  for (size_t i = 0; i < s->n_namespaces; i++) {
    struct oci_namespace *ns = &s->namespaces[i];
    yajl_val e = v->u.array.values[i];
    cleanup_free char *path = path_of("linux", "namespaces", (long)i);
    if (!YAJL_IS_OBJECT(e))
      return fail(c, path, NULL, "must be an object");
    if (get_str(c, e, path, "type", true, &ns->type) < 0)
      return -1;
    int idx = lookup(namespace_types, N_NAMESPACE_TYPES, ns->type);
    if (idx < 0)
      return fail(c, path, "type", "unknown namespace type \"%s\"", ns->type);
    if (seen[idx])
      return fail(c, path, "type", "duplicate namespace type \"%s\"", ns->type);
    seen[idx] = true;
    if (get_str(c, e, path, "path", false, &ns->path) < 0)
      return -1;
    if (ns->path != NULL && ns->path[0] == '\0') {
      free(ns->path); /* "" means a new namespace, as in runc */
      ns->path = NULL;
    }
    if (ns->path != NULL && ns->path[0] != '/')
      return fail(c, path, "path", "must be an absolute path");
  }
  return 0;
}

static int parse_mappings(struct pctx *c, yajl_val lx, const char *key,
                          struct oci_id_mapping **out, size_t *n_out) {
  yajl_val v = NULL;
  if (get_array(c, lx, "linux", key, &v) < 0)
    return -1;
  if (v == NULL || v->u.array.len == 0)
    return 0;
  size_t n = v->u.array.len;
  struct oci_id_mapping *a = xcalloc(n, sizeof(*a));
  *out = a;
  *n_out = n;
  for (size_t i = 0; i < n; i++) {
    yajl_val e = v->u.array.values[i];
    cleanup_free char *path = path_of("linux", key, (long)i);
    if (!YAJL_IS_OBJECT(e))
      return fail(c, path, NULL, "must be an object");
    if (get_u32(c, e, path, "containerID", true, &a[i].container_id) < 0 ||
        get_u32(c, e, path, "hostID", true, &a[i].host_id) < 0 ||
        get_u32(c, e, path, "size", true, &a[i].size) < 0)
      return -1;
  }
  return 0;
}

/* Keeps linux.<key> as compact JSON for the guest. */
static int keep_json(struct pctx *c, yajl_val lx, const char *key,
                     bool want_array, char **out) {
  yajl_val v = NULL;
  int rc = want_array ? get_array(c, lx, "linux", key, &v)
                      : get_object(c, lx, "linux", key, &v);
  if (rc < 0)
    return -1;
  if (v == NULL)
    return 0;
  if (vc_json_serialize(v, out, c->err) < 0)
    return vc_error_wrap(c->err, "%s: linux.%s", c->src, key);
  return 0;
}

static int parse_linux(struct pctx *c, yajl_val root, struct oci_spec *s) {
  yajl_val v = NULL;
  if (get_object(c, root, "", "linux", &v) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const char *lp = "linux";
  if (parse_namespaces(c, v, s) < 0 ||
      parse_mappings(c, v, "uidMappings", &s->uid_mappings,
                     &s->n_uid_mappings) < 0 ||
      parse_mappings(c, v, "gidMappings", &s->gid_mappings,
                     &s->n_gid_mappings) < 0)
    return -1;
  if (get_strv(c, v, lp, "maskedPaths", &s->masked_paths,
               &s->n_masked_paths) < 0 ||
      check_absolute_v(c, lp, "maskedPaths", s->masked_paths,
                       s->n_masked_paths) < 0 ||
      get_strv(c, v, lp, "readonlyPaths", &s->readonly_paths,
               &s->n_readonly_paths) < 0 ||
      check_absolute_v(c, lp, "readonlyPaths", s->readonly_paths,
                       s->n_readonly_paths) < 0)
    return -1;
  if (get_str(c, v, lp, "cgroupsPath", false, &s->cgroups_path) < 0 ||
      get_str(c, v, lp, "rootfsPropagation", false, &s->rootfs_propagation) < 0 ||
      get_str(c, v, lp, "mountLabel", false, &s->mount_label) < 0)
    return -1;
  if (s->rootfs_propagation != NULL && s->rootfs_propagation[0] != '\0' &&
      lookup(propagations, sizeof(propagations) / sizeof(propagations[0]),
             s->rootfs_propagation) < 0)
    return fail(c, lp, "rootfsPropagation", "unknown propagation \"%s\"",
                s->rootfs_propagation);
  struct kv *kv;
  size_t n;
  if (get_string_map(c, v, lp, "sysctl", &kv, &n) < 0)
    return -1;
  if (n > 0) {
    s->sysctl = xcalloc(n, sizeof(*s->sysctl));
    s->n_sysctl = n;
    for (size_t i = 0; i < n; i++) {
      s->sysctl[i].key = kv[i].key;
      s->sysctl[i].value = kv[i].value;
    }
  }
  free(kv);
  if (keep_json(c, v, "resources", false, &s->resources_json) < 0 ||
      keep_json(c, v, "seccomp", false, &s->seccomp_json) < 0 ||
      keep_json(c, v, "devices", true, &s->devices_json) < 0)
    return -1;
  return 0;
}

/* --- public -------------------------------------------------------------- */

static int parse_tree(struct pctx *c, yajl_val root, struct oci_spec *s) {
  if (!YAJL_IS_OBJECT(root))
    return vc_error_set(c->err, 0, "%s: must be a JSON object", c->src);
  if (get_str(c, root, "", "ociVersion", true, &s->oci_version) < 0)
    return -1;
  if (!supported_version(s->oci_version))
    return fail(c, "", "ociVersion",
                "unsupported version \"%s\" (want 1.x.y)",
                s->oci_version);
  if (parse_root(c, root, s) < 0)
    return -1;
  if (get_str(c, root, "", "hostname", false, &s->hostname) < 0 ||
      get_str(c, root, "", "domainname", false, &s->domainname) < 0)
    return -1;
  if (parse_process(c, root, s) < 0 || parse_mounts(c, root, s) < 0 ||
      parse_hooks(c, root, s) < 0)
    return -1;
  struct kv *kv;
  size_t n;
  if (get_string_map(c, root, "", "annotations", &kv, &n) < 0)
    return -1;
  if (n > 0) {
    s->annotations = xcalloc(n, sizeof(*s->annotations));
    s->n_annotations = n;
    for (size_t i = 0; i < n; i++) {
      s->annotations[i].key = kv[i].key;
      s->annotations[i].value = kv[i].value;
    }
  }
  free(kv);
  return parse_linux(c, root, s);
}

int oci_spec_parse(const char *json_text, const char *source_name,
                   struct oci_spec **out, vc_error **err) {
  *out = NULL;
  struct pctx c = {source_name != NULL ? source_name : "config.json", err};
  yajl_val root = NULL;
  if (vc_json_parse(json_text, &root, err) < 0)
    return vc_error_wrap(err, "%s", c.src);
  struct oci_spec *s = xcalloc(1, sizeof(*s));
  int rc = parse_tree(&c, root, s);
  yajl_tree_free(root);
  if (rc < 0) {
    oci_spec_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

int oci_process_parse(const char *json_text, const char *source_name,
                      struct oci_spec **out, vc_error **err) {
  *out = NULL;
  yajl_val tree = NULL;
  if (vc_json_parse(json_text, &tree, err) < 0)
    return vc_error_wrap(err, "%s", source_name);
  bool is_object = YAJL_IS_OBJECT(tree);
  yajl_tree_free(tree);
  if (!is_object)
    return vc_error_set(err, 0, "%s: must be a JSON object", source_name);
  /* One whole object cannot reach past "process" in the spec around it;
   * the newline ends a trailing // comment. */
  cleanup_free char *wrapped = xasprintf(
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
      "\"process\":%s\n}", json_text);
  return oci_spec_parse(wrapped, source_name, out, err);
}

int oci_spec_load(const char *bundle_dir, struct oci_spec **out,
                  vc_error **err) {
  cleanup_free char *path = xasprintf("%s/config.json", bundle_dir);
  return oci_spec_load_file(path, out, err);
}

int oci_spec_load_file(const char *path, struct oci_spec **out, vc_error **err) {
  *out = NULL;
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (vc_read_file(path, &text, &len, err) < 0)
    return -1;
  if (strlen(text) != len)
    return vc_error_set(err, 0, "%s: invalid JSON: contains a NUL byte", path);
  return oci_spec_parse(text, path, out, err);
}

static void free_strv(char **v, size_t n) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static void free_hooks(struct oci_hook *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(h[i].path);
    free_strv(h[i].args, h[i].n_args);
    free_strv(h[i].env, h[i].n_env);
  }
  free(h);
}

static void free_process(struct oci_process *p) {
  if (p == NULL)
    return;
  free(p->user.additional_gids);
  free_strv(p->args, p->n_args);
  free_strv(p->env, p->n_env);
  free(p->cwd);
  if (p->capabilities != NULL) {
    struct oci_capabilities *c = p->capabilities;
    free_strv(c->bounding, c->n_bounding);
    free_strv(c->effective, c->n_effective);
    free_strv(c->inheritable, c->n_inheritable);
    free_strv(c->permitted, c->n_permitted);
    free_strv(c->ambient, c->n_ambient);
    free(c);
  }
  for (size_t i = 0; i < p->n_rlimits; i++)
    free(p->rlimits[i].type);
  free(p->rlimits);
  free(p->apparmor_profile);
  free(p->selinux_label);
  free(p);
}

void oci_spec_free(struct oci_spec *s) {
  if (s == NULL)
    return;
  free(s->oci_version);
  free(s->root_path);
  free(s->hostname);
  free(s->domainname);
  free_process(s->process);
  for (size_t i = 0; i < s->n_mounts; i++) {
    free(s->mounts[i].destination);
    free(s->mounts[i].type);
    free(s->mounts[i].source);
    free_strv(s->mounts[i].options, s->mounts[i].n_options);
  }
  free(s->mounts);
  free_hooks(s->hooks.prestart, s->hooks.n_prestart);
  free_hooks(s->hooks.create_runtime, s->hooks.n_create_runtime);
  free_hooks(s->hooks.create_container, s->hooks.n_create_container);
  free_hooks(s->hooks.start_container, s->hooks.n_start_container);
  free_hooks(s->hooks.poststart, s->hooks.n_poststart);
  free_hooks(s->hooks.poststop, s->hooks.n_poststop);
  for (size_t i = 0; i < s->n_annotations; i++) {
    free(s->annotations[i].key);
    free(s->annotations[i].value);
  }
  free(s->annotations);
  for (size_t i = 0; i < s->n_namespaces; i++) {
    free(s->namespaces[i].type);
    free(s->namespaces[i].path);
  }
  free(s->namespaces);
  free(s->uid_mappings);
  free(s->gid_mappings);
  free_strv(s->masked_paths, s->n_masked_paths);
  free_strv(s->readonly_paths, s->n_readonly_paths);
  free(s->cgroups_path);
  free(s->rootfs_propagation);
  free(s->mount_label);
  for (size_t i = 0; i < s->n_sysctl; i++) {
    free(s->sysctl[i].key);
    free(s->sysctl[i].value);
  }
  free(s->sysctl);
  free(s->resources_json);
  free(s->seccomp_json);
  free(s->devices_json);
  free(s);
}

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key) {
  if (spec == NULL || key == NULL)
    return NULL;
  for (size_t i = 0; i < spec->n_annotations; i++)
    if (strcmp(spec->annotations[i].key, key) == 0)
      return spec->annotations[i].value;
  return NULL;
}

/* --- runc's default spec ------------------------------------------------- */

static void gen_kv_str(struct vc_json_gen *j, const char *key, const char *v) {
  vc_json_gen_key(j, key);
  vc_json_gen_str(j, v);
}

static void gen_key_strv(struct vc_json_gen *j, const char *key,
                         char *const *v, size_t n) {
  vc_json_gen_key(j, key);
  vc_json_gen_strv(j, v, n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void gen_process(struct vc_json_gen *j) {
  static char *const args[] = {"sh"};
  static char *const env[] = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm"};
  static char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL",
                               "CAP_NET_BIND_SERVICE"};
  static const char *const cap_sets[] = {"bounding", "effective", "permitted",
                                         "ambient"};
  vc_json_gen_key(j, "process");
  vc_json_gen_map_open(j);
  vc_json_gen_key(j, "terminal");
  vc_json_gen_bool(j, true);
  vc_json_gen_key(j, "user");
  vc_json_gen_map_open(j);
  vc_json_gen_key(j, "uid");
  vc_json_gen_uint(j, 0);
  vc_json_gen_key(j, "gid");
  vc_json_gen_uint(j, 0);
  vc_json_gen_map_close(j);
  gen_key_strv(j, "args", args, COUNT(args));
  gen_key_strv(j, "env", env, COUNT(env));
  gen_kv_str(j, "cwd", "/");
  vc_json_gen_key(j, "capabilities");
  vc_json_gen_map_open(j);
  for (size_t i = 0; i < COUNT(cap_sets); i++)
    gen_key_strv(j, cap_sets[i], caps, COUNT(caps));
  vc_json_gen_map_close(j);
  vc_json_gen_key(j, "rlimits");
  vc_json_gen_array_open(j);
  vc_json_gen_map_open(j);
  gen_kv_str(j, "type", "RLIMIT_NOFILE");
  vc_json_gen_key(j, "hard");
  vc_json_gen_uint(j, 1024);
  vc_json_gen_key(j, "soft");
  vc_json_gen_uint(j, 1024);
  vc_json_gen_map_close(j);
  vc_json_gen_array_close(j);
  vc_json_gen_key(j, "noNewPrivileges");
  vc_json_gen_bool(j, true);
  vc_json_gen_map_close(j);
}

struct default_mount {
  const char *destination, *type, *source;
  char *const *options;
  size_t n_options;
};

static void gen_mounts(struct vc_json_gen *j, bool rootless) {
  static char *const dev[] = {"nosuid", "strictatime", "mode=755",
                              "size=65536k"};
  /* Rootless drops gid=5: the tty group need not be mapped. */
  static char *const pts[] = {"nosuid",   "noexec",       "newinstance",
                              "ptmxmode=0666", "mode=0620", "gid=5"};
  static char *const shm[] = {"nosuid", "noexec", "nodev", "mode=1777",
                              "size=65536k"};
  static char *const mqueue[] = {"nosuid", "noexec", "nodev"};
  static char *const sys[] = {"nosuid", "noexec", "nodev", "ro"};
  /* Without a network namespace sysfs cannot be mounted: bind the host's. */
  static char *const sys_bind[] = {"rbind", "nosuid", "noexec", "nodev", "ro"};
  static char *const cgroup[] = {"nosuid", "noexec", "nodev", "relatime",
                                 "ro"};
  const struct default_mount mounts[] = {
      {"/proc", "proc", "proc", NULL, 0},
      {"/dev", "tmpfs", "tmpfs", dev, COUNT(dev)},
      {"/dev/pts", "devpts", "devpts", pts, COUNT(pts) - (rootless ? 1 : 0)},
      {"/dev/shm", "tmpfs", "shm", shm, COUNT(shm)},
      {"/dev/mqueue", "mqueue", "mqueue", mqueue, COUNT(mqueue)},
      rootless ? (struct default_mount){"/sys", "none", "/sys", sys_bind,
                                        COUNT(sys_bind)}
               : (struct default_mount){"/sys", "sysfs", "sysfs", sys,
                                        COUNT(sys)},
      {"/sys/fs/cgroup", "cgroup", "cgroup", cgroup, COUNT(cgroup)},
  };
  vc_json_gen_key(j, "mounts");
  vc_json_gen_array_open(j);
  for (size_t i = 0; i < COUNT(mounts); i++) {
    vc_json_gen_map_open(j);
    gen_kv_str(j, "destination", mounts[i].destination);
    gen_kv_str(j, "type", mounts[i].type);
    gen_kv_str(j, "source", mounts[i].source);
    if (mounts[i].options != NULL)
      gen_key_strv(j, "options", mounts[i].options, mounts[i].n_options);
    vc_json_gen_map_close(j);
  }
  vc_json_gen_array_close(j);
}

static void gen_mapping(struct vc_json_gen *j, const char *key,
                        unsigned long long host_id) {
  vc_json_gen_key(j, key);
  vc_json_gen_array_open(j);
  vc_json_gen_map_open(j);
  vc_json_gen_key(j, "containerID");
  vc_json_gen_uint(j, 0);
  vc_json_gen_key(j, "hostID");
  vc_json_gen_uint(j, host_id);
  vc_json_gen_key(j, "size");
  vc_json_gen_uint(j, 1);
  vc_json_gen_map_close(j);
  vc_json_gen_array_close(j);
}

static void gen_linux(struct vc_json_gen *j, bool rootless) {
  static char *const masked[] = {
      "/proc/acpi",       "/proc/asound",     "/proc/kcore",
      "/proc/keys",       "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
      "/proc/scsi"};
  static char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq",
                                   "/proc/sys", "/proc/sysrq-trigger"};
  static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount"};
  static const char *const ns_rootless[] = {"pid", "ipc", "uts", "mount",
                                            "user"};
  vc_json_gen_key(j, "linux");
  vc_json_gen_map_open(j);
  if (rootless) {
    gen_mapping(j, "uidMappings", geteuid());
    gen_mapping(j, "gidMappings", getegid());
  } else {
    vc_json_gen_key(j, "resources");
    vc_json_gen_map_open(j);
    vc_json_gen_key(j, "devices");
    vc_json_gen_array_open(j);
    vc_json_gen_map_open(j);
    vc_json_gen_key(j, "allow");
    vc_json_gen_bool(j, false);
    gen_kv_str(j, "access", "rwm");
    vc_json_gen_map_close(j);
    vc_json_gen_array_close(j);
    vc_json_gen_map_close(j);
  }
  const char *const *types = rootless ? ns_rootless : ns;
  vc_json_gen_key(j, "namespaces");
  vc_json_gen_array_open(j);
  for (size_t i = 0; i < COUNT(ns); i++) {
    vc_json_gen_map_open(j);
    gen_kv_str(j, "type", types[i]);
    vc_json_gen_map_close(j);
  }
  vc_json_gen_array_close(j);
  gen_key_strv(j, "maskedPaths", masked, COUNT(masked));
  gen_key_strv(j, "readonlyPaths", readonly, COUNT(readonly));
  vc_json_gen_map_close(j);
}

int oci_spec_default_json(bool rootless, char **out, vc_error **err) {
  struct vc_json_gen j;
  vc_json_gen_init(&j, "\t");
  vc_json_gen_map_open(&j);
  gen_kv_str(&j, "ociVersion", "1.0.2-dev");
  gen_process(&j);
  vc_json_gen_key(&j, "root");
  vc_json_gen_map_open(&j);
  gen_kv_str(&j, "path", "rootfs");
  vc_json_gen_key(&j, "readonly");
  vc_json_gen_bool(&j, true);
  vc_json_gen_map_close(&j);
  gen_kv_str(&j, "hostname", "runc");
  gen_mounts(&j, rootless);
  gen_linux(&j, rootless);
  vc_json_gen_map_close(&j);
  return vc_json_gen_finish(&j, out, err);
}

bool oci_mount_has_option(const struct oci_mount *m, const char *name) {
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp(m->options[i], name) == 0)
      return true;
  return false;
}

bool oci_mount_is_bind(const struct oci_mount *m) {
  return (m->type != NULL && strcmp(m->type, "bind") == 0) ||
         oci_mount_has_option(m, "bind") || oci_mount_has_option(m, "rbind");
}

char *oci_mount_source_in_root(const struct oci_spec *spec, const char *bundle,
                               const struct oci_mount *m) {
  const char *root = spec->root_path;
  if (m->source == NULL || m->source[0] == '\0' || root == NULL ||
      bundle == NULL || bundle[0] != '/')
    return NULL;
  cleanup_free char *root_as_written =
      root[0] == '/' ? xstrdup(root) : xasprintf("%s/%s", bundle, root);
  cleanup_free char *source_as_written =
      m->source[0] == '/' ? xstrdup(m->source)
                          : xasprintf("%s/%s", bundle, m->source);
  cleanup_free char *clean_root = vc_path_clean(root_as_written);
  cleanup_free char *clean_source = vc_path_clean(source_as_written);
  if (clean_root == NULL || clean_source == NULL || clean_root[0] == '\0')
    return NULL;
  size_t len = strlen(clean_root);
  if (strncmp(clean_source, clean_root, len) != 0 ||
      (clean_source[len] != '\0' && clean_source[len] != '/'))
    return NULL;
  return xstrdup(clean_source + len);
}
