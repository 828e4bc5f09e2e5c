/* A sandbox's VM is the configured base plus what its container asks. */
#include <stdint.h>
#include <string.h>

#include "lib/sizing.h"
#include "test.h"

static struct vc_vm_size size_for(unsigned max_vcpus, unsigned max_mib,
                                  const char *resources) {
  struct vc_hypervisor_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.vcpus = 1;
  cfg.memory_mib = 256;
  cfg.max_vcpus = max_vcpus;
  cfg.max_memory_mib = max_mib;
  struct vc_host_size host = {4, 8192};
  struct vc_vm_size size = {0, 0};
  vc_error *err = NULL;
  CHECK(vc_vm_size_for(&cfg, &host, resources, "config.json", &size, &err) == 0);
  CHECK(err == NULL);
  return size;
}

TEST(no_resources_is_the_base) {
  struct vc_vm_size s = size_for(0, 0, NULL);
  CHECK(s.vcpus == 1 && s.memory_mib == 256);
  s = size_for(0, 0, "{}");
  CHECK(s.vcpus == 1 && s.memory_mib == 256);
}

TEST(quota_and_limit_add_to_the_base) {
  struct vc_vm_size s = size_for(0, 0, "{\"cpu\":{\"quota\":150000,\"period\":100000},"
                                       "\"memory\":{\"limit\":536870912}}");
  CHECK(s.vcpus == 3 && s.memory_mib == 768);
  /* runc's default period; a limit that is not whole MiB rounds up. */
  s = size_for(0, 0, "{\"cpu\":{\"quota\":50000},\"memory\":{\"limit\":1000}}");
  CHECK(s.vcpus == 2 && s.memory_mib == 257);
  /* Unlimited (-1) asks nothing. */
  s = size_for(0, 0, "{\"cpu\":{\"quota\":-1},\"memory\":{\"limit\":-1}}");
  CHECK(s.vcpus == 1 && s.memory_mib == 256);
}

TEST(cpuset_counts_without_a_quota) {
  struct vc_vm_size s = size_for(0, 0, "{\"cpu\":{\"cpus\":\"0-1\"}}");
  CHECK(s.vcpus == 3);
  s = size_for(0, 0, "{\"cpu\":{\"cpus\":\"0,2\",\"quota\":100000}}");
  CHECK(s.vcpus == 2); /* the quota wins */
  s = size_for(0, 0, "{\"cpu\":{\"cpus\":\"junk\"}}");
  CHECK(s.vcpus == 1);
}

TEST(capped_by_configuration_then_host) {
  /* The host has 4 CPUs and 8 GiB. */
  struct vc_vm_size s = size_for(0, 0, "{\"cpu\":{\"quota\":1000000},"
                                       "\"memory\":{\"limit\":68719476736}}");
  CHECK(s.vcpus == 4 && s.memory_mib == 8192);
  s = size_for(2, 1024, "{\"cpu\":{\"quota\":1000000},"
                        "\"memory\":{\"limit\":68719476736}}");
  CHECK(s.vcpus == 2 && s.memory_mib == 1024);
}

TEST(malformed_resources_name_the_file) {
  struct vc_hypervisor_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.vcpus = 1;
  cfg.memory_mib = 256;
  struct vc_host_size host = {2, 1024};
  struct vc_vm_size size;
  vc_error *err = NULL;
  CHECK(vc_vm_size_for(&cfg, &host, "{", "/b/config.json", &size, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "/b/config.json: linux.resources") != NULL);
  vc_error_free(&err);
}

/* The pod's VM: the base plus every container's ask; update changes only
 * what it names. */
TEST(asks_add_up_and_updates_name_what_they_change) {
  struct vc_hypervisor_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.vcpus = 1;
  cfg.memory_mib = 256;
  struct vc_host_size host = {4, 8192};
  struct vc_vm_ask sum = {0, 0, false, false}, a;
  vc_error *err = NULL;
  CHECK(vc_vm_ask_for("{\"cpu\":{\"quota\":100000},\"memory\":{\"limit\":134217728}}",
                      "x", &a, &err) == 0);
  CHECK(a.vcpus == 1 && a.memory_mib == 128 && a.has_cpu && a.has_memory);
  vc_vm_ask_add(&sum, &a);
  vc_vm_ask_add(&sum, &a);
  struct vc_vm_size s;
  vc_vm_size_of(&cfg, &host, &sum, &s);
  CHECK(s.vcpus == 3 && s.memory_mib == 512);
  CHECK(vc_vm_ask_for("{\"pids\":{\"limit\":5}}", "x", &a, &err) == 0);
  CHECK(!a.has_cpu && !a.has_memory);
  CHECK(vc_vm_ask_for("{\"memory\":{\"limit\":-1}}", "x", &a, &err) == 0);
  CHECK(a.has_memory && a.memory_mib == 0);
  /* Sums saturate; the host caps. */
  struct vc_vm_ask huge = {UINT32_MAX, UINT32_MAX, true, true};
  vc_vm_ask_add(&sum, &huge);
  CHECK(sum.vcpus == UINT32_MAX && sum.memory_mib == UINT32_MAX);
  vc_vm_size_of(&cfg, &host, &sum, &s);
  CHECK(s.vcpus == 4 && s.memory_mib == 8192);
  /* default_maxvcpus/maxmemory 0 is the host's; never below the base. */
  struct vc_vm_size max;
  vc_vm_size_max(&cfg, &host, &max);
  CHECK(max.vcpus == 4 && max.memory_mib == 8192);
  cfg.max_vcpus = 1;
  cfg.max_memory_mib = 128;
  vc_vm_size_max(&cfg, &host, &max);
  CHECK(max.vcpus == 1 && max.memory_mib == 256);
}

int main(void) {
  RUN(no_resources_is_the_base);
  RUN(quota_and_limit_add_to_the_base);
  RUN(cpuset_counts_without_a_quota);
  RUN(capped_by_configuration_then_host);
  RUN(malformed_resources_name_the_file);
  RUN(asks_add_up_and_updates_name_what_they_change);
  return TEST_SUMMARY();
}
