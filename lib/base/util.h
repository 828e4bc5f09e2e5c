/* Small helpers shared by the host binary, the agent and the tests. */
#ifndef VC_UTIL_H
#define VC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/base/error.h"

/* Scope-bound cleanup (GCC/Clang extension), so error paths cannot leak. */
static inline void vc_freep(void *p) { free(*(void **)p); }
static inline void vc_closep(int *fd) {
  if (*fd >= 0)
    close(*fd);
}
#define cleanup_free __attribute__((cleanup(vc_freep)))
#define cleanup_close __attribute__((cleanup(vc_closep)))

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Returns the pointer and leaves NULL behind: hands ownership on. */
static inline void *vc_steal(void *pp) {
  void **p = pp;
  void *v = *p;
  *p = NULL;
  return v;
}

/* Aborts on allocation failure: there is no sensible recovery. */
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);

/* The longest container id: a directory name under the state root. */
#define VC_ID_MAX 255

/* A container id as runc accepts it: [A-Za-z0-9_+.-], not . or .., at
 * most VC_ID_MAX bytes; safe as a directory name under the state root. */
bool vc_id_valid(const char *id);

/* Reads a whole file (NUL-terminated); *len (if non-NULL) gets its size. */
int vc_read_file(const char *path, char **out, size_t *len, vc_error **err);
/* Writes path.tmp, fsyncs and renames it over path. */
int vc_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, vc_error **err);
int vc_mkdir_p(const char *path, mode_t mode, vc_error **err);
/* rm -rf that never crosses into a mount point below path. */
int vc_rmdir_r(const char *path, vc_error **err);

ssize_t vc_write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes; returns len, 0 on EOF before any byte, -1 on
 * error (EIO on a short read). */
ssize_t vc_read_all(int fd, void *buf, size_t len);

/* Monotonic milliseconds. */
long long vc_now_ms(void);

/* One message of len bytes with fd attached (SCM_RIGHTS) on a unix socket:
 * the number of bytes sent, or -1 with errno. */
ssize_t vc_send_fd(int sock, const void *msg, size_t len, int fd);
/* Receives one message into buf; *fd gets an attached fd (close-on-exec)
 * or -1.  Returns the bytes read, 0 at end of stream, -1 with errno. */
ssize_t vc_recv_fd(int sock, void *buf, size_t len, int *fd);

bool vc_file_exists(const char *path);

/* n random letters and digits (from getrandom; caller frees). */
char *vc_random_name(size_t n);

/* strcmp for qsort over an array of char *. */
int vc_strcmp_ptr(const void *a, const void *b);

/* Takes an exclusive flock on directory dir, waiting for it; *lock_fd gets
 * the fd that holds it (close it to unlock). */
int vc_dir_lock(const char *dir, int *lock_fd, vc_error **err);

/* Makes len bytes of untrusted text (a guest's console, a QEMU log, a
 * peer's answer) safe to print inside a message, in place: "\r\n" becomes
 * "\n"; NUL, other control bytes except '\n' and '\t', DEL and
 * UTF-8-encoded C1 controls (which a terminal may obey as escapes) become
 * '?'; other bytes are kept.  Returns the new length (no NUL is added). */
size_t vc_printable(char *s, size_t len);

/* path as "/"-joined parts, without empty or "." ones ("" for the root),
 * compared as written; NULL when a part is "..", which only the file
 * system could resolve.  The caller frees it. */
char *vc_path_clean(const char *path);

#endif
