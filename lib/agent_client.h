/* The host side of the agent protocol over one connection. */
#ifndef VC_AGENT_CLIENT_H
#define VC_AGENT_CLIENT_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "lib/base/error.h"
#include "lib/base/protocol.h"

struct vc_agent_client {
  int fd;
  uint32_t next_stream; /* odd ids for requests; stdio uses its own */
};

/* Sends a request without waiting; *stream gets its id. */
int vc_agent_send(struct vc_agent_client *c, const char *method,
                  const char *params_json, uint32_t *stream, vc_error **err);

/* Parses a RESPONSE body: *result gets the "result" value (caller frees
 * the returned tree with yajl_tree_free), or the agent's error is returned
 * as ours.  The body is untrusted: anything malformed is an error. */
int vc_agent_parse_response(const char *method, const char *body,
                            yajl_val *tree, yajl_val *result, vc_error **err);

/* Sends and waits for the response (no DATA frames expected meanwhile). */
int vc_agent_call(struct vc_agent_client *c, const char *method,
                  const char *params_json, yajl_val *tree, yajl_val *result,
                  vc_error **err);

#endif
