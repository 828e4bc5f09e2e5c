#include <seccomp.h>
#include <stdio.h>

#include "cmd/cli.h"

#ifndef VC_VERSION
#define VC_VERSION "unknown"
#endif
#ifndef VC_COMMIT
#define VC_COMMIT "unknown"
#endif
#define VC_OCI_SPEC_VERSION "1.1.0"

int cmd_version(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const struct scmp_version *sv = seccomp_version();
  printf("vcrun version %s\n", VC_VERSION);
  printf("commit: %s\n", VC_COMMIT);
  printf("spec: %s\n", VC_OCI_SPEC_VERSION);
  if (sv != NULL)
    printf("libseccomp: %u.%u.%u\n", sv->major, sv->minor, sv->micro);
  printf("features: +SECCOMP +CAP +YAJL +MNL +QEMU +VIRTIOFS +VHOST-USER-VSOCK +HYBRID-VSOCK\n");
  return 0;
}
