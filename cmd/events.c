/* vcrun events: the container's cgroup statistics, read in the guest, as
 * runc's event objects {"type":"stats","id":...,"data":{...}}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "lib/agent_client.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"

/* A Go duration ("5s", "500ms", "1m30s") in milliseconds. */
static int parse_duration(const char *s, long long *ms, vc_error **err) {
  static const struct {
    const char *unit;
    double ms;
  } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"ms", 1}, {"s", 1000},
               {"m", 60000}, {"h", 3600000}};
  double total = 0;
  const char *p = s;
  if (*p == '\0')
    goto bad;
  while (*p) {
    char *end = NULL;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno != 0 || v < 0 || *p == '-' || *p == '+')
      goto bad;
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      size_t n = strlen(units[i].unit);
      if (strncmp(end, units[i].unit, n) == 0 && n > best_len) {
        best = i;
        best_len = n;
      }
    }
    if (best_len == 0)
      goto bad;
    total += v * units[best].ms;
    p = end + best_len;
  }
  if (total < 1)
    return vc_error_set(err, 0, "events: --interval `%s` must be at least 1ms", s);
  *ms = (long long)total;
  return 0;
bad:
  return vc_error_set(err, 0, "events: invalid --interval `%s` (a duration such "
                      "as 5s or 500ms)", s);
}

/* Prints one stats event; -1 when the agent cannot be asked. */
static int print_stats(const struct vc_sandbox *sb, vc_error **err) {
  struct vc_msg_stats_result stats = {0};
  if (vc_agent_simple(sb, VC_AGENT_STATS_CONTAINER, NULL, &stats, err) < 0)
    return -1;
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "type");
  vc_jb_str(&b, "stats");
  vc_jb_key(&b, "id");
  vc_jb_str(&b, sb->id);
  vc_jb_key(&b, "data");
  vc_jb_raw(&b, stats.stats);
  vc_agent_result_free(VC_AGENT_STATS_CONTAINER, &stats);
  vc_jb_close(&b, '}');
  cleanup_free char *line = vc_jb_take(&b);
  printf("%s\n", line);
  fflush(stdout);
  return 0;
}

static void sleep_ms(long long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

int cmd_events(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  bool stats = false;
  const char *interval = "5s";
  const struct vc_opt opts[] = {
      {"stats", 0, false, NULL, &stats, NULL},
      {"interval", 0, true, &interval, NULL, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("events", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "events: expects exactly one argument, the container id");
  long long interval_ms = 0;
  if (parse_duration(interval, &interval_ms, err) < 0)
    return -1;
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  int ret = -1;
  if (vc_open_container(cli, argv[first], false, &sb, err) < 0)
    goto out;
  if (strcmp(vc_container_status(&sb), "stopped") == 0) {
    vc_error_set(err, 0, "container with id %s is not running", sb.id);
    goto out;
  }
  if (stats) {
    ret = print_stats(&sb, err);
    goto out;
  }
  /* Until the container stops: then the stream simply ends. */
  for (;;) {
    if (strcmp(vc_container_status(&sb), "stopped") == 0)
      break;
    vc_error *e = NULL;
    if (print_stats(&sb, &e) < 0) {
      /* the VM may have gone between the check and the call */
      vc_error_free(&e);
      if (strcmp(vc_container_status(&sb), "stopped") == 0)
        break;
      if (print_stats(&sb, err) < 0)
        goto out;
    }
    sleep_ms(interval_ms);
  }
  ret = 0;
out:
  vc_sandbox_free(&sb);
  return ret;
}
