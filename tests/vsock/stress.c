/* Host driver of the vsock e2e test: starts the back-end and a QEMU VM
 * whose /init is tests/vsock/guest.c, then checks the vsock path end to
 * end (see main).  With --bench it prints throughput and latency figures
 * instead.  Every child dies with us (PR_SET_PDEATHSIG) and is killed on
 * every exit path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "lib/base/util.h"
#include "vmm/hybrid_vsock.h"

static pid_t backend_pid = -1, qemu_pid = -1;
static char dir[256], vhost_sock[300], hybrid_sock[300];
static int failures;

static void kill_children(void) {
  if (qemu_pid > 0) {
    kill(qemu_pid, SIGKILL);
    waitpid(qemu_pid, NULL, 0);
    qemu_pid = -1;
  }
  if (backend_pid > 0) {
    kill(backend_pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(backend_pid, NULL, WNOHANG) == 0; i++)
      usleep(20000);
    kill(backend_pid, SIGKILL);
    waitpid(backend_pid, NULL, 0);
    backend_pid = -1;
  }
}

static void on_signal(int sig) {
  kill_children();
  _exit(128 + sig);
}

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  failures++;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FATAL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  fprintf(stderr, "(serial log: %s/serial.log, qemu log: %s/qemu.log)\n", dir,
          dir);
  exit(1);
}

static pid_t spawn(char *const argv[], const char *log, int keep_fd) {
  pid_t pid = fork();
  if (pid < 0)
    die("fork: %s", strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int nul = open("/dev/null", O_RDONLY);
    dup2(nul, 0);
    if (log != NULL) {
      int l = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(l, 1);
      dup2(l, 2);
    }
    for (int fd = 3; fd < 1024; fd++)
      if (fd != keep_fd)
        close(fd);
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static int connect_port(uint32_t port, int timeout_ms) {
  vc_error *err = NULL;
  int fd = vc_hybrid_vsock_connect(hybrid_sock, port, timeout_ms, &err);
  if (fd < 0) {
    fail("%s", err->msg);
    vc_error_free(&err);
  }
  return fd;
}

static int send_req(int fd, uint32_t mode, uint32_t seed, uint64_t arg) {
  struct test_req r = {mode, seed, arg};
  return vc_write_all(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : -1;
}

/* ---- many streams at once, each `bytes` in both directions ---- */

#define CHUNK 65536

struct stream {
  int fd;
  uint32_t seed;
  uint64_t sent, rcvd;
  struct prng tx, rx;
  uint8_t out[CHUNK];
  size_t out_off, out_len;
  uint8_t status[4];
  unsigned status_got;
  bool bad, done;
};

/* Returns the seconds it took, or -1. */
static double run_streams(unsigned n, uint64_t bytes, uint32_t seed0) {
  struct stream *s = xcalloc(n, sizeof(*s));
  long long t0 = vc_now_ms();
  int rc = 0;
  for (unsigned i = 0; i < n; i++) {
    s[i].fd = -1;
    s[i].seed = seed0 + i;
  }
  for (unsigned i = 0; i < n; i++) {
    s[i].fd = connect_port(GUEST_PORT, 10000);
    if (s[i].fd < 0 || send_req(s[i].fd, MODE_STREAM, s[i].seed, bytes) < 0) {
      fail("stream %u: could not start", i);
      rc = -1;
      goto out;
    }
    fcntl(s[i].fd, F_SETFL, O_NONBLOCK);
    prng_init(&s[i].tx, 2ULL * s[i].seed);
    prng_init(&s[i].rx, 2ULL * s[i].seed + 1);
  }
  static uint8_t in[CHUNK], want[CHUNK];
  struct pollfd *p = xcalloc(n, sizeof(*p));
  unsigned left = n;
  long long last_progress = vc_now_ms();
  while (left > 0) {
    for (unsigned i = 0; i < n; i++) {
      p[i].fd = s[i].done ? -1 : s[i].fd;
      p[i].events = POLLIN | (s[i].sent < bytes ? POLLOUT : 0);
      p[i].revents = 0;
    }
    int pr = poll(p, n, 1000);
    if (pr < 0 && errno != EINTR)
      die("poll: %s", strerror(errno));
    if (vc_now_ms() - last_progress > 20000) {
      uint64_t sent = 0, rcvd = 0;
      for (unsigned i = 0; i < n; i++)
        sent += s[i].sent, rcvd += s[i].rcvd;
      fail("streams: no progress for 20 s (deadlock?): %u streams left, "
           "%" PRIu64 " bytes sent, %" PRIu64 " received in total",
           left, sent, rcvd);
      rc = -1;
      goto out_p;
    }
    for (unsigned i = 0; i < n; i++) {
      struct stream *st = &s[i];
      if (st->done || p[i].revents == 0)
        continue;
      if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r;
        if (st->rcvd < bytes) {
          size_t w = bytes - st->rcvd < CHUNK ? bytes - st->rcvd : CHUNK;
          r = read(st->fd, in, w);
          if (r > 0) {
            prng_fill(&st->rx, want, (size_t)r);
            if (memcmp(in, want, (size_t)r) != 0 && !st->bad) {
              fail("stream %u: data mismatch near offset %" PRIu64, i,
                   st->rcvd);
              st->bad = true;
            }
            st->rcvd += (uint64_t)r;
          }
        } else {
          r = read(st->fd, st->status + st->status_got, 4 - st->status_got);
          if (r > 0) {
            st->status_got += (unsigned)r;
            if (st->status_got == 4) {
              uint32_t v;
              memcpy(&v, st->status, 4);
              if (v != 0)
                fail("stream %u: guest reports status %u", i, v);
              st->done = true;
              close(st->fd);
              st->fd = -1;
              left--;
            }
          }
        }
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
          fail("stream %u: %s after %" PRIu64 "/%" PRIu64 " bytes", i,
               r == 0 ? "EOF" : strerror(errno), st->rcvd, bytes);
          rc = -1;
          goto out_p;
        }
        if (r > 0)
          last_progress = vc_now_ms();
      }
      if ((p[i].revents & POLLOUT) && st->sent < bytes) {
        if (st->out_off == st->out_len) {
          st->out_len = bytes - st->sent < CHUNK ? bytes - st->sent : CHUNK;
          prng_fill(&st->tx, st->out, st->out_len);
          st->out_off = 0;
        }
        ssize_t w = send(st->fd, st->out + st->out_off,
                         st->out_len - st->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
          fail("stream %u: write: %s", i, strerror(errno));
          rc = -1;
          goto out_p;
        }
        if (w > 0) {
          st->out_off += (size_t)w;
          st->sent += (uint64_t)w;
          last_progress = vc_now_ms();
        }
      }
    }
  }
out_p:
  free(p);
out:
  for (unsigned i = 0; i < n; i++) {
    if (s[i].fd >= 0)
      close(s[i].fd);
    if (s[i].bad)
      rc = -1;
  }
  free(s);
  return rc < 0 ? -1 : (vc_now_ms() - t0) / 1000.0;
}

/* ---- single checks ---- */

static void set_path(struct sockaddr_un *sa, const char *path) {
  if (strlen(path) >= sizeof(sa->sun_path))
    die("socket path too long: %s", path);
  strcpy(sa->sun_path, path);
}

static void check_echo(void) {
  int fd = connect_port(GUEST_PORT, 30000);
  if (fd < 0)
    die("cannot reach the guest");
  char c = 'x', back = 0;
  if (send_req(fd, MODE_ECHO, 0, 0) < 0 || vc_write_all(fd, &c, 1) != 1 ||
      vc_read_all(fd, &back, 1) != 1 || back != 'x')
    fail("echo: no answer");
  close(fd);
}

static void check_refused_port(void) {
  long long t0 = vc_now_ms();
  vc_error *err = NULL;
  int fd = vc_hybrid_vsock_connect(hybrid_sock, 4444, 1500, &err);
  long long dt = vc_now_ms() - t0;
  if (fd >= 0) {
    fail("refused port: connected to a port nobody listens on");
    close(fd);
  } else {
    printf("  refused port: error after %lld ms: %s\n", dt, err->msg);
    if (dt > 3000)
      fail("refused port: took %lld ms", dt);
    if (strstr(err->msg, "4444") == NULL)
      fail("refused port: error does not name the port");
  }
  vc_error_free(&err);
}

static void check_bad_line(void) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  set_path(&sa, hybrid_sock);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    fail("bad line: connect: %s", strerror(errno));
    close(fd);
    return;
  }
  const char *junk = "CONNECT 12x4\n";
  vc_write_all(fd, junk, strlen(junk));
  struct pollfd p = {.fd = fd, .events = POLLIN};
  char b;
  if (poll(&p, 1, 3000) != 1 || read(fd, &b, 1) != 0)
    fail("bad line: the back-end did not close the connection");
  close(fd);
}

/* The guest side dies mid-stream: its kernel resets the connection, so the
 * host must see both directions end promptly (reads EOF or ECONNRESET,
 * writes EPIPE or ECONNRESET), not a half-open socket or a hang.  Returns
 * the milliseconds that took, or -1. */
#define DIE_DEADLINE_MS 5000
static long long check_guest_dies(void) {
  int fd = connect_port(GUEST_PORT, 10000);
  if (fd < 0)
    return -1;
  send_req(fd, MODE_DIE, 0, 256 * 1024);
  long long t0 = vc_now_ms();
  static uint8_t buf[CHUNK];
  memset(buf, 0xab, sizeof(buf));
  fcntl(fd, F_SETFL, O_NONBLOCK);
  uint64_t sent = 0;
  bool rd_end = false, wr_end = false;
  while (!(rd_end && wr_end) && vc_now_ms() - t0 < DIE_DEADLINE_MS) {
    struct pollfd p = {.fd = fd, .events = (rd_end ? 0 : POLLIN) | POLLOUT};
    if (poll(&p, 1, 100) < 0)
      continue;
    if (!rd_end && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r == 0 || (r < 0 && errno != EAGAIN))
        rd_end = true;
    }
    /* Keep writing (also after the read side ended) until a write fails:
     * a mere half-close would keep accepting data. */
    ssize_t w = send(fd, buf, rd_end ? 1 : sizeof(buf), MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN)
      wr_end = true;
    if (w > 0)
      sent += (uint64_t)w;
  }
  long long dt = vc_now_ms() - t0;
  close(fd);
  if (!rd_end || !wr_end) {
    fail("guest died: after %lld ms the host side still %s", dt,
         !rd_end ? "reads no end" : "accepts writes (half-open, no reset)");
    return -1;
  }
  printf("  guest side died: host saw the reset after %lld ms (%" PRIu64
         " bytes sent)\n", dt, sent);
  return dt;
}

static int listen_at(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  set_path(&sa, path);
  unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(fd, 8) < 0)
    die("listen on %s: %s", path, strerror(errno));
  return fd;
}

/* A guest connection to CID 2 port P lands on <hybrid>_P. */
static void check_guest_connects(void) {
  char path[400];
  snprintf(path, sizeof(path), "%s_5000", hybrid_sock);
  int l = listen_at(path);
  int fd = connect_port(GUEST_PORT, 10000);
  if (fd < 0)
    goto out;
  send_req(fd, MODE_CONNECT, 77, 5000);
  struct pollfd p = {.fd = l, .events = POLLIN};
  if (poll(&p, 1, 15000) != 1) {
    fail("guest connect: nothing arrived on %s", path);
    goto out;
  }
  int c = accept(l, NULL, NULL);
  struct test_req hello;
  if (vc_read_all(c, &hello, sizeof(hello)) != sizeof(hello) ||
      hello.arg != CONNECT_BYTES) {
    fail("guest connect: bad hello");
    close(c);
    goto out;
  }
  static uint8_t buf[CONNECT_BYTES], want[CONNECT_BYTES];
  if (vc_read_all(c, buf, CONNECT_BYTES) != CONNECT_BYTES) {
    fail("guest connect: short data");
    close(c);
    goto out;
  }
  struct prng pr;
  prng_init(&pr, hello.seed);
  prng_fill(&pr, want, CONNECT_BYTES);
  if (memcmp(buf, want, CONNECT_BYTES) != 0)
    fail("guest connect: data mismatch");
  uint64_t sum = 0;
  for (size_t i = 0; i < CONNECT_BYTES; i++)
    sum += buf[i];
  vc_write_all(c, &sum, sizeof(sum));
  uint32_t status = 99;
  if (vc_read_all(fd, &status, 4) != 4 || status != 0)
    fail("guest connect: guest reports status %u", status);
  else
    printf("  guest-initiated connection to CID 2 port 5000: ok\n");
  close(c);
out:
  if (fd >= 0)
    close(fd);
  close(l);
  unlink(path);
}

/* Nobody listens on <hybrid>_5001: the guest's connect must fail fast. */
static void check_guest_connect_refused(void) {
  int fd = connect_port(GUEST_PORT, 10000);
  if (fd < 0)
    return;
  long long t0 = vc_now_ms();
  send_req(fd, MODE_CONNECT, 78, 5001);
  uint32_t status = 99;
  if (vc_read_all(fd, &status, 4) != 4 || status != 2)
    fail("guest connect refused: status %u, want 2", status);
  else
    printf("  guest connect to a missing host port refused in %lld ms\n",
           vc_now_ms() - t0);
  close(fd);
}

/* Many handshakes at once, each with one echo. */
static void check_many_connects(unsigned n) {
  int *fds = xcalloc(n, sizeof(int));
  long long t0 = vc_now_ms();
  unsigned ok = 0;
  for (unsigned i = 0; i < n; i++) {
    fds[i] = connect_port(GUEST_PORT, 10000);
    if (fds[i] >= 0)
      send_req(fds[i], MODE_ECHO, 0, 0);
  }
  for (unsigned i = 0; i < n; i++) {
    uint32_t v = i, back = ~i;
    if (fds[i] >= 0 && vc_write_all(fds[i], &v, 4) == 4 &&
        vc_read_all(fds[i], &back, 4) == 4 && back == v)
      ok++;
    if (fds[i] >= 0)
      close(fds[i]);
  }
  free(fds);
  if (ok != n)
    fail("many connects: %u of %u worked", ok, n);
  else
    printf("  %u concurrent connections with an echo each: %lld ms\n", n,
           vc_now_ms() - t0);
}

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

/* ---- --bench: vsock and virtio-serial side by side ---- */

/* A bench channel: vsock opens a connection per measurement, the one
 * virtio-serial port is reused. */
static int serial_fd = -1;

static int open_vsock(void) { return connect_port(GUEST_PORT, 10000); }
static int open_serial(void) { return serial_fd; }
static void close_channel(int fd) {
  if (fd >= 0 && fd != serial_fd)
    close(fd);
}

struct bench_row {
  const char *name;
  int (*open)(void);
  double to_guest, from_guest; /* MiB/s */
  long long rtt_median, rtt_p99;  /* us */
};

#define RTT_SAMPLES 2000
#define BENCH_MIB 64

static int measure_rtt(struct bench_row *row) {
  int fd = row->open();
  if (fd < 0 || send_req(fd, MODE_ECHO, 0, RTT_SAMPLES) < 0)
    return -1;
  static long long us[RTT_SAMPLES];
  for (int i = 0; i < RTT_SAMPLES; i++) {
    struct timespec a, b;
    char c = (char)i, back;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (vc_write_all(fd, &c, 1) != 1 || vc_read_all(fd, &back, 1) != 1 ||
        back != c) {
      close_channel(fd);
      return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    us[i] = (b.tv_sec - a.tv_sec) * 1000000LL + (b.tv_nsec - a.tv_nsec) / 1000;
  }
  close_channel(fd);
  qsort(us, RTT_SAMPLES, sizeof(us[0]), cmp_ll);
  row->rtt_median = us[RTT_SAMPLES / 2];
  row->rtt_p99 = us[RTT_SAMPLES * 99 / 100];
  return 0;
}

/* One direction: MODE_SINK (host to guest) or MODE_SOURCE.  Returns MiB/s,
 * or -1. */
static double measure_one_way(struct bench_row *row, uint32_t mode) {
  static uint8_t buf[CHUNK];
  const uint64_t bytes = (uint64_t)BENCH_MIB << 20;
  int fd = row->open();
  if (fd < 0)
    return -1;
  long long t0 = vc_now_ms();
  bool ok = send_req(fd, mode, 0, bytes) == 0;
  for (uint64_t done = 0; ok && done < bytes; done += CHUNK) {
    if (mode == MODE_SINK)
      ok = vc_write_all(fd, buf, CHUNK) == CHUNK;
    else
      ok = vc_read_all(fd, buf, CHUNK) == CHUNK;
  }
  uint64_t count = 0;
  if (ok && mode == MODE_SINK)
    ok = vc_read_all(fd, &count, sizeof(count)) == sizeof(count) &&
         count == bytes;
  long long dt = vc_now_ms() - t0;
  close_channel(fd);
  return ok ? BENCH_MIB * 1000.0 / (double)(dt > 0 ? dt : 1) : -1;
}

static void measure_row(struct bench_row *row) {
  if (measure_rtt(row) < 0)
    fail("%s: 1-byte round trips failed", row->name);
  row->to_guest = measure_one_way(row, MODE_SINK);
  row->from_guest = measure_one_way(row, MODE_SOURCE);
  if (row->to_guest < 0 || row->from_guest < 0)
    fail("%s: throughput run failed", row->name);
}

/* Connects to QEMU's end of the virtio-serial port and waits until the
 * guest serves it (QEMU holds our bytes until the guest opens the port). */
static void connect_serial(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  set_path(&sa, path);
  long long t0 = vc_now_ms();
  for (;;) {
    serial_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(serial_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
      break;
    close(serial_fd);
    serial_fd = -1;
    if (vc_now_ms() - t0 > 10000)
      die("virtio-serial: cannot connect to %s: %s", path, strerror(errno));
    usleep(20000);
  }
  char c = 's', back = 0;
  struct pollfd p = {.fd = serial_fd, .events = POLLIN};
  if (send_req(serial_fd, MODE_ECHO, 0, 1) < 0 ||
      vc_write_all(serial_fd, &c, 1) != 1 || poll(&p, 1, 20000) != 1 ||
      vc_read_all(serial_fd, &back, 1) != 1 || back != c)
    die("virtio-serial: the guest does not answer on port " SERIAL_PORT_NAME);
}

static void bench(const char *serial_path) {
  /* Checksummed streams, both directions at once, as the stress test. */
  double t = run_streams(1, 64ull << 20, 1000);
  if (t > 0)
    printf("vsock, 1 stream, 64 MiB each way at once (checksummed): %.1f "
           "MiB/s per direction\n", 64 / t);
  t = run_streams(8, 16ull << 20, 2000);
  if (t > 0)
    printf("vsock, 8 streams, 16 MiB each way at once (checksummed): %.1f "
           "MiB/s per direction (aggregate)\n", 8 * 16 / t);

  connect_serial(serial_path);
  struct bench_row rows[] = {
      {"vsock (hybrid, vcrun backend)", open_vsock, 0, 0, 0, 0},
      {"virtio-serial port", open_serial, 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    measure_row(&rows[i]);
  printf("\n%-30s %14s %14s %22s\n", "transport (same VM, TCG)",
         "host->guest", "guest->host", "1-byte RTT us");
  printf("%-30s %14s %14s %22s\n", "", "MiB/s", "MiB/s", "median / p99");
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    printf("%-30s %14.1f %14.1f %14lld / %5lld\n", rows[i].name,
           rows[i].to_guest, rows[i].from_guest, rows[i].rtt_median,
           rows[i].rtt_p99);
  printf("(%d MiB one way per figure; %d round trips)\n", BENCH_MIB,
         RTT_SAMPLES);
  close(serial_fd);
  serial_fd = -1;
}

int main(int argc, char **argv) {
  const char *backend = NULL, *kernel = NULL, *initrd = NULL, *qemu =
      "/usr/bin/qemu-system-x86_64";
  bool do_bench = false;
  unsigned nstreams = 64, mib = 10;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      backend = argv[++i];
    else if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
      kernel = argv[++i];
    else if (!strcmp(argv[i], "--initrd") && i + 1 < argc)
      initrd = argv[++i];
    else if (!strcmp(argv[i], "--qemu") && i + 1 < argc)
      qemu = argv[++i];
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
      snprintf(dir, sizeof(dir), "%s", argv[++i]);
    else if (!strcmp(argv[i], "--streams") && i + 1 < argc)
      nstreams = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
      mib = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--bench"))
      do_bench = true;
    else
      die("unknown argument %s", argv[i]);
  }
  if (backend == NULL || kernel == NULL || initrd == NULL || dir[0] == '\0')
    die("usage: stress --backend B --kernel K --initrd I --dir D [--bench]");
  snprintf(vhost_sock, sizeof(vhost_sock), "%s/vhost.sock", dir);
  snprintf(hybrid_sock, sizeof(hybrid_sock), "%s/hybrid.sock", dir);
  atexit(kill_children);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);

  long long t_start = vc_now_ms();
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    die("pipe: %s", strerror(errno));
  fcntl(ready[1], F_SETFD, 0); /* inherited by the back-end */
  char ready_fd[16], blog[300];
  snprintf(ready_fd, sizeof(ready_fd), "%d", ready[1]);
  snprintf(blog, sizeof(blog), "%s/backend.log", dir);
  /* vcrun-vsock-backend's command line, as the QEMU backend gives it. */
  char *bargv[] = {(char *)backend, "--vhost-user", vhost_sock, "--hybrid",
                   hybrid_sock, "--cid", "3", "--ready-fd", ready_fd, NULL};
  backend_pid = spawn(bargv, blog, ready[1]);
  close(ready[1]);
  struct pollfd rp = {.fd = ready[0], .events = POLLIN};
  char one;
  if (poll(&rp, 1, 5000) != 1 || read(ready[0], &one, 1) != 1)
    die("the back-end did not get ready (see %s)", blog);
  close(ready[0]);

  char chardev[400], serial[320], qlog[300];
  snprintf(chardev, sizeof(chardev), "socket,id=vsock,path=%s", vhost_sock);
  snprintf(serial, sizeof(serial), "file:%s/serial.log", dir);
  snprintf(qlog, sizeof(qlog), "%s/qemu.log", dir);
  char *qargv[] = {
      (char *)qemu, "-M", "q35,accel=tcg,memory-backend=mem", "-bios",
      "/usr/share/qemu/qboot.rom", "-cpu", "qemu64,+arat", "-m", "256M",
      "-smp", "1", "-object",
      "memory-backend-memfd,id=mem,size=256M,share=on", "-nographic",
      "-nodefaults", "-serial", serial, "-no-reboot", "-kernel",
      (char *)kernel, "-initrd", (char *)initrd, "-append",
      "console=ttyS0 panic=-1 quiet loglevel=0 tsc_early_khz=2596138 "
      "tsc=reliable no_timer_check i8042.noaux i8042.nomux i8042.nopnp "
      "i8042.dumbkbd 8250.nr_uarts=1 nokaslr mitigations=off "
      "cryptomgr.notests rcupdate.rcu_expedited=1 audit=0 nowatchdog "
      "initcall_blacklist=cmos_init",
      "-chardev", chardev, "-device", "vhost-user-vsock-pci,chardev=vsock",
      /* --bench: a virtio-serial port beside vsock, QEMU listening. */
      NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  char serial_sock[320], serial_chardev[400];
  snprintf(serial_sock, sizeof(serial_sock), "%s/serial.sock", dir);
  snprintf(serial_chardev, sizeof(serial_chardev),
           "socket,id=ser,path=%s,server=on,wait=off", serial_sock);
  if (do_bench) {
    char **tail = qargv;
    while (*tail != NULL)
      tail++;
    char *extra[] = {"-device", "virtio-serial-pci,id=vser", "-chardev",
                     serial_chardev, "-device",
                     "virtserialport,bus=vser.0,chardev=ser,name="
                     SERIAL_PORT_NAME};
    memcpy(tail, extra, sizeof(extra));
  }
  qemu_pid = spawn(qargv, qlog, -1);

  check_echo();
  printf("  guest reachable %lld ms after start\n", vc_now_ms() - t_start);
  if (failures)
    die("giving up");

  double streams_s = -1;
  long long die_ms = -1, die2_ms = -1;
  if (do_bench) {
    bench(serial_sock);
  } else {
    check_refused_port();
    check_bad_line();
    check_many_connects(100);
    check_guest_connects();
    check_guest_connect_refused();
    die_ms = check_guest_dies();
    streams_s = run_streams(nstreams, (uint64_t)mib << 20, 1);
    if (streams_s > 0)
      printf("  %u streams x %u MiB each way: %.1f s, %.1f MiB/s per "
             "direction (aggregate)\n",
             nstreams, mib, streams_s, nstreams * (double)mib / streams_s);
    /* After all that, the guest must still answer. */
    check_echo();
    die2_ms = check_guest_dies();
  }

  /* Power off: QEMU exits, the back-end must return 0 and clean up. */
  int fd = connect_port(GUEST_PORT, 10000);
  if (fd >= 0) {
    send_req(fd, MODE_POWEROFF, 0, 0);
    close(fd);
  }
  int st = 0;
  long long t0 = vc_now_ms();
  while (waitpid(qemu_pid, &st, WNOHANG) == 0 && vc_now_ms() - t0 < 15000)
    usleep(20000);
  if (vc_now_ms() - t0 >= 15000)
    fail("QEMU did not exit after the guest powered off");
  else
    qemu_pid = -1;
  t0 = vc_now_ms();
  int r;
  while ((r = waitpid(backend_pid, &st, WNOHANG)) == 0 &&
         vc_now_ms() - t0 < 5000)
    usleep(20000);
  if (r != backend_pid)
    fail("the back-end did not exit after QEMU did");
  else {
    backend_pid = -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      fail("the back-end exited with status 0x%x (see %s)", st, blog);
  }
  struct stat sb;
  if (stat(vhost_sock, &sb) == 0 || stat(hybrid_sock, &sb) == 0)
    fail("a socket was left behind in %s", dir);
  if (do_bench)
    printf("vsock bench: %s\n", failures ? "FAILED" : "done");
  else if (failures)
    printf("vsock stress: FAILED, %d failure(s) above (%.1f s)\n", failures,
           (vc_now_ms() - t_start) / 1000.0);
  else
    printf("vsock stress: ok: %u streams x %u MiB each way checksummed in "
           "%.1f s, dead guest socket reset in %lld/%lld ms, clean shutdown "
           "(%.1f s)\n",
           nstreams, mib, streams_s, die_ms, die2_ms,
           (vc_now_ms() - t_start) / 1000.0);
  return failures ? 1 : 0;
}
