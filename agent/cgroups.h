/* linux.resources in the guest's cgroup v2 hierarchy (mounted by the agent
 * at /sys/fs/cgroup).  A container's cgroup is its linux.cgroupsPath below
 * that root (/<id> by default, as with runc); functions take its directory. */
#ifndef VC_AGENT_CGROUPS_H
#define VC_AGENT_CGROUPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/error.h"

#define AGENT_CGROUP_ROOT "/sys/fs/cgroup"

/* Creates the container's cgroup dir (and its parents), writes
 * linux.resources (resources_json, NULL if absent) into it, with the
 * device program of linux.resources.devices and runc's default device
 * rules (devices_json is linux.devices, whose paths can replace a default;
 * NULL if absent), and moves the calling process in; with own_cgroupns,
 * also gives the caller a cgroup namespace rooted there (the clone-time one
 * was rooted at the agent's cgroup).  Runs in the container child before
 * its mounts, so a cgroup mount shows the container's own cgroup.  A value
 * the guest cannot apply is an error naming its field. */
int agent_cgroup_enter(const char *dir, const char *resources_json,
                       const char *devices_json, bool own_cgroupns,
                       vc_error **err);
/* The same for a child in a user namespace, which cannot write the guest's
 * cgroup files itself: the agent moves pid in. */
int agent_cgroup_place(const char *dir, const char *resources_json,
                       const char *devices_json, pid_t pid, vc_error **err);

/* vcrun update: writes resources_json (a LinuxResources object) into the
 * existing cgroup dir; its "devices", when present, replace the device
 * program (devices_json as for agent_cgroup_enter). */
int agent_cgroup_update(const char *dir, const char *resources_json,
                        const char *devices_json, vc_error **err);

/* Sends sig to every process in the cgroup dir and the cgroups below it
 * (kill --all, and deleting a container without a pid namespace of its
 * own, as runc signals a container by its cgroup).  SIGKILL goes through
 * cgroup.kill where the kernel has it, which cannot miss a fork. */
int agent_cgroup_signal(const char *dir, int sig);

/* vcrun events: the cgroup's counters as runc's stats JSON (cpu, memory,
 * pids, blkio); a file the guest kernel lacks leaves its fields out. */
char *agent_cgroup_stats(const char *dir);

/* memory.events' oom_kill in dir: processes of the cgroup (and below) the
 * OOM killer killed; 0 when the file or the key is missing. */
uint32_t agent_cgroup_oom_kills(const char *dir);

#endif
