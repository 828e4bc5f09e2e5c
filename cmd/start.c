/* vcrun start: lets the created container's process run. */
#include <string.h>

#include "cli.h"
#include "sandbox.h"

int cmd_start(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  int first = vc_parse_opts("start", argc, argv, NULL, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "start: expects exactly one argument, the container id");
  struct vc_sandbox sb = VC_SANDBOX_INIT;
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
  ret = vc_agent_simple(&sb, "StartContainer", NULL, NULL, NULL, err);
out:
  vc_sandbox_free(&sb);
  return ret < 0 ? -1 : 0;
}
