/* Pods: several containers in one sandbox (VM), as Kata runs a Kubernetes
 * pod.  A new container joins an existing sandbox when
 *  - its annotations say so, as containerd's CRI plugin and CRI-O write
 *    them (io.kubernetes.cri.container-type = "container" with
 *    io.kubernetes.cri.sandbox-id, or the io.kubernetes.cri-o.ContainerType
 *    / SandboxID pair), or
 *  - a linux.namespaces[].path names a namespace of another container of
 *    ours (/proc/<its pid>/ns/<type>, the pid `state` reports): a namespace
 *    inside a VM can only be joined from that VM.
 * A namespace path is joined in the guest: the agent enters the namespace
 * of that container's process.  A path that names nothing in the sandbox
 * (a host namespace) is refused, naming the field, except a network
 * namespace for the VM (vm_netns below). */
#ifndef VC_POD_H
#define VC_POD_H

#include "lib/host/config.h"
#include "lib/base/error.h"
#include "lib/sizing.h"
#include "oci/spec.h"

struct vc_pod_plan {
  char *sandbox_id; /* the sandbox to join, or NULL for a VM of its own */
  char *joins_json; /* {"ipc":"<container id>",...} for the agent, or NULL */
  /* A host network namespace given to a container that boots its own VM
   * (CRI's pod netns for the sandbox container): the VM runs in it, as
   * Kata's does, and the container gets a network namespace of its own in
   * the guest.  Members given the same path join the sandbox container's. */
  char *vm_netns;
};

/* Decides where container id (spec read from config_path) runs.  Other
 * containers are looked up under cfg's state root. */
int vc_pod_plan(const struct vc_config *cfg, const char *id,
                const struct oci_spec *spec, const char *config_path,
                struct vc_pod_plan *plan, vc_error **err);

void vc_pod_plan_free(struct vc_pod_plan *plan);

/* The sum of what the containers of sandbox_id ask of its VM (their
 * vm_ask), leaving out except_id (NULL: none). */
void vc_pod_vm_asks(const struct vc_config *cfg, const char *sandbox_id,
                    const char *except_id, struct vc_vm_ask *sum);

/* The id of a member of sandbox_id whose process still runs, or NULL. */
char *vc_pod_live_member(const struct vc_config *cfg, const char *sandbox_id);

/* Parses "/proc/<pid>/ns/<name>"; false for any other path. */
bool vc_pod_proc_ns_path(const char *path, long *pid, const char **name);

/* The name under /proc/<pid>/ns/ of an OCI namespace type ("network" is
 * "net", "mount" is "mnt"), or NULL. */
const char *vc_pod_ns_proc_name(const char *type);

#endif
