/* vcrun exec: runs another process in a running container, through a shim
 * (--detach) or in this process (foreground, exiting with its status). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json_build.h"
#include "oci/spec.h"
#include "oci/spec_check.h"
#include "sandbox.h"
#include "util.h"

static char *random_exec_id(void) {
  unsigned char b[8] = {0};
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, b, sizeof(b)) < 0) {
      /* fall back to the pid and time below */
    }
    close(fd);
  }
  return xasprintf("exec-%02x%02x%02x%02x%02x%02x%02x%02x-%d", b[0], b[1], b[2],
                   b[3], b[4], b[5], b[6], b[7], (int)getpid());
}

/* A --process file, checked as config.json's process is before it goes to
 * the guest (whose agent checks it again); its process.terminal is set. */
static int check_process_file(const char *process, const char *file,
                              bool *terminal, vc_error **err) {
  struct oci_spec *spec = NULL;
  if (oci_process_parse(process, file, &spec, err) < 0)
    return -1;
  int ret = oci_spec_check(spec, file, err);
  *terminal = spec->process->terminal;
  oci_spec_free(spec);
  return ret;
}

/* The process for `exec ID ARGS...`: the container's own process settings
 * with these args, plus --env, --cwd and --user. */
static int process_from_args(const struct vc_sandbox *sb, char **args,
                             size_t n_args, const struct vc_strlist *env,
                             const char *cwd, const char *user, bool tty,
                             char **out, vc_error **err) {
  struct oci_spec *spec = NULL;
  if (oci_spec_load(sb->bundle, &spec, err) < 0)
    return -1;
  const struct oci_process *p = spec->process;
  unsigned long uid = p ? p->user.uid : 0, gid = p ? p->user.gid : 0;
  if (user != NULL) {
    char *end;
    uid = strtoul(user, &end, 10);
    if (end == user || (*end != '\0' && *end != ':') ||
        (*end == ':' && (gid = strtoul(end + 1, &end, 10), *end != '\0'))) {
      oci_spec_free(spec);
      return vc_error_set(err, 0, "exec: --user `%s` must be UID[:GID]", user);
    }
  }
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "terminal");
  vc_jb_bool(&b, tty);
  vc_jb_key(&b, "args");
  vc_jb_strv(&b, args, n_args);
  vc_jb_key(&b, "env");
  vc_jb_open(&b, '[');
  for (size_t i = 0; p && i < p->n_env; i++)
    vc_jb_str(&b, p->env[i]);
  for (size_t i = 0; i < env->n; i++)
    vc_jb_str(&b, env->items[i]);
  vc_jb_close(&b, ']');
  vc_jb_key(&b, "cwd");
  vc_jb_str(&b, cwd ? cwd : (p && p->cwd ? p->cwd : "/"));
  vc_jb_key(&b, "user");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "uid");
  vc_jb_uint(&b, uid);
  vc_jb_key(&b, "gid");
  vc_jb_uint(&b, gid);
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  oci_spec_free(spec);
  *out = vc_jb_take(&b);
  return 0;
}

int cmd_exec(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *process_file = NULL, *pid_file = NULL, *console_socket = NULL;
  const char *cwd = NULL, *user = NULL, *preserve_fds = NULL;
  bool detach = false, tty = false;
  struct vc_strlist env = {0}, gids = {0}, caps = {0};
  const struct vc_opt opts[] = {
      {"process", 'p', true, &process_file, NULL, NULL},
      {"detach", 'd', false, NULL, &detach, NULL},
      {"pid-file", 0, true, &pid_file, NULL, NULL},
      {"tty", 't', false, NULL, &tty, NULL},
      {"console-socket", 0, true, &console_socket, NULL, NULL},
      {"env", 'e', true, NULL, NULL, &env},
      {"cwd", 0, true, &cwd, NULL, NULL},
      {"user", 'u', true, &user, NULL, NULL},
      {"additional-gids", 'g', true, NULL, NULL, &gids},
      {"cap", 'c', true, NULL, NULL, &caps},
      {"preserve-fds", 0, true, &preserve_fds, NULL, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  struct vc_term term = VC_TERM_INIT;
  cleanup_free char *process = NULL, *exec_id = NULL, *path = NULL;
  cleanup_free char *pid_path = NULL, *pid = NULL;
  int ret = -1;
  int first = vc_parse_opts("exec", argc, argv, opts, err);
  if (first < 0 || vc_check_preserve_fds("exec", preserve_fds, err) < 0)
    goto out;
  if (argc - first < 1) {
    vc_error_set(err, 0, "exec: expects the container id");
    goto out;
  }
  if (process_file == NULL && argc - first < 2) {
    vc_error_set(err, 0, "exec: expects a command (or --process FILE)");
    goto out;
  }
  if (gids.n > 0 || caps.n > 0) {
    vc_error_set(err, 0, "exec: --additional-gids and --cap are not supported yet; use --process");
    goto out;
  }
  if (vc_open_container(cli, argv[first], false, &sb, err) < 0)
    goto out;
  if (strcmp(vc_container_status(&sb), "running") != 0) {
    vc_error_set(err, 0, "cannot exec in a stopped container");
    goto out;
  }
  if (process_file != NULL) {
    if (vc_read_file(process_file, &process, NULL, err) < 0)
      goto out;
  } else if (process_from_args(&sb, argv + first + 1, (size_t)(argc - first - 1),
                               &env, cwd, user, tty, &process, err) < 0) {
    goto out;
  }
  /* With --process, the file's process.terminal decides, as with runc. */
  bool terminal = tty;
  if (process_file != NULL &&
      check_process_file(process, process_file, &terminal, err) < 0)
    goto out;
  if (vc_term_open(&term, terminal, console_socket, detach, err) < 0)
    goto out;
  exec_id = random_exec_id();
  path = xasprintf("%s/%s.json", sb.dir, exec_id);
  if (vc_write_file_atomic(path, process, strlen(process), 0600, err) < 0)
    goto out;
  if (!detach) {
    pid = xasprintf("%d", (int)getpid());
    if (pid_file != NULL &&
        vc_write_file_atomic(pid_file, pid, strlen(pid), 0644, err) < 0)
      goto out_unlink;
    if (vc_term_use_slave_as_stdio(&term, err) < 0)
      goto out_unlink;
    ret = vc_shim_main(cli, sb.id, exec_id, path, -1, terminal ? 0 : -1, err);
    goto out_unlink;
  }
  pid_t shim;
  if (vc_spawn_shim(&sb, exec_id, path, term.slave, &shim, err) < 0)
    goto out_unlink;
  /* ps --format json lists the exec shims by these files. */
  pid_path = xasprintf("%s/%s.pid", sb.dir, exec_id);
  pid = xasprintf("%d", (int)shim);
  if (vc_write_file_atomic(pid_path, pid, strlen(pid), 0600, err) < 0 ||
      (pid_file != NULL &&
       vc_write_file_atomic(pid_file, pid, strlen(pid), 0644, err) < 0))
    goto out_unlink;
  ret = 0;
out_unlink:
  unlink(path);
out:
  vc_term_close(&term);
  free(env.items);
  free(gids.items);
  free(caps.items);
  vc_sandbox_free(&sb);
  return ret;
}
