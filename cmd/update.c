/* vcrun update: new linux.resources for a running container, written into
 * its cgroup inside the guest by the agent. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"

/* A size as runc's flags take it (docker's RAMInBytes): a number with an
 * optional k, m, g, t or p suffix (binary), optionally followed by "b" or
 * "ib"; -1 means unlimited. */
static int parse_size(const char *flag, const char *s, int64_t *out,
                      vc_error **err) {
  if (strcmp(s, "-1") == 0) {
    *out = -1;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno != 0 || v < 0 || s[0] == '-' || s[0] == '+')
    return vc_error_set(err, 0, "update: invalid value for --%s: `%s`", flag, s);
  static const char units[] = "kmgtp";
  double mult = 1;
  if (*end != '\0') {
    const char *u = strchr(units, (char)(*end | 0x20));
    if (u != NULL) {
      for (const char *p = units; p <= u; p++)
        mult *= 1024;
      end++;
    }
    if (strcasecmp(end, "b") != 0 && strcasecmp(end, "ib") != 0 && *end != '\0')
      return vc_error_set(err, 0, "update: invalid value for --%s: `%s`", flag, s);
  }
  if (v * mult > (double)INT64_MAX)
    return vc_error_set(err, 0, "update: --%s: `%s` is too large", flag, s);
  *out = (int64_t)(v * mult);
  return 0;
}

static int parse_int(const char *flag, const char *s, int64_t min,
                     int64_t max, int64_t *out, vc_error **err) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0)
    return vc_error_set(err, 0, "update: invalid value for --%s: `%s`", flag, s);
  if (v < min || v > max)
    return vc_error_set(err, 0, "update: --%s: %lld is outside %" PRId64
                        "..%" PRId64, flag, v, min, max);
  *out = v;
  return 0;
}

struct update_flags {
  const char *memory, *memory_reservation, *memory_swap;
  const char *cpu_shares, *cpu_quota, *cpu_period, *cpuset_cpus, *cpuset_mems;
  const char *pids_limit, *blkio_weight;
};

/* One integer member, when its flag was given. */
static int add_int(struct vc_jb *b, const char *key, const char *flag,
                   const char *value, bool size, int64_t min, int64_t max,
                   vc_error **err) {
  if (value == NULL)
    return 0;
  int64_t v = 0;
  if ((size ? parse_size(flag, value, &v, err)
            : parse_int(flag, value, min, max, &v, err)) < 0)
    return -1;
  vc_jb_key(b, key);
  vc_jb_int(b, v);
  return 0;
}

/* The flags as a LinuxResources object; NULL in *out when none was given. */
static int flags_json(const struct update_flags *f, char **out, vc_error **err) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  int r = 0;
  if (f->memory || f->memory_reservation || f->memory_swap) {
    vc_jb_key(&b, "memory");
    vc_jb_open(&b, '{');
    r |= add_int(&b, "limit", "memory", f->memory, true, 0, 0, err);
    r |= r ? 0 : add_int(&b, "reservation", "memory-reservation",
                         f->memory_reservation, true, 0, 0, err);
    r |= r ? 0 : add_int(&b, "swap", "memory-swap", f->memory_swap, true, 0, 0, err);
    vc_jb_close(&b, '}');
  }
  if (!r && (f->cpu_shares || f->cpu_quota || f->cpu_period || f->cpuset_cpus ||
             f->cpuset_mems)) {
    vc_jb_key(&b, "cpu");
    vc_jb_open(&b, '{');
    r |= add_int(&b, "shares", "cpu-shares", f->cpu_shares, false, 0, 262144, err);
    r |= r ? 0 : add_int(&b, "quota", "cpu-quota", f->cpu_quota, false, -1,
                         INT64_MAX, err);
    r |= r ? 0 : add_int(&b, "period", "cpu-period", f->cpu_period, false, 0,
                         INT64_MAX, err);
    if (f->cpuset_cpus) {
      vc_jb_key(&b, "cpus");
      vc_jb_str(&b, f->cpuset_cpus);
    }
    if (f->cpuset_mems) {
      vc_jb_key(&b, "mems");
      vc_jb_str(&b, f->cpuset_mems);
    }
    vc_jb_close(&b, '}');
  }
  if (!r && f->pids_limit) {
    vc_jb_key(&b, "pids");
    vc_jb_open(&b, '{');
    r |= add_int(&b, "limit", "pids-limit", f->pids_limit, false, -1, INT64_MAX, err);
    vc_jb_close(&b, '}');
  }
  if (!r && f->blkio_weight) {
    vc_jb_key(&b, "blockIO");
    vc_jb_open(&b, '{');
    r |= add_int(&b, "weight", "blkio-weight", f->blkio_weight, false, 10, 1000, err);
    vc_jb_close(&b, '}');
  }
  vc_jb_close(&b, '}');
  char *json = vc_jb_take(&b);
  if (r) {
    free(json);
    return -1;
  }
  if (strcmp(json, "{}") == 0) {
    free(json);
    json = NULL;
  }
  *out = json;
  return 0;
}

/* --resources FILE, or - for stdin: checked to be a JSON object. */
static int read_resources(const char *path, char **out, vc_error **err) {
  char *text = NULL;
  const char *file = strcmp(path, "-") == 0 ? "/dev/stdin" : path;
  if (vc_read_file(file, &text, NULL, err) < 0)
    return vc_error_wrap(err, "update: --resources");
  yajl_val tree = NULL;
  const char *where = strcmp(path, "-") == 0 ? "stdin" : path;
  if (vc_json_parse(text, &tree, err) < 0) {
    free(text);
    return vc_error_wrap(err, "update: --resources %s", where);
  }
  bool is_object = YAJL_IS_OBJECT(tree);
  yajl_tree_free(tree);
  if (!is_object) {
    free(text);
    return vc_error_set(err, 0, "update: --resources %s: not a JSON object "
                        "(LinuxResources)", where);
  }
  *out = text;
  return 0;
}

int cmd_update(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  struct update_flags f = {0};
  const char *resources_path = NULL;
  const char *kernel_memory = NULL, *kernel_memory_tcp = NULL;
  const char *cpu_rt_period = NULL, *cpu_rt_runtime = NULL, *l3 = NULL, *mem_bw = NULL;
  const struct vc_opt opts[] = {
      {"resources", 'r', true, &resources_path, NULL, NULL},
      {"memory", 0, true, &f.memory, NULL, NULL},
      {"memory-reservation", 0, true, &f.memory_reservation, NULL, NULL},
      {"memory-swap", 0, true, &f.memory_swap, NULL, NULL},
      {"cpu-shares", 0, true, &f.cpu_shares, NULL, NULL},
      {"cpu-quota", 0, true, &f.cpu_quota, NULL, NULL},
      {"cpu-period", 0, true, &f.cpu_period, NULL, NULL},
      {"cpuset-cpus", 0, true, &f.cpuset_cpus, NULL, NULL},
      {"cpuset-mems", 0, true, &f.cpuset_mems, NULL, NULL},
      {"pids-limit", 0, true, &f.pids_limit, NULL, NULL},
      {"blkio-weight", 0, true, &f.blkio_weight, NULL, NULL},
      /* runc's flags that cgroup v2 cannot honour: refused below. */
      {"kernel-memory", 0, true, &kernel_memory, NULL, NULL},
      {"kernel-memory-tcp", 0, true, &kernel_memory_tcp, NULL, NULL},
      {"cpu-rt-period", 0, true, &cpu_rt_period, NULL, NULL},
      {"cpu-rt-runtime", 0, true, &cpu_rt_runtime, NULL, NULL},
      {"l3-cache-schema", 0, true, &l3, NULL, NULL},
      {"mem-bw-schema", 0, true, &mem_bw, NULL, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("update", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "update: expects exactly one argument, the container id");
  if (kernel_memory || kernel_memory_tcp)
    return vc_error_set(err, 0, "update: --kernel-memory: not supported with cgroup v2");
  if (cpu_rt_period || cpu_rt_runtime)
    return vc_error_set(err, 0, "update: --cpu-rt-period/--cpu-rt-runtime: "
                        "realtime cpu limits are not supported with cgroup v2");
  if (l3 || mem_bw)
    return vc_error_set(err, 0, "update: Intel RDT is not available inside the VM");
  cleanup_free char *from_flags = NULL, *from_file = NULL;
  if (flags_json(&f, &from_flags, err) < 0)
    return -1;
  if (resources_path != NULL && read_resources(resources_path, &from_file, err) < 0)
    return -1;
  if (from_flags == NULL && from_file == NULL)
    return vc_error_set(err, 0, "update: nothing to update (give --resources "
                        "or a resource flag)");
  /* As in runc, the flags override what the file says. */
  const char *resources[] = {from_file, from_flags};
  const struct vc_context *ctx = vc_cli_context(cli, err);
  return ctx == NULL ? -1
                     : vc_container_update(ctx, argv[first], resources,
                                           N_ELEMS(resources), err);
}
