/* Host-side client of a "hybrid vsock" unix socket (Firecracker, Cloud
 * Hypervisor and our own vhost-user-vsock back-end). */
#ifndef VC_HYBRID_VSOCK_H
#define VC_HYBRID_VSOCK_H

#include <stdint.h>

#include "lib/base/error.h"

/* Connects to guest port `port` through `hybrid_socket`: writes
 * "CONNECT <port>\n" and reads "OK <n>\n" (and not a byte more).  Retries
 * while the socket does not exist yet or the guest refuses (the back-end
 * closes the connection), until timeout_ms have passed.  Returns a blocking
 * stream fd (close-on-exec) connected to the guest port. */
int vc_hybrid_vsock_connect(const char *hybrid_socket, uint32_t port,
                            int timeout_ms, vc_error **err);

#endif
