/* vcrun shim (internal): the host process standing for one container
 * process.  It attaches to (or, for exec, starts) the process in the guest
 * over its own vsock stream, relays stdio, forwards signals, and exits with
 * the process's status (128+N when killed by signal N). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "cmd/cli.h"
#include "lib/base/json_build.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"

static void report(int fd, const char *msg) {
  if (fd < 0)
    return;
  if (vc_write_all(fd, msg, strlen(msg)) < 0) {
    /* the creator is gone: nobody to tell */
  }
  close(fd);
}

int vc_shim_main(struct vc_cli *cli, const char *id, const char *exec_id,
                 const char *process_file, int ready_fd, int winsize_fd,
                 vc_error **err) {
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  struct vc_agent_client agent = VC_AGENT_CLIENT_INIT;
  cleanup_free char *process = NULL;
  uint32_t wait_stream;
  int status = -1, exit_status = 0;
  if (vc_open_container(cli, id, false, &sb, err) < 0 ||
      vc_agent_open(&sb, &agent, err) < 0)
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
  if (vc_agent_send(&agent, VC_AGENT_WAIT_PROCESS, &proc, &wait_stream, err) < 0)
    goto fail;
  report(ready_fd, "R");
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
    char *msg = xasprintf("E%s", *err ? (*err)->msg : "shim failed");
    report(ready_fd, msg);
    free(msg);
  }
out:
  if (agent.fd >= 0)
    close(agent.fd);
  vc_sandbox_free(&sb);
  return status;
}

int cmd_shim(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *ready = NULL, *exec_id = NULL, *process_file = NULL, *dir = NULL;
  bool tty = false;
  const struct vc_opt opts[] = {
      {"ready-fd", 0, true, &ready, NULL, NULL},
      {"exec-id", 0, true, &exec_id, NULL, NULL},
      {"process", 0, true, &process_file, NULL, NULL},
      {"state-dir", 0, true, &dir, NULL, NULL}, /* names the shim in ps */
      {"tty", 0, false, NULL, &tty, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("shim", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "shim: expects the container id");
  if (tty) {
    /* stdio is the console pty's slave: as its session leader we get
     * SIGWINCH when the engine resizes the master, and SIGHUP when it
     * closes it (forwarded to the process, as a hang-up would be). */
    if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)
      return vc_error_set(err, errno, "shim: take the console pty");
  }
  return vc_shim_main(cli, argv[first], exec_id, process_file,
                      ready ? atoi(ready) : -1, tty ? 0 : -1, err);
}
