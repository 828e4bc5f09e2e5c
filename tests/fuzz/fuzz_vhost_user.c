/* Feeds a sequence of vhost-user messages to the back-end dispatcher, as a
 * confused or hostile front-end would send them.  Memory-region fds are
 * stand-ins (dups of /dev/null) and mapping is faked with heap buffers filled
 * from the input, so rings set up by the messages are walked too.
 * Input: repeated [nfds byte][12-byte header][payload of header.size]. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vhost_user.h"

static const uint8_t *fill_data;
static size_t fill_len;

static void *fake_map(void *opaque, int fd, uint64_t len, vc_error **err) {
  if (len == 0 || len > (1u << 16))
    return vc_error_set(err, 0, "fuzz: region too large"), NULL;
  uint8_t *p = malloc(len);
  for (uint64_t i = 0; i < len; i++)
    p[i] = fill_len ? fill_data[i % fill_len] : 0;
  return p;
}

static void fake_unmap(void *opaque, void *addr, uint64_t len) { free(addr); }

static void get_config(void *opaque, uint32_t offset, uint8_t *buf,
                       uint32_t size) {
  memset(buf, 0x5a, size);
}

static void nop(void *opaque) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int null_fd = -1;
  if (null_fd < 0)
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  fill_data = data;
  fill_len = size;
  struct vc_vu_ops ops = {.map = fake_map, .unmap = fake_unmap,
                          .get_config = get_config, .rings_changed = nop,
                          .device_reset = nop};
  struct vc_vu vu;
  vc_vu_init(&vu, &ops, 2, 0);
  size_t off = 0;
  while (size - off >= 1 + VC_VU_HDR_SIZE) {
    unsigned nfds = data[off] % (VC_VU_MAX_FDS + 1);
    off++;
    struct vc_vu_msg msg;
    memcpy(&msg.request, data + off, 4);
    memcpy(&msg.flags, data + off + 4, 4);
    memcpy(&msg.size, data + off + 8, 4);
    off += VC_VU_HDR_SIZE;
    /* Keep the sizes small and plausible, as vc_vu_recv would. */
    msg.size %= VC_VU_MAX_PAYLOAD + 1;
    size_t take = size - off < msg.size ? size - off : msg.size;
    memset(msg.payload, 0, msg.size);
    memcpy(msg.payload, data + off, take);
    off += take;
    int fds[VC_VU_MAX_FDS];
    for (unsigned i = 0; i < nfds; i++)
      fds[i] = dup(null_fd);
    struct vc_vu_msg reply;
    bool has_reply;
    vc_error *err = NULL;
    if (vc_vu_handle(&vu, &msg, fds, nfds, &reply, &has_reply, &err) < 0) {
      if (err == NULL || err->msg == NULL)
        abort(); /* every failure must say why */
    } else if (has_reply && reply.size > VC_VU_MAX_PAYLOAD) {
      abort();
    }
    vc_error_free(&err);
    /* Walk whatever rings are live now. */
    for (unsigned q = 0; q < 2; q++) {
      struct vc_vq_elem e;
      for (int k = 0; k < 4; k++) {
        int r = vc_vq_pop(&vu.vq[q], &vu.mem, &e, &err);
        vc_error_free(&err);
        if (r <= 0)
          break;
        uint8_t tmp[64];
        vc_iov_to_buf(e.iov, e.nout, 0, tmp, sizeof(tmp));
        vc_buf_to_iov(e.iov + e.nout, e.nin, 0, tmp, sizeof(tmp));
        vc_vq_push(&vu.vq[q], e.head, (uint32_t)e.in_len);
      }
    }
  }
  vc_vu_cleanup(&vu);
  return 0;
}
