#include "vmm/console_log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/host/process.h"

char *vc_console_fifo_path(const struct vc_vm *vm) {
  return xasprintf("%s/console.pipe", vm->dir);
}

int vc_console_log_start(const struct vc_vm *vm, pid_t *pid, vc_error **err) {
  const struct vc_hypervisor_config *h = vm->cfg;
  cleanup_free char *fifo = vc_console_fifo_path(vm);
  unlink(fifo); /* a restore into the same directory */
  if (mkfifo(fifo, 0600) < 0)
    return vc_error_set(err, errno, "create `%s`", fifo);
  if (access(h->vsock_backend, X_OK) < 0)
    return vc_error_set(err, errno, "console drain `%s` (configured in "
                        "[hypervisor.qemu] vsock_backend)", h->vsock_backend);
  cleanup_free char *log = xasprintf("%s/console-drain.log", vm->dir);
  cleanup_free char *max = xasprintf("%u", VC_CONSOLE_LOG_MAX);
  char *argv[] = {h->vsock_backend, "--console-log", vm->console_path,
                  "--fifo", fifo, "--max-bytes", max, "--ready-fd", NULL,
                  NULL};
  return vc_spawn_ready(argv, 8, log, "console drain", 5000, pid, err);
}

void vc_console_log_wait(const struct vc_vm *vm, int timeout_ms) {
  cleanup_free char *fifo = vc_console_fifo_path(vm);
  long long deadline = vc_now_ms() + timeout_ms;
  for (;;) {
    /* A FIFO opens for writing without blocking only while it has a
     * reader: ENXIO (or no FIFO) means the drain is gone. */
    int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
      return;
    close(fd);
    if (vc_now_ms() > deadline)
      return;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* Keeps the newest keep bytes of the size bytes in fd, at its start. */
static int keep_newest(int fd, size_t size, size_t keep, vc_error **err) {
  cleanup_free char *buf = xcalloc(1, keep ? keep : 1);
  size_t done = 0;
  while (done < keep) {
    ssize_t n = pread(fd, buf + done, keep - done, (off_t)(size - keep + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return vc_error_set(err, n < 0 ? errno : EIO, "console log: read");
    done += (size_t)n;
  }
  for (done = 0; done < keep;) {
    ssize_t n = pwrite(fd, buf + done, keep - done, (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return vc_error_set(err, errno, "console log: write");
    done += (size_t)n;
  }
  if (ftruncate(fd, (off_t)keep) < 0)
    return vc_error_set(err, errno, "console log: truncate");
  return 0;
}

int vc_console_log_drain(const char *fifo, const char *path, size_t max_bytes,
                         int ready_fd, vc_error **err) {
  if (max_bytes < 2)
    return vc_error_set(err, EINVAL, "console log: a limit of %zu bytes",
                        max_bytes);
  /* Non-blocking: the open must not wait for QEMU, which opens its end
   * after we say ready. */
  cleanup_close int in = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (in < 0)
    return vc_error_set(err, errno, "open `%s`", fifo);
  struct stat st;
  if (fstat(in, &st) < 0 || !S_ISFIFO(st.st_mode))
    return vc_error_set(err, EINVAL, "`%s` is not a FIFO", fifo);
  /* Written by offset, never reopened: the directory may be removed under
   * us once QEMU is gone. */
  cleanup_close int out =
      open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (out < 0)
    return vc_error_set(err, errno, "open `%s`", path);
  if (ready_fd >= 0) {
    if (write(ready_fd, "R", 1) != 1) {
      /* whoever started us is gone; carry on for QEMU */
    }
    close(ready_fd);
  }
  size_t size = 0;
  char buf[65536];
  for (;;) {
    /* A FIFO's read end sees neither data nor a hang-up before a writer
     * has opened it: poll waits for QEMU, then until QEMU closes it. */
    struct pollfd p = {in, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      return vc_error_set(err, errno, "poll `%s`", fifo);
    }
    ssize_t n = read(in, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n < 0)
      return vc_error_set(err, errno, "read `%s`", fifo);
    if (n == 0)
      return 0; /* every writer is gone */
    size_t len = (size_t)n;
    const char *data = buf;
    if (len > max_bytes / 2) {
      /* Only its newest part can stay anyway. */
      data += len - max_bytes / 2;
      len = max_bytes / 2;
    }
    if (size + len > max_bytes) {
      size_t keep = size < max_bytes / 2 ? size : max_bytes / 2;
      if (keep + len > max_bytes)
        keep = max_bytes - len;
      if (keep_newest(out, size, keep, err) < 0)
        return -1;
      size = keep;
    }
    for (size_t done = 0; done < len;) {
      ssize_t w = pwrite(out, data + done, len - done, (off_t)(size + done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return vc_error_set(err, errno, "write `%s`", path);
      done += (size_t)w;
    }
    size += len;
  }
}
