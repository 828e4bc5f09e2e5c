/* configuration.toml loading: defaults, overrides, strictness (unknown
 * tables and keys, types, ranges, allowed words) and the shipped file. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/host/config.h"
#include "test.h"
#include "lib/host/toml.h"
#include "lib/base/util.h"

#ifndef VC_DATADIR
#define VC_DATADIR "/usr/local/share"
#endif
#ifndef VC_LIBEXECDIR
#define VC_LIBEXECDIR "/usr/local/libexec"
#endif

static void check_defaults(const struct vc_config *c) {
  CHECK_STR(c->hypervisor.type, "qemu");
  CHECK_STR(c->hypervisor.path, "/usr/bin/qemu-system-x86_64");
  CHECK_STR(c->hypervisor.kernel, VC_DATADIR "/vcrun/vmlinux");
  CHECK_STR(c->hypervisor.initrd, VC_DATADIR "/vcrun/initramfs.cpio");
  CHECK_STR(c->hypervisor.machine_type, "q35");
  CHECK(c->hypervisor.vcpus == 1);
  CHECK(c->hypervisor.memory_mib == 256);
  CHECK(c->hypervisor.max_vcpus == 0);
  CHECK(c->hypervisor.max_memory_mib == 0);
  CHECK(c->hypervisor.memory_slots == 10);
  CHECK_STR(c->hypervisor.vsock_backend, VC_LIBEXECDIR "/vcrun-vsock-backend");
  CHECK_STR(c->hypervisor.accel, "auto");
  CHECK_STR(c->hypervisor.kernel_params, "");
  CHECK_STR(c->hypervisor.virtiofsd, "/usr/lib/qemu/virtiofsd");
  CHECK_STR(c->hypervisor.virtiofs_cache, "auto");
  CHECK(c->agent.boot_timeout_ms == 30000);
  CHECK(c->agent.request_timeout_ms == 30000);
  CHECK_STR(c->agent.transport, "auto");
  CHECK_STR(c->runtime.log_level, "warn");
  CHECK_STR(c->runtime.lsm_labels, "warn");
  CHECK(c->runtime.host_cgroups);
  CHECK(c->runtime.host_cgroup_overhead_mib == 384);
  CHECK_STR(c->runtime.state_root, "/run/vcrun");
  CHECK_STR(c->runtime.run_root, "/run/vcrun/s");
  CHECK(c->hypervisor.pcie_root_ports == 2);
  CHECK_STR(c->network.model, "tcfilter");
  CHECK(!c->factory.enable);
  CHECK(c->factory.pool_size == 2);
  CHECK(!c->factory.template_vm);
  CHECK_STR(c->factory.path, "");
}

static int is_zeroed(const struct vc_config *c) {
  static const struct vc_config zero;
  return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* True when text fails with exactly the message want, leaving cfg empty. */
static int fails_with(const char *text, const char *want) {
  struct vc_config cfg;
  vc_error *err = NULL;
  int r = vc_config_parse("c.toml", text, &cfg, &err);
  int ok =
      r < 0 && err != NULL && strcmp(err->msg, want) == 0 && is_zeroed(&cfg);
  if (!ok)
    fprintf(stderr, "  want \"%s\"\n   got \"%s\"\n", want,
            r == 0 ? "success"
            : err  ? err->msg
                   : "(no error)");
  if (r == 0)
    vc_config_free(&cfg);
  vc_error_free(&err);
  return ok;
}

#define ERR(text, want) CHECK(fails_with(text, want))

static int parse_ok(const char *text, struct vc_config *cfg) {
  vc_error *err = NULL;
  int r = vc_config_parse("c.toml", text, cfg, &err);
  if (r < 0)
    fprintf(stderr, "  unexpected error: %s\n", err ? err->msg : "(none)");
  vc_error_free(&err);
  return r == 0;
}

TEST(init_defaults) {
  struct vc_config cfg;
  memset(&cfg, 0xa5, sizeof(cfg)); /* init must not read what was there */
  vc_config_init_defaults(&cfg);
  check_defaults(&cfg);
  CHECK(cfg.source == NULL);
  vc_config_free(&cfg);
  CHECK(is_zeroed(&cfg));
  vc_config_free(&cfg); /* a freed config may be freed again */
}

TEST(empty_file_means_defaults) {
  struct vc_config cfg;
  CHECK(parse_ok("# nothing here\n\n", &cfg));
  check_defaults(&cfg);
  CHECK_STR(cfg.source, "c.toml");
  vc_config_free(&cfg);
  CHECK(
      parse_ok("[hypervisor]\n[hypervisor.qemu]\n[agent]\n[runtime]\n", &cfg));
  check_defaults(&cfg);
  vc_config_free(&cfg);
}

TEST(every_key_overrides) {
  struct vc_config cfg;
  CHECK(parse_ok("[hypervisor.qemu]\n"
                 "path = \"/opt/qemu/bin/qemu-system-x86_64\"\n"
                 "kernel = '/k/vmlinux'\n"
                 "initrd = \"/k/initrd.cpio\"\n"
                 "machine_type = \"q35\"\n"
                 "default_vcpus = 4\n"
                 "default_memory = 2_048\n"
                 "accel = \"tcg\"\n"
                 "kernel_params = \"quiet loglevel=3\"\n"
                 "virtiofsd = \"/usr/libexec/virtiofsd\"\n"
                 "virtiofs_cache = \"none\"\n"
                 "default_maxvcpus = 8\n"
                 "default_maxmemory = 8192\n"
                 "memory_slots = 4\n"
                 "vsock_backend = \"/opt/vc/vcrun-vsock-backend\"\n"
                 "pcie_root_ports = 0\n"
                 "[agent]\n"
                 "boot_timeout = 120\n"
                 "request_timeout = 5\n"
                 "transport = \"hybrid-vsock\"\n"
                 "[runtime]\n"
                 "log_level = \"debug\"\n"
                 "state_root = \"/var/run/vc\"\n"
                 "[network]\n"
                 "model = \"macvtap\"\n",
                 &cfg));
  CHECK_STR(cfg.hypervisor.path, "/opt/qemu/bin/qemu-system-x86_64");
  CHECK_STR(cfg.hypervisor.kernel, "/k/vmlinux");
  CHECK_STR(cfg.hypervisor.initrd, "/k/initrd.cpio");
  CHECK_STR(cfg.hypervisor.machine_type, "q35");
  CHECK(cfg.hypervisor.vcpus == 4);
  CHECK(cfg.hypervisor.memory_mib == 2048);
  CHECK_STR(cfg.hypervisor.accel, "tcg");
  CHECK_STR(cfg.hypervisor.kernel_params, "quiet loglevel=3");
  CHECK_STR(cfg.hypervisor.virtiofsd, "/usr/libexec/virtiofsd");
  CHECK_STR(cfg.hypervisor.virtiofs_cache, "none");
  CHECK(cfg.hypervisor.max_vcpus == 8);
  CHECK(cfg.hypervisor.max_memory_mib == 8192);
  CHECK(cfg.hypervisor.memory_slots == 4);
  CHECK_STR(cfg.hypervisor.vsock_backend, "/opt/vc/vcrun-vsock-backend");
  CHECK(cfg.agent.boot_timeout_ms == 120000);
  CHECK(cfg.agent.request_timeout_ms == 5000);
  CHECK_STR(cfg.agent.transport, "hybrid-vsock");
  CHECK_STR(cfg.runtime.log_level, "debug");
  CHECK_STR(cfg.runtime.state_root, "/var/run/vc");
  CHECK(cfg.hypervisor.pcie_root_ports == 0);
  CHECK_STR(cfg.network.model, "macvtap");
  vc_config_free(&cfg);
}

TEST(partial_override_keeps_other_defaults) {
  struct vc_config cfg;
  CHECK(parse_ok("[agent]\nboot_timeout = 300  # slow TCG boots\n", &cfg));
  CHECK(cfg.agent.boot_timeout_ms == 300000);
  cfg.agent.boot_timeout_ms = 30000;
  check_defaults(&cfg);
  vc_config_free(&cfg);
}

TEST(every_allowed_word_is_accepted) {
  const char *const cases[][2] = {
      {"hypervisor.qemu", "machine_type = \"microvm\""},
      {"hypervisor.qemu", "machine_type = \"q35\""},
      {"hypervisor.qemu", "accel = \"auto\""},
      {"hypervisor.qemu", "accel = \"kvm\""},
      {"hypervisor.qemu", "accel = \"tcg\""},
      {"hypervisor.qemu", "virtiofs_cache = \"auto\""},
      {"hypervisor.qemu", "virtiofs_cache = \"always\""},
      {"hypervisor.qemu", "virtiofs_cache = \"none\""},
      {"agent", "transport = \"auto\""},
      {"agent", "transport = \"vhost-vsock\""},
      {"agent", "transport = \"hybrid-vsock\""},
      {"runtime", "log_level = \"debug\""},
      {"runtime", "log_level = \"info\""},
      {"runtime", "log_level = \"warn\""},
      {"runtime", "log_level = \"error\""},
      {"runtime", "lsm_labels = \"warn\""},
      {"runtime", "lsm_labels = \"error\""},
      {"network", "model = \"tcfilter\""},
      {"network", "model = \"macvtap\""},
      {"network", "model = \"none\""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *text = xasprintf("[%s]\n%s\n", cases[i][0], cases[i][1]);
    struct vc_config cfg;
    int ok = parse_ok(text, &cfg);
    CHECK(ok);
    if (ok)
      vc_config_free(&cfg);
    free(text);
  }
}

TEST(range_boundaries_are_accepted) {
  struct vc_config cfg;
  CHECK(parse_ok("[hypervisor.qemu]\ndefault_vcpus = 64\ndefault_memory = 64\n"
                 "[agent]\nboot_timeout = 1\nrequest_timeout = 3600\n",
                 &cfg));
  CHECK(cfg.hypervisor.vcpus == 64 && cfg.hypervisor.memory_mib == 64);
  CHECK(cfg.agent.boot_timeout_ms == 1000);
  CHECK(cfg.agent.request_timeout_ms == 3600000);
  vc_config_free(&cfg);
  CHECK(parse_ok("[hypervisor.qemu]\ndefault_vcpus = 1\n"
                 "default_memory = 65536\n",
                 &cfg));
  CHECK(cfg.hypervisor.vcpus == 1 && cfg.hypervisor.memory_mib == 65536);
  vc_config_free(&cfg);
}

TEST(unknown_tables_and_keys) {
  ERR("[hypervisor.qemu]\nfoo = 1\n",
      "c.toml:2: unknown key \"foo\" in [hypervisor.qemu]");
  ERR("[agent]\n\n\ntimeout = 3\n",
      "c.toml:4: unknown key \"timeout\" in [agent]");
  ERR("[runtime]\nroot = \"/x\"\n",
      "c.toml:2: unknown key \"root\" in [runtime]");
  ERR("[hypervisor]\nqemu_path = \"/x\"\n",
      "c.toml:2: unknown key \"qemu_path\" in [hypervisor]");
  ERR("debug = true\n", "c.toml:1: unknown key \"debug\" at the top level");
  ERR("# c\n[foo]\n", "c.toml:2: unknown table [foo]");
  ERR("[hypervisor.firecracker]\npath = \"/x\"\n",
      "c.toml:1: unknown hypervisor [hypervisor.firecracker] (this vcrun has: qemu)");
  ERR("[agent.extra]\n", "c.toml:1: unknown table [agent.extra]");
  ERR("[hypervisor.qemu.more]\n",
      "c.toml:1: unknown table [hypervisor.qemu.more]");
  ERR("[\"hypervisor.qemu\"]\n",
      "c.toml:1: unknown table [\"hypervisor.qemu\"]");
  /* Case matters. */
  ERR("[Agent]\n", "c.toml:1: unknown table [Agent]");
  ERR("[agent]\nTransport = \"auto\"\n",
      "c.toml:2: unknown key \"Transport\" in [agent]");
}

TEST(tables_given_as_values) {
  ERR("hypervisor = 1\n", "c.toml:1: \"hypervisor\" must be a table");
  ERR("agent = \"x\"\n", "c.toml:1: \"agent\" must be a table");
  ERR("[hypervisor]\nqemu = true\n", "c.toml:2: \"qemu\" must be a table");
}

TEST(wrong_types) {
  ERR("[hypervisor.qemu]\ndefault_vcpus = \"2\"\n",
      "c.toml:2: \"default_vcpus\" must be an integer");
  ERR("[hypervisor.qemu]\ndefault_memory = true\n",
      "c.toml:2: \"default_memory\" must be an integer");
  ERR("[agent]\nboot_timeout = [30]\n",
      "c.toml:2: \"boot_timeout\" must be an integer");
  ERR("[hypervisor.qemu]\naccel = 1\n", "c.toml:2: \"accel\" must be a string");
  ERR("[hypervisor.qemu]\npath = [\"/usr/bin/qemu\"]\n",
      "c.toml:2: \"path\" must be a string");
  ERR("[runtime]\nlog_level = false\n",
      "c.toml:2: \"log_level\" must be a string");
  ERR("[hypervisor.qemu]\n[hypervisor.qemu.path]\n",
      "c.toml:2: \"path\" must be a string");
}

TEST(host_cgroup_keys) {
  struct vc_config cfg;
  CHECK(parse_ok("[runtime]\nhost_cgroups = false\nhost_cgroup_overhead = 0\n",
                 &cfg));
  CHECK(!cfg.runtime.host_cgroups);
  CHECK(cfg.runtime.host_cgroup_overhead_mib == 0);
  vc_config_free(&cfg);
  ERR("[runtime]\nhost_cgroups = \"no\"\n",
      "c.toml:2: \"host_cgroups\" must be true or false");
  ERR("[runtime]\nhost_cgroup_overhead = -1\n",
      "c.toml:2: \"host_cgroup_overhead\" must be between 0 and 1048576");
}

TEST(out_of_range) {
  ERR("[hypervisor.qemu]\ndefault_vcpus = 0\n",
      "c.toml:2: \"default_vcpus\" must be between 1 and 64");
  ERR("[hypervisor.qemu]\ndefault_vcpus = 65\n",
      "c.toml:2: \"default_vcpus\" must be between 1 and 64");
  ERR("[hypervisor.qemu]\ndefault_vcpus = -1\n",
      "c.toml:2: \"default_vcpus\" must be between 1 and 64");
  ERR("[hypervisor.qemu]\ndefault_memory = 63\n",
      "c.toml:2: \"default_memory\" must be between 64 and 65536");
  ERR("[hypervisor.qemu]\ndefault_memory = 65537\n",
      "c.toml:2: \"default_memory\" must be between 64 and 65536");
  ERR("[hypervisor.qemu]\ndefault_maxvcpus = 65\n",
      "c.toml:2: \"default_maxvcpus\" must be between 0 and 64");
  ERR("[hypervisor.qemu]\ndefault_maxmemory = 1048577\n",
      "c.toml:2: \"default_maxmemory\" must be between 0 and 1048576");
  ERR("[hypervisor.qemu]\nmemory_slots = 0\n",
      "c.toml:2: \"memory_slots\" must be between 1 and 256");
  ERR("[hypervisor.qemu]\ndefault_memory = 9223372036854775807\n",
      "c.toml:2: \"default_memory\" must be between 64 and 65536");
  ERR("[agent]\nboot_timeout = 0\n",
      "c.toml:2: \"boot_timeout\" must be between 1 and 3600");
  ERR("[agent]\nrequest_timeout = 3601\n",
      "c.toml:2: \"request_timeout\" must be between 1 and 3600");
  ERR("[agent]\nrequest_timeout = 4294968\n", /* * 1000 would wrap */
      "c.toml:2: \"request_timeout\" must be between 1 and 3600");
}

TEST(words_not_allowed) {
  ERR("[hypervisor.qemu]\naccel = \"xen\"\n",
      "c.toml:2: \"accel\" must be one of auto, kvm, tcg");
  ERR("[hypervisor.qemu]\naccel = \"KVM\"\n",
      "c.toml:2: \"accel\" must be one of auto, kvm, tcg");
  ERR("[hypervisor.qemu]\nmachine_type = \"pc\"\n",
      "c.toml:2: \"machine_type\" must be one of microvm, q35");
  ERR("[hypervisor.qemu]\nvirtiofs_cache = \"never\"\n",
      "c.toml:2: \"virtiofs_cache\" must be one of auto, always, none");
  ERR("[agent]\ntransport = \"\"\n",
      "c.toml:2: \"transport\" must be one of auto, vhost-vsock, hybrid-vsock");
  ERR("[runtime]\nlog_level = \"trace\"\n",
      "c.toml:2: \"log_level\" must be one of debug, info, warn, error");
  ERR("[runtime]\nlsm_labels = \"ignore\"\n",
      "c.toml:2: \"lsm_labels\" must be one of warn, error");
}

TEST(paths_and_strings) {
  ERR("[hypervisor.qemu]\npath = \"qemu-system-x86_64\"\n",
      "c.toml:2: \"path\" must be an absolute path");
  ERR("[hypervisor.qemu]\nkernel = \"\"\n",
      "c.toml:2: \"kernel\" must be an absolute path");
  ERR("[hypervisor.qemu]\ninitrd = \"./initrd\"\n",
      "c.toml:2: \"initrd\" must be an absolute path");
  ERR("[hypervisor.qemu]\nvirtiofsd = \"virtiofsd\"\n",
      "c.toml:2: \"virtiofsd\" must be an absolute path");
  ERR("[hypervisor.qemu]\nvsock_backend = \"vcrun-vsock-backend\"\n",
      "c.toml:2: \"vsock_backend\" must be an absolute path");
  ERR("[runtime]\nstate_root = \"run/vcrun\"\n",
      "c.toml:2: \"state_root\" must be an absolute path");
  ERR("[hypervisor.qemu]\nkernel_params = \"a\\nb\"\n",
      "c.toml:2: \"kernel_params\" must not contain control characters");
  ERR("[hypervisor.qemu]\npath = \"/usr/bin/q\\u007f\"\n",
      "c.toml:2: \"path\" must not contain control characters");
  /* Any other string is fine for kernel_params, including UTF-8. */
  struct vc_config cfg;
  CHECK(parse_ok("[hypervisor.qemu]\nkernel_params = 'a=\"b c\" d=\xc3\xa9'\n",
                 &cfg));
  CHECK_STR(cfg.hypervisor.kernel_params, "a=\"b c\" d=\xc3\xa9");
  vc_config_free(&cfg);
}

TEST(factory_table) {
  struct vc_config cfg;
  CHECK(parse_ok("[factory]\nenable = true\npool_size = 64\ntemplate = false\n"
                 "path = \"/run/vc/pool\"\n", &cfg));
  CHECK(cfg.factory.enable);
  CHECK(cfg.factory.pool_size == 64);
  CHECK(!cfg.factory.template_vm);
  CHECK_STR(cfg.factory.path, "/run/vc/pool");
  vc_config_free(&cfg);
  CHECK(parse_ok("[factory]\npath = \"\"\n", &cfg));
  CHECK_STR(cfg.factory.path, "");
  vc_config_free(&cfg);
  ERR("[factory]\nenable = \"yes\"\n", "c.toml:2: \"enable\" must be true or false");
  ERR("[factory]\ntemplate = 1\n", "c.toml:2: \"template\" must be true or false");
  ERR("[factory]\npool_size = 0\n", "c.toml:2: \"pool_size\" must be between 1 and 64");
  ERR("[factory]\npath = \"pool\"\n", "c.toml:2: \"path\" must be an absolute path");
  ERR("[factory]\nsize = 2\n", "c.toml:2: unknown key \"size\" in [factory]");
}

TEST(toml_errors_carry_the_file_and_line) {
  ERR("[agent]\nboot_timeout = 30\nboot_timeout = 60\n",
      "c.toml:3: duplicate key \"boot_timeout\" (first defined on line 2)");
  ERR("[runtime]\n[agent]\n[runtime]\n",
      "c.toml:3: duplicate table [runtime] (first defined on line 1)");
  ERR("[hypervisor.qemu]\npath = \"/usr/bin/qemu\n",
      "c.toml:2: unterminated string");
  ERR("[agent]\nboot_timeout = 30s\n", "c.toml:2: invalid integer \"30s\"");
  ERR("[agent]\nboot_timeout = 1.5\n", "c.toml:2: floats are not supported");
  ERR("[hypervisor.qemu]\ndefault_memory = 99999999999999999999\n",
      "c.toml:2: integer \"99999999999999999999\" is out of range");
}

static char *temp_file(const char *content, size_t len) {
  char *path = xstrdup("/tmp/vcrun-test-config-XXXXXX");
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK(vc_write_all(fd, content, len) == (ssize_t)len);
    close(fd);
  }
  return path;
}

TEST(load_from_a_file) {
  const char text[] = "[hypervisor.qemu]\ndefault_vcpus = 3\n";
  char *path = temp_file(text, sizeof(text) - 1);
  struct vc_config cfg;
  vc_error *err = NULL;
  CHECK(vc_config_load(path, &cfg, &err) == 0 && err == NULL);
  CHECK_STR(cfg.source, path);
  CHECK(cfg.hypervisor.vcpus == 3);
  CHECK(cfg.hypervisor.memory_mib == 256);
  vc_config_free(&cfg);
  unlink(path);
  free(path);
}

TEST(load_errors_name_the_file) {
  const char text[] = "[agent]\nfoo = 1\n";
  char *path = temp_file(text, sizeof(text) - 1);
  struct vc_config cfg;
  vc_error *err = NULL;
  CHECK(vc_config_load(path, &cfg, &err) < 0 && err != NULL);
  char *want = xasprintf("%s:2: unknown key \"foo\" in [agent]", path);
  CHECK_STR(err ? err->msg : NULL, want);
  CHECK(is_zeroed(&cfg));
  free(want);
  vc_error_free(&err);
  unlink(path);
  free(path);

  /* A NUL byte must not cut the file short silently. */
  const char nul[] = "[agent]\nboot_timeout = 5\0garbage\n";
  path = temp_file(nul, sizeof(nul) - 1);
  CHECK(vc_config_load(path, &cfg, &err) < 0 && err != NULL);
  want = xasprintf("%s:2: NUL byte in the file", path);
  CHECK_STR(err ? err->msg : NULL, want);
  free(want);
  vc_error_free(&err);
  unlink(path);
  free(path);

  CHECK(vc_config_load("/nonexistent/vcrun.toml", &cfg, &err) < 0);
  CHECK(err != NULL && err->errnum == ENOENT);
  CHECK(err != NULL && strstr(err->msg, "/nonexistent/vcrun.toml") != NULL);
  CHECK(is_zeroed(&cfg));
  vc_error_free(&err);
}

/* Replaces every `from` in *s by `to`. */
static void replace_all(char **s, const char *from, const char *to) {
  char *p;
  while ((p = strstr(*s, from)) != NULL) {
    char *n = xasprintf("%.*s%s%s", (int)(p - *s), *s, to, p + strlen(from));
    free(*s);
    *s = n;
  }
}

TEST(shipped_configuration_file) {
  const char *srcdir = getenv("VC_SRCDIR");
  char *path = xasprintf("%s/config/configuration.toml.in",
                         srcdir != NULL ? srcdir : ".");
  char *text = NULL;
  vc_error *err = NULL;
  CHECK(vc_read_file(path, &text, NULL, &err) == 0);
  if (text == NULL) {
    fprintf(stderr, "  %s\n", err ? err->msg : "?");
    vc_error_free(&err);
    free(path);
    return;
  }
  CHECK(strstr(text, "@QEMU_PATH@") != NULL);
  CHECK(strstr(text, "@ASSETS@/vmlinux") != NULL);
  CHECK(strstr(text, "@ASSETS@/initramfs.cpio") != NULL);
  CHECK(strstr(text, "@LIBEXECDIR@/vcrun-vsock-backend") != NULL);
  /* What the Makefile's sed does, with the paths the defaults use. */
  replace_all(&text, "@QEMU_PATH@", "/usr/bin/qemu-system-x86_64");
  replace_all(&text, "@ASSETS@", VC_DATADIR "/vcrun");
  replace_all(&text, "@LIBEXECDIR@", VC_LIBEXECDIR);
  CHECK(strchr(text, '@') == NULL);

  /* It loads, and says exactly what the built-in defaults say. */
  struct vc_config cfg;
  CHECK(vc_config_parse("configuration.toml", text, &cfg, &err) == 0);
  if (err != NULL)
    fprintf(stderr, "  %s\n", err->msg);
  vc_error_free(&err);
  check_defaults(&cfg);
  vc_config_free(&cfg);

  /* And every key is written out, so that the file documents it. */
  static const char *const keys[][2] = {
      {"hypervisor.qemu", "path"},
      {"hypervisor.qemu", "kernel"},
      {"hypervisor.qemu", "initrd"},
      {"hypervisor.qemu", "machine_type"},
      {"hypervisor.qemu", "default_vcpus"},
      {"hypervisor.qemu", "default_memory"},
      {"hypervisor.qemu", "accel"},
      {"hypervisor.qemu", "kernel_params"},
      {"hypervisor.qemu", "virtiofsd"},
      {"hypervisor.qemu", "virtiofs_cache"},
      {"hypervisor.qemu", "default_maxvcpus"},
      {"hypervisor.qemu", "default_maxmemory"},
      {"hypervisor.qemu", "memory_slots"},
      {"hypervisor.qemu", "vsock_backend"},
      {"hypervisor.qemu", "pcie_root_ports"},
      {"agent", "boot_timeout"},
      {"agent", "request_timeout"},
      {"agent", "transport"},
      {"runtime", "log_level"},
      {"runtime", "state_root"},
      {"runtime", "host_cgroups"},
      {"runtime", "host_cgroup_overhead"},
      {"network", "model"},
  };
  struct vc_toml_table *root = NULL;
  CHECK(vc_toml_parse("configuration.toml", text, strlen(text), &root, &err) ==
        0);
  vc_error_free(&err);
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    if (vc_toml_lookup(root, keys[i][0], keys[i][1]) == NULL) {
      fprintf(stderr, "  [%s] %s missing\n", keys[i][0], keys[i][1]);
      test_failed_checks++;
    }
  }
  const struct vc_toml_table *q = vc_toml_get_table(root, "hypervisor.qemu");
  CHECK(q != NULL && q->len == 15);
  CHECK(vc_toml_get_table(root, "agent") != NULL &&
        vc_toml_get_table(root, "agent")->len == 3);
  CHECK(vc_toml_get_table(root, "runtime") != NULL &&
        vc_toml_get_table(root, "runtime")->len == 6);
  CHECK(vc_toml_get_table(root, "network") != NULL &&
        vc_toml_get_table(root, "network")->len == 1);
  vc_toml_free(root);
  free(text);
  free(path);
}

int main(void) {
  RUN(init_defaults);
  RUN(empty_file_means_defaults);
  RUN(every_key_overrides);
  RUN(partial_override_keeps_other_defaults);
  RUN(every_allowed_word_is_accepted);
  RUN(range_boundaries_are_accepted);
  RUN(unknown_tables_and_keys);
  RUN(tables_given_as_values);
  RUN(wrong_types);
  RUN(host_cgroup_keys);
  RUN(out_of_range);
  RUN(words_not_allowed);
  RUN(paths_and_strings);
  RUN(factory_table);
  RUN(toml_errors_carry_the_file_and_line);
  RUN(load_from_a_file);
  RUN(load_errors_name_the_file);
  RUN(shipped_configuration_file);
  return TEST_SUMMARY();
}
