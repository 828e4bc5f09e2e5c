/* A minimal QMP client: connect, negotiate capabilities, run one command.
 * What comes back is read through the bounded reader and the session logic
 * of vmm/qmp.h, never parsed straight off the socket. */
#include "vmm/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"
#include "vmm/hypervisor.h"

/* --- reader ------------------------------------------------------------- */

char *vc_qmp_reader_space(struct vc_qmp_reader *r, size_t *room) {
  /* Lines handed out are dropped only now: their text stayed valid until
   * the caller came back for more. */
  if (r->consumed > 0) {
    memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
    r->len -= r->consumed;
    r->consumed = 0;
  }
  *room = VC_QMP_LINE_MAX - r->len;
  return r->buf + r->len;
}

void vc_qmp_reader_commit(struct vc_qmp_reader *r, size_t n) {
  r->len += n;
}

int vc_qmp_reader_line(struct vc_qmp_reader *r, const char **line,
                       size_t *len, vc_error **err) {
  char *start = r->buf + r->consumed;
  size_t held = r->len - r->consumed;
  char *nl = memchr(start, '\n', held);
  if (nl == NULL) {
    if (held >= VC_QMP_LINE_MAX)
      return vc_error_set(err, 0, "QMP: message longer than %d bytes",
                          VC_QMP_LINE_MAX);
    return 0;
  }
  *nl = '\0';
  *line = start;
  *len = (size_t)(nl - start);
  r->consumed += *len + 1;
  return 1;
}

/* --- session ------------------------------------------------------------ */

void vc_qmp_session_init(struct vc_qmp_session *s, const char *command,
                         const char *arguments) {
  s->command = command;
  s->arguments = arguments;
  s->stage = VC_QMP_AWAIT_GREETING;
  s->skipped = 0;
}

static const char *stage_command(const struct vc_qmp_session *s) {
  return s->stage == VC_QMP_AWAIT_CAPABILITIES ? "qmp_capabilities"
                                               : s->command;
}

/* QEMU's description of a failure, as one printable, bounded line. */
static int command_failed(const struct vc_qmp_session *s, yajl_val error,
                          vc_error **err) {
  const char *desc = vc_json_get_str(error, "desc");
  if (desc == NULL)
    return vc_error_set(err, 0, "QMP %s: failed (no description)",
                        stage_command(s));
  char text[VC_QMP_DESC_MAX + 1];
  size_t n = strnlen(desc, VC_QMP_DESC_MAX);
  memcpy(text, desc, n);
  n = vc_printable(text, n);
  text[n] = '\0';
  for (char *p = text; *p != '\0'; p++)
    if (*p == '\n' || *p == '\t')
      *p = ' ';
  return vc_error_set(err, 0, "QMP %s: %s%s", stage_command(s), text,
                      strlen(desc) > VC_QMP_DESC_MAX ? "..." : "");
}

static char *execute_line(const char *command, const char *arguments) {
  cleanup_free char *quoted = vc_json_quote(command);
  if (arguments != NULL)
    return xasprintf("{\"execute\":%s,\"arguments\":%s}\n", quoted, arguments);
  return xasprintf("{\"execute\":%s}\n", quoted);
}

/* Handles one parsed message; the caller frees the tree. */
static int session_message(struct vc_qmp_session *s, yajl_val msg,
                           char **send, char **reply, vc_error **err) {
  if (!YAJL_IS_OBJECT(msg))
    return vc_error_set(err, 0, "QMP: a message that is not an object");
  if (s->stage == VC_QMP_AWAIT_GREETING) {
    if (vc_json_get_object(msg, "QMP") == NULL)
      return vc_error_set(err, 0, "QMP: no greeting");
    s->stage = VC_QMP_AWAIT_CAPABILITIES;
    *send = execute_line("qmp_capabilities", NULL);
    return 0;
  }
  yajl_val error = vc_json_get(msg, "error");
  if (error != NULL)
    return command_failed(s, error, err);
  yajl_val ret = vc_json_get(msg, "return");
  if (ret == NULL) {
    /* An event (or something newer QEMUs send): skipped, within reason. */
    if (++s->skipped > VC_QMP_MAX_SKIPPED)
      return vc_error_set(err, 0,
                          "QMP %s: more than %d events before the answer",
                          stage_command(s), VC_QMP_MAX_SKIPPED);
    return 0;
  }
  s->skipped = 0;
  if (s->stage == VC_QMP_AWAIT_CAPABILITIES) {
    s->stage = VC_QMP_AWAIT_ANSWER;
    *send = execute_line(s->command, s->arguments);
    return 0;
  }
  if (reply != NULL && vc_json_serialize(ret, reply, err) < 0)
    return -1;
  return 1;
}

int vc_qmp_session_input(struct vc_qmp_session *s, const char *line,
                         size_t len, char **send, char **reply,
                         vc_error **err) {
  *send = NULL;
  if (s->stage == VC_QMP_DONE)
    return vc_error_set(err, 0, "QMP: the session is over");
  int rc;
  yajl_val msg = NULL;
  vc_error *perr = NULL;
  if (memchr(line, '\0', len) != NULL) {
    rc = vc_error_set(err, 0, "QMP: a NUL byte in a message");
  } else if (vc_json_parse(line, &msg, &perr) < 0) {
    rc = vc_error_set(err, 0, "QMP: %s", perr->msg);
    vc_error_free(&perr);
  } else {
    rc = session_message(s, msg, send, reply, err);
  }
  yajl_tree_free(msg);
  if (rc != 0)
    s->stage = VC_QMP_DONE;
  return rc;
}

/* --- socket ------------------------------------------------------------- */

/* Reads what is there into r, waiting until deadline. */
static int read_more(int fd, struct vc_qmp_reader *r, long long deadline,
                     vc_error **err) {
  for (;;) {
    int left = (int)(deadline - vc_now_ms());
    struct pollfd p = {fd, POLLIN, 0};
    if (left <= 0)
      return vc_error_set(err, ETIMEDOUT, "QMP: no answer");
    int pr = poll(&p, 1, left);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr <= 0)
      return vc_error_set(err, pr < 0 ? errno : ETIMEDOUT, "QMP: no answer");
    size_t room;
    char *at = vc_qmp_reader_space(r, &room);
    ssize_t n = read(fd, at, room);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return vc_error_set(err, n < 0 ? errno : ECONNRESET, "QMP: read");
    vc_qmp_reader_commit(r, (size_t)n);
    return 0;
  }
}

int vc_qmp_execute(const char *socket_path, const char *command, char **reply,
                   int timeout_ms, vc_error **err) {
  return vc_qmp_call(socket_path, command, NULL, reply, timeout_ms, err);
}

int vc_qmp_call(const char *socket_path, const char *command,
                const char *arguments, char **reply, int timeout_ms,
                vc_error **err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof(addr.sun_path))
    return vc_error_set(err, ENAMETOOLONG, "QMP socket `%s`", socket_path);
  strcpy(addr.sun_path, socket_path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    return vc_error_set(err, errno, "QMP connect `%s`", socket_path);
  long long deadline = vc_now_ms() + timeout_ms;
  cleanup_free struct vc_qmp_reader *r = xcalloc(1, sizeof(*r));
  struct vc_qmp_session s;
  vc_qmp_session_init(&s, command, arguments);
  for (;;) {
    const char *line;
    size_t len;
    int got = vc_qmp_reader_line(r, &line, &len, err);
    if (got == 0)
      got = read_more(fd, r, deadline, err);
    else if (got > 0) {
      cleanup_free char *send = NULL;
      got = vc_qmp_session_input(&s, line, len, &send, reply, err);
      if (send != NULL && vc_write_all(fd, send, strlen(send)) < 0)
        return vc_error_set(err, errno, "QMP: write");
      if (got > 0)
        return 0;
    }
    if (got < 0)
      break;
  }
  /* quit closes the connection before or after answering: either is fine. */
  if (s.stage == VC_QMP_AWAIT_ANSWER && strcmp(command, "quit") == 0 &&
      *err != NULL && (*err)->errnum == ECONNRESET) {
    vc_error_free(err);
    return 0;
  }
  return -1;
}
