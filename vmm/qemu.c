/* The QEMU backend: builds the command line from the hypervisor config,
 * starts the device daemons and then QEMU detached with its own log, and
 * controls it over QMP. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/json.h"
#include "vmm/qemu_net.h"
#include "lib/base/util.h"
#include "lib/host/process.h"
#include "vmm/console_log.h"
#include "vmm/qemu.h"
#include "vmm/vhost_vsock.h"

#define QBOOT_ROM "/usr/share/qemu/qboot.rom"
/* TCG translation cache size (see vc_qemu_build_argv). */
#define VC_QEMU_TCG_TB_SIZE_MIB 32

static void strv_freep(char ***v) { vc_strv_free(*v); }
#define cleanup_strv __attribute__((cleanup(strv_freep)))

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

/* QEMU runs exec: URIs through /bin/sh -c: the path goes in single quotes,
 * which it must not contain (save_vm and restore_vm check). */
static char *incoming_uri(const char *path) {
  return xasprintf("exec:cat '%s'", path);
}

static bool is_microvm(const struct vc_vm *vm) {
  return strcmp(vm->cfg->machine_type, "microvm") == 0;
}

/* Memory is added in whole blocks of the guest's memory hot-plug unit. */
#define MEMORY_BLOCK_MIB 128

/* The VM's size at start: the sandbox's, else the configuration's. */
static unsigned start_vcpus(const struct vc_vm *vm) {
  return vm->vcpus ? vm->vcpus : vm->cfg->vcpus;
}

static unsigned start_memory_mib(const struct vc_vm *vm) {
  return vm->memory_mib ? vm->memory_mib : vm->cfg->memory_mib;
}

/* The VM may grow to its maxima (0: no headroom): q35 only. */
static unsigned max_vcpus(const struct vc_vm *vm) {
  return !is_microvm(vm) && vm->max_vcpus > start_vcpus(vm) ? vm->max_vcpus : 0;
}

/* In whole blocks of the guest's memory hot-plug unit above the start. */
static unsigned max_memory_mib(const struct vc_vm *vm) {
  unsigned start = start_memory_mib(vm);
  if (is_microvm(vm) || vm->max_memory_mib <= start)
    return 0;
  unsigned blocks = (vm->max_memory_mib - start) / MEMORY_BLOCK_MIB;
  return blocks ? start + blocks * MEMORY_BLOCK_MIB : 0;
}

char *vc_qemu_kernel_cmdline(const struct vc_vm *vm) {
  /* Tuned for a fast boot (DESIGN.md 1a): quiet console, no legacy probing,
   * no self-tests, panic reboots (and -no-reboot turns that into an exit).
   * Hot-plugged memory comes online by itself; no swiotlb: with memory
   * hot-plug headroom above 4 GiB the kernel would set aside (and clear,
   * ~0.35 s under TCG) 64 MiB of bounce buffers that virtio devices, which
   * address all of memory, never use. */
  unsigned long khz = host_tsc_khz();
  cleanup_free char *tsc = khz ? xasprintf(" tsc_early_khz=%lu", khz) : xstrdup("");
  const char *extra = vm->cfg->kernel_params ? vm->cfg->kernel_params : "";
  /* TCG starts every vCPU present: the guest brings up its start count. */
  cleanup_free char *maxcpus = !vm->use_kvm && max_vcpus(vm) > 0
                                   ? xasprintf(" maxcpus=%u", start_vcpus(vm))
                                   : xstrdup("");
  return xasprintf(
      "console=ttyS0 panic=-1 quiet loglevel=1%s tsc=reliable no_timer_check "
      "memhp_default_state=online swiotlb=noforce "
      "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=1 "
      "nokaslr mitigations=off cryptomgr.notests rcupdate.rcu_expedited=1 "
      "audit=0 nowatchdog initcall_blacklist=cmos_init%s%s%s%s%s",
      tsc, is_microvm(vm) ? " pci=off" : "", maxcpus,
      vm->vhost_user_later ? " vcrun.template" : "", extra[0] ? " " : "", extra);
}

int vc_qemu_build_argv(const struct vc_vm *vm, const char *restore_from,
                       char ***argv_out, vc_error **err) {
  const struct vc_hypervisor_config *cfg = vm->cfg;
  bool microvm = is_microvm(vm);
  cleanup_free char *fifo = vc_console_fifo_path(vm);
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
  /* TCG is named by -accel below, with its options. */
  const char *accel = vm->use_kvm ? "accel=kvm," : "";
  if (microvm)
    add2(&b, "-M", xasprintf("microvm,%sx-option-roms=off,isa-serial=on,"
                             "pit=off,pic=off,rtc=on,acpi=on,memory-backend=mem",
                             accel));
  else
    add2(&b, "-M", xasprintf("q35,%smemory-backend=mem", accel));
  if (!vm->use_kvm) {
    /* TCG's translation cache is 1 GiB by default, and a booted guest
     * leaves ~50 MiB of it touched: 32 MiB costs the host 18 MiB less PSS
     * per sandbox (measured), for some retranslation once it fills; boot
     * times did not move beyond this machine's noise. */
    add2(&b, "-accel", xasprintf("tcg,tb-size=%d", VC_QEMU_TCG_TB_SIZE_MIB));
  }
  if (microvm)
    add2(&b, "-global", xstrdup("virtio-mmio.force-legacy=false"));
  else if (vc_file_exists(QBOOT_ROM))
    add2(&b, "-bios", xstrdup(QBOOT_ROM)); /* boots the kernel faster than SeaBIOS */
  /* Without +arat an idle TCG guest keeps polling its timer. */
  add2(&b, "-cpu", xstrdup(vm->use_kvm ? "host" : "qemu64,+arat"));
  if (max_vcpus(vm) > 0 && !vm->use_kvm)
    /* Under TCG every vCPU is there from the start, the guest brings up
     * start_vcpus of them (maxcpus= below) and the agent the others on
     * resize: QEMU 7.2's TCG aborts when a vCPU thread is added after the
     * running ones have taken every translation region
     * (tcg_region_initial_alloc), which a small tb-size makes likely. */
    add2(&b, "-smp", xasprintf("%u", max_vcpus(vm)));
  else if (max_vcpus(vm) > 0)
    add2(&b, "-smp", xasprintf("%u,maxcpus=%u", start_vcpus(vm), max_vcpus(vm)));
  else
    add2(&b, "-smp", xasprintf("%u", start_vcpus(vm)));
  if (max_memory_mib(vm) > 0)
    add2(&b, "-m", xasprintf("%uM,slots=%u,maxmem=%uM", start_memory_mib(vm),
                             cfg->memory_slots, max_memory_mib(vm)));
  else
    add2(&b, "-m", xasprintf("%uM", start_memory_mib(vm)));
  /* vhost-user backends map guest RAM: it must be shareable. */
  if (vm->ram_file != NULL)
    add2(&b, "-object", xasprintf("memory-backend-file,id=mem,size=%uM,"
                                  "mem-path=%s,share=on", start_memory_mib(vm),
                                  vm->ram_file));
  else
    add2(&b, "-object", xasprintf("memory-backend-memfd,id=mem,size=%uM,share=on",
                                  start_memory_mib(vm)));
  add2(&b, "-kernel", xstrdup(cfg->kernel));
  add2(&b, "-initrd", xstrdup(cfg->initrd));
  add2(&b, "-append", vc_qemu_kernel_cmdline(vm));
  /* Into a FIFO the console drain empties into a bounded console.log
   * (vmm/console_log.h): the guest must not fill the host's disk. */
  add2(&b, "-serial", xasprintf("file:%s", fifo));
  add2(&b, "-qmp", xasprintf("unix:%s/qmp.sock,server=on,wait=off", vm->dir));
  /* For hot-plug; a template's clones get vsock and virtio-fs that way. */
  unsigned ports = vm->cfg->pcie_root_ports + (vm->vhost_user_later ? 2 : 0);
  for (unsigned i = 0; !is_microvm(vm) && i < ports; i++)
    add2(&b, "-device", vc_qemu_root_port_arg(i));
  if (vm->vhost_user_later) {
    /* none: restore_vm hot-plugs them */
  } else if (vm->hybrid_vsock) {
    cleanup_free char *socket = vc_qemu_vsock_socket(vm);
    add2(&b, "-chardev", xasprintf("socket,id=vsock,path=%s", socket));
    add2(&b, "-device", xasprintf("vhost-user-vsock-%s,chardev=vsock", bus));
  } else if (vm->vhost_vsock_fd >= 0) {
    add2(&b, "-device", xasprintf("vhost-vsock-%s,guest-cid=%llu,vhostfd=%d", bus,
                                  (unsigned long long)vm->guest_cid,
                                  vm->vhost_vsock_fd));
  }
  if (vm->share_dir != NULL && !vm->vhost_user_later) {
    cleanup_free char *socket = vc_qemu_fs_socket(vm);
    add2(&b, "-chardev", xasprintf("socket,id=fs0,path=%s", socket));
    add2(&b, "-device", xasprintf("vhost-user-fs-%s,chardev=fs0,tag=%s", bus,
                                  vm->fs_tag));
  }
  /* x-ignore-shared must be set before the incoming migration starts, so
   * a file-backed restore waits for QMP (restore_vm). */
  if (restore_from != NULL)
    add2(&b, "-incoming",
         vm->ram_file != NULL ? xstrdup("defer") : incoming_uri(restore_from));
  *argv_out = b.v;
  if (vc_qemu_net_cold_args(vm, argv_out, err) < 0) {
    vc_strv_free(*argv_out);
    *argv_out = NULL;
    return -1;
  }
  return 0;
}


/* QEMU itself, by its pid and command line (which names vm->dir). */
static bool qemu_runs(const struct vc_vm *vm) {
  return vm->pid > 0 && vm->dir != NULL && vc_pid_is(vm->pid, vm->dir);
}

/* Spawns argv, inside vm->netns when given: this process steps into that
 * network namespace for the spawn and back (it is single-threaded), so
 * QEMU's network devices live there and nothing else does. */
static int spawn_in_netns(const struct vc_vm *vm, char **argv, pid_t *pid,
                          vc_error **err) {
  /* The fds the command line names: vhost-vsock's and the NICs' taps. */
  int keep[VC_SPAWN_MAX_KEEP];
  size_t n_keep = 0;
  keep[n_keep++] = vm->vhost_vsock_fd;
  for (size_t i = 0; i < vm->n_cold_nics; i++)
    for (size_t j = 0; j < vm->cold_nics[i].n_fds && n_keep < N_ELEMS(keep); j++)
      keep[n_keep++] = vm->cold_nics[i].fds[j];
  if (vm->netns == NULL)
    return vc_spawn_detached(argv, vm->log_path, keep, n_keep, pid, err);
  cleanup_close int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  cleanup_close int target = open(vm->netns, O_RDONLY | O_CLOEXEC);
  if (own < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0)
    return vc_error_set(err, errno, "enter the network namespace `%s`",
                        vm->netns);
  int r = vc_spawn_detached(argv, vm->log_path, keep, n_keep, pid, err);
  if (setns(own, CLONE_NEWNET) < 0) {
    /* Staying there would put whatever this process starts next in the
     * wrong place. */
    vc_error_free(err);
    return vc_error_set(err, errno, "return from the network namespace `%s`",
                        vm->netns);
  }
  return r;
}

static int spawn_qemu(struct vc_vm *vm, const char *restore_from,
                      vc_error **err) {
  cleanup_strv char **argv = NULL;
  if (!vc_file_exists(vm->cfg->path))
    return vc_error_set(err, errno, "hypervisor `%s` (configured in [hypervisor.qemu] path)",
                        vm->cfg->path);
  if (!vc_file_exists(vm->cfg->kernel))
    return vc_error_set(err, errno, "guest kernel `%s` (configured in [hypervisor.qemu] kernel)",
                        vm->cfg->kernel);
  if (!vc_file_exists(vm->cfg->initrd))
    return vc_error_set(err, errno, "guest initrd `%s` (configured in [hypervisor.qemu] initrd)",
                        vm->cfg->initrd);
  if (vc_qemu_build_argv(vm, restore_from, &argv, err) < 0)
    return -1;
  if (spawn_in_netns(vm, argv, &vm->pid, err) < 0)
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

static void set_paths(struct vc_vm *vm) {
  free(vm->qmp_socket);
  free(vm->log_path);
  free(vm->console_path);
  vm->qmp_socket = xasprintf("%s/qmp.sock", vm->dir);
  vm->log_path = xasprintf("%s/qemu.log", vm->dir);
  vm->console_path = xasprintf("%s/console.log", vm->dir);
}

/* The daemons, then QEMU; on failure whatever started is stopped. */
static int start_vm(struct vc_vm *vm, const char *restore_from,
                    vc_error **err) {
  set_paths(vm);
  vm->pid = vm->virtiofsd_pid = vm->vsock_backend_pid = 0;
  vm->vhost_vsock_fd = -1;
  int r = -1;
  pid_t console_drain = 0;
  if (vm->vhost_user_later) {
    /* restore_vm starts the daemons once the guest runs */
  } else if (vm->share_dir != NULL && vc_qemu_start_virtiofsd(vm, err) < 0) {
    goto out;
  }
  if (vm->vhost_user_later) {
  } else if (vm->hybrid_vsock) {
    if (vc_qemu_start_vsock_backend(vm, err) < 0)
      goto out;
  } else {
    /* The fd holds the CID until QEMU has its own copy. */
    vm->vhost_vsock_fd = vc_vhost_vsock_reserve(&vm->guest_cid, err);
    if (vm->vhost_vsock_fd < 0)
      goto out;
  }
  if (vc_console_log_start(vm, &console_drain, err) < 0)
    goto out;
  r = spawn_qemu(vm, restore_from, err);
  /* The drain follows QEMU out by itself, unless QEMU never opened the
   * FIFO. */
  if (r < 0)
    vc_pid_terminate(console_drain, 100);
out:
  if (vm->vhost_vsock_fd >= 0)
    close(vm->vhost_vsock_fd);
  vm->vhost_vsock_fd = -1;
  if (r < 0)
    vc_qemu_stop_daemons(vm);
  return r;
}

static int qemu_start(struct vc_vm *vm, vc_error **err) {
  return start_vm(vm, NULL, err);
}

static bool qemu_alive(const struct vc_vm *vm) {
  return qemu_runs(vm) && vc_qemu_daemons_alive(vm);
}

static int qemu_stop(struct vc_vm *vm, bool force, vc_error **err) {
  int ret = 0;
  if (qemu_runs(vm)) {
    if (!force && vm->qmp_socket != NULL) {
      vc_error *qerr = NULL;
      if (vc_qmp_execute(vm->qmp_socket, "quit", NULL, 2000, &qerr) < 0)
        vc_error_free(&qerr); /* fall through to signals */
      long long deadline = vc_now_ms() + 2000;
      while (qemu_runs(vm) && vc_now_ms() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
      }
    }
    vc_pid_terminate(vm->pid, force ? 0 : 1000);
    if (qemu_runs(vm))
      ret = vc_error_set(err, 0, "QEMU (pid %d) does not exit", vm->pid);
  }
  /* The daemons follow QEMU out by themselves; these are the stragglers
   * (or the ones whose QEMU never started). */
  vc_qemu_stop_daemons(vm);
  /* So does the console drain: gone before the directory is. */
  if (ret == 0 && vm->dir != NULL)
    vc_console_log_wait(vm, 1000);
  return ret;
}

static void save_device(struct vc_jb *b, const char *type, pid_t pid,
                        const char *socket) {
  vc_jb_open(b, '{');
  vc_jb_key(b, "type");
  vc_jb_str(b, type);
  vc_jb_key(b, "daemon_pid");
  vc_jb_int(b, pid);
  vc_jb_key(b, "socket");
  vc_jb_str(b, socket);
  vc_jb_close(b, '}');
}

/* The layout of state.json version 2: the helpers are "devices" beside the
 * "hypervisor" object, as in Kata's persist API. */
static void qemu_save_state(const struct vc_vm *vm, struct vc_jb *out) {
  vc_jb_key(out, "hypervisor");
  vc_jb_open(out, '{');
  vc_jb_key(out, "type");
  vc_jb_str(out, "qemu");
  vc_jb_key(out, "pid");
  vc_jb_int(out, vm->pid);
  vc_jb_key(out, "qmp_socket");
  vc_jb_str(out, vm->qmp_socket);
  vc_jb_key(out, "accel");
  vc_jb_str(out, vm->use_kvm ? "kvm" : "tcg");
  /* What resize needs: the size it started with and the headroom. */
  vc_jb_key(out, "vcpus");
  vc_jb_uint(out, start_vcpus(vm));
  vc_jb_key(out, "memory_mib");
  vc_jb_uint(out, start_memory_mib(vm));
  vc_jb_key(out, "max_vcpus");
  vc_jb_uint(out, vm->max_vcpus);
  vc_jb_key(out, "max_memory_mib");
  vc_jb_uint(out, vm->max_memory_mib);
  vc_jb_close(out, '}');
  vc_jb_key(out, "devices");
  vc_jb_open(out, '[');
  if (vm->virtiofsd_pid > 0) {
    cleanup_free char *socket = vc_qemu_fs_socket(vm);
    save_device(out, "vhost-user-fs", vm->virtiofsd_pid, socket);
  }
  if (vm->vsock_backend_pid > 0) {
    cleanup_free char *socket = vc_qemu_vsock_socket(vm);
    save_device(out, "vhost-user-vsock", vm->vsock_backend_pid, socket);
  }
  vc_jb_close(out, ']');
}

/* A pid from the state: 0 when absent or not a pid. */
static pid_t state_pid(yajl_val obj, const char *key) {
  int64_t n = 0;
  yajl_val v = vc_json_get(obj, key);
  if (v == NULL || vc_json_to_i64(v, 0, INT32_MAX, &n) != VC_JSON_NUM_OK)
    return 0;
  return (pid_t)n;
}

/* A size from the state: 0 (the configuration's) when absent or bad. */
static unsigned state_size(yajl_val obj, const char *key) {
  uint64_t n = 0;
  yajl_val v = vc_json_get(obj, key);
  if (v == NULL || vc_json_to_u64(v, UINT32_MAX, &n) != VC_JSON_NUM_OK)
    return 0;
  return (unsigned)n;
}

static int qemu_load_state(struct vc_vm *vm, yajl_val state, vc_error **err) {
  yajl_val hv = vc_json_get_object(state, "hypervisor");
  yajl_val devices = vc_json_get_array(state, "devices");
  if (hv == NULL || devices == NULL)
    return vc_error_set(err, 0, "%s/state.json: devices or hypervisor missing",
                        vm->dir);
  set_paths(vm);
  const char *qmp = vc_json_get_str(hv, "qmp_socket");
  if (qmp != NULL) {
    free(vm->qmp_socket);
    vm->qmp_socket = xstrdup(qmp);
  }
  const char *accel = vc_json_get_str(hv, "accel");
  vm->use_kvm = accel != NULL && strcmp(accel, "kvm") == 0;
  vm->pid = state_pid(hv, "pid");
  vm->vcpus = state_size(hv, "vcpus");
  vm->memory_mib = state_size(hv, "memory_mib");
  vm->max_vcpus = state_size(hv, "max_vcpus");
  vm->max_memory_mib = state_size(hv, "max_memory_mib");
  vm->virtiofsd_pid = vm->vsock_backend_pid = 0;
  /* Files of earlier versions list the vsock device with pid 0 when the
   * kernel's vhost-vsock served the VM: that reads as no daemon. */
  for (size_t i = 0; i < devices->u.array.len; i++) {
    yajl_val dev = devices->u.array.values[i];
    const char *type = vc_json_get_str(dev, "type");
    if (type != NULL && strcmp(type, "vhost-user-fs") == 0)
      vm->virtiofsd_pid = state_pid(dev, "daemon_pid");
    else if (type != NULL && strcmp(type, "vhost-user-vsock") == 0)
      vm->vsock_backend_pid = state_pid(dev, "daemon_pid");
  }
  return 0;
}

static int qemu_hotplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                        vc_error **err) {
  if (dev->kind == VC_VM_DEVICE_NET)
    return vc_qemu_net_hotplug(vm, dev, err);
  if (dev->kind == VC_VM_DEVICE_VSOCK || dev->kind == VC_VM_DEVICE_FS)
    return vc_qemu_vhost_user_hotplug(vm, dev, err);
  return vc_vm_not_supported("qemu", "hotplug block",
                             "block devices are not written yet", err);
}

static int qemu_unplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                       vc_error **err) {
  if (dev->kind == VC_VM_DEVICE_NET)
    return vc_qemu_net_unplug(vm, dev, err);
  if (dev->kind == VC_VM_DEVICE_VSOCK || dev->kind == VC_VM_DEVICE_FS)
    return vc_qemu_vhost_user_unplug(vm, dev, err);
  return vc_vm_not_supported("qemu", "unplug block",
                             "block devices are not written yet", err);
}

/* Runs one QMP command on vm; *result (if non-NULL) gets the parsed
 * "return" value (free the tree with yajl_tree_free). */
static int qmp(const struct vc_vm *vm, const char *command, const char *args,
               yajl_val *tree, yajl_val *result, vc_error **err) {
  if (!qemu_runs(vm) || vm->qmp_socket == NULL)
    return vc_error_set(err, ESRCH, "%s: QEMU of `%s` is not running", command,
                        vm->id);
  cleanup_free char *reply = NULL;
  if (vc_qmp_call(vm->qmp_socket, command, args, tree ? &reply : NULL, 10000,
                  err) < 0)
    return -1;
  if (tree == NULL)
    return 0;
  if (vc_json_parse(reply, tree, err) < 0)
    return vc_error_wrap(err, "QMP %s", command);
  *result = *tree;
  return 0;
}

static bool cpu_plugged(yajl_val cpu) {
  return vc_json_get_str(cpu, "qom-path") != NULL;
}

/* The id resize_vcpus gave a CPU it plugged, from its qom-path; NULL for
 * the CPUs the VM booted with. */
static const char *hotplugged_cpu_id(yajl_val cpu) {
  static const char prefix[] = "/machine/peripheral/";
  const char *path = vc_json_get_str(cpu, "qom-path");
  if (path == NULL || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
    return NULL;
  return path + sizeof(prefix) - 1;
}

/* device_add of the CPU slot cpu describes (its type and topology). */
static int plug_cpu(struct vc_vm *vm, yajl_val cpu, vc_error **err) {
  yajl_val props = vc_json_get_object(cpu, "props");
  const char *type = vc_json_get_str(cpu, "type");
  if (props == NULL || type == NULL)
    return vc_error_set(err, 0, "resize_vcpus: query-hotpluggable-cpus "
                        "lists a slot without type or props");
  struct vc_jb args = {0};
  char cpu_id[96] = "vcpu"; /* vcpu-<socket>-<core>-<thread>... */
  vc_jb_open(&args, '{');
  vc_jb_key(&args, "driver");
  vc_jb_str(&args, type);
  for (size_t i = 0; i < props->u.object.len; i++) {
    int64_t n = 0;
    if (vc_json_to_i64(props->u.object.values[i], 0, INT32_MAX, &n) != VC_JSON_NUM_OK)
      continue;
    vc_jb_key(&args, props->u.object.keys[i]);
    vc_jb_int(&args, n);
    size_t len = strlen(cpu_id);
    snprintf(cpu_id + len, sizeof(cpu_id) - len, "-%lld", (long long)n);
  }
  vc_jb_key(&args, "id");
  vc_jb_str(&args, cpu_id);
  vc_jb_close(&args, '}');
  cleanup_free char *text = vc_jb_take(&args);
  return qmp(vm, "device_add", text, NULL, NULL, err);
}

static int qemu_resize_vcpus(struct vc_vm *vm, unsigned vcpus, unsigned *now,
                             vc_error **err) {
  if (is_microvm(vm))
    return vc_vm_not_supported("qemu", "resize_vcpus", "microvm has no CPU hot-plug",
                               err);
  /* TCG: all max_vcpus are present (see vc_qemu_build_argv); the guest
   * brings the count online or offline. */
  if (!vm->use_kvm) {
    unsigned present = max_vcpus(vm) ? max_vcpus(vm) : start_vcpus(vm);
    if (vcpus == 0 || vcpus > present)
      return vc_error_set(err, ERANGE, "resize_vcpus: %u vCPUs: the VM has "
                          "room for 1 to %u ([hypervisor.qemu] "
                          "default_maxvcpus)", vcpus, present);
    if (now != NULL)
      *now = vcpus;
    return 0;
  }
  yajl_val tree = NULL, cpus = NULL;
  if (qmp(vm, "query-hotpluggable-cpus", NULL, &tree, &cpus, err) < 0)
    return -1;
  int ret = -1;
  if (cpus == NULL || !YAJL_IS_ARRAY(cpus)) {
    vc_error_set(err, 0, "resize_vcpus: query-hotpluggable-cpus: no list");
    goto out;
  }
  size_t slots = cpus->u.array.len, plugged = 0;
  for (size_t i = 0; i < slots; i++)
    plugged += cpu_plugged(cpus->u.array.values[i]);
  if (vcpus == 0 || vcpus > slots) {
    vc_error_set(err, 0, "resize_vcpus: %u vCPUs: the VM has room for 1 "
                 "to %zu ([hypervisor.qemu] default_maxvcpus)", vcpus, slots);
    if (err != NULL && *err != NULL)
      (*err)->errnum = ERANGE;
    goto out;
  }
  /* Grow into the free slots; shrink by the CPUs plugged here, newest
   * (last listed) first. */
  for (size_t i = 0; i < slots && plugged < vcpus; i++) {
    yajl_val cpu = cpus->u.array.values[i];
    if (cpu_plugged(cpu))
      continue;
    if (plug_cpu(vm, cpu, err) < 0)
      goto out;
    plugged++;
  }
  for (size_t i = slots; i > 0 && plugged > vcpus; i--) {
    const char *id = hotplugged_cpu_id(cpus->u.array.values[i - 1]);
    if (id == NULL)
      continue;
    cleanup_free char *quoted = vc_json_quote(id);
    cleanup_free char *args = xasprintf("{\"id\":%s}", quoted);
    if (qmp(vm, "device_del", args, NULL, NULL, err) < 0)
      goto out;
    plugged--;
  }
  /* The CPUs it booted with stay: it shrinks no further. */
  if (now != NULL)
    *now = (unsigned)plugged;
  ret = 0;
out:
  yajl_tree_free(tree);
  return ret;
}


static int qemu_resize_memory(struct vc_vm *vm, unsigned mib, unsigned *now,
                              vc_error **err) {
  if (is_microvm(vm))
    return vc_vm_not_supported("qemu", "resize_memory",
                               "microvm has no memory hot-plug", err);
  yajl_val tree = NULL, sizes = NULL;
  if (qmp(vm, "query-memory-size-summary", NULL, &tree, &sizes, err) < 0)
    return -1;
  uint64_t base = 0, plugged = 0;
  yajl_val v = vc_json_get(sizes, "base-memory");
  int r = v != NULL ? vc_json_to_u64(v, UINT64_MAX, &base) : VC_JSON_NUM_TYPE;
  if ((v = vc_json_get(sizes, "plugged-memory")) != NULL)
    vc_json_to_u64(v, UINT64_MAX, &plugged);
  yajl_tree_free(tree);
  if (r != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "resize_memory: query-memory-size-summary: "
                        "no base-memory");
  unsigned current = (unsigned)((base + plugged) >> 20);
  /* DIMMs grow it; a smaller size leaves it as it is (the guest would
   * have to give memory back: a balloon or virtio-mem). */
  if (mib > current) {
    unsigned add = (mib - current + MEMORY_BLOCK_MIB - 1) / MEMORY_BLOCK_MIB *
                   MEMORY_BLOCK_MIB;
    /* A shareable memfd like the boot RAM: vhost-user daemons map it. */
    cleanup_free char *backend = xasprintf(
        "{\"qom-type\":\"memory-backend-memfd\",\"id\":\"hpmem%u\","
        "\"size\":%llu,\"share\":true}",
        current, (unsigned long long)add << 20);
    cleanup_free char *dimm = xasprintf(
        "{\"driver\":\"pc-dimm\",\"id\":\"dimm%u\",\"memdev\":\"hpmem%u\"}",
        current, current);
    if (qmp(vm, "object-add", backend, NULL, NULL, err) < 0)
      return vc_error_wrap(err, "resize_memory");
    if (qmp(vm, "device_add", dimm, NULL, NULL, err) < 0) {
      cleanup_free char *del = xasprintf("{\"id\":\"hpmem%u\"}", current);
      vc_error *derr = NULL;
      qmp(vm, "object-del", del, NULL, NULL, &derr);
      vc_error_free(&derr);
      return vc_error_wrap(err, "resize_memory ([hypervisor.qemu] "
                           "default_maxmemory, memory_slots)");
    }
    current += add;
  }
  if (now != NULL)
    *now = current;
  return 0;
}

/* QEMU 7.2 blocks migration while a vhost-user-fs device is attached, and
 * vcrun's vsock daemon keeps no state to migrate. */
static bool has_vhost_user_devices(const struct vc_vm *vm) {
  if (vm->vhost_user_later)
    return vm->virtiofsd_pid > 0 || vm->vsock_backend_pid > 0;
  return vm->virtiofsd_pid > 0 || vm->vsock_backend_pid > 0 ||
         vm->share_dir != NULL || vm->hybrid_vsock;
}

/* RAM in a shared file stays there (the template's file, a clone's copy of
 * it): the migration stream carries the devices only. */
static int ignore_shared(struct vc_vm *vm, vc_error **err) {
  if (vm->ram_file == NULL)
    return 0;
  /* Just started, QEMU may have bound its QMP socket but not listen yet. */
  long long deadline = vc_now_ms() + 2000;
  for (;;) {
    vc_error *e = NULL;
    if (qmp(vm, "migrate-set-capabilities",
            "{\"capabilities\":[{\"capability\":\"x-ignore-shared\","
            "\"state\":true}]}", NULL, NULL, &e) == 0)
      return 0;
    if (e->errnum != ECONNREFUSED || vc_now_ms() > deadline) {
      if (err != NULL)
        *err = e;
      else
        vc_error_free(&e);
      return -1;
    }
    vc_error_free(&e);
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

#define VHOST_USER_NO_MIGRATION \
  "QEMU 7.2 cannot migrate a VM with vhost-user devices (virtio-fs, " \
  "vhost-user-vsock) attached"

static int qemu_save_vm(struct vc_vm *vm, const char *path, vc_error **err) {
  if (has_vhost_user_devices(vm))
    return vc_vm_not_supported("qemu", "save_vm", VHOST_USER_NO_MIGRATION, err);
  if (path[0] != '/' || strchr(path, '\'') != NULL)
    return vc_error_set(err, EINVAL, "save_vm: `%s` must be an absolute path "
                        "without a single quote", path);
  cleanup_free char *uri = xasprintf("exec:cat > '%s'", path);
  cleanup_free char *quoted = vc_json_quote(uri);
  cleanup_free char *args = xasprintf("{\"uri\":%s}", quoted);
  if (qmp(vm, "stop", NULL, NULL, NULL, err) < 0 || ignore_shared(vm, err) < 0 ||
      qmp(vm, "migrate", args, NULL, NULL, err) < 0)
    return vc_error_wrap(err, "save_vm");
  long long deadline = vc_now_ms() + 120000;
  for (;;) {
    yajl_val tree = NULL, info = NULL;
    if (qmp(vm, "query-migrate", NULL, &tree, &info, err) < 0)
      return vc_error_wrap(err, "save_vm");
    const char *status = vc_json_get_str(info, "status");
    cleanup_free char *copy = xstrdup(status ? status : "unknown");
    const char *why = vc_json_get_str(info, "error-desc");
    cleanup_free char *why_copy = why ? xstrdup(why) : NULL;
    yajl_tree_free(tree);
    if (strcmp(copy, "completed") == 0)
      return 0;
    if (strcmp(copy, "failed") == 0 || strcmp(copy, "cancelled") == 0 ||
        vc_now_ms() > deadline)
      return vc_error_set(err, 0, "save_vm: migration %s%s%s", copy,
                          why_copy ? ": " : "", why_copy ? why_copy : "");
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* Waits for the incoming migration to complete, then resumes the guest:
 * the template was saved stopped, and QEMU keeps the state it was saved
 * in. */
static int wait_incoming(struct vc_vm *vm, vc_error **err) {
  long long deadline = vc_now_ms() + 60000;
  for (;;) {
    yajl_val tree = NULL, info = NULL;
    if (qmp(vm, "query-migrate", NULL, &tree, &info, err) < 0)
      return -1;
    const char *status = vc_json_get_str(info, "status");
    cleanup_free char *copy = xstrdup(status ? status : "none");
    yajl_tree_free(tree);
    if (strcmp(copy, "completed") == 0)
      break;
    if (strcmp(copy, "failed") == 0 || strcmp(copy, "cancelled") == 0)
      return vc_error_set(err, 0, "the incoming migration %s (QEMU log: %s)",
                          copy, vm->log_path);
    if (vc_now_ms() > deadline)
      return vc_error_set(err, ETIMEDOUT, "the incoming migration did not "
                          "complete within 60 s (status %s)", copy);
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return qmp(vm, "cont", NULL, NULL, NULL, err);
}

/* A restored vhost_user_later VM: the daemons, then their devices. */
static int plug_vhost_user(struct vc_vm *vm, vc_error **err) {
  if (!vm->hybrid_vsock)
    return vc_error_set(err, ENOTSUP, "a restored VM gets its vsock by hot-plug, "
                        "which needs the hybrid vsock backend");
  cleanup_free char *fs_socket = vc_qemu_fs_socket(vm);
  cleanup_free char *vsock_socket = vc_qemu_vsock_socket(vm);
  struct vc_vm_device fs = {.kind = VC_VM_DEVICE_FS, .id = "fs0",
                            .socket = fs_socket, .tag = vm->fs_tag};
  struct vc_vm_device vsock = {.kind = VC_VM_DEVICE_VSOCK, .id = "vsock0",
                               .socket = vsock_socket, .guest_cid = vm->guest_cid};
  if (vm->share_dir != NULL &&
      (vc_qemu_start_virtiofsd(vm, err) < 0 ||
       vc_qemu_vhost_user_hotplug(vm, &fs, err) < 0))
    return -1;
  if (vc_qemu_start_vsock_backend(vm, err) < 0 ||
      vc_qemu_vhost_user_hotplug(vm, &vsock, err) < 0)
    return -1;
  return 0;
}

static int qemu_restore_vm(struct vc_vm *vm, const char *path, vc_error **err) {
  if (has_vhost_user_devices(vm))
    return vc_vm_not_supported("qemu", "restore_vm", VHOST_USER_NO_MIGRATION, err);
  if (path[0] != '/' || strchr(path, '\'') != NULL)
    return vc_error_set(err, EINVAL, "restore_vm: `%s` must be an absolute "
                        "path without a single quote", path);
  if (start_vm(vm, path, err) < 0)
    return -1;
  if (vm->ram_file == NULL)
    return 0;
  cleanup_free char *uri = incoming_uri(path);
  cleanup_free char *quoted = vc_json_quote(uri);
  cleanup_free char *args = xasprintf("{\"uri\":%s}", quoted);
  if (ignore_shared(vm, err) < 0 ||
      qmp(vm, "migrate-incoming", args, NULL, NULL, err) < 0 ||
      wait_incoming(vm, err) < 0 || plug_vhost_user(vm, err) < 0) {
    vc_error *e = NULL;
    qemu_stop(vm, true, &e);
    vc_error_free(&e);
    return vc_error_wrap(err, "restore_vm");
  }
  return 0;
}

const struct vc_hypervisor_ops vc_qemu_ops = {
    .name = "qemu",
    .start = qemu_start,
    .stop = qemu_stop,
    .alive = qemu_alive,
    .save_state = qemu_save_state,
    .load_state = qemu_load_state,
    .hotplug = qemu_hotplug,
    .unplug = qemu_unplug,
    .resize_vcpus = qemu_resize_vcpus,
    .resize_memory = qemu_resize_memory,
    .save_vm = qemu_save_vm,
    .restore_vm = qemu_restore_vm,
};
