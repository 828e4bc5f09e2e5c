/* vcrun run: boots a sandbox VM for the bundle, runs the container in it
 * with stdio relayed, and exits with the container's status. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent_client.h"
#include "cli.h"
#include "json_build.h"
#include "oci/spec.h"
#include "sandbox.h"
#include "util.h"


static char *bundle_rootfs(const char *bundle, const struct oci_spec *spec,
                           vc_error **err) {
  cleanup_free char *joined = spec->root_path[0] == '/'
                                  ? xstrdup(spec->root_path)
                                  : xasprintf("%s/%s", bundle, spec->root_path);
  char *real = realpath(joined, NULL);
  if (real == NULL) {
    vc_error_set(err, errno, "root.path `%s`", joined);
    return NULL;
  }
  return real;
}

static char *create_params(const char *id, const char *config_text) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "id");
  vc_jb_str(&b, id);
  vc_jb_key(&b, "rootfs_tag");
  vc_jb_str(&b, VC_ROOTFS_TAG);
  vc_jb_key(&b, "spec");
  vc_jb_str(&b, config_text);
  vc_jb_key(&b, "stdio_stream");
  vc_jb_int(&b, VC_STDIO_STREAM);
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

int cmd_run(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *bundle_opt = ".";
  const char *pid_file = NULL, *console_socket = NULL, *preserve_fds = NULL;
  bool detach = false, no_pivot = false, no_new_keyring = false;
  const struct vc_opt opts[] = {
      {"bundle", 'b', true, &bundle_opt, NULL, NULL},
      {"pid-file", 0, true, &pid_file, NULL, NULL},
      {"console-socket", 0, true, &console_socket, NULL, NULL},
      {"detach", 'd', false, NULL, &detach, NULL},
      {"no-pivot", 0, false, NULL, &no_pivot, NULL},
      {"no-new-keyring", 0, false, NULL, &no_new_keyring, NULL},
      {"preserve-fds", 0, true, &preserve_fds, NULL, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("run", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "run: expects exactly one argument, the container id");
  const char *id = argv[first];
  if (vc_validate_id(id, err) < 0 || vc_check_preserve_fds("run", preserve_fds, err) < 0)
    return -1;
  if (console_socket != NULL)
    return vc_error_set(err, 0, "run: --console-socket is not supported yet");
  if (vc_cli_config(cli, err) < 0)
    return -1;
  if (detach) {
    /* create + start; the shim keeps running with the container. */
    if (vc_create_container(cli, id, bundle_opt, pid_file, err) < 0)
      return -1;
    char *start_argv[] = {(char *)id};
    if (cmd_start(cli, 1, start_argv, err) < 0) {
      vc_error *derr = NULL;
      char *delete_argv[] = {"--force", (char *)id};
      cmd_delete(cli, 2, delete_argv, &derr);
      vc_error_free(&derr);
      return -1;
    }
    return 0;
  }
  /* run outlives the VM and its helpers: adopt them when their detaching
   * parent exits, so that they are reaped here and leave no zombie. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  struct vc_sandbox sb = VC_SANDBOX_INIT;
  struct oci_spec *spec = NULL;
  struct vc_agent_client agent = {-1, 1};
  cleanup_free char *config_text = NULL;
  cleanup_free char *config_path = NULL;
  cleanup_free char *params = NULL, *quoted_id = NULL, *id_params = NULL;
  int status = -1;
  sb.bundle = realpath(bundle_opt, NULL);
  if (sb.bundle == NULL) {
    vc_error_set(err, errno, "bundle `%s`", bundle_opt);
    goto out;
  }
  config_path = xasprintf("%s/config.json", sb.bundle);
  if (vc_read_file(config_path, &config_text, NULL, err) < 0)
    goto out;
  if (oci_spec_parse(config_text, config_path, &spec, err) < 0)
    goto out;
  if (spec->process == NULL) {
    vc_error_set(err, 0, "%s: process: missing", config_path);
    goto out;
  }
  if ((sb.rootfs = bundle_rootfs(sb.bundle, spec, err)) == NULL) {
    vc_error_wrap(err, "%s", config_path);
    goto out;
  }
  sb.id = xstrdup(id);
  sb.cfg = &cli->cfg;
  sb.debug = cli->debug;
  sb.dir = xasprintf("%s/%s", cli->cfg.runtime.state_root, id);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0) {
    vc_error_set(err, errno, "readlink /proc/self/exe");
    goto out;
  }
  self[n] = '\0';
  sb.self_exe = xstrdup(self);
  if (pid_file != NULL) {
    cleanup_free char *pid = xasprintf("%d", getpid());
    if (vc_write_file_atomic(pid_file, pid, strlen(pid), 0644, err) < 0)
      goto out;
  }

  if (vc_sandbox_start(&sb, err) < 0)
    goto out_nodir;
  agent.fd = vc_sandbox_agent_connect(&sb, 5000, err);
  if (agent.fd < 0)
    goto out_destroy;
  params = create_params(id, config_text);
  quoted_id = vc_json_quote(id);
  id_params = xasprintf("{\"id\":%s}", quoted_id);
  yajl_val tree = NULL;
  uint32_t wait_stream;
  int exit_status = 0;
  if (vc_agent_call(&agent, "CreateContainer", params, &tree, NULL, err) < 0)
    goto out_close;
  yajl_tree_free(tree);
  if (vc_agent_call(&agent, "StartContainer", id_params, &tree, NULL, err) < 0)
    goto out_close;
  yajl_tree_free(tree);
  if (vc_agent_send(&agent, "WaitProcess", id_params, &wait_stream, err) < 0)
    goto out_close;
  if (vc_relay_stdio(&agent, id, NULL, VC_STDIO_STREAM, wait_stream, &exit_status, err) == 0)
    status = exit_status;

out_close:
  close(agent.fd);
out_destroy:;
  vc_error *derr = NULL;
  if (vc_sandbox_destroy(&sb, &derr) < 0 && status >= 0) {
    *err = derr; /* the container ran, but cleanup failed: say so */
    derr = NULL;
    status = -1;
  }
  vc_error_free(&derr);
out_nodir:
out:
  oci_spec_free(spec);
  vc_sandbox_free(&sb);
  return status;
}
