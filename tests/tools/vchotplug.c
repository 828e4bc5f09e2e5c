/* Drives the QEMU backend's vhost-user hot-plug op (vmm/qemu_hotplug.c) for
 * tests/bats/hotplug.bats, against a running q35 VM:
 *   vchotplug plug vsock|fs ID QMP SOCKET [TAG]
 *   vchotplug unplug vsock|fs ID QMP
 * Prints "<plugged|unplugged> ID in N ms"; exit status 1 on an error. */
#include <stdio.h>
#include <string.h>

#include "lib/base/util.h"
#include "lib/host/config.h"
#include "vmm/hypervisor.h"

int main(int argc, char **argv) {
  if (argc < 5 || (strcmp(argv[1], "plug") == 0 && argc < 6)) {
    fprintf(stderr, "usage: vchotplug plug vsock|fs ID QMP SOCKET [TAG]\n"
                    "       vchotplug unplug vsock|fs ID QMP\n");
    return 2;
  }
  bool plug = strcmp(argv[1], "plug") == 0;
  struct vc_config cfg;
  vc_config_init_defaults(&cfg); /* q35 */
  struct vc_vm vm = {.cfg = &cfg.hypervisor, .id = "vchotplug", .dir = "/",
                     .vhost_vsock_fd = -1};
  vm.qmp_socket = xstrdup(argv[4]);
  struct vc_vm_device dev = {
      .kind = strcmp(argv[2], "fs") == 0 ? VC_VM_DEVICE_FS : VC_VM_DEVICE_VSOCK,
      .id = argv[3],
      .socket = plug ? argv[5] : NULL,
      .tag = plug && argc > 6 ? argv[6] : NULL,
  };
  vc_error *err = NULL;
  long long start = vc_now_ms();
  int r = plug ? vc_qemu_ops.hotplug(&vm, &dev, &err)
               : vc_qemu_ops.unplug(&vm, &dev, &err);
  if (r < 0) {
    fprintf(stderr, "vchotplug: %s\n", err->msg);
    vc_error_free(&err);
  } else {
    printf("%s %s in %lld ms\n", plug ? "plugged" : "unplugged", dev.id,
           vc_now_ms() - start);
  }
  free(vm.qmp_socket);
  vm.qmp_socket = NULL;
  vc_vm_free(&vm);
  vc_config_free(&cfg);
  return r < 0 ? 1 : 0;
}
