/* Host hooks: state on stdin, args and env, exit status, timeout. */
#include <stdlib.h>
#include <unistd.h>

#include "oci/hooks.h"
#include "test.h"
#include "lib/base/util.h"

static char *sh_argv[4];

/* The text of dir/name, after which both are removed. */
static char *take_file(const char *dir, const char *name) {
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  char *text = NULL;
  vc_error *err = NULL;
  if (vc_read_file(path, &text, NULL, &err) < 0)
    text = NULL;
  vc_error_free(&err);
  unlink(path);
  rmdir(dir);
  return text;
}

/* One hook running `sh -c script`, with an optional timeout. */
static struct oci_hook sh_hook(const char *script, int timeout) {
  sh_argv[0] = "sh";
  sh_argv[1] = "-c";
  sh_argv[2] = (char *)script;
  sh_argv[3] = NULL;
  struct oci_hook h = {.path = "/bin/sh", .args = sh_argv, .n_args = 3};
  h.has_timeout = timeout > 0;
  h.timeout = timeout;
  return h;
}

TEST(test_state_on_stdin) {
  char dir[] = "/tmp/vc-hooks-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  cleanup_free char *script = xasprintf("cat > %s/state", dir);
  struct oci_hook h = sh_hook(script, 0);
  vc_error *err = NULL;
  CHECK(vc_hooks_run(&h, 1, "{\"status\":\"creating\"}", &err) == 0);
  cleanup_free char *text = take_file(dir, "state");
  CHECK_STR(text, "{\"status\":\"creating\"}");
  vc_error_free(&err);
}

TEST(test_env_and_order) {
  char dir[] = "/tmp/vc-hooks-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  cleanup_free char *a = xasprintf("echo \"one $X\" >> %s/log", dir);
  cleanup_free char *b = xasprintf("echo two >> %s/log", dir);
  struct oci_hook hooks[2] = {sh_hook(a, 0), {0}};
  char *argv2[] = {"sh", "-c", b, NULL};
  char *env[] = {"X=x", NULL};
  hooks[0].env = env;
  hooks[0].n_env = 1;
  hooks[1] = (struct oci_hook){.path = "/bin/sh", .args = argv2, .n_args = 3};
  vc_error *err = NULL;
  CHECK(vc_hooks_run(hooks, 2, "{}", &err) == 0);
  cleanup_free char *text = take_file(dir, "log");
  CHECK_STR(text, "one x\ntwo\n");
  vc_error_free(&err);
}

TEST(test_exit_status_names_hook) {
  struct oci_hook hooks[2] = {sh_hook("exit 0", 0), {0}};
  char *argv2[] = {"sh", "-c", "echo out; echo bad >&2; exit 3", NULL};
  hooks[1] = (struct oci_hook){.path = "/bin/sh", .args = argv2, .n_args = 3};
  vc_error *err = NULL;
  CHECK(vc_hooks_run(hooks, 2, "{}", &err) < 0);
  CHECK(err != NULL);
  CHECK_STR(err ? err->msg : NULL,
            "error running hook #1: error running hook: exit status 3, "
            "stdout: out\n, stderr: bad\n");
  vc_error_free(&err);
}

TEST(test_signal_named_as_runc_does) {
  /* Go's lower-case signal names ("signal: bad system call"). */
  struct oci_hook h = sh_hook("kill -SYS $$", 0);
  vc_error *err = NULL;
  CHECK(vc_hooks_run(&h, 1, "{}", &err) < 0);
  CHECK_STR(err ? err->msg : NULL,
            "error running hook #0: error running hook: signal: bad system "
            "call, stdout: , stderr: ");
  vc_error_free(&err);
}

TEST(test_missing_binary) {
  struct oci_hook h = {.path = "/nonexistent/hook"};
  vc_error *err = NULL;
  CHECK(vc_hooks_run(&h, 1, "{}", &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "error running hook #0") == err->msg);
  vc_error_free(&err);
}

TEST(test_timeout_kills) {
  struct oci_hook h = sh_hook("sleep 30", 1);
  vc_error *err = NULL;
  long long t0 = vc_now_ms();
  CHECK(vc_hooks_run(&h, 1, "{}", &err) < 0);
  long long took = vc_now_ms() - t0;
  CHECK(took >= 1000 && took < 5000);
  CHECK_STR(err ? err->msg : NULL,
            "error running hook #0: hook ran past specified timeout of 1.0s");
  vc_error_free(&err);
}

TEST(test_hook_ignoring_large_stdin) {
  /* A state bigger than a pipe buffer, to a hook that never reads it. */
  size_t n = 200000;
  char *big = xcalloc(n + 1, 1);
  memset(big, 'x', n);
  struct oci_hook h = sh_hook("exit 0", 5);
  vc_error *err = NULL;
  CHECK(vc_hooks_run(&h, 1, big, &err) == 0);
  vc_error_free(&err);
  free(big);
}

int main(void) {
  RUN(test_state_on_stdin);
  RUN(test_env_and_order);
  RUN(test_exit_status_names_hook);
  RUN(test_signal_named_as_runc_does);
  RUN(test_missing_binary);
  RUN(test_timeout_kills);
  RUN(test_hook_ignoring_large_stdin);
  return TEST_SUMMARY();
}
