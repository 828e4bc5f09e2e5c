/* The VM factory: a pool of pre-booted idle sandboxes ([factory] in the
 * configuration), so that `create` of a container that would boot its own
 * VM claims a running one instead (after Kata's VMCache, without its
 * daemon).  A pooled VM is a whole sandbox (lib/sandbox.h) with no
 * container: QEMU, virtiofsd exporting an empty share, the vsock backend
 * and an agent waiting for requests, in a run directory of its own below
 * [runtime] run_root, as any sandbox's.
 *
 * The pool's directory ([factory] path, default <run_root>/pool) holds one
 * directory per configuration key (vc_factory_key: a hash of everything
 * that shapes the VM), and in it one entry file per VM, named by its state:
 *   <vm>.boot.<pid>    being booted by process pid: {"run_dir"}
 *   <vm>.ready         idle: {"key","run_dir", the sandbox's state.json
 *                      section (hypervisor, devices, agent), "start_times"}
 *   <vm>.claim.<pid>   being adopted by the create of process pid
 * Every change of the pool is made under an flock on the pool directory;
 * a claim is the rename of <vm>.ready to <vm>.claim.<pid>, so two creates
 * never get the same VM.  A VM is used once: it leaves with its container.
 *
 * Ownership: until a claim the pool owns a VM (`vcrun factory destroy`
 * stops it); after, the claiming container does, exactly as if it had
 * booted it (its state.json names the run directory and the pids).  An
 * entry whose booter or claimer died is swept by the next fill, claim or
 * destroy: the VM and whatever names its run directory are stopped, unless
 * a container's state directory already names that run directory.
 * Refill: after a claim, create starts `vcrun factory refill` detached.
 *
 * Templates ([factory] template = true): init first boots a template VM
 * without vhost-user devices (QEMU 7.2 cannot migrate them) to a listening
 * agent and saves it: RAM in a file of the pool's tmpfs (<root>/ram),
 * device state beside it.  Pooled VMs are then its clones: a sparse copy
 * of the RAM file mapped shared (so virtiofsd and the vsock backend can map
 * it), the devices restored, vsock and virtio-fs hot-plugged, and the
 * agent reseeded (ReseedGuest: host entropy, host clock) before anything
 * uses it.  A create with no ready VM restores such a clone itself. */
#ifndef VC_FACTORY_H
#define VC_FACTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "lib/host/config.h"
#include "lib/sandbox.h"

/* The pool's directory (caller frees). */
char *vc_factory_root(const struct vc_config *cfg);

/* The configuration's pool key: *key a 16-hex-digit hash of *text (both
 * caller's), the lines naming what shapes a VM: the protocol version, the
 * hypervisor backend, QEMU, kernel, initrd, virtiofsd and vsock backend
 * (path, inode, size and mtime: a new build or package is a new key),
 * machine type, vCPUs, memory and their maxima, the resolved acceleration
 * and vsock transport, kernel_params, the virtio-fs cache, root ports and
 * run_root. */
int vc_factory_key(const struct vc_config *cfg, char **key, char **text,
                   vc_error **err);

/* Tops the pool up to [factory] pool_size VMs (ready or booting) and waits
 * for the boots it started (in parallel, one child process each).  init:
 * makes the pool for this configuration's key if needed and stops the
 * pools of other keys (stale); else (refill) does nothing unless a pool for
 * this key exists.  Dead entries are swept first.  *booted (if non-NULL)
 * gets the number of VMs it made ready. */
int vc_factory_fill(const struct vc_config *cfg, bool init, unsigned *booted,
                    vc_error **err);

/* Stops every pooled VM of every key (booters first), and removes the
 * pool's directory.  VMs being claimed by a live create are left to it. */
int vc_factory_destroy(const struct vc_config *cfg, vc_error **err);

struct vc_factory_vm {
  char *key;   /* its pool's key */
  char *name;
  char *state; /* "ready", "booting", "claiming" */
  pid_t owner; /* booter or claimer, 0 for ready */
  pid_t qemu_pid;
  bool alive;  /* ready: QEMU and helpers run, as recorded */
};

struct vc_factory_status {
  char *root;
  char *key;      /* this configuration's */
  bool pool;      /* a pool exists for key */
  bool template_ready; /* key's template is saved ([factory] template) */
  unsigned ready, booting, claiming, dead; /* of key's pool */
  unsigned stale_keys, stale_vms;         /* pools of other keys */
  struct vc_factory_vm *vms;              /* every key's */
  size_t n_vms;
};

/* Reads the pool without changing it. */
int vc_factory_status(const struct vc_config *cfg, struct vc_factory_status *st,
                      vc_error **err);
void vc_factory_status_free(struct vc_factory_status *st);

/* Claims a ready VM for sandbox sb (id, dir and cfg set, dir existing;
 * the caller hot-plugs a pod network's NICs and moves the VM into its host
 * cgroup): the VM's pids are checked (command line and start
 * time) under the pool's lock, its entry renamed, dir/run made to name its
 * run directory, and sb filled as if loaded from state (run_dir, vm, agent).
 * persist (if non-NULL) is then called to save the container's state;
 * only after it succeeded is the claim entry removed and a refill started.
 * Returns 1 when sb holds the VM, 0 when there was none to claim (*why,
 * caller frees, says why: no pool for this key, empty, dead VMs skipped),
 * -1 when persist failed (the VM is stopped again). */
int vc_factory_claim(struct vc_sandbox *sb,
                     int (*persist)(void *arg, vc_error **err), void *arg,
                     char **why, vc_error **err);

/* Without a ready VM but with a template for this configuration's key
 * ([factory] template, built by init): *state_path (the template's saved
 * devices) and *ram_path, a sparse copy of its RAM file made for one new
 * sandbox (both caller's).  The caller restores with them
 * (vc_sandbox_restore with vm.ram_file = *ram_path, vm.vhost_user_later)
 * and unlinks *ram_path once QEMU runs (QEMU keeps the mapping).  Returns
 * 1, or 0 when there is no template (*why says so), or -1 when the copy
 * failed. */
int vc_factory_template_copy(const struct vc_config *cfg, char **state_path,
                             char **ram_path, char **why, vc_error **err);

#endif
