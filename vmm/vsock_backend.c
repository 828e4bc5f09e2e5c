#include "vmm/vsock_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "vmm/vhost_user.h"
#include "vmm/vsock_device.h"

/* Queue indices of the vsock device; the event queue (2) stays in QEMU. */
#define RXQ 0
#define TXQ 1

enum { TAG_VU_LISTEN = 1, TAG_VU_CONN, TAG_HY_LISTEN, TAG_DEV, TAG_SIG,
       TAG_KICK };

struct backend {
  int ep;
  struct vc_vu vu;
  struct vc_vsock_dev *dev;
  uint64_t cid;
  int kick_reg[VC_VU_MAX_QUEUES];
  bool debug;
};

static int ep_add(int ep, int fd, uint64_t tag) {
  struct epoll_event e = {.events = EPOLLIN};
  e.data.u64 = tag;
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static void rings_changed(void *opaque) {
  struct backend *b = opaque;
  /* Kick fds get replaced and their numbers reused: drop every old
   * registration before adding the current ones. */
  for (int i = 0; i < VC_VU_MAX_QUEUES; i++) {
    if (b->kick_reg[i] >= 0)
      epoll_ctl(b->ep, EPOLL_CTL_DEL, b->kick_reg[i], NULL);
    b->kick_reg[i] = -1;
  }
  for (int i = 0; i < VC_VU_MAX_QUEUES; i++) {
    int fd = b->vu.vq[i].kick_fd;
    if (fd >= 0 && ep_add(b->ep, fd, TAG_KICK + (uint64_t)i) == 0)
      b->kick_reg[i] = fd;
  }
}

static void device_reset(void *opaque) {
  struct backend *b = opaque;
  if (b->dev != NULL)
    vc_vsock_dev_reset(b->dev);
}

static void get_config(void *opaque, uint32_t offset, uint8_t *buf,
                       uint32_t size) {
  struct backend *b = opaque;
  /* struct virtio_vsock_config { le64 guest_cid; } */
  uint8_t cfg[8];
  for (int i = 0; i < 8; i++)
    cfg[i] = (uint8_t)(b->cid >> (8 * i));
  for (uint32_t i = 0; i < size; i++)
    buf[i] = offset + i < sizeof(cfg) ? cfg[offset + i] : 0;
}

static int listen_unix(const char *path, int backlog, vc_error **err) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sa.sun_path))
    return vc_error_set(err, 0, "socket path `%s` is too long", path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return vc_error_set(err, errno, "socket");
  /* A stale socket file from a previous run would make bind fail. */
  if (unlink(path) < 0 && errno != ENOENT) {
    close(fd);
    return vc_error_set(err, errno, "remove stale `%s`", path);
  }
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    return vc_error_set(err, e, "listen on `%s`", path);
  }
  return fd;
}

/* Returns 1 after a message, 0 when QEMU hung up, <0 on a fatal error. */
static int vu_readable(struct backend *b, int fd, vc_error **err) {
  struct vc_vu_msg msg, reply;
  int fds[VC_VU_MAX_FDS];
  unsigned nfds = 0;
  int r = vc_vu_recv(fd, &msg, fds, &nfds, err);
  if (r <= 0)
    return r;
  if (b->debug)
    fprintf(stderr, "vsock-backend: %s size %u fds %u\n",
            vc_vu_request_name(msg.request), msg.size, nfds);
  bool has_reply;
  if (vc_vu_handle(&b->vu, &msg, fds, nfds, &reply, &has_reply, err) < 0)
    return -1;
  if (has_reply && vc_vu_send(fd, &reply, err) < 0)
    return -1;
  return 1;
}

static void set_blocking_with_timeout(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  /* QEMU sends whole messages; a stuck partial one must not hang us. */
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int serve(struct backend *b, int vu_listen, int hy_listen, int sig_fd,
                 vc_error **err) {
  int vu_conn = -1;
  int rc = 0;
  bool more = false;
  for (;;) {
    long long now = vc_now_ms();
    int timeout = more ? 0 : vc_vsock_dev_timeout(b->dev, now);
    struct epoll_event ev[16];
    int n = epoll_wait(b->ep, ev, 16, timeout);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = vc_error_set(err, errno, "vsock-backend: epoll_wait");
      break;
    }
    bool done = false;
    for (int i = 0; i < n && !done; i++) {
      uint64_t tag = ev[i].data.u64;
      if (tag == TAG_VU_LISTEN) {
        int fd = accept4(vu_listen, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
          continue;
        if (vu_conn >= 0) {
          close(fd); /* one front-end per back-end */
          continue;
        }
        set_blocking_with_timeout(fd);
        if (ep_add(b->ep, fd, TAG_VU_CONN) < 0) {
          close(fd);
          continue;
        }
        vu_conn = fd;
      } else if (tag == TAG_VU_CONN) {
        int r = vu_readable(b, vu_conn, err);
        if (r <= 0) {
          rc = r < 0 ? -1 : 0;
          done = true;
        }
      } else if (tag == TAG_HY_LISTEN) {
        for (int k = 0; k < 64; k++) {
          int fd = accept4(hy_listen, NULL, NULL, SOCK_CLOEXEC);
          if (fd < 0)
            break;
          vc_vsock_dev_add_client(b->dev, fd, vc_now_ms());
        }
      } else if (tag == TAG_SIG) {
        struct signalfd_siginfo si;
        if (read(sig_fd, &si, sizeof(si)) > 0)
          done = true; /* asked to stop: clean up like a VM exit */
      } else if (tag >= TAG_KICK && tag < TAG_KICK + VC_VU_MAX_QUEUES) {
        uint64_t v;
        while (read(b->kick_reg[tag - TAG_KICK], &v, sizeof(v)) > 0) {
        }
      }
    }
    if (done)
      break;
    more = vc_vsock_dev_process(b->dev, vc_now_ms()) > 0;
    const char *gerr = vc_vsock_dev_last_error(b->dev);
    if (gerr != NULL)
      fprintf(stderr, "vsock-backend: %s\n", gerr);
  }
  if (vu_conn >= 0)
    close(vu_conn);
  return rc;
}

int vc_vsock_backend_run(const struct vc_vsock_backend_opts *opts,
                         vc_error **err) {
  struct backend b;
  memset(&b, 0, sizeof(b));
  b.cid = opts->guest_cid;
  b.debug = getenv("VC_VSOCK_DEBUG") != NULL;
  for (int i = 0; i < VC_VU_MAX_QUEUES; i++)
    b.kick_reg[i] = -1;
  struct vc_vu_ops ops = {
      .get_config = get_config,
      .rings_changed = rings_changed,
      .device_reset = device_reset,
      .opaque = &b,
  };
  vc_vu_init(&b.vu, &ops, 2, 0);

  /* SIGTERM/SIGINT end the loop cleanly, so the sockets get removed. */
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, &old);
  struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
  sigaction(SIGPIPE, &ign, &old_pipe);

  int rc = -1;
  bool vu_bound = false, hy_bound = false;
  cleanup_close int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  cleanup_close int vu_listen = -1, hy_listen = -1;
  b.ep = epoll_create1(EPOLL_CLOEXEC);
  if (b.ep < 0 || sig_fd < 0) {
    vc_error_set(err, errno, "vsock-backend: epoll/signalfd");
    goto out;
  }
  struct vc_vsock_dev_config cfg = {
      .guest_cid = opts->guest_cid,
      .hybrid_socket = opts->hybrid_socket,
  };
  if (vc_vsock_dev_new(&cfg, &b.vu.vq[RXQ], &b.vu.vq[TXQ], &b.vu.mem, &b.dev,
                       err) < 0)
    goto out;
  vu_listen = listen_unix(opts->vhost_user_socket, 1, err);
  if (vu_listen < 0)
    goto out;
  vu_bound = true;
  hy_listen = listen_unix(opts->hybrid_socket, 128, err);
  if (hy_listen < 0)
    goto out;
  hy_bound = true;
  if (ep_add(b.ep, vu_listen, TAG_VU_LISTEN) < 0 ||
      ep_add(b.ep, hy_listen, TAG_HY_LISTEN) < 0 ||
      ep_add(b.ep, vc_vsock_dev_fd(b.dev), TAG_DEV) < 0 ||
      ep_add(b.ep, sig_fd, TAG_SIG) < 0) {
    vc_error_set(err, errno, "vsock-backend: epoll_ctl");
    goto out;
  }
  if (opts->ready_fd >= 0) {
    char one = 1;
    ssize_t w;
    do
      w = write(opts->ready_fd, &one, 1);
    while (w < 0 && errno == EINTR);
    close(opts->ready_fd);
  }
  rc = serve(&b, vu_listen, hy_listen, sig_fd, err);

out:
  if (rc < 0 && err != NULL && *err != NULL)
    vc_error_wrap(err, "vsock back-end for `%s`", opts->vhost_user_socket);
  vc_vsock_dev_free(b.dev);
  vc_vu_cleanup(&b.vu);
  if (b.ep >= 0)
    close(b.ep);
  if (vu_bound)
    unlink(opts->vhost_user_socket);
  if (hy_bound)
    unlink(opts->hybrid_socket);
  sigaction(SIGPIPE, &old_pipe, NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return rc;
}
