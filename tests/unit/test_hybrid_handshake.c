/* The hybrid-vsock handshake lines: what the parsers accept and refuse, and
 * the host client against a back-end that answers badly. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "vmm/hybrid_vsock.h"
#include "test.h"

static bool ok(const char *line, uint32_t *port) {
  return vc_hybrid_parse_ok(line, strlen(line), port);
}

static bool connect_line(const char *line, uint32_t *port) {
  return vc_hybrid_parse_connect(line, strlen(line), port);
}

TEST(accepts_well_formed_lines) {
  uint32_t p = 0;
  CHECK(ok("OK 1073741824\n", &p) && p == 1073741824u);
  CHECK(ok("OK 0\n", &p) && p == 0);
  CHECK(ok("OK 4294967295\n", &p) && p == 4294967295u);
  CHECK(ok("OK 0000000007\n", &p) && p == 7); /* ten digits */
  CHECK(connect_line("CONNECT 1024\n", &p) && p == 1024);
  CHECK(connect_line("CONNECT 4294967295\n", &p) && p == 4294967295u);
}

TEST(refuses_everything_else) {
  const char *bad_ok[] = {
      "OK 4294967296\n", "OK 00000000001\n", "OK -1\n", "OK +1\n", "OK  1\n",
      "OK 1 \n", "OK 1\r\n", "OK 1", "OK \n", "OK\n", "ok 1\n", "OK 1\n\n",
      "OK 12x\n", "", "\n", "CONNECT 5\n", "OK 99999999999999999999\n"};
  for (size_t i = 0; i < N_ELEMS(bad_ok); i++) {
    uint32_t p = 77;
    bool got = ok(bad_ok[i], &p);
    CHECK(!got && p == 77);
    if (got)
      fprintf(stderr, "  accepted `%s`\n", bad_ok[i]);
  }
  const char *bad_connect[] = {"CONNECT\n", "CONNECT x\n", "CONNECT 99999999999\n",
                               "connect 5\n", "CONNECT 5 \n", "OK 5\n",
                               "CONNECT 1111111111111111111111111111111111\n"};
  for (size_t i = 0; i < N_ELEMS(bad_connect); i++) {
    uint32_t p = 77;
    CHECK(!connect_line(bad_connect[i], &p) && p == 77);
  }
  /* A NUL inside the line, and a line longer than the limit. */
  uint32_t p = 77;
  CHECK(!vc_hybrid_parse_ok("OK 1\0\n", 6, &p) && p == 77);
  char longl[VC_HYBRID_LINE_MAX + 2];
  memset(longl, '0', sizeof(longl));
  memcpy(longl, "OK ", 3);
  longl[sizeof(longl) - 1] = '\n';
  CHECK(!vc_hybrid_parse_ok(longl, sizeof(longl), &p) && p == 77);
}

TEST(reads_only_the_given_bytes) {
  /* The length bounds the parse: no NUL is needed, nothing past it read. */
  char buf[8];
  memcpy(buf, "OK 42\nZZ", 8);
  uint32_t p = 0;
  CHECK(vc_hybrid_parse_ok(buf, 6, &p) && p == 42);
  CHECK(!vc_hybrid_parse_ok(buf, 5, &p));
}

/* A one-shot back-end on path that answers the first client with answer
 * and closes. */
static pid_t serve_once(const char *path, const char *answer) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    int c = accept(l, NULL, NULL);
    char req[64];
    ssize_t n = read(c, req, sizeof(req));
    (void)n;
    if (vc_write_all(c, answer, strlen(answer)) < 0)
      _exit(1);
    _exit(0);
  }
  close(l);
  return pid;
}

TEST(client_refuses_a_bad_answer_and_prints_it_safely) {
  char dir[] = "/tmp/vc-hybrid-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  cleanup_free char *path = xasprintf("%s/hv.sock", dir);
  pid_t pid = serve_once(path, "OK 5\x1b[2J\n");
  CHECK(pid > 0);
  vc_error *err = NULL;
  int fd = vc_hybrid_vsock_connect(path, 1024, 2000, &err);
  CHECK(fd < 0 && err != NULL);
  CHECK(err != NULL && strstr(err->msg, "unexpected answer `OK 5?[2J`") != NULL);
  if (err != NULL && strchr(err->msg, '\x1b') != NULL)
    fprintf(stderr, "  escape reached the message: %s\n", err->msg);
  vc_error_free(&err);
  waitpid(pid, NULL, 0);
  unlink(path);

  /* A good answer; what follows it stays in the stream. */
  pid = serve_once(path, "OK 1073741825\nafter");
  fd = vc_hybrid_vsock_connect(path, 1024, 2000, &err);
  CHECK(fd >= 0 && err == NULL);
  char rest[8] = {0};
  CHECK(fd >= 0 && vc_read_all(fd, rest, 5) == 5 && strcmp(rest, "after") == 0);
  if (fd >= 0)
    close(fd);
  waitpid(pid, NULL, 0);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  RUN(accepts_well_formed_lines);
  RUN(refuses_everything_else);
  RUN(reads_only_the_given_bytes);
  RUN(client_refuses_a_bad_answer_and_prints_it_safely);
  return TEST_SUMMARY();
}
