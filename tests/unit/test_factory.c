/* The VM factory's pieces that need no VM: the configuration key (what
 * changes it and what does not), the pool's directory, a claim and a status
 * without a pool, and process start times. */
#include <stdlib.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/factory.h"
#include "lib/host/config.h"
#include "lib/host/process.h"
#include "test.h"

static void config(struct vc_config *cfg, const char *run_root) {
  vc_config_init_defaults(cfg);
  free(cfg->hypervisor.accel);
  cfg->hypervisor.accel = xstrdup("tcg");
  free(cfg->agent.transport);
  cfg->agent.transport = xstrdup("hybrid-vsock");
  free(cfg->runtime.run_root);
  cfg->runtime.run_root = xstrdup(run_root);
  cfg->factory.enable = true;
}

static char *key_of(const struct vc_config *cfg) {
  char *key = NULL, *text = NULL;
  vc_error *err = NULL;
  CHECK(vc_factory_key(cfg, &key, &text, &err) == 0);
  free(text);
  vc_error_free(&err);
  return key;
}

TEST(key_follows_what_shapes_the_vm) {
  struct vc_config a, b;
  config(&a, "/tmp/vcrun-test-run");
  config(&b, "/tmp/vcrun-test-run");
  cleanup_free char *ka = key_of(&a), *kb = key_of(&b);
  CHECK(ka != NULL && strlen(ka) == 16 && strspn(ka, "0123456789abcdef") == 16);
  CHECK_STR(ka, kb);
  /* Another kernel path, more memory, another file behind the path. */
  free(b.hypervisor.kernel);
  b.hypervisor.kernel = xstrdup("/tmp/another-vmlinux");
  cleanup_free char *k_kernel = key_of(&b);
  CHECK(strcmp(ka, k_kernel) != 0);
  vc_config_free(&b);
  config(&b, "/tmp/vcrun-test-run");
  b.hypervisor.memory_mib = 512;
  cleanup_free char *k_mem = key_of(&b);
  CHECK(strcmp(ka, k_mem) != 0);
  vc_config_free(&b);
  char path[] = "/tmp/vcrun-key-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  config(&b, "/tmp/vcrun-test-run");
  free(b.hypervisor.initrd);
  b.hypervisor.initrd = xstrdup(path);
  cleanup_free char *k_before = key_of(&b);
  CHECK(write(fd, "x", 1) == 1);
  close(fd);
  cleanup_free char *k_after = key_of(&b);
  CHECK(strcmp(k_before, k_after) != 0);
  unlink(path);
  vc_config_free(&b);
  /* What does not shape the VM does not change the key. */
  config(&b, "/tmp/vcrun-test-run");
  b.factory.pool_size = 7;
  free(b.runtime.state_root);
  b.runtime.state_root = xstrdup("/elsewhere");
  cleanup_free char *k_same = key_of(&b);
  CHECK_STR(ka, k_same);
  vc_config_free(&b);
  vc_config_free(&a);
}

TEST(root_defaults_below_run_root) {
  struct vc_config cfg;
  config(&cfg, "/run/x/s");
  cleanup_free char *root = vc_factory_root(&cfg);
  CHECK_STR(root, "/run/x/s/pool");
  free(cfg.factory.path);
  cfg.factory.path = xstrdup("/var/lib/pool");
  cleanup_free char *given = vc_factory_root(&cfg);
  CHECK_STR(given, "/var/lib/pool");
  vc_config_free(&cfg);
}

TEST(no_pool_means_no_claim) {
  struct vc_config cfg;
  config(&cfg, "/tmp/vcrun-test-no-such-run-root");
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  sb.id = xstrdup("c1");
  sb.dir = xstrdup("/tmp/vcrun-test-no-such-state/c1");
  sb.cfg = &cfg;
  char *why = NULL;
  vc_error *err = NULL;
  CHECK(vc_factory_claim(&sb, NULL, NULL, &why, &err) == 0);
  CHECK(why != NULL && strstr(why, "factory init has not run") != NULL);
  CHECK(err == NULL);
  CHECK(sb.run_dir == NULL);
  free(why);
  why = NULL;
  vc_sandbox_free(&sb);
  struct vc_factory_status st;
  CHECK(vc_factory_status(&cfg, &st, &err) == 0);
  CHECK(!st.pool && st.ready == 0 && st.n_vms == 0);
  vc_factory_status_free(&st);
  CHECK(vc_factory_destroy(&cfg, &err) == 0); /* nothing to do */
  /* No template: nothing to restore from, and why. */
  char *state = NULL, *ram = NULL;
  CHECK(vc_factory_template_copy(&cfg, &state, &ram, &why, &err) == 0);
  CHECK(why == NULL && state == NULL && ram == NULL); /* template off */
  cfg.factory.template_vm = true;
  CHECK(vc_factory_template_copy(&cfg, &state, &ram, &why, &err) == 0);
  CHECK(why != NULL && strstr(why, "no template for key") != NULL);
  CHECK(state == NULL && ram == NULL && err == NULL);
  free(why);
  vc_config_free(&cfg);
}

TEST(start_times) {
  CHECK(vc_pid_start_time(getpid()) > 0);
  CHECK(vc_pid_start_time(getpid()) == vc_pid_start_time(getpid()));
  CHECK(vc_pid_start_time(1) <= vc_pid_start_time(getpid()));
  CHECK(vc_pid_start_time(0) == 0);
  CHECK(vc_pid_start_time(-5) == 0);
}

int main(void) {
  RUN(key_follows_what_shapes_the_vm);
  RUN(root_defaults_below_run_root);
  RUN(no_pool_means_no_claim);
  RUN(start_times);
  return TEST_SUMMARY();
}
