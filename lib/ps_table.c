#include "lib/ps_table.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base/util.h"

typedef void (*ps_format_fn)(const struct vc_msg_process_info *p, char *out,
                             size_t size);

static void fmt_pid(const struct vc_msg_process_info *p, char *out, size_t n) {
  snprintf(out, n, "%lld", (long long)p->pid);
}

static void fmt_ppid(const struct vc_msg_process_info *p, char *out, size_t n) {
  snprintf(out, n, "%lld", (long long)p->ppid);
}

static void fmt_uid(const struct vc_msg_process_info *p, char *out, size_t n) {
  snprintf(out, n, "%lld", (long long)p->uid);
}

/* The user's name on the host, as the host's ps would print it. */
static void fmt_user(const struct vc_msg_process_info *p, char *out, size_t n) {
  struct passwd *pw = p->uid >= 0 ? getpwuid((uid_t)p->uid) : NULL;
  if (pw != NULL)
    snprintf(out, n, "%s", pw->pw_name);
  else
    fmt_uid(p, out, n);
}

static void fmt_comm(const struct vc_msg_process_info *p, char *out, size_t n) {
  snprintf(out, n, "%s", p->comm ? p->comm : "");
}

/* The command line, or the name in brackets without one (as ps). */
static void fmt_args(const struct vc_msg_process_info *p, char *out, size_t n) {
  if (p->cmd != NULL && p->cmd[0] != '\0')
    snprintf(out, n, "%s", p->cmd);
  else
    snprintf(out, n, "[%s]", p->comm ? p->comm : "");
}

static void fmt_tty(const struct vc_msg_process_info *p, char *out, size_t n) {
  snprintf(out, n, "%s", p->tty ? p->tty : "?");
}

/* Cumulative cpu time, [DD-]HH:MM:SS. */
static void fmt_time(const struct vc_msg_process_info *p, char *out, size_t n) {
  long long s = p->cpu_ms > 0 ? p->cpu_ms / 1000 : 0;
  if (s >= 86400)
    snprintf(out, n, "%lld-%02lld:%02lld:%02lld", s / 86400, s / 3600 % 24,
             s / 60 % 60, s % 60);
  else
    snprintf(out, n, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

/* Start: HH:MM today, MonDD this year, else the year. */
static void fmt_stime(const struct vc_msg_process_info *p, char *out, size_t n) {
  time_t start = (time_t)p->start_time, now = time(NULL);
  struct tm s, t;
  localtime_r(&start, &s);
  localtime_r(&now, &t);
  const char *format = s.tm_year != t.tm_year ? "%Y"
                       : s.tm_yday != t.tm_yday ? "%b%d"
                                                : "%H:%M";
  if (strftime(out, n, format, &s) == 0)
    snprintf(out, n, "?");
}

/* Cpu use over the process's life, in percent. */
static void fmt_c(const struct vc_msg_process_info *p, char *out, size_t n) {
  long long elapsed = (long long)time(NULL) - p->start_time;
  long long c = elapsed > 0 && p->cpu_ms > 0 ? p->cpu_ms / 10 / elapsed : 0;
  snprintf(out, n, "%lld", c > 99 ? 99 : c);
}

/* The columns procps names, with its headers and widths. */
static const struct vc_ps_column {
  const char *key, *header;
  int width;
  bool left;
  ps_format_fn format;
} known_columns[] = {
    {"pid", "PID", 5, false, fmt_pid},
    {"ppid", "PPID", 5, false, fmt_ppid},
    {"uid", "UID", 5, false, fmt_uid},
    {"euid", "EUID", 5, false, fmt_uid},
    {"user", "USER", 8, true, fmt_user},
    {"euser", "EUSER", 8, true, fmt_user},
    {"comm", "COMMAND", 0, true, fmt_comm},
    {"ucmd", "CMD", 0, true, fmt_comm},
    {"args", "COMMAND", 0, true, fmt_args},
    {"cmd", "CMD", 0, true, fmt_args},
    {"command", "COMMAND", 0, true, fmt_args},
    {"time", "TIME", 8, false, fmt_time},
    {"cputime", "TIME", 8, false, fmt_time},
    {"tty", "TT", 8, true, fmt_tty},
    {"tname", "TTY", 8, true, fmt_tty},
    {"stime", "STIME", 5, true, fmt_stime},
    {"start_time", "START", 5, true, fmt_stime},
    {"c", "C", 2, false, fmt_c},
};

struct vc_ps_layout {
  struct vc_ps_column cols[32];
  size_t n;
  char *headers[32]; /* key=HEADER overrides (owned) */
};

static const struct vc_ps_column *find_column(const char *key, size_t len) {
  for (size_t i = 0; i < N_ELEMS(known_columns); i++)
    if (strlen(known_columns[i].key) == len &&
        strncmp(known_columns[i].key, key, len) == 0)
      return &known_columns[i];
  return NULL;
}

/* Adds the column key, header replacing its own when not NULL. */
static int add_column(struct vc_ps_layout *l, const char *key, size_t len,
                      const char *header, vc_error **err) {
  const struct vc_ps_column *c = find_column(key, len);
  if (c == NULL)
    return vc_error_set(err, 0, "ps: unknown or unsupported column `%.*s` "
                        "(vcrun formats the guest's processes itself; see "
                        "docs/deviations.md)", (int)len, key);
  if (l->n == N_ELEMS(l->cols))
    return vc_error_set(err, 0, "ps: too many columns");
  l->cols[l->n] = *c;
  if (header != NULL) {
    l->headers[l->n] = xstrdup(header);
    l->cols[l->n].header = l->headers[l->n];
  }
  l->n++;
  return 0;
}

/* -o's list: keys separated by commas or blanks; key=HEADER takes the
 * rest of the list as the header, as procps does. */
static int parse_format_list(struct vc_ps_layout *l, const char *list,
                             vc_error **err) {
  const char *p = list;
  while (*p != '\0') {
    size_t len = strcspn(p, ", =");
    if (p[len] == '=')
      return add_column(l, p, len, p + len + 1, err);
    if (len > 0 && add_column(l, p, len, NULL, err) < 0)
      return -1;
    p += len;
    if (*p != '\0')
      p++;
  }
  return 0;
}

static void set_columns(struct vc_ps_layout *l, const char *const keys[],
                        const char *const headers[]) {
  for (size_t i = 0; keys[i] != NULL; i++)
    add_column(l, keys[i], strlen(keys[i]), headers[i], NULL);
}

/* The ps options runc passes on (default -ef) into a layout. */
static int parse_ps_options(int argc, char **argv, struct vc_ps_layout *l,
                            vc_error **err) {
  static char *const default_options[] = {"-ef"};
  if (argc == 0) {
    argc = 1;
    argv = (char **)default_options;
  }
  bool full = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *list = NULL;
    if (strcmp(a, "--format") == 0 || strcmp(a, "-o") == 0) {
      if (i + 1 >= argc)
        return vc_error_set(err, 0, "ps: option `%s` needs a list of columns", a);
      list = argv[++i];
    } else if (strncmp(a, "--format=", 9) == 0) {
      list = a + 9;
    } else if (a[0] == '-' && a[1] != '-' && a[1] != '\0') {
      /* Unix options, grouped: -e, -A, -f, then -o LIST (-eo pid,comm). */
      for (const char *f = a + 1; *f != '\0' && list == NULL; f++) {
        if (*f == 'e' || *f == 'A')
          continue;
        if (*f == 'f') {
          full = true;
        } else if (*f == 'o') {
          if (f[1] != '\0')
            list = f + 1;
          else if (i + 1 < argc)
            list = argv[++i];
          else
            return vc_error_set(err, 0, "ps: option `-o` needs a list of columns");
        } else {
          return vc_error_set(err, 0, "ps: unsupported ps option `-%c` (vcrun "
                              "formats the guest's processes itself: -e, -A, "
                              "-f and -o; see docs/deviations.md)", *f);
        }
      }
    } else {
      return vc_error_set(err, 0, "ps: unsupported ps option `%s` (vcrun "
                          "formats the guest's processes itself: -e, -A, -f "
                          "and -o; see docs/deviations.md)", a);
    }
    if (list != NULL && parse_format_list(l, list, err) < 0)
      return -1;
  }
  if (l->n > 0)
    return 0;
  if (full) {
    static const char *const keys[] = {"user", "pid", "ppid", "c", "stime",
                                       "tname", "time", "cmd", NULL};
    static const char *const headers[] = {"UID", NULL, NULL, NULL, NULL,
                                          NULL, NULL, NULL};
    set_columns(l, keys, headers);
  } else {
    static const char *const keys[] = {"pid", "tname", "time", "ucmd", NULL};
    static const char *const headers[] = {NULL, NULL, NULL, NULL};
    set_columns(l, keys, headers);
  }
  return 0;
}

static void print_cell(const struct vc_ps_column *c, const char *text, bool last) {
  if (last)
    printf("%s\n", text);
  else if (c->left)
    printf("%-*s ", c->width, text);
  else
    printf("%*s ", c->width, text);
}

static void print_table(const struct vc_ps_layout *l,
                        const struct vc_msg_process_list *list) {
  for (size_t i = 0; i < l->n; i++)
    print_cell(&l->cols[i], l->cols[i].header, i + 1 == l->n);
  for (size_t r = 0; r < list->n_processes; r++)
    for (size_t i = 0; i < l->n; i++) {
      char cell[4096];
      l->cols[i].format(&list->processes[r], cell, sizeof(cell));
      print_cell(&l->cols[i], cell, i + 1 == l->n);
    }
}

int vc_ps_layout_parse(int argc, char **argv, struct vc_ps_layout **out,
                       vc_error **err) {
  struct vc_ps_layout *layout = xcalloc(1, sizeof(*layout));
  int ret = parse_ps_options(argc, argv, layout, err);
  /* runc needs the PID column to pick the container's processes. */
  bool has_pid = false;
  for (size_t i = 0; i < layout->n; i++)
    has_pid = has_pid || layout->cols[i].format == fmt_pid;
  if (ret == 0 && !has_pid)
    ret = vc_error_set(err, 0, "ps: couldn't find PID field in ps output");
  if (ret < 0) {
    vc_ps_layout_free(layout);
    return -1;
  }
  *out = layout;
  return 0;
}

void vc_ps_print(const struct vc_ps_layout *layout,
                 const struct vc_msg_process_list *list) {
  print_table(layout, list);
}

void vc_ps_layout_free(struct vc_ps_layout *layout) {
  if (layout == NULL)
    return;
  for (size_t i = 0; i < layout->n; i++)
    free(layout->headers[i]);
  free(layout);
}
