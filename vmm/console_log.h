/* The guest's serial console, kept in a file of bounded size.
 *
 * The guest writes whatever it likes to its serial port: written straight
 * to a file (QEMU's -serial file:) it could fill the host's disk.  Instead
 * QEMU writes into a FIFO in the VM's directory (console.pipe), and a
 * drain (vcrun-vsock-backend --console-log, started before QEMU) copies it
 * into console.log, cutting the file to its newest half whenever it would
 * grow past VC_CONSOLE_LOG_MAX.  The boot-failure messages read its tail.
 * The drain exits when QEMU closes the FIFO (QEMU exited). */
#ifndef VC_CONSOLE_LOG_H
#define VC_CONSOLE_LOG_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "vmm/hypervisor.h"

#define VC_CONSOLE_LOG_MAX (1u << 20)

/* <vm->dir>/console.pipe, the FIFO QEMU's serial port writes (caller
 * frees). */
char *vc_console_fifo_path(const struct vc_vm *vm);

/* Makes the FIFO and starts the drain into vm->console_path; returns once
 * the drain holds the FIFO's read end, so QEMU's open for writing does not
 * block.  *pid gets the drain's pid (it exits by itself after QEMU). */
int vc_console_log_start(const struct vc_vm *vm, pid_t *pid, vc_error **err);

/* Once QEMU is gone: waits up to timeout_ms for the drain to exit, nudging
 * one whose QEMU never opened the FIFO (an open and close for writing is a
 * hang-up for it).  Cheap: no process table scan. */
void vc_console_log_wait(const struct vc_vm *vm, int timeout_ms);

/* The drain itself: opens fifo for reading, path for writing (truncated),
 * writes one byte to ready_fd (if >= 0) and closes it, then copies until
 * every writer that opened the FIFO has closed it.  The file never holds
 * more than max_bytes: when a write would pass it, the oldest bytes go so
 * that the newest max_bytes / 2 stay, then the write is appended. */
int vc_console_log_drain(const char *fifo, const char *path, size_t max_bytes,
                         int ready_fd, vc_error **err);

#endif
