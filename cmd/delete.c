/* vcrun delete: removes a container; the sandbox container takes its VM
 * with it, a pod member leaves its sandbox running. */
#include "cmd/cli.h"

int cmd_delete(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  bool force = false;
  const struct vc_opt opts[] = {
      {"force", 'f', false, NULL, &force, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  const char *id = vc_parse_id_args("delete", argc, argv, opts, err);
  const struct vc_context *ctx = id ? vc_cli_context(cli, err) : NULL;
  return ctx == NULL ? -1 : vc_container_delete(ctx, id, force, err);
}
