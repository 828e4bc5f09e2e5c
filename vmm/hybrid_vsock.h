/* Host-side client of a "hybrid vsock" unix socket (Firecracker, Cloud
 * Hypervisor and our own vhost-user-vsock back-end), and the parsers of the
 * two handshake lines, shared with the back-end (vmm/vsock_device.c).  The
 * parsers are pure functions over a bounded line so they can be fuzzed
 * (tests/fuzz/fuzz_hybrid_handshake.c). */
#ifndef VC_HYBRID_VSOCK_H
#define VC_HYBRID_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

/* Longest handshake line either side reads, newline included
 * ("CONNECT 4294967295\n" is 19 bytes): a peer that sends more without a
 * newline is cut off. */
#define VC_HYBRID_LINE_MAX 32

/* Parse "CONNECT <port>\n" (what a client asks the back-end) and
 * "OK <port>\n" (what the back-end answers).  line holds len bytes, need
 * not be NUL-terminated, and must end with its single '\n'; <port> is 1 to
 * 10 decimal digits with a value up to UINT32_MAX, nothing else (no sign,
 * no blanks, no '\r').  Return true and set *port, or false (and leave
 * *port alone) for anything else, including len > VC_HYBRID_LINE_MAX. */
bool vc_hybrid_parse_connect(const char *line, size_t len, uint32_t *port);
bool vc_hybrid_parse_ok(const char *line, size_t len, uint32_t *port);

/* Connects to guest port `port` through `hybrid_socket`: writes
 * "CONNECT <port>\n" and reads "OK <n>\n" (and not a byte more).  Retries
 * while the socket does not exist yet or the guest refuses (the back-end
 * closes the connection), until timeout_ms have passed.  Returns a blocking
 * stream fd (close-on-exec) connected to the guest port. */
int vc_hybrid_vsock_connect(const char *hybrid_socket, uint32_t port,
                            int timeout_ms, vc_error **err);

#endif
