/* A container's persisted state: <state root>/<id>/state.json, versioned,
 * shaped after Kata's persist API (seed 002): the sandbox, its hypervisor,
 * the agent, the devices plugged into it and its containers.
 *
 * Version 3 (written now):
 *   {"version": 3,
 *    "sandbox": {"id", "network_namespace"?, "vm_pid"? (a member's: the VM
 *                it joined)},
 *    "hypervisor", "agent", "devices", "network"? (the pod network's
 *                attachments and interfaces, lib/sandbox_net.h): only in
 *                the sandbox container's file (lib/sandbox.h writes them),
 *    "containers": {"<id>": {"bundle", "rootfs", "cgroup_path", "share"?,
 *                            "created",
 *                            "host_cgroup"?: {"dirs", "made"} (lib/placement.h),
 *                            "process": {"pid"}}}}
 * "share" (the container's directory in its sandbox's share) is absent in
 * files written before it existed: the id then.  Version 2 kept the
 * container's creation time as "sandbox.created"; it is
 * still read (migrated on load), and the next save writes version 3. */
#ifndef VC_STATE_H
#define VC_STATE_H

#include "lib/base/error.h"
#include "lib/host/config.h"

#define VC_STATE_VERSION 3
#define VC_STATE_VERSION_OLDEST 2

struct vc_container;

/* Writes c's state.json atomically (and its sandbox's section when c owns
 * the sandbox). */
int vc_state_save(const struct vc_container *c, vc_error **err);

/* Reads <state root>/<id>/state.json into c (fields NULL before), and the
 * sandbox's section: from the same file for the sandbox container, from
 * the sandbox's file for a member (no VM when it is gone or is another).
 * An unknown id fails with errnum ENOENT and "container `id` does not
 * exist"; an unknown version is refused naming both versions. */
int vc_state_load(const struct vc_config *cfg, const char *id,
                  struct vc_container *c, vc_error **err);

#endif
