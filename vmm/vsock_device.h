/* The virtio-vsock device (virtio 1.2, section 5.10) for stream sockets,
 * bridged to unix sockets on the host the way Firecracker's "hybrid vsock"
 * does it:
 *   - a host client of the hybrid socket writes "CONNECT <port>\n"; we open
 *     a connection to guest port <port> from host CID 2 and a local port we
 *     allocate, and answer "OK <local port>\n" once the guest accepts (on a
 *     refusal or timeout the client is just closed);
 *   - a guest connection to CID 2 port P is connected to the unix socket
 *     "<hybrid socket>_P".
 * Both directions use the credit protocol: we never send the guest more
 * than it said it can buffer, and we advertise a receive buffer that really
 * exists, so a slow reader on either side costs bounded memory.  The guest
 * is untrusted: packets that break the protocol reset their connection, and
 * the number of connections is capped. */
#ifndef VC_VSOCK_DEVICE_H
#define VC_VSOCK_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/base/error.h"
#include "vmm/virtqueue.h"

#define VC_VSOCK_HOST_CID 2

enum {
  VC_VSOCK_TYPE_STREAM = 1,
};

enum {
  VC_VSOCK_OP_REQUEST = 1,
  VC_VSOCK_OP_RESPONSE = 2,
  VC_VSOCK_OP_RST = 3,
  VC_VSOCK_OP_SHUTDOWN = 4,
  VC_VSOCK_OP_RW = 5,
  VC_VSOCK_OP_CREDIT_UPDATE = 6,
  VC_VSOCK_OP_CREDIT_REQUEST = 7,
};

#define VC_VSOCK_SHUTDOWN_RCV 1u
#define VC_VSOCK_SHUTDOWN_SEND 2u

/* Packet header, little-endian on the wire. */
struct vc_vsock_hdr {
  uint64_t src_cid, dst_cid;
  uint32_t src_port, dst_port, len;
  uint16_t type, op;
  uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));
_Static_assert(sizeof(struct vc_vsock_hdr) == 44, "vsock header is 44 bytes");

struct vc_vsock_dev_config {
  uint64_t guest_cid;
  uint32_t buf_alloc;         /* receive buffer per connection (256 KiB) */
  unsigned max_conns;         /* connection table size (512) */
  int connect_timeout_ms;     /* guest answer to our REQUEST (5000) */
  int handshake_timeout_ms;   /* hybrid client's CONNECT line (5000) */
  int close_timeout_ms;       /* flushing to the host after the guest
                                 closed (10000) */
  const char *hybrid_socket;  /* for "<hybrid_socket>_P" */
  /* Replaces the unix-socket connect for guest connections to host port P
   * (tests): returns a connected non-blocking fd or a negative errno. */
  int (*connect_host)(void *opaque, uint32_t port);
  void *opaque;
};

struct vc_vsock_stats {
  unsigned conns;
  uint64_t rx_packets, tx_packets; /* to / from the guest */
  uint64_t rst_sent, dropped;
};

struct vc_vsock_dev;

/* rxq/txq/mem stay owned by the caller (the vhost-user layer) and must
 * outlive the device.  Zero fields in cfg get the defaults above. */
int vc_vsock_dev_new(const struct vc_vsock_dev_config *cfg, struct vc_vq *rxq,
                     struct vc_vq *txq, const struct vc_gmem *mem,
                     struct vc_vsock_dev **out, vc_error **err);
void vc_vsock_dev_free(struct vc_vsock_dev *d);

/* An epoll fd that becomes readable when a host socket needs attention. */
int vc_vsock_dev_fd(const struct vc_vsock_dev *d);

/* Hands over a freshly accepted hybrid client (closed at once when the
 * table is full). */
void vc_vsock_dev_add_client(struct vc_vsock_dev *d, int fd, long long now_ms);

/* Does everything that can be done now: packets from the guest, host
 * socket events, timeouts, packets to the guest, and signals the guest.
 * Returns 1 if it stopped with work left (call again without waiting),
 * 0 otherwise. */
int vc_vsock_dev_process(struct vc_vsock_dev *d, long long now_ms);

/* Milliseconds until the next timeout, -1 if none. */
int vc_vsock_dev_timeout(const struct vc_vsock_dev *d, long long now_ms);

/* Drops every connection (the guest driver was reset or the VM is gone). */
void vc_vsock_dev_reset(struct vc_vsock_dev *d);

void vc_vsock_dev_stats(const struct vc_vsock_dev *d,
                        struct vc_vsock_stats *st);

/* The last guest error (a broken ring), or NULL; cleared by reading. */
const char *vc_vsock_dev_last_error(struct vc_vsock_dev *d);

#endif
