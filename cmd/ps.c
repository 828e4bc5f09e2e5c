/* vcrun ps: the container's processes.  --format json lists the host pids
 * that stand for them (the shims, as engines expect host pids); the table
 * is lib/ps_table.h's, over the processes the agent reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/agent_client.h"
#include "lib/ps_table.h"

static int ps_table(const struct vc_context *ctx, const char *id, int argc,
                    char **argv, vc_error **err) {
  struct vc_ps_layout *layout = NULL;
  struct vc_msg_process_list list = {0};
  int ret = vc_ps_layout_parse(argc, argv, &layout, err);
  if (ret == 0)
    ret = vc_container_ps(ctx, id, &list, err);
  if (ret == 0)
    vc_ps_print(layout, &list);
  vc_agent_result_free(VC_AGENT_LIST_PROCESSES, &list);
  vc_ps_layout_free(layout);
  return ret;
}

int cmd_ps(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *format = "table";
  const struct vc_opt opts[] = {
      {"format", 'f', true, &format, NULL, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("ps", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first < 1)
    return vc_error_set(err, 0, "ps: expects the container id");
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return vc_error_set(err, 0, "ps: invalid format option `%s`", format);
  const struct vc_context *ctx = vc_cli_context(cli, err);
  if (ctx == NULL)
    return -1;
  const char *id = argv[first];
  if (strcmp(format, "json") == 0) {
    pid_t *pids = NULL;
    size_t n = 0;
    if (vc_container_host_pids(ctx, id, &pids, &n, err) < 0)
      return -1;
    printf("[");
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i ? "," : "", (int)pids[i]);
    printf("]\n");
    free(pids);
    return 0;
  }
  /* What follows the id goes to ps, as with runc. */
  return ps_table(ctx, id, argc - first - 1, argv + first + 1, err);
}
