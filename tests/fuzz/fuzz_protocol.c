/* Feeds arbitrary bytes to the host's side of the agent protocol as a
 * hostile guest would send them: the frame decoder, then every method's
 * response decoder on each body; and, for the agent's side, the request
 * decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/agent_client.h"
#include "lib/base/agent_proto.h"
#include "lib/base/net_msg.h"
#include "lib/base/protocol.h"
#include "lib/base/util.h"

/* Each body is decoded as the response of one method (picked by the
 * input's first byte: one parse per body keeps the fuzzer fast on the 1 MiB
 * seeds) and as a request. */
static void decode_body(const char *body, int method) {
  {
    const struct vc_proto_msg *resp = vc_agent_methods[method].response;
    void *result = xcalloc(1, resp->size);
    vc_error *err = NULL;
    if (vc_proto_decode_response((enum vc_agent_method)method, body, result, &err) == 0)
      vc_agent_result_free((enum vc_agent_method)method, result);
    vc_error_free(&err);
    free(result);
  }
  enum vc_agent_method m;
  void *params = NULL;
  int code;
  vc_error *err = NULL;
  if (vc_proto_decode_request(body, &m, &params, &code, &err) == 0) {
    if (m == VC_AGENT_UPDATE_NETWORK) {
      /* The agent turns it into the plan it applies. */
      struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
      vc_error *perr = NULL;
      vc_net_msg_to_plan(params, plan, &perr);
      vc_error_free(&perr);
      free(plan);
    }
    vc_proto_msg_free(vc_agent_methods[m].request, params);
    free(params);
  }
  vc_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The input as one body... */
  int method = size > 0 ? data[0] % VC_AGENT_N_METHODS : 0;
  char *text = xcalloc(1, size + 1);
  memcpy(text, data, size);
  decode_body(text, method);
  free(text);
  /* ...and as a byte stream of frames, fed in two parts. */
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  size_t half = size / 2;
  if (vc_frame_decoder_feed(&d, data, half, &err) == 0 &&
      vc_frame_decoder_feed(&d, data + half, size - half, &err) == 0) {
    struct vc_frame_header h;
    char *body;
    while (vc_frame_decoder_next(&d, &h, &body, &err) == 1) {
      decode_body(body, method);
      free(body);
    }
  }
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
  return 0;
}
