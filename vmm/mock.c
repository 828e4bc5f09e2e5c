/* A hypervisor that runs nothing, for unit tests of the layers above the
 * interface.  It never proves a feature. */
#include "vmm/hypervisor.h"

static int mock_start(struct vc_vm *vm, vc_error **err) {
  vm->pid = 0;
  return 0;
}

static int mock_stop(struct vc_vm *vm, bool force, vc_error **err) {
  return 0;
}

static bool mock_alive(const struct vc_vm *vm) { return false; }

static void mock_save_state(const struct vc_vm *vm, struct vc_jb *out) {
  vc_jb_open(out, '{');
  vc_jb_key(out, "type");
  vc_jb_str(out, "mock");
  vc_jb_close(out, '}');
}

const struct vc_hypervisor_ops vc_mock_ops = {
    .name = "mock",
    .start = mock_start,
    .stop = mock_stop,
    .alive = mock_alive,
    .save_state = mock_save_state,
};
