/* A minimal QMP client: connect, negotiate capabilities, run commands
 * (one-shot, or a session that can pass an fd and wait for events). */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "vmm/hypervisor.h"
#include "vmm/qmp.h"
#include "lib/base/util.h"

/* Reads one line (QMP messages are newline-terminated JSON objects). */
static int read_line(int fd, char *buf, size_t size, long long deadline,
                     vc_error **err) {
  size_t n = 0;
  while (n + 1 < size) {
    int left = (int)(deadline - vc_now_ms());
    struct pollfd p = {fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0)
      return vc_error_set(err, ETIMEDOUT, "QMP: no answer");
    ssize_t r = read(fd, buf + n, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return vc_error_set(err, r < 0 ? errno : ECONNRESET, "QMP: read");
    if (buf[n] == '\n')
      break;
    n++;
  }
  buf[n] = '\0';
  return 0;
}

/* QMP events seen while waiting for answers, for vc_qmp_wait_event. */
struct event_log {
  char **lines;
  size_t n;
};

static void log_event(struct event_log *log, const char *line) {
  if (log == NULL || log->n >= 256) /* a bound on what a session keeps */
    return;
  log->lines = xrealloc(log->lines, (log->n + 1) * sizeof(char *));
  log->lines[log->n++] = xstrdup(line);
}

/* Sends msg (a JSON object and a newline; fd attached if >= 0) and waits
 * for its return/error; events meanwhile go to log.  name says what the
 * command was in errors. */
static int transact_msg(int fd, const char *name, const char *msg, int pass_fd,
                        char **reply, long long deadline,
                        struct event_log *log, vc_error **err) {
  size_t len = strlen(msg);
  if (pass_fd >= 0) {
    /* The fd rides with the first byte; the rest follows normally. */
    if (vc_send_fd(fd, msg, 1, pass_fd) != 1 ||
        vc_write_all(fd, msg + 1, len - 1) < 0)
      return vc_error_set(err, errno, "QMP: write");
  } else if (vc_write_all(fd, msg, len) < 0) {
    return vc_error_set(err, errno, "QMP: write");
  }
  char line[16384];
  for (;;) {
    if (read_line(fd, line, sizeof(line), deadline, err) < 0)
      return -1;
    yajl_val v = yajl_tree_parse(line, NULL, 0);
    if (v == NULL)
      continue;
    const char *ret_path[] = {"return", NULL};
    const char *err_path[] = {"error", "desc", NULL};
    const char *event_path[] = {"event", NULL};
    yajl_val ret = yajl_tree_get(v, ret_path, yajl_t_any);
    yajl_val e = yajl_tree_get(v, err_path, yajl_t_string);
    if (e != NULL) {
      vc_error_set(err, 0, "QMP %s: %s", name, YAJL_GET_STRING(e));
      yajl_tree_free(v);
      return -1;
    }
    if (ret != NULL) {
      if (reply != NULL)
        *reply = xstrdup(line);
      yajl_tree_free(v);
      return 0;
    }
    if (yajl_tree_get(v, event_path, yajl_t_string) != NULL)
      log_event(log, line);
    yajl_tree_free(v);
  }
}

/* Sends a command without arguments and waits for its return/error,
 * skipping events. */
static int transact(int fd, const char *cmd, char **reply, long long deadline,
                    vc_error **err) {
  cleanup_free char *msg = xasprintf("{\"execute\":\"%s\"}\n", cmd);
  return transact_msg(fd, cmd, msg, -1, reply, deadline, NULL, err);
}

static int qmp_connect(const char *socket_path, long long deadline, int *out,
                       vc_error **err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof(addr.sun_path))
    return vc_error_set(err, ENAMETOOLONG, "QMP socket `%s`", socket_path);
  strcpy(addr.sun_path, socket_path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    return vc_error_set(err, errno, "QMP connect `%s`", socket_path);
  char greeting[4096];
  if (read_line(fd, greeting, sizeof(greeting), deadline, err) < 0 ||
      transact(fd, "qmp_capabilities", NULL, deadline, err) < 0)
    return -1;
  *out = fd;
  fd = -1; /* handed over */
  return 0;
}

int vc_qmp_execute(const char *socket_path, const char *command, char **reply,
                   int timeout_ms, vc_error **err) {
  long long deadline = vc_now_ms() + timeout_ms;
  cleanup_close int fd = -1;
  if (qmp_connect(socket_path, deadline, &fd, err) < 0)
    return -1;
  /* quit closes the connection before or after answering: either is fine. */
  int r = transact(fd, command, reply, deadline, err);
  if (r < 0 && strcmp(command, "quit") == 0 && *err != NULL &&
      (*err)->errnum == ECONNRESET) {
    vc_error_free(err);
    return 0;
  }
  return r;
}

struct vc_qmp {
  int fd;
  long long deadline;
  struct event_log events;
};

int vc_qmp_open(const char *socket_path, int timeout_ms, struct vc_qmp **out,
                vc_error **err) {
  long long deadline = vc_now_ms() + timeout_ms;
  int fd = -1;
  if (qmp_connect(socket_path, deadline, &fd, err) < 0)
    return -1;
  struct vc_qmp *q = xcalloc(1, sizeof(*q));
  q->fd = fd;
  q->deadline = deadline;
  *out = q;
  return 0;
}

void vc_qmp_close(struct vc_qmp *q) {
  if (q == NULL)
    return;
  close(q->fd);
  for (size_t i = 0; i < q->events.n; i++)
    free(q->events.lines[i]);
  free(q->events.lines);
  free(q);
}

int vc_qmp_command(struct vc_qmp *q, const char *json, int fd, char **reply,
                   vc_error **err) {
  /* The command's name, for errors. */
  char name[64] = "command";
  yajl_val v = yajl_tree_parse(json, NULL, 0);
  const char *exec_path[] = {"execute", NULL};
  yajl_val ex = v ? yajl_tree_get(v, exec_path, yajl_t_string) : NULL;
  if (ex == NULL) {
    yajl_tree_free(v);
    return vc_error_set(err, EINVAL, "QMP: not a command: %.80s", json);
  }
  snprintf(name, sizeof(name), "%s", YAJL_GET_STRING(ex));
  yajl_tree_free(v);
  cleanup_free char *msg = xasprintf("%s\n", json);
  return transact_msg(q->fd, name, msg, fd, reply, q->deadline, &q->events, err);
}

static bool event_matches(const char *line, const char *event,
                          const char *device) {
  yajl_val v = yajl_tree_parse(line, NULL, 0);
  if (v == NULL)
    return false;
  const char *event_path[] = {"event", NULL};
  const char *device_path[] = {"data", "device", NULL};
  const char *e = YAJL_GET_STRING(yajl_tree_get(v, event_path, yajl_t_string));
  const char *d = YAJL_GET_STRING(yajl_tree_get(v, device_path, yajl_t_string));
  bool ok = e != NULL && strcmp(e, event) == 0 &&
            (device == NULL || (d != NULL && strcmp(d, device) == 0));
  yajl_tree_free(v);
  return ok;
}

int vc_qmp_wait_event(struct vc_qmp *q, const char *event, const char *device,
                      vc_error **err) {
  for (size_t i = 0; i < q->events.n; i++)
    if (event_matches(q->events.lines[i], event, device))
      return 0;
  char line[16384];
  for (;;) {
    if (read_line(q->fd, line, sizeof(line), q->deadline, err) < 0)
      return vc_error_wrap(err, "waiting for QMP event %s", event);
    if (event_matches(line, event, device))
      return 0;
  }
}
