/* The console drain (vmm/console_log.h): it waits for a writer, keeps
 * console.log within its bound however much the guest writes, keeps the
 * newest bytes (the boot-failure messages read the tail), and exits once
 * the writer is gone. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "test.h"
#include "vmm/console_log.h"

#define LIMIT 4096

struct drain {
  char dir[64];
  char *fifo, *log;
  pid_t pid;
};

/* Starts the drain in a child and waits for its ready byte. */
static void drain_start(struct drain *d) {
  snprintf(d->dir, sizeof(d->dir), "/tmp/vc-console-XXXXXX");
  CHECK(mkdtemp(d->dir) != NULL);
  d->fifo = xasprintf("%s/console.pipe", d->dir);
  d->log = xasprintf("%s/console.log", d->dir);
  CHECK(mkfifo(d->fifo, 0600) == 0);
  int ready[2];
  CHECK(pipe(ready) == 0);
  d->pid = fork();
  if (d->pid == 0) {
    close(ready[0]);
    vc_error *err = NULL;
    _exit(vc_console_log_drain(d->fifo, d->log, LIMIT, ready[1], &err) == 0 ? 0 : 1);
  }
  close(ready[1]);
  char byte = 0;
  CHECK(read(ready[0], &byte, 1) == 1 && byte == 'R');
  close(ready[0]);
}

static void drain_cleanup(struct drain *d) {
  unlink(d->fifo);
  unlink(d->log);
  rmdir(d->dir);
  free(d->fifo);
  free(d->log);
}

static int drain_exit_status(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 500; i++) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -2;
}

TEST(a_flood_stays_within_the_bound_and_keeps_the_newest_bytes) {
  struct drain d;
  drain_start(&d);
  /* No writer yet: the drain waits rather than taking that as the end. */
  struct timespec ts = {0, 100 * 1000 * 1000};
  nanosleep(&ts, NULL);
  CHECK(waitpid(d.pid, NULL, WNOHANG) == 0);
  int w = open(d.fifo, O_WRONLY);
  CHECK(w >= 0);
  char line[64];
  for (int i = 0; i < 20000; i++) {
    int n = snprintf(line, sizeof(line), "line %06d\n", i);
    CHECK(write(w, line, (size_t)n) == n);
  }
  CHECK(write(w, "the end\n", 8) == 8);
  close(w);
  CHECK(drain_exit_status(d.pid) == 0);
  cleanup_free char *text = NULL;
  size_t len = 0;
  vc_error *err = NULL;
  CHECK(vc_read_file(d.log, &text, &len, &err) == 0);
  CHECK(len > 0 && len <= LIMIT);
  CHECK(text != NULL && len >= 20 &&
        strcmp(text + len - 20, "line 019999\nthe end\n") == 0);
  drain_cleanup(&d);
}

TEST(one_write_larger_than_the_bound_keeps_its_tail) {
  struct drain d;
  drain_start(&d);
  int w = open(d.fifo, O_WRONLY);
  char *big = xcalloc(1, 3 * LIMIT);
  memset(big, 'x', 3 * LIMIT);
  memcpy(big + 3 * LIMIT - 4, "tail", 4);
  CHECK(write(w, big, 3 * LIMIT) == 3 * LIMIT);
  close(w);
  free(big);
  CHECK(drain_exit_status(d.pid) == 0);
  struct stat st;
  CHECK(stat(d.log, &st) == 0 && st.st_size > 0 && st.st_size <= LIMIT);
  cleanup_free char *text = NULL;
  size_t len = 0;
  vc_error *err = NULL;
  CHECK(vc_read_file(d.log, &text, &len, &err) == 0);
  CHECK(len >= 4 && memcmp(text + len - 4, "tail", 4) == 0);
  drain_cleanup(&d);
}

TEST(wait_ends_a_drain_whose_qemu_never_came) {
  struct drain d;
  drain_start(&d);
  struct vc_vm vm = {.dir = d.dir};
  vc_console_log_wait(&vm, 2000);
  CHECK(drain_exit_status(d.pid) == 0);
  /* And with no drain at all it returns at once. */
  vc_console_log_wait(&vm, 2000);
  drain_cleanup(&d);
}

int main(void) {
  RUN(a_flood_stays_within_the_bound_and_keeps_the_newest_bytes);
  RUN(one_write_larger_than_the_bound_keeps_its_tail);
  RUN(wait_ends_a_drain_whose_qemu_never_came);
  return TEST_SUMMARY();
}
