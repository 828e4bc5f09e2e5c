/* Host cgroup placement: which host cgroup a container's host processes go
 * into, with which limits, and its lifetime (lib/host/cgroup.h does the
 * file work).
 *
 * The cgroup is linux.cgroupsPath as runc names it on the host: cgroupfs
 * paths as given (relative ones, and the id when empty, below the caller's
 * own cgroup), or with --systemd-cgroup slice:prefix:name as
 * <expanded slice>/<prefix>-<name>.scope, made directly as a directory
 * (no transient unit over D-Bus).  The sandbox container's cgroup holds the
 * VM: QEMU, virtiofsd, the vsock backend and its shim; it gets the pod's
 * limits plus [runtime] host_cgroup_overhead.  A pod member's holds its
 * shim only.  The creating process enters the cgroup before it starts
 * anything, so every helper is charged there from its first page.
 *
 * [runtime] host_cgroups = false, or a host without cgroups: nothing. */
#ifndef VC_PLACEMENT_H
#define VC_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "lib/base/error.h"
#include "lib/base/json_build.h"
#include "lib/host/cgroup.h"
#include "oci/spec.h"

struct vc_context;

/* The directories of container id's host cgroup (cg->dirs; none when
 * placement is off).  Errors name linux.cgroupsPath; the caller adds the
 * file. */
int vc_placement_plan(const struct vc_context *ctx, const char *id,
                      const struct oci_spec *spec, struct vc_host_cgroup *cg,
                      vc_error **err);

/* The VM's limits from spec: linux.resources memory.limit, cpu.quota,
 * cpu.period, cpu.shares, each replaced by containerd's sandbox
 * annotation (io.kubernetes.cri.sandbox-memory, -cpu-quota, -cpu-period,
 * -cpu-shares: the pod's totals) when that is set; memory plus
 * overhead_mib when there is a memory limit.  Bad values are errors naming
 * the field. */
int vc_placement_vm_limits(const struct oci_spec *spec, unsigned overhead_mib,
                           struct vc_cgroup_limits *l, vc_error **err);

/* Makes cg, writes limits (NULL: none) and moves the calling process into
 * it, so what it starts from now on runs there.  The process's previous
 * cgroup is remembered in cg->origin for vc_placement_leave. */
int vc_placement_enter(struct vc_host_cgroup *cg,
                       const struct vc_cgroup_limits *limits, vc_error **err);

/* Moves running processes (n pids, 0s skipped) into cg, which the caller
 * has entered: a VM claimed from the factory's pool (lib/factory.h) joins
 * its container's cgroup, QEMU with all its threads.  What the processes
 * had charged before (their memory pages) stays charged where they ran,
 * as the kernel moves no charges on cgroup v2. */
int vc_placement_adopt(const struct vc_host_cgroup *cg, const pid_t *pids,
                       size_t n, vc_error **err);

/* Moves the calling process into an existing cg (a detached exec's shim
 * follows it); a cgroup that is gone is an error. */
int vc_placement_join(const struct vc_host_cgroup *cg, vc_error **err);

/* Moves the calling process back to where it was before
 * vc_placement_enter: what it starts from then on (host hooks, as runc runs
 * them outside the container's cgroup) is not charged to cg. */
void vc_placement_leave(const struct vc_host_cgroup *cg);

/* Removes cg once its processes are gone (the calling process moves back
 * first if it entered it). */
int vc_placement_remove(const struct vc_host_cgroup *cg, vc_error **err);

/* "host_cgroup": {"dirs": [...], "made": [...]} into an open object (only
 * when there is one), and back from a container's state object. */
void vc_placement_save_json(const struct vc_host_cgroup *cg, struct vc_jb *b);
void vc_placement_load_json(struct vc_host_cgroup *cg, yajl_val container);

#endif
