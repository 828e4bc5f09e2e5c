/* Hostile guest memory: the input becomes the bytes of a fake guest RAM that
 * holds the rings, and we walk the descriptor chains in it (mode 0) or run
 * the whole vsock device over it, host sockets included (mode 1).
 * Input: [log2 ring size][last_avail lo][last_avail hi][mode][RAM bytes...] */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/virtqueue.h"
#include "vmm/vsock_device.h"

#define RAM_SIZE 0x8000u
#define UVA_BASE 0x7f0000000000ULL

struct peers {
  int fd[16];
  unsigned n;
};

static int connect_hook(void *opaque, uint32_t port) {
  struct peers *p = opaque;
  if (p->n >= 16 || (port & 1))
    return -111; /* odd ports refuse */
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
    return -1;
  p->fd[p->n++] = sv[1];
  /* something to send to the guest */
  (void)!write(sv[1], "host data", 9);
  return sv[0];
}

static void setup(struct vc_vq *vq, const struct vc_gmem *m, uint16_t n,
                  uint64_t base, uint16_t last_avail) {
  vc_vq_init(vq);
  vq->num = n;
  vq->desc_uva = UVA_BASE + base;
  vq->avail_uva = UVA_BASE + base + 0x1000;
  vq->used_uva = UVA_BASE + base + 0x2000;
  vq->addr_set = vq->started = vq->enabled = true;
  vq->last_avail = last_avail;
  vc_vq_map(vq, m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 5)
    return 0;
  uint16_t n = (uint16_t)(1u << (data[0] % 9));
  uint16_t last_avail = (uint16_t)(data[1] | data[2] << 8);
  unsigned mode = data[3] % 2;
  data += 4;
  size -= 4;
  uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
  for (size_t i = 0; i < RAM_SIZE; i++)
    ram[i] = data[i % size];
  struct vc_gmem m = {.n = 1};
  m.r[0] = (struct vc_gmem_region){.gpa = 0, .size = RAM_SIZE,
                                   .uva = UVA_BASE, .host = ram};
  if (mode == 0) {
    struct vc_vq vq;
    setup(&vq, &m, n, 0, last_avail);
    for (int i = 0; i < 300; i++) {
      struct vc_vq_elem e;
      vc_error *err = NULL;
      int r = vc_vq_pop(&vq, &m, &e, &err);
      vc_error_free(&err);
      if (r <= 0)
        break;
      if (e.nout + e.nin > VC_VQ_MAX_SEGS || e.head >= n)
        abort();
      uint8_t tmp[128];
      size_t got = vc_iov_to_buf(e.iov, e.nout, 3, tmp, sizeof(tmp));
      vc_buf_to_iov(e.iov + e.nout, e.nin, 1, tmp, got);
      vc_vq_push(&vq, e.head, (uint32_t)e.in_len);
      if (i == 5)
        vc_vq_unpop(&vq);
    }
    vc_vq_reset(&vq);
  } else {
    struct vc_vq rxq, txq;
    setup(&rxq, &m, n, 0, last_avail);
    setup(&txq, &m, n, 0x3000, last_avail);
    struct peers p = {.n = 0};
    struct vc_vsock_dev_config cfg = {.guest_cid = 3, .max_conns = 4,
                                      .buf_alloc = 4096,
                                      .connect_host = connect_hook,
                                      .opaque = &p};
    struct vc_vsock_dev *d = NULL;
    if (vc_vsock_dev_new(&cfg, &rxq, &txq, &m, &d, NULL) == 0) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        vc_vsock_dev_add_client(d, sv[0], 0);
        (void)!write(sv[1], "CONNECT 1024\n", 13);
      } else {
        sv[1] = -1;
      }
      for (long long now = 0; now < 20000; now += 2500)
        vc_vsock_dev_process(d, now);
      vc_vsock_dev_free(d);
      if (sv[1] >= 0)
        close(sv[1]);
    }
    for (unsigned i = 0; i < p.n; i++)
      close(p.fd[i]);
    vc_vq_reset(&rxq);
    vc_vq_reset(&txq);
  }
  free(ram);
  return 0;
}
