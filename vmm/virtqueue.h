/* Split virtqueues (virtio 1.x, section 2.7) over guest memory that a
 * vhost-user front-end shared with us.  The guest is untrusted: every index,
 * address and length read from guest memory is checked before use, and guest
 * memory is only ever reached through vc_gmem_* (a range that is not wholly
 * inside one mapped region is an error, never an access). */
#ifndef VC_VIRTQUEUE_H
#define VC_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/base/error.h"

#define VC_GMEM_MAX_REGIONS 8

/* One region of guest RAM, as SET_MEM_TABLE describes it.  `host` points at
 * the bytes for guest physical address `gpa`; `uva` is where the front-end
 * (QEMU) has the same bytes in its own address space, which is how ring
 * addresses are given.  map_base/map_len are what to munmap (NULL for fake
 * memory in tests). */
struct vc_gmem_region {
  uint64_t gpa, size, uva;
  uint8_t *host;
  void *map_base;
  size_t map_len;
};

struct vc_gmem {
  struct vc_gmem_region r[VC_GMEM_MAX_REGIONS];
  unsigned n;
};

/* Host pointer for [gpa, gpa+len) if the whole range lies in one region
 * (len 0 counts as 1 byte), else NULL. */
void *vc_gmem_gpa(const struct vc_gmem *m, uint64_t gpa, uint64_t len);
/* The same for a front-end virtual address (ring addresses). */
void *vc_gmem_uva(const struct vc_gmem *m, uint64_t uva, uint64_t len);

#define VC_VQ_MAX_SIZE 32768
/* Longest chain we accept.  Linux's vsock driver uses 1 or 2 descriptors. */
#define VC_VQ_MAX_SEGS 64

#define VC_VRING_DESC_F_NEXT 1
#define VC_VRING_DESC_F_WRITE 2
#define VC_VRING_DESC_F_INDIRECT 4
/* avail ring flags: the driver wants no interrupt for now */
#define VC_VRING_AVAIL_F_NO_INTERRUPT 1

struct vc_vring_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct vc_vq {
  /* Set by the vhost-user layer. */
  uint16_t num;               /* ring size, a power of two; 0 = unset */
  bool addr_set;
  uint64_t desc_uva, avail_uva, used_uva;
  uint16_t last_avail;        /* next avail entry we will take */
  uint16_t used_idx;          /* our copy of used->idx */
  int kick_fd, call_fd, err_fd;
  bool started;               /* SET_VRING_KICK seen, not stopped since */
  bool enabled;
  /* Derived by vc_vq_map. */
  volatile struct vc_vring_desc *desc;
  volatile uint16_t *avail;   /* flags, idx, ring[num], used_event */
  volatile uint8_t *used;     /* flags, idx, {id, len}[num], avail_event */
  bool broken;                /* the guest broke the ring; we stop using it */
  bool need_signal;           /* used entries added since the last signal */
};

/* A popped descriptor chain: iov[0..nout) are device-readable,
 * iov[nout..nout+nin) device-writable. */
struct vc_vq_elem {
  uint16_t head;
  unsigned nout, nin;
  size_t out_len, in_len;
  struct iovec iov[VC_VQ_MAX_SEGS];
};

void vc_vq_init(struct vc_vq *vq);
/* Closes the eventfds and forgets the ring; keeps nothing mapped. */
void vc_vq_reset(struct vc_vq *vq);
/* (Re)translates the ring addresses after SET_VRING_ADDR or a new memory
 * table.  Fails if a ring is not wholly inside one region or misaligned. */
int vc_vq_map(struct vc_vq *vq, const struct vc_gmem *m, vc_error **err);
/* Started, enabled, mapped and not broken. */
bool vc_vq_ready(const struct vc_vq *vq);

/* Takes the next available chain.  Returns 1 with *e filled, 0 if the ring
 * is empty (or not ready), -1 if the guest put something invalid in it; the
 * ring is then marked broken and *err says why. */
int vc_vq_pop(struct vc_vq *vq, const struct vc_gmem *m, struct vc_vq_elem *e,
              vc_error **err);
/* Gives back the chain taken by the last pop (nothing may be pushed in
 * between). */
void vc_vq_unpop(struct vc_vq *vq);
/* Returns a chain to the guest with `len` bytes written into it. */
void vc_vq_push(struct vc_vq *vq, uint16_t head, uint32_t len);
/* Signals the call eventfd if anything was pushed since the last signal. */
void vc_vq_signal(struct vc_vq *vq);

/* Copies between a flat buffer and iov[first..first+n) starting `skip`
 * bytes in; return the number of bytes copied. */
size_t vc_iov_to_buf(const struct iovec *iov, unsigned n, size_t skip,
                     void *buf, size_t len);
size_t vc_buf_to_iov(const struct iovec *iov, unsigned n, size_t skip,
                     const void *buf, size_t len);
/* Builds in `out` (room for `max`) the sub-vector of iov[0..n) covering
 * bytes [skip, skip+len); returns its length in entries. */
unsigned vc_iov_slice(const struct iovec *iov, unsigned n, size_t skip,
                      size_t len, struct iovec *out, unsigned max);

#endif
