/* The command line: global options, the table of subcommands and the
 * small option parser they share.  All process-wide state lives here. */
#ifndef VC_CLI_H
#define VC_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/host/config.h"
#include <sys/types.h>
#include <termios.h>
#include <yajl/yajl_tree.h>

#include "lib/base/error.h"

struct vc_cli {
  const char *root;       /* --root, else [runtime] state_root */
  const char *log_path;   /* --log */
  const char *log_format; /* --log-format: text | json */
  const char *config_path;
  bool debug, systemd_cgroup, rootless;
  struct vc_config cfg;
  bool cfg_loaded;
};

/* Loads the configuration once: --config, $VCRUN_CONFIG, or the installed
 * file; an absent installed file means built-in defaults. */
int vc_cli_config(struct vc_cli *cli, vc_error **err);

/* Subcommand option parsing.  Accepts `--name value`, `--name=value`, `-x
 * value` and, for flags, `--name` alone; stops at the first positional
 * argument or `--`.  Returns the index of the first positional argument. */
struct vc_opt {
  const char *name;  /* long name without dashes */
  char short_name;   /* 0 if none */
  bool takes_value;
  const char **value; /* where a value goes */
  bool *flag;         /* where a flag goes */
  struct vc_strlist *list; /* repeatable: every value is appended */
};

struct vc_strlist {
  const char **items;
  size_t n;
};
int vc_parse_opts(const char *cmd, int argc, char **argv,
                  const struct vc_opt *opts, vc_error **err);

/* Checks a container id as runc does: letters, digits, `_+-.`, not `.`/`..`. */
int vc_validate_id(const char *id, vc_error **err);

/* Request ids are odd; stdio streams even. */
#define VC_STDIO_STREAM 2

struct vc_agent_client;
/* Relays stdin to, and stdout/stderr from, the process's stdio stream and
 * forwards the usual signals to it, until the agent answers the
 * WaitProcess request sent as wait_stream; *exit_status gets its status. */
int vc_relay_stdio(struct vc_agent_client *agent, const char *id,
                   const char *exec_id, uint32_t stdio_stream,
                   uint32_t wait_stream, int winsize_fd, int *exit_status,
                   vc_error **err);
/* winsize_fd: the terminal whose size (now and on SIGWINCH) the process's
 * guest terminal follows, or -1. */

/* How a process's terminal reaches the host (process.terminal true): a pty
 * of ours sent over --console-socket, whose slave the shim relays, or, in
 * the foreground, our own stdin made raw.  Checks the combinations as runc
 * does. */
struct vc_term {
  bool terminal;
  int slave; /* the console-socket pty's slave, or -1 */
  bool raw;  /* our stdin was made raw: restore it */
  struct termios saved;
};
#define VC_TERM_INIT {false, -1, false, {0}}
int vc_term_check(bool terminal, const char *console_socket, bool detach,
                  vc_error **err);
int vc_term_open(struct vc_term *t, bool terminal, const char *console_socket,
                 bool detach, vc_error **err);
/* Foreground only: makes the console-socket slave this process's stdio. */
int vc_term_use_slave_as_stdio(struct vc_term *t, vc_error **err);
void vc_term_close(struct vc_term *t);

/* The guest kernel has neither AppArmor nor SELinux: a label (NULL or ""
 * for none) is a warning or an error, as [runtime] lsm_labels says.  The
 * message names where (a file) and field_prefix + the field. */
int vc_check_lsm_labels(const struct vc_cli *cli, const char *apparmor_profile,
                        const char *selinux_label, const char *where,
                        const char *field_prefix, vc_error **err);

struct vc_sandbox;
/* Fills sb from the bundle (config.json parsed and checked, rootfs
 * resolved) for vc_sandbox_start; *config_text gets config.json's text. */
struct oci_spec;
/* spec_out (may be NULL) gets the parsed spec, for the caller to free. */
int vc_prepare_sandbox(struct vc_cli *cli, const char *id,
                       const char *bundle_opt, struct vc_sandbox *sb,
                       char **config_text, struct oci_spec **spec_out,
                       vc_error **err);
char *vc_create_params(const struct vc_sandbox *sb, const char *config_text,
                       uint32_t stdio_stream);
char *vc_self_exe(void);
/* Loads an existing container's state (and locks it if asked). */
int vc_open_container(struct vc_cli *cli, const char *id, bool lock,
                      struct vc_sandbox *sb, vc_error **err);
int vc_agent_open(const struct vc_sandbox *sb, struct vc_agent_client *c,
                  vc_error **err);
/* One request {"id": <container>, extra...} on a fresh connection. */
int vc_agent_simple(const struct vc_sandbox *sb, const char *method,
                    const char *extra_json, yajl_val *tree, yajl_val *result,
                    vc_error **err);
/* created | running | paused | stopped, from the VM and the agent. */
const char *vc_container_status(const struct vc_sandbox *sb);
/* The host pid standing for the container (its shim), 0 when stopped. */
pid_t vc_container_pid(const struct vc_sandbox *sb, const char *status);
/* Creates the container (VM booted, process waiting for start) with a shim
 * holding this process's stdio; writes pid_file.  Used by create and run -d. */
int vc_create_container(struct vc_cli *cli, const char *id, const char *bundle,
                        const char *pid_file, const char *console_socket,
                        vc_error **err);

/* Forks and execs `vcrun shim` for the container's init (exec_id NULL) or
 * for an exec whose process JSON is in process_file; returns once the shim
 * is attached.  The shim inherits this process's stdio. */
int vc_spawn_shim(const struct vc_sandbox *sb, const char *exec_id,
                  const char *process_file, int tty_slave, pid_t *pid,
                  vc_error **err);
/* tty_slave: a console-socket pty slave that becomes the shim's stdio and
 * controlling terminal, or -1. */

/* The shim's work, also done in-process by a foreground exec: attach to or
 * start the process, report readiness on ready_fd (if >= 0), relay, and
 * return the process's exit status. */
int vc_shim_main(struct vc_cli *cli, const char *id, const char *exec_id,
                 const char *process_file, int ready_fd, int winsize_fd,
                 vc_error **err);
/* runc's --preserve-fds N: only 0 can be honoured across a VM boundary. */
int vc_check_preserve_fds(const char *cmd, const char *value, vc_error **err);
int vc_parse_signal(const char *s, int *sig, vc_error **err);

/* Prints msg on stderr and appends it to --log at level (error, warning). */
void vc_log(const struct vc_cli *cli, const char *level, const char *msg);
/* The container's OCI state (runtime.md) as `vcrun state` prints it, with
 * status given (hooks see creating/running/stopped). */
char *vc_state_json(const struct vc_sandbox *sb, const char *status);
struct oci_hook;
/* Runs host hooks with the container's state on stdin; none: nothing. */
int vc_run_host_hooks(const struct vc_sandbox *sb, const struct oci_hook *hooks,
                      size_t n, const char *status, vc_error **err);
/* The bundle's config.json as it is now (hooks for start and delete), or
 * NULL when it cannot be read any more. */
struct oci_spec *vc_bundle_spec(const struct vc_sandbox *sb);
/* prestart (deprecated) then createRuntime, where runc runs both: the
 * container exists, create has not returned; state says "creating". */
int vc_create_hooks(const struct vc_sandbox *sb, const struct oci_spec *spec,
                    vc_error **err);
/* poststop, once the container is gone: each failure is a warning and the
 * remaining hooks still run (runtime.md). */
void vc_poststop_hooks(const struct vc_cli *cli, const struct vc_sandbox *sb,
                       const struct oci_spec *spec);

int cmd_create(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_start(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_state(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_list(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_kill(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_delete(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_exec(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_ps(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_pause(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_resume(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_shim(struct vc_cli *cli, int argc, char **argv, vc_error **err);

int cmd_run(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_spec(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_check(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_features(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_update(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_events(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_version(struct vc_cli *cli, int argc, char **argv, vc_error **err);

#endif
