#include "lib/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/base/util.h"
#include "lib/container.h"
#include "lib/host/process.h"
#include "lib/relay.h"

/* In the new shim, before its exec: its mount namespace follows the host's
 * (a slave, so that the host's unmounts reach it) and gets a /proc of its
 * own pid namespace, where it is alone.  Fails with a message on fd. */
static bool isolate_proc(int fd) {
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
      mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
    dprintf(fd, "%cthe shim's /proc in a pid namespace of its own: %s",
            VC_SHIM_FAILED, strerror(errno));
    return false;
  }
  return true;
}

int vc_shim_spawn(const struct vc_context *ctx, const struct vc_container *c,
                  const char *exec_id, const char *process_file, int tty_slave,
                  pid_t *pid, vc_error **err) {
  cleanup_free char *self = vc_self_exe();
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    return vc_error_set(err, errno, "pipe");
  /* A fork into new pid and mount namespaces: the shim is still our child
   * (the engine reaps it once we exit), its host pid is what engines get,
   * and /proc/<pid>/ns/pid and /proc/<pid>/root/proc show the shim alone
   * as pid 1, never the host's processes (podman top reads them).  Raw
   * clone, not unshare + fork: later children of ours (hooks) stay in our
   * pid namespace. */
  pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD,
                               NULL, NULL, NULL, NULL);
  if (child < 0) {
    int e = errno;
    close(ready[0]);
    close(ready[1]);
    return vc_error_set(err, e, "start the shim in a pid namespace of its own");
  }
  if (child == 0) {
    if (!isolate_proc(ready[1]))
      _exit(127);
    /* Keep stdio (the container's, or the console pty) and the ready pipe;
     * nothing else the caller passed us may leak into the shim. */
    for (int fd = 0; tty_slave >= 0 && fd < 3; fd++)
      if (dup2(tty_slave, fd) < 0) {
        dprintf(ready[1], "%cdup2 the console pty: %s", VC_SHIM_FAILED,
                strerror(errno));
        _exit(127);
      }
    int keep[] = {ready[1]};
    vc_close_fds_except(3, keep, 1);
    fcntl(ready[1], F_SETFD, 0);
    char fd[16];
    snprintf(fd, sizeof(fd), "%d", ready[1]);
    const char *argv[16];
    int n = 0;
    argv[n++] = self;
    argv[n++] = "--root";
    argv[n++] = ctx->cfg->runtime.state_root;
    argv[n++] = "shim";
    argv[n++] = "--ready-fd";
    argv[n++] = fd;
    argv[n++] = "--state-dir";
    argv[n++] = c->dir;
    if (tty_slave >= 0)
      argv[n++] = "--tty";
    if (exec_id != NULL) {
      argv[n++] = "--exec-id";
      argv[n++] = exec_id;
      argv[n++] = "--process";
      argv[n++] = process_file;
    }
    argv[n++] = c->id;
    argv[n] = NULL;
    execv(self, (char **)argv);
    dprintf(ready[1], "%cexec shim: %s", VC_SHIM_FAILED, strerror(errno));
    _exit(127);
  }
  close(ready[1]);
  char msg[4096];
  struct pollfd p = {ready[0], POLLIN, 0};
  ssize_t n = poll(&p, 1, 30000) == 1 ? read(ready[0], msg, sizeof(msg) - 1) : -1;
  close(ready[0]);
  if (n == 1 && msg[0] == VC_SHIM_READY) {
    *pid = child;
    return 0;
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  if (n > 1 && msg[0] == VC_SHIM_FAILED) {
    msg[n] = '\0';
    return vc_error_set(err, 0, "%s", msg + 1);
  }
  return vc_error_set(err, 0, "the shim did not start");
}

static void report(int fd, const char *msg) {
  if (fd < 0)
    return;
  if (vc_write_all(fd, msg, strlen(msg)) < 0) {
    /* the creator is gone: nobody to tell */
  }
  close(fd);
}

int vc_shim_main(const struct vc_context *ctx, const char *id,
                 const char *exec_id, const char *process_file, int ready_fd,
                 int winsize_fd, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  struct vc_agent_client agent = VC_AGENT_CLIENT_INIT;
  cleanup_free char *process = NULL;
  uint32_t wait_stream;
  int status = -1, exit_status = 0;
  if (vc_container_load(ctx, id, false, &c, err) < 0)
    goto fail;
  /* A connection of its own that lives as long as the process: [agent]
   * request_timeout until attached (a wedged guest must not hang create or
   * exec), no timeout after. */
  agent.fd = vc_sandbox_agent_connect(&c.sandbox, 3000, err);
  if (agent.fd < 0 ||
      vc_agent_set_timeout(&agent, ctx->cfg->agent.request_timeout_ms, err) < 0)
    goto fail;
  if (exec_id != NULL) {
    if (vc_read_file(process_file, &process, NULL, err) < 0)
      goto fail;
    struct vc_msg_exec_process exec = {id, exec_id, process, VC_STDIO_STREAM};
    if (vc_agent_call(&agent, VC_AGENT_EXEC_PROCESS, &exec, NULL, err) < 0)
      goto fail;
  } else {
    struct vc_msg_attach_stdio attach = {id, VC_STDIO_STREAM};
    if (vc_agent_call(&agent, VC_AGENT_ATTACH_STDIO, &attach, NULL, err) < 0)
      goto fail;
  }
  struct vc_msg_process_ref proc = {id, exec_id};
  if (vc_agent_send(&agent, VC_AGENT_WAIT_PROCESS, &proc, &wait_stream, err) < 0 ||
      vc_agent_set_timeout(&agent, 0, err) < 0)
    goto fail;
  report(ready_fd, (char[]){VC_SHIM_READY, '\0'});
  ready_fd = -1;
  if (vc_relay_stdio(&agent, id, exec_id, VC_STDIO_STREAM, wait_stream,
                     winsize_fd, &exit_status, err) == 0) {
    status = exit_status;
  } else {
    /* The VM went away under the process: as good as killed. */
    vc_error_free(err);
    status = 128 + 9;
  }
  goto out;
fail:
  if (ready_fd >= 0) {
    char *msg = xasprintf("%c%s", VC_SHIM_FAILED, *err ? (*err)->msg : "shim failed");
    report(ready_fd, msg);
    free(msg);
  }
out:
  if (agent.fd >= 0)
    close(agent.fd);
  vc_container_free(&c);
  return status;
}

