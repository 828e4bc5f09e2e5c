/* One error object, created where a failure happens, passed up the stack and
 * printed once at the top (cmd/).  Functions that can fail return a negative
 * value and fill *err; callers either handle it or return it upward. */
#ifndef VC_ERROR_H
#define VC_ERROR_H

#include <stdarg.h>

typedef struct vc_error {
  int errnum;   /* errno of the root cause, 0 if none */
  int status;   /* exit status the CLI should use (default 1) */
  char *msg;
} vc_error;

/* Sets *err (if err is non-NULL and empty) to the formatted message, with
 * ": strerror(errnum)" appended when errnum != 0.  Returns -1 so that callers
 * can write `return vc_error_set(err, errno, "open `%s`", path);`. */
int vc_error_set(vc_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing error with more context: "context: old message". */
int vc_error_wrap(vc_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void vc_error_free(vc_error **err);

/* Scope-bound: a vc_error * that is freed when it goes out of scope, for
 * errors a function handles itself (`cleanup_error vc_error *e = NULL;`). */
#define cleanup_error __attribute__((cleanup(vc_error_free)))

#endif
