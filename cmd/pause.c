/* vcrun pause and resume: freeze and thaw the container's processes in
 * the guest. */
#include <string.h>

#include "cmd/cli.h"
#include "lib/sandbox.h"

static int pause_resume(struct vc_cli *cli, const char *cmd, int argc,
                        char **argv, vc_error **err) {
  int first = vc_parse_opts(cmd, argc, argv, NULL, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "%s: expects exactly one argument, the container id", cmd);
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  int ret = -1;
  if (vc_open_container(cli, argv[first], true, &sb, err) == 0)
    ret = vc_agent_simple(&sb, strcmp(cmd, "pause") == 0
                                   ? VC_AGENT_PAUSE_CONTAINER
                                   : VC_AGENT_RESUME_CONTAINER,
                          NULL, NULL, err);
  vc_sandbox_free(&sb);
  return ret < 0 ? -1 : 0;
}

int cmd_pause(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  return pause_resume(cli, "pause", argc, argv, err);
}

int cmd_resume(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  return pause_resume(cli, "resume", argc, argv, err);
}
