#include "lib/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/host/process.h"
#include "lib/share.h"
#include "lib/base/util.h"
#include "vmm/hybrid_vsock.h"
#include "vmm/vhost_vsock.h"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits for a unix socket a helper creates, while the helper lives. */
static int wait_for_socket(const char *path, pid_t pid, const char *what,
                           const char *log, int timeout_ms, vc_error **err) {
  long long deadline = vc_now_ms() + timeout_ms;
  while (!vc_file_exists(path)) {
    if (!vc_pid_alive(pid) || vc_now_ms() > deadline) {
      cleanup_free char *tail = vc_log_tail(log, 1000);
      return vc_error_set(err, 0, "%s did not start: %s", what,
                          tail[0] ? tail : "(no output)");
    }
    sleep_ms(2);
  }
  return 0;
}

static int start_virtiofsd(struct vc_sandbox *sb, vc_error **err) {
  const struct vc_hypervisor_config *h = &sb->cfg->hypervisor;
  if (access(h->virtiofsd, X_OK) < 0)
    return vc_error_set(err, errno, "virtiofsd `%s` (configured in [hypervisor.qemu] virtiofsd)",
                        h->virtiofsd);
  cleanup_free char *log = xasprintf("%s/virtiofsd.log", sb->dir);
  cleanup_free char *sock_opt = xasprintf("--socket-path=%s", sb->fs_socket);
  cleanup_free char *share = vc_share_dir(sb->dir);
  cleanup_free char *source = xasprintf("source=%s", share);
  cleanup_free char *cache = xasprintf("cache=%s", h->virtiofs_cache);
  char *argv[] = {h->virtiofsd, "-f", sock_opt, "-o", source, "-o", cache,
                  "-o", "sandbox=namespace", NULL};
  if (vc_spawn_detached(argv, log, -1, &sb->virtiofsd_pid, err) < 0)
    return -1;
  return wait_for_socket(sb->fs_socket, sb->virtiofsd_pid, "virtiofsd", log,
                         5000, err);
}

/* The backend is this binary in another mode; it signals readiness over a
 * pipe once both of its sockets listen, so QEMU never races it. */
static int start_vsock_backend(struct vc_sandbox *sb, vc_error **err) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    return vc_error_set(err, errno, "pipe");
  cleanup_free char *log = xasprintf("%s/vsock-backend.log", sb->dir);
  cleanup_free char *fdstr = xasprintf("%d", ready[1]);
  cleanup_free char *cid = xasprintf("%d", VC_GUEST_CID);
  char *argv[] = {sb->helper_exe, "vsock-backend", "--vhost-user", sb->vsock_socket,
                  "--hybrid", sb->hybrid_socket, "--cid", cid,
                  "--ready-fd", fdstr, NULL};
  int r = vc_spawn_detached(argv, log, ready[1], &sb->vsock_backend_pid, err);
  close(ready[1]);
  if (r < 0) {
    close(ready[0]);
    return -1;
  }
  struct pollfd p = {ready[0], POLLIN, 0};
  char byte;
  int ok = poll(&p, 1, 5000) == 1 && read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  if (!ok) {
    cleanup_free char *tail = vc_log_tail(log, 1000);
    return vc_error_set(err, 0, "vsock backend did not start: %s",
                        tail[0] ? tail : "(no output)");
  }
  return 0;
}

int vc_sandbox_pick_transport(const char *transport, bool *hybrid,
                              vc_error **err) {
  bool kernel = vc_vhost_vsock_available();
  if (strcmp(transport, "vhost-vsock") == 0 && !kernel)
    return vc_error_set(err, errno, "[agent] transport = \"vhost-vsock\" needs %s",
                        VC_VHOST_VSOCK_DEV);
  *hybrid = strcmp(transport, "hybrid-vsock") == 0 || !kernel;
  return 0;
}

int vc_sandbox_agent_connect(const struct vc_sandbox *sb, int timeout_ms,
                             vc_error **err) {
  if (!sb->hybrid_vsock)
    return vc_vsock_connect(sb->vm.guest_cid, VC_AGENT_VSOCK_PORT, timeout_ms,
                            err);
  return vc_hybrid_vsock_connect(sb->hybrid_socket, VC_AGENT_VSOCK_PORT,
                                 timeout_ms, err);
}

static int agent_request_fd(const struct vc_sandbox *sb,
                            unsigned answer_timeout_ms, vc_error **err) {
  struct vc_agent_client c = {vc_sandbox_agent_connect(sb, 3000, err), 1};
  if (c.fd >= 0 && vc_agent_set_timeout(&c, answer_timeout_ms, err) < 0) {
    close(c.fd);
    return -1;
  }
  return c.fd;
}

/* Polls the agent until it answers Hello, while QEMU lives. */
static int wait_for_agent(struct vc_sandbox *sb, vc_error **err) {
  long long deadline = vc_now_ms() + sb->cfg->agent.boot_timeout_ms;
  for (;;) {
    vc_error *cerr = NULL;
    int fd = vc_sandbox_agent_connect(sb, 250, &cerr);
    if (fd >= 0) {
      struct vc_agent_client c = {fd, 1};
      int r = vc_agent_hello(&c, NULL, &cerr);
      close(fd);
      if (r == 0)
        return 0;
      if (cerr->errnum == EPROTO) {
        /* An agent of another protocol version answers at once: waiting
         * longer cannot help. */
        vc_error_set(err, 0, "%s", cerr->msg);
        vc_error_free(&cerr);
        return -1;
      }
    }
    bool alive = sb->vm.ops->alive(&sb->vm);
    if (!alive || vc_now_ms() > deadline) {
      cleanup_free char *console = vc_log_tail(sb->vm.console_path, 1200);
      cleanup_free char *qlog = vc_log_tail(sb->vm.log_path, 1200);
      vc_error_set(err, 0,
                   "%s: guest console: %s; QEMU log: %s; last error: %s",
                   alive ? "the guest agent did not answer within the boot "
                           "timeout ([agent] boot_timeout)"
                         : "QEMU exited before the guest agent answered",
                   console[0] ? console : "(empty)", qlog[0] ? qlog : "(empty)",
                   cerr ? cerr->msg : "none");
      vc_error_free(&cerr);
      return -1;
    }
    vc_error_free(&cerr);
    sleep_ms(20);
  }
}


/* Starts the VMM, inside sb->netns when given: this process steps into
 * that network namespace for the spawn and back (it is single-threaded). */
static int start_vm(struct vc_sandbox *sb, vc_error **err) {
  if (sb->netns == NULL)
    return sb->vm.ops->start(&sb->vm, err);
  cleanup_close int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  cleanup_close int target = open(sb->netns, O_RDONLY | O_CLOEXEC);
  if (own < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0)
    return vc_error_set(err, errno, "enter the network namespace `%s`",
                        sb->netns);
  int r = sb->vm.ops->start(&sb->vm, err);
  if (setns(own, CLONE_NEWNET) < 0) {
    /* Staying there would put the other helpers in the wrong place. */
    vc_error_free(err);
    vc_error_set(err, errno, "return from the network namespace `%s`",
                 sb->netns);
    return -1;
  }
  return r;
}


void vc_sandbox_init_paths(struct vc_sandbox *sb) {
  sb->vsock_socket = xasprintf("%s/vhost-vsock.sock", sb->dir);
  sb->hybrid_socket = xasprintf("%s/vsock.sock", sb->dir);
  sb->fs_socket = xasprintf("%s/virtiofs.sock", sb->dir);
}

static int persist_step(int (*persist)(void *, vc_error **), void *arg,
                        vc_error **err) {
  return persist == NULL ? 0 : persist(arg, err);
}

int vc_sandbox_boot(struct vc_sandbox *sb,
                    int (*persist)(void *arg, vc_error **err), void *arg,
                    vc_error **err) {
  const struct vc_config *cfg = sb->cfg;
  sb->vm.ops = &vc_qemu_ops;
  sb->vm.cfg = &cfg->hypervisor;
  sb->vm.id = sb->id;
  sb->vm.dir = sb->dir;
  sb->vm.vhost_vsock_fd = -1;
  sb->vm.guest_cid = VC_GUEST_CID;
  if (vc_sandbox_pick_transport(cfg->agent.transport, &sb->hybrid_vsock, err) < 0)
    goto fail;
  if (sb->hybrid_vsock) {
    sb->vm.vsock_socket = sb->vsock_socket;
  } else {
    sb->vm.vhost_vsock_fd = vc_vhost_vsock_reserve(&sb->vm.guest_cid, err);
    if (sb->vm.vhost_vsock_fd < 0)
      goto fail;
  }
  sb->vm.fs_socket = sb->fs_socket;
  sb->vm.fs_tag = VC_ROOTFS_TAG;
  if (vc_accel_resolve(&cfg->hypervisor, &sb->vm.use_kvm, err) < 0)
    goto fail;
  if (start_virtiofsd(sb, err) < 0 || persist_step(persist, arg, err) < 0)
    goto fail;
  if (sb->hybrid_vsock &&
      (start_vsock_backend(sb, err) < 0 || persist_step(persist, arg, err) < 0))
    goto fail;
  long long boot_start = vc_now_ms();
  int vm_started = start_vm(sb, err);
  /* QEMU has its own copy of the CID's fd now; ours only pinned it. */
  if (sb->vm.vhost_vsock_fd >= 0) {
    close(sb->vm.vhost_vsock_fd);
    sb->vm.vhost_vsock_fd = -1;
  }
  if (vm_started < 0)
    goto fail;
  if (persist_step(persist, arg, err) < 0 || wait_for_agent(sb, err) < 0)
    goto fail;
  if (sb->debug)
    fprintf(stderr, "vcrun: debug: boot-to-agent %lld ms\n",
            vc_now_ms() - boot_start);
  return 0;

fail:;
  if (sb->vm.vhost_vsock_fd >= 0) {
    close(sb->vm.vhost_vsock_fd);
    sb->vm.vhost_vsock_fd = -1;
  }
  vc_error *cleanup_err = NULL;
  vc_sandbox_stop(sb, &cleanup_err);
  vc_error_free(&cleanup_err);
  return -1;
}

int vc_sandbox_stop(struct vc_sandbox *sb, vc_error **err) {
  int ret = 0;
  /* Ask the agent to power the guest off; QEMU then exits by itself and
   * its vhost-user peers follow. */
  if (sb->vm.ops != NULL && sb->vm.ops->alive(&sb->vm)) {
    vc_error *e = NULL;
    int fd = agent_request_fd(sb, 2000, &e);
    if (fd >= 0) {
      struct vc_agent_client c = {fd, 1};
      if (vc_agent_call(&c, VC_AGENT_DESTROY_SANDBOX, NULL, NULL, &e) == 0) {
        long long deadline = vc_now_ms() + 2000;
        while (sb->vm.ops->alive(&sb->vm) && vc_now_ms() < deadline)
          sleep_ms(5);
      }
      close(fd);
    }
    vc_error_free(&e);
    if (sb->vm.ops->stop(&sb->vm, false, err) < 0)
      ret = -1;
  }
  /* Pids from a state file are checked against their command line (which
   * names this sandbox's directory) before anything is sent to them. */
  pid_t helpers[] = {sb->vsock_backend_pid, sb->virtiofsd_pid};
  for (size_t i = 0; i < N_ELEMS(helpers); i++)
    if (sb->dir != NULL && vc_pid_is(helpers[i], sb->dir))
      vc_pid_terminate(helpers[i], 1000);
  if (sb->dir == NULL)
    return ret;
  /* The rootfs is bound under the share: unmount before anything removes
   * the directory. */
  cleanup_free char *share = vc_share_dir(sb->dir);
  if (vc_share_teardown(share, ret < 0 ? NULL : err) < 0)
    ret = -1;
  return ret;
}

bool vc_sandbox_alive(const struct vc_sandbox *sb) {
  if (sb->vm.ops == NULL || !sb->vm.ops->alive(&sb->vm))
    return false;
  /* Without virtiofsd the guest's rootfs hangs on every access, and without
   * the vsock backend the agent is out of reach: either way the sandbox is
   * as good as dead, and saying so lets delete --force clean it up. */
  if (sb->virtiofsd_pid > 0 && !vc_pid_is(sb->virtiofsd_pid, sb->dir))
    return false;
  if (sb->vsock_backend_pid > 0 && !vc_pid_is(sb->vsock_backend_pid, sb->dir))
    return false;
  return true;
}

int vc_sandbox_call(const struct vc_sandbox *sb, enum vc_agent_method m,
                    const void *params, void *result, vc_error **err) {
  unsigned timeout_ms = sb->cfg->agent.request_timeout_ms;
  struct vc_agent_client c = {agent_request_fd(sb, timeout_ms, err), 1};
  if (c.fd < 0)
    return -1;
  int r = vc_agent_call(&c, m, params, result, err);
  close(c.fd);
  if (r < 0 && err != NULL && *err != NULL &&
      ((*err)->errnum == EAGAIN || (*err)->errnum == EWOULDBLOCK)) {
    vc_error_free(err);
    vc_error_set(err, 0, "the agent did not answer %s within [agent] "
                 "request_timeout (%u s)", vc_agent_methods[m].name,
                 timeout_ms / 1000);
  }
  return r;
}

int vc_sandbox_lock(struct vc_sandbox *sb, vc_error **err) {
  if (sb->lock_fd >= 0)
    return 0;
  return vc_dir_lock(sb->dir, &sb->lock_fd, err);
}

void vc_sandbox_unlock(struct vc_sandbox *sb) {
  if (sb->lock_fd >= 0)
    close(sb->lock_fd);
  sb->lock_fd = -1;
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

void vc_sandbox_save_json(const struct vc_sandbox *sb, struct vc_jb *b) {
  vc_jb_key(b, "hypervisor");
  if (sb->vm.ops != NULL) {
    sb->vm.ops->save_state(&sb->vm, b);
  } else {
    /* Not booted yet: only which backend will be. */
    vc_jb_open(b, '{');
    vc_jb_key(b, "type");
    vc_jb_str(b, vc_qemu_ops.name);
    vc_jb_close(b, '}');
  }
  vc_jb_key(b, "agent");
  vc_jb_open(b, '{');
  vc_jb_key(b, "transport");
  vc_jb_str(b, sb->hybrid_vsock ? "hybrid-vsock" : "vhost-vsock");
  vc_jb_key(b, "guest_cid");
  vc_jb_uint(b, sb->vm.guest_cid);
  vc_jb_key(b, "hybrid_socket");
  vc_jb_str(b, sb->hybrid_vsock ? sb->hybrid_socket : NULL);
  vc_jb_close(b, '}');
  vc_jb_key(b, "devices");
  vc_jb_open(b, '[');
  save_device(b, "vhost-user-fs", sb->virtiofsd_pid, sb->fs_socket);
  save_device(b, "vhost-user-vsock", sb->vsock_backend_pid, sb->vsock_socket);
  vc_jb_close(b, ']');
}

int vc_sandbox_load_json(struct vc_sandbox *sb, yajl_val v, const char *where,
                         vc_error **err) {
  yajl_val devices = vc_json_get(v, "devices");
  yajl_val hv = vc_json_get_object(v, "hypervisor");
  const char *type = hv ? vc_json_get_str(hv, "type") : NULL;
  const struct vc_hypervisor_ops *ops = type ? vc_hypervisor_lookup(type) : NULL;
  if (devices == NULL || !YAJL_IS_ARRAY(devices) || ops == NULL)
    return vc_error_set(err, 0, "%s: devices or hypervisor missing or unknown",
                        where);
  for (size_t i = 0; i < devices->u.array.len; i++) {
    yajl_val dev = devices->u.array.values[i];
    const char *dtype = vc_json_get_str(dev, "type");
    if (dtype != NULL && strcmp(dtype, "vhost-user-fs") == 0)
      sb->virtiofsd_pid = (pid_t)vc_json_get_int(dev, "daemon_pid");
    else if (dtype != NULL && strcmp(dtype, "vhost-user-vsock") == 0)
      sb->vsock_backend_pid = (pid_t)vc_json_get_int(dev, "daemon_pid");
  }
  sb->vm.cfg = &sb->cfg->hypervisor;
  sb->vm.id = sb->id;
  sb->vm.dir = sb->dir;
  sb->vm.pid = (pid_t)vc_json_get_int(hv, "pid");
  /* A sandbox saved before its VM started has no VM to drive. */
  sb->vm.ops = sb->vm.pid > 0 ? ops : NULL;
  sb->vm.qmp_socket = vc_json_strdup(hv, "qmp_socket");
  sb->vm.log_path = xasprintf("%s/qemu.log", sb->dir);
  sb->vm.console_path = xasprintf("%s/console.log", sb->dir);
  yajl_val vs = vc_json_get_object(v, "agent");
  const char *transport = vs ? vc_json_get_str(vs, "transport") : NULL;
  sb->hybrid_vsock = transport == NULL || strcmp(transport, "hybrid-vsock") == 0;
  sb->vm.guest_cid = vs ? (uint64_t)vc_json_get_int(vs, "guest_cid") : VC_GUEST_CID;
  sb->hybrid_socket = vs ? vc_json_strdup(vs, "hybrid_socket") : NULL;
  if (sb->hybrid_socket == NULL)
    sb->hybrid_socket = xasprintf("%s/vsock.sock", sb->dir);
  return 0;
}

void vc_sandbox_free(struct vc_sandbox *sb) {
  vc_sandbox_unlock(sb);
  free(sb->id);
  free(sb->dir);
  free(sb->netns);
  free(sb->vsock_socket);
  free(sb->hybrid_socket);
  free(sb->fs_socket);
  free(sb->helper_exe);
  free(sb->vm.qmp_socket);
  free(sb->vm.log_path);
  free(sb->vm.console_path);
  memset(sb, 0, sizeof(*sb));
  sb->lock_fd = -1;
  sb->vm.vhost_vsock_fd = -1;
}
