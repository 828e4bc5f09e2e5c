/* vcrun state and list: the OCI state of containers, derived from the VM
 * and the agent rather than trusted from the state file. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cli.h"
#include "lib/base/json_build.h"
#include "oci/spec.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"

#define VC_OCI_VERSION "1.0.2"

static void state_object(struct vc_jb *b, const struct vc_sandbox *sb,
                         const char *status, bool annotations) {
  vc_jb_open(b, '{');
  vc_jb_key(b, "ociVersion");
  vc_jb_str(b, VC_OCI_VERSION);
  vc_jb_key(b, "id");
  vc_jb_str(b, sb->id);
  vc_jb_key(b, "pid");
  vc_jb_int(b, vc_container_pid(sb, status));
  vc_jb_key(b, "status");
  vc_jb_str(b, status);
  vc_jb_key(b, "bundle");
  vc_jb_str(b, sb->bundle);
  vc_jb_key(b, "rootfs");
  vc_jb_str(b, sb->rootfs);
  vc_jb_key(b, "created");
  vc_jb_str(b, sb->created);
  vc_jb_key(b, "owner");
  vc_jb_str(b, "");
  if (annotations) {
    /* From config.json (create's copy), as the spec asks state to report. */
    struct oci_spec *spec = NULL;
    vc_error *e = NULL;
    vc_jb_key(b, "annotations");
    vc_jb_open(b, '{');
    if (vc_sandbox_load_spec(sb, &spec, &e) == 0) {
      for (size_t i = 0; i < spec->n_annotations; i++) {
        vc_jb_key(b, spec->annotations[i].key);
        vc_jb_str(b, spec->annotations[i].value);
      }
    }
    vc_error_free(&e);
    oci_spec_free(spec);
    vc_jb_close(b, '}');
  }
  vc_jb_close(b, '}');
}

char *vc_state_json(const struct vc_sandbox *sb, const char *status) {
  struct vc_jb b = {0};
  state_object(&b, sb, status, true);
  return vc_jb_take(&b);
}

int cmd_state(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  int first = vc_parse_opts("state", argc, argv, NULL, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "state: expects exactly one argument, the container id");
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  if (vc_open_container(cli, argv[first], false, &sb, err) < 0) {
    vc_sandbox_free(&sb);
    return -1;
  }
  char *json = vc_state_json(&sb, vc_container_status(&sb));
  printf("%s\n", json);
  free(json);
  vc_sandbox_free(&sb);
  return 0;
}

int cmd_list(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *format = "table";
  bool quiet = false;
  const struct vc_opt opts[] = {
      {"format", 'f', true, &format, NULL, NULL},
      {"quiet", 'q', false, NULL, &quiet, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("list", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return vc_error_set(err, 0, "list: invalid format option `%s`", format);
  if (vc_cli_config(cli, err) < 0)
    return -1;
  bool json = strcmp(format, "json") == 0;
  struct vc_jb b = {0};
  vc_jb_open(&b, '[');
  if (!json && !quiet)
    printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE",
           "CREATED", "OWNER");
  DIR *d = opendir(cli->cfg.runtime.state_root);
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    struct vc_sandbox sb = VC_SANDBOX_INIT;
    vc_error *e = NULL;
    if (vc_open_container(cli, de->d_name, false, &sb, &e) == 0) {
      const char *status = vc_container_status(&sb);
      if (json)
        state_object(&b, &sb, status, false);
      else if (quiet)
        printf("%s\n", sb.id);
      else
        printf("%-12s %-8d %-10s %-40s %-32s %s\n", sb.id,
               (int)vc_container_pid(&sb, status), status,
               sb.bundle ? sb.bundle : "", sb.created ? sb.created : "", "root");
    }
    vc_error_free(&e);
    vc_sandbox_free(&sb);
  }
  if (d != NULL)
    closedir(d);
  vc_jb_close(&b, ']');
  char *out = vc_jb_take(&b);
  if (json)
    printf("%s\n", out);
  free(out);
  return 0;
}
