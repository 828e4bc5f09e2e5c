/* vcrun start, pause and resume: one container id, one library call. */
#include "cmd/cli.h"

static int one_id(struct vc_cli *cli, const char *cmd, int argc, char **argv,
                  int (*fn)(const struct vc_context *, const char *, vc_error **),
                  vc_error **err) {
  const char *id = vc_parse_id_args(cmd, argc, argv, NULL, err);
  const struct vc_context *ctx = id ? vc_cli_context(cli, err) : NULL;
  return ctx == NULL ? -1 : fn(ctx, id, err);
}

int cmd_start(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  return one_id(cli, "start", argc, argv, vc_container_start, err);
}

int cmd_pause(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  return one_id(cli, "pause", argc, argv, vc_container_pause, err);
}

int cmd_resume(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  return one_id(cli, "resume", argc, argv, vc_container_resume, err);
}
