/* The host <-> agent protocol, shared by vcrun and vcrun-agent.
 *
 * A connection carries frames: a 10-byte header (u32 body length, u32 stream
 * id, u8 type, u8 flags; big-endian) and a body of at most VC_FRAME_MAX
 * bytes.  REQUEST and RESPONSE bodies are JSON objects whose methods and
 * fields are defined, with their codec, in lib/base/agent_proto.h.
 * A response carries the stream id of its request.  DATA frames carry a
 * process's stdio: the stream id names the process's stdio channel (chosen
 * by the host when it creates the process), the low flag bits the fd (0, 1,
 * 2), and VC_DATA_EOF marks the end of that fd.  Either side treats the
 * other's frames as untrusted input. */
#ifndef VC_PROTOCOL_H
#define VC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

#define VC_AGENT_VSOCK_PORT 1024
#define VC_FRAME_HEADER_SIZE 10
/* 4 MiB: room for a config.json with large annotations in CreateContainer
 * (create refuses a bigger one before it boots), and still a bound on what
 * either side buffers for one frame of an untrusted peer. */
#define VC_FRAME_MAX (4u << 20)

enum vc_frame_type {
  VC_FRAME_REQUEST = 1,
  VC_FRAME_RESPONSE = 2,
  VC_FRAME_DATA = 3,
};

#define VC_DATA_FD_MASK 0x03
#define VC_DATA_EOF 0x04

struct vc_frame_header {
  uint32_t length;
  uint32_t stream;
  uint8_t type;
  uint8_t flags;
};

void vc_frame_header_encode(const struct vc_frame_header *h,
                            uint8_t out[VC_FRAME_HEADER_SIZE]);
/* Validates the type, the flags and the length cap. */
int vc_frame_header_decode(const uint8_t in[VC_FRAME_HEADER_SIZE],
                           struct vc_frame_header *h, vc_error **err);

/* Blocking helpers for simple clients.  vc_frame_write sends header and body
 * in one writev.  vc_frame_read returns 1 with a frame (body NUL-terminated,
 * caller frees), 0 on EOF at a frame boundary, -1 on error. */
int vc_frame_write(int fd, uint8_t type, uint8_t flags, uint32_t stream,
                   const void *body, size_t len, vc_error **err);
int vc_frame_read(int fd, struct vc_frame_header *h, char **body,
                  vc_error **err);

/* Incremental decoder for event loops: feed bytes as they arrive, then pop
 * every complete frame (vc_frame_decoder_next until it returns 0).  Used
 * that way, the buffer never holds more than one maximal frame
 * (VC_FRAME_HEADER_SIZE + VC_FRAME_MAX) plus the last feed, and a header
 * that is invalid (unknown type or flags, a length over VC_FRAME_MAX) fails
 * the feed that brings its last byte (or, when it follows other frames in
 * that feed, the next call that reaches it), never after more is buffered.
 * feed also fails when given more than one maximal frame at once, or when
 * the caller left more than a maximal frame unparsed. */
struct vc_frame_decoder {
  uint8_t *buf;
  size_t len, cap; /* bytes held (parsed or not), allocated */
  size_t off;      /* the unparsed bytes are buf[off, len) */
};
int vc_frame_decoder_feed(struct vc_frame_decoder *d, const void *data,
                          size_t len, vc_error **err);
/* 1: a frame was popped (body malloc'd and NUL-terminated), 0: need more
 * bytes, -1: the stream is malformed. */
int vc_frame_decoder_next(struct vc_frame_decoder *d, struct vc_frame_header *h,
                          char **body, vc_error **err);
void vc_frame_decoder_free(struct vc_frame_decoder *d);

/* The same without copies, for bulk data: vc_frame_decoder_space returns
 * room for `want` bytes (at most one maximal frame) to read into straight,
 * or NULL with *err set (on the same bounds as feed); commit then takes
 * the `len` bytes of it that were filled, with feed's header check.
 * vc_frame_decoder_view pops a frame as next does, but *body points into
 * the decoder (not NUL-terminated) and stays valid only until the next
 * space or feed call. */
uint8_t *vc_frame_decoder_space(struct vc_frame_decoder *d, size_t want,
                                vc_error **err);
int vc_frame_decoder_commit(struct vc_frame_decoder *d, size_t len,
                            vc_error **err);
int vc_frame_decoder_view(struct vc_frame_decoder *d, struct vc_frame_header *h,
                          const char **body, vc_error **err);

/* An output queue for event loops: frames go out without blocking, and
 * what the socket does not take now waits here, in order, for the next
 * flush (when the fd is writable).  vc_frame_queue_send writes straight
 * from the caller's buffer when nothing is queued, and copies only what
 * did not fit; fd -1 only queues.  Both fail (-1, *err) only when the
 * connection is broken.  len: what is queued, for the caller's
 * back-pressure (the queue itself has no limit).  Sockets only (sendmsg
 * with MSG_DONTWAIT | MSG_NOSIGNAL), whatever the fd's O_NONBLOCK. */
#define VC_FRAME_QUEUE_KEEP (256u << 10) /* buffer kept once drained */
struct vc_frame_queue {
  uint8_t *buf;
  size_t off, len, cap; /* queued bytes: buf[off, off + len) */
};
int vc_frame_queue_send(struct vc_frame_queue *q, int fd, uint8_t type,
                        uint8_t flags, uint32_t stream, const void *body,
                        size_t len, vc_error **err);
int vc_frame_queue_flush(struct vc_frame_queue *q, int fd, vc_error **err);
void vc_frame_queue_free(struct vc_frame_queue *q);

#endif
