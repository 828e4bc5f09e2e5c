/* Checks the host makes on a parsed config.json before any VM boots, so
 * that a spec the guest would refuse fails `create` at once, with an error
 * naming the file and the field: capability names, linux.seccomp (through
 * libseccomp's own tables) and which sysctls the namespaces allow. */
#ifndef VC_OCI_SPEC_CHECK_H
#define VC_OCI_SPEC_CHECK_H

#include "lib/base/error.h"
#include "oci/spec.h"

/* source starts every error message, as with oci_spec_parse:
 * "<source>: process.capabilities.bounding[2]: unknown capability \"CAP_X\"". */
int oci_spec_check(const struct oci_spec *spec, const char *source,
                   vc_error **err);

#endif
