/* UpdateNetwork: a plan goes through the request's JSON and back unchanged
 * (lib/base/net_msg.h); bad or oversized requests are refused naming what;
 * the sandbox's network section of state.json round-trips
 * (lib/sandbox_net.h), and the path a create takes is decided as the
 * header says. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/net_msg.h"
#include "lib/base/util.h"
#include "lib/sandbox.h"
#include "lib/sandbox_net.h"
#include "tests/unit/test.h"

static const struct vc_proto_msg *request(void) {
  return vc_agent_methods[VC_AGENT_UPDATE_NETWORK].request;
}

static void sample_plan(struct vc_net_info *p) {
  memset(p, 0, sizeof(*p));
  struct vc_net_link *l = &p->links[p->n_links++];
  snprintf(l->name, sizeof(l->name), "eth0");
  vc_mac_parse("02:00:00:00:00:02", l->mac, NULL);
  l->has_mac = true;
  l->mtu = 1400;
  vc_ip_prefix_parse("10.200.0.2/24", &l->addrs[l->n_addrs++], NULL);
  vc_ip_prefix_parse("fd00:200::2/64", &l->addrs[l->n_addrs++], NULL);
  l = &p->links[p->n_links++];
  snprintf(l->name, sizeof(l->name), "eth1");
  vc_mac_parse("02:00:00:00:01:02", l->mac, NULL);
  l->mtu = 1500;
  vc_ip_prefix_parse("10.201.0.2/24", &l->addrs[l->n_addrs++], NULL);

  struct vc_net_route *r = &p->routes[p->n_routes++];
  r->family = AF_INET;
  vc_ip_prefix_parse("10.210.0.0/16", &r->dst, NULL);
  r->has_gateway = true;
  inet_pton(AF_INET, "10.201.0.1", r->gateway);
  snprintf(r->dev, sizeof(r->dev), "eth1");
  r->mtu = 1300;
  r = &p->routes[p->n_routes++];
  r->family = AF_INET6;
  vc_ip_prefix_parse("::/0", &r->dst, NULL);
  r->has_gateway = true;
  inet_pton(AF_INET6, "fd00:200::1", r->gateway);
  r->has_prefsrc = true;
  inet_pton(AF_INET6, "fd00:200::2", r->prefsrc);
  snprintf(r->dev, sizeof(r->dev), "eth0");
  r->priority = 100;

  struct vc_net_neigh *n = &p->neighs[p->n_neighs++];
  n->family = AF_INET;
  inet_pton(AF_INET, "10.200.0.1", n->ip);
  vc_mac_parse("02:00:00:00:00:01", n->mac, NULL);
  snprintf(n->dev, sizeof(n->dev), "eth0");
}

/* The plan as the agent sees it: encoded, decoded as a request, converted. */
static int through_the_wire(const struct vc_net_info *plan,
                            struct vc_net_info *out, char **body_out,
                            vc_error **err) {
  struct vc_msg_update_network msg = {0};
  vc_net_msg_from_plan(plan, &msg);
  char *body = vc_proto_encode_request(VC_AGENT_UPDATE_NETWORK, &msg);
  vc_proto_msg_free(request(), &msg);
  enum vc_agent_method m;
  void *params = NULL;
  int code = 0;
  int r = vc_proto_decode_request(body, &m, &params, &code, err);
  if (r == 0) {
    CHECK(m == VC_AGENT_UPDATE_NETWORK);
    r = vc_net_msg_to_plan(params, out, err);
    vc_proto_msg_free(request(), params);
    free(params);
  }
  if (body_out != NULL)
    *body_out = body;
  else
    free(body);
  return r;
}

TEST(plan_round_trips) {
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  struct vc_net_info *got = xcalloc(1, sizeof(*got));
  sample_plan(plan);
  vc_error *err = NULL;
  char *body = NULL;
  CHECK(through_the_wire(plan, got, &body, &err) == 0);
  CHECK(strstr(body, "\"method\":\"UpdateNetwork\"") != NULL);
  CHECK(strstr(body, "\"dest\":\"10.210.0.0/16\"") != NULL);
  CHECK(strstr(body, "\"gateway\":\"fd00:200::1\"") != NULL);
  CHECK(got->n_links == 2 && got->n_routes == 2 && got->n_neighs == 1);
  CHECK_STR(got->links[0].name, "eth0");
  CHECK(memcmp(got->links[0].mac, plan->links[0].mac, 6) == 0);
  CHECK(got->links[0].mtu == 1400 && got->links[0].n_addrs == 2);
  CHECK(memcmp(&got->links[0].addrs[1], &plan->links[0].addrs[1],
               sizeof(struct vc_ip_prefix)) == 0);
  CHECK_STR(got->links[1].name, "eth1");
  CHECK(got->routes[0].family == AF_INET && got->routes[0].dst.len == 16);
  CHECK(got->routes[0].has_gateway && !got->routes[0].has_prefsrc);
  CHECK(memcmp(got->routes[0].gateway, plan->routes[0].gateway, 4) == 0);
  CHECK(got->routes[0].mtu == 1300);
  CHECK_STR(got->routes[0].dev, "eth1");
  CHECK(got->routes[1].family == AF_INET6 && got->routes[1].dst.len == 0);
  CHECK(got->routes[1].has_prefsrc && got->routes[1].priority == 100);
  CHECK(memcmp(got->routes[1].prefsrc, plan->routes[1].prefsrc, 16) == 0);
  CHECK(got->neighs[0].family == AF_INET);
  CHECK(memcmp(got->neighs[0].mac, plan->neighs[0].mac, 6) == 0);
  CHECK_STR(got->neighs[0].dev, "eth0");
  free(body);
  free(plan);
  free(got);
}

/* A hand-written request whose one item is bad: the error names it. */
static void refused(const char *params_json, const char *want) {
  cleanup_free char *body =
      xasprintf("{\"method\":\"UpdateNetwork\",\"params\":%s}", params_json);
  enum vc_agent_method m;
  void *params = NULL;
  int code = 0;
  vc_error *err = NULL;
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  int r = vc_proto_decode_request(body, &m, &params, &code, &err);
  if (r == 0)
    r = vc_net_msg_to_plan(params, plan, &err);
  CHECK(r < 0);
  if (err != NULL && strstr(err->msg, want) == NULL) {
    fprintf(stderr, "  want \"%s\" in \"%s\"\n", want, err->msg);
    test_failed_checks++;
  }
  vc_error_free(&err);
  if (params != NULL) {
    vc_proto_msg_free(request(), params);
    free(params);
  }
  free(plan);
}

TEST(bad_requests_name_the_item) {
  refused("{\"interfaces\":[{\"name\":\"eth0\",\"hwaddr\":\"zz\"}]}",
          "interface eth0: `zz` is not a MAC");
  refused("{\"interfaces\":[{\"name\":\"a/b\",\"hwaddr\":\"02:00:00:00:00:01\"}]}",
          "interfaces[0]: bad interface name");
  refused("{\"interfaces\":[{\"name\":\"eth0123456789abcdef\",\"hwaddr\":\"02:00:00:00:00:01\"}]}",
          "bad interface name");
  refused("{\"interfaces\":[{\"name\":\"eth0\",\"hwaddr\":\"02:00:00:00:00:01\",\"mtu\":10}]}",
          "MTU 10 out of range");
  refused("{\"interfaces\":[{\"name\":\"eth0\",\"hwaddr\":\"02:00:00:00:00:01\","
          "\"addresses\":[{\"address\":\"10.0.0.1/40\"}]}]}",
          "address `10.0.0.1/40` is not ADDR/LEN");
  refused("{\"routes\":[{\"dest\":\"10.0.0.0/8\",\"gateway\":\"fd00::1\"}]}",
          "route 10.0.0.0/8: `fd00::1` is of another family");
  refused("{\"routes\":[{\"dest\":\"default\"}]}", "route default: destination");
  refused("{\"routes\":[{\"dest\":\"10.0.0.0/8\",\"scope\":300}]}", "scope 300");
  refused("{\"neighbors\":[{\"ip\":\"10.0.0.1/24\",\"hwaddr\":\"02:00:00:00:00:01\"}]}",
          "neighbour 10.0.0.1/24: `10.0.0.1/24` is not an address");
  /* One more than the plan holds. */
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "interfaces");
  vc_jb_open(&b, '[');
  for (int i = 0; i <= VC_NET_MAX_LINKS; i++)
    vc_jb_raw(&b, "{\"name\":\"eth0\",\"hwaddr\":\"02:00:00:00:00:01\"}");
  vc_jb_close(&b, ']');
  vc_jb_close(&b, '}');
  char *many = vc_jb_take(&b);
  refused(many, "more than 32 interfaces");
  free(many);
}

TEST(empty_request_is_an_empty_plan) {
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  struct vc_net_info *got = xcalloc(1, sizeof(*got));
  vc_error *err = NULL;
  CHECK(through_the_wire(plan, got, NULL, &err) == 0);
  CHECK(got->n_links == 0 && got->n_routes == 0 && got->n_neighs == 0);
  free(plan);
  free(got);
}

TEST(mode_follows_hooks_and_machine) {
  CHECK(vc_sandbox_net_mode(NULL, "tcfilter", true, false) == VC_SANDBOX_NET_NONE);
  CHECK(vc_sandbox_net_mode("/run/netns/p", "none", true, true) == VC_SANDBOX_NET_NONE);
  CHECK(vc_sandbox_net_mode("/run/netns/p", "tcfilter", true, false) == VC_SANDBOX_NET_COLD);
  CHECK(vc_sandbox_net_mode("/run/netns/p", "macvtap", true, true) == VC_SANDBOX_NET_HOT);
  /* microvm, or q35 without root ports: hooks or not, before the boot. */
  CHECK(vc_sandbox_net_mode("/run/netns/p", "tcfilter", false, true) == VC_SANDBOX_NET_COLD);
}

static int save_then_load(const char *json, struct vc_sandbox *sb, vc_error **err) {
  yajl_val v = NULL;
  if (vc_json_parse(json, &v, err) < 0)
    return -1;
  int r = vc_sandbox_net_load_json(sb, v, "state.json", err);
  yajl_tree_free(v);
  return r;
}

TEST(state_section_round_trips) {
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  sb.net = xcalloc(1, sizeof(*sb.net));
  sb.net->plan = xcalloc(1, sizeof(*sb.net->plan));
  for (size_t i = 0; i < VC_NET_MAX_LINKS; i++)
    sb.net->att[i].fd = -1;
  sb.net->model = VC_NET_MODEL_MACVTAP;
  sample_plan(sb.net->plan);
  struct vc_net_attachment *a = &sb.net->att[0];
  a->model = VC_NET_MODEL_MACVTAP;
  snprintf(a->link, sizeof(a->link), "eth0");
  snprintf(a->dev, sizeof(a->dev), "mvt0_vc");
  vc_mac_parse("02:00:00:00:00:02", a->guest_mac, NULL);
  vc_mac_parse("02:00:00:00:00:02", a->link_mac, NULL);
  a->link_noarp = true;
  a->mtu = 1400;
  sb.net->n_att = 1;

  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_sandbox_net_save_json(sb.net, &b);
  vc_jb_close(&b, '}');
  char *json = vc_jb_take(&b);
  struct vc_sandbox loaded = VC_SANDBOX_INIT;
  vc_error *err = NULL;
  CHECK(save_then_load(json, &loaded, &err) == 0);
  CHECK(loaded.net != NULL);
  if (loaded.net != NULL) {
    const struct vc_net_attachment *g = &loaded.net->att[0];
    CHECK(loaded.net->model == VC_NET_MODEL_MACVTAP && loaded.net->n_att == 1);
    CHECK(g->model == VC_NET_MODEL_MACVTAP && g->fd == -1 && g->link_noarp);
    CHECK_STR(g->link, "eth0");
    CHECK_STR(g->dev, "mvt0_vc");
    CHECK(memcmp(g->link_mac, a->link_mac, 6) == 0 && g->mtu == 1400);
    CHECK(loaded.net->plan->n_links == 2);
    CHECK_STR(loaded.net->plan->links[1].name, "eth1");
    CHECK(loaded.net->plan->links[0].n_addrs == 2);
  }
  /* vcrun state's view. */
  struct vc_jb s = {0};
  vc_sandbox_net_state_json(sb.net, &s);
  char *state = vc_jb_take(&s);
  CHECK(strstr(state, "\"model\":\"macvtap\"") != NULL);
  CHECK(strstr(state, "\"addresses\":[\"10.200.0.2/24\",\"fd00:200::2/64\"]") != NULL);
  CHECK(strstr(state, "\"host_device\":\"mvt0_vc\"") != NULL);
  free(state);
  free(json);
  vc_sandbox_net_free(loaded.net);
  vc_sandbox_net_free(sb.net);
}

TEST(state_without_network_or_malformed) {
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  vc_error *err = NULL;
  CHECK(save_then_load("{\"agent\":{}}", &sb, &err) == 0 && sb.net == NULL);
  CHECK(save_then_load("{\"network\":{\"model\":\"bridge\"}}", &sb, &err) < 0);
  vc_error_free(&err);
  CHECK(save_then_load("{\"network\":{\"model\":\"tcfilter\",\"attachments\":"
                       "[{\"model\":\"tcfilter\",\"link\":\"../x\",\"device\":\"tap0_vc\","
                       "\"guest_mac\":\"02:00:00:00:00:01\",\"link_mac\":\"02:00:00:00:00:01\"}]}}",
                       &sb, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "network.attachments[0] malformed") != NULL);
  vc_error_free(&err);
  CHECK(sb.net == NULL);
}

int main(void) {
  RUN(plan_round_trips);
  RUN(bad_requests_name_the_item);
  RUN(empty_request_is_an_empty_plan);
  RUN(mode_follows_hooks_and_machine);
  RUN(state_section_round_trips);
  RUN(state_without_network_or_malformed);
  return TEST_SUMMARY();
}
