/* vcrun create: boots the sandbox VM, creates the container there with its
 * process waiting for `start`, and leaves a shim behind whose pid goes into
 * --pid-file.  The shim is our child (so a descendant of the caller, which
 * engines that are subreapers rely on); it holds the container's stdio,
 * forwards signals, and exits with the container's status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "cmd/cli.h"
#include "oci/spec.h"
#include "lib/host/process.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"

int vc_spawn_shim(const struct vc_sandbox *sb, const char *exec_id,
                  const char *process_file, int tty_slave, pid_t *pid,
                  vc_error **err) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    return vc_error_set(err, errno, "pipe");
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(ready[0]);
    close(ready[1]);
    return vc_error_set(err, e, "fork shim");
  }
  if (child == 0) {
    /* Keep stdio (the container's, or the console pty) and the ready pipe;
     * nothing else the caller passed us may leak into the shim. */
    for (int fd = 0; tty_slave >= 0 && fd < 3; fd++)
      if (dup2(tty_slave, fd) < 0) {
        dprintf(ready[1], "Edup2 the console pty: %s", strerror(errno));
        _exit(127);
      }
    int keep[] = {ready[1]};
    vc_close_fds_except(3, keep, 1);
    fcntl(ready[1], F_SETFD, 0);
    char fd[16];
    snprintf(fd, sizeof(fd), "%d", ready[1]);
    const char *argv[16];
    int n = 0;
    argv[n++] = sb->self_exe;
    argv[n++] = "--root";
    argv[n++] = sb->cfg->runtime.state_root;
    argv[n++] = "shim";
    argv[n++] = "--ready-fd";
    argv[n++] = fd;
    argv[n++] = "--state-dir";
    argv[n++] = sb->dir;
    if (tty_slave >= 0)
      argv[n++] = "--tty";
    if (exec_id != NULL) {
      argv[n++] = "--exec-id";
      argv[n++] = exec_id;
      argv[n++] = "--process";
      argv[n++] = process_file;
    }
    argv[n++] = sb->id;
    argv[n] = NULL;
    execv(sb->self_exe, (char **)argv);
    dprintf(ready[1], "Eexec shim: %s", strerror(errno));
    _exit(127);
  }
  close(ready[1]);
  char msg[4096];
  struct pollfd p = {ready[0], POLLIN, 0};
  ssize_t n = poll(&p, 1, 30000) == 1 ? read(ready[0], msg, sizeof(msg) - 1) : -1;
  close(ready[0]);
  if (n == 1 && msg[0] == 'R') {
    *pid = child;
    return 0;
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  if (n > 1 && msg[0] == 'E') {
    msg[n] = '\0';
    return vc_error_set(err, 0, "%s", msg + 1);
  }
  return vc_error_set(err, 0, "the shim did not start");
}

int vc_create_container(struct vc_cli *cli, const char *id, const char *bundle,
                        const char *pid_file, const char *console_socket,
                        vc_error **err) {
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  struct oci_spec *spec = NULL;
  struct vc_term term = VC_TERM_INIT;
  cleanup_free char *config_text = NULL;
  struct vc_agent_client agent = VC_AGENT_CLIENT_INIT;
  int ret = -1;
  if (vc_prepare_sandbox(cli, id, bundle, &sb, &config_text, &spec, err) < 0 ||
      vc_term_check(spec->process->terminal, console_socket, true, err) < 0)
    goto out;
  if (vc_sandbox_start(&sb, err) < 0)
    goto out;
  if (vc_sandbox_save_config(&sb, config_text, err) < 0 ||
      vc_agent_open(&sb, &agent, err) < 0)
    goto destroy;
  struct vc_msg_create_container params = vc_create_params(&sb, config_text, 0);
  if (vc_agent_call(&agent, VC_AGENT_CREATE_CONTAINER, &params, NULL, err) < 0)
    goto destroy;
  /* The pty goes to the engine once the container exists, as with runc. */
  if (vc_term_open(&term, spec->process->terminal, console_socket, true, err) < 0 ||
      vc_spawn_shim(&sb, NULL, NULL, term.slave, &sb.shim_pid, err) < 0)
    goto destroy;
  if (vc_sandbox_save(&sb, err) < 0 || vc_create_hooks(&sb, spec, err) < 0)
    goto destroy;
  if (pid_file != NULL) {
    cleanup_free char *pid = xasprintf("%d", (int)sb.shim_pid);
    if (vc_write_file_atomic(pid_file, pid, strlen(pid), 0644, err) < 0)
      goto destroy;
  }
  ret = 0;
  goto out;
destroy:;
  vc_error *derr = NULL;
  vc_sandbox_destroy(&sb, &derr);
  vc_error_free(&derr);
out:
  vc_term_close(&term);
  if (agent.fd >= 0)
    close(agent.fd);
  oci_spec_free(spec);
  vc_sandbox_free(&sb);
  return ret;
}

int cmd_create(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *bundle = ".", *pid_file = NULL, *console_socket = NULL;
  const char *preserve_fds = NULL;
  bool no_pivot = false, no_new_keyring = false;
  const struct vc_opt opts[] = {
      {"bundle", 'b', true, &bundle, NULL, NULL},
      {"pid-file", 0, true, &pid_file, NULL, NULL},
      {"console-socket", 0, true, &console_socket, NULL, NULL},
      {"preserve-fds", 0, true, &preserve_fds, NULL, NULL},
      {"no-pivot", 0, false, NULL, &no_pivot, NULL},
      {"no-new-keyring", 0, false, NULL, &no_new_keyring, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("create", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "create: expects exactly one argument, the container id");
  const char *id = argv[first];
  if (vc_validate_id(id, err) < 0 || vc_cli_config(cli, err) < 0)
    return -1;
  if (vc_check_preserve_fds("create", preserve_fds, err) < 0)
    return -1;
  return vc_create_container(cli, id, bundle, pid_file, console_socket, err) < 0
             ? -1
             : 0;
}
