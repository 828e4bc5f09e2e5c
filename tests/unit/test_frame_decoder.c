/* The incremental frame decoder's bounds on hostile input: an invalid
 * header fails before its body is buffered, the buffer stays within one
 * maximal frame plus one feed, and a maximal frame still gets through. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* Reading straight into the decoder and viewing bodies in place: frames
 * split across reads come out whole and in order, and the partial frame
 * left at the end of a read survives the compaction that makes room. */
TEST(space_commit_view_in_place) {
  enum { FRAMES = 20, BODY = 1000, READ = 700 };
  const size_t frame = VC_FRAME_HEADER_SIZE + BODY;
  uint8_t *wire = calloc(FRAMES, frame);
  for (int i = 0; i < FRAMES; i++) {
    header(wire + i * frame, BODY, VC_FRAME_DATA, 1);
    memset(wire + i * frame + VC_FRAME_HEADER_SIZE, 'a' + i, BODY);
  }
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  int seen = 0;
  /* Reads that end inside frames, in a buffer that must be compacted to
   * make room (it starts at 4 KiB). */
  for (size_t off = 0; off < FRAMES * frame; off += READ) {
    size_t n = FRAMES * frame - off < READ ? FRAMES * frame - off : READ;
    uint8_t *room = vc_frame_decoder_space(&d, READ, &err);
    CHECK(room != NULL);
    memcpy(room, wire + off, n);
    CHECK(vc_frame_decoder_commit(&d, n, &err) == 0);
    struct vc_frame_header g;
    const char *body;
    while (vc_frame_decoder_view(&d, &g, &body, &err) == 1) {
      CHECK(g.length == BODY && body[0] == 'a' + seen &&
            body[BODY - 1] == 'a' + seen);
      seen++;
    }
  }
  CHECK(seen == FRAMES && err == NULL && d.len == 0 && d.cap <= 4096);
  /* Committing more than was reserved is refused. */
  CHECK(vc_frame_decoder_space(&d, 16, &err) != NULL);
  CHECK(vc_frame_decoder_commit(&d, d.cap + 1, &err) < 0 && err != NULL);
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
  free(wire);
}

/* The output queue never blocks: what a peer that does not read cannot
 * take is queued, and flushing once it reads delivers every frame in
 * order. */
TEST(queue_holds_what_the_peer_does_not_take) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  struct vc_frame_queue q = {0};
  vc_error *err = NULL;
  static char body[65536];
  for (int i = 0; i < 40; i++) {
    memset(body, 'a' + i % 26, sizeof(body));
    CHECK(vc_frame_queue_send(&q, sv[0], VC_FRAME_DATA, 1, 2, body,
                              sizeof(body), &err) == 0);
  }
  CHECK(q.len > 0 && err == NULL);
  struct vc_frame_decoder d = {0};
  int frames = 0;
  while (frames < 40) {
    CHECK(vc_frame_queue_flush(&q, sv[0], &err) == 0);
    uint8_t *room = vc_frame_decoder_space(&d, 65536, &err);
    ssize_t n = recv(sv[1], room, 65536, MSG_DONTWAIT);
    if (n <= 0)
      continue;
    CHECK(vc_frame_decoder_commit(&d, (size_t)n, &err) == 0);
    struct vc_frame_header g;
    const char *view;
    while (vc_frame_decoder_view(&d, &g, &view, &err) == 1) {
      CHECK(g.length == sizeof(body) && view[0] == 'a' + frames % 26 &&
            view[sizeof(body) - 1] == 'a' + frames % 26);
      frames++;
    }
  }
  CHECK(q.len == 0 && err == NULL);
  /* A broken connection is an error, not a silent drop. */
  close(sv[1]);
  CHECK(vc_frame_queue_send(&q, sv[0], VC_FRAME_DATA, 1, 2, "x", 1, &err) < 0);
  vc_error_free(&err);
  vc_frame_queue_free(&q);
  vc_frame_decoder_free(&d);
  close(sv[0]);
}

int main(void) {
  RUN(space_commit_view_in_place);
  RUN(queue_holds_what_the_peer_does_not_take);
  RUN(oversized_header_fails_the_feed_that_completes_it);
  RUN(invalid_header_after_a_frame_fails_next);
  RUN(maximal_frame_in_reads_stays_bounded);
  RUN(feed_refuses_more_than_a_frame);
  return TEST_SUMMARY();
}
