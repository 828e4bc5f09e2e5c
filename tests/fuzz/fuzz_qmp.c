/* What a QMP socket sends (QEMU, or whatever holds the socket), through the
 * QMP client's reader and session logic, cut at arbitrary points: lines stay
 * within VC_QMP_LINE_MAX, a session ends (answer or error) within a bounded
 * number of messages, what it sends is a valid command, a reply is valid
 * JSON, and an error is one printable line.
 * Input: [flags][n][n 3-byte big-endian cut offsets][stream bytes...];
 * flags bit 0 picks the command ("quit" or "query-status"), n < 17. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "vmm/qmp.h"

#define MAX_CUTS 16
/* greeting, two answers, and the events skipped before each answer */
#define MAX_MESSAGES (3 + 2 * VC_QMP_MAX_SKIPPED)

#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz_qmp: %s (line %d)\n", #cond, __LINE__);        \
      abort();                                                             \
    }                                                                      \
  } while (0)

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

static void require_json(const char *text) {
  yajl_val v = NULL;
  vc_error *err = NULL;
  REQUIRE(vc_json_parse(text, &v, &err) == 0);
  yajl_tree_free(v);
}

static void require_one_printable_line(const char *msg) {
  for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
    REQUIRE(*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  const char *command = (data[0] & 1) ? "query-status" : "quit";
  size_t ncuts = data[1] % (MAX_CUTS + 1);
  if (size < 2 + 3 * ncuts)
    return 0;
  const uint8_t *s = data + 2 + 3 * ncuts;
  size_t slen = size - 2 - 3 * ncuts;
  size_t cuts[MAX_CUTS + 1];
  for (size_t i = 0; i < ncuts; i++) {
    const uint8_t *c = data + 2 + 3 * i;
    size_t at = (size_t)c[0] << 16 | (size_t)c[1] << 8 | c[2];
    cuts[i] = slen ? at % (slen + 1) : 0;
  }
  cuts[ncuts++] = slen;
  qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);

  struct vc_qmp_reader *r = calloc(1, sizeof(*r));
  struct vc_qmp_session sess;
  vc_qmp_session_init(&sess, command, NULL);
  vc_error *err = NULL;
  size_t fed = 0, messages = 0;
  bool over = false;
  for (size_t i = 0; i < ncuts && !over; i++) {
    /* One cut is one read, or several when the reader has less room. */
    while (fed < cuts[i] && !over) {
      size_t room;
      char *at = vc_qmp_reader_space(r, &room);
      REQUIRE(room > 0 && room <= VC_QMP_LINE_MAX);
      size_t n = cuts[i] - fed < room ? cuts[i] - fed : room;
      memcpy(at, s + fed, n);
      vc_qmp_reader_commit(r, n);
      fed += n;
      for (;;) {
        const char *line;
        size_t len;
        int got = vc_qmp_reader_line(r, &line, &len, &err);
        if (got < 0) {
          REQUIRE(err != NULL);
          over = true;
          break;
        }
        if (got == 0)
          break;
        REQUIRE(len < VC_QMP_LINE_MAX && line[len] == '\0');
        REQUIRE(++messages <= MAX_MESSAGES);
        char *send = NULL, *reply = NULL;
        int rc = vc_qmp_session_input(&sess, line, len, &send, &reply, &err);
        if (send != NULL) {
          REQUIRE(rc == 0 && send[strlen(send) - 1] == '\n');
          require_json(send);
          free(send);
        }
        if (rc > 0) {
          REQUIRE(reply != NULL && sess.stage == VC_QMP_DONE);
          require_json(reply);
          free(reply);
          over = true;
          break;
        }
        REQUIRE(reply == NULL);
        if (rc < 0) {
          REQUIRE(err != NULL && sess.stage == VC_QMP_DONE);
          require_one_printable_line(err->msg);
          over = true;
          break;
        }
      }
    }
  }
  vc_error_free(&err);
  free(r);
  return 0;
}
