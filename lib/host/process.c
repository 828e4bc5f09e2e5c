#include "lib/host/process.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"

static bool kept(int fd, const int *keep, size_t n_keep) {
  for (size_t i = 0; i < n_keep; i++)
    if (keep[i] == fd)
      return true;
  return false;
}

void vc_close_fds_except(int first, const int *keep, size_t n_keep) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) {
    for (int fd = first; fd < 1024; fd++)
      if (!kept(fd, keep, n_keep))
        close(fd);
    return;
  }
  int dfd = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd = atoi(de->d_name);
    if (de->d_name[0] == '.' || fd < first || fd == dfd ||
        kept(fd, keep, n_keep))
      continue;
    close(fd);
  }
  closedir(d);
}

int vc_spawn_detached(char *const argv[], const char *log_path,
                      const int *keep, size_t n_keep, pid_t *pid,
                      vc_error **err) {
  /* report[1] carries the daemon's pid, then exec's errno if exec fails;
   * it is close-on-exec, so a successful exec just closes it. */
  if (n_keep > VC_SPAWN_MAX_KEEP)
    return vc_error_set(err, E2BIG, "start `%s`: %zu fds to keep, at most %d",
                        argv[0], n_keep, VC_SPAWN_MAX_KEEP);
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0)
    return vc_error_set(err, errno, "pipe");
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(report[0]);
    close(report[1]);
    return vc_error_set(err, e, "fork");
  }
  if (child == 0) {
    close(report[0]);
    setsid();
    pid_t daemon_pid = fork();
    if (daemon_pid != 0)
      _exit(daemon_pid < 0 ? 1 : 0);
    daemon_pid = getpid();
    if (write(report[1], &daemon_pid, sizeof(daemon_pid)) < 0)
      _exit(127);
    int devnull = open("/dev/null", O_RDWR);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (devnull < 0 || log < 0 || dup2(devnull, 0) < 0 || dup2(log, 1) < 0 ||
        dup2(log, 2) < 0) {
      int e = errno;
      if (write(report[1], &e, sizeof(e)) < 0)
        _exit(127);
      _exit(127);
    }
    /* report[1] joins the kept fds (no malloc between fork and exec). */
    int kept_fds[VC_SPAWN_MAX_KEEP + 1] = {report[1]};
    for (size_t i = 0; i < n_keep; i++)
      kept_fds[i + 1] = keep[i];
    vc_close_fds_except(3, kept_fds, n_keep + 1);
    for (size_t i = 0; i < n_keep; i++)
      if (keep[i] >= 0)
        fcntl(keep[i], F_SETFD, 0); /* it must survive the exec */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL); /* vcrun ignores it; its helpers need not */
    execv(argv[0], argv);
    int e = errno;
    if (write(report[1], &e, sizeof(e)) < 0)
      _exit(127);
    _exit(127);
  }
  close(report[1]);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  pid_t daemon_pid = 0;
  ssize_t n = vc_read_all(report[0], &daemon_pid, sizeof(daemon_pid));
  int exec_errno = 0;
  ssize_t m = n > 0 ? read(report[0], &exec_errno, sizeof(exec_errno)) : 0;
  close(report[0]);
  if (n <= 0 || daemon_pid <= 0)
    return vc_error_set(err, 0, "start `%s`: fork failed", argv[0]);
  if (m > 0)
    return vc_error_set(err, exec_errno, "start `%s`", argv[0]);
  *pid = daemon_pid;
  return 0;
}

unsigned long long vc_pid_start_time(pid_t pid) {
  if (!vc_pid_alive(pid))
    return 0;
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return 0;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* The name may hold anything: fields follow the last ')'; start time is
   * the 22nd field, the 20th after it. */
  const char *rest = strrchr(buf, ')');
  unsigned long long start = 0;
  if (rest == NULL ||
      sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
             "%*d %*d %*d %*d %*d %*d %llu", &start) != 1)
    return 0;
  return start;
}

bool vc_pid_alive(pid_t pid) {
  if (pid <= 0)
    return false;
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return false;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *close_paren = strrchr(buf, ')');
  if (close_paren == NULL || close_paren[1] == '\0')
    return false;
  char state = close_paren[2];
  return state != 'Z' && state != 'X';
}

bool vc_pid_is(pid_t pid, const char *needle) {
  if (!vc_pid_alive(pid))
    return false;
  char path[64], buf[8192];
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return false;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[n] = '\0';
  return strstr(buf, needle) != NULL;
}

void vc_renice_process(pid_t pid, int nice_value) {
  if (pid <= 0)
    return;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
    char *end;
    long tid = strtol(de->d_name, &end, 10);
    if (*end == '\0' && tid > 0)
      setpriority(PRIO_PROCESS, (id_t)tid, nice_value);
  }
  if (d != NULL)
    closedir(d);
}

/* Collects pid if it is our child (under a subreaper it can be), so no
 * zombie is left; harmless otherwise. */
static void reap(pid_t pid) {
  while (waitpid(pid, NULL, WNOHANG) < 0 && errno == EINTR)
    ;
}

void vc_pid_terminate(pid_t pid, int timeout_ms) {
  if (!vc_pid_alive(pid)) {
    reap(pid);
    return;
  }
  kill(pid, SIGTERM);
  long long deadline = vc_now_ms() + timeout_ms;
  while (vc_now_ms() < deadline) {
    if (!vc_pid_alive(pid)) {
      reap(pid);
      return;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  deadline = vc_now_ms() + 2000;
  while (vc_pid_alive(pid) && vc_now_ms() < deadline) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  reap(pid);
}

char *vc_log_tail(const char *path, size_t max_bytes) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return xstrdup("");
  struct stat st;
  off_t start = 0;
  if (fstat(fd, &st) == 0 && (size_t)st.st_size > max_bytes)
    start = st.st_size - (off_t)max_bytes;
  char *buf = xcalloc(1, max_bytes + 1);
  ssize_t n = pread(fd, buf, max_bytes, start);
  close(fd);
  if (n < 0)
    n = 0;
  /* The guest or the VMM wrote it: no NULs hiding the rest, no escapes
   * reaching the user's terminal. */
  n = (ssize_t)vc_printable(buf, (size_t)n);
  buf[n] = '\0';
  /* Trim trailing whitespace so the tail reads well inside a message. */
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return buf;
}

char *vc_self_exe(void) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0)
    return xstrdup("/proc/self/exe");
  self[n] = '\0';
  return xstrdup(self);
}

void vc_kill_processes_naming(const char *const *needles, size_t n,
                              int timeout_ms) {
  DIR *d = opendir("/proc");
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end != '\0' || pid <= 1 || pid == getpid())
      continue;
    for (size_t i = 0; i < n; i++) {
      if (vc_pid_is((pid_t)pid, needles[i])) {
        vc_pid_terminate((pid_t)pid, timeout_ms);
        break;
      }
    }
  }
  if (d != NULL)
    closedir(d);
}

int vc_spawn_ready(char *argv[], size_t ready_arg, const char *log_path,
                   const char *what, int timeout_ms, pid_t *pid,
                   vc_error **err) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    return vc_error_set(err, errno, "%s: pipe", what);
  cleanup_free char *fd = xasprintf("%d", ready[1]);
  argv[ready_arg] = fd;
  int r = vc_spawn_detached(argv, log_path, &ready[1], 1, pid, err);
  close(ready[1]);
  if (r < 0) {
    close(ready[0]);
    return -1;
  }
  struct pollfd p = {ready[0], POLLIN, 0};
  char byte;
  bool ok = poll(&p, 1, timeout_ms) == 1 && read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  if (ok)
    return 0;
  vc_pid_terminate(*pid, 100);
  cleanup_free char *tail = vc_log_tail(log_path, 1000);
  return vc_error_set(err, 0, "%s did not start: %s", what,
                      tail[0] ? tail : "(no output)");
}
