/* vcrun features: the OCI runtime features document (runtime-spec
 * features.md) for what the agent implements inside the VM. */
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "oci/capability.h"
#include "oci/seccomp.h"
#include "lib/base/util.h"

#define VC_OCI_VERSION_MIN "1.0.0"
#define VC_OCI_VERSION_MAX "1.1.0"

static void jb_list(struct vc_jb *b, const char *key, const char *const *v,
                    size_t n) {
  vc_jb_key(b, key);
  vc_jb_strv(b, (char *const *)v, n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every capability the host and the agent know by name. */
static void capabilities(struct vc_jb *b) {
  vc_jb_key(b, "capabilities");
  vc_jb_open(b, '[');
  for (int c = 0; c < OCI_CAPABILITY_COUNT; c++)
    vc_jb_str(b, oci_capability_name(c));
  vc_jb_close(b, ']');
}

/* The seccomp names of one kind that a spec may use; architectures only
 * where this libseccomp can build filters for them. */
static void seccomp_names(struct vc_jb *b, const char *key,
                          enum oci_seccomp_names kind) {
  vc_jb_key(b, key);
  vc_jb_open(b, '[');
  const char *name;
  for (size_t i = 0; (name = oci_seccomp_name(kind, i)) != NULL; i++)
    if (kind != OCI_SECCOMP_ARCHES || oci_seccomp_arch_token(name) != 0)
      vc_jb_str(b, name);
  vc_jb_close(b, ']');
}

static char *features_json(void) {
  /* Kept in step with the agent: its namespace and mount option tables
   * (capability and seccomp names come from the tables both share). */
  static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network",
                                           "pid", "user", "uts"};
  static const char *const mount_options[] = {
      "async", "atime", "bind", "dev", "diratime", "dirsync", "exec", "mand",
      "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime",
      "nosuid", "private", "rbind", "relatime", "remount", "ro", "rprivate",
      "rshared", "rslave", "runbindable", "rw", "shared", "slave",
      "strictatime", "suid", "sync", "unbindable",
      /* recursive, with mount_setattr (oci/mount_attr.c) */
      "ratime", "rdev", "rdiratime", "rexec", "rnoatime", "rnodev",
      "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid",
      "rnosymfollow", "rrelatime", "rro", "rrw", "rstrictatime", "rsuid",
      "rsymfollow"};
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
  seccomp_names(&b, "actions", OCI_SECCOMP_ACTIONS);
  seccomp_names(&b, "operators", OCI_SECCOMP_OPERATORS);
  seccomp_names(&b, "archs", OCI_SECCOMP_ARCHES);
  seccomp_names(&b, "knownFlags", OCI_SECCOMP_FLAGS);
  seccomp_names(&b, "supportedFlags", OCI_SECCOMP_FLAGS);
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
