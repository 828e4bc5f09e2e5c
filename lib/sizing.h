/* How big a sandbox's VM is: the configured base (default_vcpus,
 * default_memory) plus what its container asks in linux.resources, as Kata
 * sizes a pod's VM: vCPUs for the CPU quota (rounded up) or, without one,
 * for the cpuset; memory for the memory limit.  A VM never exceeds what
 * the configuration lets it grow to (default_maxvcpus, default_maxmemory)
 * nor what the host has (its online CPUs, its memory): a container asking
 * more gets a VM of that cap, as runc's limits above the host's size
 * constrain nothing. */
#ifndef VC_SIZING_H
#define VC_SIZING_H

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

/* The VM for a container with linux.resources resources_json (NULL: none);
 * where names config.json for errors (a malformed resources object). */
int vc_vm_size_for(const struct vc_hypervisor_config *cfg,
                   const struct vc_host_size *host, const char *resources_json,
                   const char *where, struct vc_vm_size *size, vc_error **err);

#endif
