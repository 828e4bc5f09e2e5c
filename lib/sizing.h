/* How big a sandbox's VM is: the configured base (default_vcpus,
 * default_memory) plus what its container asks in linux.resources, as Kata
 * sizes a pod's VM: vCPUs for the CPU quota (rounded up) or, without one,
 * for the cpuset; memory for the memory limit.  A pod's VM is the base plus
 * the asks of all its containers, grown by hot-plug as members join and
 * `update` raises a limit (lib/container.c).  A VM never exceeds what the
 * configuration lets it grow to (default_maxvcpus, default_maxmemory; 0:
 * what the host has, its online CPUs and its memory): a container asking
 * more gets a VM of that cap, as runc's limits above the host's size
 * constrain nothing. */
#ifndef VC_SIZING_H
#define VC_SIZING_H

#include <stdbool.h>

#include "lib/base/error.h"
#include "lib/host/config.h"

struct vc_vm_size {
  unsigned vcpus;
  unsigned memory_mib;
};

/* What the host offers: online CPUs and MemTotal in MiB (0: unknown). */
struct vc_host_size {
  unsigned cpus;
  unsigned memory_mib;
};
void vc_host_size(struct vc_host_size *host);

/* What a container asks on top of the base: vCPUs for linux.resources'
 * CPU quota (rounded up) or, without one, its cpuset; MiB for its memory
 * limit.  has_cpu / has_memory: resources_json says anything of the CPU /
 * the memory (an `update` changes only what it names).  resources_json
 * NULL asks nothing; where names config.json for errors. */
struct vc_vm_ask {
  unsigned vcpus;
  unsigned memory_mib;
  bool has_cpu, has_memory;
};
int vc_vm_ask_for(const char *resources_json, const char *where,
                  struct vc_vm_ask *ask, vc_error **err);

/* Adds ask to sum (saturating). */
void vc_vm_ask_add(struct vc_vm_ask *sum, const struct vc_vm_ask *ask);

/* The most a VM may grow to: default_maxvcpus / default_maxmemory, or the
 * host's CPUs / memory where those are 0; never less than the base. */
void vc_vm_size_max(const struct vc_hypervisor_config *cfg,
                    const struct vc_host_size *host, struct vc_vm_size *max);

/* The base plus the asks of every container in the VM (vcpus and
 * memory_mib summed), capped by vc_vm_size_max. */
void vc_vm_size_of(const struct vc_hypervisor_config *cfg,
                   const struct vc_host_size *host, const struct vc_vm_ask *asks,
                   struct vc_vm_size *size);

/* The VM for one container with linux.resources resources_json (NULL:
 * none): vc_vm_ask_for, then vc_vm_size_of. */
int vc_vm_size_for(const struct vc_hypervisor_config *cfg,
                   const struct vc_host_size *host, const char *resources_json,
                   const char *where, struct vc_vm_size *size, vc_error **err);

#endif
