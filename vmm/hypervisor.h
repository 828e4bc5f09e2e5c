/* The hypervisor interface: every VMM backend is one file behind this table
 * of functions (after virtcontainers' Hypervisor).  The sandbox layer fills
 * a vc_vm with what it has prepared (sockets of the vhost-user backends,
 * the state directory) and drives the VM through the ops. */
#ifndef VC_HYPERVISOR_H
#define VC_HYPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/host/config.h"
#include "lib/base/error.h"
#include "lib/base/json_build.h"

struct vc_vm {
  const struct vc_hypervisor_ops *ops;
  const struct vc_hypervisor_config *cfg;
  const char *id;
  const char *dir;          /* sandbox state directory */
  bool use_kvm;             /* resolved from cfg->accel */
  const char *vsock_socket; /* vhost-user-vsock backend socket, or NULL */
  int vhost_vsock_fd;       /* /dev/vhost-vsock fd holding guest_cid, or -1 */
  uint64_t guest_cid;
  const char *fs_socket;    /* vhost-user-fs (virtiofsd) socket, or NULL */
  const char *fs_tag;
  /* Filled by the backend: */
  pid_t pid;
  char *qmp_socket;
  char *log_path;     /* the VMM's own messages */
  char *console_path; /* the guest's serial console */
};

struct vc_hypervisor_ops {
  const char *name;
  /* Launches the VMM detached from the caller; returns once it runs. */
  int (*start)(struct vc_vm *vm, vc_error **err);
  /* Asks the VMM to quit (force: kill it); returns once it is gone. */
  int (*stop)(struct vc_vm *vm, bool force, vc_error **err);
  bool (*alive)(const struct vc_vm *vm);
  /* Writes the backend's persistent state as a JSON object. */
  void (*save_state)(const struct vc_vm *vm, struct vc_jb *out);
};

extern const struct vc_hypervisor_ops vc_qemu_ops;
extern const struct vc_hypervisor_ops vc_mock_ops;

/* "qemu" or "mock"; NULL if unknown. */
const struct vc_hypervisor_ops *vc_hypervisor_lookup(const char *name);

/* Decides acceleration by capability, not by the presence of /dev/kvm: a
 * nested paravirtual KVM (kvm_pvm) accepts KVM_CREATE_VM yet hangs stock
 * guests.  Fills why with a one-line reason. */
bool vc_kvm_usable(char *why, size_t why_size);
/* Resolves cfg->accel ("auto", "kvm", "tcg") to use_kvm. */
int vc_accel_resolve(const struct vc_hypervisor_config *cfg, bool *use_kvm,
                     vc_error **err);

/* QEMU's command line for vm (NULL-terminated; free with vc_strv_free). */
int vc_qemu_build_argv(const struct vc_vm *vm, char ***argv, vc_error **err);
/* The guest kernel command line vcrun always uses, plus cfg's extras. */
char *vc_qemu_kernel_cmdline(const struct vc_vm *vm);
void vc_strv_free(char **v);

/* QMP: one command on a fresh connection; *reply (if non-NULL) gets the
 * "return" value as JSON text. */
int vc_qmp_execute(const char *socket_path, const char *command,
                   char **reply, int timeout_ms, vc_error **err);

#endif
