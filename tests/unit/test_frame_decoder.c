/* The incremental frame decoder's bounds on hostile input: an invalid
 * header fails before its body is buffered, the buffer stays within one
 * maximal frame plus one feed, and a maximal frame still gets through. */
#include <stdlib.h>
#include <string.h>

#include "lib/base/protocol.h"
#include "test.h"

#define FRAME_MAX_BYTES (VC_FRAME_HEADER_SIZE + (size_t)VC_FRAME_MAX)

static void header(uint8_t *out, uint32_t length, uint8_t type, uint8_t flags) {
  struct vc_frame_header h = {length, 1, type, flags};
  vc_frame_header_encode(&h, out);
}

TEST(oversized_header_fails_the_feed_that_completes_it) {
  uint8_t hdr[VC_FRAME_HEADER_SIZE];
  header(hdr, VC_FRAME_MAX + 1, VC_FRAME_RESPONSE, 0);
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  /* Nine bytes say nothing yet; the tenth completes the claim. */
  CHECK(vc_frame_decoder_feed(&d, hdr, 9, &err) == 0);
  CHECK(vc_frame_decoder_feed(&d, hdr + 9, 1, &err) < 0 && err != NULL);
  CHECK(err != NULL && strstr(err->msg, "exceeds") != NULL);
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
}

TEST(invalid_header_after_a_frame_fails_next) {
  uint8_t wire[2 * VC_FRAME_HEADER_SIZE + 2];
  header(wire, 2, VC_FRAME_DATA, 1);
  memcpy(wire + VC_FRAME_HEADER_SIZE, "hi", 2);
  header(wire + VC_FRAME_HEADER_SIZE + 2, 0xffffffffu, VC_FRAME_DATA, 0);
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  CHECK(vc_frame_decoder_feed(&d, wire, sizeof(wire), &err) == 0);
  struct vc_frame_header g;
  char *body = NULL;
  CHECK(vc_frame_decoder_next(&d, &g, &body, &err) == 1);
  CHECK(body != NULL && g.length == 2 && strcmp(body, "hi") == 0);
  free(body);
  body = NULL;
  CHECK(vc_frame_decoder_next(&d, &g, &body, &err) < 0 && err != NULL);
  CHECK(body == NULL);
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
}

TEST(maximal_frame_in_reads_stays_bounded) {
  size_t total = FRAME_MAX_BYTES + VC_FRAME_HEADER_SIZE;
  uint8_t *wire = calloc(1, total);
  header(wire, VC_FRAME_MAX, VC_FRAME_DATA, 1);
  memset(wire + VC_FRAME_HEADER_SIZE, 'x', VC_FRAME_MAX);
  header(wire + FRAME_MAX_BYTES, 0, VC_FRAME_DATA, VC_DATA_EOF);
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  const size_t read_size = 65536;
  int frames = 0;
  for (size_t off = 0; off < total; off += read_size) {
    size_t n = total - off < read_size ? total - off : read_size;
    CHECK(vc_frame_decoder_feed(&d, wire + off, n, &err) == 0);
    CHECK(d.len <= FRAME_MAX_BYTES + read_size);
    CHECK(d.cap <= FRAME_MAX_BYTES + read_size);
    struct vc_frame_header g;
    char *body;
    while (vc_frame_decoder_next(&d, &g, &body, &err) == 1) {
      if (frames++ == 0)
        CHECK(g.length == VC_FRAME_MAX && body[VC_FRAME_MAX] == '\0' &&
              body[0] == 'x' && body[VC_FRAME_MAX - 1] == 'x');
      else
        CHECK(g.length == 0 && (g.flags & VC_DATA_EOF) && body[0] == '\0');
      free(body);
    }
  }
  CHECK(frames == 2 && d.len == 0 && err == NULL);
  vc_frame_decoder_free(&d);
  free(wire);
}

TEST(feed_refuses_more_than_a_frame) {
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  /* More than one maximal frame in a single feed. */
  uint8_t *big = calloc(1, FRAME_MAX_BYTES + 1);
  header(big, VC_FRAME_MAX, VC_FRAME_DATA, 0);
  CHECK(vc_frame_decoder_feed(&d, big, FRAME_MAX_BYTES + 1, &err) < 0);
  CHECK(err != NULL && d.len == 0);
  vc_error_free(&err);
  /* A caller that never pops: one maximal frame is held, not two. */
  CHECK(vc_frame_decoder_feed(&d, big, FRAME_MAX_BYTES, &err) == 0);
  CHECK(vc_frame_decoder_feed(&d, big, 1, &err) == 0);
  CHECK(vc_frame_decoder_feed(&d, big, 1, &err) < 0 && err != NULL);
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
  free(big);
}

int main(void) {
  RUN(oversized_header_fails_the_feed_that_completes_it);
  RUN(invalid_header_after_a_frame_fails_next);
  RUN(maximal_frame_in_reads_stays_bounded);
  RUN(feed_refuses_more_than_a_frame);
  return TEST_SUMMARY();
}
