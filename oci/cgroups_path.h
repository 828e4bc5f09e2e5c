/* linux.cgroupsPath as runc reads it, turned into a path below the guest's
 * cgroup v2 root. */
#ifndef VC_OCI_CGROUPS_PATH_H
#define VC_OCI_CGROUPS_PATH_H

#include <stdbool.h>

#include "lib/base/error.h"

/* Sets *out (malloc'd, starting with '/', no "." or ".." parts) to the
 * container's cgroup below the cgroup root:
 *  - cgroupfs: cgroupsPath itself (relative paths hang from the root, where
 *    the agent is), or "/<id>" when it is empty, as runc does;
 *  - systemd (--systemd-cgroup): "slice:prefix:name" becomes the slice's
 *    expanded path plus "prefix-name.scope" (a name ending in ".slice" is
 *    used as is), e.g. "machine.slice:libpod:abc" ->
 *    "/machine.slice/libpod-abc.scope"; empty means "system.slice:vcrun:<id>".
 * Anything else is an error naming linux.cgroupsPath. */
int oci_cgroups_path(const char *id, const char *cgroups_path, bool systemd,
                     char **out, vc_error **err);

#endif
