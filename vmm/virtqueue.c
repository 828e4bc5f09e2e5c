#include "vmm/virtqueue.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

/* Rings are little-endian (VIRTIO_F_VERSION_1); so is every host we build
 * for, which lets us use native loads and stores. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host");

static void *region_lookup(const struct vc_gmem *m, uint64_t addr,
                           uint64_t len, bool uva) {
  if (len == 0)
    len = 1;
  for (unsigned i = 0; i < m->n && i < VC_GMEM_MAX_REGIONS; i++) {
    const struct vc_gmem_region *r = &m->r[i];
    uint64_t start = uva ? r->uva : r->gpa;
    if (addr < start)
      continue;
    uint64_t off = addr - start;
    /* Written so that nothing can overflow. */
    if (off >= r->size || len > r->size - off)
      continue;
    return r->host + off;
  }
  return NULL;
}

void *vc_gmem_gpa(const struct vc_gmem *m, uint64_t gpa, uint64_t len) {
  return region_lookup(m, gpa, len, false);
}

void *vc_gmem_uva(const struct vc_gmem *m, uint64_t uva, uint64_t len) {
  return region_lookup(m, uva, len, true);
}

void vc_vq_init(struct vc_vq *vq) {
  memset(vq, 0, sizeof(*vq));
  vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

void vc_vq_reset(struct vc_vq *vq) {
  close_fd(&vq->kick_fd);
  close_fd(&vq->call_fd);
  close_fd(&vq->err_fd);
  vc_vq_init(vq);
}

int vc_vq_map(struct vc_vq *vq, const struct vc_gmem *m, vc_error **err) {
  vq->desc = NULL;
  vq->avail = NULL;
  vq->used = NULL;
  if (!vq->addr_set || vq->num == 0)
    return 0;
  uint64_t n = vq->num;
  void *d = vc_gmem_uva(m, vq->desc_uva, 16 * n);
  void *a = vc_gmem_uva(m, vq->avail_uva, 6 + 2 * n);
  void *u = vc_gmem_uva(m, vq->used_uva, 6 + 8 * n);
  if (d == NULL || a == NULL || u == NULL)
    return vc_error_set(err, 0,
                        "virtqueue: ring (desc 0x%" PRIx64 ", avail 0x%" PRIx64
                        ", used 0x%" PRIx64 ", size %u) is not in mapped memory",
                        vq->desc_uva, vq->avail_uva, vq->used_uva, vq->num);
  if ((uintptr_t)d % 16 || (uintptr_t)a % 2 || (uintptr_t)u % 4)
    return vc_error_set(err, 0, "virtqueue: misaligned ring");
  vq->desc = d;
  vq->avail = a;
  vq->used = u;
  return 0;
}

bool vc_vq_ready(const struct vc_vq *vq) {
  return vq->started && vq->enabled && !vq->broken && vq->desc != NULL;
}

/* Marks the ring broken: a guest that corrupts its ring loses the device,
 * exactly as with QEMU's own virtio devices. */
static int vq_fail(struct vc_vq *vq, vc_error **err, const char *what,
                   unsigned a, unsigned b) {
  vq->broken = true;
  return vc_error_set(err, 0, "virtqueue: guest error: %s (%u, %u)", what, a,
                      b);
}

int vc_vq_pop(struct vc_vq *vq, const struct vc_gmem *m, struct vc_vq_elem *e,
              vc_error **err) {
  if (!vc_vq_ready(vq))
    return 0;
  uint16_t num = vq->num;
  /* Acquire: the ring entry and descriptors are read after the index. */
  uint16_t avail_idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
  uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
  if (pending == 0)
    return 0;
  if (pending > num)
    return vq_fail(vq, err, "avail index runs ahead of the ring (idx, size)",
                   avail_idx, num);
  uint16_t head = vq->avail[2 + (vq->last_avail & (num - 1))];
  if (head >= num)
    return vq_fail(vq, err, "head index past the ring (head, size)", head, num);

  e->head = head;
  e->nout = e->nin = 0;
  e->out_len = e->in_len = 0;
  uint16_t i = head;
  for (unsigned count = 1;; count++) {
    if (count > num)
      return vq_fail(vq, err, "chain longer than the ring, a loop? (head, size)",
                     head, num);
    /* Each field is read exactly once: the guest may rewrite the table
     * while we look at it. */
    uint64_t addr = vq->desc[i].addr;
    uint32_t len = vq->desc[i].len;
    uint16_t flags = vq->desc[i].flags;
    uint16_t next = vq->desc[i].next;
    if (flags & VC_VRING_DESC_F_INDIRECT)
      return vq_fail(vq, err, "indirect descriptor, not negotiated (desc, flags)",
                     i, flags);
    if (len == 0)
      return vq_fail(vq, err, "zero-length descriptor (desc, head)", i, head);
    void *p = vc_gmem_gpa(m, addr, len);
    if (p == NULL)
      return vq_fail(vq, err, "buffer outside guest RAM (desc, len)", i, len);
    if (e->nout + e->nin >= VC_VQ_MAX_SEGS)
      return vq_fail(vq, err, "chain has too many descriptors (head, max)",
                     head, VC_VQ_MAX_SEGS);
    struct iovec *v = &e->iov[e->nout + e->nin];
    v->iov_base = p;
    v->iov_len = len;
    if (flags & VC_VRING_DESC_F_WRITE) {
      e->nin++;
      e->in_len += len;
    } else {
      if (e->nin != 0)
        return vq_fail(vq, err,
                       "readable descriptor after a writable one (desc, head)",
                       i, head);
      e->nout++;
      e->out_len += len;
    }
    if (!(flags & VC_VRING_DESC_F_NEXT))
      break;
    if (next >= num)
      return vq_fail(vq, err, "next index past the ring (next, size)", next,
                     num);
    i = next;
  }
  vq->last_avail++;
  return 1;
}

void vc_vq_unpop(struct vc_vq *vq) { vq->last_avail--; }

void vc_vq_push(struct vc_vq *vq, uint16_t head, uint32_t len) {
  if (vq->used == NULL)
    return;
  uint16_t slot = vq->used_idx & (vq->num - 1);
  volatile uint32_t *ent = (volatile uint32_t *)(vq->used + 4 + 8 * slot);
  ent[0] = head;
  ent[1] = len;
  vq->used_idx++;
  /* Release: the entry is visible before the index that publishes it. */
  __atomic_store_n((volatile uint16_t *)(vq->used + 2), vq->used_idx,
                   __ATOMIC_RELEASE);
  vq->need_signal = true;
}

void vc_vq_signal(struct vc_vq *vq) {
  if (!vq->need_signal)
    return;
  vq->need_signal = false;
  if (vq->call_fd < 0 || vq->avail == NULL)
    return;
  /* The driver asks for no interrupt while it is draining the ring anyway
   * (VRING_AVAIL_F_NO_INTERRUPT): under TCG each one costs a QEMU main
   * loop wake-up and a guest interrupt.  The fence orders our used index
   * store before the flag load; the driver clears the flag before it
   * looks at the used index again, so no update goes unseen. */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (vq->avail[0] & VC_VRING_AVAIL_F_NO_INTERRUPT)
    return;
  uint64_t one = 1;
  /* EAGAIN means the counter is already non-zero: the guest will look. */
  while (write(vq->call_fd, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

size_t vc_iov_to_buf(const struct iovec *iov, unsigned n, size_t skip,
                     void *buf, size_t len) {
  size_t done = 0;
  for (unsigned i = 0; i < n && done < len; i++) {
    size_t l = iov[i].iov_len;
    if (skip >= l) {
      skip -= l;
      continue;
    }
    size_t c = l - skip;
    if (c > len - done)
      c = len - done;
    memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, c);
    done += c;
    skip = 0;
  }
  return done;
}

size_t vc_buf_to_iov(const struct iovec *iov, unsigned n, size_t skip,
                     const void *buf, size_t len) {
  size_t done = 0;
  for (unsigned i = 0; i < n && done < len; i++) {
    size_t l = iov[i].iov_len;
    if (skip >= l) {
      skip -= l;
      continue;
    }
    size_t c = l - skip;
    if (c > len - done)
      c = len - done;
    memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)buf + done, c);
    done += c;
    skip = 0;
  }
  return done;
}

unsigned vc_iov_slice(const struct iovec *iov, unsigned n, size_t skip,
                      size_t len, struct iovec *out, unsigned max) {
  unsigned k = 0;
  for (unsigned i = 0; i < n && len > 0 && k < max; i++) {
    size_t l = iov[i].iov_len;
    if (skip >= l) {
      skip -= l;
      continue;
    }
    size_t c = l - skip;
    if (c > len)
      c = len;
    out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
    out[k].iov_len = c;
    k++;
    len -= c;
    skip = 0;
  }
  return k;
}
