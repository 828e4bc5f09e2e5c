/* vcrun: parses the global options, dispatches to a subcommand, and prints
 * the one error that comes back, once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"

#ifndef VC_SYSCONFDIR
#define VC_SYSCONFDIR "/usr/local/etc"
#endif

static const struct {
  const char *name;
  int (*fn)(struct vc_cli *, int, char **, vc_error **);
  const char *help;
} commands[] = {
    {"create", cmd_create, "create a container (boots its VM)"},
    {"start", cmd_start, "start the process of a created container"},
    {"state", cmd_state, "print the OCI state of a container"},
    {"kill", cmd_kill, "send a signal to a container's process"},
    {"delete", cmd_delete, "delete a container and its VM"},
    {"exec", cmd_exec, "run a new process in a container"},
    {"run", cmd_run, "create and run a container in a new VM"},
    {"list", cmd_list, "list containers"},
    {"ps", cmd_ps, "list a container's processes"},
    {"pause", cmd_pause, "freeze a container's processes"},
    {"resume", cmd_resume, "thaw a paused container"},
    {"update", cmd_update, "update a container's resource limits"},
    {"events", cmd_events, "print a container's resource statistics"},
    {"shim", cmd_shim, NULL},                   /* internal */
    {"spec", cmd_spec, "create a new specification file"},
    {"factory", cmd_factory, "manage the pool of pre-booted VMs (init, status, destroy)"},
    {"check", cmd_check, "check the host's requirements"},
    {"features", cmd_features, "print the OCI features this runtime supports"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: vcrun [global options] command [command options] [arguments...]\n\n"
               "vcrun runs OCI containers, each inside a lightweight virtual machine.\n\n"
               "commands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (commands[i].help)
      fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
  fprintf(out, "\nglobal options:\n"
               "  --root DIR          state directory (default from configuration, /run/vcrun)\n"
               "  --log FILE          write errors and debug messages to FILE\n"
               "  --log-format FMT    text or json (default text)\n"
               "  --config FILE       configuration.toml to use\n"
               "  --debug             log debug messages\n"
               "  --systemd-cgroup    accepted (cgroupsPath applies inside the VM)\n"
               "  --rootless VALUE    accepted for compatibility\n"
               "  -v, --version       print the version\n"
               "  -h, --help          show this help\n");
}

static void log_to_cli(void *arg, const char *level, const char *msg) {
  vc_log(arg, level, msg);
}

const struct vc_context *vc_cli_context(struct vc_cli *cli, vc_error **err) {
  if (cli->cfg_loaded)
    return &cli->ctx;
  const char *path = cli->config_path;
  if (path == NULL)
    path = getenv("VCRUN_CONFIG");
  bool explicit_path = path != NULL;
  if (path == NULL)
    path = VC_SYSCONFDIR "/vcrun/configuration.toml";
  if (!explicit_path && access(path, F_OK) < 0) {
    vc_config_init_defaults(&cli->cfg);
  } else if (vc_config_load(path, &cli->cfg, err) < 0) {
    return NULL;
  }
  if (cli->root != NULL) {
    free(cli->cfg.runtime.state_root);
    cli->cfg.runtime.state_root = xstrdup(cli->root);
  }
  cli->cfg_loaded = true;
  cli->ctx = (struct vc_context){.cfg = &cli->cfg,
                                 .debug = cli->debug,
                                 .systemd_cgroup = cli->systemd_cgroup,
                                 .log = log_to_cli,
                                 .log_arg = cli};
  return &cli->ctx;
}

const char *vc_parse_id_args(const char *cmd, int argc, char **argv,
                             const struct vc_opt *opts, vc_error **err) {
  int first = vc_parse_opts(cmd, argc, argv, opts, err);
  if (first < 0)
    return NULL;
  if (argc - first != 1) {
    vc_error_set(err, 0, "%s: expects exactly one argument, the container id", cmd);
    return NULL;
  }
  return argv[first];
}

int vc_check_preserve_fds(const char *cmd, const char *value, vc_error **err) {
  if (value == NULL)
    return 0;
  char *end = NULL;
  errno = 0;
  unsigned long n = strtoul(value, &end, 10);
  if (value[0] == '\0' || value[0] == '-' || *end != '\0' || errno != 0)
    return vc_error_set(err, 0, "%s: invalid --preserve-fds `%s` (a number)",
                        cmd, value);
  if (n > 0)
    return vc_error_set(err, 0, "%s: --preserve-fds %lu: host file descriptors "
                        "cannot be passed into the container's VM (only 0)",
                        cmd, n);
  return 0;
}

int vc_parse_opts(const char *cmd, int argc, char **argv,
                  const struct vc_opt *opts, vc_error **err) {
  int i = 0;
  while (i < argc) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      return i + 1;
    if (a[0] != '-' || a[1] == '\0')
      return i;
    const char *name = a + (a[1] == '-' ? 2 : 1);
    bool is_long = a[1] == '-';
    /* urfave/cli, which runc uses, also accepts long names with one dash. */
    size_t name_len = strcspn(name, "=");
    const char *inline_value = name[name_len] == '=' ? name + name_len + 1 : NULL;
    const struct vc_opt *o = NULL;
    for (const struct vc_opt *p = opts; p && p->name; p++) {
      if ((strlen(p->name) == name_len && strncmp(p->name, name, name_len) == 0) ||
          (!is_long && name_len == 1 && p->short_name == name[0])) {
        o = p;
        break;
      }
    }
    if (o == NULL)
      return vc_error_set(err, 0, "%s: unknown option `%s`", cmd, a);
    if (o->takes_value) {
      const char *v = inline_value;
      if (v == NULL) {
        if (i + 1 >= argc)
          return vc_error_set(err, 0, "%s: option `%s` needs a value", cmd, a);
        v = argv[++i];
      }
      if (o->value)
        *o->value = v;
      if (o->list) {
        const char **n = realloc(o->list->items, (o->list->n + 1) * sizeof(char *));
        if (n == NULL)
          abort();
        n[o->list->n++] = v;
        o->list->items = n;
      }
    } else {
      bool v = true;
      if (inline_value != NULL)
        v = strcmp(inline_value, "false") != 0 && strcmp(inline_value, "0") != 0;
      if (o->flag)
        *o->flag = v;
    }
    i++;
  }
  return i;
}

void vc_log(const struct vc_cli *cli, const char *level, const char *msg) {
  if (strcmp(level, "error") == 0)
    fprintf(stderr, "vcrun: %s\n", msg);
  else
    fprintf(stderr, "vcrun: %s: %s\n", level, msg);
  if (cli->log_path == NULL)
    return;
  FILE *f = fopen(cli->log_path, "ae");
  if (f == NULL)
    return;
  char ts[64];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (cli->log_format != NULL && strcmp(cli->log_format, "json") == 0) {
    cleanup_free char *m = vc_json_quote(msg);
    fprintf(f, "{\"level\":\"%s\",\"msg\":%s,\"time\":\"%s\"}\n", level, m, ts);
  } else {
    fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  struct vc_cli cli = {0};
  vc_error *err = NULL;
  const char *rootless = NULL;
  bool show_version = false, show_help = false;
  /* A reader that goes away (`vcrun run ... | head`) must not kill vcrun
   * half-way: writes fail with EPIPE instead, and clean-up still runs. */
  signal(SIGPIPE, SIG_IGN);
  const struct vc_opt global_opts[] = {
      {"root", 0, true, &cli.root, NULL, NULL},
      {"log", 0, true, &cli.log_path, NULL, NULL},
      {"log-format", 0, true, &cli.log_format, NULL, NULL},
      {"config", 0, true, &cli.config_path, NULL, NULL},
      {"debug", 0, false, NULL, &cli.debug, NULL},
      {"systemd-cgroup", 0, false, NULL, &cli.systemd_cgroup, NULL},
      {"rootless", 0, true, &rootless, NULL, NULL},
      {"version", 'v', false, NULL, &show_version, NULL},
      {"help", 'h', false, NULL, &show_help, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int status = 1;
  int first = vc_parse_opts("vcrun", argc - 1, argv + 1, global_opts, &err);
  if (first < 0)
    goto out;
  first += 1;
  if (cli.log_format && strcmp(cli.log_format, "text") != 0 &&
      strcmp(cli.log_format, "json") != 0) {
    vc_error_set(&err, 0, "--log-format: unknown format `%s` (text, json)",
                 cli.log_format);
    goto out;
  }
  if (show_version) {
    status = cmd_version(&cli, 0, NULL, &err) < 0 ? 1 : 0;
    goto out;
  }
  if (show_help || first >= argc) {
    usage(show_help ? stdout : stderr);
    status = show_help ? 0 : 1;
    goto out;
  }
  const char *name = argv[first];
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(commands[i].name, name) == 0) {
      status = commands[i].fn(&cli, argc - first - 1, argv + first + 1, &err);
      if (status < 0)
        status = err && err->status ? err->status : 1;
      goto out;
    }
  }
  vc_error_set(&err, 0, "unknown command `%s` (see vcrun --help)", name);

out:
  if (err != NULL) {
    vc_log(&cli, "error", err->msg);
    status = err->status ? err->status : 1;
    vc_error_free(&err);
  }
  if (cli.cfg_loaded)
    vc_config_free(&cli.cfg);
  return status;
}
