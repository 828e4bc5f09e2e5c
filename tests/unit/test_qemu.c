/* The QEMU backend: its command line, the acceleration decision, its part
 * of state.json (today's layout and the one before load_state), the ops it
 * refuses with ENOTSUP, and resize over QMP against a scripted QMP server. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "lib/base/json.h"
#include "lib/base/util.h"
#include "lib/host/process.h"
#include "vmm/hypervisor.h"
#include "vmm/qemu.h"

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
  vm->ops = &vc_qemu_ops;
  vm->cfg = &cfg->hypervisor;
  vm->id = "c1";
  vm->dir = "/run/vcrun/c1";
  vm->hybrid_vsock = true;
  vm->hybrid_socket = "/run/vcrun/c1/vsock.sock";
  vm->vhost_vsock_fd = -1;
  vm->share_dir = xstrdup("/run/vcrun/c1/shared");
  vm->fs_tag = "vcfs0";
  vm->guest_cid = 3;
}

static void free_vm(struct vc_config *cfg, struct vc_vm *vm) {
  vc_vm_free(vm);
  vc_config_free(cfg);
}

TEST(q35_tcg_command_line) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK_STR(argv[0], cfg.hypervisor.path);
  CHECK(argv_has(argv, "-M", "q35,memory-backend=mem"));
  /* A small translation cache: an idle sandbox costs the host less. */
  CHECK(argv_has(argv, "-accel", "tcg,tb-size=32"));
  CHECK(argv_has(argv, "-cpu", "qemu64,+arat"));
  CHECK(argv_has(argv, "-smp", "2"));
  CHECK(argv_has(argv, "-m", "512M"));
  CHECK(argv_has(argv, "-object", "memory-backend-memfd,id=mem,size=512M,share=on"));
  CHECK(argv_has(argv, "-device", "vhost-user-vsock-pci,chardev=vsock"));
  CHECK(argv_has(argv, "-device", "vhost-user-fs-pci,chardev=fs0,tag=vcfs0"));
  CHECK(argv_has(argv, "-chardev", "socket,id=vsock,path=/run/vcrun/c1/vhost-vsock.sock"));
  CHECK(argv_has(argv, "-qmp", "unix:/run/vcrun/c1/qmp.sock,server=on,wait=off"));
  /* The console drain's FIFO (vmm/console_log.h), not the log itself. */
  CHECK(argv_has(argv, "-serial", "file:/run/vcrun/c1/console.pipe"));
  const char *append = argv_value(argv, "-append");
  CHECK(append != NULL && strstr(append, "console=ttyS0") != NULL);
  CHECK(append != NULL && strstr(append, " foo=bar") != NULL);
  CHECK(append != NULL && strstr(append, "pci=off") == NULL);
  vc_strv_free(argv);
  free_vm(&cfg, &vm);
}

TEST(microvm_uses_mmio_devices_and_pci_off) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "microvm");
  vm.use_kvm = true;
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  const char *m = argv_value(argv, "-M");
  CHECK(m != NULL && strncmp(m, "microvm,accel=kvm,", 18) == 0);
  CHECK(argv_value(argv, "-accel") == NULL); /* KVM has no tb-size */
  CHECK(argv_has(argv, "-cpu", "host"));
  CHECK(argv_has(argv, "-device", "vhost-user-vsock-device,chardev=vsock"));
  CHECK(argv_has(argv, "-global", "virtio-mmio.force-legacy=false"));
  const char *append = argv_value(argv, "-append");
  CHECK(append != NULL && strstr(append, " pci=off") != NULL);
  vc_strv_free(argv);
  free_vm(&cfg, &vm);
}

TEST(kernel_vhost_vsock_passes_the_reserved_fd) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  vm.hybrid_vsock = false;
  vm.vhost_vsock_fd = 7;
  vm.guest_cid = 1234;
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK(argv_has(argv, "-device", "vhost-vsock-pci,guest-cid=1234,vhostfd=7"));
  CHECK(!argv_has(argv, "-device", "vhost-user-vsock-pci,chardev=vsock"));
  vc_strv_free(argv);
  free_vm(&cfg, &vm);
}

TEST(unknown_machine_type_is_an_error) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "pc-i440fx");
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "pc-i440fx") != NULL);
  vc_error_free(&err);
  free_vm(&cfg, &vm);
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

TEST(no_share_no_fs_device) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  free(vm.share_dir);
  vm.share_dir = NULL;
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK(!argv_has(argv, "-device", "vhost-user-fs-pci,chardev=fs0,tag=vcfs0"));
  vc_strv_free(argv);
  free_vm(&cfg, &vm);
}

TEST(headroom_for_hot_plug_on_q35) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  vm.use_kvm = true;
  vm.max_vcpus = 8;
  vm.max_memory_mib = 4096;
  cfg.hypervisor.memory_slots = 4;
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK(argv_has(argv, "-smp", "2,maxcpus=8"));
  CHECK(argv_has(argv, "-m", "512M,slots=4,maxmem=4096M"));
  /* The boot RAM stays the size of default_memory. */
  CHECK(argv_has(argv, "-object", "memory-backend-memfd,id=mem,size=512M,share=on"));
  vc_strv_free(argv);
  /* TCG: every vCPU present, the guest brings up its start count. */
  vm.use_kvm = false;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK(argv_has(argv, "-smp", "8"));
  char *cmdline = vc_qemu_kernel_cmdline(&vm);
  CHECK(strstr(cmdline, " maxcpus=2") != NULL);
  free(cmdline);
  vc_strv_free(argv);
  /* Headroom above the boot RAM is whole 128 MiB blocks. */
  vm.max_memory_mib = 1000;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK(argv_has(argv, "-m", "512M,slots=4,maxmem=896M"));
  vc_strv_free(argv);
  /* Maxima not above the boot sizes mean no headroom. */
  vm.max_vcpus = 2;
  vm.max_memory_mib = 512;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK(argv_has(argv, "-smp", "2") && argv_has(argv, "-m", "512M"));
  vc_strv_free(argv);
  free_vm(&cfg, &vm);
  /* microvm cannot hot-plug: no headroom asked of it. */
  make_vm(&cfg, &vm, "microvm");
  vm.max_vcpus = 8;
  vm.max_memory_mib = 4096;
  CHECK(vc_qemu_build_argv(&vm, NULL, &argv, &err) == 0);
  CHECK(argv_has(argv, "-smp", "2") && argv_has(argv, "-m", "512M"));
  vc_strv_free(argv);
  free_vm(&cfg, &vm);
}

TEST(restore_waits_for_the_saved_state) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  char **argv = NULL;
  vc_error *err = NULL;
  CHECK(vc_qemu_build_argv(&vm, "/var/lib/vm.state", &argv, &err) == 0);
  CHECK(argv_has(argv, "-incoming", "exec:cat '/var/lib/vm.state'"));
  vc_strv_free(argv);
  free_vm(&cfg, &vm);
}

/* Parses the members save_state wrote as one document. */
static yajl_val saved_state(const struct vc_vm *vm, char **text) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vm->ops->save_state(vm, &b);
  vc_jb_close(&b, '}');
  *text = vc_jb_take(&b);
  yajl_val tree = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_parse(*text, &tree, &err) == 0);
  vc_error_free(&err);
  return tree;
}

TEST(state_round_trip) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  vm.pid = 4242;
  vm.qmp_socket = xstrdup("/run/vcrun/c1/qmp.sock");
  vm.use_kvm = true;
  vm.max_vcpus = 4;
  vm.max_memory_mib = 2048;
  vm.virtiofsd_pid = 4240;
  vm.vsock_backend_pid = 4241;
  char *text = NULL;
  yajl_val tree = saved_state(&vm, &text);
  CHECK_STR(text,
            "{\"hypervisor\":{\"type\":\"qemu\",\"pid\":4242,"
            "\"qmp_socket\":\"/run/vcrun/c1/qmp.sock\",\"accel\":\"kvm\","
            "\"vcpus\":2,\"memory_mib\":512,\"max_vcpus\":4,"
            "\"max_memory_mib\":2048},"
            "\"devices\":[{\"type\":\"vhost-user-fs\",\"daemon_pid\":4240,"
            "\"socket\":\"/run/vcrun/c1/virtiofs.sock\"},"
            "{\"type\":\"vhost-user-vsock\",\"daemon_pid\":4241,"
            "\"socket\":\"/run/vcrun/c1/vhost-vsock.sock\"}]}");
  struct vc_vm back = {.cfg = vm.cfg, .id = "c1", .dir = "/run/vcrun/c1",
                       .vhost_vsock_fd = -1};
  vc_error *err = NULL;
  CHECK(vc_vm_load_state(&back, tree, &err) == 0);
  CHECK(back.ops == &vc_qemu_ops);
  CHECK(back.pid == 4242 && back.use_kvm);
  CHECK(back.vcpus == 2 && back.memory_mib == 512);
  CHECK(back.max_vcpus == 4 && back.max_memory_mib == 2048);
  CHECK(back.virtiofsd_pid == 4240 && back.vsock_backend_pid == 4241);
  CHECK_STR(back.qmp_socket, "/run/vcrun/c1/qmp.sock");
  CHECK_STR(back.log_path, "/run/vcrun/c1/qemu.log");
  CHECK_STR(back.console_path, "/run/vcrun/c1/console.log");
  vc_vm_free(&back);
  yajl_tree_free(tree);
  free(text);
  /* Kernel vhost-vsock: no vsock daemon, no such device. */
  vm.vsock_backend_pid = 0;
  tree = saved_state(&vm, &text);
  CHECK(strstr(text, "vhost-user-vsock") == NULL);
  yajl_tree_free(tree);
  free(text);
  free_vm(&cfg, &vm);
}

TEST(state_of_the_earlier_layout_loads) {
  /* As lib/sandbox.c wrote it before the backend owned its daemons: both
   * devices always listed, a pid of 0 for one that did not run. */
  const char *old =
      "{\"version\":2,\"sandbox\":{\"id\":\"c1\",\"created\":\"x\"},"
      "\"hypervisor\":{\"type\":\"qemu\",\"pid\":700,\"qmp_socket\":"
      "\"/old/c1/qmp.sock\",\"accel\":\"tcg\"},"
      "\"agent\":{\"transport\":\"vhost-vsock\",\"guest_cid\":5,"
      "\"hybrid_socket\":null},"
      "\"devices\":[{\"type\":\"vhost-user-fs\",\"daemon_pid\":698,"
      "\"socket\":\"/old/c1/virtiofs.sock\"},{\"type\":\"vhost-user-vsock\","
      "\"daemon_pid\":0,\"socket\":\"/old/c1/vhost-vsock.sock\"}],"
      "\"containers\":{}}";
  yajl_val tree = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_parse(old, &tree, &err) == 0);
  struct vc_config cfg;
  vc_config_init_defaults(&cfg);
  struct vc_vm vm = {.cfg = &cfg.hypervisor, .id = "c1", .dir = "/old/c1",
                     .vhost_vsock_fd = -1};
  CHECK(vc_vm_load_state(&vm, tree, &err) == 0);
  CHECK(vm.ops == &vc_qemu_ops && vm.pid == 700 && !vm.use_kvm);
  CHECK(vm.virtiofsd_pid == 698 && vm.vsock_backend_pid == 0);
  CHECK_STR(vm.qmp_socket, "/old/c1/qmp.sock");
  yajl_tree_free(tree);
  free_vm(&cfg, &vm);
}

static int load_fails_with(const char *doc, const char *want) {
  yajl_val tree = NULL;
  vc_error *err = NULL;
  if (vc_json_parse(doc, &tree, &err) < 0)
    return 0;
  struct vc_config cfg;
  vc_config_init_defaults(&cfg);
  struct vc_vm vm = {.cfg = &cfg.hypervisor, .id = "c1", .dir = "/s/c1"};
  int r = vc_vm_load_state(&vm, tree, &err);
  int ok = r < 0 && err != NULL && strcmp(err->msg, want) == 0 && vm.ops == NULL;
  if (!ok)
    fprintf(stderr, "  want \"%s\"\n   got \"%s\"\n", want, err ? err->msg : "success");
  vc_error_free(&err);
  yajl_tree_free(tree);
  free_vm(&cfg, &vm);
  return ok;
}

TEST(load_state_needs_hypervisor_and_devices) {
  CHECK(load_fails_with("{}", "/s/c1/state.json: hypervisor missing or of an "
                              "unknown type"));
  CHECK(load_fails_with("{\"hypervisor\":{\"type\":\"xen\"},\"devices\":[]}",
                        "/s/c1/state.json: hypervisor missing or of an "
                        "unknown type"));
  CHECK(load_fails_with("{\"hypervisor\":{\"type\":\"qemu\",\"pid\":1}}",
                        "/s/c1/state.json: devices or hypervisor missing"));
}

/* op fails with ENOTSUP and "<want_op>: not supported by the qemu
 * hypervisor backend: <...why...>". */
static int refused(int r, vc_error **err, const char *want_op, const char *why) {
  cleanup_free char *prefix = xasprintf(
      "%s: not supported by the qemu hypervisor backend: ", want_op);
  int ok = r < 0 && *err != NULL && (*err)->errnum == ENOTSUP &&
           strncmp((*err)->msg, prefix, strlen(prefix)) == 0 &&
           strstr((*err)->msg, why) != NULL;
  if (!ok)
    fprintf(stderr, "  want \"%s...%s\"\n   got \"%s\"\n", prefix, why,
            *err ? (*err)->msg : "success");
  vc_error_free(err);
  return ok;
}

TEST(refused_ops_say_enotsup_op_and_backend) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  const struct vc_hypervisor_ops *q = &vc_qemu_ops;
  vc_error *err = NULL;
  int tap = 5;
  struct vc_vm_device net = {.kind = VC_VM_DEVICE_NET, .id = "eth0",
                             .fds = &tap, .n_fds = 1};
  struct vc_vm_device fs = {.kind = VC_VM_DEVICE_FS, .id = "fs1"};
  struct vc_vm_device vsock = {.kind = VC_VM_DEVICE_VSOCK, .id = "v1"};
  struct vc_vm_device block = {.kind = VC_VM_DEVICE_BLOCK, .id = "b1"};
  /* NICs are written (vmm/qemu_net.c): their ids must name the objects. */
  CHECK(q->hotplug(&vm, &net, &err) < 0 && err != NULL &&
        strstr(err->msg, "want nic<N>") != NULL);
  vc_error_free(&err);
  CHECK(q->unplug(&vm, &net, &err) < 0 && err != NULL &&
        strstr(err->msg, "want nic<N>") != NULL);
  vc_error_free(&err);
  /* vhost-user devices are written (vmm/qemu_hotplug.c): they need the
   * daemon's socket, an fs its tag, and ids QEMU takes. */
  CHECK(q->hotplug(&vm, &fs, &err) < 0 && err != NULL && err->errnum == EINVAL &&
        strstr(err->msg, "no absolute vhost-user socket path") != NULL);
  vc_error_free(&err);
  fs.socket = "/run/x/fs.sock";
  CHECK(q->hotplug(&vm, &fs, &err) < 0 && err != NULL &&
        strstr(err->msg, "a mount tag of 1 to 36 bytes") != NULL);
  vc_error_free(&err);
  struct vc_vm_device bad_id = {.kind = VC_VM_DEVICE_VSOCK, .id = "1\"x",
                                .socket = "/run/x/v.sock"};
  CHECK(q->hotplug(&vm, &bad_id, &err) < 0 && err != NULL &&
        strstr(err->msg, "want a letter") != NULL);
  vc_error_free(&err);
  CHECK(refused(q->hotplug(&vm, &block, &err), &err, "hotplug block", "block"));
  CHECK(refused(q->unplug(&vm, &block, &err), &err, "unplug block", "block"));
  /* virtio-fs and the vsock daemon are vhost-user: QEMU 7.2 will not
   * migrate them. */
  CHECK(refused(q->save_vm(&vm, "/tmp/s", &err), &err, "save_vm", "QEMU 7.2"));
  CHECK(refused(q->restore_vm(&vm, "/tmp/s", &err), &err, "restore_vm", "vhost-user"));
  free_vm(&cfg, &vm);
  make_vm(&cfg, &vm, "microvm");
  vsock.socket = "/run/x/v.sock";
  CHECK(refused(q->hotplug(&vm, &vsock, &err), &err, "hotplug", "only q35"));
  CHECK(refused(q->resize_vcpus(&vm, 2, NULL, &err), &err, "resize_vcpus", "microvm"));
  CHECK(refused(q->resize_memory(&vm, 1024, NULL, &err), &err, "resize_memory", "microvm"));
  free_vm(&cfg, &vm);
}

/* A scripted QMP server in a child process: a greeting per connection,
 * then each command's canned answer; every command line goes to log. */
struct fake_qmp {
  char dir[64];
  char socket[96];
  char log[96];
  pid_t pid;
};

/* The script refuses a DIMM after a 384 MiB memory backend. */
static bool refuse_dimm;

static const char *canned_answer(const char *line) {
  if (strstr(line, "\"object-add\""))
    refuse_dimm = strstr(line, "\"size\":402653184") != NULL;
  if (strstr(line, "\"query-hotpluggable-cpus\""))
    /* Slots 0 and 1 boot CPUs, 2 free, 3 plugged at run time. */
    return "{\"return\":["
           "{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":3},"
           "\"vcpus-count\":1,\"qom-path\":\"/machine/peripheral/vcpu-0-0-3\","
           "\"type\":\"qemu64-x86_64-cpu\"},"
           "{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":2},"
           "\"vcpus-count\":1,\"type\":\"qemu64-x86_64-cpu\"},"
           "{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":1},"
           "\"vcpus-count\":1,\"qom-path\":\"/machine/unattached/device[2]\","
           "\"type\":\"qemu64-x86_64-cpu\"},"
           "{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":0},"
           "\"vcpus-count\":1,\"qom-path\":\"/machine/unattached/device[0]\","
           "\"type\":\"qemu64-x86_64-cpu\"}]}\n";
  if (strstr(line, "\"query-memory-size-summary\""))
    return "{\"event\":\"SOMETHING\",\"data\":{}}\n"
           "{\"return\":{\"base-memory\":536870912,\"plugged-memory\":134217728}}\n";
  if (strstr(line, "\"query-pci\""))
    /* rp0 has a device behind it, rp1 is free. */
    return "{\"return\":[{\"bus\":0,\"devices\":["
           "{\"qdev_id\":\"rp0\",\"pci_bridge\":{\"devices\":[{\"qdev_id\":\"nic0\"}]}},"
           "{\"qdev_id\":\"rp1\",\"pci_bridge\":{\"devices\":[]}}]}]}\n";
  if (strstr(line, "\"device_add\"") && strstr(line, "\"fsbad\""))
    return "{\"error\":{\"class\":\"GenericError\",\"desc\":\"no such tag\"}}\n";
  if (strstr(line, "\"device_del\"") && strstr(line, "\"vs1\""))
    return "{\"return\":{}}\n"
           "{\"event\":\"DEVICE_DELETED\",\"data\":{\"device\":\"vs1\"}}\n";
  if (strstr(line, "\"pc-dimm\"") && refuse_dimm)
    return "{\"error\":{\"class\":\"GenericError\",\"desc\":\"not enough slots\"}}\n";
  return "{\"return\":{}}\n";
}

static void serve_qmp(const char *socket_path, const char *log_path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
      listen(l, 8) < 0)
    _exit(1);
  FILE *log = fopen(log_path, "a");
  if (log == NULL)
    _exit(1);
  setvbuf(log, NULL, _IONBF, 0);
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0)
      _exit(1);
    FILE *in = fdopen(c, "r+");
    setvbuf(in, NULL, _IONBF, 0);
    fputs("{\"QMP\":{\"version\":{},\"capabilities\":[]}}\n", in);
    char line[4096];
    while (fgets(line, sizeof(line), in) != NULL) {
      if (strstr(line, "qmp_capabilities") == NULL)
        fputs(line, log);
      fputs(canned_answer(line), in);
    }
    fclose(in);
  }
}

static void fake_qmp_start(struct fake_qmp *f) {
  snprintf(f->dir, sizeof(f->dir), "/tmp/vc-qmp-XXXXXX");
  CHECK(mkdtemp(f->dir) != NULL);
  snprintf(f->socket, sizeof(f->socket), "%s/qmp.sock", f->dir);
  snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
  f->pid = fork();
  if (f->pid == 0)
    serve_qmp(f->socket, f->log);
  while (!vc_file_exists(f->socket) && vc_pid_alive(f->pid))
    usleep(1000);
}

/* What the server got since the last call, emptied. */
static char *fake_qmp_take_log(struct fake_qmp *f) {
  char *text = NULL;
  vc_error *err = NULL;
  if (vc_read_file(f->log, &text, NULL, &err) < 0) {
    vc_error_free(&err);
    return xstrdup("");
  }
  truncate(f->log, 0);
  return text;
}

static void fake_qmp_stop(struct fake_qmp *f) {
  kill(f->pid, SIGKILL);
  waitpid(f->pid, NULL, 0);
  unlink(f->socket);
  unlink(f->log);
  rmdir(f->dir);
}

static int has_line(const char *log, const char *line) {
  cleanup_free char *want = xasprintf("%s\n", line);
  if (strstr(log, want) != NULL)
    return 1;
  fprintf(stderr, "  no line %s in:\n%s", line, log);
  return 0;
}

TEST(vhost_user_hotplug_over_qmp) {
  struct fake_qmp f;
  fake_qmp_start(&f);
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  vm.qmp_socket = xstrdup(f.socket);
  const struct vc_hypervisor_ops *q = &vc_qemu_ops;
  vc_error *err = NULL;
  /* The chardev connects to the daemon's socket, the device goes on the
   * free root port. */
  struct vc_vm_device vsock = {.kind = VC_VM_DEVICE_VSOCK, .id = "vs1",
                               .socket = "/run/x/vhost-vsock.sock"};
  CHECK(q->hotplug(&vm, &vsock, &err) == 0);
  char *log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"query-pci\"}"));
  CHECK(has_line(log, "{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"vs1-chr\","
                      "\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":"
                      "\"unix\",\"data\":{\"path\":\"/run/x/vhost-vsock.sock\"}},"
                      "\"server\":false}}}}"));
  CHECK(has_line(log, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":"
                      "\"vhost-user-vsock-pci\",\"id\":\"vs1\",\"chardev\":\"vs1-chr\","
                      "\"bus\":\"rp1\"}}"));
  free(log);
  struct vc_vm_device fs = {.kind = VC_VM_DEVICE_FS, .id = "fs1",
                            .socket = "/run/x/virtiofs.sock", .tag = "vcfs0"};
  CHECK(q->hotplug(&vm, &fs, &err) == 0);
  log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":"
                      "\"vhost-user-fs-pci\",\"id\":\"fs1\",\"chardev\":\"fs1-chr\","
                      "\"bus\":\"rp1\",\"tag\":\"vcfs0\"}}"));
  free(log);
  /* A device QEMU refuses leaves no chardev behind. */
  fs.id = "fsbad";
  CHECK(q->hotplug(&vm, &fs, &err) < 0 && err != NULL &&
        strstr(err->msg, "no such tag") != NULL &&
        strstr(err->msg, "hot-plug vhost-user-fs-pci `fsbad`") != NULL);
  vc_error_free(&err);
  log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"chardev-remove\",\"arguments\":{\"id\":\"fsbad-chr\"}}"));
  free(log);
  /* Unplug: the device, once the guest let it go, then its chardev. */
  CHECK(q->unplug(&vm, &vsock, &err) == 0);
  log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"vs1\"}}"));
  CHECK(has_line(log, "{\"execute\":\"chardev-remove\",\"arguments\":{\"id\":\"vs1-chr\"}}"));
  free(log);
  free_vm(&cfg, &vm);
  fake_qmp_stop(&f);
}

TEST(resize_over_qmp) {
  struct fake_qmp f;
  fake_qmp_start(&f);
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  /* QEMU is known by its pid and a command line naming vm->dir: here the
   * server, a fork of this test program. */
  vm.pid = f.pid;
  vm.dir = "test_qemu";
  vm.qmp_socket = xstrdup(f.socket);
  vm.use_kvm = true; /* TCG's vCPUs are all present: no QMP (below) */
  const struct vc_hypervisor_ops *q = &vc_qemu_ops;
  vc_error *err = NULL;
  unsigned now = 0;

  /* 3 -> 4: the free slot, with its topology, by a name unplug can find. */
  CHECK(q->resize_vcpus(&vm, 4, &now, &err) == 0 && now == 4);
  char *log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"query-hotpluggable-cpus\"}"));
  CHECK(has_line(log, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":"
                      "\"qemu64-x86_64-cpu\",\"core-id\":0,\"thread-id\":0,"
                      "\"socket-id\":2,\"id\":\"vcpu-0-0-2\"}}"));
  free(log);
  /* 3 -> 2: the CPU plugged at run time goes; 3 -> 1 stops at the boot
   * CPUs, which is no error. */
  CHECK(q->resize_vcpus(&vm, 2, &now, &err) == 0 && now == 2);
  log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"vcpu-0-0-3\"}}"));
  free(log);
  CHECK(q->resize_vcpus(&vm, 1, &now, &err) == 0 && now == 2);
  free(fake_qmp_take_log(&f));
  CHECK(q->resize_vcpus(&vm, 5, &now, &err) < 0 && err != NULL &&
        err->errnum == ERANGE && strstr(err->msg, "room for 1 to 4") != NULL);
  vc_error_free(&err);
  free(fake_qmp_take_log(&f));

  /* 640 MiB now; 700 is rounded up to a whole 128 MiB block. */
  CHECK(q->resize_memory(&vm, 700, &now, &err) == 0 && now == 768);
  log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":"
                      "\"memory-backend-memfd\",\"id\":\"hpmem640\",\"size\":"
                      "134217728,\"share\":true}}"));
  CHECK(has_line(log, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":"
                      "\"pc-dimm\",\"id\":\"dimm640\",\"memdev\":\"hpmem640\"}}"));
  free(log);
  /* A DIMM QEMU refuses (no slot left): its memory backend goes too. */
  CHECK(q->resize_memory(&vm, 900, &now, &err) < 0 && err != NULL &&
        strstr(err->msg, "not enough slots") != NULL);
  vc_error_free(&err);
  log = fake_qmp_take_log(&f);
  CHECK(has_line(log, "{\"execute\":\"object-del\",\"arguments\":{\"id\":\"hpmem640\"}}"));
  free(log);
  CHECK(q->resize_memory(&vm, 640, &now, &err) == 0 && now == 640);
  /* Memory does not shrink: the size stays, which is no error. */
  CHECK(q->resize_memory(&vm, 512, &now, &err) == 0 && now == 640);
  log = fake_qmp_take_log(&f);
  CHECK(!has_line(log, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"dimm640\"}}"));
  free(log);
  /* TCG: every vCPU is present from boot; the count is the guest's to
   * bring online, nothing goes to QEMU. */
  vm.use_kvm = false;
  vm.max_vcpus = 4;
  CHECK(q->resize_vcpus(&vm, 3, &now, &err) == 0 && now == 3);
  CHECK(q->resize_vcpus(&vm, 5, &now, &err) < 0 && err != NULL &&
        err->errnum == ERANGE && strstr(err->msg, "room for 1 to 4") != NULL);
  vc_error_free(&err);
  log = fake_qmp_take_log(&f);
  CHECK(log == NULL || strstr(log, "cpu") == NULL);
  free(log);
  free_vm(&cfg, &vm);
  fake_qmp_stop(&f);
}

TEST(ops_on_a_vm_that_is_not_running) {
  struct vc_config cfg;
  struct vc_vm vm;
  make_vm(&cfg, &vm, "q35");
  vm.pid = 0;
  vm.use_kvm = true;
  vc_error *err = NULL;
  CHECK(!vc_qemu_ops.alive(&vm));
  CHECK(vc_qemu_ops.resize_vcpus(&vm, 2, NULL, &err) < 0 && err != NULL &&
        err->errnum == ESRCH);
  vc_error_free(&err);
  /* Stopping what is gone already is fine. */
  CHECK(vc_qemu_ops.stop(&vm, false, &err) == 0 && err == NULL);
  free_vm(&cfg, &vm);
}

int main(void) {
  RUN(q35_tcg_command_line);
  RUN(microvm_uses_mmio_devices_and_pci_off);
  RUN(kernel_vhost_vsock_passes_the_reserved_fd);
  RUN(unknown_machine_type_is_an_error);
  RUN(accel_resolution);
  RUN(no_share_no_fs_device);
  RUN(headroom_for_hot_plug_on_q35);
  RUN(restore_waits_for_the_saved_state);
  RUN(state_round_trip);
  RUN(state_of_the_earlier_layout_loads);
  RUN(load_state_needs_hypervisor_and_devices);
  RUN(refused_ops_say_enotsup_op_and_backend);
  RUN(vhost_user_hotplug_over_qmp);
  RUN(resize_over_qmp);
  RUN(ops_on_a_vm_that_is_not_running);
  return TEST_SUMMARY();
}
