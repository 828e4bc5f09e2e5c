/* vcrun create and run: option parsing around vc_container_create and
 * vc_container_run. */
#include <string.h>

#include "cmd/cli.h"

/* The options create and run share, as runc has them. */
struct create_args {
  struct vc_create_options o;
  const char *preserve_fds;
  bool detach, no_pivot, no_new_keyring;
};

static const char *parse_create_args(const char *cmd, int argc, char **argv,
                                     struct create_args *a, vc_error **err) {
  a->o.bundle = ".";
  const struct vc_opt opts[] = {
      {"bundle", 'b', true, &a->o.bundle, NULL, NULL},
      {"pid-file", 0, true, &a->o.pid_file, NULL, NULL},
      {"console-socket", 0, true, &a->o.console_socket, NULL, NULL},
      {"preserve-fds", 0, true, &a->preserve_fds, NULL, NULL},
      {"no-pivot", 0, false, NULL, &a->no_pivot, NULL},
      {"no-new-keyring", 0, false, NULL, &a->no_new_keyring, NULL},
      /* run only (a NULL name ends the table for create, which always
       * returns once the container exists) */
      {strcmp(cmd, "run") == 0 ? "detach" : NULL, 'd', false, NULL, &a->detach, NULL},
      {"keep", 0, false, NULL, &a->o.keep, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  const char *id = vc_parse_id_args(cmd, argc, argv, opts, err);
  if (id == NULL || vc_check_preserve_fds(cmd, a->preserve_fds, err) < 0)
    return NULL;
  return id;
}

int cmd_create(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  struct create_args a = {0};
  const char *id = parse_create_args("create", argc, argv, &a, err);
  const struct vc_context *ctx = id ? vc_cli_context(cli, err) : NULL;
  if (ctx == NULL)
    return -1;
  return vc_container_create(ctx, id, &a.o, err);
}

int cmd_run(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  struct create_args a = {0};
  const char *id = parse_create_args("run", argc, argv, &a, err);
  const struct vc_context *ctx = id ? vc_cli_context(cli, err) : NULL;
  if (ctx == NULL)
    return -1;
  return vc_container_run(ctx, id, &a.o, a.detach, err);
}
