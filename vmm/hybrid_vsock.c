#include "vmm/hybrid_vsock.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"

enum attempt { ATTEMPT_OK, ATTEMPT_RETRY, ATTEMPT_FATAL };

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* Reads one '\n'-terminated line a byte at a time so that nothing after
 * it is consumed.  Returns its length, 0 on EOF, -1 on error or timeout
 * (errno ETIMEDOUT). */
static ssize_t read_line(int fd, char *buf, size_t cap, long long deadline) {
  size_t n = 0;
  while (n + 1 < cap) {
    long long left = deadline - vc_now_ms();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int pr = poll(&p, 1, (int)left);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr < 0)
      return -1;
    if (pr == 0)
      continue;
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      return 0;
    buf[n++] = c;
    if (c == '\n') {
      buf[n] = '\0';
      return (ssize_t)n;
    }
  }
  errno = EPROTO;
  return -1;
}

/* "<prefix><digits>\n" with the digits' value in *port. */
static bool parse_line(const char *prefix, const char *line, size_t len,
                       uint32_t *port) {
  size_t plen = strlen(prefix);
  if (len > VC_HYBRID_LINE_MAX || len < plen + 2 || line[len - 1] != '\n' ||
      memcmp(line, prefix, plen) != 0)
    return false;
  uint64_t v = 0;
  size_t i = plen;
  for (; i < len - 1; i++) {
    if (line[i] < '0' || line[i] > '9' || i - plen >= 10)
      return false;
    v = v * 10 + (uint64_t)(line[i] - '0');
  }
  if (v > UINT32_MAX)
    return false;
  *port = (uint32_t)v;
  return true;
}

bool vc_hybrid_parse_connect(const char *line, size_t len, uint32_t *port) {
  return parse_line("CONNECT ", line, len, port);
}

bool vc_hybrid_parse_ok(const char *line, size_t len, uint32_t *port) {
  return parse_line("OK ", line, len, port);
}

static enum attempt attempt(const char *path, uint32_t port,
                            long long deadline, int *out, char *why,
                            size_t why_len) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sa.sun_path)) {
    snprintf(why, why_len, "socket path too long");
    return ATTEMPT_FATAL;
  }
  strcpy(sa.sun_path, path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(why, why_len, "socket: %s", strerror(errno));
    return ATTEMPT_FATAL;
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int e = errno;
    snprintf(why, why_len, "connect: %s", strerror(e));
    /* Not there yet, or the back-end is not listening yet / is busy. */
    return e == ENOENT || e == ECONNREFUSED || e == EAGAIN ? ATTEMPT_RETRY
                                                          : ATTEMPT_FATAL;
  }
  char req[32];
  int n = snprintf(req, sizeof(req), "CONNECT %" PRIu32 "\n", port);
  size_t done = 0;
  while (done < (size_t)n) {
    ssize_t w = send(fd, req + done, (size_t)n - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      snprintf(why, why_len, "sending CONNECT: %s", strerror(errno));
      return ATTEMPT_RETRY;
    }
    done += (size_t)w;
  }
  char line[VC_HYBRID_LINE_MAX + 1];
  ssize_t r = read_line(fd, line, sizeof(line), deadline);
  if (r == 0) {
    snprintf(why, why_len,
             "connection closed before OK (the guest refused the port or "
             "did not answer)");
    return ATTEMPT_RETRY;
  }
  if (r < 0) {
    int e = errno;
    snprintf(why, why_len, "waiting for OK: %s",
             e == ETIMEDOUT ? "no answer" : strerror(e));
    return e == ETIMEDOUT || e == ECONNRESET ? ATTEMPT_RETRY : ATTEMPT_FATAL;
  }
  uint32_t local_port;
  if (!vc_hybrid_parse_ok(line, (size_t)r, &local_port)) {
    line[vc_printable(line, (size_t)r)] = '\0';
    line[strcspn(line, "\n")] = '\0';
    snprintf(why, why_len, "unexpected answer `%.40s`", line);
    return ATTEMPT_FATAL;
  }
  *out = fd;
  fd = -1; /* handed on */
  return ATTEMPT_OK;
}

int vc_hybrid_vsock_connect(const char *hybrid_socket, uint32_t port,
                            int timeout_ms, vc_error **err) {
  long long start = vc_now_ms();
  long long deadline = start + (timeout_ms > 0 ? timeout_ms : 0);
  long backoff = 10;
  char why[160] = "timed out", last[160];
  unsigned refused = 0;
  for (;;) {
    int fd = -1;
    enum attempt a = attempt(hybrid_socket, port, deadline, &fd, last,
                             sizeof(last));
    if (a == ATTEMPT_OK)
      return fd;
    /* An attempt cut short by our own deadline says less than the one
     * before it (typically: the guest refused). */
    if (refused == 0 || vc_now_ms() < deadline)
      memcpy(why, last, sizeof(why));
    if (strstr(last, "closed before OK") != NULL)
      refused++;
    if (a == ATTEMPT_FATAL)
      return vc_error_set(err, 0, "hybrid vsock `%s` port %" PRIu32 ": %s",
                          hybrid_socket, port, why);
    long long left = deadline - vc_now_ms();
    if (left <= 0)
      return vc_error_set(err, 0,
                          "hybrid vsock `%s` port %" PRIu32
                          ": timed out after %lld ms (%u refusals), last: %s",
                          hybrid_socket, port, vc_now_ms() - start, refused,
                          why);
    sleep_ms(backoff < left ? backoff : (long)left);
    if (backoff < 200)
      backoff *= 2;
  }
}
