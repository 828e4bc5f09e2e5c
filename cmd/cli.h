/* The command line: global options, the table of subcommands and the
 * small option parser they share.  All process-wide state lives here. */
#ifndef VC_CLI_H
#define VC_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

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
                   uint32_t wait_stream, int *exit_status, vc_error **err);

int cmd_run(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_spec(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_check(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_version(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_vsock_backend(struct vc_cli *cli, int argc, char **argv, vc_error **err);

#endif
