/* Relaying a container process's stdio between this host process and the
 * agent, shared by a foreground run or exec and the per-process shim. */
#ifndef VC_RELAY_H
#define VC_RELAY_H

#include <stdint.h>

#include "lib/agent_client.h"
#include "lib/base/error.h"

/* The stdio stream of the one process a connection carries (requests use
 * odd stream ids). */
#define VC_STDIO_STREAM 2

/* Relays stdin to, and stdout/stderr from, the process's stdio stream and
 * forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it,
 * until the agent answers the WaitProcess request sent as wait_stream;
 * *exit_status gets its status.  exec_id NULL: the container's init.
 * winsize_fd: the terminal whose size (now and on SIGWINCH) the process's
 * guest terminal follows, or -1. */
int vc_relay_stdio(struct vc_agent_client *agent, const char *id,
                   const char *exec_id, uint32_t stdio_stream,
                   uint32_t wait_stream, int winsize_fd, int *exit_status,
                   vc_error **err);

#endif
