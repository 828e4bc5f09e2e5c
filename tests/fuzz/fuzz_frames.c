/* The host relay's frame decoder on a hostile guest's byte stream, cut at
 * arbitrary points, against a reference decoder written out here: every
 * frame comes out whole and in order (body NUL-terminated, of the header's
 * length), an invalid header fails exactly when its last byte arrives, the
 * buffer never holds more than one maximal frame plus the last feed.
 * Bodies of REQUEST and RESPONSE frames then go through the depth-guarded
 * JSON parser, as the host parses them.
 * Input: [n][n 3-byte big-endian cut offsets][stream bytes...], n < 17. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/protocol.h"

#define MAX_CUTS 16
#define MAX_INPUT (2u << 20)
#define MAX_FRAMES (MAX_INPUT / VC_FRAME_HEADER_SIZE + 1)
#define FRAME_MAX_BYTES (VC_FRAME_HEADER_SIZE + (size_t)VC_FRAME_MAX)

#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz_frames: %s (line %d)\n", #cond, __LINE__);     \
      abort();                                                             \
    }                                                                      \
  } while (0)

struct ref_frame {
  size_t off; /* of its header in the stream */
  struct vc_frame_header h;
};

/* The reference: frames until the first invalid or incomplete header.
 * Sets *bad to the offset of an invalid header, or SIZE_MAX, and *end to
 * where it stopped. */
static size_t reference(const uint8_t *s, size_t size, struct ref_frame *out,
                        size_t *bad, size_t *end) {
  size_t n = 0, off = 0;
  *bad = SIZE_MAX;
  while (off + VC_FRAME_HEADER_SIZE <= size && n < MAX_FRAMES) {
    const uint8_t *p = s + off;
    struct vc_frame_header h = {
        .length = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                  (uint32_t)p[2] << 8 | p[3],
        .stream = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
                  (uint32_t)p[6] << 8 | p[7],
        .type = p[8],
        .flags = p[9]};
    uint8_t allowed = h.type == VC_FRAME_DATA ? VC_DATA_FD_MASK | VC_DATA_EOF : 0;
    if (h.type < VC_FRAME_REQUEST || h.type > VC_FRAME_DATA ||
        h.length > VC_FRAME_MAX || (h.flags & ~allowed) != 0) {
      *bad = off;
      break;
    }
    out[n].off = off;
    out[n].h = h;
    n++;
    off += VC_FRAME_HEADER_SIZE + h.length;
  }
  *end = off;
  return n;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

static void parse_body(const struct vc_frame_header *h, const char *body) {
  if (h->type == VC_FRAME_DATA)
    return;
  yajl_val tree = NULL;
  vc_error *err = NULL;
  if (vc_json_parse(body, &tree, &err) == 0)
    yajl_tree_free(tree);
  else
    REQUIRE(err != NULL);
  vc_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > MAX_INPUT)
    return 0;
  size_t ncuts = data[0] % (MAX_CUTS + 1);
  if (size < 1 + 3 * ncuts)
    return 0;
  const uint8_t *s = data + 1 + 3 * ncuts;
  size_t slen = size - 1 - 3 * ncuts;
  size_t cuts[MAX_CUTS + 1];
  for (size_t i = 0; i < ncuts; i++) {
    const uint8_t *c = data + 1 + 3 * i;
    size_t at = (size_t)c[0] << 16 | (size_t)c[1] << 8 | c[2];
    cuts[i] = slen ? at % (slen + 1) : 0;
  }
  cuts[ncuts++] = slen;
  qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);

  static struct ref_frame ref[MAX_FRAMES];
  size_t bad, ref_end;
  size_t nref = reference(s, slen, ref, &bad, &ref_end);

  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  size_t fed = 0, popped = 0, max_chunk = 0;
  bool failed = false;
  for (size_t i = 0; i < ncuts && !failed; i++) {
    size_t chunk = cuts[i] - fed;
    size_t start = popped < nref ? ref[popped].off : ref_end;
    if (chunk > max_chunk)
      max_chunk = chunk;
    int r = vc_frame_decoder_feed(&d, s + fed, chunk, &err);
    fed += chunk;
    /* The frame at the buffer's start is judged by feed itself. */
    bool want_fail = chunk > FRAME_MAX_BYTES ||
                     (popped == nref && bad != SIZE_MAX &&
                      bad + VC_FRAME_HEADER_SIZE <= fed);
    REQUIRE((r < 0) == want_fail);
    if (r < 0) {
      REQUIRE(err != NULL);
      failed = true;
      break;
    }
    REQUIRE(d.len - d.off == fed - start); /* unparsed bytes */
    REQUIRE(d.cap <= FRAME_MAX_BYTES + max_chunk);
    for (;;) {
      struct vc_frame_header h;
      char *body = NULL;
      r = vc_frame_decoder_next(&d, &h, &body, &err);
      if (r == 1) {
        REQUIRE(popped < nref);
        const struct ref_frame *f = &ref[popped++];
        REQUIRE(f->off + VC_FRAME_HEADER_SIZE + f->h.length <= fed);
        REQUIRE(h.length == f->h.length && h.stream == f->h.stream &&
                h.type == f->h.type && h.flags == f->h.flags);
        REQUIRE(memcmp(body, s + f->off + VC_FRAME_HEADER_SIZE, h.length) == 0);
        REQUIRE(body[h.length] == '\0');
        parse_body(&h, body);
        free(body);
        continue;
      }
      REQUIRE(body == NULL);
      if (r < 0) {
        /* Only an invalid header, complete, and only once reached. */
        REQUIRE(err != NULL && popped == nref && bad != SIZE_MAX &&
                bad + VC_FRAME_HEADER_SIZE <= fed);
        failed = true;
      } else {
        /* Nothing complete was left behind. */
        if (popped < nref)
          REQUIRE(ref[popped].off + VC_FRAME_HEADER_SIZE + ref[popped].h.length > fed);
        else if (bad != SIZE_MAX)
          REQUIRE(bad + VC_FRAME_HEADER_SIZE > fed);
        /* What is held is less than one frame. */
        REQUIRE(d.len - d.off < FRAME_MAX_BYTES);
      }
      break;
    }
  }
  if (!failed) {
    /* Every frame the stream holds in full came out. */
    size_t whole = 0;
    while (whole < nref && ref[whole].off + VC_FRAME_HEADER_SIZE + ref[whole].h.length <= slen)
      whole++;
    REQUIRE(popped == whole);
  }
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
  return 0;
}
