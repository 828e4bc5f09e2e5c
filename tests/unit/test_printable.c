/* Untrusted text on its way into messages: vc_printable, and the log tails
 * (the guest's console, QEMU's log) that go through it. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/host/process.h"
#include "test.h"

static char *printable(const char *s, size_t len) {
  char *b = malloc(len + 1);
  memcpy(b, s, len);
  b[vc_printable(b, len)] = '\0';
  return b;
}

TEST(controls_become_question_marks) {
  cleanup_free char *a = printable("a\x1b[31mb\0c\x7f\td\n", 13);
  CHECK_STR(a, "a?[31mb?c?\td\n");
  /* "\r\n" ends a line on a serial console; a lone '\r' could rewrite it. */
  cleanup_free char *b = printable("one\r\ntwo\rthree\r", 15);
  CHECK_STR(b, "one\ntwo?three?");
  /* U+009B (CSI as a C1 control) in UTF-8; U+00E9 is kept. */
  cleanup_free char *c = printable("x\xc2\x9b" "2J\xc3\xa9\xc2", 8);
  CHECK_STR(c, "x??2J\xc3\xa9\xc2");
  CHECK(vc_printable(NULL, 0) == 0);
}

TEST(log_tail_is_bounded_and_printable) {
  char path[] = "/tmp/vc-tail-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  char big[5000];
  memset(big, 'a', sizeof(big));
  CHECK(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
  const char end[] = "boot\r\n\x1b]0;owned\x07\0hidden\r\n";
  CHECK(write(fd, end, sizeof(end) - 1) == (ssize_t)(sizeof(end) - 1));
  close(fd);
  cleanup_free char *t = vc_log_tail(path, 100);
  CHECK(t != NULL && strlen(t) <= 100);
  CHECK(t != NULL && strstr(t, "boot\n?]0;owned??hidden") != NULL);
  unlink(path);
  cleanup_free char *none = vc_log_tail("/nonexistent/vc-log", 100);
  CHECK_STR(none, "");
}

int main(void) {
  RUN(controls_become_question_marks);
  RUN(log_tail_is_bounded_and_printable);
  return TEST_SUMMARY();
}
