/* The kernel vsock path, for hosts that have /dev/vhost-vsock: QEMU's
 * vhost-vsock-pci with a guest CID unique on the host, and host-side
 * AF_VSOCK connections. */
#ifndef VC_VHOST_VSOCK_H
#define VC_VHOST_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/base/error.h"

#define VC_VHOST_VSOCK_DEV "/dev/vhost-vsock"

bool vc_vhost_vsock_available(void);

/* Reserves a CID: opens /dev/vhost-vsock and claims a CID on it with
 * VHOST_VSOCK_SET_GUEST_CID, trying the next one while the kernel says
 * another VM holds it.  The kernel arbitrates, so concurrent creates cannot
 * get the same CID.  Returns the fd (hand it to QEMU as vhostfd; the CID is
 * held while it is open). */
int vc_vhost_vsock_reserve(uint64_t *cid, vc_error **err);

/* Connects to the guest's port over AF_VSOCK, retrying until timeout_ms
 * while the guest is not listening yet. */
int vc_vsock_connect(uint64_t cid, uint32_t port, int timeout_ms,
                     vc_error **err);

#endif
