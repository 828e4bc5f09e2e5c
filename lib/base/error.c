#include "lib/base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    return NULL;
  return s;
}

int vc_error_set(vc_error **err, int errnum, const char *fmt, ...) {
  if (err == NULL || *err != NULL)
    return -1;
  vc_error *e = calloc(1, sizeof(*e));
  if (e == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  char *msg = vformat(fmt, ap);
  va_end(ap);
  if (msg != NULL && errnum != 0) {
    char *full = NULL;
    if (asprintf(&full, "%s: %s", msg, strerror(errnum)) >= 0) {
      free(msg);
      msg = full;
    }
  }
  e->errnum = errnum;
  e->status = 1;
  e->msg = msg != NULL ? msg : strdup("out of memory");
  *err = e;
  return -1;
}

int vc_error_wrap(vc_error **err, const char *fmt, ...) {
  if (err == NULL || *err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = vformat(fmt, ap);
  va_end(ap);
  char *full = NULL;
  if (ctx != NULL && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
    free((*err)->msg);
    (*err)->msg = full;
  }
  free(ctx);
  return -1;
}

void vc_error_free(vc_error **err) {
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}
