/* The back-end ("slave") side of the vhost-user protocol (QEMU's
 * docs/interop/vhost-user.rst), as much of it as a vsock device needs.
 * Framing and dispatch are split so the dispatcher can be fuzzed without a
 * socket: vc_vu_recv reads one message and its fds, vc_vu_handle applies
 * it, vc_vu_send writes the reply. */
#ifndef VC_VHOST_USER_H
#define VC_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/base/error.h"
#include "vmm/virtqueue.h"

enum {
  VC_VU_GET_FEATURES = 1,
  VC_VU_SET_FEATURES = 2,
  VC_VU_SET_OWNER = 3,
  VC_VU_RESET_OWNER = 4,
  VC_VU_SET_MEM_TABLE = 5,
  VC_VU_SET_VRING_NUM = 8,
  VC_VU_SET_VRING_ADDR = 9,
  VC_VU_SET_VRING_BASE = 10,
  VC_VU_GET_VRING_BASE = 11,
  VC_VU_SET_VRING_KICK = 12,
  VC_VU_SET_VRING_CALL = 13,
  VC_VU_SET_VRING_ERR = 14,
  VC_VU_GET_PROTOCOL_FEATURES = 15,
  VC_VU_SET_PROTOCOL_FEATURES = 16,
  VC_VU_GET_QUEUE_NUM = 17,
  VC_VU_SET_VRING_ENABLE = 18,
  VC_VU_GET_CONFIG = 24,
  VC_VU_SET_CONFIG = 25,
};

#define VC_VU_VERSION 0x1u
#define VC_VU_FLAG_REPLY 0x4u
#define VC_VU_FLAG_NEED_REPLY 0x8u
#define VC_VU_VRING_NOFD 0x100u

#define VC_VIRTIO_F_VERSION_1 32
#define VC_VU_F_PROTOCOL_FEATURES 30
#define VC_VU_PROTOCOL_F_REPLY_ACK 3
#define VC_VU_PROTOCOL_F_CONFIG 9

#define VC_VU_HDR_SIZE 12
/* Our largest message is a full memory table (8 + 8 * 32 bytes) or a config
 * read (12 + 256); anything larger is refused. */
#define VC_VU_MAX_PAYLOAD 512
#define VC_VU_MAX_FDS 8
#define VC_VU_MAX_CONFIG 256
#define VC_VU_MAX_QUEUES 2

struct vc_vu_msg {
  uint32_t request, flags, size;
  uint8_t payload[VC_VU_MAX_PAYLOAD];
};

struct vc_vu_ops {
  /* Maps `len` bytes of a memory region fd from offset 0 (the default is
   * mmap after checking the file is that large); the fuzzer and tests fake
   * it.  The fd stays owned by the caller. */
  void *(*map)(void *opaque, int fd, uint64_t len, vc_error **err);
  void (*unmap)(void *opaque, void *addr, uint64_t len);
  /* Device config space bytes [offset, offset+size), both checked <= 256. */
  void (*get_config)(void *opaque, uint32_t offset, uint8_t *buf,
                     uint32_t size);
  /* A ring was started, stopped, enabled or got new fds or memory. */
  void (*rings_changed)(void *opaque);
  /* The driver was reset (rings set up again from index 0): connections
   * the old driver had are gone. */
  void (*device_reset)(void *opaque);
  void *opaque;
};

struct vc_vu {
  struct vc_vu_ops ops;
  uint64_t offered_features;
  uint64_t offered_protocol_features;
  uint64_t features;          /* acked by SET_FEATURES */
  uint64_t protocol_features; /* acked by SET_PROTOCOL_FEATURES */
  bool owner;
  unsigned num_queues;
  struct vc_gmem mem;
  struct vc_vq vq[VC_VU_MAX_QUEUES];
  /* The avail index each ring had when it was last stopped. */
  uint16_t stopped_base[VC_VU_MAX_QUEUES];
  bool was_started[VC_VU_MAX_QUEUES];
};

/* `device_features` are the virtio feature bits of the device itself;
 * VERSION_1 and PROTOCOL_FEATURES are added.  NULL map/unmap mean mmap. */
void vc_vu_init(struct vc_vu *vu, const struct vc_vu_ops *ops,
                unsigned num_queues, uint64_t device_features);
/* Unmaps memory and closes every ring fd. */
void vc_vu_cleanup(struct vc_vu *vu);

/* Reads one message.  Returns 1, 0 on a clean EOF before a message, <0 on
 * error.  *nfds (<= VC_VU_MAX_FDS) fds were received; the caller owns them
 * until it passes them to vc_vu_handle. */
int vc_vu_recv(int sock, struct vc_vu_msg *msg, int *fds, unsigned *nfds,
               vc_error **err);
/* Applies a message.  Always takes ownership of fds[0..nfds) (stored or
 * closed).  *reply is filled and *has_reply set when the front-end expects
 * an answer.  <0 means the front-end sent something invalid or
 * unsupported. */
int vc_vu_handle(struct vc_vu *vu, const struct vc_vu_msg *msg, int *fds,
                 unsigned nfds, struct vc_vu_msg *reply, bool *has_reply,
                 vc_error **err);
int vc_vu_send(int sock, const struct vc_vu_msg *reply, vc_error **err);

const char *vc_vu_request_name(uint32_t request);

#endif
