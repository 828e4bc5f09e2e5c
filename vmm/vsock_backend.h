/* The per-VM vhost-user-vsock back-end: QEMU's vhost-user-vsock device
 * connects to vhost_user_socket; host programs reach guest ports through
 * hybrid_socket ("CONNECT <port>\n", see vmm/hybrid_vsock.h), and guest
 * connections to CID 2 port P reach the unix socket "<hybrid_socket>_P". */
#ifndef VC_VSOCK_BACKEND_H
#define VC_VSOCK_BACKEND_H

#include <stdint.h>

#include "lib/base/error.h"

struct vc_vsock_backend_opts {
  const char *vhost_user_socket; /* we listen here; QEMU connects */
  const char *hybrid_socket;     /* we listen here for host clients */
  uint64_t guest_cid;            /* e.g. 3 */
  int ready_fd;                  /* if >= 0: write 1 byte and close it once
                                    both sockets listen */
};

/* Serves one VM in a single-threaded epoll loop.  Returns 0 when QEMU
 * disconnects (the VM is gone), <0 on a fatal error.  Removes both sockets
 * before returning. */
int vc_vsock_backend_run(const struct vc_vsock_backend_opts *opts,
                         vc_error **err);

#endif
