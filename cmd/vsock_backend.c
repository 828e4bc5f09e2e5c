/* vcrun vsock-backend (internal): the per-sandbox vhost-user-vsock backend
 * process, started by the sandbox before QEMU and gone with it. */
#include <stdlib.h>

#include "cmd/cli.h"
#include "vmm/vsock_backend.h"

int cmd_vsock_backend(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *vhost_user = NULL, *hybrid = NULL, *cid = "3", *ready_fd = NULL;
  const struct vc_opt opts[] = {
      {"vhost-user", 0, true, &vhost_user, NULL, NULL},
      {"hybrid", 0, true, &hybrid, NULL, NULL},
      {"cid", 0, true, &cid, NULL, NULL},
      {"ready-fd", 0, true, &ready_fd, NULL, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("vsock-backend", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (vhost_user == NULL || hybrid == NULL)
    return vc_error_set(err, 0, "vsock-backend: --vhost-user and --hybrid are required");
  char *end;
  unsigned long long guest_cid = strtoull(cid, &end, 10);
  if (*end != '\0' || guest_cid < 3 || guest_cid > 0xffffffffULL)
    return vc_error_set(err, 0, "vsock-backend: bad --cid `%s`", cid);
  struct vc_vsock_backend_opts o = {
      .vhost_user_socket = vhost_user,
      .hybrid_socket = hybrid,
      .guest_cid = guest_cid,
      .ready_fd = ready_fd ? atoi(ready_fd) : -1,
  };
  return vc_vsock_backend_run(&o, err) < 0 ? -1 : 0;
}
