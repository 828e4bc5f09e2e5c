/* Pieces the container commands share: turning a bundle into a sandbox to
 * start, reopening a container's state, and short agent calls. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/base/hooks.h"
#include "cmd/cli.h"
#include "lib/base/json.h"
#include "oci/cgroups_path.h"
#include "lib/base/json_build.h"
#include "oci/spec.h"
#include "oci/spec_check.h"
#include "lib/host/process.h"
#include "lib/pod.h"
#include "lib/sandbox.h"
#include "lib/share.h"
#include "lib/host/terminal.h"
#include "lib/base/util.h"

char *vc_self_exe(void) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0)
    return xstrdup("/proc/self/exe");
  self[n] = '\0';
  return xstrdup(self);
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

int vc_check_lsm_labels(const struct vc_cli *cli, const char *apparmor_profile,
                        const char *selinux_label, const char *mount_label,
                        const char *where, const char *field_prefix,
                        vc_error **err) {
  const struct {
    const char *prefix, *field, *value, *lsm;
  } labels[] = {{field_prefix, "apparmorProfile", apparmor_profile, "AppArmor"},
                {field_prefix, "selinuxLabel", selinux_label, "SELinux"},
                {"linux.", "mountLabel", mount_label, "SELinux"}};
  bool fatal = strcmp(cli->cfg.runtime.lsm_labels, "error") == 0;
  for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
    if (labels[i].value == NULL || labels[i].value[0] == '\0')
      continue;
    cleanup_free char *msg = xasprintf(
        "%s: %s%s \"%s\" is not applied: the guest kernel has no %s%s", where,
        labels[i].prefix, labels[i].field, labels[i].value, labels[i].lsm,
        fatal ? " ([runtime] lsm_labels = \"error\")" : "");
    if (fatal)
      return vc_error_set(err, 0, "%s", msg);
    vc_log(cli, "warning", msg);
  }
  return 0;
}

int vc_prepare_sandbox(struct vc_cli *cli, const char *id,
                       const char *bundle_opt, struct vc_sandbox *sb,
                       char **config_text, struct oci_spec **spec_out,
                       vc_error **err) {
  struct oci_spec *spec = NULL;
  cleanup_free char *config_path = NULL, *joined = NULL;
  int ret = -1;
  sb->bundle = realpath(bundle_opt, NULL);
  if (sb->bundle == NULL)
    return vc_error_set(err, errno, "bundle `%s`", bundle_opt);
  config_path = xasprintf("%s/config.json", sb->bundle);
  if (vc_read_file(config_path, config_text, NULL, err) < 0)
    return -1;
  if (oci_spec_parse(*config_text, config_path, &spec, err) < 0)
    return -1;
  if (spec->process == NULL) {
    vc_error_set(err, 0, "%s: process: missing", config_path);
    goto out;
  }
  /* Names the guest would refuse fail here, before anything is started. */
  if (oci_spec_check(spec, config_path, err) < 0)
    goto out;
  if (oci_cgroups_path(id, spec->cgroups_path, cli->systemd_cgroup,
                       &sb->cgroup_path, err) < 0) {
    vc_error_wrap(err, "%s", config_path);
    goto out;
  }
  if (vc_check_lsm_labels(cli, spec->process->apparmor_profile,
                          spec->process->selinux_label, spec->mount_label,
                          config_path, "process.", err) < 0)
    goto out;
  joined = spec->root_path[0] == '/'
               ? xstrdup(spec->root_path)
               : xasprintf("%s/%s", sb->bundle, spec->root_path);
  sb->rootfs = realpath(joined, NULL);
  if (sb->rootfs == NULL) {
    vc_error_set(err, errno, "%s: root.path `%s`", config_path, joined);
    goto out;
  }
  if (vc_share_check_rootfs(joined, sb->rootfs, config_path, err) < 0)
    goto out;
  if (vc_share_check_sources(spec, sb->bundle, config_path, err) < 0)
    goto out;
  struct vc_pod_plan plan;
  if (vc_pod_plan(&cli->cfg, id, spec, config_path, &plan, err) < 0)
    goto out;
  sb->join_sandbox = plan.sandbox_id;
  sb->join_namespaces = plan.joins_json;
  sb->vm_netns = plan.vm_netns;
  sb->id = xstrdup(id);
  sb->cfg = &cli->cfg;
  sb->debug = cli->debug;
  sb->dir = xasprintf("%s/%s", cli->cfg.runtime.state_root, id);
  sb->self_exe = vc_self_exe();
  sb->created = now_rfc3339();
  ret = 0;
  if (spec_out != NULL) {
    *spec_out = spec;
    sb->spec = spec;
    spec = NULL;
  }
out:
  oci_spec_free(spec);
  return ret;
}

int vc_term_check(bool terminal, const char *console_socket, bool detach,
                  vc_error **err) {
  if (!terminal && console_socket != NULL)
    return vc_error_set(err, 0,
                        "cannot use console socket if vcrun will not allocate tty");
  if (terminal && detach && console_socket == NULL)
    return vc_error_set(err, 0, "cannot allocate tty if vcrun will detach "
                                "without setting console socket");
  return 0;
}

int vc_term_open(struct vc_term *t, bool terminal, const char *console_socket,
                 bool detach, vc_error **err) {
  *t = (struct vc_term)VC_TERM_INIT;
  t->terminal = terminal;
  if (vc_term_check(terminal, console_socket, detach, err) < 0)
    return -1;
  if (!terminal)
    return 0;
  if (console_socket != NULL)
    return vc_console_socket_pty(console_socket, &t->slave, err);
  int r = vc_tty_make_raw(0, &t->saved, err);
  t->raw = r == 1;
  return r < 0 ? -1 : 0;
}

int vc_term_use_slave_as_stdio(struct vc_term *t, vc_error **err) {
  if (t->slave < 0)
    return 0;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(t->slave, fd) < 0)
      return vc_error_set(err, errno, "dup2 the console pty");
  close(t->slave);
  t->slave = -1;
  return 0;
}

void vc_term_close(struct vc_term *t) {
  if (t->raw)
    vc_tty_restore(0, &t->saved);
  t->raw = false;
  if (t->slave >= 0)
    close(t->slave);
  t->slave = -1;
}

char *vc_create_params(const struct vc_sandbox *sb, const char *config_text,
                       uint32_t stdio_stream) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "id");
  vc_jb_str(&b, sb->id);
  vc_jb_key(&b, "cgroup");
  vc_jb_str(&b, sb->cgroup_path);
  vc_jb_key(&b, "rootfs_tag");
  vc_jb_str(&b, VC_ROOTFS_TAG);
  vc_jb_key(&b, "bundle"); /* for the state given to guest hooks */
  vc_jb_str(&b, sb->bundle);
  vc_jb_key(&b, "spec");
  vc_jb_str(&b, config_text);
  if (sb->join_namespaces != NULL) {
    vc_jb_key(&b, "join_namespaces");
    vc_jb_raw(&b, sb->join_namespaces);
  }
  if (sb->vm_netns != NULL) {
    vc_jb_key(&b, "vm_network_namespace");
    vc_jb_bool(&b, true);
  }
  if (stdio_stream != 0) {
    vc_jb_key(&b, "stdio_stream");
    vc_jb_int(&b, stdio_stream);
  }
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

int vc_open_container(struct vc_cli *cli, const char *id, bool lock,
                      struct vc_sandbox *sb, vc_error **err) {
  if (vc_validate_id(id, err) < 0 || vc_cli_config(cli, err) < 0)
    return -1;
  if (vc_sandbox_load(&cli->cfg, id, sb, err) < 0)
    return -1;
  sb->self_exe = vc_self_exe();
  return lock ? vc_sandbox_lock(sb, err) : 0;
}

int vc_agent_open(const struct vc_sandbox *sb, struct vc_agent_client *c,
                  vc_error **err) {
  c->next_stream = 1;
  c->fd = vc_sandbox_agent_connect(sb, 3000, err);
  return c->fd < 0 ? -1 : 0;
}

int vc_agent_simple(const struct vc_sandbox *sb, const char *method,
                    const char *extra_json, yajl_val *tree, yajl_val *result,
                    vc_error **err) {
  unsigned timeout_ms = sb->cfg->agent.request_timeout_ms;
  struct vc_agent_client c = {vc_sandbox_agent_request_fd(sb, timeout_ms, err), 1};
  if (c.fd < 0)
    return -1;
  cleanup_free char *quoted = vc_json_quote(sb->id);
  cleanup_free char *params = xasprintf("{\"id\":%s%s%s}", quoted,
                                        extra_json ? "," : "",
                                        extra_json ? extra_json : "");
  yajl_val t = NULL;
  int r = vc_agent_call(&c, method, params, &t, result, err);
  close(c.fd);
  if (r < 0 && err != NULL && *err != NULL && ((*err)->errnum == EAGAIN || (*err)->errnum == EWOULDBLOCK)) {
    vc_error_free(err);
    vc_error_set(err, 0, "the agent did not answer %s within [agent] request_timeout (%u s)",
                 method, timeout_ms / 1000);
  }
  if (tree != NULL)
    *tree = t;
  else
    yajl_tree_free(t);
  return r;
}

const char *vc_container_status(const struct vc_sandbox *sb) {
  if (!vc_sandbox_alive(sb))
    return "stopped";
  yajl_val tree = NULL, result = NULL;
  vc_error *err = NULL;
  const char *status = "stopped";
  if (vc_agent_simple(sb, "StateContainer", NULL, &tree, &result, &err) == 0) {
    const char *s = vc_json_get_str(result, "status");
    static const char *const known[] = {"created", "running", "paused", "stopped"};
    for (size_t i = 0; s && i < 4; i++)
      if (strcmp(s, known[i]) == 0)
        status = known[i];
  }
  vc_error_free(&err);
  yajl_tree_free(tree);
  return status;
}

pid_t vc_container_pid(const struct vc_sandbox *sb, const char *status) {
  if (strcmp(status, "stopped") == 0)
    return 0;
  return vc_pid_is(sb->shim_pid, sb->dir) ? sb->shim_pid : 0;
}

int vc_check_preserve_fds(const char *cmd, const char *value, vc_error **err) {
  if (value == NULL)
    return 0;
  char *end = NULL;
  errno = 0;
  unsigned long n = strtoul(value, &end, 10);
  if (value[0] == '\0' || value[0] == '-' || *end != '\0' || errno != 0)
    return vc_error_set(err, 0, "%s: invalid --preserve-fds `%s` (a number)",
                        cmd, value);
  if (n > 0)
    return vc_error_set(err, 0, "%s: --preserve-fds %lu: host file descriptors "
                        "cannot be passed into the container's VM (only 0)",
                        cmd, n);
  return 0;
}

int vc_run_host_hooks(const struct vc_sandbox *sb, const struct oci_hook *hooks,
                      size_t n, const char *status, vc_error **err) {
  if (n == 0)
    return 0;
  cleanup_free char *state = vc_state_json(sb, status);
  return vc_hooks_run(hooks, n, state, err);
}

struct oci_spec *vc_bundle_spec(const struct vc_sandbox *sb) {
  struct oci_spec *spec = NULL;
  vc_error *e = NULL;
  if (vc_sandbox_load_spec(sb, &spec, &e) < 0)
    spec = NULL;
  vc_error_free(&e);
  return spec;
}

int vc_create_hooks(const struct vc_sandbox *sb, const struct oci_spec *spec,
                    vc_error **err) {
  return vc_run_host_hooks(sb, spec->hooks.prestart, spec->hooks.n_prestart,
                           "creating", err) < 0 ||
                 vc_run_host_hooks(sb, spec->hooks.create_runtime,
                                   spec->hooks.n_create_runtime, "creating",
                                   err) < 0
             ? -1
             : 0;
}

void vc_poststop_hooks(const struct vc_cli *cli, const struct vc_sandbox *sb,
                       const struct oci_spec *spec) {
  if (spec == NULL || spec->hooks.n_poststop == 0)
    return;
  cleanup_free char *state = vc_state_json(sb, "stopped");
  for (size_t i = 0; i < spec->hooks.n_poststop; i++) {
    vc_error *e = NULL;
    if (vc_hook_run(&spec->hooks.poststop[i], i, state, &e) < 0)
      vc_log(cli, "warning", e->msg);
    vc_error_free(&e);
  }
}
