#include "lib/base/json_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct vc_jb *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (p == NULL)
      abort();
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void puts_(struct vc_jb *b, const char *s) { put(b, s, strlen(s)); }

static void quote_into(struct vc_jb *b, const char *s) {
  put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    switch (*p) {
    case '"': puts_(b, "\\\""); break;
    case '\\': puts_(b, "\\\\"); break;
    case '\n': puts_(b, "\\n"); break;
    case '\r': puts_(b, "\\r"); break;
    case '\t': puts_(b, "\\t"); break;
    default:
      if (*p < 0x20) {
        snprintf(esc, sizeof(esc), "\\u%04x", *p);
        puts_(b, esc);
      } else {
        put(b, (const char *)p, 1);
      }
    }
  }
  put(b, "\"", 1);
}

char *vc_json_quote(const char *s) {
  struct vc_jb b = {0};
  quote_into(&b, s ? s : "");
  return vc_jb_take(&b);
}

/* Separates values: a key already wrote its comma, so the value after it
 * must not write another. */
static void sep(struct vc_jb *b) {
  if (b->need_comma)
    put(b, ",", 1);
  b->need_comma = true;
}

void vc_jb_open(struct vc_jb *b, char bracket) {
  sep(b);
  put(b, &bracket, 1);
  b->need_comma = false;
}

void vc_jb_close(struct vc_jb *b, char bracket) {
  put(b, &bracket, 1);
  b->need_comma = true;
}

void vc_jb_key(struct vc_jb *b, const char *key) {
  sep(b);
  quote_into(b, key);
  put(b, ":", 1);
  b->need_comma = false;
}

void vc_jb_str(struct vc_jb *b, const char *value) {
  sep(b);
  if (value == NULL)
    puts_(b, "null");
  else
    quote_into(b, value);
}

void vc_jb_int(struct vc_jb *b, long long value) {
  char buf[32];
  sep(b);
  snprintf(buf, sizeof(buf), "%lld", value);
  puts_(b, buf);
}

void vc_jb_uint(struct vc_jb *b, unsigned long long value) {
  char buf[32];
  sep(b);
  snprintf(buf, sizeof(buf), "%llu", value);
  puts_(b, buf);
}

void vc_jb_bool(struct vc_jb *b, bool value) {
  sep(b);
  puts_(b, value ? "true" : "false");
}

void vc_jb_raw(struct vc_jb *b, const char *json) {
  sep(b);
  puts_(b, json);
}

void vc_jb_strv(struct vc_jb *b, char *const *values, size_t n) {
  vc_jb_open(b, '[');
  for (size_t i = 0; i < n; i++)
    vc_jb_str(b, values[i]);
  vc_jb_close(b, ']');
}

char *vc_jb_take(struct vc_jb *b) {
  char *s = b->s ? b->s : calloc(1, 1);
  if (s == NULL)
    abort();
  b->s = NULL;
  b->len = b->cap = 0;
  b->need_comma = false;
  return s;
}

void vc_jb_free(struct vc_jb *b) {
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}
