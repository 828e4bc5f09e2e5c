/* Linux capability names ("CAP_CHOWN"...) and their numbers: one table for
 * the host, which refuses unknown names before a VM boots, and the guest
 * agent, which turns the names into the bits it sets. */
#ifndef VC_OCI_CAPABILITY_H
#define VC_OCI_CAPABILITY_H

#include <stdint.h>

#include "lib/base/error.h"
#include "oci/spec.h"

/* Capabilities known here: numbers 0 .. OCI_CAPABILITY_COUNT - 1. */
#define OCI_CAPABILITY_COUNT 41

/* The five sets of process.capabilities, in this order. */
enum oci_capability_set {
  OCI_CAPS_BOUNDING,
  OCI_CAPS_EFFECTIVE,
  OCI_CAPS_INHERITABLE,
  OCI_CAPS_PERMITTED,
  OCI_CAPS_AMBIENT,
  OCI_CAPS_SETS
};

/* The number of an upper-case name such as "CAP_SYS_ADMIN" (runc accepts
 * no other spelling), or -1 if the name is unknown. */
int oci_capability_number(const char *name);
/* The name of a capability number, NULL if it has none here. */
const char *oci_capability_name(int number);
/* "bounding", "effective"...: the set's key in process.capabilities. */
const char *oci_capability_set_name(enum oci_capability_set set);

/* Every set of c as a mask (bit n: capability n).  An unknown name is an
 * error naming it: process.capabilities.ambient[1]: unknown capability "X". */
int oci_capabilities_resolve(const struct oci_capabilities *c,
                             uint64_t masks[OCI_CAPS_SETS], vc_error **err);
/* What the kernel would refuse when the sets are applied: effective must
 * be within permitted, inheritable within bounding. */
int oci_capabilities_check_subsets(const uint64_t masks[OCI_CAPS_SETS],
                                   vc_error **err);

#endif
