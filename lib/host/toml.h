/* A small, strict parser for the subset of TOML that configuration.toml
 * uses.  Accepted: comments, blank lines, [table] and [table.sub] headers
 * (bare or quoted keys), `key = value` lines whose value is a basic string
 * ("..." with escapes), a literal string ('...'), a decimal integer, a
 * boolean, or a one-type array of those (which may span lines and end with
 * a comma).  Everything else (floats, dates, inline tables, arrays of
 * tables, multi-line strings, dotted keys left of `=`) is rejected, as are
 * duplicate keys and tables.  Every error reads "NAME:LINE: message". */
#ifndef VC_TOML_H
#define VC_TOML_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/base/error.h"

enum vc_toml_type {
  VC_TOML_STRING,
  VC_TOML_INTEGER,
  VC_TOML_BOOL,
  VC_TOML_ARRAY,
  VC_TOML_TABLE,
};

struct vc_toml_table;

struct vc_toml_value {
  enum vc_toml_type type;
  int line; /* line of the key (of the item, inside an array) */
  union {
    char *str;         /* VC_TOML_STRING, UTF-8, no NUL inside */
    long long integer; /* VC_TOML_INTEGER */
    bool boolean;      /* VC_TOML_BOOL */
    struct {
      struct vc_toml_value *items;
      size_t len;
    } array;                     /* VC_TOML_ARRAY, items of one type */
    struct vc_toml_table *table; /* VC_TOML_TABLE */
  } u;
};

struct vc_toml_entry {
  char *key;
  struct vc_toml_value value;
};

/* Walk all keys of a table with `for (i = 0; i < t->len; i++)
 * t->entries[i]`: entries are kept in the order of the document. */
struct vc_toml_table {
  char *path;   /* dotted name for messages: "" for the root, "a.b" */
  int line;     /* line of its header, or where it was first named */
  bool defined; /* has had its own [header] (always true for the root) */
  size_t len, cap;
  struct vc_toml_entry *entries;
};

/* Parses len bytes of text (NUL bytes are an error).  name is used in the
 * error messages.  On success *out is the root table, freed with
 * vc_toml_free(). */
int vc_toml_parse(const char *name, const char *text, size_t len,
                  struct vc_toml_table **out, vc_error **err);
void vc_toml_free(struct vc_toml_table *root);

/* The value of key in table t, or NULL. */
const struct vc_toml_value *vc_toml_get(const struct vc_toml_table *t,
                                        const char *key);
/* The table at a dotted path of bare keys below root ("" or NULL: root
 * itself), or NULL if absent or not a table. */
const struct vc_toml_table *vc_toml_get_table(const struct vc_toml_table *root,
                                              const char *path);
/* Shortcut: vc_toml_get(vc_toml_get_table(root, path), key). */
const struct vc_toml_value *vc_toml_lookup(const struct vc_toml_table *root,
                                           const char *path, const char *key);

/* "string", "integer", "boolean", "array", "table". */
const char *vc_toml_type_name(enum vc_toml_type type);

#endif
