/* vcrun events: the container's cgroup statistics, read in the guest, as
 * runc's event objects {"type":"stats","id":...,"data":{...}}, and
 * {"type":"oom","id":...} when the guest's OOM killer kills in it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
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

/* Prints one stats event. */
static int print_stats(const struct vc_context *ctx, const char *id,
                       vc_error **err) {
  cleanup_free char *data = NULL;
  if (vc_container_stats(ctx, id, &data, err) < 0)
    return -1;
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "type");
  vc_jb_str(&b, "stats");
  vc_jb_key(&b, "id");
  vc_jb_str(&b, id);
  vc_jb_key(&b, "data");
  vc_jb_raw(&b, data);
  vc_jb_close(&b, '}');
  cleanup_free char *line = vc_jb_take(&b);
  printf("%s\n", line);
  fflush(stdout);
  return 0;
}

/* How often the OOM count is polled. */
#define OOM_POLL_MS 200

/* runc's OOM event: {"type":"oom","id":"<id>"}, no data. */
static void print_oom(const char *id) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "type");
  vc_jb_str(&b, "oom");
  vc_jb_key(&b, "id");
  vc_jb_str(&b, id);
  vc_jb_close(&b, '}');
  cleanup_free char *line = vc_jb_take(&b);
  printf("%s\n", line);
  fflush(stdout);
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
  const char *id = vc_parse_id_args("events", argc, argv, opts, err);
  long long interval_ms = 0;
  if (id == NULL || parse_duration(interval, &interval_ms, err) < 0)
    return -1;
  const struct vc_context *ctx = vc_cli_context(cli, err);
  if (ctx == NULL || print_stats(ctx, id, err) < 0)
    return -1;
  if (stats)
    return 0;
  /* OOM kills are polled more often than stats are printed: each rise of
   * the guest cgroup's oom_kill count is one {"type":"oom"} event, as runc
   * reports its memory.events watch.  Until the container stops: then the
   * stream simply ends, after the last count is reported. */
  uint32_t seen = 0, now = 0;
  bool stopped = false;
  if (vc_container_oom_kills(ctx, id, &seen, &stopped, err) < 0)
    return -1;
  long long next_stats = vc_now_ms() + interval_ms;
  for (;;) {
    long long wait = next_stats - vc_now_ms();
    sleep_ms(wait < 0 ? 0 : wait < OOM_POLL_MS ? wait : OOM_POLL_MS);
    if (vc_container_oom_kills(ctx, id, &now, &stopped, err) < 0)
      return -1;
    if (now > seen)
      print_oom(id);
    seen = now > seen ? now : seen;
    if (stopped)
      return 0;
    if (vc_now_ms() < next_stats)
      continue;
    next_stats += interval_ms;
    vc_error *e = NULL;
    if (print_stats(ctx, id, &e) < 0) {
      bool gone = e->errnum == ESRCH;
      if (!gone)
        *err = e;
      else
        vc_error_free(&e);
      return gone ? 0 : -1;
    }
  }
}
