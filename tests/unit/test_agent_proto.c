/* The agent's method table and its codec: every message round-trips, error
 * replies carry their code, and hostile replies (wrong types, missing
 * fields, nesting a million levels deep) are errors, never crashes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/agent_client.h"
#include "lib/base/agent_proto.h"
#include "test.h"

TEST(table_is_complete_and_names_are_unique) {
  for (int m = 0; m < VC_AGENT_N_METHODS; m++) {
    CHECK(vc_agent_methods[m].name != NULL);
    CHECK(vc_agent_methods[m].request != NULL && vc_agent_methods[m].response != NULL);
    CHECK(vc_agent_method_lookup(vc_agent_methods[m].name) == m);
  }
  CHECK(vc_agent_method_lookup("NoSuchMethod") == -1);
}

TEST(create_request_round_trips) {
  struct vc_msg_create_container in = {
      .id = "c1", .cgroup = "/c1", .rootfs_tag = "vcfs0", .bundle = "/b\"q",
      .spec = "{\"ociVersion\":\"1.0.2\"}", .join_namespaces = "{\"ipc\":\"p\"}",
      .vm_network_namespace = true, .stdio_stream = 2, .share_name = "c1-x7"};
  char *body = vc_proto_encode_request(VC_AGENT_CREATE_CONTAINER, &in);
  enum vc_agent_method m;
  void *p = NULL;
  int code = -1;
  vc_error *err = NULL;
  CHECK(vc_proto_decode_request(body, &m, &p, &code, &err) == 0 && code == 0);
  CHECK(m == VC_AGENT_CREATE_CONTAINER);
  struct vc_msg_create_container *out = p;
  CHECK_STR(out->id, "c1");
  CHECK_STR(out->bundle, "/b\"q");
  CHECK_STR(out->spec, in.spec);
  CHECK_STR(out->join_namespaces, "{\"ipc\":\"p\"}");
  CHECK(out->vm_network_namespace && out->stdio_stream == 2);
  CHECK_STR(out->share_name, "c1-x7");
  vc_proto_msg_free(vc_agent_methods[m].request, p);
  free(p);
  free(body);
}

TEST(optional_fields_may_be_absent) {
  struct vc_msg_process_ref in = {"c1", NULL};
  char *body = vc_proto_encode_request(VC_AGENT_WAIT_PROCESS, &in);
  CHECK_STR(body, "{\"method\":\"WaitProcess\",\"params\":{\"id\":\"c1\"}}");
  enum vc_agent_method m;
  void *p = NULL;
  int code;
  vc_error *err = NULL;
  CHECK(vc_proto_decode_request(body, &m, &p, &code, &err) == 0);
  CHECK(((struct vc_msg_process_ref *)p)->exec_id == NULL);
  vc_proto_msg_free(vc_agent_methods[m].request, p);
  free(p);
  free(body);
}

TEST(bad_requests_get_codes) {
  const struct {
    const char *body;
    int code;
  } cases[] = {
      {"{", EINVAL},
      {"{\"method\":\"Hello\"}", EINVAL},
      {"{\"method\":\"Nope\",\"params\":{}}", EPROTO},
      {"{\"method\":\"StartContainer\",\"params\":{}}", EINVAL},
      {"{\"method\":\"StartContainer\",\"params\":{\"id\":5}}", EINVAL},
      {"{\"method\":\"SignalProcess\",\"params\":{\"id\":\"a\",\"signal\":-1}}", EINVAL},
      {"{\"method\":\"SignalProcess\",\"params\":{\"id\":\"a\",\"signal\":4294967296}}", EINVAL},
      {"{\"method\":\"UpdateContainer\",\"params\":{\"id\":\"a\",\"resources\":\"x\"}}", EINVAL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    enum vc_agent_method m;
    void *p = (void *)1;
    int code = 0;
    vc_error *err = NULL;
    CHECK(vc_proto_decode_request(cases[i].body, &m, &p, &code, &err) < 0);
    CHECK(code == cases[i].code && p == NULL && err != NULL);
    vc_error_free(&err);
  }
}

TEST(results_round_trip) {
  struct vc_msg_process_info procs[] = {
      {.pid = 1, .cmd = "sh"},
      {.pid = 42, .cmd = "sleep 1", .ppid = 1, .uid = 1000,
       .start_time = 1700000000, .cpu_ms = 1500, .tty = "pts/0", .comm = "sleep"}};
  struct vc_msg_process_list in = {procs, 2};
  char *body = vc_proto_encode_result(VC_AGENT_LIST_PROCESSES, &in);
  struct vc_msg_process_list out = {0};
  vc_error *err = NULL;
  CHECK(vc_proto_decode_response(VC_AGENT_LIST_PROCESSES, body, &out, &err) == 0);
  CHECK(out.n_processes == 2 && out.processes[1].pid == 42);
  CHECK_STR(out.processes[1].cmd, "sleep 1");
  CHECK(out.processes[1].ppid == 1 && out.processes[1].uid == 1000 &&
        out.processes[1].start_time == 1700000000 &&
        out.processes[1].cpu_ms == 1500);
  CHECK_STR(out.processes[1].tty, "pts/0");
  CHECK_STR(out.processes[1].comm, "sleep");
  CHECK(out.processes[0].tty == NULL && out.processes[0].ppid == 0);
  vc_agent_result_free(VC_AGENT_LIST_PROCESSES, &out);
  CHECK(out.processes == NULL && out.n_processes == 0);
  free(body);

  struct vc_msg_stats_result stats_in = {"{\"memory\":{\"usage\":5}}"}, stats = {0};
  body = vc_proto_encode_result(VC_AGENT_STATS_CONTAINER, &stats_in);
  CHECK(vc_proto_decode_response(VC_AGENT_STATS_CONTAINER, body, &stats, &err) == 0);
  CHECK_STR(stats.stats, "{\"memory\":{\"usage\":5}}");
  vc_agent_result_free(VC_AGENT_STATS_CONTAINER, &stats);
  free(body);
}

TEST(error_replies_carry_the_code) {
  char *body = vc_proto_encode_error(ENOENT, "container `x` does not exist");
  vc_error *err = NULL;
  CHECK(vc_proto_decode_response(VC_AGENT_DELETE_CONTAINER, body, NULL, &err) < 0);
  CHECK(err != NULL && err->errnum == ENOENT);
  CHECK(err != NULL && strcmp(err->msg, "container `x` does not exist") == 0);
  vc_error_free(&err);
  free(body);
  /* A code out of errno's range is not trusted. */
  CHECK(vc_proto_decode_response(VC_AGENT_DELETE_CONTAINER,
                                 "{\"error\":{\"code\":99999,\"message\":\"m\"}}",
                                 NULL, &err) < 0);
  CHECK(err != NULL && err->errnum == 0);
  vc_error_free(&err);
}

TEST(hostile_replies_are_errors) {
  const struct {
    enum vc_agent_method m;
    const char *body;
  } hostile[] = {
      {VC_AGENT_WAIT_PROCESS, ""},
      {VC_AGENT_WAIT_PROCESS, "[1]"},
      {VC_AGENT_WAIT_PROCESS, "{\"result\":5}"},
      {VC_AGENT_WAIT_PROCESS, "{\"x\":{}}"},
      {VC_AGENT_WAIT_PROCESS, "{\"result\":"},
      {VC_AGENT_WAIT_PROCESS, "{\"result\":{\"exit_status\":\"3\"}}"},
      {VC_AGENT_WAIT_PROCESS, "{\"result\":{\"exit_status\":-1}}"},
      {VC_AGENT_WAIT_PROCESS, "{\"result\":{}}"},
      {VC_AGENT_WAIT_PROCESS, "{\"error\":5}"},
      {VC_AGENT_LIST_PROCESSES, "{\"result\":{\"processes\":{}}}"},
      {VC_AGENT_LIST_PROCESSES,
       "{\"result\":{\"processes\":[{\"pid\":1},{\"cmd\":\"x\"}]}}"},
      {VC_AGENT_STATS_CONTAINER, "{\"result\":{\"stats\":[]}}"},
      {VC_AGENT_HELLO, "{\"result\":{\"version\":true}}"},
  };
  for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
    const struct vc_proto_msg *resp = vc_agent_methods[hostile[i].m].response;
    void *out = calloc(1, resp->size);
    vc_error *err = NULL;
    CHECK(vc_proto_decode_response(hostile[i].m, hostile[i].body, out, &err) < 0);
    CHECK(err != NULL);
    vc_error_free(&err);
    free(out); /* a failed decode frees what it had taken */
  }
}

/* The review's crash: a reply nested a million levels deep, under the 1 MiB
 * frame limit, must be an error (the parser's depth guard), not a stack
 * overflow. */
TEST(million_deep_reply_is_an_error) {
  size_t depth = 500000;
  char *body = malloc(2 * depth + 16);
  size_t n = 0;
  n += (size_t)sprintf(body, "{\"result\":");
  for (size_t i = 0; i < depth; i++)
    body[n++] = '[';
  for (size_t i = 0; i < depth; i++)
    body[n++] = ']';
  body[n++] = '}';
  body[n] = '\0';
  CHECK(n < VC_FRAME_MAX);
  vc_error *err = NULL;
  struct vc_msg_wait_result w;
  CHECK(vc_proto_decode_response(VC_AGENT_WAIT_PROCESS, body, &w, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "nested deeper") != NULL);
  vc_error_free(&err);
  enum vc_agent_method m;
  void *p;
  int code;
  CHECK(vc_proto_decode_request(body, &m, &p, &code, &err) < 0 && code == EINVAL);
  vc_error_free(&err);
  free(body);
}

int main(void) {
  RUN(table_is_complete_and_names_are_unique);
  RUN(create_request_round_trips);
  RUN(optional_fields_may_be_absent);
  RUN(bad_requests_get_codes);
  RUN(results_round_trip);
  RUN(error_replies_carry_the_code);
  RUN(hostile_replies_are_errors);
  RUN(million_deep_reply_is_an_error);
  return TEST_SUMMARY();
}
