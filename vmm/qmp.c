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

static int qmp_connect(const char *socket_path, int *out, vc_error **err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof(addr.sun_path))
    return vc_error_set(err, ENAMETOOLONG, "QMP socket `%s`", socket_path);
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return vc_error_set(err, e, "QMP connect `%s`", socket_path);
  }
  *out = fd;
  return 0;
}

int vc_qmp_execute(const char *socket_path, const char *command, char **reply,
                   int timeout_ms, vc_error **err) {
  return vc_qmp_call(socket_path, command, NULL, reply, timeout_ms, err);
}

int vc_qmp_call(const char *socket_path, const char *command,
                const char *arguments, char **reply, int timeout_ms,
                vc_error **err) {
  cleanup_close int fd = -1;
  if (qmp_connect(socket_path, &fd, err) < 0)
    return -1;
  long long deadline = vc_now_ms() + timeout_ms;
  cleanup_free struct vc_qmp_reader *r = xcalloc(1, sizeof(*r));
  struct vc_qmp_session s;
  vc_qmp_session_init(&s, command, arguments);
  for (;;) {
    const char *line = NULL;
    size_t len = 0;
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

/* --- sessions ----------------------------------------------------------- */

struct vc_qmp {
  int fd;
  long long deadline;
  struct vc_qmp_reader reader;
  char *events[VC_QMP_MAX_SKIPPED]; /* seen while waiting for answers */
  size_t n_events;
};

/* The next message, parsed (depth-guarded); *line (if non-NULL) gets its
 * text (malloc'd). */
static int next_message(struct vc_qmp *q, yajl_val *msg, char **line,
                        vc_error **err) {
  for (;;) {
    const char *text = NULL;
    size_t len = 0;
    int got = vc_qmp_reader_line(&q->reader, &text, &len, err);
    if (got < 0)
      return -1;
    if (got == 0) {
      if (read_more(q->fd, &q->reader, q->deadline, err) < 0)
        return -1;
      continue;
    }
    vc_error *perr = NULL;
    if (memchr(text, '\0', len) != NULL)
      return vc_error_set(err, 0, "QMP: a NUL byte in a message");
    if (vc_json_parse(text, msg, &perr) < 0) {
      vc_error_set(err, 0, "QMP: %s", perr->msg);
      vc_error_free(&perr);
      return -1;
    }
    if (line != NULL)
      *line = xstrdup(text);
    return 0;
  }
}

/* Keeps an event for vc_qmp_wait_event; a peer that floods us fails. */
static int keep_event(struct vc_qmp *q, char *line, vc_error **err) {
  if (q->n_events == VC_QMP_MAX_SKIPPED) {
    free(line);
    return vc_error_set(err, 0, "QMP: more than %d events in one session",
                        VC_QMP_MAX_SKIPPED);
  }
  q->events[q->n_events++] = line;
  return 0;
}

/* Waits for the answer to command name: 0 with *reply (the whole answer
 * line, if reply is non-NULL), or -1 with QEMU's error. */
static int await_answer(struct vc_qmp *q, const char *name, char **reply,
                        vc_error **err) {
  struct vc_qmp_session shown = {.command = name, .stage = VC_QMP_AWAIT_ANSWER};
  for (;;) {
    yajl_val msg = NULL;
    char *line = NULL;
    if (next_message(q, &msg, &line, err) < 0)
      return -1;
    yajl_val error = vc_json_get(msg, "error");
    int rc = 1;
    if (error != NULL) {
      rc = command_failed(&shown, error, err);
    } else if (vc_json_get(msg, "return") != NULL) {
      rc = 0;
      if (reply != NULL)
        *reply = vc_steal(&line);
    } else if (vc_json_get_str(msg, "event") != NULL) {
      rc = keep_event(q, vc_steal(&line), err) < 0 ? -1 : 1;
    }
    free(line);
    yajl_tree_free(msg);
    if (rc <= 0)
      return rc;
  }
}

/* Sends text (a command and its newline), fd attached when >= 0. */
static int send_command(struct vc_qmp *q, const char *text, int fd,
                        vc_error **err) {
  size_t len = strlen(text);
  /* The fd rides with the first byte; the rest follows normally. */
  if (fd >= 0 && vc_send_fd(q->fd, text, 1, fd) != 1)
    return vc_error_set(err, errno, "QMP: write");
  if (vc_write_all(q->fd, text + (fd >= 0), len - (fd >= 0)) < 0)
    return vc_error_set(err, errno, "QMP: write");
  return 0;
}

int vc_qmp_open(const char *socket_path, int timeout_ms, struct vc_qmp **out,
                vc_error **err) {
  struct vc_qmp *q = xcalloc(1, sizeof(*q));
  q->fd = -1;
  q->deadline = vc_now_ms() + timeout_ms;
  yajl_val greeting = NULL;
  if (qmp_connect(socket_path, &q->fd, err) < 0 ||
      next_message(q, &greeting, NULL, err) < 0)
    goto fail;
  bool is_greeting = vc_json_get_object(greeting, "QMP") != NULL;
  yajl_tree_free(greeting);
  if (!is_greeting) {
    vc_error_set(err, 0, "QMP: no greeting");
    goto fail;
  }
  if (send_command(q, "{\"execute\":\"qmp_capabilities\"}\n", -1, err) < 0 ||
      await_answer(q, "qmp_capabilities", NULL, err) < 0)
    goto fail;
  *out = q;
  return 0;
fail:
  vc_qmp_close(q);
  return -1;
}

void vc_qmp_close(struct vc_qmp *q) {
  if (q == NULL)
    return;
  if (q->fd >= 0)
    close(q->fd);
  for (size_t i = 0; i < q->n_events; i++)
    free(q->events[i]);
  free(q);
}

int vc_qmp_command(struct vc_qmp *q, const char *json, int fd, char **reply,
                   vc_error **err) {
  yajl_val cmd = NULL;
  if (vc_json_parse(json, &cmd, err) < 0)
    return vc_error_wrap(err, "QMP: not a command");
  const char *execute = vc_json_get_str(cmd, "execute");
  cleanup_free char *name = execute ? xstrdup(execute) : NULL;
  yajl_tree_free(cmd);
  if (name == NULL)
    return vc_error_set(err, EINVAL, "QMP: not a command: %.80s", json);
  cleanup_free char *text = xasprintf("%s\n", json);
  if (send_command(q, text, fd, err) < 0)
    return -1;
  return await_answer(q, name, reply, err);
}

static bool event_matches(const char *line, const char *event,
                          const char *device) {
  yajl_val v = NULL;
  vc_error *e = NULL;
  if (vc_json_parse(line, &v, &e) < 0) {
    vc_error_free(&e);
    return false;
  }
  const char *name = vc_json_get_str(v, "event");
  const char *dev = vc_json_get_str(vc_json_get_object(v, "data"), "device");
  bool ok = name != NULL && strcmp(name, event) == 0 &&
            (device == NULL || (dev != NULL && strcmp(dev, device) == 0));
  yajl_tree_free(v);
  return ok;
}

int vc_qmp_wait_event(struct vc_qmp *q, const char *event, const char *device,
                      vc_error **err) {
  for (size_t i = 0; i < q->n_events; i++)
    if (event_matches(q->events[i], event, device))
      return 0;
  for (;;) {
    yajl_val msg = NULL;
    char *line = NULL;
    if (next_message(q, &msg, &line, err) < 0)
      return vc_error_wrap(err, "waiting for QMP event %s", event);
    yajl_tree_free(msg);
    bool match = event_matches(line, event, device);
    free(line);
    if (match)
      return 0;
  }
}
