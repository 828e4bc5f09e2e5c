/* The command line: global options, the table of subcommands and the
 * small option parser they share.  All process-wide state lives here; each
 * cmd/<verb>.c parses its options, makes one call to the container API
 * (lib/container.h) and prints what comes back. */
#ifndef VC_CLI_H
#define VC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/base/error.h"
#include "lib/container.h"
#include "lib/host/config.h"

struct vc_cli {
  const char *root;       /* --root, else [runtime] state_root */
  const char *log_path;   /* --log */
  const char *log_format; /* --log-format: text | json */
  const char *config_path;
  bool debug, systemd_cgroup, rootless;
  struct vc_config cfg;
  bool cfg_loaded;
  struct vc_context ctx; /* for the container API, once configured */
};

/* Loads the configuration once (--config, $VCRUN_CONFIG, or the installed
 * file; an absent installed file means built-in defaults) and returns the
 * container API's context, whose warnings go to vc_log. */
const struct vc_context *vc_cli_context(struct vc_cli *cli, vc_error **err);

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

/* The common prologue: parses opts and returns the one positional argument,
 * the container id, or NULL with runc's wording in *err. */
const char *vc_parse_id_args(const char *cmd, int argc, char **argv,
                             const struct vc_opt *opts, vc_error **err);

/* runc's --preserve-fds N: only 0 can be honoured across a VM boundary. */
int vc_check_preserve_fds(const char *cmd, const char *value, vc_error **err);

/* Prints msg on stderr and appends it to --log at level (error, warning). */
void vc_log(const struct vc_cli *cli, const char *level, const char *msg);

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
int cmd_factory(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_check(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_features(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_update(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_events(struct vc_cli *cli, int argc, char **argv, vc_error **err);
int cmd_version(struct vc_cli *cli, int argc, char **argv, vc_error **err);

#endif
