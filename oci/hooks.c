/* Hooks, run as runc 1.1 runs them (libcontainer/configs.Command): on the
 * host by vcrun, and in the guest by the agent for createContainer and
 * startContainer. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/hooks.h"
#include "lib/base/util.h"

extern char **environ;

/* Up to max bytes of what the hook wrote to fd (a memfd), as a string. */
static char *read_output(int fd, size_t max) {
  char *buf = xcalloc(max + 1, 1);
  ssize_t n = pread(fd, buf, max, 0);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

/* Feeds the state to the hook's stdin and waits for it, at most timeout_ms
 * (< 0: forever); kills it past that.  Returns its wait status, or -1 on
 * timeout. */
static int feed_and_wait(pid_t pid, int stdin_fd, const char *state,
                         long long timeout_ms) {
  /* A hook that never reads its stdin must not block us nor kill us with
   * SIGPIPE: stdin is a socket written without blocking or signals, and
   * what does not fit is dropped when the hook exits. */
  size_t len = strlen(state), off = 0;
  long long deadline = timeout_ms < 0 ? -1 : vc_now_ms() + timeout_ms;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      break;
    if (r < 0 && errno != EINTR)
      break;
    if (stdin_fd >= 0 && off < len) {
      ssize_t w = send(stdin_fd, state + off, len - off,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0)
        off += (size_t)w;
      else if (w < 0 && errno != EAGAIN && errno != EINTR)
        off = len; /* the hook closed its stdin */
    }
    if (stdin_fd >= 0 && off >= len) {
      close(stdin_fd);
      stdin_fd = -1;
    }
    if (deadline >= 0 && vc_now_ms() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      status = -1;
      break;
    }
    poll(NULL, 0, 5);
  }
  if (stdin_fd >= 0)
    close(stdin_fd);
  return status;
}

static int run_one(const struct oci_hook *h, const char *state, vc_error **err) {
  int in[2] = {-1, -1};
  int out = memfd_create("hook-stdout", MFD_CLOEXEC);
  int errfd = memfd_create("hook-stderr", MFD_CLOEXEC);
  int ret = -1;
  cleanup_free char *stdout_text = NULL, *stderr_text = NULL;
  if (out < 0 || errfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) {
    vc_error_set(err, errno, "error running hook: socketpair");
    goto out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    vc_error_set(err, errno, "error running hook: fork");
    goto out;
  }
  if (pid == 0) {
    if (dup2(in[0], 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
      _exit(127);
    closefrom(3);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char *const default_argv[] = {h->path, NULL};
    execve(h->path, h->args != NULL ? h->args : default_argv,
           h->env != NULL ? h->env : environ);
    dprintf(2, "exec %s: %s", h->path, strerror(errno));
    _exit(127);
  }
  close(in[0]);
  in[0] = -1;
  int status = feed_and_wait(pid, in[1], state,
                             h->has_timeout ? (long long)h->timeout * 1000 : -1);
  in[1] = -1;
  if (status == -1) {
    vc_error_set(err, 0, "hook ran past specified timeout of %.1fs",
                 (double)h->timeout);
    goto out;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    ret = 0;
    goto out;
  }
  stdout_text = read_output(out, 4096);
  stderr_text = read_output(errfd, 4096);
  char how[64];
  if (WIFSIGNALED(status)) {
    /* runc (Go) names signals in lower case: "signal: bad system call". */
    snprintf(how, sizeof(how), "signal: %s", strsignal(WTERMSIG(status)));
    how[8] = (char)tolower((unsigned char)how[8]);
  } else
    snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
  vc_error_set(err, 0, "error running hook: %s, stdout: %s, stderr: %s", how,
               stdout_text, stderr_text);
out:
  for (int i = 0; i < 2; i++)
    if (in[i] >= 0)
      close(in[i]);
  if (out >= 0)
    close(out);
  if (errfd >= 0)
    close(errfd);
  return ret;
}

int vc_hook_run(const struct oci_hook *hook, size_t index,
                const char *state_json, vc_error **err) {
  if (run_one(hook, state_json, err) < 0)
    return vc_error_wrap(err, "error running hook #%zu", index);
  return 0;
}

int vc_hooks_run(const struct oci_hook *hooks, size_t n,
                 const char *state_json, vc_error **err) {
  for (size_t i = 0; i < n; i++)
    if (vc_hook_run(&hooks[i], i, state_json, err) < 0)
      return -1;
  return 0;
}
