#include "lib/base/agent_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/util.h"

/* Field descriptors: FIELD(struct, member, type, required). */
#define FIELD(s, m, t, req) {#m, VC_PT_##t, offsetof(struct s, m), req, NULL, 0}
#define LIST(s, m, elem, count)                                                \
  {#m, VC_PT_LIST, offsetof(struct s, m), false, &(elem), offsetof(struct s, count)}
#define MSG(s, fields) {#s, sizeof(struct s), fields, N_ELEMS(fields)}
#define EMPTY_MSG(s) {#s, sizeof(struct s), NULL, 0}

static const struct vc_proto_msg msg_empty = EMPTY_MSG(vc_msg_empty);

static const struct vc_proto_field container_fields[] = {
    FIELD(vc_msg_container, id, STR, true),
};
static const struct vc_proto_msg msg_container =
    MSG(vc_msg_container, container_fields);

static const struct vc_proto_field process_ref_fields[] = {
    FIELD(vc_msg_process_ref, id, STR, true),
    FIELD(vc_msg_process_ref, exec_id, STR, false),
};
static const struct vc_proto_msg msg_process_ref =
    MSG(vc_msg_process_ref, process_ref_fields);

static const struct vc_proto_field hello_result_fields[] = {
    FIELD(vc_msg_hello_result, version, U32, true),
    FIELD(vc_msg_hello_result, kernel, STR, false),
};
static const struct vc_proto_msg msg_hello_result =
    MSG(vc_msg_hello_result, hello_result_fields);

static const struct vc_proto_field create_container_fields[] = {
    FIELD(vc_msg_create_container, id, STR, true),
    FIELD(vc_msg_create_container, cgroup, STR, true),
    FIELD(vc_msg_create_container, rootfs_tag, STR, true),
    FIELD(vc_msg_create_container, bundle, STR, false),
    FIELD(vc_msg_create_container, spec, STR, true),
    FIELD(vc_msg_create_container, join_namespaces, JSON, false),
    FIELD(vc_msg_create_container, vm_network_namespace, BOOL, false),
    FIELD(vc_msg_create_container, vm_network, BOOL, false),
    FIELD(vc_msg_create_container, stdio_stream, U32, false),
    FIELD(vc_msg_create_container, share_name, STR, false),
};
static const struct vc_proto_msg msg_create_container =
    MSG(vc_msg_create_container, create_container_fields);

static const struct vc_proto_field exec_process_fields[] = {
    FIELD(vc_msg_exec_process, id, STR, true),
    FIELD(vc_msg_exec_process, exec_id, STR, true),
    FIELD(vc_msg_exec_process, process, STR, true),
    FIELD(vc_msg_exec_process, stdio_stream, U32, false),
};
static const struct vc_proto_msg msg_exec_process =
    MSG(vc_msg_exec_process, exec_process_fields);

static const struct vc_proto_field attach_stdio_fields[] = {
    FIELD(vc_msg_attach_stdio, id, STR, true),
    FIELD(vc_msg_attach_stdio, stdio_stream, U32, true),
};
static const struct vc_proto_msg msg_attach_stdio =
    MSG(vc_msg_attach_stdio, attach_stdio_fields);

static const struct vc_proto_field resize_terminal_fields[] = {
    FIELD(vc_msg_resize_terminal, id, STR, true),
    FIELD(vc_msg_resize_terminal, exec_id, STR, false),
    FIELD(vc_msg_resize_terminal, rows, U32, true),
    FIELD(vc_msg_resize_terminal, cols, U32, true),
};
static const struct vc_proto_msg msg_resize_terminal =
    MSG(vc_msg_resize_terminal, resize_terminal_fields);

static const struct vc_proto_field wait_result_fields[] = {
    FIELD(vc_msg_wait_result, exit_status, U32, true),
};
static const struct vc_proto_msg msg_wait_result =
    MSG(vc_msg_wait_result, wait_result_fields);

static const struct vc_proto_field signal_process_fields[] = {
    FIELD(vc_msg_signal_process, id, STR, true),
    FIELD(vc_msg_signal_process, exec_id, STR, false),
    FIELD(vc_msg_signal_process, signal, U32, true),
    FIELD(vc_msg_signal_process, all, BOOL, false),
};
static const struct vc_proto_msg msg_signal_process =
    MSG(vc_msg_signal_process, signal_process_fields);

static const struct vc_proto_field state_result_fields[] = {
    FIELD(vc_msg_state_result, status, STR, true),
    FIELD(vc_msg_state_result, pid, I64, false),
    FIELD(vc_msg_state_result, exited, BOOL, false),
    FIELD(vc_msg_state_result, exit_status, U32, false),
    FIELD(vc_msg_state_result, oom_kills, U32, false),
};
static const struct vc_proto_msg msg_state_result =
    MSG(vc_msg_state_result, state_result_fields);

static const struct vc_proto_field process_info_fields[] = {
    FIELD(vc_msg_process_info, pid, I64, true),
    FIELD(vc_msg_process_info, cmd, STR, false),
    FIELD(vc_msg_process_info, ppid, I64, false),
    FIELD(vc_msg_process_info, uid, I64, false),
    FIELD(vc_msg_process_info, start_time, I64, false),
    FIELD(vc_msg_process_info, cpu_ms, I64, false),
    FIELD(vc_msg_process_info, tty, STR, false),
    FIELD(vc_msg_process_info, comm, STR, false),
};
static const struct vc_proto_msg msg_process_info =
    MSG(vc_msg_process_info, process_info_fields);

static const struct vc_proto_field process_list_fields[] = {
    LIST(vc_msg_process_list, processes, msg_process_info, n_processes),
};
static const struct vc_proto_msg msg_process_list =
    MSG(vc_msg_process_list, process_list_fields);

static const struct vc_proto_field update_container_fields[] = {
    FIELD(vc_msg_update_container, id, STR, true),
    FIELD(vc_msg_update_container, resources, JSON, true),
};
static const struct vc_proto_msg msg_update_container =
    MSG(vc_msg_update_container, update_container_fields);

static const struct vc_proto_field stats_result_fields[] = {
    FIELD(vc_msg_stats_result, stats, JSON, true),
};
static const struct vc_proto_msg msg_stats_result =
    MSG(vc_msg_stats_result, stats_result_fields);

static const struct vc_proto_field net_address_fields[] = {
    FIELD(vc_msg_net_address, address, STR, true),
};
static const struct vc_proto_msg msg_net_address =
    MSG(vc_msg_net_address, net_address_fields);

static const struct vc_proto_field net_interface_fields[] = {
    FIELD(vc_msg_net_interface, name, STR, true),
    FIELD(vc_msg_net_interface, hwaddr, STR, true),
    FIELD(vc_msg_net_interface, mtu, U32, false),
    LIST(vc_msg_net_interface, addresses, msg_net_address, n_addresses),
};
static const struct vc_proto_msg msg_net_interface =
    MSG(vc_msg_net_interface, net_interface_fields);

static const struct vc_proto_field net_route_fields[] = {
    FIELD(vc_msg_net_route, dest, STR, true),
    FIELD(vc_msg_net_route, gateway, STR, false),
    FIELD(vc_msg_net_route, source, STR, false),
    FIELD(vc_msg_net_route, device, STR, false),
    FIELD(vc_msg_net_route, mtu, U32, false),
    FIELD(vc_msg_net_route, metric, U32, false),
    FIELD(vc_msg_net_route, scope, U32, false),
    FIELD(vc_msg_net_route, flags, U32, false),
};
static const struct vc_proto_msg msg_net_route =
    MSG(vc_msg_net_route, net_route_fields);

static const struct vc_proto_field net_neighbor_fields[] = {
    FIELD(vc_msg_net_neighbor, ip, STR, true),
    FIELD(vc_msg_net_neighbor, hwaddr, STR, true),
    FIELD(vc_msg_net_neighbor, device, STR, false),
};
static const struct vc_proto_msg msg_net_neighbor =
    MSG(vc_msg_net_neighbor, net_neighbor_fields);

static const struct vc_proto_field update_network_fields[] = {
    LIST(vc_msg_update_network, interfaces, msg_net_interface, n_interfaces),
    LIST(vc_msg_update_network, routes, msg_net_route, n_routes),
    LIST(vc_msg_update_network, neighbors, msg_net_neighbor, n_neighbors),
};
static const struct vc_proto_msg msg_update_network =
    MSG(vc_msg_update_network, update_network_fields);
static const struct vc_proto_field reseed_guest_fields[] = {
    FIELD(vc_msg_reseed_guest, entropy, STR, true),
    FIELD(vc_msg_reseed_guest, realtime_sec, I64, true),
    FIELD(vc_msg_reseed_guest, realtime_nsec, U32, true),
};
static const struct vc_proto_msg msg_reseed_guest =
    MSG(vc_msg_reseed_guest, reseed_guest_fields);

static const struct vc_proto_field online_resources_fields[] = {
    FIELD(vc_msg_online_resources, vcpus, U32, true),
};
static const struct vc_proto_msg msg_online_resources =
    MSG(vc_msg_online_resources, online_resources_fields);

static const struct vc_proto_field online_result_fields[] = {
    FIELD(vc_msg_online_result, vcpus, U32, true),
    FIELD(vc_msg_online_result, memory_mib, U32, true),
};
static const struct vc_proto_msg msg_online_result =
    MSG(vc_msg_online_result, online_result_fields);

const struct vc_agent_method_desc vc_agent_methods[VC_AGENT_N_METHODS] = {
    [VC_AGENT_HELLO] = {"Hello", &msg_empty, &msg_hello_result},
    [VC_AGENT_CREATE_CONTAINER] = {"CreateContainer", &msg_create_container, &msg_empty},
    [VC_AGENT_START_CONTAINER] = {"StartContainer", &msg_container, &msg_empty},
    [VC_AGENT_EXEC_PROCESS] = {"ExecProcess", &msg_exec_process, &msg_empty},
    [VC_AGENT_ATTACH_STDIO] = {"AttachStdio", &msg_attach_stdio, &msg_empty},
    [VC_AGENT_RESIZE_TERMINAL] = {"ResizeTerminal", &msg_resize_terminal, &msg_empty},
    [VC_AGENT_WAIT_PROCESS] = {"WaitProcess", &msg_process_ref, &msg_wait_result},
    [VC_AGENT_SIGNAL_PROCESS] = {"SignalProcess", &msg_signal_process, &msg_empty},
    [VC_AGENT_STATE_CONTAINER] = {"StateContainer", &msg_container, &msg_state_result},
    [VC_AGENT_LIST_PROCESSES] = {"ListProcesses", &msg_container, &msg_process_list},
    [VC_AGENT_PAUSE_CONTAINER] = {"PauseContainer", &msg_container, &msg_empty},
    [VC_AGENT_RESUME_CONTAINER] = {"ResumeContainer", &msg_container, &msg_empty},
    [VC_AGENT_UPDATE_CONTAINER] = {"UpdateContainer", &msg_update_container, &msg_empty},
    [VC_AGENT_STATS_CONTAINER] = {"StatsContainer", &msg_container, &msg_stats_result},
    [VC_AGENT_DELETE_CONTAINER] = {"DeleteContainer", &msg_container, &msg_empty},
    [VC_AGENT_DESTROY_SANDBOX] = {"DestroySandbox", &msg_empty, &msg_empty},
    [VC_AGENT_UPDATE_NETWORK] = {"UpdateNetwork", &msg_update_network, &msg_empty},
    [VC_AGENT_RESEED_GUEST] = {"ReseedGuest", &msg_reseed_guest, &msg_empty},
    [VC_AGENT_ONLINE_RESOURCES] = {"OnlineResources", &msg_online_resources,
                                   &msg_online_result},
};

int vc_agent_method_lookup(const char *name) {
  for (int m = 0; m < VC_AGENT_N_METHODS; m++)
    if (strcmp(vc_agent_methods[m].name, name) == 0)
      return m;
  return -1;
}

/* ---- Encoding -------------------------------------------------------- */

#define AT(base, off, type) ((type *)((char *)(base) + (off)))
#define AT_CONST(base, off, type) ((const type *)((const char *)(base) + (off)))

static void encode_msg(struct vc_json_gen *j, const struct vc_proto_msg *msg,
                       const void *value);

static void encode_field(struct vc_json_gen *j, const struct vc_proto_field *f,
                         const void *value) {
  switch (f->type) {
  case VC_PT_STR: {
    const char *s = *AT_CONST(value, f->offset, char *);
    if (s == NULL)
      return; /* absent */
    vc_json_gen_key(j, f->name);
    vc_json_gen_str(j, s);
    return;
  }
  case VC_PT_JSON: {
    const char *text = *AT_CONST(value, f->offset, char *);
    yajl_val tree = NULL;
    vc_error *e = NULL;
    if (text == NULL || vc_json_parse(text, &tree, &e) < 0) {
      /* Our own caller passed text that is not JSON: leave it out, so the
       * peer names the missing field rather than a broken document. */
      vc_error_free(&e);
      return;
    }
    vc_json_gen_key(j, f->name);
    vc_json_gen_value(j, tree);
    yajl_tree_free(tree);
    return;
  }
  case VC_PT_U32:
    vc_json_gen_key(j, f->name);
    vc_json_gen_uint(j, *AT_CONST(value, f->offset, uint32_t));
    return;
  case VC_PT_I64:
    vc_json_gen_key(j, f->name);
    vc_json_gen_int(j, *AT_CONST(value, f->offset, int64_t));
    return;
  case VC_PT_BOOL:
    vc_json_gen_key(j, f->name);
    vc_json_gen_bool(j, *AT_CONST(value, f->offset, bool));
    return;
  case VC_PT_LIST: {
    const char *items = *AT_CONST(value, f->offset, char *);
    size_t n = *AT_CONST(value, f->count_offset, size_t);
    vc_json_gen_key(j, f->name);
    vc_json_gen_array_open(j);
    for (size_t i = 0; i < n; i++)
      encode_msg(j, f->element, items + i * f->element->size);
    vc_json_gen_array_close(j);
    return;
  }
  }
}

static void encode_msg(struct vc_json_gen *j, const struct vc_proto_msg *msg,
                       const void *value) {
  vc_json_gen_map_open(j);
  for (size_t i = 0; value != NULL && i < msg->n_fields; i++)
    encode_field(j, &msg->fields[i], value);
  vc_json_gen_map_close(j);
}

static char *finish(struct vc_json_gen *j) {
  char *out = NULL;
  vc_error *e = NULL;
  if (vc_json_gen_finish(j, &out, &e) < 0)
    abort(); /* cannot happen: no UTF-8 validation, depth bounded by the table */
  return out;
}

char *vc_proto_encode_request(enum vc_agent_method m, const void *params) {
  struct vc_json_gen j;
  vc_json_gen_init(&j, NULL);
  vc_json_gen_map_open(&j);
  vc_json_gen_key(&j, "method");
  vc_json_gen_str(&j, vc_agent_methods[m].name);
  vc_json_gen_key(&j, "params");
  encode_msg(&j, vc_agent_methods[m].request, params);
  vc_json_gen_map_close(&j);
  return finish(&j);
}

char *vc_proto_encode_result(enum vc_agent_method m, const void *result) {
  struct vc_json_gen j;
  vc_json_gen_init(&j, NULL);
  vc_json_gen_map_open(&j);
  vc_json_gen_key(&j, "result");
  encode_msg(&j, vc_agent_methods[m].response, result);
  vc_json_gen_map_close(&j);
  return finish(&j);
}

char *vc_proto_encode_error(int code, const char *message) {
  struct vc_json_gen j;
  vc_json_gen_init(&j, NULL);
  vc_json_gen_map_open(&j);
  vc_json_gen_key(&j, "error");
  vc_json_gen_map_open(&j);
  vc_json_gen_key(&j, "code");
  vc_json_gen_int(&j, code);
  vc_json_gen_key(&j, "message");
  vc_json_gen_str(&j, message);
  vc_json_gen_map_close(&j);
  vc_json_gen_map_close(&j);
  return finish(&j);
}

/* ---- Decoding -------------------------------------------------------- */

static int decode_msg(const struct vc_proto_msg *msg, yajl_val obj, void *out,
                      const char *where, vc_error **err);

static int decode_field(const struct vc_proto_field *f, yajl_val v, void *out,
                        const char *where, vc_error **err) {
  switch (f->type) {
  case VC_PT_STR:
    if (!YAJL_IS_STRING(v))
      break;
    *AT(out, f->offset, char *) = xstrdup(YAJL_GET_STRING(v));
    return 0;
  case VC_PT_JSON:
    if (!YAJL_IS_OBJECT(v))
      break;
    return vc_json_serialize(v, AT(out, f->offset, char *), err) < 0
               ? vc_error_wrap(err, "%s: %s", where, f->name)
               : 0;
  case VC_PT_U32: {
    uint64_t n;
    if (vc_json_to_u64(v, UINT32_MAX, &n) != VC_JSON_NUM_OK)
      break;
    *AT(out, f->offset, uint32_t) = (uint32_t)n;
    return 0;
  }
  case VC_PT_I64: {
    int64_t n;
    if (vc_json_to_i64(v, INT64_MIN, INT64_MAX, &n) != VC_JSON_NUM_OK)
      break;
    *AT(out, f->offset, int64_t) = n;
    return 0;
  }
  case VC_PT_BOOL:
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
      break;
    *AT(out, f->offset, bool) = YAJL_IS_TRUE(v);
    return 0;
  case VC_PT_LIST: {
    if (!YAJL_IS_ARRAY(v))
      break;
    size_t n = v->u.array.len;
    char *items = xcalloc(n ? n : 1, f->element->size);
    *AT(out, f->offset, char *) = items;
    for (size_t i = 0; i < n; i++) {
      if (decode_msg(f->element, v->u.array.values[i],
                     items + i * f->element->size, where, err) < 0) {
        /* What is decoded so far is freed with the rest of the message. */
        *AT(out, f->count_offset, size_t) = i + 1;
        return -1;
      }
    }
    *AT(out, f->count_offset, size_t) = n;
    return 0;
  }
  }
  return vc_error_set(err, 0, "%s: field `%s` has the wrong type", where,
                      f->name);
}

static int decode_msg(const struct vc_proto_msg *msg, yajl_val obj, void *out,
                      const char *where, vc_error **err) {
  if (!YAJL_IS_OBJECT(obj))
    return vc_error_set(err, 0, "%s: not an object", where);
  for (size_t i = 0; i < msg->n_fields; i++) {
    const struct vc_proto_field *f = &msg->fields[i];
    yajl_val v = vc_json_get(obj, f->name);
    if (v == NULL || YAJL_IS_NULL(v)) {
      if (f->required)
        return vc_error_set(err, 0, "%s: field `%s` is missing", where, f->name);
      continue;
    }
    if (decode_field(f, v, out, where, err) < 0)
      return -1;
  }
  return 0;
}

void vc_proto_msg_free(const struct vc_proto_msg *msg, void *value) {
  if (value == NULL)
    return;
  for (size_t i = 0; i < msg->n_fields; i++) {
    const struct vc_proto_field *f = &msg->fields[i];
    if (f->type == VC_PT_STR || f->type == VC_PT_JSON) {
      free(*AT(value, f->offset, char *));
      *AT(value, f->offset, char *) = NULL;
    } else if (f->type == VC_PT_LIST) {
      char *items = *AT(value, f->offset, char *);
      size_t n = *AT(value, f->count_offset, size_t);
      for (size_t k = 0; items != NULL && k < n; k++)
        vc_proto_msg_free(f->element, items + k * f->element->size);
      free(items);
      *AT(value, f->offset, char *) = NULL;
      *AT(value, f->count_offset, size_t) = 0;
    }
  }
}

int vc_proto_decode_request(const char *body, enum vc_agent_method *method,
                            void **params, int *code, vc_error **err) {
  yajl_val root = NULL;
  *params = NULL;
  *code = EINVAL;
  if (vc_json_parse(body, &root, err) < 0)
    return vc_error_wrap(err, "malformed request");
  int ret = -1;
  const char *name = vc_json_get_str(root, "method");
  yajl_val p = vc_json_get_object(root, "params");
  if (name == NULL || p == NULL) {
    vc_error_set(err, 0, "malformed request: method or params missing");
    goto out;
  }
  int m = vc_agent_method_lookup(name);
  if (m < 0) {
    *code = EPROTO;
    vc_error_set(err, 0, "unknown method `%.64s`", name);
    goto out;
  }
  const struct vc_proto_msg *msg = vc_agent_methods[m].request;
  void *value = xcalloc(1, msg->size);
  if (decode_msg(msg, p, value, vc_agent_methods[m].name, err) < 0) {
    vc_proto_msg_free(msg, value);
    free(value);
    goto out;
  }
  *method = (enum vc_agent_method)m;
  *params = value;
  *code = 0;
  ret = 0;
out:
  yajl_tree_free(root);
  return ret;
}

int vc_proto_decode_response(enum vc_agent_method m, const char *body,
                             void *result, vc_error **err) {
  const char *name = vc_agent_methods[m].name;
  yajl_val root = NULL;
  if (vc_json_parse(body, &root, err) < 0)
    return vc_error_wrap(err, "agent %s: malformed response", name);
  int ret = -1;
  yajl_val e = vc_json_get(root, "error");
  yajl_val r = vc_json_get(root, "result");
  if (!YAJL_IS_OBJECT(root)) {
    vc_error_set(err, 0, "agent %s: malformed response", name);
  } else if (e != NULL) {
    const char *msg = vc_json_get_str(e, "message");
    int64_t code = 0;
    yajl_val c = vc_json_get(e, "code");
    if (c == NULL || vc_json_to_i64(c, 0, 4095, &code) != VC_JSON_NUM_OK)
      code = 0;
    /* The agent's text ends up on a terminal: bounded and printable. */
    char text[1025];
    size_t n = msg ? strnlen(msg, sizeof(text) - 1) : 0;
    memcpy(text, msg ? msg : "", n);
    n = vc_printable(text, n);
    text[n] = '\0';
    vc_error_set(err, 0, "%s", n ? text : "(the agent gave no message)");
    if (err != NULL && *err != NULL)
      (*err)->errnum = (int)code;
  } else if (r == NULL) {
    vc_error_set(err, 0, "agent %s: response without result", name);
  } else {
    const struct vc_proto_msg *msg = vc_agent_methods[m].response;
    if (result == NULL) {
      ret = YAJL_IS_OBJECT(r)
                ? 0
                : vc_error_set(err, 0, "agent %s: result is not an object", name);
    } else {
      memset(result, 0, msg->size);
      cleanup_free char *where = xasprintf("agent %s result", name);
      ret = decode_msg(msg, r, result, where, err);
      if (ret < 0)
        vc_proto_msg_free(msg, result);
    }
  }
  yajl_tree_free(root);
  return ret;
}
