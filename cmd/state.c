/* vcrun state and list: the OCI state of containers, derived from the VM
 * and the agent rather than trusted from the state file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/base/util.h"
#include "lib/base/json_build.h"

int cmd_state(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *id = vc_parse_id_args("state", argc, argv, NULL, err);
  const struct vc_context *ctx = id ? vc_cli_context(cli, err) : NULL;
  struct vc_container c = VC_CONTAINER_INIT;
  if (ctx == NULL || vc_container_load(ctx, id, false, &c, err) < 0) {
    vc_container_free(&c);
    return -1;
  }
  char *json = vc_container_state_json(&c, vc_container_status(&c), true);
  printf("%s\n", json);
  free(json);
  vc_container_free(&c);
  return 0;
}

int cmd_list(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *format = "table";
  bool quiet = false;
  const struct vc_opt opts[] = {
      {"format", 'f', true, &format, NULL, NULL},
      {"quiet", 'q', false, NULL, &quiet, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  if (vc_parse_opts("list", argc, argv, opts, err) < 0)
    return -1;
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return vc_error_set(err, 0, "list: invalid format option `%s`", format);
  const struct vc_context *ctx = vc_cli_context(cli, err);
  char **ids = NULL;
  size_t n = 0;
  if (ctx == NULL || vc_container_list(ctx, &ids, &n, err) < 0)
    return -1;
  bool json = strcmp(format, "json") == 0;
  struct vc_jb b = {0};
  vc_jb_open(&b, '[');
  if (!json && !quiet)
    printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE",
           "CREATED", "OWNER");
  for (size_t i = 0; i < n; i++) {
    struct vc_container c = VC_CONTAINER_INIT;
    vc_error *e = NULL;
    if (vc_container_load(ctx, ids[i], false, &c, &e) == 0) {
      const char *status = vc_container_status(&c);
      if (json) {
        cleanup_free char *one = vc_container_state_json(&c, status, false);
        vc_jb_raw(&b, one);
      } else if (quiet) {
        printf("%s\n", c.id);
      } else {
        printf("%-12s %-8d %-10s %-40s %-32s %s\n", c.id,
               (int)vc_container_pid(&c, status), status,
               c.bundle ? c.bundle : "", c.created ? c.created : "", "root");
      }
    }
    vc_error_free(&e);
    vc_container_free(&c);
    free(ids[i]);
  }
  free(ids);
  vc_jb_close(&b, ']');
  cleanup_free char *out = vc_jb_take(&b);
  if (json)
    printf("%s\n", out);
  return 0;
}
