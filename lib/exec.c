/* vcrun exec: the process to run is built as runc builds it, checked on
 * the host, and run through a shim (detached) or in this process. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/json.h"
#include "lib/base/util.h"
#include "lib/container.h"
#include "lib/host/terminal.h"
#include "lib/shim.h"
#include "oci/spec.h"
#include "oci/spec_check.h"

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

/* Writes key: the items of the array orig (if any), then extra strings. */
static void gen_array_plus(struct vc_json_gen *j, const char *key, yajl_val orig,
                           const char *const *extra, size_t n_extra) {
  vc_json_gen_key(j, key);
  vc_json_gen_array_open(j);
  for (size_t i = 0; YAJL_IS_ARRAY(orig) && i < orig->u.array.len; i++)
    vc_json_gen_value(j, orig->u.array.values[i]);
  for (size_t i = 0; i < n_extra; i++)
    vc_json_gen_str(j, extra[i]);
  vc_json_gen_array_close(j);
}

/* key: the override if set, else the original value, else 0. */
static void gen_id(struct vc_json_gen *j, const char *key, bool set,
                   unsigned long long value, yajl_val orig) {
  vc_json_gen_key(j, key);
  if (set)
    vc_json_gen_uint(j, value);
  else if (orig != NULL)
    vc_json_gen_value(j, orig);
  else
    vc_json_gen_uint(j, 0);
}

static void gen_user(struct vc_json_gen *j, yajl_val user,
                     const struct vc_exec_options *o) {
  static const char *const replaced[] = {"uid", "gid", "additionalGids", NULL};
  vc_json_gen_key(j, "user");
  vc_json_gen_map_open(j);
  vc_json_gen_members(j, user, replaced);
  gen_id(j, "uid", o->set_uid, o->uid, vc_json_get(user, "uid"));
  gen_id(j, "gid", o->set_gid, o->gid, vc_json_get(user, "gid"));
  yajl_val gids = vc_json_get(user, "additionalGids");
  if (gids != NULL || o->n_gids > 0) {
    vc_json_gen_key(j, "additionalGids");
    vc_json_gen_array_open(j);
    for (size_t i = 0; YAJL_IS_ARRAY(gids) && i < gids->u.array.len; i++)
      vc_json_gen_value(j, gids->u.array.values[i]);
    for (size_t i = 0; i < o->n_gids; i++)
      vc_json_gen_uint(j, o->gids[i]);
    vc_json_gen_array_close(j);
  }
  vc_json_gen_map_close(j);
}

/* --cap, as runc 1.1.5 (after CVE-2022-29162): each one is added to the
 * bounding, effective, permitted and ambient sets, not to inheritable. */
static void gen_capabilities(struct vc_json_gen *j, yajl_val caps,
                             const char *const *added, size_t n_added) {
  static const char *const extended[] = {"bounding", "effective", "permitted",
                                         "ambient", NULL};
  vc_json_gen_key(j, "capabilities");
  vc_json_gen_map_open(j);
  vc_json_gen_members(j, caps, extended);
  for (size_t i = 0; extended[i] != NULL; i++)
    gen_array_plus(j, extended[i], vc_json_get(caps, extended[i]), added,
                   n_added);
  vc_json_gen_map_close(j);
}

/* The process for `exec ID CMD...`, as runc's exec builds it: a copy of the
 * container's whole process object (capabilities, rlimits, user...) with
 * args, env (the container's plus --env), cwd, user and terminal replaced,
 * --additional-gids and --cap added, --no-new-privs, --apparmor and
 * --process-label set if given, and no consoleSize. */
static int process_from_args(const struct vc_container *c,
                             const struct vc_exec_options *o, char **out,
                             char **where, vc_error **err) {
  cleanup_free char *config_path = vc_container_config_path(c);
  cleanup_free char *text = NULL;
  cleanup_yajl yajl_val tree = NULL;
  if (vc_read_file(config_path, &text, NULL, err) < 0)
    return -1;
  if (vc_json_parse(text, &tree, err) < 0)
    return vc_error_wrap(err, "%s", config_path);
  yajl_val p = vc_json_get_object(tree, "process");
  if (p == NULL)
    return vc_error_set(err, 0, "%s: process: missing", config_path);
  /* Keys written below rather than copied. */
  const char *replaced[16] = {"terminal", "args", "env", "cwd", "user",
                              "consoleSize"};
  size_t n_replaced = 6;
  if (o->n_caps > 0)
    replaced[n_replaced++] = "capabilities";
  if (o->no_new_privs)
    replaced[n_replaced++] = "noNewPrivileges";
  if (o->apparmor_profile != NULL)
    replaced[n_replaced++] = "apparmorProfile";
  if (o->selinux_label != NULL)
    replaced[n_replaced++] = "selinuxLabel";
  struct vc_json_gen j;
  vc_json_gen_init(&j, NULL);
  vc_json_gen_map_open(&j);
  vc_json_gen_members(&j, p, replaced);
  vc_json_gen_key(&j, "terminal");
  vc_json_gen_bool(&j, o->tty);
  vc_json_gen_key(&j, "args");
  vc_json_gen_strv(&j, o->args, o->n_args);
  gen_array_plus(&j, "env", vc_json_get(p, "env"), o->env, o->n_env);
  vc_json_gen_key(&j, "cwd");
  if (o->cwd != NULL)
    vc_json_gen_str(&j, o->cwd);
  else if (vc_json_get(p, "cwd") != NULL)
    vc_json_gen_value(&j, vc_json_get(p, "cwd"));
  else
    vc_json_gen_str(&j, "/");
  gen_user(&j, vc_json_get(p, "user"), o);
  if (o->n_caps > 0)
    gen_capabilities(&j, vc_json_get(p, "capabilities"), o->caps, o->n_caps);
  if (o->no_new_privs) {
    vc_json_gen_key(&j, "noNewPrivileges");
    vc_json_gen_bool(&j, true);
  }
  if (o->apparmor_profile != NULL) {
    vc_json_gen_key(&j, "apparmorProfile");
    vc_json_gen_str(&j, o->apparmor_profile);
  }
  if (o->selinux_label != NULL) {
    vc_json_gen_key(&j, "selinuxLabel");
    vc_json_gen_str(&j, o->selinux_label);
  }
  vc_json_gen_map_close(&j);
  if (vc_json_gen_finish(&j, out, err) < 0)
    return vc_error_wrap(err, "%s: process", config_path);
  *where = xstrdup(config_path);
  return 0;
}

/* The process is checked on the host before it is sent, as config.json's
 * is at create (the agent checks it again): its fields, capability names,
 * and the LSM labels, which get create's warning or error.  where: the
 * file it came from; field_prefix: "process." when that is config.json. */
static int check_process(const struct vc_context *ctx, const char *process,
                         const char *where, const char *field_prefix,
                         bool *terminal, vc_error **err) {
  cleanup_spec struct oci_spec *spec = NULL;
  if (oci_process_parse(process, where, &spec, err) < 0)
    return -1;
  const struct oci_process *p = spec->process;
  *terminal = p->terminal;
  if (oci_spec_check(spec, where, err) < 0)
    return -1;
  return vc_check_lsm_labels(ctx, p->apparmor_profile, p->selinux_label, NULL,
                             where, field_prefix, err);
}

int vc_container_exec(const struct vc_context *ctx, const char *id,
                      const struct vc_exec_options *o, vc_error **err) {
  struct vc_container c = VC_CONTAINER_INIT;
  struct vc_term term = VC_TERM_INIT;
  cleanup_free char *process = NULL, *exec_id = NULL, *path = NULL;
  cleanup_free char *pid_path = NULL, *pid = NULL, *where = NULL;
  int ret = -1;
  if (vc_container_load(ctx, id, false, &c, err) < 0)
    goto out;
  /* Only the VM's liveness here, from /proc: the agent refuses a process
   * that has not started, has exited or is paused when it gets
   * ExecProcess, which saves asking it for the status on a connection of
   * its own first (a guest round trip, slow under TCG). */
  if (!vc_sandbox_alive(&c.sandbox)) {
    vc_error_set(err, 0, "cannot exec in a stopped container");
    goto out;
  }
  /* With --process, the file is used as it is, as with runc. */
  if (o->process_file != NULL) {
    if (vc_read_file(o->process_file, &process, NULL, err) < 0)
      goto out;
    where = xstrdup(o->process_file);
  } else if (process_from_args(&c, o, &process, &where, err) < 0) {
    goto out;
  }
  bool terminal = false;
  if (check_process(ctx, process, where, o->process_file ? "" : "process.",
                    &terminal, err) < 0 ||
      vc_term_open(&term, terminal, o->console_socket, o->detach, err) < 0)
    goto out;
  exec_id = random_exec_id();
  path = xasprintf("%s/%s.json", c.dir, exec_id);
  if (vc_write_file_atomic(path, process, strlen(process), 0600, err) < 0)
    goto out;
  if (!o->detach) {
    pid = xasprintf("%d", (int)getpid());
    if (o->pid_file != NULL &&
        vc_write_file_atomic(o->pid_file, pid, strlen(pid), 0644, err) < 0)
      goto out_unlink;
    if (vc_term_use_slave_as_stdio(&term, err) < 0)
      goto out_unlink;
    ret = vc_shim_main(ctx, c.id, exec_id, path, -1, terminal ? 0 : -1, err);
    goto out_unlink;
  }
  pid_t shim;
  if (vc_shim_spawn(ctx, &c, exec_id, path, term.slave, &shim, err) < 0)
    goto out_unlink;
  /* vc_container_host_pids lists the exec shims by these files. */
  pid_path = xasprintf("%s/%s.pid", c.dir, exec_id);
  pid = xasprintf("%d", (int)shim);
  if (vc_write_file_atomic(pid_path, pid, strlen(pid), 0600, err) < 0 ||
      (o->pid_file != NULL &&
       vc_write_file_atomic(o->pid_file, pid, strlen(pid), 0644, err) < 0))
    goto out_unlink;
  ret = 0;
out_unlink:
  unlink(path);
out:
  vc_term_close(&term);
  vc_container_free(&c);
  return ret;
}
