/* The QMP client: its line reader and session logic on good and hostile
 * input, and vc_qmp_execute against a scripted server. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "vmm/hypervisor.h"
#include "vmm/qmp.h"
#include "test.h"

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}"
#define EVENT "{\"event\": \"SHUTDOWN\", \"timestamp\": {\"seconds\": 1}}"

static void feed(struct vc_qmp_reader *r, const char *s, size_t n) {
  size_t room;
  char *at = vc_qmp_reader_space(r, &room);
  CHECK(n <= room);
  memcpy(at, s, n);
  vc_qmp_reader_commit(r, n);
}

TEST(reader_splits_lines_across_reads) {
  struct vc_qmp_reader *r = calloc(1, sizeof(*r));
  vc_error *err = NULL;
  const char *line;
  size_t len;
  feed(r, "{\"a\":1}\r\n{\"b\"", 13);
  CHECK(vc_qmp_reader_line(r, &line, &len, &err) == 1);
  CHECK(len == 8 && strcmp(line, "{\"a\":1}\r") == 0);
  CHECK(vc_qmp_reader_line(r, &line, &len, &err) == 0);
  feed(r, ":2}\n", 4);
  CHECK(vc_qmp_reader_line(r, &line, &len, &err) == 1);
  CHECK(len == 7 && strcmp(line, "{\"b\":2}") == 0);
  CHECK(vc_qmp_reader_line(r, &line, &len, &err) == 0 && err == NULL);
  size_t room;
  vc_qmp_reader_space(r, &room);
  CHECK(room == VC_QMP_LINE_MAX && r->len == 0);
  free(r);
}

TEST(reader_refuses_an_endless_line) {
  struct vc_qmp_reader *r = calloc(1, sizeof(*r));
  vc_error *err = NULL;
  const char *line;
  size_t len, room;
  char *at = vc_qmp_reader_space(r, &room);
  memset(at, 'x', room);
  vc_qmp_reader_commit(r, room);
  CHECK(vc_qmp_reader_line(r, &line, &len, &err) < 0 && err != NULL);
  CHECK(err != NULL && strstr(err->msg, "longer than") != NULL);
  vc_error_free(&err);
  /* One byte less, and a newline, is a line. */
  free(r);
  r = calloc(1, sizeof(*r));
  at = vc_qmp_reader_space(r, &room);
  memset(at, 'x', room - 1);
  at[room - 1] = '\n';
  vc_qmp_reader_commit(r, room);
  CHECK(vc_qmp_reader_line(r, &line, &len, &err) == 1 && len == VC_QMP_LINE_MAX - 1);
  free(r);
}

/* Runs the lines through a fresh session for command; returns what the last
 * call returned, with the texts to send joined in *sent. */
static int run_session(const char *command, const char *const *lines,
                       char **sent, char **reply, vc_error **err) {
  struct vc_qmp_session s;
  vc_qmp_session_init(&s, command, NULL);
  char *all = xstrdup("");
  int rc = 0;
  for (size_t i = 0; lines[i] != NULL && rc == 0; i++) {
    char *send = NULL;
    rc = vc_qmp_session_input(&s, lines[i], strlen(lines[i]), &send, reply, err);
    if (send != NULL) {
      char *joined = xasprintf("%s%s", all, send);
      free(all);
      free(send);
      all = joined;
    }
  }
  *sent = all;
  return rc;
}

TEST(session_negotiates_then_answers) {
  const char *lines[] = {GREETING, "{\"return\": {}}", EVENT,
                         "{\"return\": {\"status\": \"running\", \"running\": true}}",
                         NULL};
  char *sent = NULL, *reply = NULL;
  vc_error *err = NULL;
  CHECK(run_session("query-status", lines, &sent, &reply, &err) == 1);
  CHECK_STR(sent, "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"query-status\"}\n");
  CHECK_STR(reply, "{\"status\":\"running\",\"running\":true}");
  CHECK(err == NULL);
  free(sent);
  free(reply);
  /* A scalar return value, and no reply wanted. */
  const char *scalar[] = {GREETING, "{\"return\": {}}", "{\"return\": 3}", NULL};
  CHECK(run_session("x", scalar, &sent, &reply, &err) == 1);
  CHECK_STR(reply, "3");
  free(sent);
  free(reply);
}

TEST(session_reports_qemus_error_as_one_safe_line) {
  char longdesc[600];
  memset(longdesc, 'd', sizeof(longdesc));
  longdesc[sizeof(longdesc) - 1] = '\0';
  char *line = xasprintf("{\"error\": {\"class\": \"GenericError\", \"desc\": "
                         "\"bad\\u001b[2J\\nthing %s\"}}", longdesc);
  const char *lines[] = {GREETING, "{\"return\": {}}", line, NULL};
  char *sent = NULL, *reply = NULL;
  vc_error *err = NULL;
  CHECK(run_session("quit", lines, &sent, &reply, &err) < 0 && reply == NULL);
  CHECK(err != NULL && strncmp(err->msg, "QMP quit: bad?[2J thing ddd", 27) == 0);
  CHECK(err != NULL && strlen(err->msg) < 20 + VC_QMP_DESC_MAX);
  CHECK(err != NULL && strcmp(err->msg + strlen(err->msg) - 3, "...") == 0);
  vc_error_free(&err);
  free(sent);
  free(line);
  const char *nodesc[] = {GREETING, "{\"error\": 1}", NULL};
  CHECK(run_session("quit", nodesc, &sent, &reply, &err) < 0);
  CHECK(err != NULL && strcmp(err->msg, "QMP qmp_capabilities: failed (no description)") == 0);
  vc_error_free(&err);
  free(sent);
}

TEST(session_refuses_a_broken_peer) {
  char *sent = NULL, *reply = NULL;
  vc_error *err = NULL;
  const char *no_greeting[] = {"{\"return\": {}}", NULL};
  CHECK(run_session("quit", no_greeting, &sent, &reply, &err) < 0);
  CHECK(err != NULL && strcmp(err->msg, "QMP: no greeting") == 0);
  vc_error_free(&err);
  free(sent);
  const char *not_json[] = {GREETING, "{\"return\": ", NULL};
  CHECK(run_session("quit", not_json, &sent, &reply, &err) < 0);
  CHECK(err != NULL && strncmp(err->msg, "QMP: invalid JSON", 17) == 0);
  vc_error_free(&err);
  free(sent);
  /* Nested past the depth guard: refused, not parsed. */
  char deep[1024] = "{\"return\": ";
  size_t n = strlen(deep);
  for (int i = 0; i < 200; i++)
    deep[n++] = '[';
  for (int i = 0; i < 200; i++)
    deep[n++] = ']';
  strcpy(deep + n, "}");
  const char *nested[] = {GREETING, deep, NULL};
  CHECK(run_session("quit", nested, &sent, &reply, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "nested deeper") != NULL);
  vc_error_free(&err);
  free(sent);
  /* A NUL inside a line. */
  struct vc_qmp_session s;
  vc_qmp_session_init(&s, "quit", NULL);
  char *send = NULL;
  CHECK(vc_qmp_session_input(&s, "{}\0{}", 5, &send, NULL, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "NUL") != NULL && s.stage == VC_QMP_DONE);
  vc_error_free(&err);
  /* Over: nothing more is taken. */
  CHECK(vc_qmp_session_input(&s, GREETING, strlen(GREETING), &send, NULL, &err) < 0);
  vc_error_free(&err);
}

TEST(session_bounds_the_events_skipped) {
  struct vc_qmp_session s;
  vc_qmp_session_init(&s, "quit", NULL);
  vc_error *err = NULL;
  char *send = NULL;
  CHECK(vc_qmp_session_input(&s, GREETING, strlen(GREETING), &send, NULL, &err) == 0);
  free(send);
  int rc = 0, i;
  for (i = 0; i < 1000 && rc == 0; i++)
    rc = vc_qmp_session_input(&s, EVENT, strlen(EVENT), &send, NULL, &err);
  CHECK(rc < 0 && i == VC_QMP_MAX_SKIPPED + 1);
  CHECK(err != NULL && strstr(err->msg, "events before the answer") != NULL);
  vc_error_free(&err);
}

/* A scripted QMP server on path: writes script once a client connects,
 * reading (and ignoring) what it sends, then closes. */
static pid_t serve(const char *path, const char *script) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    int c = accept(l, NULL, NULL);
    if (vc_write_all(c, script, strlen(script)) < 0)
      _exit(1);
    shutdown(c, SHUT_WR);
    char buf[256];
    while (read(c, buf, sizeof(buf)) > 0) {
    }
    _exit(0);
  }
  close(l);
  return pid;
}

TEST(execute_over_a_socket) {
  char dir[] = "/tmp/vc-qmp-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  cleanup_free char *path = xasprintf("%s/qmp.sock", dir);
  vc_error *err = NULL;
  char *reply = NULL;
  /* quit: the connection closes before the answer, which is fine. */
  pid_t pid = serve(path, GREETING "\r\n{\"return\": {}}\r\n" EVENT "\r\n");
  CHECK(vc_qmp_execute(path, "quit", NULL, 2000, &err) == 0 && err == NULL);
  waitpid(pid, NULL, 0);
  unlink(path);
  /* Another command closed on is an error. */
  pid = serve(path, GREETING "\r\n{\"return\": {}}\r\n");
  CHECK(vc_qmp_execute(path, "query-status", &reply, 2000, &err) < 0);
  CHECK(err != NULL && err->errnum == ECONNRESET && reply == NULL);
  vc_error_free(&err);
  waitpid(pid, NULL, 0);
  unlink(path);
  /* An answer split over the script's lines comes back as its value. */
  pid = serve(path, GREETING "\n{\"return\": {}}\n" EVENT "\n{\"return\": {\"status\": \"paused\"}}\n");
  CHECK(vc_qmp_execute(path, "query-status", &reply, 2000, &err) == 0);
  CHECK_STR(reply, "{\"status\":\"paused\"}");
  free(reply);
  waitpid(pid, NULL, 0);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  RUN(reader_splits_lines_across_reads);
  RUN(reader_refuses_an_endless_line);
  RUN(session_negotiates_then_answers);
  RUN(session_reports_qemus_error_as_one_safe_line);
  RUN(session_refuses_a_broken_peer);
  RUN(session_bounds_the_events_skipped);
  RUN(execute_over_a_socket);
  return TEST_SUMMARY();
}
