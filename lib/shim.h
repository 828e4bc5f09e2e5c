/* The shim: the host process standing for one container process (the init
 * or an exec).  It attaches to (or, for an exec, starts) the process in the
 * guest over a vsock stream of its own, relays stdio, forwards signals, and
 * exits with the process's status (128+N when killed by signal N).  It runs
 * as `vcrun shim`, a child of the command that made it, so engines that are
 * subreapers see it, as pid 1 of a pid and mount namespace of its own (with
 * its own /proc): what looks through its pid sees no host process.  Its
 * readiness comes back over a pipe: 'R', or 'E'
 * followed by the error's text. */
#ifndef VC_SHIM_H
#define VC_SHIM_H

#include <sys/types.h>

#include "lib/base/error.h"

struct vc_container;
struct vc_context;

#define VC_SHIM_READY 'R'
#define VC_SHIM_FAILED 'E'

/* Forks and execs `vcrun shim` for c's init (exec_id NULL) or for an exec
 * whose process JSON is in process_file; returns once the shim is attached.
 * The shim inherits this process's stdio, or has tty_slave (a console-socket
 * pty's slave, if >= 0) as its stdio and controlling terminal. */
int vc_shim_spawn(const struct vc_context *ctx, const struct vc_container *c,
                  const char *exec_id, const char *process_file, int tty_slave,
                  pid_t *pid, vc_error **err);

/* The shim's work, also done in-process by a foreground exec: attach to or
 * start the process, report readiness on ready_fd (if >= 0), relay, and
 * return the process's exit status.  winsize_fd: see vc_relay_stdio. */
int vc_shim_main(const struct vc_context *ctx, const char *id,
                 const char *exec_id, const char *process_file, int ready_fd,
                 int winsize_fd, vc_error **err);

#endif
