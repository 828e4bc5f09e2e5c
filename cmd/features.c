/* vcrun features: the OCI runtime features document (runtime-spec
 * features.md) for what the agent implements inside the VM. */
#include <ctype.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "cli.h"
#include "json.h"
#include "json_build.h"
#include "util.h"

#define VC_OCI_VERSION_MIN "1.0.0"
#define VC_OCI_VERSION_MAX "1.1.0"

static void jb_list(struct vc_jb *b, const char *key, const char *const *v,
                    size_t n) {
  vc_jb_key(b, key);
  vc_jb_strv(b, (char *const *)v, n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every capability libcap knows, as CAP_* names. */
static void capabilities(struct vc_jb *b) {
  vc_jb_key(b, "capabilities");
  vc_jb_open(b, '[');
  for (int c = 0; c <= CAP_LAST_CAP; c++) {
    char *name = cap_to_name((cap_value_t)c);
    if (name == NULL)
      continue;
    if (strncmp(name, "cap_", 4) == 0) {
      for (char *p = name; *p; p++)
        *p = (char)toupper((unsigned char)*p);
      vc_jb_str(b, name);
    }
    cap_free(name);
  }
  vc_jb_close(b, ']');
}

/* The architectures this libseccomp can build filters for. */
static void seccomp_archs(struct vc_jb *b) {
  static const char *const archs[] = {
      "x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32",
      "mipsel", "mipsel64", "mipsel64n32", "ppc", "ppc64", "ppc64le", "s390",
      "s390x", "parisc", "parisc64", "riscv64"};
  vc_jb_key(b, "archs");
  vc_jb_open(b, '[');
  for (size_t i = 0; i < COUNT(archs); i++) {
    if (seccomp_arch_resolve_name(archs[i]) == 0)
      continue;
    cleanup_free char *name = xasprintf("SCMP_ARCH_%s", archs[i]);
    for (char *p = name + 10; *p; p++)
      *p = (char)toupper((unsigned char)*p);
    vc_jb_str(b, name);
  }
  vc_jb_close(b, ']');
}

static char *features_json(void) {
  /* Kept in step with the agent: its namespace table, mount option table
   * and seccomp action table. */
  static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network",
                                           "pid", "user", "uts"};
  static const char *const mount_options[] = {
      "async", "atime", "bind", "dev", "diratime", "dirsync", "exec", "mand",
      "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime",
      "nosuid", "private", "rbind", "relatime", "remount", "ro", "rprivate",
      "rshared", "rslave", "runbindable", "rw", "shared", "slave",
      "strictatime", "suid", "sync", "unbindable"};
  static const char *const actions[] = {
      "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
      "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
      "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
  static const char *const operators[] = {
      "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
      "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"};
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "ociVersionMin");
  vc_jb_str(&b, VC_OCI_VERSION_MIN);
  vc_jb_key(&b, "ociVersionMax");
  vc_jb_str(&b, VC_OCI_VERSION_MAX);
  /* createContainer and startContainer run in the guest (paths inside the
   * container), the others on the host. */
  static const char *const hooks[] = {"prestart",        "createRuntime",
                                      "createContainer", "startContainer",
                                      "poststart",       "poststop"};
  jb_list(&b, "hooks", hooks, COUNT(hooks));
  jb_list(&b, "mountOptions", mount_options, COUNT(mount_options));
  vc_jb_key(&b, "linux");
  vc_jb_open(&b, '{');
  jb_list(&b, "namespaces", namespaces, COUNT(namespaces));
  capabilities(&b);
  vc_jb_key(&b, "cgroup");
  vc_jb_open(&b, '{');
  static const char *const cg_keys[] = {"v1", "v2", "systemd", "systemdUser"};
  for (size_t i = 0; i < COUNT(cg_keys); i++) {
    vc_jb_key(&b, cg_keys[i]);
    vc_jb_bool(&b, i == 1); /* the guest mounts cgroup v2 only, no systemd */
  }
  vc_jb_close(&b, '}');
  vc_jb_key(&b, "seccomp");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "enabled");
  vc_jb_bool(&b, true);
  jb_list(&b, "actions", actions, COUNT(actions));
  jb_list(&b, "operators", operators, COUNT(operators));
  seccomp_archs(&b);
  vc_jb_close(&b, '}');
  static const char *const lsm[] = {"apparmor", "selinux"};
  for (size_t i = 0; i < COUNT(lsm); i++) {
    vc_jb_key(&b, lsm[i]);
    vc_jb_open(&b, '{');
    vc_jb_key(&b, "enabled");
    vc_jb_bool(&b, false);
    vc_jb_close(&b, '}');
  }
  vc_jb_close(&b, '}');
  vc_jb_key(&b, "annotations");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "io.github.vcrun.hypervisor");
  vc_jb_str(&b, "qemu");
  vc_jb_key(&b, "io.github.vcrun.version");
  vc_jb_str(&b, VC_VERSION);
  vc_jb_key(&b, "io.github.seccomp.libseccomp.version");
  const struct scmp_version *sv = seccomp_version();
  cleanup_free char *sv_str =
      sv ? xasprintf("%u.%u.%u", sv->major, sv->minor, sv->micro) : NULL;
  vc_jb_str(&b, sv_str);
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

int cmd_features(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  if (vc_parse_opts("features", argc, argv, NULL, err) < 0)
    return -1;
  if (argc != 0)
    return vc_error_set(err, 0, "features: takes no arguments");
  cleanup_free char *compact = features_json();
  yajl_val tree = NULL;
  if (vc_json_parse(compact, &tree, err) < 0)
    return -1;
  cleanup_free char *pretty = NULL;
  struct vc_json_gen g;
  vc_json_gen_init(&g, "    ");
  vc_json_gen_value(&g, tree);
  yajl_tree_free(tree);
  if (vc_json_gen_finish(&g, &pretty, err) < 0)
    return -1;
  printf("%s\n", pretty);
  return 0;
}
