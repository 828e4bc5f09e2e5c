#include "lib/base/json.h"
#include "lib/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* --- parsing ------------------------------------------------------------ */

struct depth_state {
  int depth;
  bool too_deep;
};

static int depth_open(void *ctx) {
  struct depth_state *d = ctx;
  if (++d->depth > VC_JSON_MAX_DEPTH) {
    d->too_deep = true;
    return 0; /* cancels the parse */
  }
  return 1;
}

static int depth_close(void *ctx) {
  struct depth_state *d = ctx;
  d->depth--;
  return 1;
}

static const yajl_callbacks depth_callbacks = {
    .yajl_start_map = depth_open,
    .yajl_end_map = depth_close,
    .yajl_start_array = depth_open,
    .yajl_end_array = depth_close,
};

/* 1-based line of the byte at offset (the byte yajl stopped on). */
static unsigned line_at(const char *text, size_t offset) {
  unsigned line = 1;
  for (size_t i = 0; i < offset && text[i] != '\0'; i++)
    if (text[i] == '\n')
      line++;
  return line;
}

/* A first pass with yajl's event parser and no tree: it finds syntax
 * errors together with their offset (yajl_tree_parse only gives a message)
 * and refuses documents nested too deeply for the recursive tree code. */
static int check_syntax(const char *text, vc_error **err) {
  size_t len = strlen(text);
  struct depth_state d = {0, false};
  yajl_handle h = yajl_alloc(&depth_callbacks, NULL, &d);
  if (h == NULL)
    return vc_error_set(err, ENOMEM, "invalid JSON");
  yajl_config(h, yajl_allow_comments, 1);
  yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
  size_t offset = yajl_get_bytes_consumed(h);
  if (st == yajl_status_ok) {
    st = yajl_complete_parse(h);
    /* The document ended early: point at its last non-blank line. */
    offset = len;
    while (offset > 0 && strchr(" \t\r\n", text[offset - 1]) != NULL)
      offset--;
  }
  int rc = 0;
  if (d.too_deep) {
    rc = vc_error_set(err, 0, "invalid JSON at line %u: nested deeper than %d levels",
                      line_at(text, offset), VC_JSON_MAX_DEPTH);
  } else if (st != yajl_status_ok) {
    unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
    size_t n = msg ? strlen((char *)msg) : 0;
    while (n > 0 && strchr(" \t\r\n", msg[n - 1]) != NULL)
      n--;
    rc = vc_error_set(err, 0, "invalid JSON at line %u: %.*s", line_at(text, offset),
                      (int)n, msg ? (char *)msg : "");
    if (msg != NULL)
      yajl_free_error(h, msg);
  }
  yajl_free(h);
  return rc;
}

int vc_json_parse(const char *text, yajl_val *out, vc_error **err) {
  *out = NULL;
  if (check_syntax(text, err) < 0)
    return -1;
  char buf[256];
  buf[0] = '\0';
  yajl_val tree = yajl_tree_parse(text, buf, sizeof(buf));
  if (tree == NULL) {
    /* Only reachable if the two passes disagree or memory ran out; keep
     * the first line of yajl's (multi-line) message. */
    buf[strcspn(buf, "\n")] = '\0';
    return vc_error_set(err, 0, "invalid JSON: %s", buf[0] ? buf : "out of memory");
  }
  *out = tree;
  return 0;
}

/* --- lookups ------------------------------------------------------------ */

yajl_val vc_json_get(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj) || key == NULL)
    return NULL;
  yajl_val found = NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      found = obj->u.object.values[i];
  return found;
}

yajl_val vc_json_get_path(yajl_val obj, const char *const *path) {
  yajl_val v = obj;
  for (size_t i = 0; path[i] != NULL && v != NULL; i++)
    v = vc_json_get(v, path[i]);
  return v;
}

const char *vc_json_get_str(yajl_val obj, const char *key) {
  yajl_val v = vc_json_get(obj, key);
  return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

long long vc_json_get_int(yajl_val obj, const char *key) {
  yajl_val v = vc_json_get(obj, key);
  return v != NULL && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

char *vc_json_strdup(yajl_val obj, const char *key) {
  const char *s = vc_json_get_str(obj, key);
  return s != NULL ? xstrdup(s) : NULL;
}

yajl_val vc_json_get_array(yajl_val obj, const char *key) {
  yajl_val v = vc_json_get(obj, key);
  return YAJL_IS_ARRAY(v) ? v : NULL;
}

yajl_val vc_json_get_object(yajl_val obj, const char *key) {
  yajl_val v = vc_json_get(obj, key);
  return YAJL_IS_OBJECT(v) ? v : NULL;
}

/* --- numbers ------------------------------------------------------------ */

/* The digits of an integer literal (after an optional '-'), or NULL when
 * the number has a fraction or an exponent. */
static const char *integer_digits(yajl_val v, bool *negative) {
  if (!YAJL_IS_NUMBER(v) || YAJL_GET_NUMBER(v) == NULL)
    return NULL;
  const char *s = YAJL_GET_NUMBER(v);
  *negative = s[0] == '-';
  if (*negative)
    s++;
  if (*s == '\0')
    return NULL;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return NULL;
  return s;
}

int vc_json_to_u64(yajl_val v, uint64_t max, uint64_t *out) {
  bool negative;
  const char *digits = integer_digits(v, &negative);
  if (digits == NULL)
    return VC_JSON_NUM_TYPE;
  errno = 0;
  unsigned long long n = strtoull(digits, NULL, 10);
  if (errno == ERANGE || n > max || (negative && n != 0))
    return VC_JSON_NUM_RANGE;
  *out = n;
  return VC_JSON_NUM_OK;
}

int vc_json_to_i64(yajl_val v, int64_t min, int64_t max, int64_t *out) {
  bool negative;
  if (integer_digits(v, &negative) == NULL)
    return VC_JSON_NUM_TYPE;
  errno = 0;
  long long n = strtoll(YAJL_GET_NUMBER(v), NULL, 10);
  if (errno == ERANGE || n < min || n > max)
    return VC_JSON_NUM_RANGE;
  *out = n;
  return VC_JSON_NUM_OK;
}

/* --- generation --------------------------------------------------------- */

void vc_json_gen_init(struct vc_json_gen *j, const char *indent) {
  j->g = yajl_gen_alloc(NULL);
  if (j->g == NULL) {
    fputs("vcrun: out of memory\n", stderr);
    abort();
  }
  j->status = yajl_gen_status_ok;
  j->pretty = indent != NULL;
  if (indent != NULL) {
    yajl_gen_config(j->g, yajl_gen_beautify, 1);
    yajl_gen_config(j->g, yajl_gen_indent_string, indent);
  }
}

static bool gen_ok(struct vc_json_gen *j) {
  return j->g != NULL && j->status == yajl_gen_status_ok;
}

static void gen_note(struct vc_json_gen *j, yajl_gen_status st) {
  if (j->status == yajl_gen_status_ok)
    j->status = st;
}

void vc_json_gen_map_open(struct vc_json_gen *j) {
  if (gen_ok(j))
    gen_note(j, yajl_gen_map_open(j->g));
}

void vc_json_gen_map_close(struct vc_json_gen *j) {
  if (gen_ok(j))
    gen_note(j, yajl_gen_map_close(j->g));
}

void vc_json_gen_array_open(struct vc_json_gen *j) {
  if (gen_ok(j))
    gen_note(j, yajl_gen_array_open(j->g));
}

void vc_json_gen_array_close(struct vc_json_gen *j) {
  if (gen_ok(j))
    gen_note(j, yajl_gen_array_close(j->g));
}

void vc_json_gen_str(struct vc_json_gen *j, const char *s) {
  if (!gen_ok(j))
    return;
  if (s == NULL)
    gen_note(j, yajl_gen_null(j->g));
  else
    gen_note(j, yajl_gen_string(j->g, (const unsigned char *)s, strlen(s)));
}

void vc_json_gen_key(struct vc_json_gen *j, const char *key) {
  if (key == NULL)
    gen_note(j, yajl_gen_keys_must_be_strings);
  else
    vc_json_gen_str(j, key);
}

void vc_json_gen_bool(struct vc_json_gen *j, bool b) {
  if (gen_ok(j))
    gen_note(j, yajl_gen_bool(j->g, b));
}

void vc_json_gen_null(struct vc_json_gen *j) {
  if (gen_ok(j))
    gen_note(j, yajl_gen_null(j->g));
}

void vc_json_gen_int(struct vc_json_gen *j, long long v) {
  if (gen_ok(j))
    gen_note(j, yajl_gen_integer(j->g, v));
}

void vc_json_gen_uint(struct vc_json_gen *j, unsigned long long v) {
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%llu", v);
  if (gen_ok(j))
    gen_note(j, yajl_gen_number(j->g, buf, (size_t)n));
}

void vc_json_gen_strv(struct vc_json_gen *j, char *const *v, size_t n) {
  vc_json_gen_array_open(j);
  for (size_t i = 0; i < n; i++)
    vc_json_gen_str(j, v[i]);
  vc_json_gen_array_close(j);
}

void vc_json_gen_value(struct vc_json_gen *j, yajl_val v) {
  if (!gen_ok(j))
    return; /* also bounds the recursion: yajl_gen stops at its max depth */
  if (v == NULL) {
    vc_json_gen_null(j);
    return;
  }
  switch (v->type) {
  case yajl_t_string:
    vc_json_gen_str(j, v->u.string);
    break;
  case yajl_t_number:
    if (v->u.number.r == NULL)
      gen_note(j, yajl_gen_invalid_number);
    else
      gen_note(j, yajl_gen_number(j->g, v->u.number.r, strlen(v->u.number.r)));
    break;
  case yajl_t_object:
    vc_json_gen_map_open(j);
    for (size_t i = 0; i < v->u.object.len && gen_ok(j); i++) {
      vc_json_gen_key(j, v->u.object.keys[i]);
      vc_json_gen_value(j, v->u.object.values[i]);
    }
    vc_json_gen_map_close(j);
    break;
  case yajl_t_array:
    vc_json_gen_array_open(j);
    for (size_t i = 0; i < v->u.array.len && gen_ok(j); i++)
      vc_json_gen_value(j, v->u.array.values[i]);
    vc_json_gen_array_close(j);
    break;
  case yajl_t_true:
    vc_json_gen_bool(j, true);
    break;
  case yajl_t_false:
    vc_json_gen_bool(j, false);
    break;
  case yajl_t_null:
    vc_json_gen_null(j);
    break;
  default:
    gen_note(j, yajl_gen_in_error_state);
    break;
  }
}

static bool key_listed(const char *key, const char *const *list) {
  for (size_t i = 0; list != NULL && list[i] != NULL; i++)
    if (strcmp(key, list[i]) == 0)
      return true;
  return false;
}

void vc_json_gen_members(struct vc_json_gen *j, yajl_val obj,
                         const char *const *skip) {
  if (!YAJL_IS_OBJECT(obj))
    return;
  for (size_t i = 0; i < obj->u.object.len && gen_ok(j); i++) {
    if (key_listed(obj->u.object.keys[i], skip))
      continue;
    vc_json_gen_key(j, obj->u.object.keys[i]);
    vc_json_gen_value(j, obj->u.object.values[i]);
  }
}

static const char *gen_status_text(yajl_gen_status st) {
  switch (st) {
  case yajl_gen_keys_must_be_strings: return "object keys must be strings";
  case yajl_max_depth_exceeded: return "nested too deeply";
  case yajl_gen_in_error_state: return "generator in error state";
  case yajl_gen_generation_complete: return "value after the end of the document";
  case yajl_gen_invalid_number: return "invalid number";
  case yajl_gen_no_buf: return "no output buffer";
  case yajl_gen_invalid_string: return "invalid UTF-8 string";
  default: return "unknown error";
  }
}

void vc_json_gen_free(struct vc_json_gen *j) {
  if (j->g != NULL)
    yajl_gen_free(j->g);
  j->g = NULL;
}

int vc_json_gen_finish(struct vc_json_gen *j, char **out, vc_error **err) {
  *out = NULL;
  if (j->g == NULL)
    return vc_error_set(err, 0, "JSON generation: generator not initialized");
  if (j->status != yajl_gen_status_ok) {
    yajl_gen_status st = j->status;
    vc_json_gen_free(j);
    return vc_error_set(err, 0, "JSON generation: %s", gen_status_text(st));
  }
  const unsigned char *buf = NULL;
  size_t len = 0;
  yajl_gen_get_buf(j->g, &buf, &len);
  if (j->pretty)
    while (len > 0 && buf[len - 1] == '\n')
      len--;
  char *s = malloc(len + 1);
  if (s == NULL) {
    fputs("vcrun: out of memory\n", stderr);
    abort();
  }
  if (len > 0)
    memcpy(s, buf, len);
  s[len] = '\0';
  vc_json_gen_free(j);
  *out = s;
  return 0;
}

int vc_json_serialize(yajl_val v, char **out, vc_error **err) {
  struct vc_json_gen j;
  vc_json_gen_init(&j, NULL);
  vc_json_gen_value(&j, v);
  return vc_json_gen_finish(&j, out, err);
}
