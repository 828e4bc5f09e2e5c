/* yajl helpers shared by the host and the guest agent: a parser that says
 * where a document is broken, lookups that follow Go's encoding/json (which
 * runc uses) on duplicate keys, exact integer conversion over the whole
 * uint64 range, and a yajl_gen wrapper that re-serializes trees and builds
 * documents without checking every call.
 *
 * Keep this file free of host-only dependencies: it is linked into the
 * static agent too. */
#ifndef VC_JSON_H
#define VC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/base/error.h"

/* Deepest nesting of objects and arrays that vc_json_parse accepts.
 * yajl_tree_free and vc_json_gen_value recurse once per level, and yajl_gen
 * itself refuses to go deeper than 127, so anything nested this deep can be
 * written out again. */
#define VC_JSON_MAX_DEPTH 100

/* Parses text as exactly one JSON document (comments are allowed, as
 * yajl_tree_parse allows them).  On failure *err reads
 * "invalid JSON at line N: <yajl's message>" or
 * "invalid JSON at line N: nested deeper than 100 levels".
 * Free *out with yajl_tree_free. */
int vc_json_parse(const char *text, yajl_val *out, vc_error **err);

/* Scope-bound: a parsed tree freed when it goes out of scope. */
static inline void vc_yajl_freep(yajl_val *v) { yajl_tree_free(*v); }
#define cleanup_yajl __attribute__((cleanup(vc_yajl_freep)))

/* The member `key` of obj, or NULL if obj is not an object or has no such
 * member.  When a key is repeated the last one wins, as in Go.  A JSON null
 * comes back as a yajl_val of type null (YAJL_IS_NULL). */
yajl_val vc_json_get(yajl_val obj, const char *key);
/* Follows a NULL-terminated list of keys: {"linux", "resources", NULL}. */
yajl_val vc_json_get_path(yajl_val obj, const char *const *path);
/* The member as a string, array or object; NULL if absent or of another
 * type. */
const char *vc_json_get_str(yajl_val obj, const char *key);
yajl_val vc_json_get_array(yajl_val obj, const char *key);
/* The member as an integer (0 when absent or not an integer), and as a
 * malloc'd copy of a string (NULL when absent or not a string). */
long long vc_json_get_int(yajl_val obj, const char *key);
char *vc_json_strdup(yajl_val obj, const char *key);
yajl_val vc_json_get_object(yajl_val obj, const char *key);

/* Results of the integer conversions. */
#define VC_JSON_NUM_OK 0
#define VC_JSON_NUM_TYPE -1  /* not a number, or not an integer (1.5, 1e3) */
#define VC_JSON_NUM_RANGE -2 /* an integer outside [min, max] */

/* Converts an integer number using its text (YAJL_GET_NUMBER), so values
 * above LLONG_MAX such as 18446744073709551615 convert exactly.  A minus
 * sign makes vc_json_to_u64 return VC_JSON_NUM_RANGE.  Returns one of the
 * VC_JSON_NUM_* values; *out is written only on success. */
int vc_json_to_u64(yajl_val v, uint64_t max, uint64_t *out);
int vc_json_to_i64(yajl_val v, int64_t min, int64_t max, int64_t *out);

/* A yajl_gen whose first failure sticks: after it every call does nothing
 * and vc_json_gen_finish reports it, so a document can be written as a
 * plain sequence of calls. */
struct vc_json_gen {
  yajl_gen g;
  yajl_gen_status status; /* first failure, yajl_gen_status_ok if none */
  bool pretty;
};

/* indent NULL: compact output; otherwise pretty-printed with that string
 * per level ("\t" gives what Go's json.MarshalIndent(v, "", "\t") gives). */
void vc_json_gen_init(struct vc_json_gen *j, const char *indent);
void vc_json_gen_map_open(struct vc_json_gen *j);
void vc_json_gen_map_close(struct vc_json_gen *j);
void vc_json_gen_array_open(struct vc_json_gen *j);
void vc_json_gen_array_close(struct vc_json_gen *j);
/* Keys are strings; the key function only makes call sites read better. */
void vc_json_gen_key(struct vc_json_gen *j, const char *key);
void vc_json_gen_str(struct vc_json_gen *j, const char *s); /* NULL: null */
void vc_json_gen_bool(struct vc_json_gen *j, bool b);
void vc_json_gen_null(struct vc_json_gen *j);
void vc_json_gen_int(struct vc_json_gen *j, long long v);
void vc_json_gen_uint(struct vc_json_gen *j, unsigned long long v);
/* An array of n strings. */
void vc_json_gen_strv(struct vc_json_gen *j, char *const *v, size_t n);
/* Writes a whole tree; numbers keep their original text. */
void vc_json_gen_value(struct vc_json_gen *j, yajl_val v);
/* Writes the members of obj (keys and values, not its braces) except those
 * whose key is in the NULL-terminated list skip (NULL: none), so a caller
 * can copy an object and then write its own values for the skipped keys.
 * Nothing is written if obj is not an object. */
void vc_json_gen_members(struct vc_json_gen *j, yajl_val obj,
                         const char *const *skip);
/* Hands over the text (malloc'd, NUL-terminated, with no trailing newline
 * even when pretty) and frees the generator, on success or failure. */
int vc_json_gen_finish(struct vc_json_gen *j, char **out, vc_error **err);
/* Frees the generator without producing text (safe after finish). */
void vc_json_gen_free(struct vc_json_gen *j);

/* Re-serializes a tree (or subtree) as compact JSON. */
int vc_json_serialize(yajl_val v, char **out, vc_error **err);

#endif
