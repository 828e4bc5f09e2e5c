/* vcrun kill: sends a signal to the container's process (--all: to every
 * process in it), by name (TERM, SIGTERM) or number; 0 (by number, as
 * runc takes it) only checks that the process exists. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/cli.h"

static int parse_signal(const char *s, int *sig, vc_error **err) {
  if (isdigit((unsigned char)s[0])) {
    char *end;
    long n = strtol(s, &end, 10);
    if (*end == '\0' && n >= 0 && n < NSIG) {
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
  if (argc - first == 2 && parse_signal(argv[first + 1], &sig, err) < 0)
    return -1;
  const struct vc_context *ctx = vc_cli_context(cli, err);
  return ctx == NULL ? -1 : vc_container_kill(ctx, argv[first], sig, all, err);
}
