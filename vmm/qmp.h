/* A QMP session: one connection to QEMU's monitor for several commands,
 * commands given as whole JSON objects, an fd passed along (getfd), and the
 * events seen meanwhile kept for vc_qmp_wait_event.  (vc_qmp_execute in
 * vmm/hypervisor.h is the one-shot form.) */
#ifndef VC_QMP_H
#define VC_QMP_H

#include "lib/base/error.h"

struct vc_qmp;

/* Connects to the QMP socket and negotiates capabilities; every later call
 * on the session shares the deadline now + timeout_ms. */
int vc_qmp_open(const char *socket_path, int timeout_ms, struct vc_qmp **out,
                vc_error **err);
void vc_qmp_close(struct vc_qmp *q);

/* Sends json (one command object, e.g. {"execute":"netdev_add",
 * "arguments":{...}}) with fd attached as SCM_RIGHTS when fd >= 0 (what
 * "getfd" takes), and waits for its answer; *reply (if non-NULL) gets the
 * whole answer line.  QMP's error is err's message. */
int vc_qmp_command(struct vc_qmp *q, const char *json, int fd, char **reply,
                   vc_error **err);

/* Waits for an event named event whose data.device equals device (NULL:
 * any), including the ones that arrived while a command was running. */
int vc_qmp_wait_event(struct vc_qmp *q, const char *event, const char *device,
                      vc_error **err);

#endif
