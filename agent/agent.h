/* vcrun-agent: PID 1 of the guest.  It prepares the guest (mounts, kernel
 * modules), listens on vsock, and runs containers for the host. */
#ifndef VC_AGENT_H
#define VC_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "oci/spec.h"
#include "lib/base/protocol.h"

struct agent_conn;

/* epoll user data: what an fd is, and the object it belongs to. */
enum ev_kind { EV_LISTEN, EV_SIGNAL, EV_CONN, EV_STDOUT, EV_STDERR, EV_STDIN };
struct ev_tag {
  enum ev_kind kind;
  void *ptr;
};

struct agent_container;

/* A process the agent started: a container's init or an exec. */
struct agent_proc {
  struct agent_container *container;
  char *exec_id; /* NULL for the container's init */
  struct agent_proc *next; /* the container's other execs */
  pid_t pid;
  int stdin_fd, stdout_fd, stderr_fd; /* agent's ends of the stdio pipes */
  int sync_fd;                        /* socketpair end to the child */
  int tty_fd; /* the pty master when process.terminal, else -1; stdin_fd and
               * stdout_fd are then dups of it and stderr_fd is -1 */
  struct agent_conn *stdio_conn;      /* where DATA frames go, or NULL */
  uint32_t stdio_stream;
  bool exited;
  int exit_status; /* 128+N when killed by signal N */
  char *stdin_buf; /* bytes waiting for the process to read stdin: */
  size_t stdin_off, stdin_len, stdin_cap; /* stdin_buf[off, off + len) */
  bool output_paused; /* stdout/stderr out of epoll: stdio_conn is full */
  bool stdin_eof_pending; /* close stdin once stdin_buf drains */
  bool stdin_polled;      /* stdin_fd is in epoll, waiting for EPOLLOUT */
  struct ev_tag stdout_tag, stderr_tag, stdin_tag;
};

/* Where the sandbox's virtio-fs share is mounted, once: <share>/rootfs is a
 * container's root, <share>/mounts/<N> the host source of its mounts[N]
 * (<share>: the name the host gave in CreateContainer). */
#define AGENT_SHARE_DIR "/run/vcrun/shared"

struct agent_container {
  char *id;
  char *share_name; /* its directory in the share */
  char *rootfs; /* AGENT_SHARE_DIR/<share_name>/rootfs */
  char *cgroup_dir; /* its cgroup v2 directory, e.g. /sys/fs/cgroup/<id> */
  char *bundle; /* the host's bundle path, for the state hooks get */
  struct oci_spec *spec;
  int ns_flags; /* the new namespaces it was cloned with */
  struct agent_proc init;
  struct agent_proc *execs;
  bool started;
  bool paused;
  struct agent_container *next;
};

/* Prepares the child side: called in the cloned child, never returns.  Sets
 * up namespaces' contents, the rootfs, the process attributes, waits for
 * the start signal on sync_fd and execs; failures are written to sync_fd as
 * "E<message>" and the child exits 127. */
_Noreturn void agent_container_child(struct agent_container *c,
                                     int sync_fd, int stdio[3]);
/* clone() flags for the spec's namespaces (a mount namespace always).
 * A namespace given by path must be in joined (the agent entered that
 * container's for the clone: left out) or in vm_level (the path was the
 * VM's own, on the host: the container gets a new one). */
int agent_namespace_flags(const struct oci_spec *spec, int joined, int vm_level,
                          int *flags, vc_error **err);

/* The clone flag of an OCI namespace type (0 if unknown) and its name
 * under /proc/<pid>/ns. */
int agent_namespace_flag(const char *type, const char **proc_name);

/* The agent's own namespaces, kept while it stands in another container's
 * to create a process there. */
struct agent_ns_switch {
  int own_fd[6];
  int flag[6];
  size_t n;
};
/* Enters pid's namespace of the given OCI type (not mount or user). */
int agent_ns_switch_enter(struct agent_ns_switch *sw, pid_t pid,
                          const char *type, vc_error **err);
/* Back into the agent's own namespaces. */
void agent_ns_switch_back(struct agent_ns_switch *sw);
/* Writes /proc/PID/uid_map and gid_map from linux.uid/gidMappings. */
int agent_write_id_maps(pid_t pid, const struct oci_spec *spec, vc_error **err);

/* Loads the modules /lib/modules/<order_file> lists, in order (the guest
 * image's list files, scripts/build-guest.sh): all of them, past failures;
 * -1 with *err naming the first that failed. */
int agent_load_modules(const char *order_file, vc_error **err);

/* Brings in->vcpus CPUs and every memory block online; counts what is
 * online (agent/hotplug.c). */
struct vc_msg_online_resources;
struct vc_msg_online_result;
int agent_online_resources(const struct vc_msg_online_resources *in,
                           struct vc_msg_online_result *out, vc_error **err);

void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Helpers for code that runs in a child before exec (container.c). */
void agent_child_set_sync_fd(int fd);
/* Reports "E<message>" on the sync fd and exits 127. */
_Noreturn void child_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* args[0] looked up in the process's PATH, as execvp would. */
/* Fails the child with *err's message when rc < 0.  It takes err's
 * address: the order in which call arguments are evaluated is unspecified,
 * so a copy of err could be taken before the call beside it sets it. */
void child_check(int rc, vc_error **err);
char *agent_resolve_executable(const struct oci_process *p);
/* Gives stdio to u's uid (as runc, so a terminal is the user's), then sets
 * u's supplementary groups, gid and uid; fails the child on an error. */
void agent_set_user(const struct oci_user *u);

/* With process.terminal: opens a pty in the container (after its /dev is
 * in place), makes the slave the controlling terminal and stdio, and sends
 * the master to the agent on sync_fd as a "T" message with SCM_RIGHTS.  The
 * caller must be a session leader without a terminal. */
void agent_child_terminal(const struct oci_process *p, int sync_fd);

/* The child of an exec: joins the namespaces and cgroup of c's init,
 * applies p's security settings with c's seccomp filter, as
 * agent_container_child does for the init, and execs at once.  Never
 * returns. */
_Noreturn void agent_exec_child(const struct agent_container *c,
                                const struct oci_process *p, int sync_fd,
                                int stdio[3]);

#endif
