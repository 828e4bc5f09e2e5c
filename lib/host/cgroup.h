/* Host cgroups: the cgroup a sandbox's host processes (QEMU, virtiofsd,
 * the vsock backend, the shims) run in, so that the host sees, limits and
 * reports the VM's real cost where linux.cgroupsPath says.  This module is
 * the mechanism: find the hierarchies, make a cgroup in each, move pids
 * into it, write limits, remove it.  lib/placement.h decides what to make.
 *
 * Layouts: legacy (cgroup v1: a mount per controller, or a combined one
 * such as cpu,cpuacct, below the root), hybrid (v1 controllers plus a
 * cgroup2 mount at <root>/unified without controllers) and unified (the
 * root is a cgroup2 mount).  A cgroup is one directory per hierarchy with
 * the same path, as runc makes it.
 *
 * Every function returns 0 or -1 with *err set, naming the file. */
#ifndef VC_HOST_CGROUP_H
#define VC_HOST_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/error.h"

#define VC_CGROUP_ROOT "/sys/fs/cgroup"

enum vc_cgroup_layout {
  VC_CGROUP_NONE,    /* no cgroup file system at the root */
  VC_CGROUP_LEGACY,  /* v1 only */
  VC_CGROUP_HYBRID,  /* v1 controllers and a cgroup2 mount at unified/ */
  VC_CGROUP_UNIFIED, /* v2 only */
};

/* One hierarchy: its mount point and, for v1, the name /proc/<pid>/cgroup
 * gives it ("cpu,cpuacct", "memory", "name=systemd"); v2's is "". */
struct vc_cgroup_hierarchy {
  char *mount;
  char *name;
  bool v2;
};

struct vc_cgroup_hierarchies {
  enum vc_cgroup_layout layout;
  struct vc_cgroup_hierarchy *items;
  size_t n;
};

/* The hierarchies mounted at root (VC_CGROUP_ROOT), told by the file
 * system types: each v1 mount directly below it once (a symlink such as
 * cpu -> cpu,cpuacct is skipped), unified/ on a hybrid host, or the root
 * itself.  A root without any is layout NONE with no hierarchies. */
int vc_cgroup_detect(const char *root, struct vc_cgroup_hierarchies *h,
                     vc_error **err);
/* Adds a hierarchy by hand (tests point the module at a directory that
 * mimics one); name as above. */
void vc_cgroup_hierarchies_add(struct vc_cgroup_hierarchies *h,
                               const char *mount, const char *name, bool v2);
void vc_cgroup_hierarchies_free(struct vc_cgroup_hierarchies *h);
/* "hybrid (v1: cpu, memory, ...; v2: /sys/fs/cgroup/unified)": for check. */
char *vc_cgroup_describe(const struct vc_cgroup_hierarchies *h);

/* A cgroup: its directory in every hierarchy, and the parent directories
 * creating it made (removed with it when nothing else uses them). */
struct vc_host_cgroup {
  char **dirs;
  size_t n_dirs;
  char **made;
  size_t n_made;
  /* The cgroup the calling process left to enter this one, to go back to
   * (lib/placement.h), or NULL; owned. */
  struct vc_host_cgroup *origin;
};

/* Fills cg->dirs with path's directory in each hierarchy.  An absolute
 * path hangs from the hierarchy's root; a relative one from the cgroup the
 * process described by self_cgroup (the text of /proc/self/cgroup) is in,
 * as runc's cgroupfs driver does.  path must not contain ".." nor name
 * the root. */
int vc_host_cgroup_resolve(const struct vc_cgroup_hierarchies *h,
                           const char *path, const char *self_cgroup,
                           struct vc_host_cgroup *cg, vc_error **err);

/* Fills cg->dirs with the cgroup self_cgroup's process is in, in each
 * hierarchy (to move it back later). */
int vc_host_cgroup_own(const struct vc_cgroup_hierarchies *h,
                       const char *self_cgroup, struct vc_host_cgroup *cg,
                       vc_error **err);

/* Makes the directories (and their missing parents, recorded in
 * cg->made); an existing one is used as it is.  v1 cpuset directories get
 * their parent's cpus and mems (a new one has none, and takes no task);
 * on v2 each ancestor's cgroup.subtree_control enables what its
 * cgroup.controllers offers (best effort: a parent with processes of its
 * own cannot). */
int vc_host_cgroup_create(struct vc_host_cgroup *cg, vc_error **err);

/* Moves pid (all its threads) into the cgroup in every hierarchy. */
int vc_host_cgroup_enter(const struct vc_host_cgroup *cg, pid_t pid,
                         vc_error **err);

/* Limits; a zero field sets nothing. */
struct vc_cgroup_limits {
  uint64_t memory_bytes;  /* v1 memory.limit_in_bytes, v2 memory.max */
  int64_t cpu_quota_us;   /* > 0: with cpu_period_us, v1 cfs_quota_us/
                             cfs_period_us, v2 cpu.max */
  uint64_t cpu_period_us; /* 0: 100000 */
  uint64_t cpu_shares;    /* v1 cpu.shares, v2 cpu.weight (runc's mapping) */
};

/* Writes each limit into the hierarchy that has its controller (the file
 * exists in the cgroup's directory); a limit no hierarchy can take is an
 * error naming the controller. */
int vc_host_cgroup_set_limits(const struct vc_host_cgroup *cg,
                              const struct vc_cgroup_limits *l,
                              vc_error **err);

/* runc's cpu.shares -> cpu.weight: [2, 262144] onto [1, 10000]. */
uint64_t vc_cgroup_shares_to_weight(uint64_t shares);

/* Removes the directories (waiting up to timeout_ms for exiting
 * processes to leave them), then the parents it made, deepest first,
 * where nothing else is left in them.  A directory already gone is fine. */
int vc_host_cgroup_remove(const struct vc_host_cgroup *cg, int timeout_ms,
                          vc_error **err);

void vc_host_cgroup_free(struct vc_host_cgroup *cg);

#endif
