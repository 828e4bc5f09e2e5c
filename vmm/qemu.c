/* The QEMU backend: builds the command line from the hypervisor config,
 * runs QEMU detached with its own log, and controls it over QMP. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/hypervisor.h"
#include "vmm/qemu_net.h"
#include "lib/host/process.h"
#include "lib/base/util.h"

#define QBOOT_ROM "/usr/share/qemu/qboot.rom"

void vc_strv_free(char **v) {
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

struct argv_builder {
  char **v;
  size_t n, cap;
};

static void add(struct argv_builder *b, char *owned) {
  if (b->n + 2 > b->cap) {
    b->cap = b->cap ? b->cap * 2 : 32;
    char **nv = realloc(b->v, b->cap * sizeof(char *));
    if (nv == NULL)
      abort();
    b->v = nv;
  }
  b->v[b->n++] = owned;
  b->v[b->n] = NULL;
}

static void add2(struct argv_builder *b, const char *opt, char *owned_value) {
  add(b, xstrdup(opt));
  add(b, owned_value);
}

/* The guest's TSC rate, so early boot skips a calibration that sometimes
 * hangs under TCG. */
static unsigned long host_tsc_khz(void) {
  char *text = NULL;
  vc_error *err = NULL;
  unsigned long khz = 0;
  if (vc_read_file("/sys/devices/system/cpu/cpu0/tsc_freq_khz", &text, NULL,
                   &err) == 0) {
    khz = strtoul(text, NULL, 10);
    free(text);
    return khz;
  }
  vc_error_free(&err);
  if (vc_read_file("/proc/cpuinfo", &text, NULL, &err) < 0) {
    vc_error_free(&err);
    return 0;
  }
  const char *p = strstr(text, "cpu MHz");
  if (p != NULL && (p = strchr(p, ':')) != NULL)
    khz = (unsigned long)(strtod(p + 1, NULL) * 1000.0);
  free(text);
  return khz;
}

static bool is_microvm(const struct vc_vm *vm) {
  return strcmp(vm->cfg->machine_type, "microvm") == 0;
}

char *vc_qemu_kernel_cmdline(const struct vc_vm *vm) {
  /* Tuned for a fast boot (DESIGN.md 1a): quiet console, no legacy probing,
   * no self-tests, panic reboots (and -no-reboot turns that into an exit). */
  unsigned long khz = host_tsc_khz();
  cleanup_free char *tsc = khz ? xasprintf(" tsc_early_khz=%lu", khz) : xstrdup("");
  const char *extra = vm->cfg->kernel_params ? vm->cfg->kernel_params : "";
  return xasprintf(
      "console=ttyS0 panic=-1 quiet loglevel=1%s tsc=reliable no_timer_check "
      "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=1 "
      "nokaslr mitigations=off cryptomgr.notests rcupdate.rcu_expedited=1 "
      "audit=0 nowatchdog initcall_blacklist=cmos_init%s%s%s",
      tsc, is_microvm(vm) ? " pci=off" : "", extra[0] ? " " : "", extra);
}

int vc_qemu_build_argv(const struct vc_vm *vm, char ***argv_out,
                       vc_error **err) {
  const struct vc_hypervisor_config *cfg = vm->cfg;
  bool microvm = is_microvm(vm);
  if (!microvm && strcmp(cfg->machine_type, "q35") != 0)
    return vc_error_set(err, 0, "machine_type \"%s\" is not supported (q35, microvm)",
                        cfg->machine_type);
  /* virtio-mmio devices on microvm, PCI devices on q35. */
  const char *bus = microvm ? "device" : "pci";
  struct argv_builder b = {0};
  add(&b, xstrdup(cfg->path));
  add2(&b, "-name", xasprintf("vcrun-%s", vm->id));
  add(&b, xstrdup("-nodefaults"));
  add(&b, xstrdup("-no-user-config"));
  add(&b, xstrdup("-nographic"));
  add(&b, xstrdup("-no-reboot"));
  const char *accel = vm->use_kvm ? "kvm" : "tcg";
  if (microvm)
    add2(&b, "-M", xasprintf("microvm,accel=%s,x-option-roms=off,isa-serial=on,"
                             "pit=off,pic=off,rtc=on,acpi=on,memory-backend=mem",
                             accel));
  else
    add2(&b, "-M", xasprintf("q35,accel=%s,memory-backend=mem", accel));
  if (microvm)
    add2(&b, "-global", xstrdup("virtio-mmio.force-legacy=false"));
  else if (vc_file_exists(QBOOT_ROM))
    add2(&b, "-bios", xstrdup(QBOOT_ROM)); /* boots the kernel faster than SeaBIOS */
  /* Without +arat an idle TCG guest keeps polling its timer. */
  add2(&b, "-cpu", xstrdup(vm->use_kvm ? "host" : "qemu64,+arat"));
  add2(&b, "-smp", xasprintf("%u", cfg->vcpus));
  add2(&b, "-m", xasprintf("%uM", cfg->memory_mib));
  /* vhost-user backends map guest RAM: it must be a shareable memfd. */
  add2(&b, "-object", xasprintf("memory-backend-memfd,id=mem,size=%uM,share=on",
                                cfg->memory_mib));
  add2(&b, "-kernel", xstrdup(cfg->kernel));
  add2(&b, "-initrd", xstrdup(cfg->initrd));
  add2(&b, "-append", vc_qemu_kernel_cmdline(vm));
  add2(&b, "-serial", xasprintf("file:%s/console.log", vm->dir));
  add2(&b, "-qmp", xasprintf("unix:%s/qmp.sock,server=on,wait=off", vm->dir));
  for (unsigned i = 0; !microvm && i < cfg->pcie_root_ports; i++)
    add2(&b, "-device", vc_qemu_root_port_arg(i)); /* for hot-plug */
  if (vm->vhost_vsock_fd >= 0) {
    add2(&b, "-device", xasprintf("vhost-vsock-%s,guest-cid=%llu,vhostfd=%d", bus,
                                  (unsigned long long)vm->guest_cid,
                                  vm->vhost_vsock_fd));
  } else if (vm->vsock_socket != NULL) {
    add2(&b, "-chardev", xasprintf("socket,id=vsock,path=%s", vm->vsock_socket));
    add2(&b, "-device", xasprintf("vhost-user-vsock-%s,chardev=vsock", bus));
  }
  if (vm->fs_socket != NULL) {
    add2(&b, "-chardev", xasprintf("socket,id=fs0,path=%s", vm->fs_socket));
    add2(&b, "-device", xasprintf("vhost-user-fs-%s,chardev=fs0,tag=%s", bus,
                                  vm->fs_tag));
  }
  *argv_out = b.v;
  return 0;
}

static int qemu_start(struct vc_vm *vm, vc_error **err) {
  char **argv = NULL;
  if (!vc_file_exists(vm->cfg->path))
    return vc_error_set(err, errno, "hypervisor `%s` (configured in [hypervisor.qemu] path)",
                        vm->cfg->path);
  if (!vc_file_exists(vm->cfg->kernel))
    return vc_error_set(err, errno, "guest kernel `%s` (configured in [hypervisor.qemu] kernel)",
                        vm->cfg->kernel);
  if (!vc_file_exists(vm->cfg->initrd))
    return vc_error_set(err, errno, "guest initrd `%s` (configured in [hypervisor.qemu] initrd)",
                        vm->cfg->initrd);
  if (vc_qemu_build_argv(vm, &argv, err) < 0)
    return -1;
  free(vm->qmp_socket);
  free(vm->log_path);
  free(vm->console_path);
  vm->qmp_socket = xasprintf("%s/qmp.sock", vm->dir);
  vm->log_path = xasprintf("%s/qemu.log", vm->dir);
  vm->console_path = xasprintf("%s/console.log", vm->dir);
  int r = vc_spawn_detached(argv, vm->log_path, vm->vhost_vsock_fd, &vm->pid, err);
  vc_strv_free(argv);
  if (r < 0)
    return -1;
  /* QEMU creates the QMP socket early; if it dies before (a bad option, a
   * vhost-user backend that is not there), its log says why. */
  long long deadline = vc_now_ms() + 10000;
  while (!vc_file_exists(vm->qmp_socket)) {
    if (!vc_pid_alive(vm->pid) || vc_now_ms() > deadline) {
      cleanup_free char *tail = vc_log_tail(vm->log_path, 1500);
      vc_pid_terminate(vm->pid, 100);
      return vc_error_set(err, 0, "QEMU did not start: %s",
                          tail[0] ? tail : "(no output)");
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static bool qemu_alive(const struct vc_vm *vm) {
  return vc_pid_is(vm->pid, vm->dir);
}

static int qemu_stop(struct vc_vm *vm, bool force, vc_error **err) {
  if (!qemu_alive(vm))
    return 0;
  if (!force && vm->qmp_socket != NULL) {
    vc_error *qerr = NULL;
    if (vc_qmp_execute(vm->qmp_socket, "quit", NULL, 2000, &qerr) < 0)
      vc_error_free(&qerr); /* fall through to signals */
    long long deadline = vc_now_ms() + 2000;
    while (qemu_alive(vm) && vc_now_ms() < deadline) {
      struct timespec ts = {0, 5 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  vc_pid_terminate(vm->pid, force ? 0 : 1000);
  if (qemu_alive(vm))
    return vc_error_set(err, 0, "QEMU (pid %d) does not exit", vm->pid);
  return 0;
}

static void qemu_save_state(const struct vc_vm *vm, struct vc_jb *out) {
  vc_jb_open(out, '{');
  vc_jb_key(out, "type");
  vc_jb_str(out, "qemu");
  vc_jb_key(out, "pid");
  vc_jb_int(out, vm->pid);
  vc_jb_key(out, "qmp_socket");
  vc_jb_str(out, vm->qmp_socket);
  vc_jb_key(out, "accel");
  vc_jb_str(out, vm->use_kvm ? "kvm" : "tcg");
  vc_jb_close(out, '}');
}

const struct vc_hypervisor_ops vc_qemu_ops = {
    .name = "qemu",
    .start = qemu_start,
    .stop = qemu_stop,
    .alive = qemu_alive,
    .save_state = qemu_save_state,
};

const struct vc_hypervisor_ops *vc_hypervisor_lookup(const char *name) {
  if (strcmp(name, "qemu") == 0)
    return &vc_qemu_ops;
  if (strcmp(name, "mock") == 0)
    return &vc_mock_ops;
  return NULL;
}
