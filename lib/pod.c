#include "lib/pod.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/json_build.h"
#include "lib/host/process.h"
#include "lib/container.h"
#include "lib/state.h"
#include "lib/base/util.h"

static const struct {
  const char *type, *proc_name;
  bool joinable; /* from another container of the sandbox */
} ns_types[] = {
    {"pid", "pid", true},       {"network", "net", true},
    {"ipc", "ipc", true},       {"uts", "uts", true},
    {"cgroup", "cgroup", true}, {"mount", "mnt", false},
    {"user", "user", false},    {"time", "time", false},
};

const char *vc_pod_ns_proc_name(const char *type) {
  for (size_t i = 0; i < N_ELEMS(ns_types); i++)
    if (strcmp(type, ns_types[i].type) == 0)
      return ns_types[i].proc_name;
  return NULL;
}

static bool ns_joinable(const char *type) {
  for (size_t i = 0; i < N_ELEMS(ns_types); i++)
    if (strcmp(type, ns_types[i].type) == 0)
      return ns_types[i].joinable;
  return false;
}

bool vc_pod_proc_ns_path(const char *path, long *pid, const char **name) {
  static const char prefix[] = "/proc/";
  if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
    return false;
  const char *p = path + sizeof(prefix) - 1;
  if (*p < '1' || *p > '9')
    return false;
  char *end;
  errno = 0;
  long n = strtol(p, &end, 10);
  if (errno != 0 || n <= 0 || strncmp(end, "/ns/", 4) != 0 || end[4] == '\0' ||
      strchr(end + 4, '/') != NULL)
    return false;
  *pid = n;
  *name = end + 4;
  return true;
}

/* Loads each container under cfg's state root until match says stop;
 * returns 0 with *found loaded then, -1 when none matched. */
static int find_container(const struct vc_config *cfg,
                          bool (*match)(const struct vc_container *, const void *),
                          const void *arg, struct vc_container *found) {
  DIR *d = opendir(cfg->runtime.state_root);
  if (d == NULL)
    return -1;
  int ret = -1;
  for (struct dirent *de; ret < 0 && (de = readdir(d)) != NULL;) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    struct vc_container c = VC_CONTAINER_INIT;
    vc_error *e = NULL;
    if (vc_state_load(cfg, de->d_name, &c, &e) == 0 && match(&c, arg)) {
      *found = c;
      ret = 0;
    } else {
      vc_container_free(&c);
    }
    vc_error_free(&e);
  }
  closedir(d);
  return ret;
}

/* Its shim (the pid `state` reports) is *(long *)pid. */
static bool has_shim_pid(const struct vc_container *c, const void *pid) {
  return c->shim_pid == *(const long *)pid && vc_pid_is(c->shim_pid, c->dir);
}

/* A member of sandbox id whose process still runs (its shim lives). */
static bool is_live_member(const struct vc_container *c, const void *id) {
  return strcmp(c->sandbox_id, id) == 0 && strcmp(c->id, id) != 0 &&
         vc_pid_is(c->shim_pid, c->dir);
}

char *vc_pod_live_member(const struct vc_config *cfg, const char *sandbox_id) {
  struct vc_container member = VC_CONTAINER_INIT;
  if (find_container(cfg, is_live_member, sandbox_id, &member) < 0)
    return NULL;
  char *id = xstrdup(member.id);
  vc_container_free(&member);
  return id;
}

struct asks_scan {
  const char *sandbox_id, *except_id;
  struct vc_vm_ask *sum;
};

/* Adds up the asks of the sandbox's containers; never matches, so
 * find_container goes through them all. */
static bool add_ask(const struct vc_container *c, const void *arg) {
  const struct asks_scan *scan = arg;
  if (strcmp(c->sandbox_id, scan->sandbox_id) == 0 &&
      (scan->except_id == NULL || strcmp(c->id, scan->except_id) != 0)) {
    vc_vm_ask_add(scan->sum, &c->vm_ask);
  }
  return false;
}

void vc_pod_vm_asks(const struct vc_config *cfg, const char *sandbox_id,
                    const char *except_id, struct vc_vm_ask *sum) {
  *sum = (struct vc_vm_ask){0, 0, false, false};
  struct asks_scan scan = {sandbox_id, except_id, sum};
  struct vc_container none = VC_CONTAINER_INIT;
  find_container(cfg, add_ask, &scan, &none);
}

/* The annotations' sandbox: *type "sandbox", "container" or NULL. */
static int cri_annotations(const struct oci_spec *spec, const char *config_path,
                           const char **type, const char **sandbox_id,
                           vc_error **err) {
  static const struct {
    const char *type_key, *id_key;
  } engines[] = {
      {"io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id"},
      {"io.kubernetes.cri-o.ContainerType", "io.kubernetes.cri-o.SandboxID"},
  };
  *type = NULL;
  *sandbox_id = NULL;
  for (size_t i = 0; i < N_ELEMS(engines) && *type == NULL; i++) {
    const char *t = oci_spec_annotation(spec, engines[i].type_key);
    if (t == NULL)
      continue;
    if (strcmp(t, "sandbox") != 0 && strcmp(t, "container") != 0)
      return vc_error_set(err, 0, "%s: annotations[\"%s\"]: \"%s\" is neither "
                          "\"sandbox\" nor \"container\"", config_path,
                          engines[i].type_key, t);
    *type = t;
    if (strcmp(t, "container") == 0) {
      *sandbox_id = oci_spec_annotation(spec, engines[i].id_key);
      if (*sandbox_id == NULL || (*sandbox_id)[0] == '\0')
        return vc_error_set(err, 0, "%s: annotations[\"%s\"]: a pod container "
                            "needs the sandbox's id", config_path,
                            engines[i].id_key);
      if (!vc_id_valid(*sandbox_id)) {
        cleanup_free char *quoted = vc_json_quote(*sandbox_id);
        return vc_error_set(err, 0, "%s: annotations[\"%s\"]: %s is not a "
                            "valid container id", config_path,
                            engines[i].id_key, quoted);
      }
    }
  }
  return 0;
}

/* The sandbox's own container's path for a namespace type, to recognise
 * the same host path given to a member (CRI gives both the pod's netns). */
static bool same_path_as_sandbox(const struct vc_config *cfg,
                                 const char *sandbox_id, const char *type,
                                 const char *path) {
  struct vc_container owner = VC_CONTAINER_INIT;
  vc_error *e = NULL;
  bool same = false;
  struct oci_spec *spec = NULL;
  if (vc_state_load(cfg, sandbox_id, &owner, &e) == 0 &&
      vc_container_load_spec(&owner, &spec, &e) == 0) {
    for (size_t i = 0; i < spec->n_namespaces; i++)
      if (strcmp(spec->namespaces[i].type, type) == 0 &&
          spec->namespaces[i].path != NULL)
        same = strcmp(spec->namespaces[i].path, path) == 0;
  }
  oci_spec_free(spec);
  vc_error_free(&e);
  vc_container_free(&owner);
  return same;
}

static int check_netns(const char *path, const char *config_path, size_t i,
                       vc_error **err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "%s: linux.namespaces[%zu].path: open `%s`",
                        config_path, i, path);
  int type = ioctl(fd, NS_GET_NSTYPE);
  close(fd);
  if (type != CLONE_NEWNET)
    return vc_error_set(err, 0, "%s: linux.namespaces[%zu].path: `%s` is not "
                        "a network namespace", config_path, i, path);
  return 0;
}

int vc_pod_plan(const struct vc_config *cfg, const char *id,
                const struct oci_spec *spec, const char *config_path,
                struct vc_pod_plan *plan, vc_error **err) {
  memset(plan, 0, sizeof(*plan));
  const char *type, *annotated;
  if (cri_annotations(spec, config_path, &type, &annotated, err) < 0)
    return -1;
  if (annotated != NULL) {
    if (strcmp(annotated, id) == 0)
      return vc_error_set(err, 0, "%s: annotations: container `%s` names "
                          "itself as its sandbox", config_path, id);
    plan->sandbox_id = xstrdup(annotated);
  }
  struct vc_jb joins = {0};
  vc_jb_open(&joins, '{');
  bool any = false;
  size_t vm_netns_index = SIZE_MAX;
  int ret = -1;
  for (size_t i = 0; i < spec->n_namespaces; i++) {
    const struct oci_namespace *ns = &spec->namespaces[i];
    if (ns->path == NULL)
      continue;
    const char *want = vc_pod_ns_proc_name(ns->type), *name = NULL;
    long pid = 0;
    struct vc_container other = VC_CONTAINER_INIT;
    const char *target = NULL;
    if (!ns_joinable(ns->type)) {
      vc_error_set(err, 0, "%s: linux.namespaces[%zu].path: joining a %s "
                   "namespace by path is not supported in a VM sandbox",
                   config_path, i, ns->type);
      goto out;
    }
    if (vc_pod_proc_ns_path(ns->path, &pid, &name)) {
      if (want == NULL || strcmp(name, want) != 0) {
        vc_error_set(err, 0, "%s: linux.namespaces[%zu].path: `%s` does not "
                     "name a namespace of type %s", config_path, i, ns->path,
                     ns->type);
        goto out;
      }
      if (find_container(cfg, has_shim_pid, &pid, &other) == 0)
        target = other.id;
    } else if (plan->sandbox_id != NULL &&
               same_path_as_sandbox(cfg, plan->sandbox_id, ns->type, ns->path)) {
      target = plan->sandbox_id;
    }
    if (target == NULL && strcmp(ns->type, "network") == 0 &&
        (type == NULL || strcmp(type, "container") != 0)) {
      /* The VM's own, if the container boots one: checked below. */
      vm_netns_index = i;
      vc_container_free(&other);
      continue;
    }
    if (target == NULL) {
      vc_error_set(err, 0, "%s: linux.namespaces[%zu].path: `%s` is not a "
                   "namespace of a container in this sandbox; a container in "
                   "a VM cannot join a host namespace", config_path, i, ns->path);
      goto out;
    }
    const char *its_sandbox = other.sandbox_id ? other.sandbox_id : target;
    bool refused = true;
    if (type != NULL && strcmp(type, "sandbox") == 0) {
      vc_error_set(err, 0, "%s: linux.namespaces[%zu].path: a pod's sandbox "
                   "container cannot join container `%s`'s namespace",
                   config_path, i, target);
    } else if (plan->sandbox_id != NULL && strcmp(plan->sandbox_id, its_sandbox) != 0) {
      vc_error_set(err, 0, "%s: linux.namespaces[%zu].path: `%s` belongs to "
                   "container `%s` in sandbox `%s`, not in sandbox `%s`",
                   config_path, i, ns->path, target, its_sandbox, plan->sandbox_id);
    } else {
      if (plan->sandbox_id == NULL)
        plan->sandbox_id = xstrdup(its_sandbox);
      vc_jb_key(&joins, ns->type);
      vc_jb_str(&joins, target);
      any = true;
      refused = false;
    }
    vc_container_free(&other);
    if (refused)
      goto out;
  }
  if (vm_netns_index != SIZE_MAX) {
    const char *path = spec->namespaces[vm_netns_index].path;
    if (plan->sandbox_id != NULL) {
      vc_error_set(err, 0, "%s: linux.namespaces[%zu].path: `%s` is not a "
                   "namespace of a container in sandbox `%s`", config_path,
                   vm_netns_index, path, plan->sandbox_id);
      goto out;
    }
    if (check_netns(path, config_path, vm_netns_index, err) < 0)
      goto out;
    plan->vm_netns = xstrdup(path);
  }
  vc_jb_close(&joins, '}');
  if (any)
    plan->joins_json = vc_jb_take(&joins);
  ret = 0;
out:
  vc_jb_free(&joins);
  if (ret < 0)
    vc_pod_plan_free(plan);
  return ret;
}

void vc_pod_plan_free(struct vc_pod_plan *plan) {
  free(plan->sandbox_id);
  free(plan->joins_json);
  free(plan->vm_netns);
  memset(plan, 0, sizeof(*plan));
}
