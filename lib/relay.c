#include "lib/relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/host/terminal.h"
#include "lib/base/util.h"

/* The most stdin read, and agent data taken, per wake-up: a big read costs
 * no more syscalls than a small one, and frames hold up to VC_FRAME_MAX. */
#define RELAY_READ (256u << 10)

/* Queues a request (the relay writes only through its queue, so a request
 * never lands inside a stdin frame that is partly sent). */
static int queue_request(struct vc_frame_queue *out,
                         struct vc_agent_client *agent, enum vc_agent_method m,
                         const void *params, vc_error **err) {
  if (agent->next_stream == 0 || agent->next_stream % 2 == 0)
    agent->next_stream = 1;
  uint32_t stream = agent->next_stream;
  agent->next_stream += 2;
  cleanup_free char *body = vc_proto_encode_request(m, params);
  return vc_frame_queue_send(out, agent->fd, VC_FRAME_REQUEST, 0, stream,
                             body, strlen(body), err);
}

/* Tells the agent the terminal's size, when winsize_fd has one. */
static int send_resize(struct vc_frame_queue *out,
                       struct vc_agent_client *agent, const char *id,
                       const char *exec_id, int winsize_fd, vc_error **err) {
  unsigned rows, cols;
  if (!vc_tty_size(winsize_fd, &rows, &cols))
    return 0;
  struct vc_msg_resize_terminal params = {id, exec_id, rows, cols};
  return queue_request(out, agent, VC_AGENT_RESIZE_TERMINAL, &params, err);
}

/* Handles every complete frame in dec: DATA to stdout/stderr, straight
 * from the decoder's buffer.  1 when the WaitProcess answer came (ret and
 * *exit_status set), 0 for more, -1 on a malformed stream. */
static int take_frames(struct vc_frame_decoder *dec, uint32_t stdio_stream,
                       uint32_t wait_stream, int *exit_status, int *ret,
                       vc_error **err) {
  for (;;) {
    struct vc_frame_header h;
    const char *body;
    int r = vc_frame_decoder_view(dec, &h, &body, err);
    if (r <= 0)
      return r;
    if (h.type == VC_FRAME_DATA && h.stream == stdio_stream) {
      int fd = (h.flags & VC_DATA_FD_MASK) == 2 ? 2 : 1;
      if (h.length > 0 && vc_write_all(fd, body, h.length) < 0) {
        /* A closed stdout must not kill the container's run. */
      }
    } else if (h.type == VC_FRAME_RESPONSE && h.stream == wait_stream) {
      /* The decoder wants NUL-terminated JSON. */
      cleanup_free char *json = xcalloc(1, (size_t)h.length + 1);
      memcpy(json, body, h.length);
      struct vc_msg_wait_result wait = {0};
      if (vc_proto_decode_response(VC_AGENT_WAIT_PROCESS, json, &wait, err) == 0) {
        if (wait.exit_status <= 255) {
          *exit_status = (int)wait.exit_status;
          *ret = 0;
        } else {
          vc_error_set(err, 0, "agent WaitProcess: bad exit_status %u",
                       wait.exit_status);
        }
      }
      return 1;
    }
    /* Other RESPONSEs answer a SignalProcess or ResizeTerminal: a failure
     * only means the process is already gone. */
  }
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
  struct vc_frame_queue out = {0};
  struct vc_frame_decoder dec = {0};
  cleanup_free char *in_buf = NULL;
  cleanup_close int sfd = -1;
  int ret = -1;
  if (winsize_fd >= 0 &&
      send_resize(&out, agent, id, exec_id, winsize_fd, err) < 0)
    goto done;
  sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) {
    vc_error_set(err, errno, "signalfd");
    goto done;
  }
  in_buf = xcalloc(1, RELAY_READ);
  bool stdin_open = true;
  for (;;) {
    /* stdin is read only once the agent took the previous read: the
     * agent stops taking it while the process does not read, and that
     * holds the writer of our stdin back as a pipe would.  Output keeps
     * flowing meanwhile. */
    struct pollfd p[3] = {{agent->fd, POLLIN | (out.len > 0 ? POLLOUT : 0), 0},
                          {sfd, POLLIN, 0},
                          {stdin_open && out.len == 0 ? 0 : -1, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      vc_error_set(err, errno, "poll");
      break;
    }
    if ((p[0].revents & POLLOUT) && vc_frame_queue_flush(&out, agent->fd, err) < 0)
      break;
    if (p[2].revents) {
      ssize_t n = read(0, in_buf, RELAY_READ);
      if (n < 0 && errno == EINTR)
        continue;
      bool eof = n <= 0;
      if (vc_frame_queue_send(&out, agent->fd, VC_FRAME_DATA,
                              eof ? VC_DATA_EOF : 0, stdio_stream, in_buf,
                              eof ? 0 : (size_t)n, err) < 0)
        break;
      if (eof)
        stdin_open = false;
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
        /* spurious wake-up */
      } else if (si.ssi_signo == SIGWINCH) {
        if (send_resize(&out, agent, id, exec_id, winsize_fd, err) < 0)
          break;
      } else {
        struct vc_msg_signal_process params = {.id = id, .exec_id = exec_id,
                                               .signal = si.ssi_signo};
        if (queue_request(&out, agent, VC_AGENT_SIGNAL_PROCESS, &params, err) < 0)
          break;
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      uint8_t *room = vc_frame_decoder_space(&dec, RELAY_READ, err);
      if (room == NULL)
        break;
      ssize_t n = recv(agent->fd, room, RELAY_READ, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0) {
        vc_error_set(err, n < 0 ? errno : 0,
                     "connection to the guest agent lost");
        break;
      }
      if (vc_frame_decoder_commit(&dec, (size_t)n, err) < 0)
        break;
      int r = take_frames(&dec, stdio_stream, wait_stream, exit_status, &ret,
                          err);
      if (r != 0)
        break;
    }
  }
done:
  vc_frame_decoder_free(&dec);
  vc_frame_queue_free(&out);
  sigprocmask(SIG_UNBLOCK, &mask, NULL);
  return ret;
}
