#include "vmm/vhost_user.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/util.h"

/* Payload layouts (little-endian, packed as the spec gives them). */
struct vu_state {
  uint32_t index, num;
};
struct vu_addr {
  uint32_t index, flags;
  uint64_t desc, used, avail, log;
};
struct vu_region {
  uint64_t gpa, size, uva, mmap_offset;
};
struct vu_config_hdr {
  uint32_t offset, size, flags;
};
_Static_assert(sizeof(struct vu_addr) == 40, "vring addr layout");
_Static_assert(sizeof(struct vu_region) == 32, "region layout");

const char *vc_vu_request_name(uint32_t r) {
  static const char *const names[] = {
      [1] = "GET_FEATURES",        [2] = "SET_FEATURES",
      [3] = "SET_OWNER",           [4] = "RESET_OWNER",
      [5] = "SET_MEM_TABLE",       [6] = "SET_LOG_BASE",
      [7] = "SET_LOG_FD",          [8] = "SET_VRING_NUM",
      [9] = "SET_VRING_ADDR",      [10] = "SET_VRING_BASE",
      [11] = "GET_VRING_BASE",     [12] = "SET_VRING_KICK",
      [13] = "SET_VRING_CALL",     [14] = "SET_VRING_ERR",
      [15] = "GET_PROTOCOL_FEATURES", [16] = "SET_PROTOCOL_FEATURES",
      [17] = "GET_QUEUE_NUM",      [18] = "SET_VRING_ENABLE",
      [19] = "SEND_RARP",          [20] = "NET_SET_MTU",
      [21] = "SET_SLAVE_REQ_FD",   [22] = "IOTLB_MSG",
      [23] = "SET_VRING_ENDIAN",   [24] = "GET_CONFIG",
      [25] = "SET_CONFIG",         [31] = "GET_INFLIGHT_FD",
      [32] = "SET_INFLIGHT_FD",    [34] = "RESET_DEVICE",
      [36] = "GET_MAX_MEM_SLOTS",  [37] = "ADD_MEM_REG",
      [38] = "REM_MEM_REG",        [39] = "SET_STATUS",
      [40] = "GET_STATUS",
  };
  if (r < sizeof(names) / sizeof(names[0]) && names[r] != NULL)
    return names[r];
  return "unknown";
}

static void *default_map(void *opaque, int fd, uint64_t len, vc_error **err) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return vc_error_set(err, errno, "vhost-user: fstat memory fd"), NULL;
  /* Touching a mapping past the end of the file raises SIGBUS: refuse
   * regions larger than their file up front. */
  if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < len)
    return vc_error_set(err, 0,
                        "vhost-user: memory region (%" PRIu64
                        " bytes) larger than its file (%lld bytes)",
                        len, (long long)st.st_size),
           NULL;
  if (len > SIZE_MAX)
    return vc_error_set(err, 0, "vhost-user: memory region too large"), NULL;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return vc_error_set(err, errno, "vhost-user: mmap %" PRIu64 " bytes", len),
           NULL;
  return p;
}

static void default_unmap(void *opaque, void *addr, uint64_t len) {
  munmap(addr, len);
}

void vc_vu_init(struct vc_vu *vu, const struct vc_vu_ops *ops,
                unsigned num_queues, uint64_t device_features) {
  memset(vu, 0, sizeof(*vu));
  if (ops != NULL)
    vu->ops = *ops;
  if (vu->ops.map == NULL || vu->ops.unmap == NULL) {
    vu->ops.map = default_map;
    vu->ops.unmap = default_unmap;
  }
  if (num_queues > VC_VU_MAX_QUEUES)
    num_queues = VC_VU_MAX_QUEUES;
  vu->num_queues = num_queues;
  vu->offered_features = device_features | (1ULL << VC_VIRTIO_F_VERSION_1) |
                         (1ULL << VC_VU_F_PROTOCOL_FEATURES);
  vu->offered_protocol_features =
      (1ULL << VC_VU_PROTOCOL_F_REPLY_ACK) | (1ULL << VC_VU_PROTOCOL_F_CONFIG);
  for (unsigned i = 0; i < VC_VU_MAX_QUEUES; i++)
    vc_vq_init(&vu->vq[i]);
}

static void unmap_all(struct vc_vu *vu, struct vc_gmem *m) {
  for (unsigned i = 0; i < m->n; i++)
    if (m->r[i].map_base != NULL)
      vu->ops.unmap(vu->ops.opaque, m->r[i].map_base, m->r[i].map_len);
  memset(m, 0, sizeof(*m));
}

void vc_vu_cleanup(struct vc_vu *vu) {
  for (unsigned i = 0; i < VC_VU_MAX_QUEUES; i++)
    vc_vq_reset(&vu->vq[i]);
  unmap_all(vu, &vu->mem);
}

static void changed(struct vc_vu *vu) {
  if (vu->ops.rings_changed != NULL)
    vu->ops.rings_changed(vu->ops.opaque);
}

/* ---- framing ---- */

static void close_fds(int *fds, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

int vc_vu_recv(int sock, struct vc_vu_msg *msg, int *fds, unsigned *nfds,
               vc_error **err) {
  *nfds = 0;
  uint8_t hdr[VC_VU_HDR_SIZE];
  size_t got = 0;
  while (got < sizeof(hdr)) {
    struct iovec iov = {hdr + got, sizeof(hdr) - got};
    union {
      char buf[CMSG_SPACE(sizeof(int) * VC_VU_MAX_FDS)];
      struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    ssize_t r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      close_fds(fds, *nfds);
      *nfds = 0;
      return vc_error_set(err, errno, "vhost-user: receive");
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
         c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      unsigned n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (unsigned i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (*nfds < VC_VU_MAX_FDS)
          fds[(*nfds)++] = fd;
        else
          close(fd);
      }
    }
    if (mh.msg_flags & MSG_CTRUNC) {
      close_fds(fds, *nfds);
      *nfds = 0;
      return vc_error_set(err, 0, "vhost-user: too many fds in one message");
    }
    if (r == 0) {
      close_fds(fds, *nfds);
      *nfds = 0;
      if (got == 0)
        return 0;
      return vc_error_set(err, 0, "vhost-user: EOF inside a message header");
    }
    got += (size_t)r;
  }
  memcpy(&msg->request, hdr, 4);
  memcpy(&msg->flags, hdr + 4, 4);
  memcpy(&msg->size, hdr + 8, 4);
  if (msg->size > VC_VU_MAX_PAYLOAD) {
    close_fds(fds, *nfds);
    *nfds = 0;
    return vc_error_set(err, 0,
                        "vhost-user: %s message of %u bytes (limit %u)",
                        vc_vu_request_name(msg->request), msg->size,
                        VC_VU_MAX_PAYLOAD);
  }
  if (msg->size > 0) {
    ssize_t r = vc_read_all(sock, msg->payload, msg->size);
    if (r != (ssize_t)msg->size) {
      int e = r < 0 ? errno : 0;
      close_fds(fds, *nfds);
      *nfds = 0;
      return vc_error_set(err, e, "vhost-user: short %s message",
                          vc_vu_request_name(msg->request));
    }
  }
  return 1;
}

int vc_vu_send(int sock, const struct vc_vu_msg *reply, vc_error **err) {
  uint8_t buf[VC_VU_HDR_SIZE + VC_VU_MAX_PAYLOAD];
  memcpy(buf, &reply->request, 4);
  memcpy(buf + 4, &reply->flags, 4);
  memcpy(buf + 8, &reply->size, 4);
  memcpy(buf + VC_VU_HDR_SIZE, reply->payload, reply->size);
  size_t len = VC_VU_HDR_SIZE + reply->size, done = 0;
  while (done < len) {
    ssize_t w = send(sock, buf + done, len - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return vc_error_set(err, errno, "vhost-user: send %s reply",
                          vc_vu_request_name(reply->request));
    done += (size_t)w;
  }
  return 0;
}

/* ---- dispatch ---- */

static int want_size(const struct vc_vu_msg *msg, uint32_t size,
                     vc_error **err) {
  if (msg->size != size)
    return vc_error_set(err, 0, "vhost-user: %s with a %u-byte payload (want %u)",
                        vc_vu_request_name(msg->request), msg->size, size);
  return 0;
}

static int want_fds(const struct vc_vu_msg *msg, unsigned nfds, unsigned want,
                    vc_error **err) {
  if (nfds != want)
    return vc_error_set(err, 0, "vhost-user: %s with %u fds (want %u)",
                        vc_vu_request_name(msg->request), nfds, want);
  return 0;
}

static uint64_t get_u64(const struct vc_vu_msg *msg) {
  uint64_t v;
  memcpy(&v, msg->payload, 8);
  return v;
}

static void reply_u64(struct vc_vu_msg *reply, uint64_t v) {
  reply->size = 8;
  memcpy(reply->payload, &v, 8);
}

static struct vc_vq *get_vq(struct vc_vu *vu, const struct vc_vu_msg *msg,
                            uint32_t index, vc_error **err) {
  if (index >= vu->num_queues) {
    vc_error_set(err, 0, "vhost-user: %s for queue %u (the device has %u)",
                 vc_vu_request_name(msg->request), index, vu->num_queues);
    return NULL;
  }
  return &vu->vq[index];
}

/* On success the fds are closed and *pnfds set to 0 (the mappings keep the
 * memory); on failure the caller closes them. */
static int set_mem_table(struct vc_vu *vu, const struct vc_vu_msg *msg,
                         int *fds, unsigned *pnfds, vc_error **err) {
  unsigned nfds = *pnfds;
  if (msg->size < 8)
    return want_size(msg, 8, err);
  uint32_t n;
  memcpy(&n, msg->payload, 4);
  if (n == 0 || n > VC_GMEM_MAX_REGIONS)
    return vc_error_set(err, 0, "vhost-user: SET_MEM_TABLE with %u regions (1..%d)",
                        n, VC_GMEM_MAX_REGIONS);
  if (want_size(msg, 8 + n * (uint32_t)sizeof(struct vu_region), err) < 0 ||
      want_fds(msg, nfds, n, err) < 0)
    return -1;
  struct vu_region rg[VC_GMEM_MAX_REGIONS];
  memcpy(rg, msg->payload + 8, n * sizeof(struct vu_region));
  for (uint32_t i = 0; i < n; i++) {
    if (rg[i].size == 0 || rg[i].gpa + rg[i].size < rg[i].gpa ||
        rg[i].uva + rg[i].size < rg[i].uva ||
        rg[i].mmap_offset + rg[i].size < rg[i].mmap_offset)
      return vc_error_set(err, 0,
                          "vhost-user: memory region %u (gpa 0x%" PRIx64
                          ", size 0x%" PRIx64 ") is empty or wraps",
                          i, rg[i].gpa, rg[i].size);
    for (uint32_t j = 0; j < i; j++)
      if (rg[i].gpa < rg[j].gpa + rg[j].size &&
          rg[j].gpa < rg[i].gpa + rg[i].size)
        return vc_error_set(err, 0, "vhost-user: memory regions %u and %u overlap",
                            j, i);
  }
  struct vc_gmem m;
  memset(&m, 0, sizeof(m));
  for (uint32_t i = 0; i < n; i++) {
    uint64_t len = rg[i].mmap_offset + rg[i].size;
    void *p = vu->ops.map(vu->ops.opaque, fds[i], len, err);
    if (p == NULL) {
      unmap_all(vu, &m);
      return vc_error_wrap(err, "vhost-user: memory region %u", i);
    }
    m.r[i].gpa = rg[i].gpa;
    m.r[i].size = rg[i].size;
    m.r[i].uva = rg[i].uva;
    m.r[i].host = (uint8_t *)p + rg[i].mmap_offset;
    m.r[i].map_base = p;
    m.r[i].map_len = len;
    m.n = i + 1;
  }
  close_fds(fds, nfds);
  *pnfds = 0;
  unmap_all(vu, &vu->mem);
  vu->mem = m;
  int rc = 0;
  for (unsigned i = 0; i < vu->num_queues; i++) {
    vc_error *e = NULL;
    if (vc_vq_map(&vu->vq[i], &vu->mem, &e) < 0 && vu->vq[i].started && rc == 0)
      rc = vc_error_set(err, 0, "vhost-user: queue %u after SET_MEM_TABLE: %s",
                        i, e->msg);
    vc_error_free(&e);
  }
  changed(vu);
  return rc;
}

/* SET_VRING_KICK/CALL/ERR: the payload is a u64 whose low byte is the
 * queue index and bit 8 says "no fd". */
static int set_vring_fd(struct vc_vu *vu, const struct vc_vu_msg *msg, int *fds,
                        unsigned nfds, vc_error **err) {
  if (want_size(msg, 8, err) < 0)
    return -1;
  uint64_t v = get_u64(msg);
  if (v & ~(uint64_t)(0xff | VC_VU_VRING_NOFD))
    return vc_error_set(err, 0, "vhost-user: %s with unknown bits 0x%" PRIx64,
                        vc_vu_request_name(msg->request), v);
  bool nofd = v & VC_VU_VRING_NOFD;
  if (want_fds(msg, nfds, nofd ? 0 : 1, err) < 0)
    return -1;
  struct vc_vq *vq = get_vq(vu, msg, v & 0xff, err);
  if (vq == NULL)
    return -1;
  int fd = nofd ? -1 : fds[0];
  int *slot = msg->request == VC_VU_SET_VRING_KICK   ? &vq->kick_fd
              : msg->request == VC_VU_SET_VRING_CALL ? &vq->call_fd
                                                     : &vq->err_fd;
  if (msg->request == VC_VU_SET_VRING_KICK) {
    /* We wait for kicks in epoll; a polling front-end is not supported. */
    if (nofd)
      return vc_error_set(err, 0, "vhost-user: SET_VRING_KICK without an fd "
                                  "(polling mode) is not supported");
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
      return vc_error_set(err, errno, "vhost-user: kick fd");
  }
  if (*slot >= 0)
    close(*slot);
  *slot = fd;
  if (msg->request == VC_VU_SET_VRING_KICK) {
    /* The ring starts now (what QEMU, DPDK and rust-vmm all do). */
    vq->started = true;
    vq->broken = false;
    unsigned qi = (unsigned)(vq - vu->vq);
    if (vu->was_started[qi] && vq->last_avail != vu->stopped_base[qi] &&
        vu->ops.device_reset != NULL)
      vu->ops.device_reset(vu->ops.opaque);
    vu->was_started[qi] = true;
  }
  changed(vu);
  return 0;
}

static int dispatch(struct vc_vu *vu, const struct vc_vu_msg *msg, int *fds,
                    unsigned *nfds, struct vc_vu_msg *reply, bool *has_reply,
                    vc_error **err) {
  struct vu_state st;
  struct vc_vq *vq;
  switch (msg->request) {
  case VC_VU_GET_FEATURES:
    if (want_size(msg, 0, err) < 0)
      return -1;
    reply_u64(reply, vu->offered_features);
    *has_reply = true;
    return 0;
  case VC_VU_SET_FEATURES: {
    if (want_size(msg, 8, err) < 0)
      return -1;
    uint64_t f = get_u64(msg);
    if (f & ~vu->offered_features)
      return vc_error_set(err, 0,
                          "vhost-user: SET_FEATURES 0x%" PRIx64
                          " has bits we did not offer (0x%" PRIx64 ")",
                          f, vu->offered_features);
    vu->features = f;
    /* Without protocol features rings are enabled from the start. */
    if (!(f & (1ULL << VC_VU_F_PROTOCOL_FEATURES)))
      for (unsigned i = 0; i < vu->num_queues; i++)
        vu->vq[i].enabled = true;
    changed(vu);
    return 0;
  }
  case VC_VU_GET_PROTOCOL_FEATURES:
    if (want_size(msg, 0, err) < 0)
      return -1;
    reply_u64(reply, vu->offered_protocol_features);
    *has_reply = true;
    return 0;
  case VC_VU_SET_PROTOCOL_FEATURES: {
    if (want_size(msg, 8, err) < 0)
      return -1;
    uint64_t f = get_u64(msg);
    if (f & ~vu->offered_protocol_features)
      return vc_error_set(err, 0,
                          "vhost-user: SET_PROTOCOL_FEATURES 0x%" PRIx64
                          " has bits we did not offer (0x%" PRIx64 ")",
                          f, vu->offered_protocol_features);
    vu->protocol_features = f;
    return 0;
  }
  case VC_VU_SET_OWNER:
    if (want_size(msg, 0, err) < 0)
      return -1;
    vu->owner = true;
    return 0;
  case VC_VU_RESET_OWNER:
    if (want_size(msg, 0, err) < 0)
      return -1;
    for (unsigned i = 0; i < VC_VU_MAX_QUEUES; i++)
      vc_vq_reset(&vu->vq[i]);
    unmap_all(vu, &vu->mem);
    vu->owner = false;
    vu->features = vu->protocol_features = 0;
    if (vu->ops.device_reset != NULL)
      vu->ops.device_reset(vu->ops.opaque);
    changed(vu);
    return 0;
  case VC_VU_SET_MEM_TABLE:
    return set_mem_table(vu, msg, fds, nfds, err);
  case VC_VU_SET_VRING_NUM:
    if (want_size(msg, sizeof(st), err) < 0)
      return -1;
    memcpy(&st, msg->payload, sizeof(st));
    if ((vq = get_vq(vu, msg, st.index, err)) == NULL)
      return -1;
    if (st.num == 0 || st.num > VC_VQ_MAX_SIZE || (st.num & (st.num - 1)))
      return vc_error_set(err, 0, "vhost-user: ring size %u is not a power of "
                                  "two in 1..%d", st.num, VC_VQ_MAX_SIZE);
    vq->num = (uint16_t)st.num;
    /* The old addresses may not fit the new size: wait for SET_VRING_ADDR. */
    vq->addr_set = false;
    vc_vq_map(vq, &vu->mem, NULL);
    changed(vu);
    return 0;
  case VC_VU_SET_VRING_ADDR: {
    struct vu_addr a;
    if (want_size(msg, sizeof(a), err) < 0)
      return -1;
    memcpy(&a, msg->payload, sizeof(a));
    if ((vq = get_vq(vu, msg, a.index, err)) == NULL)
      return -1;
    if (a.flags != 0)
      return vc_error_set(err, 0, "vhost-user: SET_VRING_ADDR flags 0x%x "
                                  "(dirty logging was not offered)", a.flags);
    if (vq->num == 0)
      return vc_error_set(err, 0, "vhost-user: SET_VRING_ADDR before SET_VRING_NUM");
    vq->desc_uva = a.desc;
    vq->avail_uva = a.avail;
    vq->used_uva = a.used;
    vq->addr_set = true;
    if (vc_vq_map(vq, &vu->mem, err) < 0) {
      vq->addr_set = false;
      return -1;
    }
    vq->used_idx = __atomic_load_n((volatile uint16_t *)(vq->used + 2),
                                   __ATOMIC_ACQUIRE);
    changed(vu);
    return 0;
  }
  case VC_VU_SET_VRING_BASE:
    if (want_size(msg, sizeof(st), err) < 0)
      return -1;
    memcpy(&st, msg->payload, sizeof(st));
    if ((vq = get_vq(vu, msg, st.index, err)) == NULL)
      return -1;
    if (st.num > 0xffff)
      return vc_error_set(err, 0, "vhost-user: SET_VRING_BASE %u is not a split "
                                  "ring index", st.num);
    vq->last_avail = (uint16_t)st.num;
    return 0;
  case VC_VU_GET_VRING_BASE:
    if (want_size(msg, sizeof(st), err) < 0)
      return -1;
    memcpy(&st, msg->payload, sizeof(st));
    if ((vq = get_vq(vu, msg, st.index, err)) == NULL)
      return -1;
    /* Stops the ring: from now on we must not touch it. */
    vq->started = false;
    if (vq->kick_fd >= 0)
      close(vq->kick_fd);
    vq->kick_fd = -1;
    vu->stopped_base[st.index] = vq->last_avail;
    st.num = vq->last_avail;
    reply->size = sizeof(st);
    memcpy(reply->payload, &st, sizeof(st));
    *has_reply = true;
    changed(vu);
    return 0;
  case VC_VU_SET_VRING_KICK:
  case VC_VU_SET_VRING_CALL:
  case VC_VU_SET_VRING_ERR: {
    int rc = set_vring_fd(vu, msg, fds, *nfds, err);
    if (rc == 0)
      *nfds = 0; /* stored */
    return rc;
  }
  case VC_VU_SET_VRING_ENABLE:
    if (want_size(msg, sizeof(st), err) < 0)
      return -1;
    memcpy(&st, msg->payload, sizeof(st));
    if ((vq = get_vq(vu, msg, st.index, err)) == NULL)
      return -1;
    if (st.num > 1)
      return vc_error_set(err, 0, "vhost-user: SET_VRING_ENABLE %u", st.num);
    vq->enabled = st.num == 1;
    changed(vu);
    return 0;
  case VC_VU_GET_QUEUE_NUM:
    if (want_size(msg, 0, err) < 0)
      return -1;
    reply_u64(reply, vu->num_queues);
    *has_reply = true;
    return 0;
  case VC_VU_GET_CONFIG: {
    struct vu_config_hdr h;
    if (msg->size < sizeof(h))
      return want_size(msg, sizeof(h), err);
    memcpy(&h, msg->payload, sizeof(h));
    if (h.size > VC_VU_MAX_CONFIG || h.offset > VC_VU_MAX_CONFIG - h.size)
      return vc_error_set(err, 0, "vhost-user: GET_CONFIG offset %u size %u "
                                  "(config space is %d bytes)",
                          h.offset, h.size, VC_VU_MAX_CONFIG);
    if (want_size(msg, sizeof(h) + h.size, err) < 0)
      return -1;
    memcpy(reply->payload, &h, sizeof(h));
    memset(reply->payload + sizeof(h), 0, h.size);
    if (vu->ops.get_config != NULL)
      vu->ops.get_config(vu->ops.opaque, h.offset, reply->payload + sizeof(h),
                         h.size);
    reply->size = sizeof(h) + h.size;
    *has_reply = true;
    return 0;
  }
  case VC_VU_SET_CONFIG:
    return vc_error_set(err, 0, "vhost-user: SET_CONFIG: the vsock config "
                                "space is read-only");
  default:
    return vc_error_set(err, 0, "vhost-user: unsupported request %u (%s)",
                        msg->request, vc_vu_request_name(msg->request));
  }
}

int vc_vu_handle(struct vc_vu *vu, const struct vc_vu_msg *msg, int *fds,
                 unsigned nfds, struct vc_vu_msg *reply, bool *has_reply,
                 vc_error **err) {
  *has_reply = false;
  memset(reply, 0, offsetof(struct vc_vu_msg, payload));
  reply->request = msg->request;
  reply->flags = VC_VU_VERSION | VC_VU_FLAG_REPLY;
  int rc;
  if ((msg->flags & 0x3) != VC_VU_VERSION)
    rc = vc_error_set(err, 0, "vhost-user: protocol version %u (we speak 1)",
                      msg->flags & 0x3);
  else if (msg->size > VC_VU_MAX_PAYLOAD)
    rc = vc_error_set(err, 0, "vhost-user: oversized message");
  else
    rc = dispatch(vu, msg, fds, &nfds, reply, has_reply, err);
  close_fds(fds, nfds);
  if (rc < 0) {
    *has_reply = false;
    return rc;
  }
  /* REPLY_ACK: a request without its own reply gets a u64 status. */
  if (!*has_reply && (msg->flags & VC_VU_FLAG_NEED_REPLY) &&
      (vu->protocol_features & (1ULL << VC_VU_PROTOCOL_F_REPLY_ACK))) {
    reply_u64(reply, 0);
    *has_reply = true;
  }
  return 0;
}
