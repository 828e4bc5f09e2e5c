#include "vmm/vsock_device.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "vmm/hybrid_vsock.h"

#define HDR_SIZE ((uint32_t)sizeof(struct vc_vsock_hdr))
/* Largest payload we read from a host socket for one packet. */
#define MAX_PKT_PAYLOAD (64 * 1024)
#define LINE_MAX_LEN VC_HYBRID_LINE_MAX
#define LOCAL_PORT_BASE (1u << 30)
/* tx processing stops while the control queue has less room than this, so
 * replies to guest packets are never dropped. */
#define CTRL_RESERVE 4
#define MAX_ROUNDS 8
#define RX_BURST 32

enum conn_state {
  C_FREE,
  C_HOST_LINE,   /* hybrid client accepted, waiting for "CONNECT <port>" */
  C_CONNECTING,  /* our REQUEST is out, waiting for RESPONSE */
  C_ESTABLISHED,
};

struct conn {
  enum conn_state state;
  uint32_t gen;
  int fd;
  uint32_t slot;
  uint32_t host_port, guest_port;
  struct conn *hnext;                /* hash chain */
  struct conn *rnext, *rprev;        /* read-ready list */
  bool in_ready;
  unsigned burst;                    /* packets sent in this turn */
  bool registered;
  uint32_t events;
  long long deadline;                /* 0 = none */
  bool guest_knows;                  /* the guest has heard of it */
  /* guest -> host */
  uint8_t *buf;                      /* ring of cfg.buf_alloc bytes */
  uint32_t buf_head, buf_len;
  uint32_t rx_cnt, fwd_cnt, fwd_cnt_sent;
  bool credit_update_queued;
  /* host -> guest */
  uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
  bool host_eof;                     /* we sent SHUTDOWN(SEND) */
  bool host_wr_shut;                 /* we shut the host socket for writing */
  bool guest_shut_send, guest_shut_rcv;
  char line[LINE_MAX_LEN];
  uint32_t line_len;
};

struct ctrl {
  uint32_t host_port, guest_port;
  uint16_t op;
  uint32_t flags;
  uint32_t slot, gen; /* the connection it belongs to; slot UINT32_MAX: none */
};

struct vc_vsock_dev {
  struct vc_vsock_dev_config cfg;
  struct vc_vq *rxq, *txq;
  const struct vc_gmem *mem;
  int ep;
  struct conn *conns;
  uint32_t *free_slots;
  unsigned nfree;
  struct conn **hash;
  uint32_t hash_mask;
  struct conn *ready_head, *ready_tail;
  struct ctrl *ctrl;
  unsigned ctrl_cap, ctrl_head, ctrl_len;
  uint32_t next_local_port;
  long long next_deadline;
  struct vc_vsock_stats st;
  char last_error[256];
  bool have_error;
};

/* ---- helpers ---- */

static uint32_t hash_key(uint32_t host_port, uint32_t guest_port) {
  uint64_t k = ((uint64_t)host_port << 32) | guest_port;
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return (uint32_t)k;
}

static struct conn *lookup(struct vc_vsock_dev *d, uint32_t host_port,
                           uint32_t guest_port) {
  struct conn *c = d->hash[hash_key(host_port, guest_port) & d->hash_mask];
  for (; c != NULL; c = c->hnext)
    if (c->host_port == host_port && c->guest_port == guest_port)
      return c;
  return NULL;
}

static void hash_insert(struct vc_vsock_dev *d, struct conn *c) {
  struct conn **b = &d->hash[hash_key(c->host_port, c->guest_port) & d->hash_mask];
  c->hnext = *b;
  *b = c;
}

static void hash_remove(struct vc_vsock_dev *d, struct conn *c) {
  struct conn **p = &d->hash[hash_key(c->host_port, c->guest_port) & d->hash_mask];
  for (; *p != NULL; p = &(*p)->hnext)
    if (*p == c) {
      *p = c->hnext;
      break;
    }
  c->hnext = NULL;
}

static void ready_add(struct vc_vsock_dev *d, struct conn *c) {
  if (c->in_ready)
    return;
  c->in_ready = true;
  c->rnext = NULL;
  c->rprev = d->ready_tail;
  if (d->ready_tail != NULL)
    d->ready_tail->rnext = c;
  else
    d->ready_head = c;
  d->ready_tail = c;
}

static void ready_remove(struct vc_vsock_dev *d, struct conn *c) {
  if (!c->in_ready)
    return;
  c->in_ready = false;
  if (c->rprev != NULL)
    c->rprev->rnext = c->rnext;
  else
    d->ready_head = c->rnext;
  if (c->rnext != NULL)
    c->rnext->rprev = c->rprev;
  else
    d->ready_tail = c->rprev;
  c->rnext = c->rprev = NULL;
}

static uint32_t peer_credit(const struct conn *c) {
  uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
  if (in_flight >= c->peer_buf_alloc)
    return 0;
  return c->peer_buf_alloc - in_flight;
}

static void note_error(struct vc_vsock_dev *d, vc_error **e) {
  if (*e != NULL) {
    snprintf(d->last_error, sizeof(d->last_error), "%s", (*e)->msg);
    d->have_error = true;
  }
  vc_error_free(e);
}

static void set_deadline(struct vc_vsock_dev *d, struct conn *c, long long t) {
  c->deadline = t;
  if (t != 0 && (d->next_deadline == 0 || t < d->next_deadline))
    d->next_deadline = t;
}

/* Keeps the epoll registration in line with what the connection can use
 * now.  A connection that wants nothing is removed: a hung-up socket
 * reports EPOLLHUP whatever the mask, and would spin the loop. */
static void update_events(struct vc_vsock_dev *d, struct conn *c) {
  uint32_t ev = 0;
  switch (c->state) {
  case C_HOST_LINE:
    ev = EPOLLIN;
    break;
  case C_ESTABLISHED:
    if (!c->in_ready && !c->host_eof && !c->guest_shut_rcv &&
        peer_credit(c) > 0)
      ev |= EPOLLIN;
    if (c->buf_len > 0)
      ev |= EPOLLOUT;
    break;
  default:
    break;
  }
  if (ev == 0) {
    if (c->registered)
      epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->registered = false;
    c->events = 0;
    return;
  }
  if (c->registered && ev == c->events)
    return;
  struct epoll_event e = {.events = ev};
  e.data.u64 = ((uint64_t)c->gen << 32) | c->slot;
  if (epoll_ctl(d->ep, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd,
                &e) == 0) {
    c->registered = true;
    c->events = ev;
  }
}

/* ---- packets to the guest ---- */

static bool ctrl_full(const struct vc_vsock_dev *d, unsigned reserve) {
  return d->ctrl_len + reserve >= d->ctrl_cap;
}

static void queue_ctrl(struct vc_vsock_dev *d, struct conn *c,
                       uint32_t host_port, uint32_t guest_port, uint16_t op,
                       uint32_t flags) {
  if (d->ctrl_len >= d->ctrl_cap) {
    /* Only reachable by floods from the host side; the guest times out. */
    d->st.dropped++;
    return;
  }
  struct ctrl *q = &d->ctrl[(d->ctrl_head + d->ctrl_len) % d->ctrl_cap];
  q->host_port = host_port;
  q->guest_port = guest_port;
  q->op = op;
  q->flags = flags;
  q->slot = c != NULL ? c->slot : UINT32_MAX;
  q->gen = c != NULL ? c->gen : 0;
  d->ctrl_len++;
  if (op == VC_VSOCK_OP_RST)
    d->st.rst_sent++;
}

static void queue_rst(struct vc_vsock_dev *d, uint32_t host_port,
                      uint32_t guest_port) {
  queue_ctrl(d, NULL, host_port, guest_port, VC_VSOCK_OP_RST, 0);
}

static void queue_credit_update(struct vc_vsock_dev *d, struct conn *c) {
  if (c->credit_update_queued)
    return;
  c->credit_update_queued = true;
  queue_ctrl(d, c, c->host_port, c->guest_port, VC_VSOCK_OP_CREDIT_UPDATE, 0);
}

/* Tells the guest about freed buffer space once it is worth a packet.  The
 * guest uses whatever credit it sees, so holding back up to a quarter of
 * the buffer cannot stall it. */
static void maybe_credit_update(struct vc_vsock_dev *d, struct conn *c) {
  if (c->state == C_ESTABLISHED &&
      c->fwd_cnt - c->fwd_cnt_sent >= d->cfg.buf_alloc / 4)
    queue_credit_update(d, c);
}

static void fill_hdr(struct vc_vsock_dev *d, struct vc_vsock_hdr *h,
                     uint32_t host_port, uint32_t guest_port, uint16_t op,
                     uint32_t flags, uint32_t len, struct conn *c) {
  memset(h, 0, sizeof(*h));
  h->src_cid = VC_VSOCK_HOST_CID;
  h->dst_cid = d->cfg.guest_cid;
  h->src_port = host_port;
  h->dst_port = guest_port;
  h->len = len;
  h->type = VC_VSOCK_TYPE_STREAM;
  h->op = op;
  h->flags = flags;
  if (c != NULL) {
    h->buf_alloc = d->cfg.buf_alloc;
    h->fwd_cnt = c->fwd_cnt;
    c->fwd_cnt_sent = c->fwd_cnt;
  }
}

static struct conn *conn_of(struct vc_vsock_dev *d, uint32_t slot,
                            uint32_t gen) {
  if (slot >= d->cfg.max_conns)
    return NULL;
  struct conn *c = &d->conns[slot];
  if (c->state == C_FREE || c->gen != gen)
    return NULL;
  return c;
}

/* Takes an rx buffer that can hold at least a header.  Returns 1, 0 when
 * none is available, -1 when the guest broke the ring. */
static int rx_pop(struct vc_vsock_dev *d, struct vc_vq_elem *e) {
  vc_error *err = NULL;
  int r = vc_vq_pop(d->rxq, d->mem, e, &err);
  if (r < 0) {
    note_error(d, &err);
    return -1;
  }
  if (r == 0)
    return 0;
  if (e->nout != 0 || e->in_len <= HDR_SIZE) {
    /* Not a usable receive buffer: give it back empty and stop using the
     * ring, as the driver is broken. */
    vc_vq_push(d->rxq, e->head, 0);
    d->rxq->broken = true;
    snprintf(d->last_error, sizeof(d->last_error),
             "vsock: guest error: rx buffer with %u readable descriptors and "
             "%zu writable bytes", e->nout, e->in_len);
    d->have_error = true;
    return -1;
  }
  return 1;
}

static bool send_ctrl(struct vc_vsock_dev *d) {
  bool progress = false;
  while (d->ctrl_len > 0) {
    struct ctrl *q = &d->ctrl[d->ctrl_head];
    struct conn *c = NULL;
    if (q->slot != UINT32_MAX) {
      c = conn_of(d, q->slot, q->gen);
      if (c == NULL) {
        /* Its connection is gone (and reset): nothing left to say. */
        d->ctrl_head = (d->ctrl_head + 1) % d->ctrl_cap;
        d->ctrl_len--;
        continue;
      }
    }
    struct vc_vq_elem e;
    if (rx_pop(d, &e) <= 0)
      break;
    struct vc_vsock_hdr h;
    fill_hdr(d, &h, q->host_port, q->guest_port, q->op, q->flags, 0, c);
    if (c != NULL) {
      c->guest_knows = true;
      if (q->op == VC_VSOCK_OP_CREDIT_UPDATE)
        c->credit_update_queued = false;
    }
    vc_buf_to_iov(e.iov, e.nin, 0, &h, sizeof(h));
    vc_vq_push(d->rxq, e.head, HDR_SIZE);
    d->st.rx_packets++;
    d->ctrl_head = (d->ctrl_head + 1) % d->ctrl_cap;
    d->ctrl_len--;
    progress = true;
  }
  return progress;
}

/* ---- connection lifetime ---- */

static struct conn *conn_alloc(struct vc_vsock_dev *d, int fd) {
  if (d->nfree == 0)
    return NULL;
  struct conn *c = &d->conns[d->free_slots[--d->nfree]];
  uint32_t gen = c->gen, slot = c->slot;
  memset(c, 0, sizeof(*c));
  c->gen = gen;
  c->slot = slot;
  c->fd = fd;
  return c;
}

/* Frees a connection; with `rst` the guest is told (if it knows of it). */
static void conn_free(struct vc_vsock_dev *d, struct conn *c, bool rst) {
  if (c->state == C_FREE)
    return;
  if (rst && c->guest_knows)
    queue_rst(d, c->host_port, c->guest_port);
  if (c->state != C_HOST_LINE)
    hash_remove(d, c);
  ready_remove(d, c);
  if (c->registered)
    epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
  if (c->fd >= 0)
    close(c->fd);
  free(c->buf);
  c->buf = NULL;
  c->fd = -1;
  c->state = C_FREE;
  c->gen++;
  d->free_slots[d->nfree++] = c->slot;
  d->st.conns--;
}

/* Both directions are finished: say RST so the guest frees its socket now
 * rather than after its close timeout. */
static void maybe_finish(struct vc_vsock_dev *d, struct conn *c) {
  if (c->state != C_ESTABLISHED || c->buf_len > 0)
    return;
  if (c->guest_shut_send && (c->host_eof || c->guest_shut_rcv))
    conn_free(d, c, true);
}

/* ---- host sockets ---- */

/* Writes buffered guest data to the host socket.  Returns <0 when the host
 * side is gone (the connection is then freed). */
static int flush_to_host(struct vc_vsock_dev *d, struct conn *c) {
  while (c->buf_len > 0) {
    uint32_t cap = d->cfg.buf_alloc;
    uint32_t first = cap - c->buf_head;
    if (first > c->buf_len)
      first = c->buf_len;
    struct iovec iov[2] = {{c->buf + c->buf_head, first},
                           {c->buf, c->buf_len - first}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = iov[1].iov_len ? 2 : 1};
    ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (w < 0) {
      conn_free(d, c, true);
      return -1;
    }
    c->buf_head = (c->buf_head + (uint32_t)w) % cap;
    c->buf_len -= (uint32_t)w;
    c->fwd_cnt += (uint32_t)w;
  }
  if (c->buf_len == 0) {
    c->buf_head = 0;
    if (c->guest_shut_send && !c->host_wr_shut) {
      shutdown(c->fd, SHUT_WR);
      c->host_wr_shut = true;
    }
  }
  maybe_credit_update(d, c);
  update_events(d, c);
  maybe_finish(d, c);
  return 0;
}

static uint32_t alloc_local_port(struct vc_vsock_dev *d, uint32_t guest_port) {
  for (;;) {
    uint32_t p = d->next_local_port++;
    if (d->next_local_port == 0)
      d->next_local_port = LOCAL_PORT_BASE;
    if (lookup(d, p, guest_port) == NULL)
      return p;
  }
}

/* Reads the hybrid client's "CONNECT <port>\n", never past the newline:
 * what follows belongs to the stream. */
static void host_line_readable(struct vc_vsock_dev *d, struct conn *c,
                               long long now) {
  char peek[LINE_MAX_LEN];
  ssize_t n = recv(c->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    conn_free(d, c, false);
    return;
  }
  char *nl = memchr(peek, '\n', (size_t)n);
  size_t take = nl != NULL ? (size_t)(nl - peek) + 1 : (size_t)n;
  if (c->line_len + take > LINE_MAX_LEN) {
    conn_free(d, c, false);
    return;
  }
  ssize_t r = recv(c->fd, c->line + c->line_len, take, MSG_DONTWAIT);
  if (r != (ssize_t)take) {
    conn_free(d, c, false);
    return;
  }
  c->line_len += (uint32_t)take;
  if (nl == NULL)
    return;
  uint32_t port;
  if (!vc_hybrid_parse_connect(c->line, c->line_len, &port)) {
    conn_free(d, c, false);
    return;
  }
  c->guest_port = port;
  c->host_port = alloc_local_port(d, port);
  c->state = C_CONNECTING;
  hash_insert(d, c);
  set_deadline(d, c, now + d->cfg.connect_timeout_ms);
  update_events(d, c);
  queue_ctrl(d, c, c->host_port, c->guest_port, VC_VSOCK_OP_REQUEST, 0);
}

static void host_event(struct vc_vsock_dev *d, struct conn *c, uint32_t ev,
                       long long now) {
  switch (c->state) {
  case C_HOST_LINE:
    host_line_readable(d, c, now);
    return;
  case C_ESTABLISHED:
    if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && c->buf_len > 0)
      if (flush_to_host(d, c) < 0)
        return;
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->host_eof &&
        !c->guest_shut_rcv) {
      ready_add(d, c);
      update_events(d, c);
    }
    return;
  default:
    /* Nothing registered in other states. */
    update_events(d, c);
    return;
  }
}

static int default_connect_host(struct vc_vsock_dev *d, uint32_t port) {
  if (d->cfg.hybrid_socket == NULL)
    return -ECONNREFUSED;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%" PRIu32,
                   d->cfg.hybrid_socket, port);
  if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
    return -ENAMETOOLONG;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  /* A unix connect completes at once or fails (EAGAIN: backlog full). */
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/* ---- packets from the guest ---- */

static void guest_request(struct vc_vsock_dev *d,
                          const struct vc_vsock_hdr *h) {
  int fd = d->cfg.connect_host != NULL
               ? d->cfg.connect_host(d->cfg.opaque, h->dst_port)
               : default_connect_host(d, h->dst_port);
  if (fd < 0) {
    queue_rst(d, h->dst_port, h->src_port);
    return;
  }
  struct conn *c = conn_alloc(d, fd);
  if (c == NULL) {
    close(fd);
    queue_rst(d, h->dst_port, h->src_port);
    return;
  }
  d->st.conns++;
  c->state = C_ESTABLISHED;
  c->host_port = h->dst_port;
  c->guest_port = h->src_port;
  c->guest_knows = true;
  c->peer_buf_alloc = h->buf_alloc;
  c->peer_fwd_cnt = h->fwd_cnt;
  hash_insert(d, c);
  queue_ctrl(d, c, c->host_port, c->guest_port, VC_VSOCK_OP_RESPONSE, 0);
  update_events(d, c);
}

static void guest_rw(struct vc_vsock_dev *d, struct conn *c,
                     const struct vc_vsock_hdr *h, const struct vc_vq_elem *e) {
  uint32_t len = h->len;
  if (len == 0)
    return;
  /* The header must not claim more than the buffer carries, and the guest
   * must stay within the credit we gave it. */
  if ((uint64_t)len > e->out_len - HDR_SIZE || c->guest_shut_send ||
      len > d->cfg.buf_alloc - c->buf_len) {
    d->st.dropped++;
    conn_free(d, c, true);
    return;
  }
  c->rx_cnt += len;
  struct iovec iov[VC_VQ_MAX_SEGS];
  unsigned n = vc_iov_slice(e->iov, e->nout, HDR_SIZE, len, iov, VC_VQ_MAX_SEGS);
  uint32_t done = 0;
  if (c->buf_len == 0) {
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n};
    ssize_t w;
    do
      w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (w < 0 && errno == EINTR);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      conn_free(d, c, true);
      return;
    }
    if (w > 0) {
      done = (uint32_t)w;
      c->fwd_cnt += done;
    }
  }
  if (done < len) {
    uint32_t cap = d->cfg.buf_alloc;
    if (c->buf == NULL)
      c->buf = xcalloc(cap, 1);
    uint32_t rest = len - done;
    uint32_t tail = (c->buf_head + c->buf_len) % cap;
    uint32_t first = cap - tail < rest ? cap - tail : rest;
    vc_iov_to_buf(iov, n, done, c->buf + tail, first);
    vc_iov_to_buf(iov, n, done + first, c->buf, rest - first);
    c->buf_len += rest;
  }
  maybe_credit_update(d, c);
  update_events(d, c);
}

static void guest_packet(struct vc_vsock_dev *d, const struct vc_vsock_hdr *h,
                         const struct vc_vq_elem *e, long long now) {
  if (h->src_cid != d->cfg.guest_cid) {
    /* Spoofed source: not worth an answer. */
    d->st.dropped++;
    return;
  }
  bool is_rst = h->op == VC_VSOCK_OP_RST;
  if (h->dst_cid != VC_VSOCK_HOST_CID || h->type != VC_VSOCK_TYPE_STREAM) {
    if (!is_rst)
      queue_rst(d, h->dst_port, h->src_port);
    return;
  }
  struct conn *c = lookup(d, h->dst_port, h->src_port);
  if (c == NULL) {
    if (h->op == VC_VSOCK_OP_REQUEST)
      guest_request(d, h);
    else if (!is_rst)
      queue_rst(d, h->dst_port, h->src_port);
    return;
  }
  c->peer_buf_alloc = h->buf_alloc;
  c->peer_fwd_cnt = h->fwd_cnt;
  c->guest_knows = true;

  if (c->state == C_CONNECTING) {
    if (h->op == VC_VSOCK_OP_RESPONSE) {
      char ok[32];
      int n = snprintf(ok, sizeof(ok), "OK %" PRIu32 "\n", c->host_port);
      ssize_t w = send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w != n) {
        conn_free(d, c, true);
        return;
      }
      c->state = C_ESTABLISHED;
      set_deadline(d, c, 0);
      update_events(d, c);
    } else {
      conn_free(d, c, !is_rst);
    }
    return;
  }

  switch (h->op) {
  case VC_VSOCK_OP_RW:
    guest_rw(d, c, h, e);
    break;
  case VC_VSOCK_OP_CREDIT_UPDATE:
    break;
  case VC_VSOCK_OP_CREDIT_REQUEST:
    queue_credit_update(d, c);
    break;
  case VC_VSOCK_OP_SHUTDOWN:
    if (h->flags & VC_VSOCK_SHUTDOWN_RCV) {
      c->guest_shut_rcv = true;
      ready_remove(d, c);
    }
    if (h->flags & VC_VSOCK_SHUTDOWN_SEND) {
      c->guest_shut_send = true;
      if (c->buf_len == 0 && !c->host_wr_shut) {
        shutdown(c->fd, SHUT_WR);
        c->host_wr_shut = true;
      }
    }
    if (c->guest_shut_rcv && c->guest_shut_send && c->buf_len > 0)
      set_deadline(d, c, now + d->cfg.close_timeout_ms);
    update_events(d, c);
    maybe_finish(d, c);
    return;
  case VC_VSOCK_OP_RST:
    conn_free(d, c, false);
    return;
  default: /* REQUEST or RESPONSE on a live connection, unknown ops */
    d->st.dropped++;
    conn_free(d, c, true);
    return;
  }
  if (c->state == C_ESTABLISHED)
    update_events(d, c); /* new credit may let us read again */
}

static bool process_tx(struct vc_vsock_dev *d, long long now) {
  bool progress = false;
  while (!ctrl_full(d, CTRL_RESERVE)) {
    struct vc_vq_elem e;
    vc_error *err = NULL;
    int r = vc_vq_pop(d->txq, d->mem, &e, &err);
    if (r < 0)
      note_error(d, &err);
    if (r <= 0)
      break;
    progress = true;
    d->st.tx_packets++;
    struct vc_vsock_hdr h;
    if (e.out_len < HDR_SIZE) {
      d->st.dropped++;
    } else {
      vc_iov_to_buf(e.iov, e.nout, 0, &h, sizeof(h));
      guest_packet(d, &h, &e, now);
    }
    vc_vq_push(d->txq, e.head, 0);
  }
  return progress;
}

/* Moves host data into guest rx buffers, one packet per connection per
 * round so that no stream starves the others. */
static bool process_rx_data(struct vc_vsock_dev *d) {
  bool progress = false;
  struct conn *c = d->ready_head;
  struct conn *end = d->ready_tail;
  while (c != NULL && d->ctrl_len == 0) {
    struct conn *next = c->rnext;
    bool last = c == end;
    uint32_t credit = peer_credit(c);
    if (c->state != C_ESTABLISHED || c->host_eof || c->guest_shut_rcv ||
        credit == 0) {
      ready_remove(d, c);
      update_events(d, c);
    } else {
      struct vc_vq_elem e;
      if (rx_pop(d, &e) <= 0)
        break;
      size_t room = e.in_len - HDR_SIZE;
      if (room > credit)
        room = credit;
      if (room > MAX_PKT_PAYLOAD)
        room = MAX_PKT_PAYLOAD;
      /* rx_pop guarantees room > 0. */
      struct iovec iov[VC_VQ_MAX_SEGS];
      unsigned n = vc_iov_slice(e.iov, e.nin, HDR_SIZE, room, iov,
                                VC_VQ_MAX_SEGS);
      ssize_t r;
      do
        r = readv(c->fd, iov, (int)n);
      while (r < 0 && errno == EINTR);
      if (r > 0) {
        struct vc_vsock_hdr h;
        fill_hdr(d, &h, c->host_port, c->guest_port, VC_VSOCK_OP_RW, 0,
                 (uint32_t)r, c);
        vc_buf_to_iov(e.iov, e.nin, 0, &h, sizeof(h));
        vc_vq_push(d->rxq, e.head, HDR_SIZE + (uint32_t)r);
        d->st.rx_packets++;
        c->tx_cnt += (uint32_t)r;
        progress = true;
        /* A few full packets in a row before the next connection: the
         * guest reader then wakes up once per burst, not per packet. */
        if ((size_t)r == room && ++c->burst < RX_BURST)
          continue;
        c->burst = 0;
        /* Move it to the back: round robin. */
        if (c != d->ready_tail) {
          ready_remove(d, c);
          ready_add(d, c);
        }
      } else {
        vc_vq_unpop(d->rxq);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          ready_remove(d, c);
          update_events(d, c);
        } else if (r == 0) {
          /* The host client finished sending. */
          c->host_eof = true;
          ready_remove(d, c);
          queue_ctrl(d, c, c->host_port, c->guest_port, VC_VSOCK_OP_SHUTDOWN,
                     VC_VSOCK_SHUTDOWN_SEND);
          update_events(d, c);
          maybe_finish(d, c);
          progress = true;
        } else {
          conn_free(d, c, true);
          progress = true;
        }
      }
    }
    if (last)
      break;
    c = next;
  }
  return progress;
}

static void expire(struct vc_vsock_dev *d, long long now) {
  if (d->next_deadline == 0 || now < d->next_deadline)
    return;
  d->next_deadline = 0;
  for (unsigned i = 0; i < d->cfg.max_conns; i++) {
    struct conn *c = &d->conns[i];
    if (c->state == C_FREE || c->deadline == 0)
      continue;
    if (c->deadline <= now)
      conn_free(d, c, true);
    else if (d->next_deadline == 0 || c->deadline < d->next_deadline)
      d->next_deadline = c->deadline;
  }
}

/* ---- public ---- */

int vc_vsock_dev_new(const struct vc_vsock_dev_config *cfg, struct vc_vq *rxq,
                     struct vc_vq *txq, const struct vc_gmem *mem,
                     struct vc_vsock_dev **out, vc_error **err) {
  if (cfg->guest_cid < 3 || cfg->guest_cid > 0xffffffffULL)
    return vc_error_set(err, 0, "vsock: bad guest CID %" PRIu64, cfg->guest_cid);
  struct vc_vsock_dev *d = xcalloc(1, sizeof(*d));
  d->cfg = *cfg;
  if (d->cfg.buf_alloc == 0)
    d->cfg.buf_alloc = 256 * 1024;
  if (d->cfg.max_conns == 0)
    d->cfg.max_conns = 512;
  if (d->cfg.connect_timeout_ms <= 0)
    d->cfg.connect_timeout_ms = 5000;
  if (d->cfg.handshake_timeout_ms <= 0)
    d->cfg.handshake_timeout_ms = 5000;
  if (d->cfg.close_timeout_ms <= 0)
    d->cfg.close_timeout_ms = 10000;
  d->rxq = rxq;
  d->txq = txq;
  d->mem = mem;
  d->ep = epoll_create1(EPOLL_CLOEXEC);
  if (d->ep < 0) {
    free(d);
    return vc_error_set(err, errno, "vsock: epoll_create1");
  }
  unsigned n = d->cfg.max_conns;
  d->conns = xcalloc(n, sizeof(*d->conns));
  d->free_slots = xcalloc(n, sizeof(*d->free_slots));
  for (unsigned i = 0; i < n; i++) {
    d->conns[i].slot = i;
    d->conns[i].fd = -1;
    d->free_slots[i] = n - 1 - i;
  }
  d->nfree = n;
  uint32_t hs = 1;
  while (hs < 2 * n)
    hs <<= 1;
  d->hash = xcalloc(hs, sizeof(*d->hash));
  d->hash_mask = hs - 1;
  /* Every connection has at most a few packets queued at a time. */
  d->ctrl_cap = 4 * n + 64;
  d->ctrl = xcalloc(d->ctrl_cap, sizeof(*d->ctrl));
  d->next_local_port = LOCAL_PORT_BASE;
  *out = d;
  return 0;
}

void vc_vsock_dev_reset(struct vc_vsock_dev *d) {
  for (unsigned i = 0; i < d->cfg.max_conns; i++)
    conn_free(d, &d->conns[i], false);
  d->ctrl_len = 0;
  d->ctrl_head = 0;
  d->next_deadline = 0;
}

void vc_vsock_dev_free(struct vc_vsock_dev *d) {
  if (d == NULL)
    return;
  vc_vsock_dev_reset(d);
  close(d->ep);
  free(d->conns);
  free(d->free_slots);
  free(d->hash);
  free(d->ctrl);
  free(d);
}

int vc_vsock_dev_fd(const struct vc_vsock_dev *d) { return d->ep; }

void vc_vsock_dev_add_client(struct vc_vsock_dev *d, int fd, long long now) {
  int fl = fcntl(fd, F_GETFL);
  struct conn *c = NULL;
  if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
      !ctrl_full(d, CTRL_RESERVE + 1))
    c = conn_alloc(d, fd);
  if (c == NULL) {
    close(fd);
    d->st.dropped++;
    return;
  }
  d->st.conns++;
  c->state = C_HOST_LINE;
  set_deadline(d, c, now + d->cfg.handshake_timeout_ms);
  update_events(d, c);
}

int vc_vsock_dev_process(struct vc_vsock_dev *d, long long now) {
  bool progress = true;
  int rounds = 0;
  while (progress && rounds++ < MAX_ROUNDS) {
    progress = false;
    struct epoll_event ev[64];
    int n = epoll_wait(d->ep, ev, 64, 0);
    for (int i = 0; i < n; i++) {
      struct conn *c = conn_of(d, (uint32_t)ev[i].data.u64,
                               (uint32_t)(ev[i].data.u64 >> 32));
      if (c != NULL)
        host_event(d, c, ev[i].events, now);
    }
    if (n > 0)
      progress = true;
    if (process_tx(d, now))
      progress = true;
    if (send_ctrl(d))
      progress = true;
    if (process_rx_data(d))
      progress = true;
    /* Data first went out, control replies may have been queued since. */
    if (send_ctrl(d))
      progress = true;
  }
  expire(d, now);
  send_ctrl(d);
  vc_vq_signal(d->rxq);
  vc_vq_signal(d->txq);
  return progress ? 1 : 0;
}

int vc_vsock_dev_timeout(const struct vc_vsock_dev *d, long long now) {
  if (d->next_deadline == 0)
    return -1;
  if (d->next_deadline <= now)
    return 0;
  long long t = d->next_deadline - now;
  return t > 60000 ? 60000 : (int)t;
}

void vc_vsock_dev_stats(const struct vc_vsock_dev *d,
                        struct vc_vsock_stats *st) {
  *st = d->st;
}

const char *vc_vsock_dev_last_error(struct vc_vsock_dev *d) {
  if (!d->have_error)
    return NULL;
  d->have_error = false;
  return d->last_error;
}
