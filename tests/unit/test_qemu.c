/* The QEMU command-line builder and the acceleration decision. */
#include <stdlib.h>

#include "test.h"
#include "lib/base/util.h"
#include "vmm/hypervisor.h"

static int argv_has(char **argv, const char *opt, const char *value) {
  for (size_t i = 0; argv[i] && argv[i + 1]; i++)
    if (strcmp(argv[i], opt) == 0 && strcmp(argv[i + 1], value) == 0)
      return 1;
  return 0;
}

static const char *argv_value(char **argv, const char *opt) {
  for (size_t i = 0; argv[i] && argv[i + 1]; i++)
    if (strcmp(argv[i], opt) == 0)
      return argv[i + 1];
  return NULL;
}

static void make_vm(struct vc_config *cfg, struct vc_vm *vm, const char *machine) {
  vc_config_init_defaults(cfg);
  free(cfg->hypervisor.machine_type);
  cfg->hypervisor.machine_type = xstrdup(machine);
  free(cfg->hypervisor.kernel_params);
  cfg->hypervisor.kernel_params = xstrdup("foo=bar");
  cfg->hypervisor.memory_mib = 512;
  cfg->hypervisor.vcpus = 2;
  memset(vm, 0, sizeof(*vm));
  vm->cfg = &cfg->hypervisor;
  vm->id = "c1";
  vm->dir = "/run/vcrun/c1";
  vm->vsock_socket = "/run/vcrun/c1/vhost-vsock.sock";
  vm->vhost_vsock_fd = -1;
  vm->fs_socket = "/run/vcrun/c1/virtiofs.sock";
  vm->fs_tag = "vcfs0";
  vm->guest_cid = 3;
}

TEST(q35_tcg_command_line) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, &argv, &err) == 0);
  CHECK_STR(argv[0], cfg.hypervisor.path);
  CHECK(argv_has(argv, "-M", "q35,accel=tcg,memory-backend=mem"));
  CHECK(argv_has(argv, "-cpu", "qemu64,+arat"));
  CHECK(argv_has(argv, "-smp", "2"));
  CHECK(argv_has(argv, "-m", "512M"));
  CHECK(argv_has(argv, "-object", "memory-backend-memfd,id=mem,size=512M,share=on"));
  CHECK(argv_has(argv, "-device", "vhost-user-vsock-pci,chardev=vsock"));
  CHECK(argv_has(argv, "-device", "vhost-user-fs-pci,chardev=fs0,tag=vcfs0"));
  CHECK(argv_has(argv, "-chardev", "socket,id=vsock,path=/run/vcrun/c1/vhost-vsock.sock"));
  CHECK(argv_has(argv, "-qmp", "unix:/run/vcrun/c1/qmp.sock,server=on,wait=off"));
  CHECK(argv_has(argv, "-serial", "file:/run/vcrun/c1/console.log"));
  const char *append = argv_value(argv, "-append");
  CHECK(append != NULL && strstr(append, "console=ttyS0") != NULL);
  CHECK(append != NULL && strstr(append, " foo=bar") != NULL);
  CHECK(append != NULL && strstr(append, "pci=off") == NULL);
  vc_strv_free(argv);
  vc_config_free(&cfg);
}

TEST(microvm_uses_mmio_devices_and_pci_off) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "microvm");
  vm.use_kvm = true;
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, &argv, &err) == 0);
  const char *m = argv_value(argv, "-M");
  CHECK(m != NULL && strncmp(m, "microvm,accel=kvm,", 18) == 0);
  CHECK(argv_has(argv, "-cpu", "host"));
  CHECK(argv_has(argv, "-device", "vhost-user-vsock-device,chardev=vsock"));
  CHECK(argv_has(argv, "-global", "virtio-mmio.force-legacy=false"));
  const char *append = argv_value(argv, "-append");
  CHECK(append != NULL && strstr(append, " pci=off") != NULL);
  vc_strv_free(argv);
  vc_config_free(&cfg);
}

TEST(kernel_vhost_vsock_passes_the_reserved_fd) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  vm.vsock_socket = NULL;
  vm.vhost_vsock_fd = 7;
  vm.guest_cid = 1234;
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, &argv, &err) == 0);
  CHECK(argv_has(argv, "-device", "vhost-vsock-pci,guest-cid=1234,vhostfd=7"));
  CHECK(!argv_has(argv, "-device", "vhost-user-vsock-pci,chardev=vsock"));
  vc_strv_free(argv);
  vc_config_free(&cfg);
}

TEST(unknown_machine_type_is_an_error) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "pc-i440fx");
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, &argv, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "pc-i440fx") != NULL);
  vc_error_free(&err);
  vc_config_free(&cfg);
}

TEST(accel_resolution) {
  struct vc_config cfg;
  vc_config_init_defaults(&cfg);
  bool kvm = true;
  vc_error *err = NULL;
  free(cfg.hypervisor.accel);
  cfg.hypervisor.accel = xstrdup("tcg");
  CHECK(vc_accel_resolve(&cfg.hypervisor, &kvm, &err) == 0 && !kvm);
  char why[256];
  bool usable = vc_kvm_usable(why, sizeof(why));
  CHECK(why[0] != '\0');
  free(cfg.hypervisor.accel);
  cfg.hypervisor.accel = xstrdup("auto");
  CHECK(vc_accel_resolve(&cfg.hypervisor, &kvm, &err) == 0 && kvm == usable);
  free(cfg.hypervisor.accel);
  cfg.hypervisor.accel = xstrdup("kvm");
  int r = vc_accel_resolve(&cfg.hypervisor, &kvm, &err);
  CHECK(usable ? r == 0 : (r < 0 && err != NULL));
  vc_error_free(&err);
  vc_config_free(&cfg);
}

TEST(mock_backend_is_behind_the_same_table) {
  const struct vc_hypervisor_ops *ops = vc_hypervisor_lookup("mock");
  CHECK(ops != NULL && strcmp(ops->name, "mock") == 0);
  CHECK(vc_hypervisor_lookup("qemu") == &vc_qemu_ops);
  CHECK(vc_hypervisor_lookup("xen") == NULL);
  struct vc_vm vm = {.ops = ops};
  vc_error *err = NULL;
  CHECK(ops->start(&vm, &err) == 0 && !ops->alive(&vm));
  struct vc_jb b = {0};
  ops->save_state(&vm, &b);
  char *s = vc_jb_take(&b);
  CHECK_STR(s, "{\"type\":\"mock\"}");
  free(s);
}

int main(void) {
  RUN(q35_tcg_command_line);
  RUN(microvm_uses_mmio_devices_and_pci_off);
  RUN(kernel_vhost_vsock_passes_the_reserved_fd);
  RUN(unknown_machine_type_is_an_error);
  RUN(accel_resolution);
  RUN(mock_backend_is_behind_the_same_table);
  return TEST_SUMMARY();
}
