/* The strict TOML-subset parser described in toml.h.  One pass over the
 * text with a cursor; the current line is tracked for every message. */
#include "lib/host/toml.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/util.h"

/* [a.b.c] headers deeper than this are refused (keeps freeing shallow). */
#define MAX_HEADER_KEYS 32

struct parser {
  const char *name;
  const char *p, *end;
  int line;
  struct vc_toml_table *root, *cur;
  vc_error **err;
};

static int fail(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  vc_error_set(ps->err, 0, "%s:%d: %s", ps->name, ps->line,
               msg != NULL ? msg : "out of memory");
  free(msg);
  return -1;
}

/* Makes room for `need` elements of `size` bytes; aborts when out of memory
 * like the x* helpers of util.h. */
static void *grow(void *ptr, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return ptr;
  size_t n = *cap != 0 ? *cap * 2 : 8;
  while (n < need)
    n *= 2;
  void *q = realloc(ptr, n * size);
  if (q == NULL) {
    fputs("vcrun: out of memory\n", stderr);
    abort();
  }
  *cap = n;
  return q;
}

struct sbuf {
  char *s;
  size_t len, cap;
};

static void sbuf_add(struct sbuf *b, char c) {
  b->s = grow(b->s, &b->cap, b->len + 2, 1);
  b->s[b->len++] = c;
  b->s[b->len] = '\0';
}

static bool is_bare(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* TOML forbids U+0000..U+001F (except tab) and U+007F in strings and
 * comments. */
static bool is_control(char c) {
  unsigned char u = (unsigned char)c;
  return (u < 0x20 && u != '\t') || u == 0x7f;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* ---- the tree ---------------------------------------------------------- */

static struct vc_toml_table *table_new(const char *path, int line) {
  struct vc_toml_table *t = xcalloc(1, sizeof(*t));
  t->path = xstrdup(path);
  t->line = line;
  return t;
}

static void value_free(struct vc_toml_value *v) {
  switch (v->type) {
  case VC_TOML_STRING:
    free(v->u.str);
    break;
  case VC_TOML_ARRAY:
    for (size_t i = 0; i < v->u.array.len; i++)
      value_free(&v->u.array.items[i]);
    free(v->u.array.items);
    break;
  case VC_TOML_TABLE:
    vc_toml_free(v->u.table);
    break;
  case VC_TOML_INTEGER:
  case VC_TOML_BOOL:
    break;
  }
}

void vc_toml_free(struct vc_toml_table *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->len; i++) {
    free(t->entries[i].key);
    value_free(&t->entries[i].value);
  }
  free(t->entries);
  free(t->path);
  free(t);
}

static struct vc_toml_value *table_find(const struct vc_toml_table *t,
                                        const char *key, size_t key_len) {
  for (size_t i = 0; i < t->len; i++) {
    const char *k = t->entries[i].key;
    if (strncmp(k, key, key_len) == 0 && k[key_len] == '\0')
      return &t->entries[i].value;
  }
  return NULL;
}

/* Takes ownership of key and of what v holds. */
static struct vc_toml_value *table_add(struct vc_toml_table *t, char *key,
                                       const struct vc_toml_value *v) {
  t->entries = grow(t->entries, &t->cap, t->len + 1, sizeof(*t->entries));
  struct vc_toml_entry *e = &t->entries[t->len++];
  e->key = key;
  e->value = *v;
  return &e->value;
}

/* "a.b" + "c" -> "a.b.c"; keys that are not bare are shown quoted. */
static char *join_path(const char *parent, const char *key) {
  bool bare = key[0] != '\0';
  for (const char *c = key; *c != '\0'; c++)
    if (!is_bare(*c))
      bare = false;
  const char *q = bare ? "" : "\"";
  if (parent[0] == '\0')
    return xasprintf("%s%s%s", q, key, q);
  return xasprintf("%s.%s%s%s", parent, q, key, q);
}

const struct vc_toml_value *vc_toml_get(const struct vc_toml_table *t,
                                        const char *key) {
  if (t == NULL || key == NULL)
    return NULL;
  return table_find(t, key, strlen(key));
}

const struct vc_toml_table *vc_toml_get_table(const struct vc_toml_table *root,
                                              const char *path) {
  const struct vc_toml_table *t = root;
  if (t == NULL || path == NULL || path[0] == '\0')
    return t;
  for (;;) {
    size_t n = strcspn(path, ".");
    const struct vc_toml_value *v = table_find(t, path, n);
    if (v == NULL || v->type != VC_TOML_TABLE)
      return NULL;
    t = v->u.table;
    if (path[n] == '\0')
      return t;
    path += n + 1;
  }
}

const struct vc_toml_value *vc_toml_lookup(const struct vc_toml_table *root,
                                           const char *path, const char *key) {
  return vc_toml_get(vc_toml_get_table(root, path), key);
}

const char *vc_toml_type_name(enum vc_toml_type type) {
  static const char *const names[] = {"string", "integer", "boolean", "array",
                                      "table"};
  if ((unsigned)type < sizeof(names) / sizeof(names[0]))
    return names[type];
  return "?";
}

/* ---- lexing ------------------------------------------------------------ */

static bool at_end(const struct parser *ps) { return ps->p >= ps->end; }

static bool at_newline(const struct parser *ps) {
  if (at_end(ps))
    return false;
  if (ps->p[0] == '\n')
    return true;
  return ps->p[0] == '\r' && ps->end - ps->p >= 2 && ps->p[1] == '\n';
}

static void eat_newline(struct parser *ps) {
  ps->p += ps->p[0] == '\r' ? 2 : 1;
  ps->line++;
}

static void skip_ws(struct parser *ps) {
  while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
    ps->p++;
}

/* Skips a comment up to (not including) the end of its line. */
static int skip_comment(struct parser *ps) {
  if (at_end(ps) || *ps->p != '#')
    return 0;
  for (ps->p++; !at_end(ps) && !at_newline(ps); ps->p++)
    if (is_control(*ps->p))
      return fail(ps, "control character in comment");
  return 0;
}

/* After a header or a value: blanks, an optional comment, then a newline or
 * the end of the text. */
static int end_of_line(struct parser *ps, const char *what) {
  skip_ws(ps);
  if (skip_comment(ps) < 0)
    return -1;
  if (at_end(ps))
    return 0;
  if (at_newline(ps)) {
    eat_newline(ps);
    return 0;
  }
  if (is_control(*ps->p))
    return fail(ps, "stray control character after %s", what);
  return fail(ps, "unexpected text after %s", what);
}

/* The whole text must be UTF-8 without NUL bytes (strings are C strings). */
static int check_encoding(struct parser *ps) {
  const unsigned char *s = (const unsigned char *)ps->p;
  const unsigned char *end = (const unsigned char *)ps->end;
  while (s < end) {
    unsigned c = *s;
    if (c < 0x80) {
      if (c == 0)
        return fail(ps, "NUL byte in the file");
      if (c == '\n')
        ps->line++;
      s++;
      continue;
    }
    size_t n;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
      n = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return fail(ps, "invalid UTF-8");
    }
    if ((size_t)(end - s) < n)
      return fail(ps, "invalid UTF-8");
    for (size_t i = 1; i < n; i++) {
      if ((s[i] & 0xc0) != 0x80)
        return fail(ps, "invalid UTF-8");
      cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return fail(ps, "invalid UTF-8");
    s += n;
  }
  ps->line = 1;
  return 0;
}

/* ---- strings and keys -------------------------------------------------- */

static void put_utf8(struct sbuf *b, uint32_t cp) {
  if (cp < 0x80) {
    sbuf_add(b, (char)cp);
  } else if (cp < 0x800) {
    sbuf_add(b, (char)(0xc0 | cp >> 6));
    sbuf_add(b, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    sbuf_add(b, (char)(0xe0 | cp >> 12));
    sbuf_add(b, (char)(0x80 | (cp >> 6 & 0x3f)));
    sbuf_add(b, (char)(0x80 | (cp & 0x3f)));
  } else {
    sbuf_add(b, (char)(0xf0 | cp >> 18));
    sbuf_add(b, (char)(0x80 | (cp >> 12 & 0x3f)));
    sbuf_add(b, (char)(0x80 | (cp >> 6 & 0x3f)));
    sbuf_add(b, (char)(0x80 | (cp & 0x3f)));
  }
}

/* At the backslash of an escape inside a basic string. */
static int parse_escape(struct parser *ps, struct sbuf *b) {
  ps->p++;
  if (at_end(ps) || at_newline(ps))
    return fail(ps, "unterminated string");
  char c = *ps->p++;
  static const char escapes[][2] = {{'b', '\b'}, {'t', '\t'}, {'n', '\n'},
                                    {'f', '\f'}, {'r', '\r'}, {'"', '"'},
                                    {'\\', '\\'}};
  for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
    if (c == escapes[i][0]) {
      sbuf_add(b, escapes[i][1]);
      return 0;
    }
  }
  if (c != 'u' && c != 'U') {
    if (c > ' ' && c < 0x7f)
      return fail(ps, "invalid escape sequence \"\\%c\"", c);
    return fail(ps, "invalid escape sequence");
  }
  int digits = c == 'u' ? 4 : 8;
  uint32_t cp = 0;
  for (int i = 0; i < digits; i++, ps->p++) {
    int h = at_end(ps) ? -1 : hex_value(*ps->p);
    if (h < 0)
      return fail(ps, "\\%c needs %d hexadecimal digits", c, digits);
    cp = cp << 4 | (uint32_t)h;
  }
  if (cp == 0)
    return fail(ps, "\\%c escape of NUL is not allowed", c);
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return fail(ps, "\\%c escape is not a Unicode scalar value", c);
  put_utf8(b, cp);
  return 0;
}

/* At the opening quote of "...". */
static int parse_basic(struct parser *ps, char **out) {
  struct sbuf b = {0};
  for (ps->p++;;) {
    if (at_end(ps) || at_newline(ps)) {
      free(b.s);
      return fail(ps, "unterminated string");
    }
    char c = *ps->p;
    if (c == '"') {
      ps->p++;
      break;
    }
    int r = 0;
    if (c == '\\') {
      r = parse_escape(ps, &b);
    } else if (is_control(c)) {
      r = fail(ps, "control character in string");
    } else {
      sbuf_add(&b, c);
      ps->p++;
    }
    if (r < 0) {
      free(b.s);
      return -1;
    }
  }
  *out = b.s != NULL ? b.s : xstrdup("");
  return 0;
}

/* At the opening quote of '...': no escapes at all. */
static int parse_literal(struct parser *ps, char **out) {
  const char *start = ++ps->p;
  for (; !at_end(ps) && *ps->p != '\''; ps->p++) {
    if (at_newline(ps))
      break;
    if (is_control(*ps->p))
      return fail(ps, "control character in string");
  }
  if (at_end(ps) || *ps->p != '\'')
    return fail(ps, "unterminated string");
  size_t n = (size_t)(ps->p - start);
  char *s = xcalloc(n + 1, 1);
  memcpy(s, start, n);
  ps->p++;
  *out = s;
  return 0;
}

static int parse_key(struct parser *ps, char **out) {
  if (!at_end(ps) && *ps->p == '"')
    return parse_basic(ps, out);
  if (!at_end(ps) && *ps->p == '\'')
    return parse_literal(ps, out);
  const char *start = ps->p;
  while (!at_end(ps) && is_bare(*ps->p))
    ps->p++;
  if (ps->p == start)
    return fail(ps, "expected a key");
  size_t n = (size_t)(ps->p - start);
  char *s = xcalloc(n + 1, 1);
  memcpy(s, start, n);
  *out = s;
  return 0;
}

/* ---- values ------------------------------------------------------------ */

static bool take_word(struct parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return false;
  if (ps->p + n < ps->end && is_bare(ps->p[n]))
    return false;
  ps->p += n;
  return true;
}

static int parse_integer(struct parser *ps, struct vc_toml_value *v) {
  const char *tok = ps->p;
  while (!at_end(ps) &&
         (is_bare(*ps->p) || *ps->p == '+' || *ps->p == '.' || *ps->p == ':'))
    ps->p++;
  const char *end = ps->p;
  int shown = end - tok > 40 ? 40 : (int)(end - tok);
  bool neg = *tok == '-';
  const char *s = tok + (*tok == '-' || *tok == '+');
  size_t n = (size_t)(end - s);
  if (n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0))
    return fail(ps, "floats are not supported");
  if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
    return fail(ps, "hexadecimal, octal and binary integers are not supported");
  if (n > 0 && is_digit(s[0])) {
    if (memchr(s, ':', n) != NULL || memchr(s, '-', n) != NULL)
      return fail(ps, "dates and times are not supported");
    if (memchr(s, '.', n) != NULL || memchr(s, 'e', n) != NULL ||
        memchr(s, 'E', n) != NULL)
      return fail(ps, "floats are not supported");
  }
  if (n == 0)
    return fail(ps, "invalid integer \"%.*s\"", shown, tok);
  if (n > 1 && s[0] == '0')
    return fail(ps, "leading zeros are not allowed in \"%.*s\"", shown, tok);
  unsigned long long limit =
      neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
  unsigned long long mag = 0;
  for (const char *c = s; c < end; c++) {
    if (*c == '_') {
      if (c == s || !is_digit(c[-1]) || c + 1 == end || !is_digit(c[1]))
        return fail(ps, "'_' must be between digits in \"%.*s\"", shown, tok);
      continue;
    }
    if (!is_digit(*c))
      return fail(ps, "invalid integer \"%.*s\"", shown, tok);
    unsigned d = (unsigned)(*c - '0');
    if (mag > (limit - d) / 10)
      return fail(ps, "integer \"%.*s\" is out of range", shown, tok);
    mag = mag * 10 + d;
  }
  v->type = VC_TOML_INTEGER;
  if (neg)
    v->u.integer = mag > LLONG_MAX ? LLONG_MIN : -(long long)mag;
  else
    v->u.integer = (long long)mag;
  return 0;
}

/* Inside an array: blanks, comments and newlines. */
static int skip_array_blanks(struct parser *ps, int open_line) {
  for (;;) {
    skip_ws(ps);
    if (skip_comment(ps) < 0)
      return -1;
    if (at_end(ps))
      return fail(ps, "unterminated array (opened on line %d)", open_line);
    if (!at_newline(ps))
      return 0;
    eat_newline(ps);
  }
}

static int parse_value(struct parser *ps, struct vc_toml_value *v,
                       bool in_array);

static int parse_array(struct parser *ps, struct vc_toml_value *v) {
  int open_line = ps->line;
  struct vc_toml_value *items = NULL;
  size_t len = 0, cap = 0;
  for (ps->p++;;) {
    if (skip_array_blanks(ps, open_line) < 0)
      goto fail;
    if (*ps->p == ']')
      break;
    items = grow(items, &cap, len + 1, sizeof(*items));
    if (parse_value(ps, &items[len], true) < 0)
      goto fail;
    len++;
    if (items[len - 1].type != items[0].type) {
      fail(ps, "array mixes %s and %s values", vc_toml_type_name(items[0].type),
           vc_toml_type_name(items[len - 1].type));
      goto fail;
    }
    if (skip_array_blanks(ps, open_line) < 0)
      goto fail;
    if (*ps->p == ']')
      break;
    if (*ps->p != ',') {
      fail(ps, "expected ',' or ']' in array");
      goto fail;
    }
    ps->p++;
  }
  ps->p++;
  v->type = VC_TOML_ARRAY;
  v->u.array.items = items;
  v->u.array.len = len;
  return 0;

fail:
  for (size_t i = 0; i < len; i++)
    value_free(&items[i]);
  free(items);
  return -1;
}

static int parse_value(struct parser *ps, struct vc_toml_value *v,
                       bool in_array) {
  memset(v, 0, sizeof(*v));
  v->line = ps->line;
  if (at_end(ps) || at_newline(ps) || *ps->p == '#')
    return fail(ps, "missing value");
  char c = *ps->p;
  if (c == '"' || c == '\'') {
    if (ps->end - ps->p >= 3 && ps->p[1] == c && ps->p[2] == c)
      return fail(ps, "multi-line strings are not supported");
    v->type = VC_TOML_STRING;
    return c == '"' ? parse_basic(ps, &v->u.str) : parse_literal(ps, &v->u.str);
  }
  if (c == '[') {
    if (in_array)
      return fail(ps, "nested arrays are not supported");
    return parse_array(ps, v);
  }
  if (c == '{')
    return fail(ps, "inline tables are not supported");
  if (take_word(ps, "true")) {
    v->type = VC_TOML_BOOL;
    v->u.boolean = true;
    return 0;
  }
  if (take_word(ps, "false")) {
    v->type = VC_TOML_BOOL;
    v->u.boolean = false;
    return 0;
  }
  if (take_word(ps, "inf") || take_word(ps, "nan"))
    return fail(ps, "floats are not supported");
  if (is_digit(c) || c == '+' || c == '-')
    return parse_integer(ps, v);
  return fail(ps, "invalid value");
}

/* ---- lines ------------------------------------------------------------- */

/* Makes keys[0..n) the current table, creating what is missing. */
static int open_table(struct parser *ps, char **keys, size_t n) {
  struct vc_toml_table *t = ps->root;
  for (size_t i = 0; i < n; i++) {
    struct vc_toml_value *v = table_find(t, keys[i], strlen(keys[i]));
    if (v == NULL) {
      cleanup_free char *path = join_path(t->path, keys[i]);
      struct vc_toml_value nv = {.type = VC_TOML_TABLE, .line = ps->line};
      nv.u.table = table_new(path, ps->line);
      v = table_add(t, xstrdup(keys[i]), &nv);
    } else if (v->type != VC_TOML_TABLE) {
      return fail(ps, "key \"%s\" (line %d) redefined as a table", keys[i],
                  v->line);
    } else if (i + 1 == n && v->u.table->defined) {
      return fail(ps, "duplicate table [%s] (first defined on line %d)",
                  v->u.table->path, v->u.table->line);
    }
    t = v->u.table;
  }
  t->defined = true;
  t->line = ps->line;
  ps->cur = t;
  return 0;
}

static int parse_header(struct parser *ps) {
  char *keys[MAX_HEADER_KEYS];
  size_t n = 0;
  int r = -1;
  ps->p++;
  if (!at_end(ps) && *ps->p == '[')
    return fail(ps, "arrays of tables ([[...]]) are not supported");
  for (;;) {
    skip_ws(ps);
    if (n == MAX_HEADER_KEYS) {
      fail(ps, "table header has more than %d keys", MAX_HEADER_KEYS);
      goto out;
    }
    if (parse_key(ps, &keys[n]) < 0)
      goto out;
    n++;
    skip_ws(ps);
    if (!at_end(ps) && *ps->p == '.') {
      ps->p++;
      continue;
    }
    if (!at_end(ps) && *ps->p == ']') {
      ps->p++;
      break;
    }
    fail(ps, "expected '.' or ']' in table header");
    goto out;
  }
  r = open_table(ps, keys, n);
out:
  for (size_t i = 0; i < n; i++)
    free(keys[i]);
  return r;
}

static int parse_keyval(struct parser *ps) {
  cleanup_free char *key = NULL;
  if (parse_key(ps, &key) < 0)
    return -1;
  skip_ws(ps);
  if (!at_end(ps) && *ps->p == '.')
    return fail(ps, "dotted keys are not supported, use a [table] header");
  if (at_end(ps) || *ps->p != '=')
    return fail(ps, "expected '=' after key \"%s\"", key);
  ps->p++;
  skip_ws(ps);
  const struct vc_toml_value *old = table_find(ps->cur, key, strlen(key));
  if (old != NULL && old->type == VC_TOML_TABLE)
    return fail(ps, "key \"%s\" is already the table [%s]", key,
                old->u.table->path);
  if (old != NULL)
    return fail(ps, "duplicate key \"%s\" (first defined on line %d)", key,
                old->line);
  struct vc_toml_value v;
  if (parse_value(ps, &v, false) < 0)
    return -1;
  table_add(ps->cur, vc_steal(&key), &v);
  return 0;
}

int vc_toml_parse(const char *name, const char *text, size_t len,
                  struct vc_toml_table **out, vc_error **err) {
  *out = NULL;
  struct parser ps = {.name = name != NULL ? name : "<input>",
                      .p = text,
                      .end = text + len,
                      .line = 1,
                      .err = err};
  if (check_encoding(&ps) < 0)
    return -1;
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    ps.p += 3; /* byte-order mark */
  ps.root = ps.cur = table_new("", 1);
  ps.root->defined = true;
  int r = 0;
  while (r == 0 && !at_end(&ps)) {
    skip_ws(&ps);
    const char *what = "line";
    if (!at_end(&ps) && *ps.p == '[') {
      r = parse_header(&ps);
      what = "table header";
    } else if (!at_end(&ps) && !at_newline(&ps) && *ps.p != '#') {
      r = parse_keyval(&ps);
      what = "value";
    }
    if (r == 0)
      r = end_of_line(&ps, what);
  }
  if (r < 0) {
    vc_toml_free(ps.root);
    return -1;
  }
  *out = ps.root;
  return 0;
}
