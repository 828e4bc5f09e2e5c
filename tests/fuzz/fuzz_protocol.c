/* Feeds arbitrary bytes to the agent-protocol decoder and the response
 * parser, as a hostile guest would send them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/agent_client.h"
#include "lib/base/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct vc_frame_decoder d = {0};
  vc_error *err = NULL;
  /* Split the input in two feeds to exercise partial frames. */
  size_t half = size / 2;
  if (vc_frame_decoder_feed(&d, data, half, &err) == 0 &&
      vc_frame_decoder_feed(&d, data + half, size - half, &err) == 0) {
    struct vc_frame_header h;
    char *body;
    while (vc_frame_decoder_next(&d, &h, &body, &err) == 1) {
      yajl_val tree = NULL, result = NULL;
      if (vc_agent_parse_response("Fuzz", body, &tree, &result, &err) == 0)
        yajl_tree_free(tree);
      vc_error_free(&err);
      free(body);
    }
  }
  vc_error_free(&err);
  vc_frame_decoder_free(&d);
  return 0;
}
