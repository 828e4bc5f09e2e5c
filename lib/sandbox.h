/* A sandbox: one VM with the host helpers its devices need (virtiofsd for
 * the shared directory, the vhost-user-vsock backend), the share itself
 * (lib/share.h) and the agent inside.  After virtcontainers' Sandbox.
 *
 * A sandbox is named after the container that booted it (a pod's sandbox
 * container); other containers join it as pod members (lib/container.h).
 * Its files live in that container's state directory: sockets, the VMM's
 * and helpers' logs, the share; its persisted part (hypervisor, agent,
 * devices) is a section of that container's state.json (lib/state.h). */
#ifndef VC_SANDBOX_H
#define VC_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "lib/base/agent_proto.h"
#include "lib/base/error.h"
#include "lib/sizing.h"
#include "lib/base/json_build.h"
#include "lib/host/config.h"
#include "vmm/hypervisor.h"

#define VC_GUEST_CID 3
#define VC_ROOTFS_TAG "vcfs0"

#define VC_SANDBOX_INIT {.lock_fd = -1, .vm = {.vhost_vsock_fd = -1}}

struct vc_sandbox {
  char *id;
  char *dir;     /* <state root>/<id>: its container's state directory */
  /* [runtime] run_root/<random>: sockets, logs, the share.  A short
   * directory of its own, so that unix socket paths (108 bytes at most)
   * fit whatever --root and the ids are; the state directory's "run"
   * symlink names it. */
  char *run_dir;
  const struct vc_config *cfg;
  char *netns; /* a host network namespace the VM runs in, or NULL */
  /* The pod network mirrored from netns into the VM (lib/sandbox_net.h),
   * or NULL when there is none. */
  struct vc_sandbox_net *net;
  /* The VM and the helper daemons its devices need, owned by the backend
   * the configuration chose (vm.ops NULL: no VM, or gone). */
  struct vc_vm vm;
  char *hybrid_socket; /* host side of guest vsock (CONNECT <port>) */
  bool hybrid_vsock;   /* our vhost-user backend, else kernel vhost-vsock */
  bool debug;          /* print timings (boot-to-agent) on stderr */
  int lock_fd;         /* flock on dir while held, or -1 */
};

/* Which vsock path this host gets for [agent] transport. */
int vc_sandbox_pick_transport(const char *transport, bool *hybrid, vc_error **err);

/* Readies a new sandbox (id, dir, cfg and netns set, dir existing): makes
 * its run directory (and dir/run naming it) unless run_dir is set already
 * (an existing directory below run_root: a pooled VM's), picks the hypervisor backend
 * the configuration names, the vsock transport and the acceleration, and
 * fills the VM's inputs.  Nothing is started, so the caller can save state
 * before anything runs. */
int vc_sandbox_init(struct vc_sandbox *sb, vc_error **err);

/* Starts the VM with its helpers (vm.ops->start: virtiofsd, the vsock
 * backend, the VMM, in sb->netns when set) and waits until the agent
 * answers Hello with our protocol version.  persist (if non-NULL) is called
 * once the processes run, before the wait.  On failure what was started is
 * stopped again; the directory stays for the caller. */
int vc_sandbox_boot(struct vc_sandbox *sb,
                    int (*persist)(void *arg, vc_error **err), void *arg,
                    vc_error **err);

/* Like vc_sandbox_boot, from a saved template instead (lib/factory.h):
 * vm.ram_file (a copy of the template's RAM file) and vm.vhost_user_later
 * set, sb initialised; restores the VM from state_path (the backend then
 * starts the helpers and hot-plugs their devices), waits for the agent and
 * has it reseed its RNG from the host's entropy and take the host's clock
 * (ReseedGuest) before anything else may use it.  On failure what was
 * started is stopped again. */
int vc_sandbox_restore(struct vc_sandbox *sb, const char *state_path,
                       vc_error **err);

/* Powers the guest off, stops the VM and the helpers, undoes the pod
 * network's attachments (lib/sandbox_net.h), unmounts and removes the
 * share and the run directory; the state directory stays.  Best effort: it goes on past
 * failures, which it reports in *err. */
int vc_sandbox_stop(struct vc_sandbox *sb, vc_error **err);

/* True while the VM and its virtiofsd and vsock backend run. */
bool vc_sandbox_alive(const struct vc_sandbox *sb);

/* A new connection to the agent (a vsock stream to its port). */
int vc_sandbox_agent_connect(const struct vc_sandbox *sb, int timeout_ms,
                             vc_error **err);

/* One request on a fresh connection whose reads and writes time out after
 * [agent] request_timeout (a wedged guest must not hang a command).
 * result: a struct of m's response type, or NULL (see agent_client.h). */
int vc_sandbox_call(const struct vc_sandbox *sb, enum vc_agent_method m,
                    const void *params, void *result, vc_error **err);

/* Resizes the running VM to size (vm.ops' resize_vcpus and resize_memory:
 * vCPUs both ways down to what it booted with, memory up only) and waits
 * until the guest has brought the change online (OnlineResources, within
 * [agent] request_timeout).  *now (if non-NULL) gets the size it has. */
int vc_sandbox_resize(struct vc_sandbox *sb, const struct vc_vm_size *size,
                      struct vc_vm_size *now, vc_error **err);

/* Serializes commands on the sandbox: an exclusive flock on its directory,
 * held until vc_sandbox_free or vc_sandbox_unlock. */
int vc_sandbox_lock(struct vc_sandbox *sb, vc_error **err);
void vc_sandbox_unlock(struct vc_sandbox *sb);

/* The sandbox's section of state.json: "hypervisor" and "devices" (the
 * backend's part), "agent", and "network" when it has one, written into
 * an open object. */
void vc_sandbox_save_json(const struct vc_sandbox *sb, struct vc_jb *b);
/* Reads that section (state: the whole document; where: its path for
 * errors).  id, dir and cfg must be set. */
int vc_sandbox_load_json(struct vc_sandbox *sb, yajl_val state,
                         const char *where, vc_error **err);

/* The run directory a state directory's "run" symlink names, if it is
 * directly below run_root (caller frees), or NULL: for delete --force of a
 * state that cannot be read. */
char *vc_sandbox_run_dir_of(const char *state_dir, const char *run_root);

void vc_sandbox_free(struct vc_sandbox *sb);

#endif
