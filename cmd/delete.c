/* vcrun delete: removes a container and everything of its sandbox: VM,
 * virtiofsd, vsock backend, shims, sockets and state; a pod member leaves
 * its sandbox, which keeps running. */
#include <errno.h>
#include <string.h>

#include "cmd/cli.h"
#include "oci/spec.h"
#include "lib/pod.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"

int cmd_delete(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  bool force = false;
  const struct vc_opt opts[] = {
      {"force", 'f', false, NULL, &force, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("delete", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "delete: expects exactly one argument, the container id");
  const char *id = argv[first];
  struct vc_sandbox sb = VC_SANDBOX_INIT;
  struct oci_spec *spec = NULL;
  cleanup_free char *member = NULL;
  int ret = -1;
  if (vc_open_container(cli, id, true, &sb, err) < 0) {
    /* Engines clean up with delete --force whatever happened before. */
    if (force && *err != NULL && (*err)->errnum == ENOENT) {
      vc_error_free(err);
      ret = 0;
    }
    goto out;
  }
  const char *status = vc_container_status(&sb);
  if (!force && (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0)) {
    vc_error_set(err, 0, "cannot delete container %s that is not stopped: %s",
                 id, status);
    goto out;
  }
  /* Deleting a pod's sandbox container stops the VM under its members:
   * only with --force while one of them still runs. */
  if (!force && vc_sandbox_owns_vm(&sb) &&
      (member = vc_pod_live_member(&cli->cfg, id)) != NULL) {
    vc_error_set(err, 0, "cannot delete sandbox container %s: container %s "
                 "of its pod is running (delete it first, or use --force)",
                 id, member);
    goto out;
  }
  spec = vc_bundle_spec(&sb);
  ret = vc_sandbox_destroy(&sb, err);
  vc_poststop_hooks(cli, &sb, spec);
out:
  oci_spec_free(spec);
  vc_sandbox_free(&sb);
  return ret < 0 ? -1 : 0;
}
