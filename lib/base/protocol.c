#include "lib/base/protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* Makes room for n more bytes after the unparsed ones.  Consumed bytes are
 * dropped from the front only when the room would not do otherwise, so a
 * stream of whole frames is never moved, and a partial frame at most once
 * per buffer's worth. */
static int reserve(struct vc_frame_decoder *d, size_t n, vc_error **err) {
  const size_t frame_max = VC_FRAME_HEADER_SIZE + VC_FRAME_MAX;
  /* A caller that pops every frame after each feed never holds a whole
   * maximal frame here; one that does not may hold one, never more. */
  if (d->len - d->off > frame_max || n > frame_max)
    return vc_error_set(err, 0, "protocol: peer sent too much unparsed data");
  if (d->cap - d->len >= n)
    return 0;
  if (d->off > 0) {
    memmove(d->buf, d->buf + d->off, d->len - d->off);
    d->len -= d->off;
    d->off = 0;
  }
  size_t need = d->len + n;
  if (need <= d->cap)
    return 0;
  size_t cap = d->cap ? d->cap : 4096;
  while (cap < need)
    cap *= 2;
  /* Doubling past the largest frame would only reserve memory no frame
   * can use. */
  if (cap > frame_max)
    cap = need > frame_max ? need : frame_max;
  uint8_t *nb = realloc(d->buf, cap);
  if (nb == NULL)
    return vc_error_set(err, ENOMEM, "protocol");
  d->buf = nb;
  d->cap = cap;
  return 0;
}

uint8_t *vc_frame_decoder_space(struct vc_frame_decoder *d, size_t want,
                                vc_error **err) {
  if (want == 0 || reserve(d, want, err) < 0)
    return NULL;
  return d->buf + d->len;
}

int vc_frame_decoder_commit(struct vc_frame_decoder *d, size_t len,
                            vc_error **err) {
  if (len > d->cap - d->len)
    return vc_error_set(err, 0, "protocol: committed more than reserved");
  d->len += len;
  /* The unparsed bytes start at a frame boundary: judge that frame's
   * header as soon as it is complete, before buffering the body it
   * announces. */
  struct vc_frame_header h;
  if (d->len - d->off >= VC_FRAME_HEADER_SIZE &&
      vc_frame_header_decode(d->buf + d->off, &h, err) < 0)
    return -1;
  return 0;
}

int vc_frame_decoder_feed(struct vc_frame_decoder *d, const void *data,
                          size_t len, vc_error **err) {
  if (len == 0)
    return 0;
  uint8_t *room = vc_frame_decoder_space(d, len, err);
  if (room == NULL)
    return -1;
  memcpy(room, data, len);
  return vc_frame_decoder_commit(d, len, err);
}

int vc_frame_decoder_view(struct vc_frame_decoder *d, struct vc_frame_header *h,
                          const char **body, vc_error **err) {
  size_t unparsed = d->len - d->off;
  if (unparsed < VC_FRAME_HEADER_SIZE)
    return 0;
  if (vc_frame_header_decode(d->buf + d->off, h, err) < 0)
    return -1;
  size_t total = VC_FRAME_HEADER_SIZE + (size_t)h->length;
  if (unparsed < total)
    return 0;
  *body = (const char *)d->buf + d->off + VC_FRAME_HEADER_SIZE;
  d->off += total;
  if (d->off == d->len) /* all parsed: the next bytes go to the front */
    d->off = d->len = 0;
  return 1;
}

int vc_frame_decoder_next(struct vc_frame_decoder *d, struct vc_frame_header *h,
                          char **body, vc_error **err) {
  const char *view;
  int r = vc_frame_decoder_view(d, h, &view, err);
  if (r <= 0)
    return r;
  char *b = malloc(h->length + 1);
  if (b == NULL)
    return vc_error_set(err, ENOMEM, "protocol");
  memcpy(b, view, h->length);
  b[h->length] = '\0';
  *body = b;
  return 1;
}

void vc_frame_decoder_free(struct vc_frame_decoder *d) {
  free(d->buf);
  d->buf = NULL;
  d->len = d->cap = d->off = 0;
}

/* ---- output queue ---- */

static void queue_append(struct vc_frame_queue *q, const void *data,
                         size_t len) {
  if (len == 0)
    return;
  if (q->off + q->len + len > q->cap) {
    if (q->off > 0) {
      memmove(q->buf, q->buf + q->off, q->len);
      q->off = 0;
    }
    if (q->len + len > q->cap) {
      size_t cap = q->cap ? q->cap : 4096;
      while (cap < q->len + len)
        cap *= 2;
      q->buf = xrealloc(q->buf, cap);
      q->cap = cap;
    }
  }
  memcpy(q->buf + q->off + q->len, data, len);
  q->len += len;
}

static void queue_consume(struct vc_frame_queue *q, size_t n) {
  q->off += n;
  q->len -= n;
  if (q->len == 0) {
    q->off = 0;
    /* A burst's buffer is not kept for an idle connection. */
    if (q->cap > VC_FRAME_QUEUE_KEEP) {
      free(q->buf);
      q->buf = NULL;
      q->cap = 0;
    }
  }
}

/* sendmsg without blocking; the bytes taken, 0 when none fit, -1 on an
 * error. */
static ssize_t send_some(int fd, struct iovec *iov, int n) {
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
  for (;;) {
    ssize_t w = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w >= 0)
      return w;
    if (errno == EINTR)
      continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  }
}

int vc_frame_queue_flush(struct vc_frame_queue *q, int fd, vc_error **err) {
  while (q->len > 0) {
    struct iovec iov = {q->buf + q->off, q->len};
    ssize_t w = send_some(fd, &iov, 1);
    if (w < 0)
      return vc_error_set(err, errno, "protocol: write");
    if (w == 0)
      break;
    queue_consume(q, (size_t)w);
  }
  return 0;
}

int vc_frame_queue_send(struct vc_frame_queue *q, int fd, uint8_t type,
                        uint8_t flags, uint32_t stream, const void *body,
                        size_t len, vc_error **err) {
  if (len > VC_FRAME_MAX)
    return vc_error_set(err, 0, "protocol: frame of %zu bytes is too large",
                        len);
  uint8_t hdr[VC_FRAME_HEADER_SIZE];
  struct vc_frame_header h = {(uint32_t)len, stream, type, flags};
  vc_frame_header_encode(&h, hdr);
  size_t sent = 0;
  if (q->len == 0 && fd >= 0) {
    /* Nothing queued before it: straight from the caller's buffer. */
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)body, len}};
    ssize_t w = send_some(fd, iov, len > 0 ? 2 : 1);
    if (w < 0)
      return vc_error_set(err, errno, "protocol: write");
    sent = (size_t)w;
  }
  if (sent < sizeof(hdr)) {
    queue_append(q, hdr + sent, sizeof(hdr) - sent);
    queue_append(q, body, len);
  } else {
    queue_append(q, (const uint8_t *)body + (sent - sizeof(hdr)),
                 len - (sent - sizeof(hdr)));
  }
  return 0;
}

void vc_frame_queue_free(struct vc_frame_queue *q) {
  free(q->buf);
  q->buf = NULL;
  q->off = q->len = q->cap = 0;
}
