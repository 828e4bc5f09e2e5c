/* A hypervisor that runs nothing and records what it is asked, for unit
 * tests of the layers above the interface.  It never proves a feature.
 * "Running" is a pid of 1 in the vc_vm, so that save_state and load_state
 * carry it like a real one. */
#include "vmm/mock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/json.h"
#include "lib/base/util.h"
#include "vmm/hypervisor.h"

static char *calls;
static char fail_op[32];
static int fail_errnum;

const char *vc_mock_calls(void) { return calls != NULL ? calls : ""; }

void vc_mock_reset(void) {
  free(calls);
  calls = NULL;
  fail_op[0] = '\0';
}

void vc_mock_fail_next(const char *op, int errnum) {
  snprintf(fail_op, sizeof(fail_op), "%s", op);
  fail_errnum = errnum;
}

/* Appends "op args\n" to the record; -1 with an error if op is to fail. */
static int record(vc_error **err, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int record(vc_error **err, const char *op, const char *fmt, ...) {
  char args[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof(args), fmt, ap);
  va_end(ap);
  char *more = xasprintf("%s%s%s%s\n", vc_mock_calls(), op, args[0] ? " " : "",
                         args);
  free(calls);
  calls = more;
  if (strcmp(fail_op, op) != 0)
    return 0;
  fail_op[0] = '\0';
  vc_error_set(err, 0, "%s: mock failure", op);
  if (err != NULL && *err != NULL)
    (*err)->errnum = fail_errnum;
  return -1;
}

static int mock_start(struct vc_vm *vm, vc_error **err) {
  if (record(err, "start", "%s", vm->id ? vm->id : "") < 0)
    return -1;
  vm->pid = 1;
  return 0;
}

static int mock_stop(struct vc_vm *vm, bool force, vc_error **err) {
  vm->pid = 0;
  return record(err, "stop", "%s", force ? "force" : "");
}

static bool mock_alive(const struct vc_vm *vm) { return vm->pid != 0; }

static void mock_save_state(const struct vc_vm *vm, struct vc_jb *out) {
  vc_jb_key(out, "hypervisor");
  vc_jb_open(out, '{');
  vc_jb_key(out, "type");
  vc_jb_str(out, "mock");
  vc_jb_key(out, "pid");
  vc_jb_int(out, vm->pid);
  vc_jb_close(out, '}');
  vc_jb_key(out, "devices");
  vc_jb_open(out, '[');
  vc_jb_close(out, ']');
}

static int mock_load_state(struct vc_vm *vm, yajl_val state, vc_error **err) {
  yajl_val hv = vc_json_get_object(state, "hypervisor");
  yajl_val pid = hv ? vc_json_get(hv, "pid") : NULL;
  int64_t n = 0;
  if (pid != NULL && vc_json_to_i64(pid, 0, 1, &n) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "mock: bad pid");
  vm->pid = (pid_t)n;
  return record(err, "load_state", "%lld", (long long)n);
}

static int mock_hotplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                        vc_error **err) {
  return record(err, "hotplug", "%s %s", vc_vm_device_kind_name(dev->kind),
                dev->id ? dev->id : "");
}

static int mock_unplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                       vc_error **err) {
  return record(err, "unplug", "%s %s", vc_vm_device_kind_name(dev->kind),
                dev->id ? dev->id : "");
}

static int mock_resize_vcpus(struct vc_vm *vm, unsigned vcpus, unsigned *now,
                             vc_error **err) {
  if (record(err, "resize_vcpus", "%u", vcpus) < 0)
    return -1;
  if (now != NULL)
    *now = vcpus;
  return 0;
}

static int mock_resize_memory(struct vc_vm *vm, unsigned mib, unsigned *now,
                              vc_error **err) {
  if (record(err, "resize_memory", "%u", mib) < 0)
    return -1;
  if (now != NULL)
    *now = mib;
  return 0;
}

static int mock_save_vm(struct vc_vm *vm, const char *path, vc_error **err) {
  return record(err, "save_vm", "%s", path);
}

static int mock_restore_vm(struct vc_vm *vm, const char *path, vc_error **err) {
  if (record(err, "restore_vm", "%s", path) < 0)
    return -1;
  vm->pid = 1;
  return 0;
}

const struct vc_hypervisor_ops vc_mock_ops = {
    .name = "mock",
    .start = mock_start,
    .stop = mock_stop,
    .alive = mock_alive,
    .save_state = mock_save_state,
    .load_state = mock_load_state,
    .hotplug = mock_hotplug,
    .unplug = mock_unplug,
    .resize_vcpus = mock_resize_vcpus,
    .resize_memory = mock_resize_memory,
    .save_vm = mock_save_vm,
    .restore_vm = mock_restore_vm,
};
