#include "lib/agent_client.h"

#include <string.h>

#include "lib/base/util.h"

int vc_agent_send(struct vc_agent_client *c, const char *method,
                  const char *params_json, uint32_t *stream, vc_error **err) {
  if (c->next_stream == 0)
    c->next_stream = 1;
  uint32_t id = c->next_stream;
  c->next_stream += 2;
  cleanup_free char *body = vc_proto_request(method, params_json);
  if (vc_frame_write(c->fd, VC_FRAME_REQUEST, 0, id, body, strlen(body), err) < 0)
    return vc_error_wrap(err, "agent %s", method);
  if (stream != NULL)
    *stream = id;
  return 0;
}

int vc_agent_parse_response(const char *method, const char *body,
                            yajl_val *tree, yajl_val *result, vc_error **err) {
  char perr[256];
  yajl_val v = yajl_tree_parse(body, perr, sizeof(perr));
  if (v == NULL || !YAJL_IS_OBJECT(v)) {
    yajl_tree_free(v);
    return vc_error_set(err, 0, "agent %s: malformed response", method);
  }
  const char *err_path[] = {"error", NULL};
  const char *res_path[] = {"result", NULL};
  yajl_val e = yajl_tree_get(v, err_path, yajl_t_any);
  if (e != NULL) {
    const char *msg = YAJL_IS_STRING(e) ? YAJL_GET_STRING(e) : "(no message)";
    vc_error_set(err, 0, "%s", msg);
    yajl_tree_free(v);
    return -1;
  }
  yajl_val r = yajl_tree_get(v, res_path, yajl_t_object);
  if (r == NULL) {
    yajl_tree_free(v);
    return vc_error_set(err, 0, "agent %s: response without result", method);
  }
  *tree = v;
  if (result != NULL)
    *result = r;
  return 0;
}

int vc_agent_call(struct vc_agent_client *c, const char *method,
                  const char *params_json, yajl_val *tree, yajl_val *result,
                  vc_error **err) {
  uint32_t stream;
  if (vc_agent_send(c, method, params_json, &stream, err) < 0)
    return -1;
  for (;;) {
    struct vc_frame_header h;
    char *body = NULL;
    int r = vc_frame_read(c->fd, &h, &body, err);
    if (r < 0)
      return vc_error_wrap(err, "agent %s", method);
    if (r == 0)
      return vc_error_set(err, 0, "agent %s: connection closed by the guest",
                          method);
    if (h.type == VC_FRAME_RESPONSE && h.stream == stream) {
      yajl_val t = NULL;
      int pr = vc_agent_parse_response(method, body, &t, result, err);
      free(body);
      if (pr < 0)
        return -1;
      if (tree != NULL)
        *tree = t;
      else
        yajl_tree_free(t);
      return 0;
    }
    free(body); /* not ours: callers that expect DATA use the decoder */
  }
}
