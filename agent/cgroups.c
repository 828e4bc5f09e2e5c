/* linux.resources written into the container's cgroup v2 directory, with
 * runc's conversions from the cgroup v1 values of the spec. */
#include "agent/cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"
#include "oci/device_cgroup.h"

/* Writes value to dir/file; field names the spec entry it comes from. */
static int cg_write(const char *dir, const char *file, const char *value,
                    const char *field, vc_error **err) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return vc_error_set(err, 0, "%s: the guest kernel has no %s (controller "
                        "not available)", field, file);
  size_t len = strlen(value);
  if (fd < 0 || write(fd, value, len) != (ssize_t)len)
    return vc_error_set(err, errno, "%s: write \"%s\" to %s", field, value,
                        file);
  return 0;
}

/* A member as a number: 1 when present, 0 when absent or null. */
static int get_i64(yajl_val obj, const char *key, const char *parent,
                   int64_t *out, vc_error **err) {
  yajl_val v = vc_json_get(obj, key);
  if (v == NULL || YAJL_IS_NULL(v))
    return 0;
  if (vc_json_to_i64(v, INT64_MIN, INT64_MAX, out) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "%s.%s: must be an integer", parent, key);
  return 1;
}

static int get_u64(yajl_val obj, const char *key, const char *parent,
                   uint64_t *out, vc_error **err) {
  yajl_val v = vc_json_get(obj, key);
  if (v == NULL || YAJL_IS_NULL(v))
    return 0;
  if (vc_json_to_u64(v, UINT64_MAX, out) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "%s.%s: must be a non-negative integer",
                        parent, key);
  return 1;
}

/* "max" for a negative limit (-1 means unlimited in the spec). */
static void limit_str(int64_t v, char *buf, size_t size) {
  if (v < 0)
    snprintf(buf, size, "max");
  else
    snprintf(buf, size, "%" PRId64, v);
}

static int apply_memory(const char *dir, yajl_val m, vc_error **err) {
  const char *p = "linux.resources.memory";
  int64_t limit = 0, reservation = 0, swap = 0;
  int has_limit, has_res, has_swap;
  if ((has_limit = get_i64(m, "limit", p, &limit, err)) < 0 ||
      (has_res = get_i64(m, "reservation", p, &reservation, err)) < 0 ||
      (has_swap = get_i64(m, "swap", p, &swap, err)) < 0)
    return -1;
  char buf[32];
  /* 0 means "not set" for all three, as in runc. */
  if (has_limit && limit != 0) {
    limit_str(limit, buf, sizeof(buf));
    if (cg_write(dir, "memory.max", buf, "linux.resources.memory.limit", err) < 0)
      return -1;
  }
  if (has_res && reservation != 0) {
    limit_str(reservation, buf, sizeof(buf));
    if (cg_write(dir, "memory.low", buf, "linux.resources.memory.reservation",
                 err) < 0)
      return -1;
  }
  /* The spec's swap is memory+swap (cgroup v1); v2 limits swap alone. */
  int64_t swap2 = swap;
  if (limit == -1 && swap == 0)
    swap2 = -1; /* unlimited memory and no swap limit: both unlimited */
  else if (swap > 0) {
    if (limit <= 0)
      return vc_error_set(err, 0, "linux.resources.memory.swap: needs "
                          "linux.resources.memory.limit");
    if (swap < limit)
      return vc_error_set(err, 0, "linux.resources.memory.swap: %" PRId64
                          " is below linux.resources.memory.limit %" PRId64,
                          swap, limit);
    swap2 = swap - limit;
  }
  if ((has_swap || limit == -1) && swap2 != 0) {
    limit_str(swap2, buf, sizeof(buf));
    if (cg_write(dir, "memory.swap.max", buf, "linux.resources.memory.swap",
                 err) < 0)
      return -1;
  }
  return 0;
}

static int apply_cpu(const char *dir, yajl_val c, vc_error **err) {
  const char *p = "linux.resources.cpu";
  uint64_t shares = 0, period = 0;
  int64_t quota = 0, idle = 0;
  int has_idle;
  if (get_u64(c, "shares", p, &shares, err) < 0 ||
      get_u64(c, "period", p, &period, err) < 0 ||
      get_i64(c, "quota", p, &quota, err) < 0 ||
      (has_idle = get_i64(c, "idle", p, &idle, err)) < 0)
    return -1;
  char buf[64];
  if (shares != 0) {
    /* v1 shares (2..262144) onto v2 weight (1..10000), as runc does. */
    if (shares < 2 || shares > 262144)
      return vc_error_set(err, 0, "%s.shares: %" PRIu64 " is outside 2..262144",
                          p, shares);
    snprintf(buf, sizeof(buf), "%" PRIu64, 1 + ((shares - 2) * 9999) / 262142);
    if (cg_write(dir, "cpu.weight", buf, "linux.resources.cpu.shares", err) < 0)
      return -1;
  }
  if (quota != 0 || period != 0) {
    int n = quota > 0 ? snprintf(buf, sizeof(buf), "%" PRId64, quota)
                      : snprintf(buf, sizeof(buf), "max");
    if (period != 0)
      snprintf(buf + n, sizeof(buf) - (size_t)n, " %" PRIu64, period);
    if (cg_write(dir, "cpu.max", buf, "linux.resources.cpu.quota", err) < 0)
      return -1;
  }
  if (has_idle) {
    snprintf(buf, sizeof(buf), "%" PRId64, idle);
    if (cg_write(dir, "cpu.idle", buf, "linux.resources.cpu.idle", err) < 0)
      return -1;
  }
  const char *cpus = vc_json_get_str(c, "cpus");
  const char *mems = vc_json_get_str(c, "mems");
  if (cpus != NULL && cpus[0] != '\0' &&
      cg_write(dir, "cpuset.cpus", cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (mems != NULL && mems[0] != '\0' &&
      cg_write(dir, "cpuset.mems", mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  return 0;
}

static int apply_pids(const char *dir, yajl_val pids, vc_error **err) {
  int64_t limit = 0;
  if (get_i64(pids, "limit", "linux.resources.pids", &limit, err) < 0)
    return -1;
  if (limit == 0)
    return 0;
  char buf[32];
  limit_str(limit, buf, sizeof(buf));
  return cg_write(dir, "pids.max", buf, "linux.resources.pids.limit", err);
}

/* Per-device io.max lines from the throttle lists. */
static int apply_io_throttle(const char *dir, yajl_val io, const char *key,
                             const char *what, vc_error **err) {
  yajl_val list = vc_json_get_array(io, key);
  for (size_t i = 0; list != NULL && i < list->u.array.len; i++) {
    yajl_val d = list->u.array.values[i];
    cleanup_free char *field = xasprintf("linux.resources.blockIO.%s[%zu]", key, i);
    uint64_t major = 0, minor = 0, rate = 0;
    if (get_u64(d, "major", field, &major, err) < 0 ||
        get_u64(d, "minor", field, &minor, err) < 0 ||
        get_u64(d, "rate", field, &rate, err) < 0)
      return -1;
    char buf[96];
    snprintf(buf, sizeof(buf), "%" PRIu64 ":%" PRIu64 " %s=%" PRIu64, major,
             minor, what, rate);
    if (cg_write(dir, "io.max", buf, field, err) < 0)
      return -1;
  }
  return 0;
}

/* blkio weight 10..1000 onto io.weight 1..10000, as runc does. */
static uint64_t io_weight(uint64_t w) { return 1 + (w - 10) * 9999 / 990; }

static int apply_io(const char *dir, yajl_val io, vc_error **err) {
  const char *p = "linux.resources.blockIO";
  uint64_t weight = 0;
  if (get_u64(io, "weight", p, &weight, err) < 0)
    return -1;
  char buf[96];
  cleanup_free char *bfq = xasprintf("%s/io.bfq.weight", dir);
  /* BFQ takes the v1 value as it is; io.weight the converted one. */
  bool use_bfq = access(bfq, F_OK) == 0;
  if (weight != 0) {
    if (weight < 10 || weight > 1000)
      return vc_error_set(err, 0, "%s.weight: %" PRIu64 " is outside 10..1000",
                          p, weight);
    snprintf(buf, sizeof(buf), "%" PRIu64, use_bfq ? weight : io_weight(weight));
    if (cg_write(dir, use_bfq ? "io.bfq.weight" : "io.weight", buf,
                 "linux.resources.blockIO.weight", err) < 0)
      return -1;
  }
  yajl_val devs = vc_json_get_array(io, "weightDevice");
  for (size_t i = 0; devs != NULL && i < devs->u.array.len; i++) {
    yajl_val d = devs->u.array.values[i];
    cleanup_free char *field = xasprintf("%s.weightDevice[%zu]", p, i);
    uint64_t major = 0, minor = 0, w = 0;
    if (get_u64(d, "major", field, &major, err) < 0 ||
        get_u64(d, "minor", field, &minor, err) < 0 ||
        get_u64(d, "weight", field, &w, err) < 0)
      return -1;
    if (w == 0)
      continue;
    if (w < 10 || w > 1000)
      return vc_error_set(err, 0, "%s.weight: %" PRIu64 " is outside 10..1000",
                          field, w);
    snprintf(buf, sizeof(buf), "%" PRIu64 ":%" PRIu64 " %" PRIu64, major, minor,
             use_bfq ? w : io_weight(w));
    if (cg_write(dir, use_bfq ? "io.bfq.weight" : "io.weight", buf, field, err) < 0)
      return -1;
  }
  if (apply_io_throttle(dir, io, "throttleReadBpsDevice", "rbps", err) < 0 ||
      apply_io_throttle(dir, io, "throttleWriteBpsDevice", "wbps", err) < 0 ||
      apply_io_throttle(dir, io, "throttleReadIOPSDevice", "riops", err) < 0 ||
      apply_io_throttle(dir, io, "throttleWriteIOPSDevice", "wiops", err) < 0)
    return -1;
  return 0;
}

/* A file name that stays inside the cgroup directory. */
static bool plain_name(const char *s) {
  return s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL;
}

static int apply_hugetlb(const char *dir, yajl_val list, vc_error **err) {
  for (size_t i = 0; i < list->u.array.len; i++) {
    yajl_val h = list->u.array.values[i];
    cleanup_free char *field =
        xasprintf("linux.resources.hugepageLimits[%zu]", i);
    const char *size = vc_json_get_str(h, "pageSize");
    if (size == NULL || !plain_name(size))
      return vc_error_set(err, 0, "%s.pageSize: must be a size such as \"2MB\"",
                          field);
    uint64_t limit = 0;
    if (get_u64(h, "limit", field, &limit, err) < 0)
      return -1;
    cleanup_free char *file = xasprintf("hugetlb.%s.max", size);
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, limit);
    if (cg_write(dir, file, buf, field, err) < 0)
      return -1;
  }
  return 0;
}

/* linux.resources.unified: cgroup v2 files written as they are. */
static int apply_unified(const char *dir, yajl_val u, vc_error **err) {
  for (size_t i = 0; i < u->u.object.len; i++) {
    const char *key = u->u.object.keys[i];
    yajl_val v = u->u.object.values[i];
    cleanup_free char *field = xasprintf("linux.resources.unified[\"%s\"]", key);
    if (!plain_name(key))
      return vc_error_set(err, 0, "%s: not a cgroup file name", field);
    if (!YAJL_IS_STRING(v))
      return vc_error_set(err, 0, "%s: must be a string", field);
    if (cg_write(dir, key, v->u.string, field, err) < 0)
      return -1;
  }
  return 0;
}

static int bpf_call(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* The device program for prog, loaded into the kernel; its fd. */
static int load_device_program(const struct bpf_insn *prog, size_t n,
                               vc_error **err) {
  union bpf_attr load = {0};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uintptr_t)prog;
  load.insn_cnt = (uint32_t)n;
  load.license = (uintptr_t) "GPL";
  int fd = bpf_call(BPF_PROG_LOAD, &load);
  if (fd >= 0)
    return fd;
  int e = errno;
  /* Again with the verifier's log, to say why. */
  char log[2048] = "";
  load.log_buf = (uintptr_t)log;
  load.log_size = sizeof(log);
  load.log_level = 1;
  fd = bpf_call(BPF_PROG_LOAD, &load);
  if (fd >= 0)
    return fd;
  for (char *nl = strchr(log, '\n'); nl != NULL; nl = strchr(nl, '\n'))
    *nl = ' ';
  return vc_error_set(err, e, "linux.resources.devices: load the device "
                      "program into the guest kernel%s%s",
                      log[0] ? ": verifier says " : "", log);
}

/* Makes the device program for rules (linux.resources.devices, NULL: none)
 * the only one of the cgroup dir: attached beside the old ones first
 * (BPF_F_ALLOW_MULTI), so nothing slips through in between, then the old
 * ones are detached. */
static int apply_devices(const char *dir, yajl_val rules,
                         const char *spec_devices_json, vc_error **err) {
  yajl_val spec_devices = NULL;
  if (spec_devices_json != NULL &&
      vc_json_parse(spec_devices_json, &spec_devices, err) < 0)
    return vc_error_wrap(err, "linux.devices");
  struct oci_dev_filter filter;
  int rc = oci_dev_filter_build(rules, spec_devices, &filter, err);
  yajl_tree_free(spec_devices);
  if (rc < 0)
    return -1;
  cleanup_free struct bpf_insn *prog = NULL;
  size_t n = 0;
  oci_dev_filter_program(&filter, &prog, &n);
  oci_dev_filter_free(&filter);
  cleanup_close int prog_fd = load_device_program(prog, n, err);
  if (prog_fd < 0)
    return -1;
  cleanup_close int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return vc_error_set(err, errno, "linux.resources.devices: open %s", dir);
  uint32_t old_ids[64];
  union bpf_attr query = {0};
  query.query.target_fd = (uint32_t)dir_fd;
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = (uintptr_t)old_ids;
  query.query.prog_cnt = N_ELEMS(old_ids);
  if (bpf_call(BPF_PROG_QUERY, &query) < 0)
    return vc_error_set(err, errno, "linux.resources.devices: list the device "
                        "programs of %s", dir);
  union bpf_attr attach = {0};
  attach.target_fd = (uint32_t)dir_fd;
  attach.attach_bpf_fd = (uint32_t)prog_fd;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf_call(BPF_PROG_ATTACH, &attach) < 0)
    return vc_error_set(err, errno, "linux.resources.devices: attach the "
                        "device program to %s", dir);
  for (uint32_t i = 0; i < query.query.prog_cnt && i < N_ELEMS(old_ids); i++) {
    union bpf_attr get = {0};
    get.prog_id = old_ids[i];
    cleanup_close int old_fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &get);
    union bpf_attr detach = {0};
    detach.target_fd = (uint32_t)dir_fd;
    detach.attach_bpf_fd = (uint32_t)old_fd;
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (old_fd < 0 || bpf_call(BPF_PROG_DETACH, &detach) < 0)
      return vc_error_set(err, errno, "linux.resources.devices: detach the "
                          "old device program %u from %s", old_ids[i], dir);
  }
  return 0;
}

/* with_devices: install the device program even when json has no
 * "devices" (at create: runc's default rules still apply). */
static int apply_resources(const char *dir, const char *json,
                           const char *spec_devices_json, bool with_devices,
                           vc_error **err) {
  yajl_val r = NULL;
  if (vc_json_parse(json, &r, err) < 0)
    return vc_error_wrap(err, "linux.resources");
  int rc = -1;
  yajl_val v;
  if ((v = vc_json_get_object(r, "cpu")) != NULL && apply_cpu(dir, v, err) < 0)
    goto out;
  if ((v = vc_json_get_object(r, "memory")) != NULL && apply_memory(dir, v, err) < 0)
    goto out;
  if ((v = vc_json_get_object(r, "pids")) != NULL && apply_pids(dir, v, err) < 0)
    goto out;
  if ((v = vc_json_get_object(r, "blockIO")) != NULL && apply_io(dir, v, err) < 0)
    goto out;
  if ((v = vc_json_get_array(r, "hugepageLimits")) != NULL &&
      apply_hugetlb(dir, v, err) < 0)
    goto out;
  if ((v = vc_json_get_object(r, "unified")) != NULL && apply_unified(dir, v, err) < 0)
    goto out;
  yajl_val devices = vc_json_get(r, "devices");
  if ((devices != NULL || with_devices) &&
      apply_devices(dir, devices, spec_devices_json, err) < 0)
    goto out;
  /* network and rdma have no v2 files; see docs/deviations.md. */
  rc = 0;
out:
  yajl_tree_free(r);
  return rc;
}

/* Turns on, in dir's children, every controller dir has.  Failures are
 * left to the writes that need the controller, which name their field. */
static void enable_controllers(const char *dir) {
  cleanup_free char *path = xasprintf("%s/cgroup.controllers", dir);
  cleanup_free char *list = NULL;
  vc_error *e = NULL;
  if (vc_read_file(path, &list, NULL, &e) < 0) {
    vc_error_free(&e);
    return;
  }
  cleanup_free char *ctl = xasprintf("%s/cgroup.subtree_control", dir);
  char *save = NULL;
  for (char *c = strtok_r(list, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
    cleanup_close int fd = open(ctl, O_WRONLY | O_CLOEXEC);
    cleanup_free char *word = xasprintf("+%s", c);
    if (fd >= 0 && write(fd, word, strlen(word)) < 0) {
      /* e.g. a controller the kernel will not enable here: skip it */
    }
  }
}

/* Creates the container's cgroup dir (and its parents) and moves `who` (a
 * pid, or "0" for the writer itself) into it. */
static int cgroup_join(const char *dir, const char *resources_json,
                       const char *devices_json, const char *who,
                       vc_error **err) {
  /* Each ancestor below the root hands its controllers down. */
  size_t root_len = strlen(AGENT_CGROUP_ROOT);
  cleanup_free char *walk = xstrdup(dir);
  for (char *slash = walk + root_len; slash != NULL; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (slash != walk + root_len && mkdir(walk, 0755) < 0 && errno != EEXIST)
      return vc_error_set(err, errno, "linux.cgroupsPath: create cgroup %s", walk);
    enable_controllers(walk);
    *slash = '/';
  }
  if (mkdir(dir, 0755) < 0 && errno != EEXIST)
    return vc_error_set(err, errno, "linux.cgroupsPath: create cgroup %s", dir);
  if (resources_json != NULL
          ? apply_resources(dir, resources_json, devices_json, true, err) < 0
          : apply_devices(dir, NULL, devices_json, err) < 0)
    return -1;
  /* "0" is the writer itself, whatever pid namespace it is in. */
  return cg_write(dir, "cgroup.procs", who, "linux.cgroupsPath", err);
}

int agent_cgroup_place(const char *dir, const char *resources_json,
                       const char *devices_json, pid_t pid, vc_error **err) {
  char who[16];
  snprintf(who, sizeof(who), "%d", (int)pid);
  return cgroup_join(dir, resources_json, devices_json, who, err);
}

int agent_cgroup_enter(const char *dir, const char *resources_json,
                       const char *devices_json, bool own_cgroupns,
                       vc_error **err) {
  if (cgroup_join(dir, resources_json, devices_json, "0", err) < 0)
    return -1;
  if (own_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
    return vc_error_set(err, errno, "linux.namespaces: cgroup namespace");
  return 0;
}

int agent_cgroup_update(const char *dir, const char *resources_json,
                        const char *devices_json, vc_error **err) {
  if (access(dir, F_OK) < 0)
    return vc_error_set(err, errno, "cgroup %s", dir);
  return apply_resources(dir, resources_json, devices_json, false, err);
}

/* One "key value" line's value from a flat-keyed cgroup file's text. */
static bool keyed_value(const char *text, const char *key, uint64_t *out) {
  size_t klen = strlen(key);
  for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
    if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
      return sscanf(l + klen + 1, "%" SCNu64, out) == 1;
  }
  return false;
}

static char *cg_text(const char *dir, const char *file) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  char *text = NULL;
  vc_error *e = NULL;
  if (vc_read_file(path, &text, NULL, &e) < 0)
    vc_error_free(&e);
  return text;
}

/* A single-number file; "max" reads as 0 (runc reports no limit as 0). */
static bool number_file(const char *dir, const char *file, uint64_t *out) {
  cleanup_free char *text = cg_text(dir, file);
  *out = 0;
  return text != NULL &&
         (strncmp(text, "max", 3) == 0 || sscanf(text, "%" SCNu64, out) == 1);
}

uint32_t agent_cgroup_oom_kills(const char *dir) {
  cleanup_free char *events = cg_text(dir, "memory.events");
  uint64_t n = 0;
  if (events == NULL || !keyed_value(events, "oom_kill", &n))
    return 0;
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void stats_cpu(struct vc_jb *b, const char *dir) {
  cleanup_free char *stat = cg_text(dir, "cpu.stat");
  uint64_t v;
  vc_jb_key(b, "cpu");
  vc_jb_open(b, '{');
  vc_jb_key(b, "usage");
  vc_jb_open(b, '{');
  /* cpu.stat counts microseconds; runc reports nanoseconds. */
  static const char *const usage[][2] = {
      {"usage_usec", "total"}, {"user_usec", "user"}, {"system_usec", "kernel"}};
  for (size_t i = 0; i < 3; i++) {
    vc_jb_key(b, usage[i][1]);
    vc_jb_uint(b, stat && keyed_value(stat, usage[i][0], &v) ? v * 1000 : 0);
  }
  vc_jb_close(b, '}');
  vc_jb_key(b, "throttling");
  vc_jb_open(b, '{');
  static const char *const thr[][2] = {{"nr_periods", "periods"},
                                       {"nr_throttled", "throttledPeriods"},
                                       {"throttled_usec", "throttledTime"}};
  for (size_t i = 0; i < 3; i++) {
    vc_jb_key(b, thr[i][1]);
    bool have = stat && keyed_value(stat, thr[i][0], &v);
    vc_jb_uint(b, have ? (i == 2 ? v * 1000 : v) : 0);
  }
  vc_jb_close(b, '}');
  vc_jb_close(b, '}');
}

static void stats_memory(struct vc_jb *b, const char *dir) {
  cleanup_free char *stat = cg_text(dir, "memory.stat");
  uint64_t usage = 0, limit = 0, max = 0, swap = 0, swap_limit = 0, v;
  number_file(dir, "memory.current", &usage);
  number_file(dir, "memory.max", &limit);
  number_file(dir, "memory.peak", &max);
  number_file(dir, "memory.swap.current", &swap);
  number_file(dir, "memory.swap.max", &swap_limit);
  vc_jb_key(b, "memory");
  vc_jb_open(b, '{');
  vc_jb_key(b, "cache");
  vc_jb_uint(b, stat && keyed_value(stat, "file", &v) ? v : 0);
  vc_jb_key(b, "usage");
  vc_jb_open(b, '{');
  vc_jb_key(b, "usage");
  vc_jb_uint(b, usage);
  vc_jb_key(b, "max");
  vc_jb_uint(b, max);
  vc_jb_key(b, "limit");
  vc_jb_uint(b, limit);
  vc_jb_key(b, "failcnt");
  vc_jb_uint(b, 0);
  vc_jb_close(b, '}');
  /* runc's v2 "swap" is memory+swap, like v1's memsw. */
  vc_jb_key(b, "swap");
  vc_jb_open(b, '{');
  vc_jb_key(b, "usage");
  vc_jb_uint(b, usage + swap);
  vc_jb_key(b, "limit");
  vc_jb_uint(b, limit && swap_limit ? limit + swap_limit : 0);
  vc_jb_close(b, '}');
  vc_jb_key(b, "raw");
  vc_jb_open(b, '{');
  char *save = NULL;
  for (char *l = stat ? strtok_r(stat, "\n", &save) : NULL; l;
       l = strtok_r(NULL, "\n", &save)) {
    char *sp = strchr(l, ' ');
    if (sp == NULL || sscanf(sp + 1, "%" SCNu64, &v) != 1)
      continue;
    *sp = '\0';
    vc_jb_key(b, l);
    vc_jb_uint(b, v);
  }
  vc_jb_close(b, '}');
  vc_jb_close(b, '}');
}

/* io.stat lines "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.." as runc's
 * ioServiceBytesRecursive / ioServicedRecursive entries. */
static void stats_blkio(struct vc_jb *b, const char *dir) {
  cleanup_free char *stat = cg_text(dir, "io.stat");
  static const char *const lists[] = {"ioServiceBytesRecursive", "ioServicedRecursive"};
  static const char *const keys[][2] = {{"rbytes", "wbytes"}, {"rios", "wios"}};
  vc_jb_key(b, "blkio");
  vc_jb_open(b, '{');
  for (size_t k = 0; k < 2; k++) {
    vc_jb_key(b, lists[k]);
    vc_jb_open(b, '[');
    for (const char *l = stat; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
      unsigned major, minor;
      if (sscanf(l, "%u:%u", &major, &minor) != 2)
        continue;
      for (size_t op = 0; op < 2; op++) {
        cleanup_free char *needle = xasprintf(" %s=", keys[k][op]);
        const char *eol = strchr(l, '\n');
        const char *at = strstr(l, needle);
        uint64_t v;
        if (at == NULL || (eol && at > eol) ||
            sscanf(at + strlen(needle), "%" SCNu64, &v) != 1)
          continue;
        vc_jb_open(b, '{');
        vc_jb_key(b, "major");
        vc_jb_uint(b, major);
        vc_jb_key(b, "minor");
        vc_jb_uint(b, minor);
        vc_jb_key(b, "op");
        vc_jb_str(b, op == 0 ? "Read" : "Write");
        vc_jb_key(b, "value");
        vc_jb_uint(b, v);
        vc_jb_close(b, '}');
      }
    }
    vc_jb_close(b, ']');
  }
  vc_jb_close(b, '}');
}

char *agent_cgroup_stats(const char *dir) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  stats_cpu(&b, dir);
  stats_memory(&b, dir);
  uint64_t current = 0, limit = 0;
  number_file(dir, "pids.current", &current);
  number_file(dir, "pids.max", &limit);
  vc_jb_key(&b, "pids");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "current");
  vc_jb_uint(&b, current);
  vc_jb_key(&b, "limit");
  vc_jb_uint(&b, limit);
  vc_jb_close(&b, '}');
  stats_blkio(&b, dir);
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

static void signal_procs(const char *dir, int sig, int depth) {
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
  FILE *f = fopen(procs, "re");
  if (f != NULL) {
    long pid;
    while (fscanf(f, "%ld", &pid) == 1)
      if (pid > 1)
        kill((pid_t)pid, sig);
    fclose(f);
  }
  DIR *d = depth < 32 ? opendir(dir) : NULL;
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
    signal_procs(sub, sig, depth + 1);
  }
  if (d != NULL)
    closedir(d);
}

int agent_cgroup_signal(const char *dir, int sig) {
  if (access(dir, F_OK) < 0)
    return -1;
  if (sig == SIGKILL) {
    cleanup_free char *kill_file = xasprintf("%s/cgroup.kill", dir);
    cleanup_close int fd = open(kill_file, O_WRONLY | O_CLOEXEC);
    if (fd >= 0 && write(fd, "1", 1) == 1)
      return 0;
  }
  signal_procs(dir, sig, 0);
  return 0;
}
