#include "lib/state.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"
#include "lib/container.h"
#include "lib/placement.h"

static void save_container(const struct vc_container *c, struct vc_jb *b) {
  vc_jb_key(b, "containers");
  vc_jb_open(b, '{');
  vc_jb_key(b, c->id);
  vc_jb_open(b, '{');
  vc_jb_key(b, "bundle");
  vc_jb_str(b, c->bundle);
  vc_jb_key(b, "rootfs");
  vc_jb_str(b, c->rootfs);
  vc_jb_key(b, "cgroup_path");
  vc_jb_str(b, c->cgroup_path);
  vc_jb_key(b, "share");
  vc_jb_str(b, c->share_name);
  vc_jb_key(b, "created");
  vc_jb_str(b, c->created);
  vc_placement_save_json(&c->host_cgroup, b);
  vc_jb_key(b, "vm_ask");
  vc_jb_open(b, '{');
  vc_jb_key(b, "vcpus");
  vc_jb_uint(b, c->vm_ask.vcpus);
  vc_jb_key(b, "memory_mib");
  vc_jb_uint(b, c->vm_ask.memory_mib);
  vc_jb_close(b, '}');
  vc_jb_key(b, "process");
  vc_jb_open(b, '{');
  vc_jb_key(b, "pid"); /* the host process engines see: the shim */
  vc_jb_int(b, c->shim_pid);
  if (c->shim_start != 0) {
    vc_jb_key(b, "start_time");
    vc_jb_uint(b, c->shim_start);
  }
  vc_jb_close(b, '}');
  vc_jb_close(b, '}');
  vc_jb_close(b, '}');
}

int vc_state_save(const struct vc_container *c, vc_error **err) {
  bool owner = vc_container_owns_sandbox(c);
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "version");
  vc_jb_int(&b, VC_STATE_VERSION);
  vc_jb_key(&b, "sandbox");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "id");
  vc_jb_str(&b, c->sandbox_id);
  if (owner) {
    vc_jb_key(&b, "run_dir");
    vc_jb_str(&b, c->sandbox.run_dir);
  }
  if (c->sandbox.netns != NULL) {
    vc_jb_key(&b, "network_namespace");
    vc_jb_str(&b, c->sandbox.netns);
  }
  if (!owner) {
    vc_jb_key(&b, "vm_pid");
    vc_jb_int(&b, c->vm_pid);
  }
  vc_jb_close(&b, '}');
  if (owner)
    vc_sandbox_save_json(&c->sandbox, &b);
  save_container(c, &b);
  vc_jb_close(&b, '}');
  cleanup_free char *json = vc_jb_take(&b);
  cleanup_free char *path = xasprintf("%s/state.json", c->dir);
  return vc_write_file_atomic(path, json, strlen(json), 0600, err);
}

static int read_state(const char *dir, const char *id, yajl_val *tree,
                      long long *version, vc_error **err) {
  cleanup_free char *path = xasprintf("%s/state.json", dir);
  cleanup_free char *text = NULL;
  cleanup_error vc_error *rerr = NULL;
  if (vc_read_file(path, &text, NULL, &rerr) < 0) {
    int e = rerr->errnum;
    if (e == ENOENT) {
      vc_error_set(err, 0, "container `%s` does not exist", id);
      (*err)->errnum = ENOENT;
      return -1;
    }
    return vc_error_set(err, e, "read `%s`", path);
  }
  if (vc_json_parse(text, tree, err) < 0)
    return vc_error_wrap(err, "%s", path);
  *version = vc_json_get_int(*tree, "version");
  if (*version < VC_STATE_VERSION_OLDEST || *version > VC_STATE_VERSION) {
    yajl_tree_free(*tree);
    *tree = NULL;
    return vc_error_set(err, 0, "%s: state version %lld is not supported (this "
                        "vcrun reads versions %d to %d)", path, *version,
                        VC_STATE_VERSION_OLDEST, VC_STATE_VERSION);
  }
  return 0;
}

/* Version 2 kept the sandbox's sockets, logs and share in its state
 * directory. */
static char *run_dir_of(long long version, yajl_val sandbox,
                        const char *state_dir) {
  char *run_dir = version == 2 ? NULL : vc_json_strdup(sandbox, "run_dir");
  return run_dir != NULL ? run_dir : xstrdup(state_dir);
}

/* Version 2 kept the container's creation time in the sandbox object. */
static char *created_of(long long version, yajl_val sandbox, yajl_val ctr) {
  if (version == 2)
    return vc_json_strdup(sandbox, "created");
  return vc_json_strdup(ctr, "created");
}

int vc_state_load(const struct vc_config *cfg, const char *id,
                  struct vc_container *c, vc_error **err) {
  c->id = xstrdup(id);
  c->dir = xasprintf("%s/%s", cfg->runtime.state_root, id);
  c->sandbox.cfg = cfg;
  cleanup_yajl yajl_val v = NULL;
  cleanup_yajl yajl_val vm_tree = NULL;
  long long version = 0, vm_version = 0;
  cleanup_free char *where = NULL;
  if (read_state(c->dir, id, &v, &version, err) < 0)
    return -1;
  yajl_val sandbox = vc_json_get_object(v, "sandbox");
  yajl_val containers = vc_json_get_object(v, "containers");
  yajl_val ctr = containers ? vc_json_get_object(containers, id) : NULL;
  yajl_val process = ctr ? vc_json_get_object(ctr, "process") : NULL;
  const char *sandbox_id = sandbox ? vc_json_get_str(sandbox, "id") : NULL;
  if (ctr == NULL || !vc_id_valid(sandbox_id))
    return vc_error_set(err, 0, "%s/state.json: sandbox or container `%s` "
                        "missing", c->dir, id);
  c->sandbox_id = xstrdup(sandbox_id);
  c->created = created_of(version, sandbox, ctr);
  c->bundle = vc_json_strdup(ctr, "bundle");
  c->rootfs = vc_json_strdup(ctr, "rootfs");
  c->cgroup_path = vc_json_strdup(ctr, "cgroup_path");
  vc_placement_load_json(&c->host_cgroup, ctr);
  yajl_val ask = vc_json_get_object(ctr, "vm_ask");
  long long vcpus = vc_json_get_int(ask, "vcpus");
  long long mib = vc_json_get_int(ask, "memory_mib");
  /* A state is ours, but a bad number must not size a VM: none. */
  c->vm_ask.vcpus = vcpus > 0 && vcpus <= 4096 ? (unsigned)vcpus : 0;
  c->vm_ask.memory_mib = mib > 0 && mib <= UINT32_MAX / 2 ? (unsigned)mib : 0;
  /* States saved before share names were per create shared under the id. */
  c->share_name = vc_json_strdup(ctr, "share");
  if (c->share_name == NULL)
    c->share_name = xstrdup(id);
  c->shim_pid = process ? (pid_t)vc_json_get_int(process, "pid") : 0;
  c->shim_start = process ? (unsigned long long)vc_json_get_int(process, "start_time") : 0;
  c->vm_pid = (pid_t)vc_json_get_int(sandbox, "vm_pid");
  c->sandbox.id = xstrdup(sandbox_id);
  c->sandbox.dir = xasprintf("%s/%s", cfg->runtime.state_root, sandbox_id);
  c->sandbox.netns = vc_json_strdup(sandbox, "network_namespace");
  if (vc_container_owns_sandbox(c)) {
    c->sandbox.run_dir = run_dir_of(version, sandbox, c->dir);
    where = xasprintf("%s/state.json", c->dir);
    return vc_sandbox_load_json(&c->sandbox, v, where, err);
  }
  /* A member: the VM is its sandbox's.  Gone with it, the member is just
   * stopped (no ops), and delete still cleans it up. */
  cleanup_error vc_error *serr = NULL;
  where = xasprintf("%s/state.json", c->sandbox.dir);
  if (read_state(c->sandbox.dir, sandbox_id, &vm_tree, &vm_version, &serr) < 0 ||
      (c->sandbox.run_dir = run_dir_of(vm_version,
                                       vc_json_get_object(vm_tree, "sandbox"),
                                       c->sandbox.dir)) == NULL ||
      vc_sandbox_load_json(&c->sandbox, vm_tree, where, &serr) < 0 ||
      c->sandbox.vm.pid != c->vm_pid)
    c->sandbox.vm.ops = NULL;
  return 0;
}
