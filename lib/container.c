#include "lib/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "oci/hooks.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"
#include "lib/factory.h"
#include "lib/host/process.h"
#include "lib/host/terminal.h"
#include "lib/placement.h"
#include "lib/pod.h"
#include "lib/relay.h"
#include "lib/sandbox_net.h"
#include "lib/share.h"
#include "lib/shim.h"
#include "lib/sizing.h"
#include "lib/state.h"
#include "oci/cgroups_path.h"
#include "oci/spec_check.h"
#include "oci/state.h"

#define VC_OCI_VERSION "1.0.2"

static void log_msg(const struct vc_context *ctx, const char *level,
                    const char *msg) {
  if (ctx->log != NULL)
    ctx->log(ctx->log_arg, level, msg);
}

/* ---- loading and state ------------------------------------------------- */

bool vc_container_owns_sandbox(const struct vc_container *c) {
  return c->sandbox_id == NULL || strcmp(c->sandbox_id, c->id) == 0;
}

/* runc 1.1's answers: its id pattern, and for an id too long to be a
 * directory name, what its lstat of the state directory says. */
static int check_id(const struct vc_context *ctx, const char *id,
                    vc_error **err) {
  if (id == NULL || id[0] == '\0')
    return vc_error_set(err, 0, "container id cannot be empty");
  if (strlen(id) > VC_ID_MAX) {
    vc_error_set(err, 0, "lstat %s/%s: file name too long",
                 ctx->cfg->runtime.state_root, id);
    (*err)->errnum = ENAMETOOLONG;
    return -1;
  }
  if (!vc_id_valid(id)) {
    /* runc's words, and the id quoted as a JSON string: an id with a
     * newline or an escape sequence must not break the one-line error or
     * drive the terminal. */
    cleanup_free char *quoted = vc_json_quote(id);
    return vc_error_set(err, 0, "invalid container ID format: %s", quoted);
  }
  return 0;
}

int vc_container_load(const struct vc_context *ctx, const char *id, bool lock,
                      struct vc_container *c, vc_error **err) {
  if (check_id(ctx, id, err) < 0 || vc_state_load(ctx->cfg, id, c, err) < 0)
    return -1;
  c->sandbox.debug = ctx->debug;
  return lock ? vc_dir_lock(c->dir, &c->lock_fd, err) : 0;
}

void vc_container_free(struct vc_container *c) {
  if (c->lock_fd >= 0)
    close(c->lock_fd);
  free(c->id);
  free(c->dir);
  free(c->bundle);
  free(c->rootfs);
  free(c->cgroup_path);
  free(c->created);
  free(c->share_name);
  free(c->sandbox_id);
  vc_host_cgroup_free(&c->host_cgroup);
  vc_sandbox_free(&c->sandbox);
  memset(c, 0, sizeof(*c));
  c->lock_fd = -1;
}

char *vc_container_config_path(const struct vc_container *c) {
  char *saved = xasprintf("%s/config.json", c->dir);
  if (access(saved, F_OK) == 0 || c->bundle == NULL)
    return saved;
  free(saved);
  return xasprintf("%s/config.json", c->bundle);
}

int vc_container_load_spec(const struct vc_container *c, struct oci_spec **spec,
                           vc_error **err) {
  cleanup_free char *path = vc_container_config_path(c);
  return oci_spec_load_file(path, spec, err);
}

/* The spec for hooks at start and delete, or NULL when it cannot be read
 * any more (then there are no hooks to run). */
static struct oci_spec *spec_or_null(const struct vc_container *c) {
  struct oci_spec *spec = NULL;
  vc_error *e = NULL;
  if (vc_container_load_spec(c, &spec, &e) < 0)
    spec = NULL;
  vc_error_free(&e);
  return spec;
}

/* The host process recorded for c still runs: a shim names the state
 * directory on its command line; `run` in the foreground is known by its
 * start time. */
static bool host_process_runs(const struct vc_container *c) {
  if (c->shim_pid <= 0)
    return false;
  if (c->shim_start != 0)
    return vc_pid_start_time(c->shim_pid) == c->shim_start;
  return vc_pid_is(c->shim_pid, c->dir);
}

const char *vc_container_status(const struct vc_container *c) {
  if (!vc_sandbox_alive(&c->sandbox))
    return "stopped";
  struct vc_msg_state_result state = {0};
  struct vc_msg_container by_id = {c->id};
  vc_error *err = NULL;
  const char *status = "stopped";
  if (vc_sandbox_call(&c->sandbox, VC_AGENT_STATE_CONTAINER, &by_id, &state,
                      &err) == 0) {
    static const char *const known[] = {"created", "running", "paused", "stopped"};
    for (size_t i = 0; i < N_ELEMS(known); i++)
      if (strcmp(state.status, known[i]) == 0)
        status = known[i];
  }
  vc_error_free(&err);
  vc_agent_result_free(VC_AGENT_STATE_CONTAINER, &state);
  /* The shim stands for the init on the host: once it is gone the agent
   * kills the init (its stdio connection closed), and until the guest has
   * done so the container is already as good as stopped.  Never "running"
   * with no pid. */
  if (strcmp(status, "stopped") != 0 && c->shim_pid > 0 &&
      !host_process_runs(c))
    status = "stopped";
  return status;
}

pid_t vc_container_pid(const struct vc_container *c, const char *status) {
  if (strcmp(status, "stopped") == 0)
    return 0;
  return host_process_runs(c) ? c->shim_pid : 0;
}

char *vc_container_state_json(const struct vc_container *c, const char *status,
                              bool annotations) {
  /* From config.json (create's copy), as the spec asks state to report. */
  cleanup_spec struct oci_spec *spec = annotations ? spec_or_null(c) : NULL;
  /* vcrun's own extension (docs/networking.md): the pod network the VM
   * got, when the sandbox has one; in state's full document only. */
  cleanup_free char *extension = NULL;
  if (annotations && c->sandbox.net != NULL) {
    struct vc_jb b = {0};
    vc_jb_open(&b, '{');
    vc_jb_key(&b, "network");
    vc_sandbox_net_state_json(c->sandbox.net, &b);
    vc_jb_close(&b, '}');
    extension = vc_jb_take(&b);
  }
  struct oci_state st = {
      .oci_version = VC_OCI_VERSION,
      .id = c->id,
      .status = status,
      .pid = vc_container_pid(c, status),
      .bundle = c->bundle,
      .rootfs = c->rootfs,
      .created = c->created,
      .owner = "",
      .with_annotations = annotations,
      .annotations = spec ? spec->annotations : NULL,
      .n_annotations = spec ? spec->n_annotations : 0,
      .vcrun = extension,
  };
  return oci_state_json(&st);
}

int vc_container_list(const struct vc_context *ctx, char ***ids, size_t *n,
                      vc_error **err) {
  *ids = NULL;
  *n = 0;
  DIR *d = opendir(ctx->cfg->runtime.state_root);
  if (d == NULL)
    return errno == ENOENT ? 0
                           : vc_error_set(err, errno, "open `%s`",
                                          ctx->cfg->runtime.state_root);
  size_t cap = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.' || !vc_id_valid(de->d_name))
      continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      *ids = xrealloc(*ids, cap * sizeof(**ids));
    }
    (*ids)[(*n)++] = xstrdup(de->d_name);
  }
  closedir(d);
  qsort(*ids, *n, sizeof(**ids), vc_strcmp_ptr);
  return 0;
}

/* ---- hooks on the host --------------------------------------------------- */

static int run_host_hooks(const struct vc_container *c,
                          const struct oci_hook *hooks, size_t n,
                          const char *status, vc_error **err) {
  if (n == 0)
    return 0;
  cleanup_free char *state = vc_container_state_json(c, status, true);
  return vc_hooks_run(hooks, n, state, err);
}

/* prestart (deprecated) then createRuntime, where runc runs both: the
 * container exists, create has not returned; state says "creating". */
static int create_hooks(const struct vc_container *c, const struct oci_spec *spec,
                        vc_error **err) {
  if (run_host_hooks(c, spec->hooks.prestart, spec->hooks.n_prestart,
                     "creating", err) < 0)
    return -1;
  return run_host_hooks(c, spec->hooks.create_runtime,
                        spec->hooks.n_create_runtime, "creating", err);
}

static int persist_container(void *arg, vc_error **err);

/* The hot path of lib/sandbox_net.h, once the hooks that may fill the
 * pod's namespace have run: scan it, attach, hot-plug the NICs into the
 * running VM and configure them, all before the container's init starts.
 * The attachments are recorded in state first, so destroy undoes them. */
static int network_after_hooks(struct vc_container *c, enum vc_net_model model,
                               enum vc_sandbox_net_mode mode, vc_error **err) {
  if (mode != VC_SANDBOX_NET_HOT || !vc_container_owns_sandbox(c))
    return 0;
  struct vc_sandbox *sb = &c->sandbox;
  if (vc_sandbox_net_scan(sb, model, err) < 0 ||
      vc_sandbox_net_attach(sb, persist_container, c, err) < 0)
    return -1;
  int r = vc_sandbox_net_hotplug(sb, err);
  vc_sandbox_net_close_fds(sb);
  if (r < 0)
    return -1;
  return vc_sandbox_net_configure(sb, err);
}

/* poststop, once the container is gone: each failure is a warning and the
 * remaining hooks still run (runtime.md). */
static void poststop_hooks(const struct vc_context *ctx,
                           const struct vc_container *c,
                           const struct oci_spec *spec) {
  if (spec == NULL || spec->hooks.n_poststop == 0)
    return;
  cleanup_free char *state = vc_container_state_json(c, "stopped", true);
  for (size_t i = 0; i < spec->hooks.n_poststop; i++) {
    vc_error *e = NULL;
    if (vc_hook_run(&spec->hooks.poststop[i], i, state, &e) < 0)
      log_msg(ctx, "warning", e->msg);
    vc_error_free(&e);
  }
}

/* ---- create -------------------------------------------------------------- */

int vc_check_lsm_labels(const struct vc_context *ctx,
                        const char *apparmor_profile, const char *selinux_label,
                        const char *mount_label, const char *where,
                        const char *field_prefix, vc_error **err) {
  const struct {
    const char *prefix, *field, *value, *lsm;
  } labels[] = {{field_prefix, "apparmorProfile", apparmor_profile, "AppArmor"},
                {field_prefix, "selinuxLabel", selinux_label, "SELinux"},
                {"linux.", "mountLabel", mount_label, "SELinux"}};
  bool fatal = strcmp(ctx->cfg->runtime.lsm_labels, "error") == 0;
  for (size_t i = 0; i < N_ELEMS(labels); i++) {
    if (labels[i].value == NULL || labels[i].value[0] == '\0')
      continue;
    cleanup_free char *msg = xasprintf(
        "%s: %s%s \"%s\" is not applied: the guest kernel has no %s%s", where,
        labels[i].prefix, labels[i].field, labels[i].value, labels[i].lsm,
        fatal ? " ([runtime] lsm_labels = \"error\")" : "");
    if (fatal)
      return vc_error_set(err, 0, "%s", msg);
    log_msg(ctx, "warning", msg);
  }
  return 0;
}

static char *now_rfc3339(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

/* What create learns from the bundle before anything is started. */
struct create_plan {
  struct oci_spec *spec;
  char *config_text;
  struct vc_pod_plan pod;
  struct vc_cgroup_limits vm_limits; /* its VM's host cgroup's, if it boots one */
  /* How the pod network reaches a VM the container boots: */
  enum vc_sandbox_net_mode net_mode;
  enum vc_net_model net_model;
  /* NICs can be hot-plugged (q35 with root ports): what a VM from the
   * factory needs to get the pod network. */
  bool can_hotplug;
};

static void create_plan_free(struct create_plan *p) {
  oci_spec_free(p->spec);
  free(p->config_text);
  vc_pod_plan_free(&p->pod);
}

/* The CreateContainer request for c as plan describes it. */
static struct vc_msg_create_container create_params(const struct vc_container *c,
                                                    const struct create_plan *plan,
                                                    uint32_t stdio_stream) {
  return (struct vc_msg_create_container){
      .id = c->id,
      .cgroup = c->cgroup_path,
      .rootfs_tag = VC_ROOTFS_TAG,
      .bundle = c->bundle, /* for the state given to guest hooks */
      .spec = plan->config_text,
      .join_namespaces = plan->pod.joins_json,
      .vm_network_namespace = plan->pod.vm_netns != NULL,
      .vm_network = plan->pod.sandbox_id == NULL &&
                    plan->net_mode != VC_SANDBOX_NET_NONE,
      .stdio_stream = stdio_stream,
      .share_name = c->share_name,
  };
}

/* A config.json whose CreateContainer request would not fit in one frame
 * is refused before anything boots, naming the file. */
static int check_request_size(const struct vc_container *c,
                              const struct create_plan *plan,
                              const char *config_path, vc_error **err) {
  struct vc_msg_create_container params = create_params(c, plan, 0);
  cleanup_free char *request =
      vc_proto_encode_request(VC_AGENT_CREATE_CONTAINER, &params);
  size_t len = strlen(request);
  if (len > VC_FRAME_MAX)
    return vc_error_set(err, EFBIG, "%s: %zu bytes (%zu in the request to the "
                        "guest agent) is more than the %u bytes the agent "
                        "protocol carries in one message", config_path,
                        strlen(plan->config_text), len, VC_FRAME_MAX);
  return 0;
}

/* Reads and checks the bundle (config.json, rootfs, bind sources, the pod
 * it belongs to) into c and plan: every error here comes before anything
 * is started, and names config.json and the field. */
static int prepare(const struct vc_context *ctx, const char *id,
                   const char *bundle, struct vc_container *c,
                   struct create_plan *plan, vc_error **err) {
  if (check_id(ctx, id, err) < 0)
    return -1;
  c->bundle = realpath(bundle, NULL);
  if (c->bundle == NULL)
    return vc_error_set(err, errno, "bundle `%s`", bundle);
  cleanup_free char *config_path = xasprintf("%s/config.json", c->bundle);
  if (vc_read_file(config_path, &plan->config_text, NULL, err) < 0 ||
      oci_spec_parse(plan->config_text, config_path, &plan->spec, err) < 0)
    return -1;
  const struct oci_spec *spec = plan->spec;
  if (spec->process == NULL)
    return vc_error_set(err, 0, "%s: process: missing", config_path);
  /* Names the guest would refuse fail here, before anything is started. */
  if (oci_spec_check(spec, config_path, err) < 0)
    return -1;
  if (oci_cgroups_path(id, spec->cgroups_path, ctx->systemd_cgroup,
                       &c->cgroup_path, err) < 0)
    return vc_error_wrap(err, "%s", config_path);
  if (vc_vm_ask_for(spec->resources_json, config_path, &c->vm_ask, err) < 0)
    return -1;
  if (vc_placement_plan(ctx, id, spec, &c->host_cgroup, err) < 0 ||
      vc_placement_vm_limits(spec, ctx->cfg->runtime.host_cgroup_overhead_mib,
                             &plan->vm_limits, err) < 0)
    return vc_error_wrap(err, "%s", config_path);
  if (vc_check_lsm_labels(ctx, spec->process->apparmor_profile,
                          spec->process->selinux_label, spec->mount_label,
                          config_path, "process.", err) < 0)
    return -1;
  cleanup_free char *joined =
      spec->root_path[0] == '/' ? xstrdup(spec->root_path)
                                : xasprintf("%s/%s", c->bundle, spec->root_path);
  c->rootfs = realpath(joined, NULL);
  if (c->rootfs == NULL)
    return vc_error_set(err, errno, "%s: root.path `%s`", config_path, joined);
  if (vc_share_check_rootfs(joined, c->rootfs, config_path, err) < 0 ||
      vc_share_check_sources(spec, c->bundle, config_path, err) < 0 ||
      vc_pod_plan(ctx->cfg, id, spec, config_path, &plan->pod, err) < 0)
    return -1;
  const struct vc_hypervisor_config *hv = &ctx->cfg->hypervisor;
  plan->can_hotplug =
      strcmp(hv->machine_type, "q35") == 0 && hv->pcie_root_ports > 0;
  plan->net_mode = vc_sandbox_net_mode(
      plan->pod.vm_netns, ctx->cfg->network.model, plan->can_hotplug,
      spec->hooks.n_prestart + spec->hooks.n_create_runtime > 0);
  int model = vc_net_model_parse(ctx->cfg->network.model);
  plan->net_model = model < 0 ? VC_NET_MODEL_NONE : (enum vc_net_model)model;
  c->id = xstrdup(id);
  c->dir = xasprintf("%s/%s", ctx->cfg->runtime.state_root, id);
  c->created = now_rfc3339();
  cleanup_free char *suffix = vc_random_name(8);
  c->share_name = xasprintf("%.*s-%s", VC_ID_MAX - 9, id, suffix);
  return check_request_size(c, plan, config_path, err);
}

static int make_state_dir(const struct vc_context *ctx,
                          const struct vc_container *c, vc_error **err) {
  if (vc_mkdir_p(ctx->cfg->runtime.state_root, 0711, err) < 0)
    return -1;
  if (mkdir(c->dir, 0700) == 0)
    return 0;
  if (errno == EEXIST)
    return vc_error_set(err, 0, "container with id `%s` already exists", c->id);
  return vc_error_set(err, errno, "create state directory `%s`", c->dir);
}

static int persist_container(void *arg, vc_error **err) {
  return vc_state_save(arg, err);
}

/* A VM the container did not boot (claimed or restored) runs outside the
 * pod's network namespace and gets its NICs by hot-plug: the tap is made
 * in the namespace and its fd handed to QEMU (vmm/qemu_net.h). */
static bool factory_network_fits(const struct create_plan *plan) {
  return plan->net_mode == VC_SANDBOX_NET_NONE || plan->can_hotplug;
}

static const char no_hotplug_reason[] =
    "the pod network needs NIC hot-plug, which this machine has not "
    "(q35 with pcie_root_ports)";

/* A ready VM from the factory's pool ([factory] enable, lib/factory.h),
 * adopted as c's sandbox and saved in its state; the rootfs then goes into
 * its share as a pod member's does.  1: claimed, 0: none (the reason at
 * debug level: c boots its own), -1: failed (nothing left running).
 * The caller moves it into c's host cgroup, grows it to what c asks and
 * gives it the pod network. */
static int claim_pooled(const struct vc_context *ctx, struct vc_container *c,
                        const struct create_plan *plan, vc_error **err) {
  if (!ctx->cfg->factory.enable)
    return 0;
  cleanup_free char *why = NULL;
  int r = 0;
  if (!factory_network_fits(plan))
    why = xstrdup(no_hotplug_reason);
  else
    r = vc_factory_claim(&c->sandbox, persist_container, c, &why, err);
  if (ctx->debug && why != NULL) {
    /* With a template, restore_template says what happens next. */
    bool boots = r != 1 && !ctx->cfg->factory.template_vm;
    cleanup_free char *msg = xasprintf("factory: %s%s", why,
                                       boots ? "; booting a VM" : "");
    log_msg(ctx, "debug", msg);
  }
  if (r != 1)
    return r;
  cleanup_free char *share = vc_share_dir(c->sandbox.run_dir);
  if (vc_share_add(share, c->share_name, c->rootfs, c->bundle, plan->spec,
                   err) < 0) {
    vc_error *e = NULL;
    vc_sandbox_stop(&c->sandbox, &e);
    vc_error_free(&e);
    return -1;
  }
  return 1;
}

/* No pooled VM: a clone of the factory's template, when init built one
 * (lib/factory.h), restored into c's readied sandbox and saved.  1:
 * restored, 0: no template (boot; the reason at debug level), -1: failed
 * (nothing left running). */
static int restore_template(const struct vc_context *ctx, struct vc_container *c,
                            const struct create_plan *plan, vc_error **err) {
  if (!ctx->cfg->factory.enable)
    return 0;
  if (!factory_network_fits(plan)) {
    if (ctx->debug)
      log_msg(ctx, "debug", "factory: no template clone: the pod network "
              "needs NIC hot-plug; booting a VM");
    return 0;
  }
  cleanup_free char *template_state = NULL, *template_ram = NULL, *why = NULL;
  vc_error *terr = NULL;
  if (vc_factory_template_copy(ctx->cfg, &template_state, &template_ram, &why,
                               &terr) < 0) {
    free(why);
    why = xasprintf("copy of the template failed (%s)", terr->msg);
    vc_error_free(&terr);
  }
  if (ctx->debug && why != NULL) {
    cleanup_free char *msg = xasprintf("factory: %s%s", why,
                                       template_ram ? "" : "; booting a VM");
    log_msg(ctx, "debug", msg);
  }
  if (template_ram == NULL)
    return 0;
  struct vc_sandbox *sb = &c->sandbox;
  sb->vm.ram_file = template_ram;
  sb->vm.vhost_user_later = true;
  int r = vc_sandbox_restore(sb, template_state, err);
  unlink(template_ram); /* QEMU has it mapped */
  sb->vm.ram_file = NULL;
  if (r == 0 && (r = vc_state_save(c, err)) < 0) {
    vc_error *e = NULL;
    vc_sandbox_stop(sb, &e);
    vc_error_free(&e);
  }
  return r < 0 ? -1 : 1;
}

/* The cold path's NICs into a VM the container did not boot (claimed from
 * the pool or restored from the template): the scanned links attached,
 * then hot-plugged at once, as nothing may change the
 * namespace any more; the hot path waits for the hooks as with a boot
 * (network_after_hooks).  The attachments are in state before they are
 * made, so a failure here is undone by the caller's stop. */
static int network_into_running_vm(struct vc_container *c,
                                   const struct create_plan *plan,
                                   vc_error **err) {
  if (plan->net_mode != VC_SANDBOX_NET_COLD)
    return 0;
  struct vc_sandbox *sb = &c->sandbox;
  if (vc_sandbox_net_attach(sb, persist_container, c, err) < 0)
    return -1;
  int r = vc_sandbox_net_hotplug(sb, err);
  vc_sandbox_net_close_fds(sb);
  return r;
}

/* A VM c did not boot (claimed from the pool or restored from the
 * template) has the base size: it grows to what c asks (lib/sizing.h). */
static int grow_for_container(const struct vc_context *ctx,
                              struct vc_container *c, vc_error **err) {
  const struct vc_hypervisor_config *hv = &ctx->cfg->hypervisor;
  struct vc_host_size host;
  struct vc_vm_size size;
  vc_host_size(&host);
  vc_vm_size_of(hv, &host, &c->vm_ask, &size);
  if (size.vcpus == hv->vcpus && size.memory_mib == hv->memory_mib)
    return 0;
  return vc_sandbox_resize(&c->sandbox, &size, NULL, err);
}

/* Boots c's own sandbox.  The state is saved before anything starts and
 * again once the VM and its helpers run, so a kill -9 at any point leaves
 * a state delete --force can load; what started in between is found by
 * delete --force's sweep of the processes that name the directories. */
static int boot_sandbox(const struct vc_context *ctx, struct vc_container *c,
                        const struct create_plan *plan, vc_error **err) {
  struct vc_sandbox *sb = &c->sandbox;
  c->sandbox_id = xstrdup(c->id);
  sb->id = xstrdup(c->id);
  sb->dir = xstrdup(c->dir);
  sb->cfg = ctx->cfg;
  sb->debug = ctx->debug;
  sb->netns = plan->pod.vm_netns ? xstrdup(plan->pod.vm_netns) : NULL;
  /* Nothing can change the pod's namespace any more (no hook, or a
   * machine that cannot hot-plug): a link that cannot be mirrored fails
   * before a VM is claimed or started. */
  if (plan->net_mode == VC_SANDBOX_NET_COLD &&
      vc_sandbox_net_scan(sb, plan->net_model, err) < 0)
    return -1;
  int claimed = claim_pooled(ctx, c, plan, err);
  if (claimed < 0)
    return -1;
  if (claimed == 1) {
    /* The claimed VM's processes join the container's host cgroup, with
     * the limits a booted VM gets; so does this process (the shim). */
    pid_t pids[] = {sb->vm.pid, sb->vm.virtiofsd_pid, sb->vm.vsock_backend_pid};
    if (vc_placement_enter(&c->host_cgroup, &plan->vm_limits, err) < 0 ||
        vc_state_save(c, err) < 0 ||
        vc_placement_adopt(&c->host_cgroup, pids, N_ELEMS(pids), err) < 0 ||
        grow_for_container(ctx, c, err) < 0 ||
        network_into_running_vm(c, plan, err) < 0)
      return -1;
    return sb->net != NULL ? vc_sandbox_net_configure(sb, err) : 0;
  }
  if (vc_sandbox_init(sb, err) < 0)
    return -1;
  /* Sized for what the container asks (lib/sizing.h). */
  struct vc_host_size host;
  struct vc_vm_size size;
  vc_host_size(&host);
  vc_vm_size_of(&ctx->cfg->hypervisor, &host, &c->vm_ask, &size);
  sb->vm.vcpus = size.vcpus;
  sb->vm.memory_mib = size.memory_mib;
  /* Saved with the host cgroup before it is made: delete --force finds it. */
  if (vc_state_save(c, err) < 0 ||
      vc_placement_enter(&c->host_cgroup, &plan->vm_limits, err) < 0 ||
      vc_state_save(c, err) < 0)
    return -1;
  cleanup_free char *share = vc_share_dir(sb->run_dir);
  if (vc_share_create(share, err) < 0 ||
      vc_share_add(share, c->share_name, c->rootfs, c->bundle, plan->spec,
                   err) < 0) {
    vc_error *e = NULL;
    vc_share_teardown(share, &e);
    vc_error_free(&e);
    return -1;
  }
  /* A clone of the factory's template starts at the template's size (the
   * base) and grows to what c asks, as a claimed VM does. */
  sb->vm.vcpus = 0;
  sb->vm.memory_mib = 0;
  int restored = restore_template(ctx, c, plan, err);
  if (restored < 0)
    return -1;
  if (restored == 1 && (grow_for_container(ctx, c, err) < 0 ||
                        network_into_running_vm(c, plan, err) < 0))
    return -1;
  if (restored == 0) {
    sb->vm.vcpus = size.vcpus;
    sb->vm.memory_mib = size.memory_mib;
    /* A booted VM gets the NICs on its command line. */
    if (plan->net_mode == VC_SANDBOX_NET_COLD) {
      if (vc_sandbox_net_attach(sb, persist_container, c, err) < 0)
        return -1;
      vc_sandbox_net_cold(sb);
    }
    if (vc_sandbox_boot(sb, persist_container, c, err) < 0)
      return -1;
  }
  /* Before CreateContainer, so that the container's init sees its NICs. */
  return sb->net != NULL ? vc_sandbox_net_configure(sb, err) : 0;
}

/* Sizes sb's running VM for its containers: the base plus what each asks,
 * with id's ask taken as *ask (NULL: id leaves the pod).  Called with the
 * sandbox locked. */
static int resize_for_pod(const struct vc_context *ctx, struct vc_sandbox *sb,
                          const char *id, const struct vc_vm_ask *ask,
                          vc_error **err) {
  struct vc_vm_ask sum;
  vc_pod_vm_asks(ctx->cfg, sb->id, id, &sum);
  if (ask != NULL)
    vc_vm_ask_add(&sum, ask);
  struct vc_host_size host;
  struct vc_vm_size size, now;
  vc_host_size(&host);
  vc_vm_size_of(&ctx->cfg->hypervisor, &host, &sum, &size);
  if (vc_sandbox_resize(sb, &size, &now, err) < 0)
    return -1;
  if (ctx->debug) {
    cleanup_free char *msg = xasprintf(
        "sandbox %s: %u vCPUs and %u MiB asked, the VM has %u and %u MiB",
        sb->id, size.vcpus, size.memory_mib, now.vcpus, now.memory_mib);
    log_msg(ctx, "debug", msg);
  }
  return 0;
}

/* Joins the running sandbox plan names, as a pod member: its rootfs and
 * bind sources go into the sandbox's share under the sandbox's lock, which
 * stays held (in c->sandbox) until the member is saved with its shim, so
 * the sandbox cannot be deleted in between. */
static int join_sandbox(const struct vc_context *ctx, struct vc_container *c,
                        const struct create_plan *plan, vc_error **err) {
  struct vc_container owner = VC_CONTAINER_INIT;
  const char *sandbox_id = plan->pod.sandbox_id;
  cleanup_free char *share = NULL;
  int ret = -1;
  if (vc_state_load(ctx->cfg, sandbox_id, &owner, err) < 0) {
    vc_error_wrap(err, "sandbox `%s`", sandbox_id);
    goto out;
  }
  if (!vc_container_owns_sandbox(&owner)) {
    vc_error_set(err, 0, "`%s` is a member of sandbox `%s`, not a sandbox",
                 sandbox_id, owner.sandbox_id);
    goto out;
  }
  if (vc_sandbox_lock(&owner.sandbox, err) < 0)
    goto out;
  if (!vc_sandbox_alive(&owner.sandbox)) {
    vc_error_set(err, 0, "sandbox `%s` is not running", sandbox_id);
    goto out;
  }
  if (make_state_dir(ctx, c, err) < 0)
    goto out;
  /* The sandbox is c's now, lock and all. */
  c->sandbox = owner.sandbox;
  owner.sandbox = (struct vc_sandbox)VC_SANDBOX_INIT;
  c->sandbox_id = xstrdup(c->sandbox.id);
  c->vm_pid = c->sandbox.vm.pid;
  share = vc_share_dir(c->sandbox.run_dir);
  if (vc_share_add(share, c->share_name, c->rootfs, c->bundle, plan->spec,
                   err) < 0) {
    vc_rmdir_r(c->dir, NULL);
    goto out;
  }
  /* The VM grows by what c asks before c's limits are set in it. */
  if (resize_for_pod(ctx, &c->sandbox, c->id, &c->vm_ask, err) < 0 ||
      vc_state_save(c, err) < 0) {
    vc_share_remove(share, c->share_name, NULL);
    vc_rmdir_r(c->dir, NULL);
    goto out;
  }
  ret = 0;
out:
  vc_container_free(&owner);
  return ret;
}

/* Removes c: for the sandbox container, its sandbox (VM, helpers, share)
 * and its directory; for a member, it leaves its sandbox, which keeps
 * running.  Best effort: it goes on past failures, reported in *err.
 * sweep (delete --force): also stop any process that names the state or
 * run directory, which a create killed before it recorded a pid leaves;
 * a scan of /proc, so not on the ordinary path. */
static int destroy(struct vc_container *c, bool sweep, vc_error **err);

/* create and run share this: the container's sandbox booted or joined, its
 * config copy saved, and the container created in the guest over agent (a
 * connection the caller keeps, with stdio_stream for the init's stdio if
 * not 0).  On failure nothing is left. */
static int create_in_sandbox(const struct vc_context *ctx, struct vc_container *c,
                             const struct create_plan *plan,
                             struct vc_agent_client *agent,
                             uint32_t stdio_stream, vc_error **err) {
  if (plan->pod.sandbox_id != NULL) {
    if (join_sandbox(ctx, c, plan, err) < 0)
      return -1;
    /* Its shim's host cgroup (the VM stays in the sandbox's). */
    if (vc_placement_enter(&c->host_cgroup, NULL, err) < 0) {
      cleanup_error vc_error *e = NULL;
      destroy(c, false, &e);
      return -1;
    }
  } else if (make_state_dir(ctx, c, err) < 0) {
    return -1;
  } else if (boot_sandbox(ctx, c, plan, err) < 0) {
    /* Whatever step failed: the run directory, the share and the host
     * cgroup go with the state directory. */
    vc_sandbox_stop(&c->sandbox, NULL);
    vc_placement_remove(&c->host_cgroup, NULL);
    vc_rmdir_r(c->dir, NULL);
    return -1;
  }
  cleanup_free char *config_copy = xasprintf("%s/config.json", c->dir);
  struct vc_msg_create_container params = create_params(c, plan, stdio_stream);
  unsigned timeout_ms = ctx->cfg->agent.request_timeout_ms;
  if (vc_write_file_atomic(config_copy, plan->config_text,
                           strlen(plan->config_text), 0600, err) < 0 ||
      (agent->fd = vc_sandbox_agent_connect(&c->sandbox, 3000, err)) < 0 ||
      vc_agent_set_timeout(agent, timeout_ms, err) < 0 ||
      vc_agent_call(agent, VC_AGENT_CREATE_CONTAINER, &params, NULL, err) < 0) {
    vc_error *e = NULL;
    destroy(c, false, &e);
    vc_error_free(&e);
    return -1;
  }
  return 0;
}

int vc_container_create(const struct vc_context *ctx, const char *id,
                        const struct vc_create_options *o, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  struct create_plan plan = {0};
  struct vc_term term = VC_TERM_INIT;
  struct vc_agent_client agent = VC_AGENT_CLIENT_INIT;
  int ret = -1;
  if (prepare(ctx, id, o->bundle, &c, &plan, err) < 0 ||
      vc_term_check(plan.spec->process->terminal, o->console_socket, true, err) < 0 ||
      create_in_sandbox(ctx, &c, &plan, &agent, 0, err) < 0)
    goto out;
  /* The pty goes to the engine once the container exists, as with runc. */
  if (vc_term_open(&term, plan.spec->process->terminal, o->console_socket, true,
                   err) < 0 ||
      vc_shim_spawn(ctx, &c, NULL, NULL, term.slave, &c.shim_pid, err) < 0 ||
      vc_state_save(&c, err) < 0)
    goto destroy;
  /* A pod member: the sandbox may be used (and deleted) again now. */
  vc_sandbox_unlock(&c.sandbox);
  /* Everything of the container runs in its host cgroup now; the hooks
   * run outside it, as runc's do. */
  vc_placement_leave(&c.host_cgroup);
  if (create_hooks(&c, plan.spec, err) < 0 ||
      network_after_hooks(&c, plan.net_model, plan.net_mode, err) < 0)
    goto destroy;
  if (o->pid_file != NULL) {
    cleanup_free char *pid = xasprintf("%d", (int)c.shim_pid);
    if (vc_write_file_atomic(o->pid_file, pid, strlen(pid), 0644, err) < 0)
      goto destroy;
  }
  ret = 0;
  goto out;
destroy:;
  vc_error *derr = NULL;
  destroy(&c, false, &derr);
  vc_error_free(&derr);
out:
  vc_term_close(&term);
  if (agent.fd >= 0)
    close(agent.fd);
  create_plan_free(&plan);
  vc_container_free(&c);
  return ret;
}

/* ---- run in the foreground ----------------------------------------------- */

static int run_foreground(const struct vc_context *ctx, const char *id,
                          const struct vc_create_options *o, vc_error **err) {
  /* run outlives the VM and its helpers: adopt them when their detaching
   * parent exits, so that they are reaped here and leave no zombie. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct vc_container c = VC_CONTAINER_INIT;
  struct create_plan plan = {0};
  struct vc_term term = VC_TERM_INIT;
  struct vc_agent_client agent = VC_AGENT_CLIENT_INIT;
  int status = -1;
  if (prepare(ctx, id, o->bundle, &c, &plan, err) < 0 ||
      vc_term_check(plan.spec->process->terminal, o->console_socket, false, err) < 0)
    goto out;
  if (o->pid_file != NULL) {
    cleanup_free char *pid = xasprintf("%d", getpid());
    if (vc_write_file_atomic(o->pid_file, pid, strlen(pid), 0644, err) < 0)
      goto out;
  }
  /* This process stands for the container on the host, as the shim does
   * for a created one: state reports its pid (never 0 while it runs), and
   * its connection holds the init's stdio. */
  c.shim_pid = getpid();
  c.shim_start = vc_pid_start_time(c.shim_pid);
  if (create_in_sandbox(ctx, &c, &plan, &agent, VC_STDIO_STREAM, err) < 0)
    goto out;
  vc_sandbox_unlock(&c.sandbox);
  vc_placement_leave(&c.host_cgroup); /* as create: hooks run outside it */
  struct vc_msg_container by_id = {id};
  struct vc_msg_process_ref init = {id, NULL};
  uint32_t wait_stream;
  int exit_status = 0;
  if (create_hooks(&c, plan.spec, err) < 0 ||
      network_after_hooks(&c, plan.net_model, plan.net_mode, err) < 0 ||
      vc_term_open(&term, plan.spec->process->terminal, o->console_socket,
                   false, err) < 0 ||
      vc_term_use_slave_as_stdio(&term, err) < 0 ||
      vc_agent_call(&agent, VC_AGENT_START_CONTAINER, &by_id, NULL, err) < 0)
    goto out_destroy;
  /* As runc 1.1: when a poststart hook fails the container is killed and
   * run fails. */
  if (run_host_hooks(&c, plan.spec->hooks.poststart,
                     plan.spec->hooks.n_poststart, "running", err) < 0)
    goto out_destroy;
  /* The process may run for as long as it likes. */
  if (vc_agent_set_timeout(&agent, 0, err) < 0 ||
      vc_agent_send(&agent, VC_AGENT_WAIT_PROCESS, &init, &wait_stream, err) < 0)
    goto out_destroy;
  if (vc_relay_stdio(&agent, id, NULL, VC_STDIO_STREAM, wait_stream,
                     plan.spec->process->terminal ? 0 : -1, &exit_status,
                     err) == 0)
    status = exit_status;
out_destroy:
  vc_term_close(&term);
  close(agent.fd);
  agent.fd = -1;
  if (o->keep && status >= 0) {
    /* run --keep: the container stays, stopped, until delete (which runs
     * the poststop hooks); its own VM has nothing left to run. */
    if (vc_container_owns_sandbox(&c)) {
      vc_error *serr = NULL;
      if (vc_sandbox_stop(&c.sandbox, &serr) < 0)
        log_msg(ctx, "warning", serr->msg);
      vc_error_free(&serr);
    }
    goto out;
  }
  vc_error *derr = NULL;
  if (destroy(&c, false, &derr) < 0 && status >= 0) {
    *err = derr; /* the container ran, but cleanup failed: say so */
    derr = NULL;
    status = -1;
  }
  vc_error_free(&derr);
  poststop_hooks(ctx, &c, plan.spec);
out:
  vc_term_close(&term);
  if (agent.fd >= 0)
    close(agent.fd);
  create_plan_free(&plan);
  vc_container_free(&c);
  return status;
}

int vc_container_run(const struct vc_context *ctx, const char *id,
                     const struct vc_create_options *o, bool detach,
                     vc_error **err) {
  if (!detach)
    return run_foreground(ctx, id, o, err);
  /* create + start; the shim keeps running with the container. */
  if (vc_container_create(ctx, id, o, err) < 0)
    return -1;
  if (vc_container_start(ctx, id, err) < 0) {
    vc_error *derr = NULL;
    vc_container_delete(ctx, id, true, &derr);
    vc_error_free(&derr);
    return -1;
  }
  return 0;
}

/* ---- the other verbs ----------------------------------------------------- */

int vc_container_start(const struct vc_context *ctx, const char *id,
                       vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  struct oci_spec *spec = NULL;
  int ret = -1;
  if (vc_container_load(ctx, id, true, &c, err) < 0)
    goto out;
  const char *status = vc_container_status(&c);
  if (strcmp(status, "stopped") == 0) {
    vc_error_set(err, 0, "cannot start a container that has stopped");
    goto out;
  }
  if (strcmp(status, "created") != 0) {
    vc_error_set(err, 0, "cannot start an already running container");
    goto out;
  }
  struct vc_msg_container by_id = {c.id};
  if (vc_sandbox_call(&c.sandbox, VC_AGENT_START_CONTAINER, &by_id, NULL, err) < 0)
    goto out;
  ret = 0;
  spec = spec_or_null(&c);
  if (spec != NULL &&
      run_host_hooks(&c, spec->hooks.poststart, spec->hooks.n_poststart,
                     "running", err) < 0) {
    /* runc 1.1 kills the container when a poststart hook fails, and start
     * fails with the hook's error. */
    struct vc_msg_signal_process kill_all = {.id = c.id, .signal = SIGKILL,
                                             .all = true};
    vc_error *kerr = NULL;
    vc_sandbox_call(&c.sandbox, VC_AGENT_SIGNAL_PROCESS, &kill_all, NULL, &kerr);
    vc_error_free(&kerr);
    ret = -1;
  }
out:
  oci_spec_free(spec);
  vc_container_free(&c);
  return ret;
}

/* Loads id and checks that it runs (or is at least not stopped), with
 * not_running as the error otherwise (errnum ESRCH). */
static int load_live(const struct vc_context *ctx, const char *id, bool lock,
                     const char *not_running, struct vc_container *c,
                     vc_error **err) {
  if (vc_container_load(ctx, id, lock, c, err) < 0)
    return -1;
  if (strcmp(vc_container_status(c), "stopped") == 0) {
    vc_error_set(err, 0, "%s", not_running);
    (*err)->errnum = ESRCH; /* callers tell "stopped" from failures by it */
    return -1;
  }
  return 0;
}

int vc_container_kill(const struct vc_context *ctx, const char *id, int sig,
                      bool all, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  int ret = load_live(ctx, id, true, "container not running", &c, err);
  if (ret == 0) {
    struct vc_msg_signal_process params = {.id = c.id, .signal = (uint32_t)sig,
                                           .all = all};
    ret = vc_sandbox_call(&c.sandbox, VC_AGENT_SIGNAL_PROCESS, &params, NULL, err);
  }
  /* runc 1.1: --all on a container that has stopped (or stops meanwhile)
   * signals what is left of it, nothing, and succeeds; containerd's shim
   * kills with --all after the task exited. */
  if (ret < 0 && all && *err != NULL && (*err)->errnum == ESRCH) {
    vc_error_free(err);
    ret = 0;
  }
  vc_container_free(&c);
  return ret;
}

static int leave_sandbox(struct vc_container *c, vc_error **err) {
  /* While the VM runs, the agent must forget the member first: removing
   * its rootfs and state under a live container would leave it orphaned
   * in the guest.  If the agent cannot say so, nothing is removed and
   * delete can be tried again (or the sandbox deleted with --force). */
  if (vc_sandbox_alive(&c->sandbox)) {
    vc_error *e = NULL;
    struct vc_msg_container by_id = {c->id};
    int r = vc_sandbox_call(&c->sandbox, VC_AGENT_DELETE_CONTAINER, &by_id, NULL, &e);
    /* An unknown id is fine: create may have failed before it existed. */
    if (r < 0 && e->errnum != ENOENT) {
      vc_error_set(err, e->errnum, "remove container `%s` from sandbox `%s`: "
                   "%s; nothing removed", c->id, c->sandbox_id, e->msg);
      vc_error_free(&e);
      return -1;
    }
    vc_error_free(&e);
  }
  int ret = 0;
  if (vc_pid_is(c->shim_pid, c->dir))
    vc_pid_terminate(c->shim_pid, 1000);
  if (vc_placement_remove(&c->host_cgroup, err) < 0)
    ret = -1;
  cleanup_free char *share = vc_share_dir(c->sandbox.run_dir);
  if (vc_share_remove(share, c->share_name, ret < 0 ? NULL : err) < 0)
    ret = -1;
  if (vc_rmdir_r(c->dir, ret < 0 ? NULL : err) < 0)
    ret = -1;
  return ret;
}

/* Stops every host process whose command line names the state directory
 * dir (the shim names it) or the run directory run_dir (the helpers name
 * files inside it): what a create killed before it could record a pid left
 * behind.  With a boundary, so that another directory that merely starts
 * with this one's is safe. */
static void kill_processes_of(const char *dir, const char *run_dir) {
  cleanup_free char *shim = xasprintf("--state-dir %s ", dir);
  cleanup_free char *inside = xasprintf("%s/", run_dir ? run_dir : dir);
  const char *needles[] = {shim, inside};
  vc_kill_processes_naming(needles, N_ELEMS(needles), 1000);
}

static int destroy(struct vc_container *c, bool sweep, vc_error **err) {
  if (!vc_container_owns_sandbox(c))
    return leave_sandbox(c, err);
  int ret = vc_sandbox_stop(&c->sandbox, err);
  if (vc_pid_is(c->shim_pid, c->dir))
    vc_pid_terminate(c->shim_pid, 1000);
  if (sweep)
    kill_processes_of(c->dir, c->sandbox.run_dir);
  /* Once its processes are gone; kept in state until it is. */
  if (vc_placement_remove(&c->host_cgroup, ret < 0 ? NULL : err) < 0)
    ret = -1;
  /* vc_sandbox_stop refuses to go on while a mount is left in the share:
   * the rootfs must never be removed through its bind mount. */
  if (ret == 0 && vc_rmdir_r(c->dir, err) < 0)
    ret = -1;
  return ret;
}

/* delete --force of a container whose state.json cannot be read (empty or
 * truncated after a crash): what can be found by its directory's name, the
 * host processes whose command line names it and the mounts below it, is
 * stopped and removed. */
static int force_cleanup(const struct vc_context *ctx, const char *id,
                         vc_error **err) {
  cleanup_free char *dir = xasprintf("%s/%s", ctx->cfg->runtime.state_root, id);
  struct stat st;
  if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
    return 0;
  cleanup_free char *run_dir =
      vc_sandbox_run_dir_of(dir, ctx->cfg->runtime.run_root);
  kill_processes_of(dir, run_dir);
  /* The share is the run directory's (version 2: the state directory's). */
  cleanup_free char *share = vc_share_dir(run_dir ? run_dir : dir);
  if (vc_share_teardown(share, err) < 0)
    return -1;
  if (run_dir != NULL && vc_rmdir_r(run_dir, err) < 0)
    return -1;
  return vc_rmdir_r(dir, err);
}

/* Best effort: a failure is a warning, the member is gone anyway. */
static void shrink_after_member(const struct vc_context *ctx,
                                struct vc_container *member) {
  struct vc_sandbox *sb = &member->sandbox;
  cleanup_error vc_error *e = NULL;
  if (sb->vm.ops == NULL || !vc_sandbox_alive(sb))
    return;
  if (vc_sandbox_lock(sb, &e) < 0 || resize_for_pod(ctx, sb, member->id, NULL, &e) < 0)
    log_msg(ctx, "warn", e->msg);
}

int vc_container_delete(const struct vc_context *ctx, const char *id,
                        bool force, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  struct oci_spec *spec = NULL;
  cleanup_free char *member = NULL;
  int ret = -1;
  if (vc_container_load(ctx, id, true, &c, err) < 0) {
    /* Engines clean up with delete --force whatever happened before. */
    /* A state directory without a state.json (a create killed before it
     * wrote one) or with one that cannot be read is cleaned up from what
     * names it; no directory at all is fine. */
    if (force && *err != NULL && vc_id_valid(id)) {
      vc_error_free(err);
      ret = force_cleanup(ctx, id, err);
    }
    goto out;
  }
  const char *status = vc_container_status(&c);
  if (!force && (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0)) {
    vc_error_set(err, 0, "cannot delete container %s that is not stopped: %s",
                 id, status);
    goto out;
  }
  /* Deleting a pod's sandbox container stops the VM under its members:
   * only with --force while one of them still runs. */
  if (!force && vc_container_owns_sandbox(&c) &&
      (member = vc_pod_live_member(ctx->cfg, id)) != NULL) {
    vc_error_set(err, 0, "cannot delete sandbox container %s: container %s "
                 "of its pod is running (delete it first, or use --force)",
                 id, member);
    goto out;
  }
  spec = spec_or_null(&c);
  ret = destroy(&c, force, err);
  /* A member gone: its pod's VM gives back the vCPUs it asked for. */
  if (ret == 0 && !vc_container_owns_sandbox(&c) && c.vm_ask.vcpus > 0)
    shrink_after_member(ctx, &c);
  poststop_hooks(ctx, &c, spec);
out:
  oci_spec_free(spec);
  vc_container_free(&c);
  return ret;
}

/* One request about container id: loaded (and locked if asked), checked
 * to be running when not_running names the error, else as it is. */
static int call_container(const struct vc_context *ctx, const char *id,
                          bool lock, const char *not_running,
                          enum vc_agent_method m, void *result, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  int ret = not_running != NULL ? load_live(ctx, id, lock, not_running, &c, err)
                                : vc_container_load(ctx, id, lock, &c, err);
  if (ret == 0) {
    struct vc_msg_container by_id = {c.id};
    ret = vc_sandbox_call(&c.sandbox, m, &by_id, result, err);
  }
  vc_container_free(&c);
  return ret;
}

int vc_container_pause(const struct vc_context *ctx, const char *id,
                       vc_error **err) {
  return call_container(ctx, id, true, NULL, VC_AGENT_PAUSE_CONTAINER, NULL, err);
}

int vc_container_resume(const struct vc_context *ctx, const char *id,
                        vc_error **err) {
  return call_container(ctx, id, true, NULL, VC_AGENT_RESUME_CONTAINER, NULL, err);
}

int vc_container_ps(const struct vc_context *ctx, const char *id,
                    struct vc_msg_process_list *list, vc_error **err) {
  /* As runc: a stopped container has no processes, which is no error. */
  struct vc_container c = VC_CONTAINER_INIT;
  int ret = vc_container_load(ctx, id, false, &c, err);
  if (ret == 0 && strcmp(vc_container_status(&c), "stopped") != 0) {
    struct vc_msg_container by_id = {c.id};
    ret = vc_sandbox_call(&c.sandbox, VC_AGENT_LIST_PROCESSES, &by_id, list, err);
  }
  vc_container_free(&c);
  return ret;
}

int vc_container_host_pids(const struct vc_context *ctx, const char *id,
                           pid_t **pids, size_t *n, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  *pids = NULL;
  *n = 0;
  if (vc_container_load(ctx, id, false, &c, err) < 0) {
    vc_container_free(&c);
    return -1;
  }
  size_t cap = 8;
  *pids = xcalloc(cap, sizeof(**pids));
  if (host_process_runs(&c))
    (*pids)[(*n)++] = c.shim_pid;
  /* A detached exec's shim: exec-<id>.pid, written by vc_container_exec. */
  DIR *d = opendir(c.dir);
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
    size_t len = strlen(de->d_name);
    if (strncmp(de->d_name, "exec-", 5) != 0 || len < 4 ||
        strcmp(de->d_name + len - 4, ".pid") != 0)
      continue;
    cleanup_free char *path = xasprintf("%s/%s", c.dir, de->d_name);
    cleanup_free char *text = NULL;
    vc_error *e = NULL;
    if (vc_read_file(path, &text, NULL, &e) == 0) {
      pid_t pid = (pid_t)atoi(text);
      if (vc_pid_is(pid, c.dir)) {
        if (*n == cap)
          *pids = xrealloc(*pids, (cap *= 2) * sizeof(**pids));
        (*pids)[(*n)++] = pid;
      }
    }
    vc_error_free(&e);
  }
  if (d != NULL)
    closedir(d);
  vc_container_free(&c);
  return 0;
}

int vc_container_update(const struct vc_context *ctx, const char *id,
                        const char *const resources[], size_t n,
                        vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  int ret = load_live(ctx, id, true, "container not running", &c, err);
  /* What c asks of the VM now: the old ask where the update says nothing. */
  struct vc_vm_ask ask = c.vm_ask;
  for (size_t i = 0; ret == 0 && i < n; i++) {
    struct vc_vm_ask part;
    if (resources[i] == NULL)
      continue;
    if ((ret = vc_vm_ask_for(resources[i], "update", &part, err)) < 0)
      break;
    if (part.has_cpu)
      ask.vcpus = part.vcpus;
    if (part.has_memory)
      ask.memory_mib = part.memory_mib;
  }
  /* A bigger VM before the guest's limits rise, a smaller one after. */
  bool grows = ask.vcpus > c.vm_ask.vcpus || ask.memory_mib > c.vm_ask.memory_mib;
  bool changed = grows || ask.vcpus < c.vm_ask.vcpus ||
                 ask.memory_mib < c.vm_ask.memory_mib;
  /* The sandbox's lock is c's own when c is the sandbox container. */
  if (ret == 0 && changed && !vc_container_owns_sandbox(&c))
    ret = vc_sandbox_lock(&c.sandbox, err);
  if (ret == 0 && grows)
    ret = resize_for_pod(ctx, &c.sandbox, c.id, &ask, err);
  for (size_t i = 0; ret == 0 && i < n; i++) {
    if (resources[i] == NULL)
      continue;
    struct vc_msg_update_container params = {c.id, resources[i]};
    ret = vc_sandbox_call(&c.sandbox, VC_AGENT_UPDATE_CONTAINER, &params, NULL, err);
  }
  if (ret == 0 && changed && !grows)
    ret = resize_for_pod(ctx, &c.sandbox, c.id, &ask, err);
  if (ret == 0 && changed) {
    c.vm_ask = ask;
    ret = vc_state_save(&c, err);
  }
  vc_container_free(&c);
  return ret;
}

int vc_container_oom_kills(const struct vc_context *ctx, const char *id,
                           uint32_t *oom_kills, bool *stopped, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  struct vc_msg_state_result state = {0};
  *oom_kills = 0;
  *stopped = true;
  int ret = vc_container_load(ctx, id, false, &c, err);
  if (ret == 0 && vc_sandbox_alive(&c.sandbox)) {
    struct vc_msg_container by_id = {c.id};
    ret = vc_sandbox_call(&c.sandbox, VC_AGENT_STATE_CONTAINER, &by_id, &state,
                          err);
    if (ret == 0) {
      *oom_kills = state.oom_kills;
      *stopped = strcmp(state.status, "stopped") == 0;
    }
  }
  vc_agent_result_free(VC_AGENT_STATE_CONTAINER, &state);
  vc_container_free(&c);
  return ret;
}

int vc_container_stats(const struct vc_context *ctx, const char *id,
                       char **stats_json, vc_error **err) {
  struct vc_msg_stats_result stats = {0};
  cleanup_free char *not_running =
      xasprintf("container with id %s is not running", id);
  int ret = call_container(ctx, id, false, not_running,
                           VC_AGENT_STATS_CONTAINER, &stats, err);
  if (ret == 0)
    *stats_json = vc_steal(&stats.stats);
  vc_agent_result_free(VC_AGENT_STATS_CONTAINER, &stats);
  return ret;
}
