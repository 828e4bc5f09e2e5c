#include "oci/capability.h"

#include <string.h>

/* Indexed by capability number, as in <linux/capability.h> up to
 * CAP_CHECKPOINT_RESTORE (CAP_LAST_CAP since Linux 5.9). */
static const char *const capability_names[OCI_CAPABILITY_COUNT] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",     "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",          "CAP_FSETID",           "CAP_KILL",
    "CAP_SETGID",          "CAP_SETUID",           "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",          "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",       "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",       "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",       "CAP_SYS_BOOT",         "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",         "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",           "CAP_LEASE",            "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",          "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",       "CAP_SYSLOG",           "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",       "CAP_PERFMON",
    "CAP_BPF",             "CAP_CHECKPOINT_RESTORE",
};

int oci_capability_number(const char *name) {
  for (int i = 0; i < OCI_CAPABILITY_COUNT; i++)
    if (strcmp(capability_names[i], name) == 0)
      return i;
  return -1;
}

const char *oci_capability_name(int number) {
  if (number < 0 || number >= OCI_CAPABILITY_COUNT)
    return NULL;
  return capability_names[number];
}

static const char *const set_names[OCI_CAPS_SETS] = {
    "bounding", "effective", "inheritable", "permitted", "ambient"};

const char *oci_capability_set_name(enum oci_capability_set set) {
  return set_names[set];
}

int oci_capabilities_resolve(const struct oci_capabilities *c,
                             uint64_t masks[OCI_CAPS_SETS], vc_error **err) {
  char *const *const lists[OCI_CAPS_SETS] = {
      c->bounding, c->effective, c->inheritable, c->permitted, c->ambient};
  const size_t counts[OCI_CAPS_SETS] = {c->n_bounding, c->n_effective,
                                        c->n_inheritable, c->n_permitted,
                                        c->n_ambient};
  for (int set = 0; set < OCI_CAPS_SETS; set++) {
    masks[set] = 0;
    for (size_t i = 0; i < counts[set]; i++) {
      int n = oci_capability_number(lists[set][i]);
      if (n < 0)
        return vc_error_set(err, 0, "process.capabilities.%s[%zu]: unknown "
                            "capability \"%s\"", set_names[set], i,
                            lists[set][i]);
      masks[set] |= (uint64_t)1 << n;
    }
  }
  return 0;
}

/* The name of the lowest capability in mask. */
static const char *lowest(uint64_t mask) {
  return oci_capability_name(__builtin_ctzll(mask));
}

int oci_capabilities_check_subsets(const uint64_t masks[OCI_CAPS_SETS],
                                   vc_error **err) {
  uint64_t stray = masks[OCI_CAPS_EFFECTIVE] & ~masks[OCI_CAPS_PERMITTED];
  if (stray != 0)
    return vc_error_set(err, 0, "process.capabilities.effective: %s is not in "
                        "process.capabilities.permitted", lowest(stray));
  stray = masks[OCI_CAPS_INHERITABLE] & ~masks[OCI_CAPS_BOUNDING];
  if (stray != 0)
    return vc_error_set(err, 0, "process.capabilities.inheritable: %s is not "
                        "in process.capabilities.bounding", lowest(stray));
  return 0;
}
