/* vcrun start: lets the created container's process run. */
#include <signal.h>
#include <string.h>

#include "cmd/cli.h"
#include "oci/spec.h"
#include "lib/sandbox.h"

int cmd_start(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  int first = vc_parse_opts("start", argc, argv, NULL, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "start: expects exactly one argument, the container id");
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  struct oci_spec *spec = NULL;
  int ret = -1;
  if (vc_open_container(cli, argv[first], true, &sb, err) < 0)
    goto out;
  const char *status = vc_container_status(&sb);
  if (strcmp(status, "stopped") == 0) {
    vc_error_set(err, 0, "cannot start a container that has stopped");
    goto out;
  }
  if (strcmp(status, "created") != 0) {
    vc_error_set(err, 0, "cannot start an already running container");
    goto out;
  }
  ret = vc_agent_simple(&sb, VC_AGENT_START_CONTAINER, NULL, NULL, err);
  spec = ret == 0 ? vc_bundle_spec(&sb) : NULL;
  if (spec != NULL &&
      vc_run_host_hooks(&sb, spec->hooks.poststart, spec->hooks.n_poststart,
                        "running", err) < 0) {
    /* runc 1.1 kills the container when a poststart hook fails, and start
     * fails with the hook's error. */
    vc_error *kerr = NULL;
    struct vc_msg_signal_process kill_all = {.id = sb.id, .signal = SIGKILL,
                                             .all = true};
    vc_agent_simple(&sb, VC_AGENT_SIGNAL_PROCESS, &kill_all, NULL, &kerr);
    vc_error_free(&kerr);
    ret = -1;
  }
out:
  oci_spec_free(spec);
  vc_sandbox_free(&sb);
  return ret < 0 ? -1 : 0;
}
