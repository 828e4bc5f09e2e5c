/* vcrun exec: option parsing around vc_container_exec, which runs the
 * process through a shim (--detach) or in this process (foreground,
 * exiting with its status). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/base/util.h"

/* A uid or gid: a decimal number that fits in 32 bits, as runc takes it. */
static bool parse_id(const char *text, const char *stop,
                     unsigned long long *out, const char **rest) {
  if (*text < '0' || *text > '9')
    return false;
  char *end;
  errno = 0;
  *out = strtoull(text, &end, 10);
  if (errno != 0 || *out > UINT32_MAX || (*end != '\0' && strchr(stop, *end) == NULL))
    return false;
  *rest = end;
  return true;
}

/* Checks --user and --additional-gids before anything is sent; *gid_values
 * gets the parsed gids (caller frees). */
static int parse_ids(const char *user, const struct vc_strlist *gids,
                     struct vc_exec_options *o, unsigned long long **gid_values,
                     vc_error **err) {
  const char *rest = NULL;
  if (user != NULL) {
    if (!parse_id(user, ":", &o->uid, &rest) ||
        (*rest == ':' && !parse_id(rest + 1, "", &o->gid, &rest)))
      return vc_error_set(err, 0, "exec: --user `%s` must be UID[:GID]", user);
    o->set_uid = true;
    o->set_gid = strchr(user, ':') != NULL;
  }
  *gid_values = xcalloc(gids->n + 1, sizeof(**gid_values));
  for (size_t i = 0; i < gids->n; i++)
    if (!parse_id(gids->items[i], "", &(*gid_values)[i], &rest))
      return vc_error_set(err, 0,
                          "exec: --additional-gids `%s` must be a GID from 0 "
                          "to 4294967295", gids->items[i]);
  o->gids = *gid_values;
  o->n_gids = gids->n;
  return 0;
}

int cmd_exec(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  struct vc_exec_options o = {0};
  const char *user = NULL, *preserve_fds = NULL;
  struct vc_strlist env = {0}, gids = {0}, caps = {0};
  const struct vc_opt opts[] = {
      {"process", 'p', true, &o.process_file, NULL, NULL},
      {"detach", 'd', false, NULL, &o.detach, NULL},
      {"pid-file", 0, true, &o.pid_file, NULL, NULL},
      {"tty", 't', false, NULL, &o.tty, NULL},
      {"console-socket", 0, true, &o.console_socket, NULL, NULL},
      {"env", 'e', true, NULL, NULL, &env},
      {"cwd", 0, true, &o.cwd, NULL, NULL},
      {"user", 'u', true, &user, NULL, NULL},
      {"additional-gids", 'g', true, NULL, NULL, &gids},
      {"cap", 'c', true, NULL, NULL, &caps},
      {"no-new-privs", 0, false, NULL, &o.no_new_privs, NULL},
      {"apparmor", 0, true, &o.apparmor_profile, NULL, NULL},
      {"process-label", 0, true, &o.selinux_label, NULL, NULL},
      {"preserve-fds", 0, true, &preserve_fds, NULL, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  cleanup_free unsigned long long *gid_values = NULL;
  const struct vc_context *ctx = NULL;
  int ret = -1;
  int first = vc_parse_opts("exec", argc, argv, opts, err);
  if (first < 0 || vc_check_preserve_fds("exec", preserve_fds, err) < 0)
    goto out;
  if (argc - first < 1) {
    vc_error_set(err, 0, "exec: expects the container id");
    goto out;
  }
  if (o.process_file == NULL && argc - first < 2) {
    vc_error_set(err, 0, "exec: expects a command (or --process FILE)");
    (*err)->status = 255; /* runc: "process args cannot be empty", 255 */
    goto out;
  }
  o.args = argv + first + 1;
  o.n_args = (size_t)(argc - first - 1);
  o.env = env.items;
  o.n_env = env.n;
  o.caps = caps.items;
  o.n_caps = caps.n;
  if (o.process_file == NULL && parse_ids(user, &gids, &o, &gid_values, err) < 0)
    goto out;
  if ((ctx = vc_cli_context(cli, err)) != NULL)
    ret = vc_container_exec(ctx, argv[first], &o, err);
  /* As runc's exec: an error of the runtime (not of the process, whose
   * status is returned as it is) exits 255. */
  if (ret < 0 && *err != NULL && (*err)->status == 1)
    (*err)->status = 255;
out:
  free(env.items);
  free(gids.items);
  free(caps.items);
  return ret;
}
