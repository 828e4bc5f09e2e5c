/* A sandbox: one VM with its host-side helpers (virtiofsd for the shared
 * rootfs, the vhost-user-vsock backend) and the agent inside it.  After
 * virtcontainers' Sandbox; pods will put several containers in one. */
#ifndef VC_SANDBOX_H
#define VC_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/host/config.h"
#include "lib/base/error.h"
#include "oci/spec.h"
#include "vmm/hypervisor.h"

/* Which vsock path this host gets for [agent] transport. */
int vc_sandbox_pick_transport(const char *transport, bool *hybrid, vc_error **err);

#define VC_STATE_VERSION 2
#define VC_GUEST_CID 3
#define VC_ROOTFS_TAG "vcfs0"

#define VC_SANDBOX_INIT \
  {.lock_fd = -1, .sandbox_lock_fd = -1, .vm = {.vhost_vsock_fd = -1}}

struct vc_sandbox {
  char *id;  /* the container */
  char *dir; /* <state root>/<id>: its state.json, lock and exec files */
  /* The sandbox (VM) the container runs in: its own id for the container
   * that booted the VM, another container's for a pod member (pod.h). */
  char *sandbox_id;
  char *sandbox_dir; /* <state root>/<sandbox_id>: sockets, logs, share */
  const struct vc_config *cfg;
  char *rootfs; /* host directory shared as the container's root */
  char *cgroup_path; /* the container's cgroup below the guest's root */
  char *bundle;
  /* create and run only, not saved: its bind mounts are shared too */
  const struct oci_spec *spec;
  /* create and run only, from pod.h: the sandbox to join, and the
   * namespaces of its containers to enter ({"ipc":"<id>",...} or NULL) */
  char *join_sandbox;
  char *join_namespaces;
  char *vm_netns; /* a host network namespace to start the VM in, or NULL */
  struct vc_vm vm;
  char *hybrid_socket; /* host side of guest vsock (CONNECT <port>) */
  bool hybrid_vsock;    /* our vhost-user backend, else kernel vhost-vsock */
  char *self_exe; /* this vcrun binary, which the shim runs */
  bool debug;     /* print timings (boot-to-agent) on stderr */
  /* The container: */
  pid_t shim_pid;   /* the process in --pid-file; exits with the container */
  char *created;    /* RFC 3339 creation time */
  int lock_fd;      /* flock on the state directory, or -1 */
  /* A joining member holds its sandbox's lock from join until its shim is
   * saved, so the sandbox cannot be deleted in between; or -1. */
  int sandbox_lock_fd;
};

/* Creates the state directory (failing if the id is taken), then starts
 * virtiofsd, the vsock backend and the VM, and waits until the agent
 * answers.  With join_sandbox set, it joins that running sandbox instead:
 * the container's rootfs and mount sources are bound into the sandbox's
 * share under its lock, and no VM starts.  On failure everything started
 * is stopped and the directory is removed.  The caller owns sb's strings
 * before and after. */
int vc_sandbox_start(struct vc_sandbox *sb, vc_error **err);

/* Releases the sandbox's lock a joining member holds (see sandbox_lock_fd). */
void vc_sandbox_unlock_sandbox(struct vc_sandbox *sb);

/* True for the container that booted its sandbox's VM. */
bool vc_sandbox_owns_vm(const struct vc_sandbox *sb);

/* A new connection to the agent (a vsock stream to its port). */
int vc_sandbox_agent_connect(const struct vc_sandbox *sb, int timeout_ms,
                             vc_error **err);

/* A connection for request/response calls: one that waits at most
 * answer_timeout_ms for each read or write. */
int vc_sandbox_agent_request_fd(const struct vc_sandbox *sb,
                                unsigned answer_timeout_ms, vc_error **err);

/* For the container that booted the VM: stops the VM and its helpers and
 * removes the state directory.  For a pod member: removes the container
 * from the guest and the share, and its state directory; the VM stays.
 * Best effort: it goes on past failures, which it reports in *err. */
int vc_sandbox_destroy(struct vc_sandbox *sb, vc_error **err);

/* Writes state.json (versioned) atomically. */
int vc_sandbox_save(const struct vc_sandbox *sb, vc_error **err);

/* Restores a container and its sandbox from <state root>/<id>/state.json
 * (and, for a pod member, its sandbox's) for the commands after create.
 * A member whose sandbox is gone loads with no VM (vm.ops NULL), so it
 * reads as stopped and can be deleted.  An unknown id fails with errnum ENOENT and "container `id`
 * does not exist"; a state of another version is refused. */
int vc_sandbox_load(const struct vc_config *cfg, const char *id,
                    struct vc_sandbox *sb, vc_error **err);

/* Serializes commands on one container: an exclusive flock on its state
 * directory, held until vc_sandbox_free. */
int vc_sandbox_lock(struct vc_sandbox *sb, vc_error **err);

/* True while the VM and its virtiofsd and vsock backend run. */
bool vc_sandbox_alive(const struct vc_sandbox *sb);

/* config.json as create read it, kept in the container's state directory
 * (as runc keeps its copy): exec, state and hooks read that, not the
 * bundle, which may change or go after create. */
int vc_sandbox_save_config(const struct vc_sandbox *sb, const char *config_text,
                           vc_error **err);
/* That copy's path, or the bundle's config.json for a state without one. */
char *vc_sandbox_config_path(const struct vc_sandbox *sb);
/* The container's spec from that file. */
int vc_sandbox_load_spec(const struct vc_sandbox *sb, struct oci_spec **spec,
                         vc_error **err);

void vc_sandbox_free(struct vc_sandbox *sb);

#endif
