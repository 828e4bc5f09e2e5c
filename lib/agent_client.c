#include "lib/agent_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/base/util.h"

int vc_agent_send(struct vc_agent_client *c, enum vc_agent_method m,
                  const void *params, uint32_t *stream, vc_error **err) {
  if (c->next_stream == 0 || c->next_stream % 2 == 0)
    c->next_stream = 1;
  uint32_t id = c->next_stream;
  c->next_stream += 2;
  cleanup_free char *body = vc_proto_encode_request(m, params);
  if (vc_frame_write(c->fd, VC_FRAME_REQUEST, 0, id, body, strlen(body), err) < 0)
    return vc_error_wrap(err, "agent %s", vc_agent_methods[m].name);
  if (stream != NULL)
    *stream = id;
  return 0;
}

int vc_agent_call(struct vc_agent_client *c, enum vc_agent_method m,
                  const void *params, void *result, vc_error **err) {
  const char *name = vc_agent_methods[m].name;
  uint32_t stream;
  if (vc_agent_send(c, m, params, &stream, err) < 0)
    return -1;
  for (;;) {
    struct vc_frame_header h;
    cleanup_free char *body = NULL;
    int r = vc_frame_read(c->fd, &h, &body, err);
    if (r < 0)
      return vc_error_wrap(err, "agent %s", name);
    if (r == 0)
      return vc_error_set(err, 0, "agent %s: connection closed by the guest", name);
    if (h.type == VC_FRAME_RESPONSE && h.stream == stream)
      return vc_proto_decode_response(m, body, result, err);
  }
}

int vc_agent_hello(struct vc_agent_client *c, char **kernel, vc_error **err) {
  struct vc_msg_hello_result hello = {0};
  if (vc_agent_call(c, VC_AGENT_HELLO, NULL, &hello, err) < 0)
    return -1;
  int ret = 0;
  if (hello.version != VC_AGENT_PROTOCOL_VERSION) {
    ret = vc_error_set(err, 0, "the guest agent speaks protocol version %u, this "
                       "vcrun speaks version %d: rebuild the guest image "
                       "(make guest) with this vcrun", hello.version,
                       VC_AGENT_PROTOCOL_VERSION);
    if (err != NULL && *err != NULL)
      (*err)->errnum = EPROTO; /* callers stop waiting for this agent */
  } else if (kernel != NULL)
    *kernel = vc_steal(&hello.kernel);
  vc_agent_result_free(VC_AGENT_HELLO, &hello);
  return ret;
}

void vc_agent_result_free(enum vc_agent_method m, void *result) {
  vc_proto_msg_free(vc_agent_methods[m].response, result);
}

int vc_agent_set_timeout(struct vc_agent_client *c, unsigned timeout_ms,
                         vc_error **err) {
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
      setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
    return vc_error_set(err, errno, "agent connection: set a timeout");
  return 0;
}
