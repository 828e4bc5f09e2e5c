/* The backend registry: the configuration's [hypervisor.<name>] table picks
 * the backend, a state file's hypervisor.type picks it back; and the mock
 * backend, which records every op, so layers above can be tested. */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "lib/base/json.h"
#include "lib/base/util.h"
#include "lib/host/config.h"
#include "vmm/hypervisor.h"
#include "vmm/mock.h"

/* The backend the configuration text selects, or NULL (error printed). */
static const struct vc_hypervisor_ops *selected(const char *text) {
  struct vc_config cfg;
  vc_error *err = NULL;
  const struct vc_hypervisor_ops *ops = NULL;
  if (vc_config_parse("c.toml", text, &cfg, &err) < 0 ||
      vc_hypervisor_select(&cfg.hypervisor, &ops, &err) < 0) {
    fprintf(stderr, "  %s\n", err ? err->msg : "?");
    ops = NULL;
  }
  vc_error_free(&err);
  vc_config_free(&cfg);
  return ops;
}

TEST(lookup_by_name) {
  CHECK(vc_hypervisor_lookup("qemu") == &vc_qemu_ops);
  CHECK(vc_hypervisor_lookup("mock") == &vc_mock_ops);
  CHECK(vc_hypervisor_lookup("xen") == NULL);
  CHECK(vc_hypervisor_lookup("") == NULL);
  CHECK(vc_hypervisor_lookup(NULL) == NULL);
}

TEST(the_configuration_selects_the_backend) {
  /* Files of today, with or without the table, keep QEMU. */
  CHECK(selected("") == &vc_qemu_ops);
  CHECK(selected("[hypervisor]\n") == &vc_qemu_ops);
  CHECK(selected("[hypervisor.qemu]\ndefault_vcpus = 2\n") == &vc_qemu_ops);
  struct vc_config cfg;
  vc_config_init_defaults(&cfg);
  CHECK_STR(cfg.hypervisor.type, "qemu");
  /* A type the configuration cannot name is still refused by name. */
  free(cfg.hypervisor.type);
  cfg.hypervisor.type = xstrdup("xen");
  const struct vc_hypervisor_ops *ops = &vc_qemu_ops;
  vc_error *err = NULL;
  CHECK(vc_hypervisor_select(&cfg.hypervisor, &ops, &err) < 0 && ops == NULL);
  CHECK(err != NULL && strcmp(err->msg, "hypervisor `xen`: no such backend in this vcrun") == 0);
  vc_error_free(&err);
  free(cfg.hypervisor.type);
  cfg.hypervisor.type = xstrdup("mock");
  CHECK(vc_hypervisor_select(&cfg.hypervisor, &ops, &err) == 0 && ops == &vc_mock_ops);
  vc_config_free(&cfg);
}

TEST(a_table_for_another_backend_is_named_in_the_error) {
  struct vc_config cfg;
  vc_error *err = NULL;
  CHECK(vc_config_parse("c.toml", "[hypervisor.qemu]\n\n[hypervisor.firecracker]\n",
                        &cfg, &err) < 0);
  CHECK(err != NULL && strcmp(err->msg, "c.toml:3: unknown hypervisor "
                              "[hypervisor.firecracker] (this vcrun has: qemu)") == 0);
  vc_error_free(&err);
  /* mock is for tests only: no configuration can select it. */
  CHECK(vc_config_parse("c.toml", "[hypervisor.mock]\n", &cfg, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "unknown hypervisor [hypervisor.mock]") != NULL);
  vc_error_free(&err);
}

TEST(mock_records_every_op) {
  vc_mock_reset();
  struct vc_vm vm = {.ops = &vc_mock_ops, .id = "m1", .dir = "/s/m1"};
  const struct vc_hypervisor_ops *ops = vm.ops;
  vc_error *err = NULL;
  unsigned now = 0;
  CHECK(!ops->alive(&vm));
  CHECK(ops->start(&vm, &err) == 0 && ops->alive(&vm));
  struct vc_vm_device nic = {.kind = VC_VM_DEVICE_NET, .id = "eth0"};
  struct vc_vm_device disk = {.kind = VC_VM_DEVICE_BLOCK, .id = "vdb"};
  CHECK(ops->hotplug(&vm, &nic, &err) == 0);
  CHECK(ops->hotplug(&vm, &disk, &err) == 0);
  CHECK(ops->unplug(&vm, &nic, &err) == 0);
  CHECK(ops->resize_vcpus(&vm, 4, &now, &err) == 0 && now == 4);
  CHECK(ops->resize_memory(&vm, 1024, &now, &err) == 0 && now == 1024);
  CHECK(ops->save_vm(&vm, "/s/m1.state", &err) == 0);
  CHECK(ops->stop(&vm, true, &err) == 0 && !ops->alive(&vm));
  CHECK(ops->restore_vm(&vm, "/s/m1.state", &err) == 0 && ops->alive(&vm));
  CHECK_STR(vc_mock_calls(), "start m1\n"
                             "hotplug net eth0\n"
                             "hotplug block vdb\n"
                             "unplug net eth0\n"
                             "resize_vcpus 4\n"
                             "resize_memory 1024\n"
                             "save_vm /s/m1.state\n"
                             "stop force\n"
                             "restore_vm /s/m1.state\n");
  CHECK(err == NULL);
  vc_mock_reset();
  CHECK_STR(vc_mock_calls(), "");
}

TEST(mock_fails_on_request) {
  vc_mock_reset();
  struct vc_vm vm = {.ops = &vc_mock_ops, .id = "m2"};
  vc_error *err = NULL;
  vc_mock_fail_next("start", EIO);
  CHECK(vc_mock_ops.start(&vm, &err) < 0 && !vc_mock_ops.alive(&vm));
  CHECK(err != NULL && err->errnum == EIO && strcmp(err->msg, "start: mock failure") == 0);
  vc_error_free(&err);
  CHECK(vc_mock_ops.start(&vm, &err) == 0); /* only the next one */
  CHECK_STR(vc_mock_calls(), "start m2\nstart m2\n");
  vc_mock_reset();
}

TEST(state_file_picks_the_backend_back) {
  vc_mock_reset();
  struct vc_vm vm = {.ops = &vc_mock_ops, .id = "m3", .dir = "/s/m3"};
  vc_error *err = NULL;
  CHECK(vm.ops->start(&vm, &err) == 0);
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vm.ops->save_state(&vm, &b);
  vc_jb_close(&b, '}');
  char *text = vc_jb_take(&b);
  CHECK_STR(text, "{\"hypervisor\":{\"type\":\"mock\",\"pid\":1},\"devices\":[]}");
  yajl_val tree = NULL;
  CHECK(vc_json_parse(text, &tree, &err) == 0);
  struct vc_vm back = {.id = "m3", .dir = "/s/m3"};
  CHECK(vc_vm_load_state(&back, tree, &err) == 0);
  CHECK(back.ops == &vc_mock_ops && back.ops->alive(&back));
  CHECK_STR(vc_mock_calls(), "start m3\nload_state 1\n");
  yajl_tree_free(tree);
  free(text);
  vc_vm_free(&back);
  vc_mock_reset();
}

TEST(not_supported_names_op_and_backend) {
  vc_error *err = NULL;
  CHECK(vc_vm_not_supported("qemu", "save_vm", "a reason", &err) == -1);
  CHECK(err != NULL && err->errnum == ENOTSUP &&
        strcmp(err->msg, "save_vm: not supported by the qemu hypervisor "
                         "backend: a reason") == 0);
  vc_error_free(&err);
  CHECK_STR(vc_vm_device_kind_name(VC_VM_DEVICE_NET), "net");
  CHECK_STR(vc_vm_device_kind_name(VC_VM_DEVICE_VSOCK), "vsock");
  CHECK_STR(vc_vm_device_kind_name(VC_VM_DEVICE_FS), "fs");
  CHECK_STR(vc_vm_device_kind_name(VC_VM_DEVICE_BLOCK), "block");
}

int main(void) {
  RUN(lookup_by_name);
  RUN(the_configuration_selects_the_backend);
  RUN(a_table_for_another_backend_is_named_in_the_error);
  RUN(mock_records_every_op);
  RUN(mock_fails_on_request);
  RUN(state_file_picks_the_backend_back);
  RUN(not_supported_names_op_and_backend);
  return TEST_SUMMARY();
}
