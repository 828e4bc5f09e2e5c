#include "lib/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/host/process.h"
#include "lib/sandbox_net.h"
#include "lib/share.h"
#include "lib/sizing.h"
#include "lib/base/util.h"
#include "vmm/hybrid_vsock.h"
#include "vmm/vhost_vsock.h"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
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
      /* A guest that accepts but never answers (virtiofsd gone, a wedged
       * agent) must not hold the boot past its deadline. */
      long long left = deadline - vc_now_ms();
      unsigned answer_ms = sb->cfg->agent.request_timeout_ms;
      if (left < (long long)answer_ms)
        answer_ms = left > 250 ? (unsigned)left : 250;
      struct vc_agent_client c = {fd, 1};
      int r = vc_agent_set_timeout(&c, answer_ms, &cerr);
      if (r == 0)
        r = vc_agent_hello(&c, NULL, &cerr);
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


/* The symlink first, then its target: a kill -9 in between leaves a link
 * that delete --force follows, never a run directory nothing names. */
static int make_run_dir(struct vc_sandbox *sb, vc_error **err) {
  const char *root = sb->cfg->runtime.run_root;
  if (vc_mkdir_p(root, 0711, err) < 0)
    return -1;
  cleanup_free char *link = xasprintf("%s/run", sb->dir);
  for (int attempt = 0; attempt < 16; attempt++) {
    cleanup_free char *name = vc_random_name(8);
    char *dir = xasprintf("%s/%s", root, name);
    if (symlink(dir, link) < 0) {
      free(dir);
      return vc_error_set(err, errno, "symlink `%s`", link);
    }
    if (mkdir(dir, 0700) == 0) {
      sb->run_dir = dir;
      return 0;
    }
    int e = errno;
    unlink(link);
    free(dir);
    if (e != EEXIST)
      return vc_error_set(err, e, "create `%s/%s`", root, name);
  }
  return vc_error_set(err, EEXIST, "no free name under `%s`", root);
}

char *vc_sandbox_run_dir_of(const char *state_dir, const char *run_root) {
  cleanup_free char *link = xasprintf("%s/run", state_dir);
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  if (n <= 0)
    return NULL;
  target[n] = '\0';
  /* Only ever one of ours: the link is in a directory of ours, but the
   * sweep below must not be pointed anywhere else. */
  size_t root_len = strlen(run_root);
  if (strncmp(target, run_root, root_len) != 0 || target[root_len] != '/' ||
      strchr(target + root_len + 1, '/') != NULL ||
      strstr(target, "..") != NULL)
    return NULL;
  return xstrdup(target);
}

int vc_sandbox_init(struct vc_sandbox *sb, vc_error **err) {
  const struct vc_config *cfg = sb->cfg;
  /* A pooled VM's run directory is made by the factory (lib/factory.h). */
  if (sb->run_dir == NULL && make_run_dir(sb, err) < 0)
    return -1;
  if (vc_hypervisor_select(&cfg->hypervisor, &sb->vm.ops, err) < 0 ||
      vc_sandbox_pick_transport(cfg->agent.transport, &sb->hybrid_vsock, err) < 0 ||
      vc_accel_resolve(&cfg->hypervisor, &sb->vm.use_kvm, err) < 0)
    return -1;
  sb->hybrid_socket = xasprintf("%s/vsock.sock", sb->run_dir);
  sb->vm.cfg = &cfg->hypervisor;
  sb->vm.id = sb->id;
  sb->vm.dir = sb->run_dir;
  sb->vm.share_dir = vc_share_dir(sb->run_dir);
  sb->vm.fs_tag = VC_ROOTFS_TAG;
  sb->vm.hybrid_vsock = sb->hybrid_vsock;
  sb->vm.hybrid_socket = sb->hybrid_socket;
  sb->vm.guest_cid = VC_GUEST_CID;
  sb->vm.netns = sb->netns;
  /* Room to grow by hot-plug as pod members join and `update` asks. */
  struct vc_host_size host;
  struct vc_vm_size max;
  vc_host_size(&host);
  vc_vm_size_max(&cfg->hypervisor, &host, &max);
  sb->vm.max_vcpus = max.vcpus;
  sb->vm.max_memory_mib = max.memory_mib;
  return 0;
}

int vc_sandbox_boot(struct vc_sandbox *sb,
                    int (*persist)(void *arg, vc_error **err), void *arg,
                    vc_error **err) {
  long long boot_start = vc_now_ms();
  if (sb->vm.ops->start(&sb->vm, err) < 0)
    goto fail;
  /* QEMU holds its own copies of the NICs' fds now. */
  vc_sandbox_net_close_fds(sb);
  if ((persist != NULL && persist(arg, err) < 0) || wait_for_agent(sb, err) < 0)
    goto fail;
  if (sb->debug)
    fprintf(stderr, "vcrun: debug: boot-to-agent %lld ms\n",
            vc_now_ms() - boot_start);
  return 0;

fail:;
  vc_error *cleanup_err = NULL;
  vc_sandbox_stop(sb, &cleanup_err);
  vc_error_free(&cleanup_err);
  return -1;
}

/* Every clone of a template starts with the same RNG state and the
 * template's clock: the agent gets 64 fresh bytes and the time. */
static int reseed_guest(struct vc_sandbox *sb, vc_error **err) {
  unsigned char bytes[64];
  if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
    return vc_error_set(err, errno, "getrandom");
  char hex[2 * sizeof(bytes) + 1];
  for (size_t i = 0; i < sizeof(bytes); i++)
    snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  explicit_bzero(bytes, sizeof(bytes));
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct vc_msg_reseed_guest params = {hex, (int64_t)now.tv_sec,
                                       (uint32_t)now.tv_nsec};
  int r = vc_sandbox_call(sb, VC_AGENT_RESEED_GUEST, &params, NULL, err);
  explicit_bzero(hex, sizeof(hex));
  return r;
}

int vc_sandbox_restore(struct vc_sandbox *sb, const char *state_path,
                       vc_error **err) {
  long long start = vc_now_ms();
  if (sb->vm.ops->restore_vm(&sb->vm, state_path, err) < 0)
    goto fail;
  if (wait_for_agent(sb, err) < 0 || reseed_guest(sb, err) < 0)
    goto fail;
  if (sb->debug)
    fprintf(stderr, "vcrun: debug: restore-to-agent %lld ms\n",
            vc_now_ms() - start);
  return 0;

fail:;
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
  }
  /* The VMM and its helpers, whatever is left of them: the backend checks
   * each pid against its command line before sending it anything. */
  if (sb->vm.ops != NULL && sb->vm.ops->stop(&sb->vm, false, err) < 0)
    ret = -1;
  /* With QEMU gone: the taps, qdiscs and filters (or macvtaps) vcrun made
   * in the engine's namespace. */
  if (vc_sandbox_net_detach(sb, ret < 0 ? NULL : err) < 0)
    ret = -1;
  if (sb->run_dir == NULL)
    return ret;
  /* The rootfs is bound under the share: unmount before anything removes
   * a directory. */
  cleanup_free char *share = vc_share_dir(sb->run_dir);
  if (vc_share_teardown(share, ret < 0 ? NULL : err) < 0)
    ret = -1;
  /* Version 2 states kept everything in the state directory itself. */
  if (ret == 0 && strcmp(sb->run_dir, sb->dir) != 0 &&
      vc_rmdir_r(sb->run_dir, err) < 0)
    ret = -1;
  return ret;
}

bool vc_sandbox_alive(const struct vc_sandbox *sb) {
  /* The backend counts the helpers: without virtiofsd or the vsock
   * backend the sandbox is as good as dead, and saying so lets delete
   * --force clean it up. */
  return sb->vm.ops != NULL && sb->vm.ops->alive(&sb->vm);
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

int vc_sandbox_resize(struct vc_sandbox *sb, const struct vc_vm_size *size,
                      struct vc_vm_size *now, vc_error **err) {
  struct vc_vm_size has = {0, 0};
  if (sb->vm.ops->resize_vcpus(&sb->vm, size->vcpus, &has.vcpus, err) < 0 ||
      sb->vm.ops->resize_memory(&sb->vm, size->memory_mib, &has.memory_mib,
                                err) < 0)
    return vc_error_wrap(err, "resize the VM of sandbox `%s`", sb->id);
  /* ACPI tells the guest a little later; an unplugged vCPU goes once the
   * guest has let it go. */
  long long deadline = vc_now_ms() + sb->cfg->agent.request_timeout_ms;
  for (;;) {
    struct vc_msg_online_resources want = {has.vcpus};
    struct vc_msg_online_result in = {0, 0};
    if (vc_sandbox_call(sb, VC_AGENT_ONLINE_RESOURCES, &want, &in, err) < 0)
      return vc_error_wrap(err, "resize the VM of sandbox `%s`", sb->id);
    if (in.vcpus == has.vcpus && in.memory_mib >= has.memory_mib)
      break;
    if (vc_now_ms() > deadline)
      return vc_error_set(err, ETIMEDOUT, "resize the VM of sandbox `%s`: the "
                          "guest has %u vCPUs and %u MiB online, not %u and %u",
                          sb->id, in.vcpus, in.memory_mib, has.vcpus,
                          has.memory_mib);
    sleep_ms(20);
  }
  if (now != NULL)
    *now = has;
  return 0;
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

void vc_sandbox_save_json(const struct vc_sandbox *sb, struct vc_jb *b) {
  sb->vm.ops->save_state(&sb->vm, b);
  vc_jb_key(b, "agent");
  vc_jb_open(b, '{');
  vc_jb_key(b, "transport");
  vc_jb_str(b, sb->hybrid_vsock ? "hybrid-vsock" : "vhost-vsock");
  vc_jb_key(b, "guest_cid");
  vc_jb_uint(b, sb->vm.guest_cid);
  vc_jb_key(b, "hybrid_socket");
  vc_jb_str(b, sb->hybrid_vsock ? sb->hybrid_socket : NULL);
  vc_jb_close(b, '}');
  if (sb->net != NULL)
    vc_sandbox_net_save_json(sb->net, b);
}

int vc_sandbox_load_json(struct vc_sandbox *sb, yajl_val v, const char *where,
                         vc_error **err) {
  sb->vm.cfg = &sb->cfg->hypervisor;
  sb->vm.id = sb->id;
  sb->vm.dir = sb->run_dir;
  if (vc_vm_load_state(&sb->vm, v, err) < 0)
    return vc_error_wrap(err, "%s", where);
  yajl_val vs = vc_json_get_object(v, "agent");
  const char *transport = vs ? vc_json_get_str(vs, "transport") : NULL;
  sb->hybrid_vsock = transport == NULL || strcmp(transport, "hybrid-vsock") == 0;
  sb->vm.guest_cid = vs ? (uint64_t)vc_json_get_int(vs, "guest_cid") : VC_GUEST_CID;
  sb->hybrid_socket = vs ? vc_json_strdup(vs, "hybrid_socket") : NULL;
  if (sb->hybrid_socket == NULL)
    sb->hybrid_socket = xasprintf("%s/vsock.sock", sb->run_dir);
  sb->vm.hybrid_vsock = sb->hybrid_vsock;
  sb->vm.hybrid_socket = sb->hybrid_socket;
  return vc_sandbox_net_load_json(sb, v, where, err);
}

void vc_sandbox_free(struct vc_sandbox *sb) {
  vc_sandbox_unlock(sb);
  free(sb->id);
  free(sb->dir);
  free(sb->run_dir);
  free(sb->netns);
  vc_sandbox_net_free(sb->net);
  free(sb->hybrid_socket);
  vc_vm_free(&sb->vm);
  memset(sb, 0, sizeof(*sb));
  sb->lock_fd = -1;
  sb->vm.vhost_vsock_fd = -1;
}
