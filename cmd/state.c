/* vcrun state and list: the OCI state of containers, derived from the VM
 * and the agent rather than trusted from the state file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/base/util.h"
#include "lib/base/json_build.h"

int cmd_state(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *id = vc_parse_id_args("state", argc, argv, NULL, err);
  const struct vc_context *ctx = id ? vc_cli_context(cli, err) : NULL;
  struct vc_container c = VC_CONTAINER_INIT;
  if (ctx == NULL || vc_container_load(ctx, id, false, &c, err) < 0) {
    vc_container_free(&c);
    return -1;
  }
  char *json = vc_container_state_json(&c, vc_container_status(&c), true);
  printf("%s\n", json);
  free(json);
  vc_container_free(&c);
  return 0;
}

/* Characters (UTF-8 code points) in s, as Go's tabwriter counts them. */
static size_t text_width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

#define LIST_COLUMNS 6

/* The table as runc prints it (Go's tabwriter: minwidth 12, padding 3):
 * each column but the last as wide as its longest cell plus 3, at least
 * 12, so that a long id or bundle never breaks the columns. */
static void print_table(char *(*rows)[LIST_COLUMNS], size_t n) {
  size_t width[LIST_COLUMNS] = {0};
  for (size_t r = 0; r < n; r++)
    for (size_t col = 0; col + 1 < LIST_COLUMNS; col++) {
      size_t w = text_width(rows[r][col]) + 3;
      if (w > width[col])
        width[col] = w;
    }
  for (size_t r = 0; r < n; r++) {
    for (size_t col = 0; col + 1 < LIST_COLUMNS; col++) {
      size_t w = width[col] < 12 ? 12 : width[col];
      printf("%s%*s", rows[r][col], (int)(w - text_width(rows[r][col])), "");
    }
    printf("%s\n", rows[r][LIST_COLUMNS - 1]);
  }
}

int cmd_list(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *format = "table";
  bool quiet = false;
  const struct vc_opt opts[] = {
      {"format", 'f', true, &format, NULL, NULL},
      {"quiet", 'q', false, NULL, &quiet, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  if (vc_parse_opts("list", argc, argv, opts, err) < 0)
    return -1;
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return vc_error_set(err, 0, "list: invalid format option `%s`", format);
  const struct vc_context *ctx = vc_cli_context(cli, err);
  char **ids = NULL;
  size_t n = 0;
  if (ctx == NULL || vc_container_list(ctx, &ids, &n, err) < 0)
    return -1;
  bool json = strcmp(format, "json") == 0;
  struct vc_jb b = {0};
  vc_jb_open(&b, '[');
  /* The header, then one row per container that can be read. */
  char *(*rows)[LIST_COLUMNS] = xcalloc(n + 1, sizeof(*rows));
  size_t n_rows = 0;
  const char *header[LIST_COLUMNS] = {"ID", "PID", "STATUS", "BUNDLE",
                                      "CREATED", "OWNER"};
  for (size_t col = 0; col < LIST_COLUMNS; col++)
    rows[n_rows][col] = xstrdup(header[col]);
  n_rows++;
  for (size_t i = 0; i < n; i++) {
    struct vc_container c = VC_CONTAINER_INIT;
    vc_error *e = NULL;
    if (vc_container_load(ctx, ids[i], false, &c, &e) == 0) {
      const char *status = vc_container_status(&c);
      if (json) {
        cleanup_free char *one = vc_container_state_json(&c, status, false);
        vc_jb_raw(&b, one);
      } else if (quiet) {
        printf("%s\n", c.id);
      } else {
        char **row = rows[n_rows++];
        row[0] = xstrdup(c.id);
        row[1] = xasprintf("%d", (int)vc_container_pid(&c, status));
        row[2] = xstrdup(status);
        row[3] = xstrdup(c.bundle ? c.bundle : "");
        row[4] = xstrdup(c.created ? c.created : "");
        row[5] = xstrdup("root");
      }
    }
    vc_error_free(&e);
    vc_container_free(&c);
    free(ids[i]);
  }
  free(ids);
  if (!json && !quiet)
    print_table(rows, n_rows);
  for (size_t r = 0; r < n_rows; r++)
    for (size_t col = 0; col < LIST_COLUMNS; col++)
      free(rows[r][col]);
  free(rows);
  vc_jb_close(&b, ']');
  cleanup_free char *out = vc_jb_take(&b);
  if (json)
    printf("%s\n", out);
  return 0;
}
