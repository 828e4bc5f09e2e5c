/* vcrun ps: the container's processes.  --format json lists the host pids
 * that stand for them (the shims, as engines expect host pids); the table
 * shows the processes inside the guest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/agent_client.h"

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
  struct vc_msg_process_list list = {0};
  if (vc_container_ps(ctx, id, &list, err) < 0)
    return -1;
  printf("%-8s %s\n", "PID", "CMD");
  for (size_t i = 0; i < list.n_processes; i++)
    printf("%-8lld %s\n", (long long)list.processes[i].pid,
           list.processes[i].cmd ? list.processes[i].cmd : "");
  vc_agent_result_free(VC_AGENT_LIST_PROCESSES, &list);
  return 0;
}
