/* The vsock device against a fake guest: rings in a malloc'd buffer, host
 * sockets from socketpair().  Covers both connection directions, credit in
 * both directions, shutdown/close, timeouts, protocol violations and
 * REQUEST floods. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vmm/vsock_device.h"

#define CID 3
#define RAM_SIZE (8u << 20)
#define RXQ_SIZE 64
#define TXQ_SIZE 128
#define RX_DESC 0x1000
#define RX_AVAIL 0x2000
#define RX_USED 0x3000
#define TX_DESC 0x4000
#define TX_AVAIL 0x5000
#define TX_USED 0x6000
#define RX_BUF 0x80000
#define RX_BUF_SIZE (44 + 4096)
#define TX_BUF 0x200000
#define TX_BUF_SIZE 0x10100

struct guest {
  uint8_t *ram;
  struct vc_gmem mem;
  struct vc_vq rxq, txq;
  uint16_t rx_avail, tx_avail, rx_seen;
  unsigned tx_count;
  struct vc_vsock_dev *dev;
  long long now;
  int peers[1024];
  unsigned npeers;
  bool refuse;
  int sndbuf;
};

static int connect_hook(void *opaque, uint32_t port) {
  struct guest *g = opaque;
  if (g->refuse || g->npeers >= 1024)
    return -ECONNREFUSED;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
    return -errno;
  g->peers[g->npeers++] = sv[1];
  if (g->sndbuf > 0) {
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &g->sndbuf, sizeof(g->sndbuf));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &g->sndbuf, sizeof(g->sndbuf));
  }
  return sv[0];
}

static void setup_vq(struct guest *g, struct vc_vq *vq, uint16_t n,
                     uint32_t desc, uint32_t avail, uint32_t used) {
  vc_vq_init(vq);
  vq->num = n;
  vq->desc_uva = desc;
  vq->avail_uva = avail;
  vq->used_uva = used;
  vq->addr_set = vq->started = vq->enabled = true;
  CHECK(vc_vq_map(vq, &g->mem, NULL) == 0);
}

static void guest_init(struct guest *g, unsigned max_conns, uint32_t buf_alloc) {
  memset(g, 0, sizeof(*g));
  g->ram = aligned_alloc(4096, RAM_SIZE);
  memset(g->ram, 0, RAM_SIZE);
  g->mem.n = 1;
  g->mem.r[0] = (struct vc_gmem_region){
      .gpa = 0, .size = RAM_SIZE, .uva = 0, .host = g->ram};
  setup_vq(g, &g->rxq, RXQ_SIZE, RX_DESC, RX_AVAIL, RX_USED);
  setup_vq(g, &g->txq, TXQ_SIZE, TX_DESC, TX_AVAIL, TX_USED);
  struct vc_vsock_dev_config cfg = {
      .guest_cid = CID,
      .max_conns = max_conns,
      .buf_alloc = buf_alloc,
      .connect_timeout_ms = 100,
      .handshake_timeout_ms = 100,
      .close_timeout_ms = 100,
      .connect_host = connect_hook,
      .opaque = g,
  };
  g->now = 1000;
  CHECK(vc_vsock_dev_new(&cfg, &g->rxq, &g->txq, &g->mem, &g->dev, NULL) == 0);
}

static void guest_free(struct guest *g) {
  vc_vsock_dev_free(g->dev);
  for (unsigned i = 0; i < g->npeers; i++)
    if (g->peers[i] >= 0)
      close(g->peers[i]);
  vc_vq_reset(&g->rxq);
  vc_vq_reset(&g->txq);
  free(g->ram);
}

static void set_desc(struct guest *g, uint32_t table, uint16_t i, uint64_t addr,
                     uint32_t len, uint16_t flags, uint16_t next) {
  struct vc_vring_desc d = {addr, len, flags, next};
  memcpy(g->ram + table + 16 * i, &d, sizeof(d));
}

static void publish(struct guest *g, uint32_t avail_off, uint16_t n,
                    uint16_t *idx, uint16_t head) {
  uint16_t *avail = (uint16_t *)(g->ram + avail_off);
  avail[2 + (*idx % n)] = head;
  (*idx)++;
  __atomic_store_n(&avail[1], *idx, __ATOMIC_RELEASE);
}

static void give_rx(struct guest *g, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    uint16_t d = g->rx_avail % RXQ_SIZE;
    set_desc(g, RX_DESC, d, RX_BUF + (uint64_t)d * 0x1100, RX_BUF_SIZE,
             VC_VRING_DESC_F_WRITE, 0);
    publish(g, RX_AVAIL, RXQ_SIZE, &g->rx_avail, d);
  }
}

static struct vc_vsock_hdr hdr(uint32_t src_port, uint32_t dst_port,
                               uint16_t op, uint32_t len) {
  struct vc_vsock_hdr h = {
      .src_cid = CID, .dst_cid = VC_VSOCK_HOST_CID, .src_port = src_port,
      .dst_port = dst_port, .len = len, .type = VC_VSOCK_TYPE_STREAM,
      .op = op, .buf_alloc = 65536, .fwd_cnt = 0};
  return h;
}

/* Queues a packet on tx; `split` puts the payload in its own descriptor. */
static void send_pkt(struct guest *g, const struct vc_vsock_hdr *h,
                     const void *payload, uint32_t plen, bool split) {
  unsigned k = g->tx_count++ % 64;
  uint64_t buf = TX_BUF + (uint64_t)k * TX_BUF_SIZE;
  uint16_t d = (uint16_t)(2 * k);
  memcpy(g->ram + buf, h, sizeof(*h));
  if (plen > 0)
    memcpy(g->ram + buf + 64, payload, plen);
  if (split && plen > 0) {
    set_desc(g, TX_DESC, d, buf, 44, VC_VRING_DESC_F_NEXT, (uint16_t)(d + 1));
    set_desc(g, TX_DESC, (uint16_t)(d + 1), buf + 64, plen, 0, 0);
  } else {
    memmove(g->ram + buf + 44, g->ram + buf + 64, plen);
    set_desc(g, TX_DESC, d, buf, 44 + plen, 0, 0);
  }
  publish(g, TX_AVAIL, TXQ_SIZE, &g->tx_avail, d);
}

static void send_op(struct guest *g, uint32_t src, uint32_t dst, uint16_t op,
                    uint32_t flags) {
  struct vc_vsock_hdr h = hdr(src, dst, op, 0);
  h.flags = flags;
  send_pkt(g, &h, NULL, 0, false);
}

static void run(struct guest *g) {
  for (int i = 0; i < 20 && vc_vsock_dev_process(g->dev, g->now) > 0; i++) {
  }
}

/* Next packet the device put in rx, false if none. */
static bool recv_pkt(struct guest *g, struct vc_vsock_hdr *h, void *payload,
                     uint32_t *plen) {
  uint16_t used = *(uint16_t *)(g->ram + RX_USED + 2);
  if (used == g->rx_seen)
    return false;
  uint32_t ent[2];
  memcpy(ent, g->ram + RX_USED + 4 + 8 * (g->rx_seen % RXQ_SIZE), 8);
  g->rx_seen++;
  CHECK(ent[0] < RXQ_SIZE && ent[1] >= 44 && ent[1] <= RX_BUF_SIZE);
  const uint8_t *buf = g->ram + RX_BUF + (uint64_t)ent[0] * 0x1100;
  memcpy(h, buf, sizeof(*h));
  CHECK(h->len == ent[1] - 44);
  CHECK(h->src_cid == VC_VSOCK_HOST_CID && h->dst_cid == CID);
  if (payload != NULL)
    memcpy(payload, buf + 44, ent[1] - 44);
  if (plen != NULL)
    *plen = ent[1] - 44;
  return true;
}

static bool expect_op(struct guest *g, uint16_t op, struct vc_vsock_hdr *out) {
  struct vc_vsock_hdr h;
  if (!recv_pkt(g, &h, NULL, NULL)) {
    fprintf(stderr, "  no packet, wanted op %u\n", op);
    return false;
  }
  if (out != NULL)
    *out = h;
  if (h.op != op)
    fprintf(stderr, "  got op %u, wanted %u\n", h.op, op);
  return h.op == op;
}

static ssize_t read_peer(int fd, void *buf, size_t len) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, 1000) != 1)
    return -2;
  return read(fd, buf, len);
}

/* A guest connection to host port 900 from guest port 5000. */
static int open_guest_conn(struct guest *g, uint32_t src) {
  send_op(g, src, 900, VC_VSOCK_OP_REQUEST, 0);
  run(g);
  CHECK(expect_op(g, VC_VSOCK_OP_RESPONSE, NULL));
  return g->peers[g->npeers - 1];
}

TEST(guest_connect_and_data) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  int peer = open_guest_conn(&g, 5000);
  /* guest -> host, header and payload split and not */
  struct vc_vsock_hdr h = hdr(5000, 900, VC_VSOCK_OP_RW, 5);
  send_pkt(&g, &h, "hello", 5, true);
  h = hdr(5000, 900, VC_VSOCK_OP_RW, 6);
  send_pkt(&g, &h, " world", 6, false);
  run(&g);
  char buf[64] = {0};
  CHECK(read_peer(peer, buf, sizeof(buf)) == 11);
  CHECK(memcmp(buf, "hello world", 11) == 0);
  /* host -> guest */
  CHECK(write(peer, "pong", 4) == 4);
  run(&g);
  uint32_t plen;
  CHECK(recv_pkt(&g, &h, buf, &plen));
  CHECK(h.op == VC_VSOCK_OP_RW && plen == 4 && memcmp(buf, "pong", 4) == 0);
  CHECK(h.src_port == 900 && h.dst_port == 5000);
  CHECK(h.buf_alloc == 65536 && h.fwd_cnt == 11);
  guest_free(&g);
}

TEST(refused_and_unknown_get_rst) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  g.refuse = true;
  send_op(&g, 5000, 900, VC_VSOCK_OP_REQUEST, 0);
  run(&g);
  struct vc_vsock_hdr h;
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, &h));
  CHECK(h.src_port == 900 && h.dst_port == 5000);
  /* data, shutdown and credit packets for nothing */
  send_op(&g, 1, 2, VC_VSOCK_OP_RW, 0);
  send_op(&g, 1, 2, VC_VSOCK_OP_SHUTDOWN, 3);
  send_op(&g, 1, 2, VC_VSOCK_OP_CREDIT_REQUEST, 0);
  run(&g);
  for (int i = 0; i < 3; i++)
    CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  /* ... but never an RST for an RST */
  send_op(&g, 1, 2, VC_VSOCK_OP_RST, 0);
  run(&g);
  CHECK(!recv_pkt(&g, &h, NULL, NULL));
  /* wrong destination CID, wrong type */
  h = hdr(7, 8, VC_VSOCK_OP_REQUEST, 0);
  h.dst_cid = 42;
  send_pkt(&g, &h, NULL, 0, false);
  h = hdr(7, 8, VC_VSOCK_OP_REQUEST, 0);
  h.type = 2;
  send_pkt(&g, &h, NULL, 0, false);
  run(&g);
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  /* a spoofed source CID is dropped silently */
  h = hdr(7, 8, VC_VSOCK_OP_REQUEST, 0);
  h.src_cid = 99;
  send_pkt(&g, &h, NULL, 0, false);
  run(&g);
  CHECK(!recv_pkt(&g, &h, NULL, NULL));
  struct vc_vsock_stats st;
  vc_vsock_dev_stats(g.dev, &st);
  CHECK(st.conns == 0);
  guest_free(&g);
}

TEST(we_respect_guest_credit) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  struct vc_vsock_hdr h = hdr(5000, 900, VC_VSOCK_OP_REQUEST, 0);
  h.buf_alloc = 100;
  send_pkt(&g, &h, NULL, 0, false);
  run(&g);
  CHECK(expect_op(&g, VC_VSOCK_OP_RESPONSE, NULL));
  int peer = g.peers[0];
  char data[1000];
  memset(data, 'z', sizeof(data));
  CHECK(write(peer, data, sizeof(data)) == 1000);
  run(&g);
  uint32_t total = 0, plen;
  while (recv_pkt(&g, &h, NULL, &plen))
    total += plen;
  CHECK(total == 100);
  /* The guest read 60 bytes: 60 more may come. */
  h = hdr(5000, 900, VC_VSOCK_OP_CREDIT_UPDATE, 0);
  h.buf_alloc = 100;
  h.fwd_cnt = 60;
  send_pkt(&g, &h, NULL, 0, false);
  run(&g);
  total = 0;
  while (recv_pkt(&g, &h, NULL, &plen))
    total += plen;
  CHECK(total == 60);
  /* A lying fwd_cnt (ahead of what we sent) gives no credit at all. */
  h = hdr(5000, 900, VC_VSOCK_OP_CREDIT_UPDATE, 0);
  h.buf_alloc = 100;
  h.fwd_cnt = 100000;
  send_pkt(&g, &h, NULL, 0, false);
  run(&g);
  CHECK(!recv_pkt(&g, &h, NULL, &plen));
  guest_free(&g);
}

TEST(guest_must_respect_our_credit) {
  struct guest g;
  guest_init(&g, 8, 4096);
  give_rx(&g, 32);
  open_guest_conn(&g, 5000);
  static char big[5000];
  struct vc_vsock_hdr h = hdr(5000, 900, VC_VSOCK_OP_RW, sizeof(big));
  send_pkt(&g, &h, big, sizeof(big), true);
  run(&g);
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  struct vc_vsock_stats st;
  vc_vsock_dev_stats(g.dev, &st);
  CHECK(st.conns == 0);
  /* A header claiming more bytes than the buffer has is also a reset. */
  open_guest_conn(&g, 5001);
  h = hdr(5001, 900, VC_VSOCK_OP_RW, 1000);
  send_pkt(&g, &h, "abc", 3, false);
  run(&g);
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  guest_free(&g);
}

/* The host side does not read: we buffer up to buf_alloc, then the guest
 * has no credit; once the host reads we send credit updates. */
TEST(buffering_and_credit_update) {
  struct guest g;
  guest_init(&g, 8, 65536);
  g.sndbuf = 4096;
  give_rx(&g, 64);
  int peer = open_guest_conn(&g, 5000);
  static char chunk[8192];
  memset(chunk, 'q', sizeof(chunk));
  uint32_t sent = 0, fwd_seen = 0;
  struct vc_vsock_hdr h;
  /* A well-behaved guest: sends while it has credit. */
  for (int i = 0; i < 100 && 65536 - (sent - fwd_seen) >= sizeof(chunk); i++) {
    h = hdr(5000, 900, VC_VSOCK_OP_RW, sizeof(chunk));
    send_pkt(&g, &h, chunk, sizeof(chunk), true);
    run(&g);
    sent += sizeof(chunk);
    while (recv_pkt(&g, &h, NULL, NULL)) {
      CHECK(h.op == VC_VSOCK_OP_CREDIT_UPDATE);
      fwd_seen = h.fwd_cnt;
    }
  }
  CHECK(sent < 100 * sizeof(chunk)); /* credit did run out */
  struct vc_vsock_stats st;
  vc_vsock_dev_stats(g.dev, &st);
  CHECK(st.conns == 1 && st.rst_sent == 0);
  /* drain the host side: everything arrives, and credit comes back */
  static char got[100 * 8192];
  size_t n = 0;
  for (int tries = 0; n < sent && tries < 1000; tries++) {
    ssize_t r = read(peer, got + n, sizeof(got) - n);
    if (r > 0)
      n += (size_t)r;
    run(&g);
  }
  CHECK(n == sent);
  bool all_q = true;
  for (size_t i = 0; i < n; i++)
    all_q &= got[i] == 'q';
  CHECK(all_q);
  while (recv_pkt(&g, &h, NULL, NULL))
    if (h.op == VC_VSOCK_OP_CREDIT_UPDATE)
      fwd_seen = h.fwd_cnt;
  CHECK(sent - fwd_seen < 65536 / 4);
  guest_free(&g);
}

TEST(half_close_then_close) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  int peer = open_guest_conn(&g, 5000);
  /* guest stops sending: the host reads EOF but can still write */
  send_op(&g, 5000, 900, VC_VSOCK_OP_SHUTDOWN, VC_VSOCK_SHUTDOWN_SEND);
  run(&g);
  char b[8];
  CHECK(read_peer(peer, b, sizeof(b)) == 0);
  CHECK(write(peer, "x", 1) == 1);
  run(&g);
  struct vc_vsock_hdr h;
  CHECK(expect_op(&g, VC_VSOCK_OP_RW, &h) && h.len == 1);
  /* host stops too: SHUTDOWN(SEND) to the guest, then RST, all gone */
  shutdown(peer, SHUT_WR);
  run(&g);
  /* Both directions are done: an RST (a SHUTDOWN first is optional). */
  bool saw_rst = false;
  while (recv_pkt(&g, &h, NULL, NULL)) {
    CHECK(h.op == VC_VSOCK_OP_SHUTDOWN || h.op == VC_VSOCK_OP_RST);
    saw_rst |= h.op == VC_VSOCK_OP_RST;
  }
  CHECK(saw_rst);
  struct vc_vsock_stats st;
  vc_vsock_dev_stats(g.dev, &st);
  CHECK(st.conns == 0);
  guest_free(&g);
}

TEST(guest_close_closes_host) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  int peer = open_guest_conn(&g, 5000);
  send_op(&g, 5000, 900, VC_VSOCK_OP_SHUTDOWN,
          VC_VSOCK_SHUTDOWN_SEND | VC_VSOCK_SHUTDOWN_RCV);
  run(&g);
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  char b[8];
  CHECK(read_peer(peer, b, sizeof(b)) == 0);
  /* and a guest RST on a live connection closes it without an answer */
  peer = open_guest_conn(&g, 5001);
  send_op(&g, 5001, 900, VC_VSOCK_OP_RST, 0);
  run(&g);
  CHECK(read_peer(peer, b, sizeof(b)) == 0);
  struct vc_vsock_hdr h;
  CHECK(!recv_pkt(&g, &h, NULL, NULL));
  guest_free(&g);
}

TEST(host_hangup_resets) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  int peer = open_guest_conn(&g, 5000);
  close(peer);
  g.peers[0] = -1;
  run(&g);
  CHECK(expect_op(&g, VC_VSOCK_OP_SHUTDOWN, NULL));
  /* the guest keeps writing into a closed socket: reset */
  struct vc_vsock_hdr h = hdr(5000, 900, VC_VSOCK_OP_RW, 3);
  send_pkt(&g, &h, "abc", 3, false);
  run(&g);
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  guest_free(&g);
}

TEST(request_flood_is_capped) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 64);
  for (uint32_t i = 0; i < 40; i++)
    send_op(&g, 10000 + i, 900, VC_VSOCK_OP_REQUEST, 0);
  run(&g);
  unsigned resp = 0, rst = 0;
  struct vc_vsock_hdr h;
  while (recv_pkt(&g, &h, NULL, NULL)) {
    resp += h.op == VC_VSOCK_OP_RESPONSE;
    rst += h.op == VC_VSOCK_OP_RST;
  }
  CHECK(resp == 8 && rst == 32);
  struct vc_vsock_stats st;
  vc_vsock_dev_stats(g.dev, &st);
  CHECK(st.conns == 8);
  guest_free(&g);
}

/* With no rx buffers the device stops taking tx packets once its reply
 * queue is nearly full, instead of queueing without bound. */
TEST(flood_without_rx_buffers_backpressures) {
  struct guest g;
  guest_init(&g, 1, 65536); /* reply queue: 4 * 1 + 64 = 68 entries */
  for (uint32_t i = 0; i < 64; i++)
    send_op(&g, 1, 20000 + i, VC_VSOCK_OP_RW, 0);
  run(&g);
  uint16_t *tx_used = (uint16_t *)(g.ram + TX_USED + 2);
  CHECK(*tx_used == 64); /* 64 replies fit */
  for (uint32_t i = 0; i < 30; i++)
    send_op(&g, 1, 30000 + i, VC_VSOCK_OP_RW, 0);
  run(&g);
  CHECK(*tx_used == 64); /* the rest waits in the ring */
  unsigned answered = 0;
  struct vc_vsock_hdr h;
  for (int round = 0; round < 3; round++) {
    give_rx(&g, 64);
    run(&g);
    while (recv_pkt(&g, &h, NULL, NULL))
      answered += h.op == VC_VSOCK_OP_RST;
  }
  CHECK(*tx_used == 94);
  CHECK(answered == 94);
  guest_free(&g);
}

static int hybrid_client(struct guest *g, const char *line) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  vc_vsock_dev_add_client(g->dev, sv[0], g->now);
  /* may fail with EPIPE when the device refused the client */
  (void)!write(sv[1], line, strlen(line));
  run(g);
  return sv[1];
}

TEST(hybrid_connect) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  /* bytes after the newline are stream data, not part of the line */
  int c = hybrid_client(&g, "CONNECT 1234\nearly");
  struct vc_vsock_hdr h;
  CHECK(expect_op(&g, VC_VSOCK_OP_REQUEST, &h));
  CHECK(h.dst_port == 1234 && h.src_port >= (1u << 30));
  uint32_t local = h.src_port;
  struct vc_vsock_hdr r = hdr(1234, local, VC_VSOCK_OP_RESPONSE, 0);
  send_pkt(&g, &r, NULL, 0, false);
  run(&g);
  char buf[64] = {0};
  char want[32];
  int n = snprintf(want, sizeof(want), "OK %u\n", local);
  CHECK(read_peer(c, buf, (size_t)n) == n && memcmp(buf, want, (size_t)n) == 0);
  uint32_t plen;
  CHECK(recv_pkt(&g, &h, buf, &plen));
  CHECK(h.op == VC_VSOCK_OP_RW && plen == 5 && memcmp(buf, "early", 5) == 0);
  close(c);
  guest_free(&g);
}

TEST(hybrid_refused_and_timeouts) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  char b[8];
  /* guest says RST: the client is closed without OK */
  int c = hybrid_client(&g, "CONNECT 77\n");
  struct vc_vsock_hdr h;
  CHECK(expect_op(&g, VC_VSOCK_OP_REQUEST, &h));
  struct vc_vsock_hdr r = hdr(77, h.src_port, VC_VSOCK_OP_RST, 0);
  send_pkt(&g, &r, NULL, 0, false);
  run(&g);
  CHECK(read_peer(c, b, sizeof(b)) == 0);
  close(c);
  /* guest never answers: closed after the connect timeout, guest gets RST */
  c = hybrid_client(&g, "CONNECT 78\n");
  CHECK(expect_op(&g, VC_VSOCK_OP_REQUEST, NULL));
  CHECK(vc_vsock_dev_timeout(g.dev, g.now) > 0);
  g.now += 200;
  run(&g);
  CHECK(read_peer(c, b, sizeof(b)) == 0);
  CHECK(expect_op(&g, VC_VSOCK_OP_RST, NULL));
  close(c);
  /* client never finishes its line */
  c = hybrid_client(&g, "CONN");
  g.now += 200;
  run(&g);
  CHECK(read_peer(c, b, sizeof(b)) == 0);
  close(c);
  /* bad lines */
  const char *bad[] = {"CONNECT\n", "CONNECT x\n", "CONNECT 99999999999\n",
                       "connect 5\n", "CONNECT 5 \n",
                       "CONNECT 1111111111111111111111111111111111"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    c = hybrid_client(&g, bad[i]);
    ssize_t r = read_peer(c, b, sizeof(b));
    /* EOF, or a reset since we closed with its bytes unread */
    CHECK(r == 0 || (r == -1 && errno == ECONNRESET));
    close(c);
  }
  CHECK(!recv_pkt(&g, &h, NULL, NULL));
  struct vc_vsock_stats st;
  vc_vsock_dev_stats(g.dev, &st);
  CHECK(st.conns == 0);
  guest_free(&g);
}

TEST(hybrid_table_full) {
  struct guest g;
  guest_init(&g, 2, 65536);
  int a = hybrid_client(&g, "CONN");
  int b2 = hybrid_client(&g, "CONN");
  int c = hybrid_client(&g, "CONNECT 5\n");
  char b[4];
  CHECK(read_peer(c, b, sizeof(b)) == 0); /* no room: closed at once */
  close(a);
  close(b2);
  close(c);
  guest_free(&g);
}

TEST(broken_tx_ring_stops_device) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 8);
  set_desc(&g, TX_DESC, 0, TX_BUF, 44, VC_VRING_DESC_F_NEXT, 1);
  set_desc(&g, TX_DESC, 1, TX_BUF, 44, VC_VRING_DESC_F_NEXT, 0);
  publish(&g, TX_AVAIL, TXQ_SIZE, &g.tx_avail, 0);
  run(&g);
  const char *e = vc_vsock_dev_last_error(g.dev);
  if (e == NULL || strstr(e, "guest error") == NULL)
    fprintf(stderr, "  last error: %s\n", e ? e : "(none)");
  CHECK(e != NULL && strstr(e, "guest error") != NULL);
  CHECK(g.txq.broken);
  run(&g); /* and stays quiet */
  CHECK(vc_vsock_dev_last_error(g.dev) == NULL);
  guest_free(&g);
}

TEST(bad_rx_buffer_stops_rx) {
  struct guest g;
  guest_init(&g, 8, 65536);
  /* a read-only "receive" buffer */
  set_desc(&g, RX_DESC, 0, RX_BUF, RX_BUF_SIZE, 0, 0);
  publish(&g, RX_AVAIL, RXQ_SIZE, &g.rx_avail, 0);
  send_op(&g, 1, 2, VC_VSOCK_OP_RW, 0);
  run(&g);
  CHECK(g.rxq.broken);
  CHECK(vc_vsock_dev_last_error(g.dev) != NULL);
  guest_free(&g);
}

TEST(reset_drops_everything) {
  struct guest g;
  guest_init(&g, 8, 65536);
  give_rx(&g, 32);
  int peer = open_guest_conn(&g, 5000);
  vc_vsock_dev_reset(g.dev);
  char b[4];
  CHECK(read_peer(peer, b, sizeof(b)) == 0);
  struct vc_vsock_stats st;
  vc_vsock_dev_stats(g.dev, &st);
  CHECK(st.conns == 0);
  guest_free(&g);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* tests write to sockets the device closed */
  RUN(guest_connect_and_data);
  RUN(refused_and_unknown_get_rst);
  RUN(we_respect_guest_credit);
  RUN(guest_must_respect_our_credit);
  RUN(buffering_and_credit_update);
  RUN(half_close_then_close);
  RUN(guest_close_closes_host);
  RUN(host_hangup_resets);
  RUN(request_flood_is_capped);
  RUN(flood_without_rx_buffers_backpressures);
  RUN(hybrid_connect);
  RUN(hybrid_refused_and_timeouts);
  RUN(hybrid_table_full);
  RUN(broken_tx_ring_stops_device);
  RUN(bad_rx_buffer_stops_rx);
  RUN(reset_drops_everything);
  return TEST_SUMMARY();
}
