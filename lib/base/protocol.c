#include "lib/base/protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "lib/base/json_build.h"
#include "lib/base/util.h"

void vc_frame_header_encode(const struct vc_frame_header *h,
                            uint8_t out[VC_FRAME_HEADER_SIZE]) {
  uint32_t len = htonl(h->length), stream = htonl(h->stream);
  memcpy(out, &len, 4);
  memcpy(out + 4, &stream, 4);
  out[8] = h->type;
  out[9] = h->flags;
}

int vc_frame_header_decode(const uint8_t in[VC_FRAME_HEADER_SIZE],
                           struct vc_frame_header *h, vc_error **err) {
  uint32_t len, stream;
  memcpy(&len, in, 4);
  memcpy(&stream, in + 4, 4);
  h->length = ntohl(len);
  h->stream = ntohl(stream);
  h->type = in[8];
  h->flags = in[9];
  if (h->type < VC_FRAME_REQUEST || h->type > VC_FRAME_DATA)
    return vc_error_set(err, 0, "protocol: unknown frame type %u", h->type);
  if (h->length > VC_FRAME_MAX)
    return vc_error_set(err, 0, "protocol: frame of %u bytes exceeds %u",
                        h->length, VC_FRAME_MAX);
  if (h->type != VC_FRAME_DATA && h->flags != 0)
    return vc_error_set(err, 0, "protocol: unexpected flags 0x%x", h->flags);
  if (h->type == VC_FRAME_DATA &&
      (h->flags & ~(VC_DATA_FD_MASK | VC_DATA_EOF)) != 0)
    return vc_error_set(err, 0, "protocol: unexpected data flags 0x%x",
                        h->flags);
  return 0;
}

int vc_frame_write(int fd, uint8_t type, uint8_t flags, uint32_t stream,
                   const void *body, size_t len, vc_error **err) {
  if (len > VC_FRAME_MAX)
    return vc_error_set(err, 0, "protocol: frame of %zu bytes is too large",
                        len);
  uint8_t hdr[VC_FRAME_HEADER_SIZE];
  struct vc_frame_header h = {(uint32_t)len, stream, type, flags};
  vc_frame_header_encode(&h, hdr);
  struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)body, len}};
  size_t total = sizeof(hdr) + len, done = 0;
  while (done < total) {
    ssize_t w = writev(fd, iov, len > 0 ? 2 : 1);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return vc_error_set(err, errno, "protocol: write");
    done += (size_t)w;
    /* Advance the iovecs past what was written. */
    size_t skip = (size_t)w;
    for (int i = 0; i < 2 && skip > 0; i++) {
      size_t n = skip < iov[i].iov_len ? skip : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + n;
      iov[i].iov_len -= n;
      skip -= n;
    }
  }
  return 0;
}

int vc_frame_read(int fd, struct vc_frame_header *h, char **body,
                  vc_error **err) {
  uint8_t hdr[VC_FRAME_HEADER_SIZE];
  ssize_t r = vc_read_all(fd, hdr, sizeof(hdr));
  if (r == 0)
    return 0;
  if (r < 0)
    return vc_error_set(err, errno, "protocol: read");
  if (vc_frame_header_decode(hdr, h, err) < 0)
    return -1;
  char *b = malloc(h->length + 1);
  if (b == NULL)
    return vc_error_set(err, ENOMEM, "protocol: read");
  if (h->length > 0 && vc_read_all(fd, b, h->length) <= 0) {
    free(b);
    return vc_error_set(err, errno ? errno : EIO, "protocol: short frame");
  }
  b[h->length] = '\0';
  *body = b;
  return 1;
}

int vc_frame_decoder_feed(struct vc_frame_decoder *d, const void *data,
                          size_t len, vc_error **err) {
  if (len == 0)
    return 0;
  const size_t frame_max = VC_FRAME_HEADER_SIZE + VC_FRAME_MAX;
  /* A caller that pops every frame after each feed never holds a whole
   * maximal frame here; one that does not may hold one, never more. */
  if (d->len > frame_max || len > frame_max)
    return vc_error_set(err, 0, "protocol: peer sent too much unparsed data");
  size_t need = d->len + len;
  if (need > d->cap) {
    size_t cap = d->cap ? d->cap : 4096;
    while (cap < need)
      cap *= 2;
    /* Doubling past the largest frame would only reserve memory no frame
     * can use. */
    if (cap > frame_max)
      cap = need > frame_max ? need : frame_max;
    uint8_t *n = realloc(d->buf, cap);
    if (n == NULL)
      return vc_error_set(err, ENOMEM, "protocol");
    d->buf = n;
    d->cap = cap;
  }
  memcpy(d->buf + d->len, data, len);
  d->len = need;
  /* The buffer starts at a frame boundary: judge that frame's header as
   * soon as it is complete, before buffering the body it announces. */
  struct vc_frame_header h;
  if (d->len >= VC_FRAME_HEADER_SIZE &&
      vc_frame_header_decode(d->buf, &h, err) < 0)
    return -1;
  return 0;
}

int vc_frame_decoder_next(struct vc_frame_decoder *d, struct vc_frame_header *h,
                          char **body, vc_error **err) {
  if (d->len < VC_FRAME_HEADER_SIZE)
    return 0;
  if (vc_frame_header_decode(d->buf, h, err) < 0)
    return -1;
  size_t total = VC_FRAME_HEADER_SIZE + (size_t)h->length;
  if (d->len < total)
    return 0;
  char *b = malloc(h->length + 1);
  if (b == NULL)
    return vc_error_set(err, ENOMEM, "protocol");
  memcpy(b, d->buf + VC_FRAME_HEADER_SIZE, h->length);
  b[h->length] = '\0';
  memmove(d->buf, d->buf + total, d->len - total);
  d->len -= total;
  *body = b;
  return 1;
}

void vc_frame_decoder_free(struct vc_frame_decoder *d) {
  free(d->buf);
  d->buf = NULL;
  d->len = d->cap = 0;
}
