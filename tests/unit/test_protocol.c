/* The agent protocol codec: frame headers, the incremental decoder on
 * hostile input, and request/response bodies. */
#include <stdlib.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json_build.h"
#include "lib/base/protocol.h"
#include "test.h"

TEST(header_round_trip) {
  struct vc_frame_header h = {1234, 0xdeadbeef, VC_FRAME_DATA, 2 | VC_DATA_EOF}, g;
  uint8_t buf[VC_FRAME_HEADER_SIZE];
  vc_frame_header_encode(&h, buf);
  CHECK(buf[0] == 0 && buf[2] == 0x04 && buf[3] == 0xd2); /* big-endian */
  vc_error *err = NULL;
  CHECK(vc_frame_header_decode(buf, &g, &err) == 0);
  CHECK(g.length == 1234 && g.stream == 0xdeadbeef && g.type == VC_FRAME_DATA &&
        g.flags == (2 | VC_DATA_EOF));
}

TEST(header_rejects_bad_type_flags_and_size) {
  uint8_t buf[VC_FRAME_HEADER_SIZE];
  struct vc_frame_header g;
  vc_error *err = NULL;
  struct vc_frame_header bad_type = {0, 1, 9, 0};
  vc_frame_header_encode(&bad_type, buf);
  CHECK(vc_frame_header_decode(buf, &g, &err) < 0 && err != NULL);
  vc_error_free(&err);
  struct vc_frame_header big = {VC_FRAME_MAX + 1, 1, VC_FRAME_REQUEST, 0};
  vc_frame_header_encode(&big, buf);
  CHECK(vc_frame_header_decode(buf, &g, &err) < 0);
  vc_error_free(&err);
  struct vc_frame_header flags = {0, 1, VC_FRAME_REQUEST, 1};
  vc_frame_header_encode(&flags, buf);
  CHECK(vc_frame_header_decode(buf, &g, &err) < 0);
  vc_error_free(&err);
  struct vc_frame_header dflags = {0, 1, VC_FRAME_DATA, 0x80};
  vc_frame_header_encode(&dflags, buf);
  CHECK(vc_frame_header_decode(buf, &g, &err) < 0);
  vc_error_free(&err);
}

TEST(pipe_write_read) {
  int p[2];
  CHECK(pipe(p) == 0);
  vc_error *err = NULL;
  CHECK(vc_frame_write(p[1], VC_FRAME_REQUEST, 0, 7, "{\"a\":1}", 7, &err) == 0);
  close(p[1]);
  struct vc_frame_header h;
  char *body = NULL;
  CHECK(vc_frame_read(p[0], &h, &body, &err) == 1);
  CHECK(h.stream == 7 && h.type == VC_FRAME_REQUEST && h.length == 7);
  CHECK_STR(body, "{\"a\":1}");
  free(body);
  CHECK(vc_frame_read(p[0], &h, &body, &err) == 0); /* clean EOF */
  close(p[0]);
}

TEST(truncated_frame_is_an_error) {
  int p[2];
  CHECK(pipe(p) == 0);
  uint8_t buf[VC_FRAME_HEADER_SIZE];
  struct vc_frame_header h = {100, 1, VC_FRAME_RESPONSE, 0};
  vc_frame_header_encode(&h, buf);
  CHECK(write(p[1], buf, sizeof(buf)) == sizeof(buf));
  CHECK(write(p[1], "abc", 3) == 3);
  close(p[1]);
  char *body = NULL;
  vc_error *err = NULL;
  CHECK(vc_frame_read(p[0], &h, &body, &err) < 0 && err != NULL);
  vc_error_free(&err);
  close(p[0]);
}

TEST(decoder_byte_by_byte) {
  uint8_t wire[64];
  struct vc_frame_header h = {5, 3, VC_FRAME_DATA, 1};
  vc_frame_header_encode(&h, wire);
  memcpy(wire + VC_FRAME_HEADER_SIZE, "hello", 5);
  struct vc_frame_header h2 = {0, 3, VC_FRAME_DATA, 1 | VC_DATA_EOF};
  vc_frame_header_encode(&h2, wire + 15);
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  int frames = 0;
  for (size_t i = 0; i < 25; i++) {
    CHECK(vc_frame_decoder_feed(&d, wire + i, 1, &err) == 0);
    struct vc_frame_header g;
    char *body;
    int r;
    while ((r = vc_frame_decoder_next(&d, &g, &body, &err)) == 1) {
      if (frames == 0)
        CHECK(g.length == 5 && strcmp(body, "hello") == 0);
      else
        CHECK(g.length == 0 && (g.flags & VC_DATA_EOF));
      frames++;
      free(body);
    }
    CHECK(r == 0);
  }
  CHECK(frames == 2);
  vc_frame_decoder_free(&d);
}

TEST(decoder_rejects_garbage) {
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  const char junk[] = "\xff\xff\xff\xff\x00\x00\x00\x01\x01\x00";
  /* The header is judged as soon as it is complete, by feed itself. */
  CHECK(vc_frame_decoder_feed(&d, junk, 10, &err) < 0 && err != NULL);
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
}

TEST(json_builder_escapes) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "a");
  vc_jb_str(&b, "x\n\"\x01");
  vc_jb_key(&b, "n");
  vc_jb_int(&b, -5);
  vc_jb_key(&b, "l");
  char *v[] = {"p", "q"};
  vc_jb_strv(&b, v, 2);
  vc_jb_key(&b, "o");
  vc_jb_open(&b, '{');
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  char *s = vc_jb_take(&b);
  CHECK_STR(s, "{\"a\":\"x\\n\\\"\\u0001\",\"n\":-5,\"l\":[\"p\",\"q\"],\"o\":{}}");
  yajl_val t = yajl_tree_parse(s, NULL, 0);
  CHECK(t != NULL);
  yajl_tree_free(t);
  free(s);
}

int main(void) {
  RUN(header_round_trip);
  RUN(header_rejects_bad_type_flags_and_size);
  RUN(pipe_write_read);
  RUN(truncated_frame_is_an_error);
  RUN(decoder_byte_by_byte);
  RUN(decoder_rejects_garbage);
  RUN(json_builder_escapes);
  return TEST_SUMMARY();
}
