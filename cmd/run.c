/* vcrun run: boots a sandbox VM for the bundle, runs the container in it
 * with stdio relayed, and exits with the container's status. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent_client.h"
#include "cli.h"
#include "json_build.h"
#include "oci/spec.h"
#include "sandbox.h"
#include "util.h"

#define STDIO_STREAM 2 /* even: request ids are odd */

static char *bundle_rootfs(const char *bundle, const struct oci_spec *spec,
                           vc_error **err) {
  cleanup_free char *joined = spec->root_path[0] == '/'
                                  ? xstrdup(spec->root_path)
                                  : xasprintf("%s/%s", bundle, spec->root_path);
  char *real = realpath(joined, NULL);
  if (real == NULL) {
    vc_error_set(err, errno, "root.path `%s`", joined);
    return NULL;
  }
  return real;
}

static char *create_params(const char *id, const char *config_text) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "id");
  vc_jb_str(&b, id);
  vc_jb_key(&b, "rootfs_tag");
  vc_jb_str(&b, VC_ROOTFS_TAG);
  vc_jb_key(&b, "spec");
  vc_jb_str(&b, config_text);
  vc_jb_key(&b, "stdio_stream");
  vc_jb_int(&b, STDIO_STREAM);
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

/* Relays stdio between this process and the container until the agent
 * answers the WaitProcess request; forwards the usual signals. */
static int relay(struct vc_agent_client *agent, const char *id,
                 uint32_t wait_stream, int *exit_status, vc_error **err) {
  sigset_t mask;
  sigemptyset(&mask);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
    sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0)
    return vc_error_set(err, errno, "signalfd");

  struct vc_frame_decoder dec = {0};
  bool stdin_open = true;
  int ret = -1;
  for (;;) {
    struct pollfd p[3] = {{agent->fd, POLLIN, 0},
                          {sfd, POLLIN, 0},
                          {stdin_open ? 0 : -1, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      vc_error_set(err, errno, "poll");
      break;
    }
    if (p[2].revents) {
      char buf[65536];
      ssize_t n = read(0, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      bool eof = n <= 0;
      if (vc_frame_write(agent->fd, VC_FRAME_DATA, eof ? VC_DATA_EOF : 0,
                         STDIO_STREAM, buf, eof ? 0 : (size_t)n, err) < 0)
        break;
      if (eof)
        stdin_open = false;
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
        cleanup_free char *quoted = vc_json_quote(id);
        cleanup_free char *params =
            xasprintf("{\"id\":%s,\"signal\":%u}", quoted, si.ssi_signo);
        if (vc_agent_send(agent, "SignalProcess", params, NULL, err) < 0)
          break;
      }
    }
    if (p[0].revents) {
      char buf[65536];
      ssize_t n = read(agent->fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        vc_error_set(err, n < 0 ? errno : 0,
                     "connection to the guest agent lost");
        break;
      }
      if (vc_frame_decoder_feed(&dec, buf, (size_t)n, err) < 0)
        break;
      struct vc_frame_header h;
      char *body = NULL;
      int r;
      bool done = false;
      while (!done && (r = vc_frame_decoder_next(&dec, &h, &body, err)) == 1) {
        if (h.type == VC_FRAME_DATA && h.stream == STDIO_STREAM) {
          int fd = (h.flags & VC_DATA_FD_MASK) == 2 ? 2 : 1;
          if (h.length > 0 && vc_write_all(fd, body, h.length) < 0 &&
              errno != EPIPE) {
            /* A closed stdout must not kill the container's run. */
          }
        } else if (h.type == VC_FRAME_RESPONSE && h.stream == wait_stream) {
          yajl_val tree = NULL, result = NULL;
          if (vc_agent_parse_response("WaitProcess", body, &tree, &result, err) == 0) {
            const char *path[] = {"exit_status", NULL};
            yajl_val st = yajl_tree_get(result, path, yajl_t_number);
            if (st != NULL && YAJL_IS_INTEGER(st) && YAJL_GET_INTEGER(st) >= 0 &&
                YAJL_GET_INTEGER(st) <= 255) {
              *exit_status = (int)YAJL_GET_INTEGER(st);
              ret = 0;
            } else {
              vc_error_set(err, 0, "agent WaitProcess: bad exit_status");
            }
          }
          yajl_tree_free(tree);
          done = true;
        } else if (h.type == VC_FRAME_RESPONSE) {
          /* The answer to a SignalProcess: a failure only means the
           * process is already gone. */
        }
        free(body);
        body = NULL;
      }
      if (done || r < 0)
        break;
    }
  }
  vc_frame_decoder_free(&dec);
  sigprocmask(SIG_UNBLOCK, &mask, NULL);
  return ret;
}

int cmd_run(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *bundle_opt = ".";
  const char *pid_file = NULL, *console_socket = NULL;
  bool detach = false, no_pivot = false, no_new_keyring = false;
  const struct vc_opt opts[] = {
      {"bundle", 'b', true, &bundle_opt, NULL},
      {"pid-file", 0, true, &pid_file, NULL},
      {"console-socket", 0, true, &console_socket, NULL},
      {"detach", 'd', false, NULL, &detach},
      {"no-pivot", 0, false, NULL, &no_pivot},
      {"no-new-keyring", 0, false, NULL, &no_new_keyring},
      {NULL, 0, false, NULL, NULL},
  };
  int first = vc_parse_opts("run", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "run: expects exactly one argument, the container id");
  const char *id = argv[first];
  if (vc_validate_id(id, err) < 0)
    return -1;
  if (detach || console_socket != NULL)
    return vc_error_set(err, 0, "run: --detach and --console-socket are not supported yet");
  if (vc_cli_config(cli, err) < 0)
    return -1;
  /* run outlives the VM and its helpers: adopt them when their detaching
   * parent exits, so that they are reaped here and leave no zombie. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  struct vc_sandbox sb = {0};
  struct oci_spec *spec = NULL;
  struct vc_agent_client agent = {-1, 1};
  cleanup_free char *config_text = NULL;
  cleanup_free char *config_path = NULL;
  cleanup_free char *params = NULL, *quoted_id = NULL, *id_params = NULL;
  int status = -1;
  sb.bundle = realpath(bundle_opt, NULL);
  if (sb.bundle == NULL) {
    vc_error_set(err, errno, "bundle `%s`", bundle_opt);
    goto out;
  }
  config_path = xasprintf("%s/config.json", sb.bundle);
  if (vc_read_file(config_path, &config_text, NULL, err) < 0)
    goto out;
  if (oci_spec_parse(config_text, config_path, &spec, err) < 0)
    goto out;
  if (spec->process == NULL) {
    vc_error_set(err, 0, "%s: process: missing", config_path);
    goto out;
  }
  if ((sb.rootfs = bundle_rootfs(sb.bundle, spec, err)) == NULL) {
    vc_error_wrap(err, "%s", config_path);
    goto out;
  }
  sb.id = xstrdup(id);
  sb.cfg = &cli->cfg;
  sb.debug = cli->debug;
  sb.dir = xasprintf("%s/%s", cli->cfg.runtime.state_root, id);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0) {
    vc_error_set(err, errno, "readlink /proc/self/exe");
    goto out;
  }
  self[n] = '\0';
  sb.self_exe = xstrdup(self);
  if (pid_file != NULL) {
    cleanup_free char *pid = xasprintf("%d", getpid());
    if (vc_write_file_atomic(pid_file, pid, strlen(pid), 0644, err) < 0)
      goto out;
  }

  if (vc_sandbox_start(&sb, err) < 0)
    goto out_nodir;
  agent.fd = vc_sandbox_agent_connect(&sb, 5000, err);
  if (agent.fd < 0)
    goto out_destroy;
  params = create_params(id, config_text);
  quoted_id = vc_json_quote(id);
  id_params = xasprintf("{\"id\":%s}", quoted_id);
  yajl_val tree = NULL;
  uint32_t wait_stream;
  int exit_status = 0;
  if (vc_agent_call(&agent, "CreateContainer", params, &tree, NULL, err) < 0)
    goto out_close;
  yajl_tree_free(tree);
  if (vc_agent_call(&agent, "StartContainer", id_params, &tree, NULL, err) < 0)
    goto out_close;
  yajl_tree_free(tree);
  if (vc_agent_send(&agent, "WaitProcess", id_params, &wait_stream, err) < 0)
    goto out_close;
  if (relay(&agent, id, wait_stream, &exit_status, err) == 0)
    status = exit_status;

out_close:
  close(agent.fd);
out_destroy:;
  vc_error *derr = NULL;
  if (vc_sandbox_destroy(&sb, &derr) < 0 && status >= 0) {
    *err = derr; /* the container ran, but cleanup failed: say so */
    derr = NULL;
    status = -1;
  }
  vc_error_free(&derr);
out_nodir:
out:
  oci_spec_free(spec);
  vc_sandbox_free(&sb);
  return status;
}
