/* A growable string for building small JSON documents by hand (requests to
 * the agent, state files), where a yajl_gen state machine would be noisier
 * than the document itself.  Shared by host and agent. */
#ifndef VC_JSON_BUILD_H
#define VC_JSON_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vc_jb {
  char *s;
  size_t len, cap;
  bool need_comma; /* a value was written at the current nesting level */
};

/* Returns a malloc'd JSON string literal (with quotes) for s. */
char *vc_json_quote(const char *s);

void vc_jb_open(struct vc_jb *b, char bracket);  /* '{' or '[' */
void vc_jb_close(struct vc_jb *b, char bracket); /* '}' or ']' */
void vc_jb_key(struct vc_jb *b, const char *key);
void vc_jb_str(struct vc_jb *b, const char *value); /* NULL writes null */
void vc_jb_int(struct vc_jb *b, long long value);
void vc_jb_uint(struct vc_jb *b, unsigned long long value);
void vc_jb_bool(struct vc_jb *b, bool value);
void vc_jb_raw(struct vc_jb *b, const char *json); /* already-encoded value */
void vc_jb_strv(struct vc_jb *b, char *const *values, size_t n);
/* Hands the string over (caller frees) and resets the builder. */
char *vc_jb_take(struct vc_jb *b);
void vc_jb_free(struct vc_jb *b);

#endif
