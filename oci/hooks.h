/* OCI hooks that run on the host (prestart, createRuntime, poststart,
 * poststop): each gets the container's OCI state JSON on stdin, its own
 * path, args and env, and is killed when it runs past its timeout. */
#ifndef VC_HOOKS_H
#define VC_HOOKS_H

#include <stddef.h>

#include "lib/base/error.h"
#include "oci/spec.h"

/* Runs hooks[0..n) in order and stops at the first that fails (non-zero
 * exit, killed, cannot be started, or past its timeout), with runc's
 * wording: "error running hook #N: ...", its captured stdout and stderr
 * included.  A hook without args gets argv {path}; without env, ours. */
int vc_hooks_run(const struct oci_hook *hooks, size_t n,
                 const char *state_json, vc_error **err);
/* Only hooks[index], for hooks whose failures do not stop the rest
 * (poststop). */
int vc_hook_run(const struct oci_hook *hook, size_t index,
                const char *state_json, vc_error **err);

#endif
