/* The hypervisor interface: every VMM backend is one set of files behind
 * this table of functions (after virtcontainers' hypervisor interface).  The
 * configuration picks the backend ([hypervisor.<name>], see
 * vc_hypervisor_select); the sandbox layer fills the inputs of a vc_vm and
 * drives the VM through the ops.  A backend owns the helper daemons its
 * devices need (QEMU: virtiofsd and vcrun-vsock-backend): it starts them
 * before the VMM, stops them after it, counts them in alive, and persists
 * their pids and sockets in its part of state.json. */
#ifndef VC_HYPERVISOR_H
#define VC_HYPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "lib/base/error.h"
#include "lib/base/json_build.h"
#include "lib/host/config.h"

struct vc_vm_device;

struct vc_vm {
  const struct vc_hypervisor_ops *ops;
  /* Inputs, filled by the caller before start (and before load_state for
   * cfg, id and dir); the strings are the caller's unless noted. */
  const struct vc_hypervisor_config *cfg;
  const char *id;
  const char *dir;       /* sandbox state directory: sockets and logs */
  char *share_dir;       /* host directory exported to the guest as fs_tag,
                            or NULL for none; owned (vc_vm_free) */
  const char *fs_tag;
  bool hybrid_vsock;     /* vsock through a vhost-user backend exporting
                            hybrid_socket; else the kernel's vhost-vsock */
  const char *hybrid_socket; /* host side of the guest's vsock (hybrid) */
  uint64_t guest_cid;    /* hybrid: the CID; kernel: the first one to try,
                            start replaces it with the one it reserved */
  const char *netns;     /* host network namespace for the VMM, or NULL */
  unsigned vcpus;        /* the VM's size at start; 0: cfg's default_vcpus */
  unsigned memory_mib;   /* 0: cfg's default_memory */
  /* Headroom: the most it may grow to by hot-plug (lib/sizing.h's
   * vc_vm_size_max); not above the start size: none. */
  unsigned max_vcpus, max_memory_mib;
  bool use_kvm;          /* resolved from cfg->accel */
  /* Net devices present from boot (the pod's NICs when they were known
   * before the VM started): on the VMM's command line, their fds kept
   * open into it.  The caller keeps the array and the fds. */
  const struct vc_vm_device *cold_nics;
  size_t n_cold_nics;
  /* Templates and their clones (lib/factory.h): guest RAM in this file
   * (shared, so vhost-user daemons can map it), else an anonymous memfd. */
  const char *ram_file;
  /* No vsock or virtio-fs device on the command line (QEMU cannot migrate
   * them) but two more root ports for them, and "vcrun.template" on the
   * kernel command line; restore_vm then starts the daemons and hot-plugs
   * the devices once the guest runs again. */
  bool vhost_user_later;
  /* Filled by start and load_state, persisted by save_state: */
  pid_t pid;
  char *qmp_socket;
  char *log_path;     /* the VMM's own messages */
  char *console_path; /* the guest's serial console */
  pid_t virtiofsd_pid;     /* 0: none */
  pid_t vsock_backend_pid; /* 0: none */
  /* start only: /dev/vhost-vsock fd holding guest_cid while QEMU starts */
  int vhost_vsock_fd;
};

/* A device to hot-plug or unplug.  kind says which fields count. */
enum vc_vm_device_kind {
  VC_VM_DEVICE_NET,
  VC_VM_DEVICE_VSOCK,
  VC_VM_DEVICE_FS,
  VC_VM_DEVICE_BLOCK,
};

struct vc_vm_device {
  enum vc_vm_device_kind kind;
  const char *id;   /* unique in the VM; unplug goes by it */
  const int *fds;   /* net: one tap fd per queue (the caller keeps them) */
  size_t n_fds;
  const char *mac;  /* net: "52:54:00:12:34:56", or NULL for the VMM's */
  unsigned mtu;     /* net: 0 for the default */
  const char *socket; /* vsock, fs: the vhost-user socket */
  const char *tag;    /* fs: the mount tag */
  uint64_t guest_cid; /* vsock */
  const char *path;   /* block: host file or block device */
  bool read_only;     /* block */
};

/* "net", "vsock", "fs" or "block". */
const char *vc_vm_device_kind_name(enum vc_vm_device_kind kind);

/* Every op fills *err with one line on failure.  An op a backend cannot do
 * fails with errnum ENOTSUP and "<op>: not supported by the <backend>
 * hypervisor backend: <why>" (vc_vm_not_supported). */
struct vc_hypervisor_ops {
  const char *name;
  /* Starts the helper daemons, then the VMM, detached from the caller;
   * returns once they run.  On failure nothing it started runs. */
  int (*start)(struct vc_vm *vm, vc_error **err);
  /* Asks the VMM to quit (force: kills it), then stops the helpers;
   * returns once they are gone.  Safe on a VM that is partly or wholly
   * gone already: each pid is checked against its command line first. */
  int (*stop)(struct vc_vm *vm, bool force, vc_error **err);
  /* True while the VMM and every helper it needs run. */
  bool (*alive)(const struct vc_vm *vm);
  /* Writes the backend's part of state.json as members of the open
   * object: "hypervisor" (an object with "type" = name) and "devices" (an
   * array of {"type","daemon_pid","socket"} for the helpers). */
  void (*save_state)(const struct vc_vm *vm, struct vc_jb *out);
  /* Reads that part back from the whole state document (vm's cfg, id and
   * dir set); documents written before load_state existed load too. */
  int (*load_state)(struct vc_vm *vm, yajl_val state, vc_error **err);
  /* Adds or removes a device while the guest runs. */
  int (*hotplug)(struct vc_vm *vm, const struct vc_vm_device *dev,
                 vc_error **err);
  int (*unplug)(struct vc_vm *vm, const struct vc_vm_device *dev,
                vc_error **err);
  /* Changes the number of vCPUs / the memory size in MiB; *now (if
   * non-NULL) gets the count or size the VM has afterwards.  Shrinking
   * stops at what the VM started with (vCPUs: only hot-plugged ones go,
   * asynchronously, once the guest lets them go) and memory only grows
   * (a smaller size leaves it as it is): that is not an error.  The guest
   * must still bring what was added online (the agent's OnlineResources). */
  int (*resize_vcpus)(struct vc_vm *vm, unsigned vcpus, unsigned *now,
                      vc_error **err);
  int (*resize_memory)(struct vc_vm *vm, unsigned mib, unsigned *now,
                       vc_error **err);
  /* Saves the running VM (devices and RAM) to path, leaving it paused;
   * restore_vm starts a VM from such a file instead of booting (vm's
   * inputs as for start).  With ram_file, the RAM stays in that file
   * (x-ignore-shared): a restore maps a copy of it as its own ram_file. */
  int (*save_vm)(struct vc_vm *vm, const char *path, vc_error **err);
  int (*restore_vm)(struct vc_vm *vm, const char *path, vc_error **err);
};

/* QEMU (vmm/qemu.c): start, stop, alive, save_state, load_state, resize
 * over QMP (with headroom from default_maxvcpus / default_maxmemory, q35
 * only) and save_vm/restore_vm without vhost-user devices; hot-plug of net
 * goes to vc_qemu_net_hotplug, of vsock and fs (vhost-user, q35) to
 * vc_qemu_vhost_user_hotplug (vmm/qemu.h); block hot-plug and unplug are
 * ENOTSUP. */
extern const struct vc_hypervisor_ops vc_qemu_ops;
/* Runs nothing and records every call (vmm/mock.h), for unit tests. */
extern const struct vc_hypervisor_ops vc_mock_ops;

/* The backend called name ("qemu" or "mock"), or NULL. */
const struct vc_hypervisor_ops *vc_hypervisor_lookup(const char *name);

/* The backend the configuration chose (cfg->type, from the name of its
 * [hypervisor.<name>] table); an error naming it if none has that name. */
int vc_hypervisor_select(const struct vc_hypervisor_config *cfg,
                         const struct vc_hypervisor_ops **ops, vc_error **err);

/* Picks the backend named by the document's hypervisor.type and has it
 * load its part (vm->ops is set on success).  An error names what is
 * missing or unknown. */
int vc_vm_load_state(struct vc_vm *vm, yajl_val state, vc_error **err);

/* Frees what vm owns (share_dir and what the backend filled), leaving the
 * inputs; safe on a zeroed or already freed vm. */
void vc_vm_free(struct vc_vm *vm);

/* Fails with ENOTSUP: "<op>: not supported by the <backend> hypervisor
 * backend: <why>".  Returns -1. */
int vc_vm_not_supported(const char *backend, const char *op, const char *why,
                        vc_error **err);

/* Decides acceleration by capability, not by the presence of /dev/kvm: a
 * nested paravirtual KVM (kvm_pvm) accepts KVM_CREATE_VM yet hangs stock
 * guests.  Fills why with a one-line reason. */
bool vc_kvm_usable(char *why, size_t why_size);
/* Resolves cfg->accel ("auto", "kvm", "tcg") to use_kvm. */
int vc_accel_resolve(const struct vc_hypervisor_config *cfg, bool *use_kvm,
                     vc_error **err);

#endif
