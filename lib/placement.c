#include "lib/placement.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/json.h"
#include "lib/base/util.h"
#include "lib/container.h"
#include "oci/cgroups_path.h"

/* Where this process was before vc_placement_enter moved it (no dirs: it
 * did not), so that it can leave before the cgroup is removed. */

static int read_self_cgroup(char **text, vc_error **err) {
  return vc_read_file("/proc/self/cgroup", text, NULL, err);
}

int vc_placement_plan(const struct vc_context *ctx, const char *id,
                      const struct oci_spec *spec, struct vc_host_cgroup *cg,
                      vc_error **err) {
  memset(cg, 0, sizeof(*cg));
  if (!ctx->cfg->runtime.host_cgroups)
    return 0;
  struct vc_cgroup_hierarchies h;
  if (vc_cgroup_detect(VC_CGROUP_ROOT, &h, err) < 0)
    return -1;
  cleanup_free char *path = NULL, *self = NULL;
  int ret = -1;
  if (h.n == 0) {
    ret = 0;
    goto out;
  }
  /* systemd's form is always absolute; cgroupfs keeps runc's relative
   * paths (and the id for an empty one) below our own cgroup. */
  if (ctx->systemd_cgroup) {
    if (oci_cgroups_path(id, spec->cgroups_path, true, &path, err) < 0)
      goto out;
  } else {
    path = xstrdup(spec->cgroups_path && spec->cgroups_path[0]
                       ? spec->cgroups_path : id);
  }
  if (read_self_cgroup(&self, err) < 0 ||
      vc_host_cgroup_resolve(&h, path, self, cg, err) < 0) {
    vc_error_wrap(err, "linux.cgroupsPath");
    goto out;
  }
  ret = 0;
out:
  vc_cgroup_hierarchies_free(&h);
  return ret;
}

/* A decimal annotation: 0 when absent; "" or junk is an error. */
static int annotation_number(const struct oci_spec *spec, const char *key,
                             long long *out, vc_error **err) {
  const char *v = oci_spec_annotation(spec, key);
  if (v == NULL)
    return 0;
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (v[0] == '\0' || *end != '\0' || errno != 0)
    return vc_error_set(err, 0, "annotations[\"%s\"]: \"%s\" is not a number",
                        key, v);
  *out = n;
  return 0;
}

static long long resource(yajl_val res, const char *group, const char *key) {
  yajl_val g = res ? vc_json_get_object(res, group) : NULL;
  return g ? vc_json_get_int(g, key) : 0;
}

int vc_placement_vm_limits(const struct oci_spec *spec, unsigned overhead_mib,
                           struct vc_cgroup_limits *l, vc_error **err) {
  memset(l, 0, sizeof(*l));
  yajl_val res = NULL;
  if (spec->resources_json != NULL &&
      vc_json_parse(spec->resources_json, &res, err) < 0)
    return vc_error_wrap(err, "linux.resources");
  long long memory = resource(res, "memory", "limit");
  long long quota = resource(res, "cpu", "quota");
  long long period = resource(res, "cpu", "period");
  long long shares = resource(res, "cpu", "shares");
  yajl_tree_free(res);
  const struct {
    const char *key;
    long long *value;
  } pod[] = {{"io.kubernetes.cri.sandbox-memory", &memory},
             {"io.kubernetes.cri.sandbox-cpu-quota", &quota},
             {"io.kubernetes.cri.sandbox-cpu-period", &period},
             {"io.kubernetes.cri.sandbox-cpu-shares", &shares}};
  for (size_t i = 0; i < N_ELEMS(pod); i++) {
    long long v = 0;
    if (annotation_number(spec, pod[i].key, &v, err) < 0)
      return -1;
    if (v > 0)
      *pod[i].value = v;
  }
  /* -1 and 0 mean "no limit", as with runc. */
  if (memory > 0)
    l->memory_bytes = (uint64_t)memory + (uint64_t)overhead_mib * 1024 * 1024;
  if (quota > 0) {
    l->cpu_quota_us = quota;
    l->cpu_period_us = period > 0 ? (uint64_t)period : 0;
  }
  if (shares > 0)
    l->cpu_shares = (uint64_t)shares;
  return 0;
}

int vc_placement_enter(struct vc_host_cgroup *cg,
                       const struct vc_cgroup_limits *limits, vc_error **err) {
  if (cg->n_dirs == 0)
    return 0;
  if (vc_host_cgroup_create(cg, err) < 0 ||
      (limits != NULL && vc_host_cgroup_set_limits(cg, limits, err) < 0))
    return vc_error_wrap(err, "[runtime] host_cgroups");
  if (cg->origin == NULL) {
    struct vc_cgroup_hierarchies h;
    cleanup_free char *self = NULL;
    struct vc_host_cgroup *origin = xcalloc(1, sizeof(*origin));
    int r = vc_cgroup_detect(VC_CGROUP_ROOT, &h, err) < 0 ||
                    read_self_cgroup(&self, err) < 0 ||
                    vc_host_cgroup_own(&h, self, origin, err) < 0
                ? -1 : 0;
    vc_cgroup_hierarchies_free(&h);
    if (r < 0) {
      vc_host_cgroup_free(origin);
      free(origin);
      return -1;
    }
    cg->origin = origin;
  }
  return vc_host_cgroup_enter(cg, getpid(), err);
}

int vc_placement_adopt(const struct vc_host_cgroup *cg, const pid_t *pids,
                       size_t n, vc_error **err) {
  for (size_t i = 0; i < n; i++) {
    if (pids[i] > 0 && vc_host_cgroup_enter(cg, pids[i], err) < 0)
      return vc_error_wrap(err, "[runtime] host_cgroups: move process %d",
                           (int)pids[i]);
  }
  return 0;
}

int vc_placement_join(const struct vc_host_cgroup *cg, vc_error **err) {
  if (vc_host_cgroup_enter(cg, getpid(), err) < 0)
    return vc_error_wrap(err, "[runtime] host_cgroups");
  return 0;
}

void vc_placement_leave(const struct vc_host_cgroup *cg) {
  if (cg->origin != NULL && cg->origin->n_dirs > 0) {
    cleanup_error vc_error *e = NULL;
    vc_host_cgroup_enter(cg->origin, getpid(), &e);
  }
}

int vc_placement_remove(const struct vc_host_cgroup *cg, vc_error **err) {
  if (cg->n_dirs == 0)
    return 0;
  vc_placement_leave(cg);
  /* Generous: a loaded host reaps exiting processes late. */
  return vc_host_cgroup_remove(cg, 10000, err);
}

void vc_placement_save_json(const struct vc_host_cgroup *cg, struct vc_jb *b) {
  if (cg->n_dirs == 0)
    return;
  vc_jb_key(b, "host_cgroup");
  vc_jb_open(b, '{');
  vc_jb_key(b, "dirs");
  vc_jb_strv(b, cg->dirs, cg->n_dirs);
  vc_jb_key(b, "made");
  vc_jb_strv(b, cg->made, cg->n_made);
  vc_jb_close(b, '}');
}

/* Only absolute paths below the cgroup root: state is ours, but delete
 * must never be pointed at another directory. */
static void load_list(yajl_val obj, const char *key, char ***list, size_t *n) {
  yajl_val a = obj ? vc_json_get_array(obj, key) : NULL;
  size_t len = a ? a->u.array.len : 0;
  for (size_t i = 0; i < len; i++) {
    yajl_val v = a->u.array.values[i];
    const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
    if (s == NULL || strncmp(s, VC_CGROUP_ROOT "/", strlen(VC_CGROUP_ROOT) + 1) != 0 ||
        strstr(s, "/..") != NULL)
      continue;
    *list = xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = xstrdup(s);
  }
}

void vc_placement_load_json(struct vc_host_cgroup *cg, yajl_val container) {
  memset(cg, 0, sizeof(*cg));
  yajl_val obj = vc_json_get_object(container, "host_cgroup");
  load_list(obj, "dirs", &cg->dirs, &cg->n_dirs);
  load_list(obj, "made", &cg->made, &cg->n_made);
}
