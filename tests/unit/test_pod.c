/* Pods: namespace paths and CRI annotations -> the sandbox to join. */
#include <stdlib.h>
#include <unistd.h>

#include "lib/pod.h"
#include "test.h"
#include "lib/base/util.h"

TEST(proc_ns_paths) {
  long pid = 0;
  const char *name = NULL;
  CHECK(vc_pod_proc_ns_path("/proc/123/ns/ipc", &pid, &name));
  CHECK(pid == 123);
  CHECK_STR(name, "ipc");
  CHECK(!vc_pod_proc_ns_path("/proc/self/ns/ipc", &pid, &name));
  CHECK(!vc_pod_proc_ns_path("/proc/0/ns/ipc", &pid, &name));
  CHECK(!vc_pod_proc_ns_path("/proc/12/ns/", &pid, &name));
  CHECK(!vc_pod_proc_ns_path("/proc/12/ns/a/b", &pid, &name));
  CHECK(!vc_pod_proc_ns_path("/proc/12/task/3/ns/ipc", &pid, &name));
  CHECK(!vc_pod_proc_ns_path("/var/run/netns/x", &pid, &name));
  CHECK(!vc_pod_proc_ns_path("/proc/99999999999999999999/ns/net", &pid, &name));
  CHECK_STR(vc_pod_ns_proc_name("network"), "net");
  CHECK_STR(vc_pod_ns_proc_name("mount"), "mnt");
  CHECK(vc_pod_ns_proc_name("bogus") == NULL);
}

/* Plans container c1 with linux.namespaces and annotations (JSON
 * fragments) against an empty state root; returns the error or NULL. */
static char *plan(const char *namespaces, const char *annotations,
                  struct vc_pod_plan *out) {
  char root[] = "/tmp/vc-pod-test.XXXXXX";
  if (mkdtemp(root) == NULL)
    return xstrdup("mkdtemp");
  struct vc_config cfg = {0};
  cfg.runtime.state_root = root;
  char *json = xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                         "\"annotations\":%s,\"linux\":{\"namespaces\":%s}}",
                         annotations, namespaces);
  struct oci_spec *spec = NULL;
  vc_error *err = NULL;
  char *msg = NULL;
  if (oci_spec_parse(json, "config.json", &spec, &err) < 0 ||
      vc_pod_plan(&cfg, "c1", spec, "config.json", out, &err) < 0)
    msg = xstrdup(err->msg);
  vc_error_free(&err);
  oci_spec_free(spec);
  free(json);
  rmdir(root);
  return msg;
}

static void expect_error(const char *namespaces, const char *annotations,
                         const char *want) {
  struct vc_pod_plan p;
  char *msg = plan(namespaces, annotations, &p);
  CHECK(msg != NULL && strstr(msg, want) != NULL);
  if (msg == NULL || strstr(msg, want) == NULL)
    fprintf(stderr, "  want \"%s\", got: %s\n", want, msg ? msg : "(success)");
  free(msg);
}

TEST(own_sandbox) {
  struct vc_pod_plan p;
  char *msg = plan("[{\"type\":\"pid\"},{\"type\":\"mount\"}]", "{}", &p);
  CHECK(msg == NULL);
  CHECK(p.sandbox_id == NULL && p.joins_json == NULL);
  vc_pod_plan_free(&p);
  free(msg);
  msg = plan("[]", "{\"io.kubernetes.cri.container-type\":\"sandbox\"}", &p);
  CHECK(msg == NULL && p.sandbox_id == NULL);
  vc_pod_plan_free(&p);
  free(msg);
}

TEST(vm_network_namespace) {
  struct vc_pod_plan p;
  char *msg = plan("[{\"type\":\"network\",\"path\":\"/proc/self/ns/net\"}]",
                   "{\"io.kubernetes.cri.container-type\":\"sandbox\"}", &p);
  CHECK(msg == NULL);
  CHECK(p.sandbox_id == NULL && p.joins_json == NULL);
  CHECK_STR(p.vm_netns, "/proc/self/ns/net");
  vc_pod_plan_free(&p);
  free(msg);
}

TEST(annotated_member) {
  struct vc_pod_plan p;
  char *msg = plan("[]", "{\"io.kubernetes.cri-o.ContainerType\":\"container\","
                   "\"io.kubernetes.cri-o.SandboxID\":\"pod\"}", &p);
  CHECK(msg == NULL);
  CHECK_STR(p.sandbox_id, "pod");
  CHECK(p.joins_json == NULL);
  vc_pod_plan_free(&p);
  free(msg);
}

TEST(refusals) {
  expect_error("[]", "{\"io.kubernetes.cri.container-type\":\"pause\"}",
               "neither \"sandbox\" nor \"container\"");
  expect_error("[]", "{\"io.kubernetes.cri.container-type\":\"container\"}",
               "annotations[\"io.kubernetes.cri.sandbox-id\"]: a pod container");
  expect_error("[]", "{\"io.kubernetes.cri.container-type\":\"container\","
               "\"io.kubernetes.cri.sandbox-id\":\"c1\"}", "names itself");
  expect_error("[]", "{\"io.kubernetes.cri.container-type\":\"container\","
               "\"io.kubernetes.cri.sandbox-id\":\"../../etc\"}",
               "\"../../etc\" is not a valid container id");
  expect_error("[{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc\"}]", "{}",
               "linux.namespaces[0].path: `/proc/1/ns/ipc` is not a namespace "
               "of a container in this sandbox");
  expect_error("[{\"type\":\"ipc\",\"path\":\"/proc/1/ns/uts\"}]", "{}",
               "does not name a namespace of type ipc");
  expect_error("[{\"type\":\"network\",\"path\":\"/var/run/netns/x\"}]", "{}",
               "linux.namespaces[0].path: open `/var/run/netns/x`: No such file");
  expect_error("[{\"type\":\"network\",\"path\":\"/proc/self/ns/ipc\"}]", "{}",
               "`/proc/self/ns/ipc` is not a network namespace");
  /* A host netns is the VM's only for a container that boots one. */
  expect_error("[{\"type\":\"network\",\"path\":\"/proc/self/ns/net\"}]",
               "{\"io.kubernetes.cri.container-type\":\"container\","
               "\"io.kubernetes.cri.sandbox-id\":\"pod\"}",
               "not a namespace of a container in this sandbox");
  expect_error("[{\"type\":\"pid\"},{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]",
               "{}", "linux.namespaces[1].path: joining a user namespace");
  expect_error("[{\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}]", "{}",
               "joining a mount namespace");
}

int main(void) {
  RUN(proc_ns_paths);
  RUN(own_sandbox);
  RUN(annotated_member);
  RUN(vm_network_namespace);
  RUN(refusals);
  return TEST_SUMMARY();
}
