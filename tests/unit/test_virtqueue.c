/* Split virtqueue over fake guest memory (a malloc'd buffer), including
 * hostile rings: loops, out-of-range addresses, huge lengths, indices past
 * the ring. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test.h"
#include "vmm/virtqueue.h"

#define GPA_BASE 0x100000ULL
#define UVA_BASE 0x7f0000000000ULL
#define MEM_SIZE (1u << 20)
#define QSIZE 16
#define DESC_OFF 0x1000
#define AVAIL_OFF 0x2000
#define USED_OFF 0x3000
#define BUF_OFF 0x10000

struct fake {
  uint8_t *ram;
  struct vc_gmem mem;
  struct vc_vq vq;
  uint16_t avail_idx;
};

static void fake_init(struct fake *f, uint16_t qsize) {
  f->ram = aligned_alloc(4096, MEM_SIZE);
  memset(f->ram, 0, MEM_SIZE);
  memset(&f->mem, 0, sizeof(f->mem));
  f->mem.n = 1;
  f->mem.r[0].gpa = GPA_BASE;
  f->mem.r[0].uva = UVA_BASE;
  f->mem.r[0].size = MEM_SIZE;
  f->mem.r[0].host = f->ram;
  vc_vq_init(&f->vq);
  f->vq.num = qsize;
  f->vq.desc_uva = UVA_BASE + DESC_OFF;
  f->vq.avail_uva = UVA_BASE + AVAIL_OFF;
  f->vq.used_uva = UVA_BASE + USED_OFF;
  f->vq.addr_set = true;
  f->vq.started = f->vq.enabled = true;
  f->avail_idx = 0;
  CHECK(vc_vq_map(&f->vq, &f->mem, NULL) == 0);
}

static void fake_free(struct fake *f) {
  vc_vq_reset(&f->vq);
  free(f->ram);
}

static void set_desc(struct fake *f, uint16_t i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next) {
  struct vc_vring_desc d = {addr, len, flags, next};
  memcpy(f->ram + DESC_OFF + 16 * i, &d, sizeof(d));
}

static void make_avail(struct fake *f, uint16_t head) {
  uint16_t *avail = (uint16_t *)(f->ram + AVAIL_OFF);
  avail[2 + (f->avail_idx % f->vq.num)] = head;
  f->avail_idx++;
  avail[1] = f->avail_idx;
}

static uint16_t used_idx(struct fake *f) {
  return *(uint16_t *)(f->ram + USED_OFF + 2);
}

static int pop(struct fake *f, struct vc_vq_elem *e) {
  vc_error *err = NULL;
  int r = vc_vq_pop(&f->vq, &f->mem, e, &err);
  if (r < 0)
    CHECK(err != NULL && strstr(err->msg, "guest error") != NULL);
  vc_error_free(&err);
  return r;
}

TEST(gmem_bounds) {
  uint8_t buf[64];
  struct vc_gmem m = {.n = 2};
  m.r[0] = (struct vc_gmem_region){.gpa = 0x1000, .size = 32, .uva = 0x9000,
                                   .host = buf};
  m.r[1] = (struct vc_gmem_region){.gpa = 0x2000, .size = 32, .uva = 0xa000,
                                   .host = buf + 32};
  CHECK(vc_gmem_gpa(&m, 0x1000, 32) == buf);
  CHECK(vc_gmem_gpa(&m, 0x101f, 1) == buf + 31);
  CHECK(vc_gmem_gpa(&m, 0x101f, 2) == NULL);   /* runs off the end */
  CHECK(vc_gmem_gpa(&m, 0x1020, 1) == NULL);   /* hole */
  CHECK(vc_gmem_gpa(&m, 0xfff, 2) == NULL);    /* starts before */
  CHECK(vc_gmem_gpa(&m, 0x2010, 16) == buf + 48);
  CHECK(vc_gmem_gpa(&m, 0x1000, 0) == buf);
  CHECK(vc_gmem_gpa(&m, 0x1020, 0) == NULL);
  CHECK(vc_gmem_gpa(&m, UINT64_MAX, 2) == NULL);
  CHECK(vc_gmem_gpa(&m, 0x1010, UINT64_MAX) == NULL); /* addr+len wraps */
  CHECK(vc_gmem_uva(&m, 0xa004, 4) == buf + 36);
  CHECK(vc_gmem_uva(&m, 0x1000, 4) == NULL);
}

TEST(pop_and_push) {
  struct fake f;
  fake_init(&f, QSIZE);
  int call = eventfd(0, EFD_NONBLOCK);
  f.vq.call_fd = call;
  set_desc(&f, 3, GPA_BASE + BUF_OFF, 100, VC_VRING_DESC_F_NEXT, 7);
  set_desc(&f, 7, GPA_BASE + BUF_OFF + 200, 50,
           VC_VRING_DESC_F_NEXT | VC_VRING_DESC_F_WRITE, 9);
  set_desc(&f, 9, GPA_BASE + BUF_OFF + 400, 60, VC_VRING_DESC_F_WRITE, 0);
  struct vc_vq_elem e;
  CHECK(pop(&f, &e) == 0);
  make_avail(&f, 3);
  CHECK(pop(&f, &e) == 1);
  CHECK(e.head == 3 && e.nout == 1 && e.nin == 2);
  CHECK(e.out_len == 100 && e.in_len == 110);
  CHECK(e.iov[0].iov_base == f.ram + BUF_OFF);
  CHECK(e.iov[2].iov_base == f.ram + BUF_OFF + 400 && e.iov[2].iov_len == 60);
  CHECK(pop(&f, &e) == 0);
  vc_vq_push(&f.vq, e.head, 77);
  CHECK(used_idx(&f) == 1);
  uint32_t ent[2];
  memcpy(ent, f.ram + USED_OFF + 4, 8);
  CHECK(ent[0] == 3 && ent[1] == 77);
  uint64_t v = 0;
  CHECK(read(call, &v, 8) < 0); /* not signalled yet */
  vc_vq_signal(&f.vq);
  CHECK(read(call, &v, 8) == 8 && v == 1);
  vc_vq_signal(&f.vq); /* nothing new: no second signal */
  CHECK(read(call, &v, 8) < 0);
  /* unpop hands the same chain out again */
  make_avail(&f, 9);
  CHECK(pop(&f, &e) == 1 && e.head == 9);
  vc_vq_unpop(&f.vq);
  CHECK(pop(&f, &e) == 1 && e.head == 9 && e.nin == 1);
  fake_free(&f);
}

TEST(not_ready_rings_are_empty) {
  struct fake f;
  fake_init(&f, QSIZE);
  set_desc(&f, 0, GPA_BASE + BUF_OFF, 10, 0, 0);
  make_avail(&f, 0);
  struct vc_vq_elem e;
  f.vq.enabled = false;
  CHECK(pop(&f, &e) == 0);
  f.vq.enabled = true;
  f.vq.started = false;
  CHECK(pop(&f, &e) == 0);
  f.vq.started = true;
  CHECK(pop(&f, &e) == 1);
  fake_free(&f);
}

TEST(loop_is_caught) {
  struct fake f;
  fake_init(&f, QSIZE);
  set_desc(&f, 0, GPA_BASE + BUF_OFF, 10, VC_VRING_DESC_F_NEXT, 1);
  set_desc(&f, 1, GPA_BASE + BUF_OFF, 10, VC_VRING_DESC_F_NEXT, 0);
  make_avail(&f, 0);
  struct vc_vq_elem e;
  CHECK(pop(&f, &e) < 0);
  CHECK(f.vq.broken);
  CHECK(pop(&f, &e) == 0); /* a broken ring is left alone */
  fake_free(&f);
}

TEST(self_loop_is_caught) {
  struct fake f;
  fake_init(&f, QSIZE);
  set_desc(&f, 5, GPA_BASE + BUF_OFF, 10, VC_VRING_DESC_F_NEXT, 5);
  make_avail(&f, 5);
  struct vc_vq_elem e;
  CHECK(pop(&f, &e) < 0);
  fake_free(&f);
}

TEST(long_chain_over_seg_limit) {
  struct fake f;
  fake_init(&f, 128);
  for (uint16_t i = 0; i < 100; i++)
    set_desc(&f, i, GPA_BASE + BUF_OFF + i, 1, VC_VRING_DESC_F_NEXT,
             (uint16_t)(i + 1));
  set_desc(&f, 100, GPA_BASE + BUF_OFF, 1, 0, 0);
  make_avail(&f, 0);
  struct vc_vq_elem e;
  CHECK(pop(&f, &e) < 0);
  fake_free(&f);
  /* but a chain of exactly VC_VQ_MAX_SEGS is fine */
  fake_init(&f, 128);
  for (uint16_t i = 0; i < VC_VQ_MAX_SEGS - 1; i++)
    set_desc(&f, i, GPA_BASE + BUF_OFF + i, 1, VC_VRING_DESC_F_NEXT,
             (uint16_t)(i + 1));
  set_desc(&f, VC_VQ_MAX_SEGS - 1, GPA_BASE + BUF_OFF, 1, 0, 0);
  make_avail(&f, 0);
  CHECK(pop(&f, &e) == 1 && e.nout == VC_VQ_MAX_SEGS);
  fake_free(&f);
}

TEST(indices_past_ring) {
  struct fake f;
  struct vc_vq_elem e;
  fake_init(&f, QSIZE);
  make_avail(&f, QSIZE); /* head past the ring */
  CHECK(pop(&f, &e) < 0);
  fake_free(&f);

  fake_init(&f, QSIZE);
  set_desc(&f, 0, GPA_BASE + BUF_OFF, 10, VC_VRING_DESC_F_NEXT, 4000);
  make_avail(&f, 0);
  CHECK(pop(&f, &e) < 0); /* next past the ring */
  fake_free(&f);

  fake_init(&f, QSIZE);
  uint16_t *avail = (uint16_t *)(f.ram + AVAIL_OFF);
  avail[1] = QSIZE + 1; /* more entries than the ring holds */
  CHECK(pop(&f, &e) < 0);
  fake_free(&f);
}

TEST(bad_buffers) {
  struct fake f;
  struct vc_vq_elem e;
  const struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
  } bad[] = {
      {GPA_BASE + MEM_SIZE - 4, 8, 0},      /* straddles the end of RAM */
      {GPA_BASE + BUF_OFF, 0xffffffff, 0},  /* huge length */
      {0, 16, 0},                           /* below RAM */
      {UINT64_MAX - 4, 16, 0},              /* wraps */
      {GPA_BASE + BUF_OFF, 0, 0},           /* zero length */
      {GPA_BASE + BUF_OFF, 16, VC_VRING_DESC_F_INDIRECT},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    fake_init(&f, QSIZE);
    set_desc(&f, 2, bad[i].addr, bad[i].len, bad[i].flags, 0);
    make_avail(&f, 2);
    CHECK(pop(&f, &e) < 0);
    fake_free(&f);
  }
}

TEST(readable_after_writable) {
  struct fake f;
  struct vc_vq_elem e;
  fake_init(&f, QSIZE);
  set_desc(&f, 0, GPA_BASE + BUF_OFF, 10,
           VC_VRING_DESC_F_WRITE | VC_VRING_DESC_F_NEXT, 1);
  set_desc(&f, 1, GPA_BASE + BUF_OFF, 10, 0, 0);
  make_avail(&f, 0);
  CHECK(pop(&f, &e) < 0);
  fake_free(&f);
}

TEST(ring_must_be_mapped) {
  struct fake f;
  fake_init(&f, QSIZE);
  vc_error *err = NULL;
  f.vq.used_uva = UVA_BASE + MEM_SIZE - 8; /* used ring runs off the end */
  CHECK(vc_vq_map(&f.vq, &f.mem, &err) < 0 && err != NULL);
  vc_error_free(&err);
  CHECK(!vc_vq_ready(&f.vq));
  f.vq.used_uva = UVA_BASE + USED_OFF + 2; /* misaligned */
  CHECK(vc_vq_map(&f.vq, &f.mem, &err) < 0);
  vc_error_free(&err);
  f.vq.used_uva = UVA_BASE + USED_OFF;
  CHECK(vc_vq_map(&f.vq, &f.mem, NULL) == 0 && vc_vq_ready(&f.vq));
  fake_free(&f);
}

TEST(avail_wraps_around_65535) {
  struct fake f;
  fake_init(&f, QSIZE);
  f.vq.last_avail = 65534;
  f.avail_idx = 65534;
  set_desc(&f, 1, GPA_BASE + BUF_OFF, 10, 0, 0);
  struct vc_vq_elem e;
  for (int i = 0; i < 4; i++) {
    make_avail(&f, 1);
    CHECK(pop(&f, &e) == 1 && e.head == 1);
  }
  CHECK(f.vq.last_avail == 2);
  fake_free(&f);
}

TEST(iov_helpers) {
  uint8_t a[3], b[5], c[4];
  struct iovec iov[3] = {{a, 3}, {b, 5}, {c, 4}};
  const char *src = "abcdefghijkl";
  CHECK(vc_buf_to_iov(iov, 3, 0, src, 12) == 12);
  CHECK(memcmp(a, "abc", 3) == 0 && memcmp(b, "defgh", 5) == 0 &&
        memcmp(c, "ijkl", 4) == 0);
  char out[16] = {0};
  CHECK(vc_iov_to_buf(iov, 3, 2, out, 7) == 7);
  CHECK(memcmp(out, "cdefghi", 7) == 0);
  CHECK(vc_iov_to_buf(iov, 3, 10, out, 7) == 2); /* only 2 left */
  CHECK(vc_iov_to_buf(iov, 3, 100, out, 7) == 0);
  struct iovec s[3];
  unsigned n = vc_iov_slice(iov, 3, 4, 6, s, 3);
  CHECK(n == 2 && s[0].iov_base == b + 1 && s[0].iov_len == 4 &&
        s[1].iov_base == c && s[1].iov_len == 2);
  CHECK(vc_iov_slice(iov, 3, 0, 12, s, 1) == 1); /* capped by max */
  CHECK(vc_iov_slice(iov, 3, 12, 5, s, 3) == 0);
}

int main(void) {
  RUN(gmem_bounds);
  RUN(pop_and_push);
  RUN(not_ready_rings_are_empty);
  RUN(loop_is_caught);
  RUN(self_loop_is_caught);
  RUN(long_chain_over_seg_limit);
  RUN(indices_past_ring);
  RUN(bad_buffers);
  RUN(readable_after_writable);
  RUN(ring_must_be_mapped);
  RUN(avail_wraps_around_65535);
  RUN(iov_helpers);
  return TEST_SUMMARY();
}
