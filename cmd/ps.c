/* vcrun ps: the container's processes.  --format json lists the host pids
 * that stand for them (the shims, as engines expect host pids); the table
 * shows the processes inside the guest. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/agent_client.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/host/process.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"

static void host_pids(const struct vc_sandbox *sb, struct vc_jb *b) {
  vc_jb_open(b, '[');
  if (vc_pid_is(sb->shim_pid, sb->dir))
    vc_jb_int(b, sb->shim_pid);
  DIR *d = opendir(sb->dir);
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    if (strncmp(de->d_name, "exec-", 5) != 0 || len < 4 ||
        strcmp(de->d_name + len - 4, ".pid") != 0)
      continue;
    cleanup_free char *path = xasprintf("%s/%s", sb->dir, de->d_name);
    cleanup_free char *text = NULL;
    vc_error *e = NULL;
    if (vc_read_file(path, &text, NULL, &e) == 0) {
      pid_t pid = (pid_t)atoi(text);
      if (vc_pid_is(pid, sb->dir))
        vc_jb_int(b, pid);
    }
    vc_error_free(&e);
  }
  if (d != NULL)
    closedir(d);
  vc_jb_close(b, ']');
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
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  struct vc_msg_process_list list = {0};
  int ret = -1;
  if (vc_open_container(cli, argv[first], false, &sb, err) < 0)
    goto out;
  if (strcmp(format, "json") == 0) {
    struct vc_jb b = {0};
    host_pids(&sb, &b);
    char *json = vc_jb_take(&b);
    printf("%s\n", json);
    free(json);
    ret = 0;
    goto out;
  }
  if (strcmp(vc_container_status(&sb), "stopped") == 0) {
    vc_error_set(err, 0, "container `%s` is not running", sb.id);
    goto out;
  }
  if (vc_agent_simple(&sb, VC_AGENT_LIST_PROCESSES, NULL, &list, err) < 0)
    goto out;
  printf("%-8s %s\n", "PID", "CMD");
  for (size_t i = 0; i < list.n_processes; i++)
    printf("%-8lld %s\n", (long long)list.processes[i].pid,
           list.processes[i].cmd ? list.processes[i].cmd : "");
  ret = 0;
out:
  vc_agent_result_free(VC_AGENT_LIST_PROCESSES, &list);
  vc_sandbox_free(&sb);
  return ret;
}
