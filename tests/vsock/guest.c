/* /init of the vsock e2e test VM (built with gcc -static): loads the vsock
 * modules, listens on vsock port 1024 and serves each stream in its own
 * process, as tests/vsock/proto.h describes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proto.h"

static void say(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0)
    (void)!write(2, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void poweroff(void) {
  sync();
  reboot(RB_POWER_OFF);
  _exit(1);
}

/* Loads /modules/load.order, retrying the ones that failed for a missing
 * symbol (ENOENT) once the others are in: the list is not strictly in
 * dependency order. */
static void load_modules(void) {
  FILE *f = fopen("/modules/load.order", "r");
  if (f == NULL) {
    say("guest: no /modules/load.order\n");
    poweroff();
  }
  char names[32][64];
  bool done[32] = {false};
  int n = 0;
  while (n < 32 && fgets(names[n], sizeof(names[n]), f) != NULL) {
    names[n][strcspn(names[n], "\n")] = '\0';
    if (names[n][0] != '\0')
      n++;
  }
  fclose(f);
  for (int pass = 0; pass < n; pass++) {
    bool progress = false, missing = false;
    for (int i = 0; i < n; i++) {
      if (done[i])
        continue;
      char path[128];
      snprintf(path, sizeof(path), "/modules/%.63s", names[i]);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      int rc = fd < 0 ? -1 : (int)syscall(SYS_finit_module, fd, "", 0);
      int e = errno;
      if (fd >= 0)
        close(fd);
      if (rc == 0 || e == EEXIST) {
        done[i] = progress = true;
      } else {
        missing = true;
        if (pass == n - 1 || e != ENOENT)
          say("guest: loading %s: %s\n", names[i], strerror(e));
      }
    }
    if (!missing || !progress)
      break;
  }
}

static int read_full(int fd, void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t r = read(fd, (char *)buf + done, len - done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    done += (size_t)r;
  }
  return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, (const char *)buf + done, len - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    done += (size_t)w;
  }
  return 0;
}

#define CHUNK 65536

/* Sends n bytes of stream(2*seed+1) while checking n bytes of
 * stream(2*seed), both at once so neither side can block the other. */
static uint32_t pump(int fd, uint32_t seed, uint64_t n) {
  static uint8_t in[CHUNK], want[CHUNK], out[CHUNK];
  struct prng rx, tx;
  prng_init(&rx, 2ULL * seed);
  prng_init(&tx, 2ULL * seed + 1);
  uint64_t sent = 0, rcvd = 0;
  size_t out_off = 0, out_len = 0;
  uint32_t status = 0;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  while (sent < n || rcvd < n) {
    struct pollfd p = {.fd = fd};
    if (rcvd < n)
      p.events |= POLLIN;
    if (sent < n)
      p.events |= POLLOUT;
    if (poll(&p, 1, 30000) <= 0)
      return 3;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      size_t want_n = n - rcvd < CHUNK ? (size_t)(n - rcvd) : CHUNK;
      ssize_t r = read(fd, in, want_n);
      if (r == 0)
        return 4;
      if (r < 0 && errno != EAGAIN && errno != EINTR)
        return 5;
      if (r > 0) {
        prng_fill(&rx, want, (size_t)r);
        if (status == 0 && memcmp(in, want, (size_t)r) != 0)
          status = 1;
        rcvd += (uint64_t)r;
      }
    }
    if ((p.revents & POLLOUT) && sent < n) {
      if (out_off == out_len) {
        out_len = n - sent < CHUNK ? (size_t)(n - sent) : CHUNK;
        prng_fill(&tx, out, out_len);
        out_off = 0;
      }
      ssize_t w = write(fd, out + out_off, out_len - out_off);
      if (w < 0 && errno != EAGAIN && errno != EINTR)
        return 6;
      if (w > 0) {
        out_off += (size_t)w;
        sent += (uint64_t)w;
      }
    }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return status;
}

static uint32_t connect_back(uint32_t seed, uint32_t port) {
  int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
                           .svm_port = port};
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return 2;
  struct test_req hello = {MODE_STREAM, seed, CONNECT_BYTES};
  if (write_full(s, &hello, sizeof(hello)) < 0)
    return 3;
  static uint8_t buf[CHUNK];
  struct prng p;
  prng_init(&p, seed);
  uint64_t sum = 0;
  for (uint32_t done = 0; done < CONNECT_BYTES; done += CHUNK) {
    prng_fill(&p, buf, CHUNK);
    for (size_t i = 0; i < CHUNK; i++)
      sum += buf[i];
    if (write_full(s, buf, CHUNK) < 0)
      return 3;
  }
  uint64_t got;
  if (read_full(s, &got, sizeof(got)) < 0)
    return 4;
  close(s);
  return got == sum ? 0 : 1;
}

/* ECHO, SINK and SOURCE: the modes both channels serve.  Returns -1 when
 * the channel broke. */
static int move_bytes(int fd, const struct test_req *req) {
  static uint8_t buf[CHUNK];
  uint64_t left = req->arg;
  switch (req->mode) {
  case MODE_ECHO:
    while (req->arg == 0 || left > 0) {
      ssize_t r = read(fd, buf, req->arg == 0 || left > CHUNK ? CHUNK : left);
      if (r <= 0 || write_full(fd, buf, (size_t)r) < 0)
        return req->arg == 0 ? 0 : -1;
      left -= (uint64_t)r;
    }
    return 0;
  case MODE_SINK:
    while (left > 0) {
      ssize_t r = read(fd, buf, left > CHUNK ? CHUNK : left);
      if (r <= 0)
        return -1;
      left -= (uint64_t)r;
    }
    return write_full(fd, &req->arg, sizeof(req->arg));
  case MODE_SOURCE:
    memset(buf, 0x5a, sizeof(buf));
    for (; left > 0; left -= left > CHUNK ? CHUNK : left)
      if (write_full(fd, buf, left > CHUNK ? CHUNK : left) < 0)
        return -1;
    return 0;
  }
  return -1;
}

static void serve(int fd) {
  struct test_req req;
  if (read_full(fd, &req, sizeof(req)) < 0)
    _exit(1);
  uint32_t status;
  static uint8_t buf[CHUNK];
  switch (req.mode) {
  case MODE_STREAM:
    status = pump(fd, req.seed, req.arg);
    write_full(fd, &status, sizeof(status));
    /* Wait for the host to finish reading, then close. */
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    break;
  case MODE_DIE:
    for (uint64_t left = req.arg; left > 0;) {
      ssize_t r = read(fd, buf, left < CHUNK ? left : CHUNK);
      if (r <= 0)
        break;
      left -= (uint64_t)r;
    }
    _exit(2); /* the socket dies with us, mid-stream */
  case MODE_CONNECT:
    status = connect_back(req.seed, (uint32_t)req.arg);
    write_full(fd, &status, sizeof(status));
    break;
  case MODE_POWEROFF:
    say("guest: powering off\n");
    poweroff();
    break;
  default:
    move_bytes(fd, &req);
    break;
  }
  close(fd);
  _exit(0);
}

/* The virtio-serial port named SERIAL_PORT_NAME, if the VM has one: finds
 * its /dev/vportNpM through sysfs (there is no udev for the
 * /dev/virtio-ports/ links) and serves requests on it, one at a time. */
static void serve_serial(void) {
  char dev[64] = "";
  if (access("/sys/class/virtio-ports", F_OK) < 0)
    _exit(0); /* no virtio_console: not the --bench VM */
  for (int tries = 0; tries < 200 && dev[0] == '\0'; tries++) {
    for (int n = 0; n < 4 && dev[0] == '\0'; n++)
      for (int p = 0; p < 4 && dev[0] == '\0'; p++) {
        char path[96], name[64] = "";
        snprintf(path, sizeof(path), "/sys/class/virtio-ports/vport%dp%d/name",
                 n, p);
        int f = open(path, O_RDONLY | O_CLOEXEC);
        if (f < 0)
          continue;
        ssize_t r = read(f, name, sizeof(name) - 1);
        close(f);
        if (r > 0 && strcmp(name, SERIAL_PORT_NAME "\n") == 0)
          snprintf(dev, sizeof(dev), "/dev/vport%dp%d", n, p);
      }
    if (dev[0] == '\0')
      usleep(50000);
  }
  if (dev[0] == '\0')
    _exit(0); /* no such port */
  int fd = open(dev, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    say("guest: open %s: %s\n", dev, strerror(errno));
    _exit(1);
  }
  say("guest: serving virtio-serial port %s\n", dev);
  for (;;) {
    struct test_req req;
    if (read_full(fd, &req, sizeof(req)) < 0 || move_bytes(fd, &req) < 0) {
      /* The host end went away; wait for it to come back. */
      usleep(100000);
    }
  }
}

int main(void) {
  mkdir("/dev", 0755);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  int con = open("/dev/console", O_RDWR);
  if (con >= 0) {
    dup2(con, 1);
    dup2(con, 2);
  }
  load_modules();
  signal(SIGCHLD, SIG_IGN); /* children reap themselves */
  mkdir("/sys", 0755);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  if (fork() == 0)
    serve_serial();
  int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
                           .svm_port = GUEST_PORT};
  if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(s, 128) < 0) {
    say("guest: vsock listen: %s\n", strerror(errno));
    poweroff();
  }
  say("guest: listening on vsock port %d\n", GUEST_PORT);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) {
      if (errno != EINTR)
        say("guest: accept: %s\n", strerror(errno));
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(s);
      serve(c);
    }
    close(c);
  }
}
