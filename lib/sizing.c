#include "lib/sizing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/util.h"

void vc_host_size(struct vc_host_size *host) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  host->cpus = cpus > 0 ? (unsigned)cpus : 0;
  host->memory_mib = 0;
  FILE *f = fopen("/proc/meminfo", "re");
  char line[256];
  unsigned long long kib;
  while (f != NULL && fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "MemTotal: %llu kB", &kib) == 1) {
      host->memory_mib = (unsigned)(kib / 1024);
      break;
    }
  if (f != NULL)
    fclose(f);
}

/* CPUs in a cpuset list ("0-3,6"); 0 for an empty or malformed one. */
static unsigned cpuset_count(const char *list) {
  unsigned n = 0;
  const char *p = list;
  while (*p != '\0') {
    char *end;
    unsigned long lo = strtoul(p, &end, 10), hi = lo;
    if (end == p)
      return 0;
    if (*end == '-') {
      p = end + 1;
      hi = strtoul(p, &end, 10);
      if (end == p || hi < lo)
        return 0;
    }
    if (hi - lo >= 4096)
      return 0;
    n += (unsigned)(hi - lo + 1);
    if (*end == ',')
      end++;
    else if (*end != '\0')
      return 0;
    p = end;
  }
  return n;
}

static unsigned cap(unsigned want, unsigned configured, unsigned host) {
  unsigned limit = configured ? configured : host;
  return limit && want > limit ? limit : want;
}

int vc_vm_size_for(const struct vc_hypervisor_config *cfg,
                   const struct vc_host_size *host, const char *resources_json,
                   const char *where, struct vc_vm_size *size, vc_error **err) {
  size->vcpus = cfg->vcpus;
  size->memory_mib = cfg->memory_mib;
  if (resources_json == NULL)
    return 0;
  cleanup_yajl yajl_val res = NULL;
  if (vc_json_parse(resources_json, &res, err) < 0)
    return vc_error_wrap(err, "%s: linux.resources", where);
  yajl_val cpu = vc_json_get_object(res, "cpu");
  yajl_val memory = vc_json_get_object(res, "memory");
  int64_t quota = 0;
  uint64_t period = 0, limit = 0;
  yajl_val v;
  if ((v = vc_json_get(cpu, "quota")) != NULL)
    vc_json_to_i64(v, INT64_MIN, INT64_MAX, &quota);
  if ((v = vc_json_get(cpu, "period")) != NULL)
    vc_json_to_u64(v, UINT64_MAX, &period);
  if ((v = vc_json_get(memory, "limit")) != NULL) {
    int64_t l = 0;
    if (vc_json_to_i64(v, INT64_MIN, INT64_MAX, &l) == VC_JSON_NUM_OK && l > 0)
      limit = (uint64_t)l;
  }
  unsigned extra_cpus = 0;
  if (quota > 0) {
    /* runc's default period when only the quota is given. */
    uint64_t p = period ? period : 100000;
    extra_cpus = (unsigned)(((uint64_t)quota + p - 1) / p);
  } else if (vc_json_get_str(cpu, "cpus") != NULL) {
    extra_cpus = cpuset_count(vc_json_get_str(cpu, "cpus"));
  }
  uint64_t extra_mib = (limit + (1u << 20) - 1) >> 20;
  /* Kata sizes a VM as its base plus the container: the base is the
   * guest's own (kernel, agent), the rest the container's to use. */
  size->vcpus = cap(cfg->vcpus + extra_cpus, cfg->max_vcpus > cfg->vcpus ? cfg->max_vcpus : 0,
                    host->cpus > cfg->vcpus ? host->cpus : cfg->vcpus);
  uint64_t mib = (uint64_t)cfg->memory_mib + extra_mib;
  unsigned want_mib = mib > UINT32_MAX ? UINT32_MAX : (unsigned)mib;
  size->memory_mib = cap(want_mib,
                         cfg->max_memory_mib > cfg->memory_mib ? cfg->max_memory_mib : 0,
                         host->memory_mib > cfg->memory_mib ? host->memory_mib : cfg->memory_mib);
  return 0;
}
