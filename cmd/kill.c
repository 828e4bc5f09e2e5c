/* vcrun kill: sends a signal to the container's process (--all: to every
 * process in it), by name (TERM, SIGTERM) or number. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/cli.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"

int vc_parse_signal(const char *s, int *sig, vc_error **err) {
  if (isdigit((unsigned char)s[0])) {
    char *end;
    long n = strtol(s, &end, 10);
    if (*end == '\0' && n > 0 && n < NSIG) {
      *sig = (int)n;
      return 0;
    }
  } else {
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (int i = 1; i < NSIG; i++) {
      const char *abbrev = sigabbrev_np(i);
      if (abbrev != NULL && strcasecmp(abbrev, name) == 0) {
        *sig = i;
        return 0;
      }
    }
  }
  return vc_error_set(err, 0, "unknown signal \"%s\"", s);
}

int cmd_kill(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  bool all = false;
  const struct vc_opt opts[] = {
      {"all", 'a', false, NULL, &all, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("kill", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first < 1 || argc - first > 2)
    return vc_error_set(err, 0, "kill: expects the container id and an optional signal");
  int sig = SIGTERM;
  if (argc - first == 2 && vc_parse_signal(argv[first + 1], &sig, err) < 0)
    return -1;
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  int ret = -1;
  if (vc_open_container(cli, argv[first], true, &sb, err) < 0)
    goto out;
  const char *status = vc_container_status(&sb);
  if (strcmp(status, "stopped") == 0) {
    vc_error_set(err, 0, "container not running");
    goto out;
  }
  struct vc_msg_signal_process params = {.id = sb.id, .signal = (uint32_t)sig,
                                         .all = all};
  ret = vc_agent_simple(&sb, VC_AGENT_SIGNAL_PROCESS, &params, NULL, err);
out:
  vc_sandbox_free(&sb);
  return ret < 0 ? -1 : 0;
}
