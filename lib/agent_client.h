/* The host side of the agent protocol over one connection: typed calls of
 * the methods in lib/base/agent_proto.h.  Every reply is untrusted and goes
 * through vc_proto_decode_response (size- and depth-guarded). */
#ifndef VC_AGENT_CLIENT_H
#define VC_AGENT_CLIENT_H

#include <stdint.h>

#include "lib/base/agent_proto.h"
#include "lib/base/error.h"
#include "lib/base/protocol.h"

struct vc_agent_client {
  int fd;
  uint32_t next_stream; /* odd ids for requests; stdio uses even ones */
};

#define VC_AGENT_CLIENT_INIT {-1, 1}

/* Sends a request for method m (params: a struct of its request type, or
 * NULL for none) without waiting; *stream (if non-NULL) gets its id. */
int vc_agent_send(struct vc_agent_client *c, enum vc_agent_method m,
                  const void *params, uint32_t *stream, vc_error **err);

/* Sends a request and waits for its response, skipping other frames (DATA
 * frames are for callers that use a decoder).  result: a struct of m's
 * response type to fill (free it with vc_agent_result_free), or NULL.  An
 * error reply is returned as *err with errnum set to the agent's code. */
int vc_agent_call(struct vc_agent_client *c, enum vc_agent_method m,
                  const void *params, void *result, vc_error **err);

/* Hello, and the check that the agent speaks our protocol version: a
 * mismatch is an error naming both versions.  kernel (if non-NULL) gets the
 * guest's kernel release (caller frees).  A mismatch has errnum EPROTO. */
int vc_agent_hello(struct vc_agent_client *c, char **kernel, vc_error **err);

/* Reads and writes on the connection fail (EAGAIN) once timeout_ms pass
 * without progress: a wedged guest must not hang a command.  0: wait as
 * long as it takes (a relay of a long-running process). */
int vc_agent_set_timeout(struct vc_agent_client *c, unsigned timeout_ms,
                         vc_error **err);

/* Frees what a result of method m's response type owns. */
void vc_agent_result_free(enum vc_agent_method m, void *result);

#endif
