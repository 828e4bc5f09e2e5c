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

#include "lib/agent_client.h"
#include "cmd/cli.h"
#include "lib/base/json_build.h"
#include "oci/spec.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"


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
  if (vc_cli_config(cli, err) < 0)
    return -1;
  if (detach) {
    /* create + start; the shim keeps running with the container. */
    if (vc_create_container(cli, id, bundle_opt, pid_file, console_socket, err) < 0)
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
  struct vc_term term = VC_TERM_INIT;
  struct vc_agent_client agent = VC_AGENT_CLIENT_INIT;
  cleanup_free char *config_text = NULL;
  int status = -1;
  if (vc_prepare_sandbox(cli, id, bundle_opt, &sb, &config_text, &spec, err) < 0 ||
      vc_term_check(spec->process->terminal, console_socket, false, err) < 0)
    goto out;
  if (pid_file != NULL) {
    cleanup_free char *pid = xasprintf("%d", getpid());
    if (vc_write_file_atomic(pid_file, pid, strlen(pid), 0644, err) < 0)
      goto out;
  }

  if (vc_sandbox_start(&sb, err) < 0)
    goto out;
  if (vc_sandbox_save_config(&sb, config_text, err) < 0)
    goto out_destroy;
  agent.fd = vc_sandbox_agent_connect(&sb, 5000, err);
  if (agent.fd < 0)
    goto out_destroy;
  struct vc_msg_create_container params =
      vc_create_params(&sb, config_text, VC_STDIO_STREAM);
  struct vc_msg_container by_id = {id};
  struct vc_msg_process_ref init = {id, NULL};
  uint32_t wait_stream;
  int exit_status = 0;
  if (vc_agent_call(&agent, VC_AGENT_CREATE_CONTAINER, &params, NULL, err) < 0)
    goto out_close;
  /* A pod member: the sandbox may be used (and deleted) again now. */
  vc_sandbox_unlock_sandbox(&sb);
  if (vc_create_hooks(&sb, spec, err) < 0)
    goto out_close;
  if (vc_term_open(&term, spec->process->terminal, console_socket, false, err) < 0 ||
      vc_term_use_slave_as_stdio(&term, err) < 0)
    goto out_close;
  if (vc_agent_call(&agent, VC_AGENT_START_CONTAINER, &by_id, NULL, err) < 0)
    goto out_close;
  if (vc_run_host_hooks(&sb, spec->hooks.poststart, spec->hooks.n_poststart,
                        "running", err) < 0)
    goto out_close; /* as runc 1.1: the container is killed, run fails */
  if (vc_agent_send(&agent, VC_AGENT_WAIT_PROCESS, &init, &wait_stream, err) < 0)
    goto out_close;
  if (vc_relay_stdio(&agent, id, NULL, VC_STDIO_STREAM, wait_stream,
                     spec->process->terminal ? 0 : -1, &exit_status, err) == 0)
    status = exit_status;

out_close:
  vc_term_close(&term);
  close(agent.fd);
out_destroy:;
  vc_error *derr = NULL;
  if (vc_sandbox_destroy(&sb, &derr) < 0 && status >= 0) {
    *err = derr; /* the container ran, but cleanup failed: say so */
    derr = NULL;
    status = -1;
  }
  vc_error_free(&derr);
  vc_poststop_hooks(cli, &sb, spec);
out:
  oci_spec_free(spec);
  vc_sandbox_free(&sb);
  return status;
}
