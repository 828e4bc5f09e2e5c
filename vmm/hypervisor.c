/* The registry of hypervisor backends and what every backend shares: the
 * choice by configuration or by a state file, freeing a vc_vm, and the
 * "not supported" error. */
#include "vmm/hypervisor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/json.h"
#include "lib/base/util.h"

/* Every backend, by name.  The configuration can name those that have a
 * [hypervisor.<name>] table in lib/host/config.c; mock is for tests. */
static const struct vc_hypervisor_ops *const backends[] = {
    &vc_qemu_ops,
    &vc_mock_ops,
};

const struct vc_hypervisor_ops *vc_hypervisor_lookup(const char *name) {
  for (size_t i = 0; name != NULL && i < sizeof(backends) / sizeof(backends[0]); i++)
    if (strcmp(backends[i]->name, name) == 0)
      return backends[i];
  return NULL;
}

int vc_hypervisor_select(const struct vc_hypervisor_config *cfg,
                         const struct vc_hypervisor_ops **ops, vc_error **err) {
  *ops = vc_hypervisor_lookup(cfg->type);
  if (*ops == NULL)
    return vc_error_set(err, 0, "hypervisor `%s`: no such backend in "
                        "this vcrun", cfg->type ? cfg->type : "(none)");
  return 0;
}

int vc_vm_load_state(struct vc_vm *vm, yajl_val state, vc_error **err) {
  yajl_val hv = vc_json_get_object(state, "hypervisor");
  const char *type = hv ? vc_json_get_str(hv, "type") : NULL;
  const struct vc_hypervisor_ops *ops = vc_hypervisor_lookup(type);
  if (ops == NULL)
    return vc_error_set(err, 0, "%s/state.json: hypervisor missing or of an "
                        "unknown type", vm->dir);
  if (ops->load_state(vm, state, err) < 0)
    return -1;
  vm->ops = ops;
  return 0;
}

void vc_vm_free(struct vc_vm *vm) {
  free(vm->share_dir);
  free(vm->qmp_socket);
  free(vm->log_path);
  free(vm->console_path);
  vm->share_dir = vm->qmp_socket = vm->log_path = vm->console_path = NULL;
}

int vc_vm_not_supported(const char *backend, const char *op, const char *why,
                        vc_error **err) {
  /* errnum set after: the message is the one line, without strerror. */
  vc_error_set(err, 0, "%s: not supported by the %s hypervisor backend: %s",
               op, backend, why);
  if (err != NULL && *err != NULL)
    (*err)->errnum = ENOTSUP;
  return -1;
}

const char *vc_vm_device_kind_name(enum vc_vm_device_kind kind) {
  switch (kind) {
  case VC_VM_DEVICE_NET:
    return "net";
  case VC_VM_DEVICE_VSOCK:
    return "vsock";
  case VC_VM_DEVICE_FS:
    return "fs";
  case VC_VM_DEVICE_BLOCK:
    return "block";
  }
  return "?";
}
