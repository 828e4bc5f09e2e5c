#include "lib/relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/host/terminal.h"
#include "lib/base/util.h"

/* Tells the agent the terminal's size, when winsize_fd has one. */
static int send_resize(struct vc_agent_client *agent, const char *id,
                       const char *exec_id, int winsize_fd, vc_error **err) {
  unsigned rows, cols;
  if (!vc_tty_size(winsize_fd, &rows, &cols))
    return 0;
  struct vc_msg_resize_terminal params = {id, exec_id, rows, cols};
  return vc_agent_send(agent, VC_AGENT_RESIZE_TERMINAL, &params, NULL, err);
}

int vc_relay_stdio(struct vc_agent_client *agent, const char *id,
                   const char *exec_id, uint32_t stdio_stream,
                   uint32_t wait_stream, int winsize_fd, int *exit_status,
                   vc_error **err) {
  sigset_t mask;
  sigemptyset(&mask);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
    sigaddset(&mask, forwarded[i]);
  if (winsize_fd >= 0)
    sigaddset(&mask, SIGWINCH);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  if (winsize_fd >= 0 &&
      send_resize(agent, id, exec_id, winsize_fd, err) < 0)
    return -1;
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
                         stdio_stream, buf, eof ? 0 : (size_t)n, err) < 0)
        break;
      if (eof)
        stdin_open = false;
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
        /* spurious wake-up */
      } else if (si.ssi_signo == SIGWINCH) {
        if (send_resize(agent, id, exec_id, winsize_fd, err) < 0)
          break;
      } else {
        struct vc_msg_signal_process params = {.id = id, .exec_id = exec_id,
                                               .signal = si.ssi_signo};
        if (vc_agent_send(agent, VC_AGENT_SIGNAL_PROCESS, &params, NULL, err) < 0)
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
        if (h.type == VC_FRAME_DATA && h.stream == stdio_stream) {
          int fd = (h.flags & VC_DATA_FD_MASK) == 2 ? 2 : 1;
          if (h.length > 0 && vc_write_all(fd, body, h.length) < 0 &&
              errno != EPIPE) {
            /* A closed stdout must not kill the container's run. */
          }
        } else if (h.type == VC_FRAME_RESPONSE && h.stream == wait_stream) {
          struct vc_msg_wait_result wait = {0};
          if (vc_proto_decode_response(VC_AGENT_WAIT_PROCESS, body, &wait, err) == 0) {
            if (wait.exit_status <= 255) {
              *exit_status = (int)wait.exit_status;
              ret = 0;
            } else {
              vc_error_set(err, 0, "agent WaitProcess: bad exit_status %u",
                           wait.exit_status);
            }
          }
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

