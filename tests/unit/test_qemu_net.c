/* vmm/qemu_net.c's command-line half: the root ports q35 gets for hot-plug
 * and the cold-plugged NIC's arguments. */
#include <stdlib.h>

#include "test.h"
#include "lib/base/util.h"
#include "vmm/hypervisor.h"
#include "vmm/qemu.h"
#include "vmm/qemu_net.h"

static size_t count_value(char **argv, const char *opt, const char *prefix) {
  size_t n = 0;
  for (size_t i = 0; argv[i] && argv[i + 1]; i++)
    if (strcmp(argv[i], opt) == 0 && strncmp(argv[i + 1], prefix, strlen(prefix)) == 0)
      n++;
  return n;
}

static int argv_has(char **argv, const char *opt, const char *value) {
  for (size_t i = 0; argv[i] && argv[i + 1]; i++)
    if (strcmp(argv[i], opt) == 0 && strcmp(argv[i + 1], value) == 0)
      return 1;
  return 0;
}

static void make_vm(struct vc_config *cfg, struct vc_vm *vm, const char *machine) {
  vc_config_init_defaults(cfg);
  free(cfg->hypervisor.machine_type);
  cfg->hypervisor.machine_type = xstrdup(machine);
  memset(vm, 0, sizeof(*vm));
  vm->cfg = &cfg->hypervisor;
  vm->id = "c1";
  vm->dir = "/run/vcrun/c1";
  vm->vhost_vsock_fd = -1;
}

TEST(q35_gets_root_ports) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  char **argv = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, NULL) == 0);
  CHECK(count_value(argv, "-device", "pcie-root-port,") == 2);
  CHECK(argv_has(argv, "-device", "pcie-root-port,id=rp0,bus=pcie.0,chassis=1"));
  CHECK(argv_has(argv, "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=2"));
  vc_strv_free(argv);
  cfg.hypervisor.pcie_root_ports = 0;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, NULL) == 0);
  CHECK(count_value(argv, "-device", "pcie-root-port,") == 0);
  vc_strv_free(argv);
  vc_config_free(&cfg);
}

TEST(microvm_has_no_root_ports) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "microvm");
  char **argv = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, NULL) == 0);
  CHECK(count_value(argv, "-device", "pcie-root-port,") == 0);
  vc_strv_free(argv);
  vc_config_free(&cfg);
}

TEST(cold_nic_arguments) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  char **argv = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, NULL) == 0);
  struct vc_qemu_nic nic = {.index = 0, .tap_fd = 7, .vhost_fd = -1,
                            .mac = {0x02, 0x42, 0x0a, 0x58, 0x00, 0x03}};
  CHECK(vc_qemu_nic_append_args(&vm, &nic, &argv, NULL) == 0);
  nic.index = 1;
  nic.tap_fd = 9;
  nic.vhost_fd = 10;
  CHECK(vc_qemu_nic_append_args(&vm, &nic, &argv, NULL) == 0);
  CHECK(argv_has(argv, "-netdev", "tap,id=net0,fd=7,vhost=off"));
  CHECK(argv_has(argv, "-device", "virtio-net-pci,netdev=net0,id=nic0,mac=02:42:0a:58:00:03"));
  CHECK(argv_has(argv, "-netdev", "tap,id=net1,fd=9,vhost=on,vhostfd=10"));
  vc_strv_free(argv);
  vc_config_free(&cfg);
  make_vm(&cfg, &vm, "microvm");
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, NULL) == 0);
  CHECK(vc_qemu_nic_append_args(&vm, &nic, &argv, NULL) == 0);
  CHECK(argv_has(argv, "-device", "virtio-net-device,netdev=net1,id=nic1,mac=02:42:0a:58:00:03"));
  vc_strv_free(argv);
  nic.tap_fd = -1;
  vc_error *err = NULL;
  argv = xcalloc(1, sizeof(char *));
  CHECK(vc_qemu_nic_append_args(&vm, &nic, &argv, &err) < 0);
  vc_error_free(&err);
  vc_strv_free(argv);
  vc_config_free(&cfg);
}

/* The generic ops' input: vm.cold_nics lands on the command line. */
TEST(cold_nics_of_the_vm) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  int fds[2] = {11, 12};
  struct vc_vm_device nics[2] = {
      {.kind = VC_VM_DEVICE_NET, .id = "nic0", .fds = &fds[0], .n_fds = 1,
       .mac = "02:00:00:00:00:02"},
      {.kind = VC_VM_DEVICE_NET, .id = "nic1", .fds = &fds[1], .n_fds = 1,
       .mac = "02:00:00:00:01:02"},
  };
  vm.cold_nics = nics;
  vm.n_cold_nics = 2;
  char **argv = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, NULL) == 0);
  CHECK(argv_has(argv, "-netdev", "tap,id=net0,fd=11,vhost=off"));
  CHECK(argv_has(argv, "-device", "virtio-net-pci,netdev=net0,id=nic0,mac=02:00:00:00:00:02"));
  CHECK(argv_has(argv, "-netdev", "tap,id=net1,fd=12,vhost=off"));
  CHECK(argv_has(argv, "-device", "virtio-net-pci,netdev=net1,id=nic1,mac=02:00:00:00:01:02"));
  vc_strv_free(argv);
  /* A malformed device fails the command line, naming it. */
  nics[1].mac = "02:00";
  vc_error *err = NULL;
  argv = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "nic1: MAC `02:00`") != NULL);
  CHECK(argv == NULL);
  vc_error_free(&err);
  vc_config_free(&cfg);
}

int main(void) {
  RUN(q35_gets_root_ports);
  RUN(microvm_has_no_root_ports);
  RUN(cold_nic_arguments);
  RUN(cold_nics_of_the_vm);
  return TEST_SUMMARY();
}
