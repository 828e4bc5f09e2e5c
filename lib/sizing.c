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

int vc_vm_ask_for(const char *resources_json, const char *where,
                  struct vc_vm_ask *ask, vc_error **err) {
  *ask = (struct vc_vm_ask){0, 0, false, false};
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
    ask->has_memory = true;
  }
  ask->has_cpu = vc_json_get(cpu, "quota") != NULL ||
                 vc_json_get_str(cpu, "cpus") != NULL;
  if (quota > 0) {
    /* runc's default period when only the quota is given. */
    uint64_t p = period ? period : 100000;
    uint64_t n = ((uint64_t)quota + p - 1) / p;
    ask->vcpus = n > 4096 ? 4096 : (unsigned)n;
  } else if (vc_json_get_str(cpu, "cpus") != NULL) {
    ask->vcpus = cpuset_count(vc_json_get_str(cpu, "cpus"));
  }
  uint64_t mib = (limit + (1u << 20) - 1) >> 20;
  ask->memory_mib = mib > UINT32_MAX / 2 ? UINT32_MAX / 2 : (unsigned)mib;
  return 0;
}

static unsigned add_sat(unsigned a, unsigned b) {
  return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

void vc_vm_ask_add(struct vc_vm_ask *sum, const struct vc_vm_ask *ask) {
  sum->vcpus = add_sat(sum->vcpus, ask->vcpus);
  sum->memory_mib = add_sat(sum->memory_mib, ask->memory_mib);
}

void vc_vm_size_max(const struct vc_hypervisor_config *cfg,
                    const struct vc_host_size *host, struct vc_vm_size *max) {
  max->vcpus = cfg->max_vcpus ? cfg->max_vcpus : host->cpus;
  max->memory_mib = cfg->max_memory_mib ? cfg->max_memory_mib : host->memory_mib;
  if (max->vcpus < cfg->vcpus)
    max->vcpus = cfg->vcpus;
  if (max->memory_mib < cfg->memory_mib)
    max->memory_mib = cfg->memory_mib;
}

void vc_vm_size_of(const struct vc_hypervisor_config *cfg,
                   const struct vc_host_size *host, const struct vc_vm_ask *asks,
                   struct vc_vm_size *size) {
  struct vc_vm_size max;
  vc_vm_size_max(cfg, host, &max);
  /* Kata sizes a VM as its base plus the containers: the base is the
   * guest's own (kernel, agent), the rest the containers' to use. */
  uint64_t vcpus = (uint64_t)cfg->vcpus + asks->vcpus;
  uint64_t mib = (uint64_t)cfg->memory_mib + asks->memory_mib;
  size->vcpus = vcpus > max.vcpus ? max.vcpus : (unsigned)vcpus;
  size->memory_mib = mib > max.memory_mib ? max.memory_mib : (unsigned)mib;
}

int vc_vm_size_for(const struct vc_hypervisor_config *cfg,
                   const struct vc_host_size *host, const char *resources_json,
                   const char *where, struct vc_vm_size *size, vc_error **err) {
  struct vc_vm_ask ask;
  if (vc_vm_ask_for(resources_json, where, &ask, err) < 0)
    return -1;
  vc_vm_size_of(cfg, host, &ask, size);
  return 0;
}
