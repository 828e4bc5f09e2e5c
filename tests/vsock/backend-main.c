/* Test driver for the vsock back-end: backend-main VHOST_SOCK HYBRID_SOCK
 * CID [READY_FD].  Exits 0 when QEMU disconnects. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/base/error.h"
#include "vmm/vsock_backend.h"

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s VHOST_SOCK HYBRID_SOCK CID [READY_FD]\n",
            argv[0]);
    return 2;
  }
  struct vc_vsock_backend_opts o = {
      .vhost_user_socket = argv[1],
      .hybrid_socket = argv[2],
      .guest_cid = strtoull(argv[3], NULL, 10),
      .ready_fd = argc > 4 ? atoi(argv[4]) : -1,
  };
  vc_error *err = NULL;
  if (vc_vsock_backend_run(&o, &err) < 0) {
    fprintf(stderr, "backend-main: %s\n", err ? err->msg : "failed");
    vc_error_free(&err);
    return 1;
  }
  return 0;
}
