/* The helper daemons of the QEMU backend's vhost-user devices: virtiofsd
 * for the shared directory and vcrun-vsock-backend for hybrid vsock.  Each
 * runs detached with its log in the VM's directory, whose path is on its
 * command line: that is how a pid read back from state.json is told from
 * an unrelated process that reused it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/host/process.h"
#include "vmm/qemu.h"

char *vc_qemu_fs_socket(const struct vc_vm *vm) {
  return xasprintf("%s/virtiofs.sock", vm->dir);
}

char *vc_qemu_vsock_socket(const struct vc_vm *vm) {
  return xasprintf("%s/vhost-vsock.sock", vm->dir);
}

/* Waits for a unix socket a daemon creates, while the daemon lives. */
static int wait_for_socket(const char *path, pid_t pid, const char *what,
                           const char *log, int timeout_ms, vc_error **err) {
  long long deadline = vc_now_ms() + timeout_ms;
  while (!vc_file_exists(path)) {
    if (!vc_pid_alive(pid) || vc_now_ms() > deadline) {
      cleanup_free char *tail = vc_log_tail(log, 1000);
      return vc_error_set(err, 0, "%s did not start: %s", what,
                          tail[0] ? tail : "(no output)");
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

int vc_qemu_start_virtiofsd(struct vc_vm *vm, vc_error **err) {
  const struct vc_hypervisor_config *h = vm->cfg;
  if (access(h->virtiofsd, X_OK) < 0)
    return vc_error_set(err, errno, "virtiofsd `%s` (configured in [hypervisor.qemu] virtiofsd)",
                        h->virtiofsd);
  cleanup_free char *log = xasprintf("%s/virtiofsd.log", vm->dir);
  cleanup_free char *socket = vc_qemu_fs_socket(vm);
  cleanup_free char *sock_opt = xasprintf("--socket-path=%s", socket);
  cleanup_free char *source = xasprintf("source=%s", vm->share_dir);
  cleanup_free char *cache = xasprintf("cache=%s", h->virtiofs_cache);
  char *argv[] = {h->virtiofsd, "-f", sock_opt, "-o", source, "-o", cache,
                  "-o", "sandbox=namespace", NULL};
  if (vc_spawn_detached(argv, log, NULL, 0, &vm->virtiofsd_pid, err) < 0)
    return -1;
  return wait_for_socket(socket, vm->virtiofsd_pid, "virtiofsd", log, 5000,
                         err);
}

/* The daemon signals readiness over a pipe once both of its sockets
 * listen, so QEMU never races it. */
int vc_qemu_start_vsock_backend(struct vc_vm *vm, vc_error **err) {
  const struct vc_hypervisor_config *h = vm->cfg;
  if (vm->hybrid_socket == NULL)
    return vc_error_set(err, EINVAL, "vsock backend: no hybrid socket given");
  if (access(h->vsock_backend, X_OK) < 0)
    return vc_error_set(err, errno, "vsock backend `%s` (configured in "
                        "[hypervisor.qemu] vsock_backend)", h->vsock_backend);
  cleanup_free char *log = xasprintf("%s/vsock-backend.log", vm->dir);
  cleanup_free char *socket = vc_qemu_vsock_socket(vm);
  cleanup_free char *cid = xasprintf("%llu", (unsigned long long)vm->guest_cid);
  char *argv[] = {h->vsock_backend, "--vhost-user", socket,
                  "--hybrid", (char *)vm->hybrid_socket, "--cid", cid,
                  "--ready-fd", NULL, NULL};
  return vc_spawn_ready(argv, 8, log, "vsock backend", 5000,
                        &vm->vsock_backend_pid, err);
}

bool vc_qemu_daemons_alive(const struct vc_vm *vm) {
  /* Without virtiofsd the guest's rootfs hangs on every access, and without
   * the vsock backend the agent is out of reach: either way the VM is as
   * good as dead, and saying so lets delete --force clean it up. */
  if (vm->virtiofsd_pid > 0 && !vc_pid_is(vm->virtiofsd_pid, vm->dir))
    return false;
  if (vm->vsock_backend_pid > 0 && !vc_pid_is(vm->vsock_backend_pid, vm->dir))
    return false;
  return true;
}

void vc_qemu_stop_daemons(struct vc_vm *vm) {
  pid_t *pids[] = {&vm->vsock_backend_pid, &vm->virtiofsd_pid};
  for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
    if (*pids[i] > 0 && vm->dir != NULL && vc_pid_is(*pids[i], vm->dir))
      vc_pid_terminate(*pids[i], 1000);
  }
}
