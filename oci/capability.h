/* Linux capability names ("CAP_CHOWN"...) and their numbers: one table for
 * the host, which refuses unknown names before a VM boots, and the guest
 * agent, which turns the names into the bits it sets. */
#ifndef VC_OCI_CAPABILITY_H
#define VC_OCI_CAPABILITY_H

/* Capabilities known here: numbers 0 .. OCI_CAPABILITY_COUNT - 1. */
#define OCI_CAPABILITY_COUNT 41

/* The number of an upper-case name such as "CAP_SYS_ADMIN" (runc accepts
 * no other spelling), or -1 if the name is unknown. */
int oci_capability_number(const char *name);
/* The name of a capability number, NULL if it has none here. */
const char *oci_capability_name(int number);

#endif
