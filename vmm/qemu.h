/* The QEMU backend's parts below vc_qemu_ops (vmm/hypervisor.h): its
 * command line, its QMP client, the helper daemons its vhost-user devices
 * need, and the network device hooks. */
#ifndef VC_QEMU_H
#define VC_QEMU_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "vmm/hypervisor.h"
#include "vmm/qmp.h"

/* Where the backend puts things in vm->dir (free the results). */
char *vc_qemu_fs_socket(const struct vc_vm *vm);    /* virtiofsd listens */
char *vc_qemu_vsock_socket(const struct vc_vm *vm); /* vhost-user-vsock */

/* QEMU's command line for vm (NULL-terminated; free with vc_strv_free).
 * restore_from, if not NULL, is a file save_vm wrote: QEMU then waits for
 * it (-incoming) instead of booting. */
int vc_qemu_build_argv(const struct vc_vm *vm, const char *restore_from,
                       char ***argv, vc_error **err);
/* The guest kernel command line vcrun always uses, plus cfg's extras. */
char *vc_qemu_kernel_cmdline(const struct vc_vm *vm);
void vc_strv_free(char **v);

/* The helper daemons (vmm/qemu_daemons.c).  virtiofsd exports
 * vm->share_dir on vc_qemu_fs_socket(vm); the vsock backend
 * (cfg->vsock_backend, vcrun-vsock-backend) serves vc_qemu_vsock_socket(vm)
 * and exports vm->hybrid_socket.  Each returns once its daemon listens, its
 * pid in vm; on failure the daemon's log tail is in the error. */
int vc_qemu_start_virtiofsd(struct vc_vm *vm, vc_error **err);
int vc_qemu_start_vsock_backend(struct vc_vm *vm, vc_error **err);
/* True when every daemon vm records runs (each pid checked against its
 * command line, which names vm->dir). */
bool vc_qemu_daemons_alive(const struct vc_vm *vm);
/* Terminates the daemons vm records, those still running as theirs. */
void vc_qemu_stop_daemons(struct vc_vm *vm);

/* vhost-user vsock and virtio-fs devices into a running q35 VM
 * (vmm/qemu_hotplug.c): dev->socket is where the device daemon already
 * listens; chardev-add "<id>-chr" connects to it, device_add
 * vhost-user-{vsock,fs}-pci "<id>" (fs: with dev->tag) goes on the first
 * free pcie-root-port.  The vsock CID is the daemon's (GET_CONFIG), not
 * dev->guest_cid.  Unplug: device_del, the guest's DEVICE_DELETED, then
 * chardev-remove.  microvm: ENOTSUP. */
int vc_qemu_vhost_user_hotplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                               vc_error **err);
int vc_qemu_vhost_user_unplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                              vc_error **err);

/* Network devices over QMP (getfd, netdev_add, device_add virtio-net-pci
 * on a pcie-root-port); not written yet: both fail with ENOTSUP. */
int vc_qemu_net_hotplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                        vc_error **err);
int vc_qemu_net_unplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                       vc_error **err);

#endif
