/* Network devices of the QEMU backend, hot-plugged over QMP: the tap fds
 * passed with getfd, netdev_add, then device_add virtio-net-pci on a
 * pcie-root-port.  Not written yet: the ops route here so that the NIC
 * work only has to fill these in. */
#include <errno.h>

#include "vmm/qemu.h"

int vc_qemu_net_hotplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                        vc_error **err) {
  return vc_vm_not_supported("qemu", "hotplug net", "network devices are not "
                             "written yet", err);
}

int vc_qemu_net_unplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                       vc_error **err) {
  return vc_vm_not_supported("qemu", "unplug net", "network devices are not "
                             "written yet", err);
}
