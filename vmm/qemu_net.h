/* virtio-net NICs for the QEMU backend: on the command line of a VM not yet
 * started (cold), or into a running q35 VM over QMP (hot), backed by a tap
 * or macvtap fd from lib/host/netlink.h vc_net_attach.  The generic
 * hot-plug ops of vmm/hypervisor.h route here for QEMU.
 *
 * q35 hot-plug needs a free pcie-root-port: vc_qemu_build_argv adds
 * [hypervisor.qemu] pcie_root_ports of them (ids rp0, rp1...); microvm has
 * no hot-plug. */
#ifndef VC_QEMU_NET_H
#define VC_QEMU_NET_H

#include <stdint.h>

#include "lib/base/error.h"
#include "vmm/hypervisor.h"

struct vc_qemu_nic {
  unsigned index;  /* names the QEMU objects: netdev net<index>, device
                    * nic<index>; unique within the VM */
  int tap_fd;      /* tap or /dev/tapN, open in vcrun */
  int vhost_fd;    /* /dev/vhost-net (vc_qemu_open_vhost_net), or -1 */
  uint8_t mac[6];  /* the guest NIC's: the pod link's MAC */
};

/* The id of root port i ("rp<i>") and its -device value; the caller frees. */
char *vc_qemu_root_port_arg(unsigned i);

struct vc_qmp;
/* The id of the first pcie-root-port ("rpN") with no device behind it
 * (query-pci), for any hot-plugged device; ENOSPC naming what when there
 * is none.  The caller frees *port. */
int vc_qemu_free_root_port(struct vc_qmp *q, const char *what, char **port,
                           vc_error **err);

/* /dev/vhost-net opened (close-on-exec), or -1 where it is missing or not
 * usable (then QEMU runs virtio-net in user space, vhost=off). */
int vc_qemu_open_vhost_net(void);

/* Cold path: appends "-netdev tap,id=netN,fd=F,vhost=..." and "-device
 * virtio-net-pci|virtio-net-device,netdev=netN,id=nicN,mac=M" to *argv (as
 * vc_qemu_build_argv returned it; reallocated, still NULL-terminated).
 * The fds must reach QEMU open across exec: the caller keeps them (clears
 * FD_CLOEXEC in the child, as for the vhost-vsock fd). */
int vc_qemu_nic_append_args(const struct vc_vm *vm, const struct vc_qemu_nic *nic,
                            char ***argv, vc_error **err);

/* Cold path for the generic ops: the NICs of vm->cold_nics (ids
 * "nic<N>", one tap fd each, a MAC) appended as above. */
int vc_qemu_net_cold_args(const struct vc_vm *vm, char ***argv, vc_error **err);

/* Hot path, q35 only: over QMP on qmp_socket, getfd (the fd rides as
 * SCM_RIGHTS), netdev_add tap with it, then device_add virtio-net-pci with
 * the MAC on the first pcie-root-port with nothing behind it.  QEMU holds
 * its own copies of the fds afterwards: the caller may close its own.  On
 * failure what was added is removed again.  *port (if non-NULL) gets the
 * root port's id (caller frees). */
int vc_qemu_hotplug_nic(const char *qmp_socket, const struct vc_qemu_nic *nic,
                        int timeout_ms, char **port, vc_error **err);

/* Undoes vc_qemu_hotplug_nic for nic index: device_del nicN, waits for the
 * guest to release it (DEVICE_DELETED; PCIe hot-unplug takes the guest
 * ~5 s by design, so give timeout_ms room), then netdev_del netN. */
int vc_qemu_unplug_nic(const char *qmp_socket, unsigned index, int timeout_ms,
                       vc_error **err);

#endif
