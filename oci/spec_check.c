#include "oci/spec_check.h"

#include <stdbool.h>
#include <string.h>

#include "oci/capability.h"
#include "oci/seccomp.h"

static int check_capabilities(const struct oci_capabilities *c,
                              const char *source, vc_error **err) {
  uint64_t masks[OCI_CAPS_SETS];
  if (c == NULL)
    return 0;
  if (oci_capabilities_resolve(c, masks, err) < 0 ||
      oci_capabilities_check_subsets(masks, err) < 0)
    return vc_error_wrap(err, "%s", source);
  return 0;
}

static int check_seccomp(const char *seccomp_json, const char *source,
                         vc_error **err) {
  struct oci_seccomp *resolved = NULL;
  if (seccomp_json == NULL)
    return 0;
  if (oci_seccomp_parse(seccomp_json, &resolved, err) < 0)
    return vc_error_wrap(err, "%s", source);
  oci_seccomp_free(resolved);
  return 0;
}

static bool has_namespace(const struct oci_spec *spec, const char *type) {
  for (size_t i = 0; i < spec->n_namespaces; i++)
    if (strcmp(spec->namespaces[i].type, type) == 0)
      return true;
  return false;
}

/* The IPC namespace's sysctls (ipc(7), mq_overview(7)), besides fs.mqueue.*. */
static bool is_ipc_sysctl(const char *key) {
  static const char *const ipc_keys[] = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
      "kernel.sem",    "kernel.shmall", "kernel.shmmax",
      "kernel.shmmni", "kernel.shm_rmid_forced",
  };
  for (size_t i = 0; i < sizeof(ipc_keys) / sizeof(ipc_keys[0]); i++)
    if (strcmp(key, ipc_keys[i]) == 0)
      return true;
  return strncmp(key, "fs.mqueue.", strlen("fs.mqueue.")) == 0;
}

/* runc's rule: a sysctl is allowed only where the container has its own
 * kernel namespace for it, so that setting it cannot reach past the
 * container.  Inside a VM a global sysctl would only reach the guest
 * kernel, but refusing what runc refuses keeps specs portable. */
static int check_sysctl(const struct oci_spec *spec, const char *source,
                        vc_error **err) {
  for (size_t i = 0; i < spec->n_sysctl; i++) {
    const char *key = spec->sysctl[i].key;
    const char *missing = NULL;
    if (is_ipc_sysctl(key)) {
      if (!has_namespace(spec, "ipc"))
        missing = "an ipc";
    } else if (strncmp(key, "net.", strlen("net.")) == 0) {
      if (!has_namespace(spec, "network"))
        missing = "a network";
    } else if (strcmp(key, "kernel.domainname") == 0 &&
               has_namespace(spec, "uts")) {
      continue;
    } else if (strcmp(key, "kernel.hostname") == 0 &&
               has_namespace(spec, "uts")) {
      return vc_error_set(err, 0, "%s: linux.sysctl[\"%s\"]: not allowed: "
                          "the hostname field sets it", source, key);
    } else {
      return vc_error_set(err, 0, "%s: linux.sysctl[\"%s\"]: not allowed: the "
                          "sysctl is not in a separate kernel namespace",
                          source, key);
    }
    if (missing != NULL)
      return vc_error_set(err, 0, "%s: linux.sysctl[\"%s\"]: not allowed "
                          "without %s namespace in linux.namespaces", source,
                          key, missing);
  }
  return 0;
}

int oci_spec_check(const struct oci_spec *spec, const char *source,
                   vc_error **err) {
  if (spec->process != NULL &&
      check_capabilities(spec->process->capabilities, source, err) < 0)
    return -1;
  if (check_seccomp(spec->seccomp_json, source, err) < 0 ||
      check_sysctl(spec, source, err) < 0)
    return -1;
  return 0;
}
