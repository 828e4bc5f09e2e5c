/* Starting and watching the long-lived host processes of a sandbox (VMM,
 * virtiofsd, the vsock backend). */
#ifndef VC_PROCESS_H
#define VC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/base/error.h"

/* Starts argv[0] detached from the caller (double fork + setsid), with
 * stdin on /dev/null, stdout and stderr appended to log_path, and no fd
 * past stdio except the n_keep fds of keep (entries < 0 ignored; each kept
 * open across exec at the same number, so a command line may name it:
 * QEMU's vhost-vsock and tap fds).  Returns
 * once exec has succeeded (or fails with exec's error); *pid gets the
 * daemon's pid.  The caller is not its parent, so nothing is left to reap. */
#define VC_SPAWN_MAX_KEEP 64
int vc_spawn_detached(char *const argv[], const char *log_path,
                      const int *keep, size_t n_keep, pid_t *pid,
                      vc_error **err);

/* vc_spawn_detached for a daemon that says it is ready by writing one
 * byte to an fd it is given: argv[ready_arg] (a placeholder) becomes that
 * fd's number.  Waits up to timeout_ms for the byte; without it the daemon
 * is terminated and the error, "<what> did not start: <its log's tail>",
 * says why. */
int vc_spawn_ready(char *argv[], size_t ready_arg, const char *log_path,
                   const char *what, int timeout_ms, pid_t *pid,
                   vc_error **err);

/* True while pid exists and is not a zombie. */
bool vc_pid_alive(pid_t pid);

/* True while pid is alive and its command line contains needle: a pid
 * read from a state file may have been reused by an unrelated process. */
bool vc_pid_is(pid_t pid, const char *needle);

/* pid's start time (clock ticks after boot, /proc/PID/stat), which tells
 * it from a later process of the same pid; 0 when it does not run. */
unsigned long long vc_pid_start_time(pid_t pid);

/* Sets the nice value of every thread of pid (Linux keeps one per thread,
 * so setpriority on the pid alone misses QEMU's vCPU threads).  Best
 * effort. */
void vc_renice_process(pid_t pid, int nice_value);

/* SIGTERM, then SIGKILL after timeout_ms; returns once pid is gone or the
 * SIGKILL was sent and it went away. */
void vc_pid_terminate(pid_t pid, int timeout_ms);

/* The last max_bytes of a log file, for error messages ("" if absent),
 * made printable (vc_printable): the console log is the guest's. */
char *vc_log_tail(const char *path, size_t max_bytes);

/* Closes every fd >= first except those listed in keep (-1 entries are
 * ignored): inherited fds must not reach the VMM or the container. */
void vc_close_fds_except(int first, const int *keep, size_t n_keep);

/* Terminates (vc_pid_terminate) every process whose command line contains
 * one of the n needles, except this one, in one pass over /proc: what a
 * crashed create left running, found by the directories it names. */
void vc_kill_processes_naming(const char *const *needles, size_t n,
                              int timeout_ms);

/* This process's executable (for the shims it starts), or "/proc/self/exe"
 * when it cannot be read; the caller frees it. */
char *vc_self_exe(void);

#endif
