#include "lib/sandbox.h"

#include <errno.h>
#include <fcntl.h>
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

int vc_sandbox_agent_request_fd(const struct vc_sandbox *sb,
                                unsigned answer_timeout_ms, vc_error **err) {
  int fd = vc_sandbox_agent_connect(sb, 3000, err);
  if (fd < 0)
    return -1;
  /* A wedged guest must not hang the caller: reads and writes on this
   * connection fail with EAGAIN once the timeout passes. */
  struct timeval tv = {answer_timeout_ms / 1000, (answer_timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
    vc_error_set(err, errno, "agent connection: set a timeout");
    close(fd);
    return -1;
  }
  return fd;
}

/* Polls the agent until it answers Hello, while QEMU lives. */
static int wait_for_agent(struct vc_sandbox *sb, vc_error **err) {
  long long deadline = vc_now_ms() + sb->cfg->agent.boot_timeout_ms;
  for (;;) {
    vc_error *cerr = NULL;
    int fd = vc_sandbox_agent_connect(sb, 250, &cerr);
    if (fd >= 0) {
      struct vc_agent_client c = {fd, 1};
      yajl_val tree = NULL;
      int r = vc_agent_call(&c, "Hello", NULL, &tree, NULL, &cerr);
      yajl_tree_free(tree);
      close(fd);
      if (r == 0)
        return 0;
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

static void save_container(const struct vc_sandbox *sb, struct vc_jb *b) {
  vc_jb_key(b, "containers");
  vc_jb_open(b, '{');
  vc_jb_key(b, sb->id);
  vc_jb_open(b, '{');
  vc_jb_key(b, "bundle");
  vc_jb_str(b, sb->bundle);
  vc_jb_key(b, "rootfs");
  vc_jb_str(b, sb->rootfs);
  vc_jb_key(b, "cgroup_path");
  vc_jb_str(b, sb->cgroup_path);
  vc_jb_key(b, "process");
  vc_jb_open(b, '{');
  vc_jb_key(b, "pid"); /* the host process engines see: the shim */
  vc_jb_int(b, sb->shim_pid);
  vc_jb_close(b, '}');
  vc_jb_close(b, '}');
  vc_jb_close(b, '}');
}

/* state.json follows the shape of Kata's persist API (seed 002): the
 * sandbox, its hypervisor, the devices plugged into it and its containers,
 * under one version number.  A pod member's own file has only the sandbox's
 * id and its container; the VM's part stays in the sandbox's file. */
int vc_sandbox_save(const struct vc_sandbox *sb, vc_error **err) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "version");
  vc_jb_int(&b, VC_STATE_VERSION);
  vc_jb_key(&b, "sandbox");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "id");
  vc_jb_str(&b, sb->sandbox_id);
  vc_jb_key(&b, "created");
  vc_jb_str(&b, sb->created);
  if (sb->vm_netns != NULL) {
    vc_jb_key(&b, "network_namespace");
    vc_jb_str(&b, sb->vm_netns);
  }
  if (!vc_sandbox_owns_vm(sb)) {
    /* Which VM it joined: a later sandbox of the same id is another. */
    vc_jb_key(&b, "vm_pid");
    vc_jb_int(&b, sb->vm.pid);
  }
  vc_jb_close(&b, '}');
  if (vc_sandbox_owns_vm(sb)) {
    /* "hypervisor" and "devices": the backend's part. */
    sb->vm.ops->save_state(&sb->vm, &b);
    vc_jb_key(&b, "agent");
    vc_jb_open(&b, '{');
    vc_jb_key(&b, "transport");
    vc_jb_str(&b, sb->hybrid_vsock ? "hybrid-vsock" : "vhost-vsock");
    vc_jb_key(&b, "guest_cid");
    vc_jb_uint(&b, sb->vm.guest_cid);
    vc_jb_key(&b, "hybrid_socket");
    vc_jb_str(&b, sb->hybrid_vsock ? sb->hybrid_socket : NULL);
    vc_jb_close(&b, '}');
  }
  save_container(sb, &b);
  vc_jb_close(&b, '}');
  cleanup_free char *json = vc_jb_take(&b);
  cleanup_free char *path = xasprintf("%s/state.json", sb->dir);
  return vc_write_file_atomic(path, json, strlen(json), 0600, err);
}

bool vc_sandbox_owns_vm(const struct vc_sandbox *sb) {
  return sb->sandbox_id == NULL || strcmp(sb->sandbox_id, sb->id) == 0;
}

static int join_sandbox(struct vc_sandbox *sb, const char *sandbox_id,
                        vc_error **err);

int vc_sandbox_start(struct vc_sandbox *sb, vc_error **err) {
  const struct vc_config *cfg = sb->cfg;
  if (sb->join_sandbox != NULL)
    return join_sandbox(sb, sb->join_sandbox, err);
  if (vc_mkdir_p(cfg->runtime.state_root, 0711, err) < 0)
    return -1;
  if (mkdir(sb->dir, 0700) < 0) {
    if (errno == EEXIST)
      return vc_error_set(err, 0, "container with id `%s` already exists",
                          sb->id);
    return vc_error_set(err, errno, "create state directory `%s`", sb->dir);
  }
  free(sb->sandbox_id);
  free(sb->sandbox_dir);
  sb->sandbox_id = xstrdup(sb->id);
  sb->sandbox_dir = xstrdup(sb->dir);
  sb->hybrid_socket = xasprintf("%s/vsock.sock", sb->dir);
  if (sb->spec != NULL) {
    cleanup_free char *share = vc_share_dir(sb->dir);
    if (vc_share_create(share, err) < 0 ||
        vc_share_add(share, sb->id, sb->rootfs, sb->bundle, sb->spec, err) < 0)
      goto fail;
  }

  /* The backend the configuration names starts the VM and its helpers. */
  if (vc_hypervisor_select(&cfg->hypervisor, &sb->vm.ops, err) < 0 ||
      vc_sandbox_pick_transport(cfg->agent.transport, &sb->hybrid_vsock, err) < 0 ||
      vc_accel_resolve(&cfg->hypervisor, &sb->vm.use_kvm, err) < 0)
    goto fail;
  sb->vm.cfg = &cfg->hypervisor;
  sb->vm.id = sb->id;
  sb->vm.dir = sb->dir;
  sb->vm.share_dir = vc_share_dir(sb->dir);
  sb->vm.fs_tag = VC_ROOTFS_TAG;
  sb->vm.hybrid_vsock = sb->hybrid_vsock;
  sb->vm.hybrid_socket = sb->hybrid_socket;
  sb->vm.guest_cid = VC_GUEST_CID;
  sb->vm.netns = sb->vm_netns;
  long long boot_start = vc_now_ms();
  if (sb->vm.ops->start(&sb->vm, err) < 0)
    goto fail;
  if (vc_sandbox_save(sb, err) < 0 || wait_for_agent(sb, err) < 0)
    goto fail;
  if (sb->debug)
    fprintf(stderr, "vcrun: debug: boot-to-agent %lld ms\n",
            vc_now_ms() - boot_start);
  return 0;

fail:;
  vc_error *cleanup_err = NULL;
  vc_sandbox_destroy(sb, &cleanup_err);
  vc_error_free(&cleanup_err);
  return -1;
}

/* A pod member leaves: the agent kills its processes and forgets it, its
 * shim goes, its binds leave the share; the VM and the others stay. */
static int leave_sandbox(struct vc_sandbox *sb, vc_error **err) {
  /* While the VM runs, the agent must forget the member first: removing
   * its rootfs and state under a live container would leave it orphaned
   * in the guest.  If the agent cannot say so, nothing is removed and
   * delete can be tried again (or the sandbox deleted with --force). */
  if (vc_sandbox_alive(sb)) {
    vc_error *e = NULL;
    int fd = vc_sandbox_agent_request_fd(sb, sb->cfg->agent.request_timeout_ms, &e);
    struct vc_agent_client c = {fd, 1};
    cleanup_free char *quoted = vc_json_quote(sb->id);
    cleanup_free char *params = xasprintf("{\"id\":%s}", quoted);
    yajl_val t = NULL;
    int r = fd < 0 ? -1 : vc_agent_call(&c, "DeleteContainer", params, &t, NULL, &e);
    yajl_tree_free(t);
    if (fd >= 0)
      close(fd);
    /* An unknown id is fine: create may have failed before it existed. */
    if (r < 0 && (e == NULL || strstr(e->msg, "does not exist") == NULL)) {
      vc_error_set(err, e ? e->errnum : 0, "remove container `%s` from sandbox "
                   "`%s`: %s; nothing removed", sb->id, sb->sandbox_id,
                   e ? e->msg : "no answer");
      vc_error_free(&e);
      return -1;
    }
    vc_error_free(&e);
  }
  int ret = 0;
  if (sb->dir != NULL && vc_pid_is(sb->shim_pid, sb->dir))
    vc_pid_terminate(sb->shim_pid, 1000);
  if (sb->sandbox_dir != NULL) {
    cleanup_free char *share = vc_share_dir(sb->sandbox_dir);
    if (vc_share_remove(share, sb->id, err) < 0)
      ret = -1;
  }
  if (sb->dir != NULL && vc_rmdir_r(sb->dir, ret < 0 ? NULL : err) < 0)
    ret = -1;
  return ret;
}

int vc_sandbox_destroy(struct vc_sandbox *sb, vc_error **err) {
  if (!vc_sandbox_owns_vm(sb))
    return leave_sandbox(sb, err);
  int ret = 0;
  /* Ask the agent to power the guest off; QEMU then exits by itself and
   * its vhost-user peers follow. */
  if (sb->vm.ops != NULL && sb->vm.ops->alive(&sb->vm)) {
    vc_error *e = NULL;
    int fd = vc_sandbox_agent_request_fd(sb, 2000, &e);
    if (fd >= 0) {
      struct vc_agent_client c = {fd, 1};
      yajl_val t = NULL;
      if (vc_agent_call(&c, "DestroySandbox", NULL, &t, NULL, &e) == 0) {
        long long deadline = vc_now_ms() + 2000;
        while (sb->vm.ops->alive(&sb->vm) && vc_now_ms() < deadline)
          sleep_ms(5);
      }
      yajl_tree_free(t);
      close(fd);
    }
    vc_error_free(&e);
  }
  /* The VMM and its helpers, whatever is left of them: the backend checks
   * each pid against its command line before sending it anything. */
  if (sb->vm.ops != NULL && sb->vm.ops->stop(&sb->vm, false, err) < 0)
    ret = -1;
  if (sb->dir != NULL && vc_pid_is(sb->shim_pid, sb->dir))
    vc_pid_terminate(sb->shim_pid, 1000);
  if (sb->dir == NULL)
    return ret;
  /* The rootfs is bound under the share: unmount before removing. */
  cleanup_free char *share = vc_share_dir(sb->dir);
  if (vc_share_teardown(share, ret < 0 ? NULL : err) < 0)
    return -1;
  if (vc_rmdir_r(sb->dir, ret < 0 ? NULL : err) < 0)
    ret = -1;
  return ret;
}

static long long json_int(yajl_val v, const char *key) {
  yajl_val n = vc_json_get(v, key);
  return n != NULL && YAJL_IS_INTEGER(n) ? YAJL_GET_INTEGER(n) : 0;
}

static char *json_strdup(yajl_val v, const char *key) {
  const char *s = vc_json_get_str(v, key);
  return s ? xstrdup(s) : NULL;
}

static int read_state(const char *dir, const char *id, yajl_val *tree,
                      vc_error **err) {
  cleanup_free char *path = xasprintf("%s/state.json", dir);
  cleanup_free char *text = NULL;
  vc_error *rerr = NULL;
  if (vc_read_file(path, &text, NULL, &rerr) < 0) {
    int e = rerr->errnum;
    vc_error_free(&rerr);
    if (e == ENOENT) {
      vc_error_set(err, 0, "container `%s` does not exist", id);
      (*err)->errnum = ENOENT;
      return -1;
    }
    return vc_error_set(err, e, "read `%s`", path);
  }
  if (vc_json_parse(text, tree, err) < 0)
    return vc_error_wrap(err, "%s", path);
  long long version = json_int(*tree, "version");
  if (version != VC_STATE_VERSION) {
    yajl_tree_free(*tree);
    *tree = NULL;
    return vc_error_set(err, 0, "%s: state version %lld is not supported (this "
                        "vcrun writes version %d)", path, version, VC_STATE_VERSION);
  }
  return 0;
}

/* The VM's part of the sandbox's state.json: hypervisor, agent, devices. */
static int load_vm(struct vc_sandbox *sb, yajl_val v, vc_error **err) {
  sb->vm.cfg = &sb->cfg->hypervisor;
  sb->vm.id = sb->sandbox_id;
  sb->vm.dir = sb->sandbox_dir;
  if (vc_vm_load_state(&sb->vm, v, err) < 0)
    return -1;
  yajl_val vs = vc_json_get_object(v, "agent");
  const char *transport = vs ? vc_json_get_str(vs, "transport") : NULL;
  sb->hybrid_vsock = transport == NULL || strcmp(transport, "hybrid-vsock") == 0;
  sb->vm.guest_cid = vs ? (uint64_t)json_int(vs, "guest_cid") : VC_GUEST_CID;
  sb->hybrid_socket = vs ? json_strdup(vs, "hybrid_socket") : NULL;
  if (sb->hybrid_socket == NULL)
    sb->hybrid_socket = xasprintf("%s/vsock.sock", sb->sandbox_dir);
  sb->vm.hybrid_vsock = sb->hybrid_vsock;
  sb->vm.hybrid_socket = sb->hybrid_socket;
  return 0;
}

int vc_sandbox_load(const struct vc_config *cfg, const char *id,
                    struct vc_sandbox *sb, vc_error **err) {
  memset(sb, 0, sizeof(*sb));
  sb->lock_fd = -1;
  sb->sandbox_lock_fd = -1;
  sb->vm.vhost_vsock_fd = -1;
  sb->cfg = cfg;
  sb->id = xstrdup(id);
  sb->dir = xasprintf("%s/%s", cfg->runtime.state_root, id);
  yajl_val v = NULL, vm_tree = NULL;
  if (read_state(sb->dir, id, &v, err) < 0)
    return -1;
  int ret = -1;
  yajl_val sandbox = vc_json_get_object(v, "sandbox");
  yajl_val containers = vc_json_get_object(v, "containers");
  yajl_val ctr = containers ? vc_json_get_object(containers, id) : NULL;
  yajl_val process = ctr ? vc_json_get_object(ctr, "process") : NULL;
  const char *sandbox_id = sandbox ? vc_json_get_str(sandbox, "id") : NULL;
  if (ctr == NULL || !vc_id_valid(sandbox_id)) {
    vc_error_set(err, 0, "%s/state.json: sandbox or container `%s` missing",
                 sb->dir, id);
    goto out;
  }
  sb->sandbox_id = xstrdup(sandbox_id);
  sb->sandbox_dir = xasprintf("%s/%s", cfg->runtime.state_root, sandbox_id);
  sb->created = json_strdup(sandbox, "created");
  sb->bundle = json_strdup(ctr, "bundle");
  sb->rootfs = json_strdup(ctr, "rootfs");
  sb->cgroup_path = json_strdup(ctr, "cgroup_path");
  sb->shim_pid = process ? (pid_t)json_int(process, "pid") : 0;
  if (vc_sandbox_owns_vm(sb)) {
    ret = load_vm(sb, v, err);
    goto out;
  }
  /* A member: the VM is its sandbox's.  Gone with it, the member is just
   * stopped (no ops), and delete still cleans it up. */
  vc_error *serr = NULL;
  pid_t joined_vm = (pid_t)json_int(sandbox, "vm_pid");
  if (read_state(sb->sandbox_dir, sandbox_id, &vm_tree, &serr) == 0 &&
      (load_vm(sb, vm_tree, &serr) < 0 || sb->vm.pid != joined_vm))
    sb->vm.ops = NULL;
  vc_error_free(&serr);
  ret = 0;
out:
  yajl_tree_free(v);
  yajl_tree_free(vm_tree);
  return ret;
}

static int join_sandbox(struct vc_sandbox *sb, const char *sandbox_id,
                        vc_error **err) {
  struct vc_sandbox owner = VC_SANDBOX_INIT;
  cleanup_free char *share = NULL;
  int ret = -1;
  bool made_dir = false, shared = false;
  if (vc_sandbox_load(sb->cfg, sandbox_id, &owner, err) < 0) {
    vc_error_wrap(err, "sandbox `%s`", sandbox_id);
    goto out;
  }
  if (!vc_sandbox_owns_vm(&owner)) {
    vc_error_set(err, 0, "`%s` is a member of sandbox `%s`, not a sandbox",
                 sandbox_id, owner.sandbox_id);
    goto out;
  }
  /* Its lock keeps the sandbox from being deleted under the new member;
   * handed to sb below, held until the member's shim is saved. */
  if (vc_sandbox_lock(&owner, err) < 0)
    goto out;
  if (!vc_sandbox_alive(&owner)) {
    vc_error_set(err, 0, "sandbox `%s` is not running", sandbox_id);
    goto out;
  }
  if (mkdir(sb->dir, 0700) < 0) {
    if (errno == EEXIST)
      vc_error_set(err, 0, "container with id `%s` already exists", sb->id);
    else
      vc_error_set(err, errno, "create state directory `%s`", sb->dir);
    goto out;
  }
  made_dir = true;
  free(sb->sandbox_id);
  free(sb->sandbox_dir);
  sb->sandbox_id = xstrdup(owner.sandbox_id);
  sb->sandbox_dir = xstrdup(owner.sandbox_dir);
  share = vc_share_dir(sb->sandbox_dir);
  if (vc_share_add(share, sb->id, sb->rootfs, sb->bundle, sb->spec, err) < 0)
    goto out;
  shared = true;
  /* The VM's part, as a later load of this member would find it. */
  sb->vm = owner.vm;
  owner.vm.qmp_socket = owner.vm.log_path = owner.vm.console_path = NULL;
  sb->vm.id = sb->sandbox_id;
  sb->vm.dir = sb->sandbox_dir;
  sb->hybrid_vsock = owner.hybrid_vsock;
  sb->hybrid_socket = owner.hybrid_socket;
  owner.hybrid_socket = NULL;
  ret = vc_sandbox_save(sb, err);
  if (ret == 0) {
    sb->sandbox_lock_fd = owner.lock_fd;
    owner.lock_fd = -1;
  }
out:
  if (ret < 0 && shared)
    vc_share_remove(share, sb->id, NULL);
  if (ret < 0 && made_dir)
    vc_rmdir_r(sb->dir, NULL);
  vc_sandbox_free(&owner);
  return ret;
}

int vc_sandbox_lock(struct vc_sandbox *sb, vc_error **err) {
  if (sb->lock_fd >= 0)
    return 0;
  int fd = open(sb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "open `%s`", sb->dir);
  if (flock(fd, LOCK_EX) < 0) {
    int e = errno;
    close(fd);
    return vc_error_set(err, e, "lock `%s`", sb->dir);
  }
  sb->lock_fd = fd;
  return 0;
}

bool vc_sandbox_alive(const struct vc_sandbox *sb) {
  /* The backend counts the helpers: without virtiofsd or the vsock
   * backend the sandbox is as good as dead. */
  return sb->vm.ops != NULL && sb->vm.ops->alive(&sb->vm);
}

int vc_sandbox_save_config(const struct vc_sandbox *sb, const char *config_text,
                           vc_error **err) {
  cleanup_free char *path = xasprintf("%s/config.json", sb->dir);
  return vc_write_file_atomic(path, config_text, strlen(config_text), 0600, err);
}

char *vc_sandbox_config_path(const struct vc_sandbox *sb) {
  char *saved = xasprintf("%s/config.json", sb->dir);
  if (access(saved, F_OK) == 0 || sb->bundle == NULL)
    return saved;
  free(saved);
  return xasprintf("%s/config.json", sb->bundle);
}

int vc_sandbox_load_spec(const struct vc_sandbox *sb, struct oci_spec **spec,
                         vc_error **err) {
  cleanup_free char *path = vc_sandbox_config_path(sb);
  return oci_spec_load_file(path, spec, err);
}

void vc_sandbox_unlock_sandbox(struct vc_sandbox *sb) {
  if (sb->sandbox_lock_fd >= 0)
    close(sb->sandbox_lock_fd);
  sb->sandbox_lock_fd = -1;
}

void vc_sandbox_free(struct vc_sandbox *sb) {
  if (sb->lock_fd >= 0)
    close(sb->lock_fd);
  vc_sandbox_unlock_sandbox(sb);
  free(sb->created);
  free(sb->id);
  free(sb->dir);
  free(sb->sandbox_id);
  free(sb->sandbox_dir);
  free(sb->join_sandbox);
  free(sb->join_namespaces);
  free(sb->vm_netns);
  free(sb->rootfs);
  free(sb->cgroup_path);
  free(sb->bundle);
  free(sb->hybrid_socket);
  free(sb->self_exe);
  vc_vm_free(&sb->vm);
  memset(sb, 0, sizeof(*sb));
}
