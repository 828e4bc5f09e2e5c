/* A minimal QMP client: connect, negotiate capabilities, run one command. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/base/json.h"
#include "lib/base/util.h"
#include "vmm/qemu.h"

/* Longest answer line read (query-hotpluggable-cpus of a big VM is some
 * kilobytes). */
#define QMP_LINE_MAX 65536

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

/* Sends a command and waits for its return/error, skipping events. */
static int transact(int fd, const char *cmd, const char *args, char **reply,
                    long long deadline, vc_error **err) {
  cleanup_free char *quoted = vc_json_quote(cmd);
  cleanup_free char *msg =
      args != NULL ? xasprintf("{\"execute\":%s,\"arguments\":%s}\n", quoted, args)
                   : xasprintf("{\"execute\":%s}\n", quoted);
  if (vc_write_all(fd, msg, strlen(msg)) < 0)
    return vc_error_set(err, errno, "QMP: write");
  cleanup_free char *line = xcalloc(1, QMP_LINE_MAX);
  for (;;) {
    if (read_line(fd, line, QMP_LINE_MAX, deadline, err) < 0)
      return -1;
    /* The guarded parser: QEMU's answers echo guest-controlled text. */
    vc_error *perr = NULL;
    yajl_val v = NULL;
    if (vc_json_parse(line, &v, &perr) < 0) {
      vc_error_free(&perr);
      continue;
    }
    const char *ret_path[] = {"return", NULL};
    const char *err_path[] = {"error", "desc", NULL};
    yajl_val ret = yajl_tree_get(v, ret_path, yajl_t_any);
    yajl_val e = yajl_tree_get(v, err_path, yajl_t_string);
    if (e != NULL) {
      vc_error_set(err, 0, "QMP %s: %s", cmd, YAJL_GET_STRING(e));
      yajl_tree_free(v);
      return -1;
    }
    if (ret != NULL) {
      if (reply != NULL)
        *reply = xstrdup(line);
      yajl_tree_free(v);
      return 0;
    }
    yajl_tree_free(v); /* an event */
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
  char greeting[4096];
  if (read_line(fd, greeting, sizeof(greeting), deadline, err) < 0 ||
      transact(fd, "qmp_capabilities", NULL, NULL, deadline, err) < 0)
    return -1;
  /* quit closes the connection before or after answering: either is fine. */
  int r = transact(fd, command, arguments, reply, deadline, err);
  if (r < 0 && strcmp(command, "quit") == 0 && *err != NULL &&
      (*err)->errnum == ECONNRESET) {
    vc_error_free(err);
    return 0;
  }
  return r;
}
