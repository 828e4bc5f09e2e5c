/* The container API: every lifecycle operation of vcrun, after libcrun's
 * container.h and Kata's VC/VCContainer interfaces.  cmd/ parses options,
 * makes one call here and prints the result; nothing below prints, except
 * warnings through the context's log function.
 *
 * A container runs in a sandbox (lib/sandbox.h): the one it booted (it is
 * then the pod's sandbox container and its id is the sandbox's), or a
 * running one it joined as a pod member (lib/pod.h decides which).  Each
 * container has a state directory <state root>/<id> with its state.json
 * (lib/state.h), the config.json it was created from, and its exec files;
 * a container's host process is its shim (lib/shim.h), the pid engines see.
 *
 * Every function returns 0 (or a status where said) or -1 with *err set. */
#ifndef VC_CONTAINER_H
#define VC_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/base/agent_proto.h"
#include "lib/base/error.h"
#include "lib/host/cgroup.h"
#include "lib/host/config.h"
#include "lib/sandbox.h"
#include "oci/spec.h"

/* What every call needs: after libcrun_context_t. */
struct vc_context {
  const struct vc_config *cfg; /* state root: cfg->runtime.state_root */
  bool debug;
  bool systemd_cgroup; /* linux.cgroupsPath in systemd's form */
  /* Warnings (level "warning") and debug messages go here; NULL: none. */
  void (*log)(void *log_arg, const char *level, const char *msg);
  void *log_arg;
};

struct vc_container {
  char *id;
  char *dir; /* <state root>/<id> */
  char *bundle;
  char *rootfs;      /* host directory shared as the container's root */
  char *cgroup_path; /* the container's cgroup below the guest's root */
  /* Its host cgroup (lib/placement.h): the VM's for the sandbox
   * container, its shim's for a member; no dirs when placement is off. */
  struct vc_host_cgroup host_cgroup;
  char *created;     /* RFC 3339 */
  /* Its directory in the sandbox's share: <id>-<random>, new for every
   * create, so that the id can be used again at once (the guest may still
   * hold the share's entries of the deleted one for a few seconds); the id
   * itself for states saved before there was one. */
  char *share_name;
  /* What it asks of its VM on top of the base (lib/sizing.h), from its
   * linux.resources at create and `update`: the VM is sized to the base
   * plus the asks of every container in it. */
  struct vc_vm_ask vm_ask;
  pid_t shim_pid;    /* the process in --pid-file; exits with the init */
  /* 0 for a shim (known by its command line, which names dir); for `run`
   * in the foreground, which stands for the container itself: its start
   * time (vc_pid_start_time), which tells it from a reused pid. */
  unsigned long long shim_start;
  char *sandbox_id;  /* its own id, or the sandbox it joined */
  pid_t vm_pid;      /* a member's: the VM it joined (a later sandbox of the
                        same id is another, and means this one is gone) */
  /* The sandbox it runs in; for a member whose sandbox is gone, no VM
   * (sandbox.vm.ops NULL), so it reads as stopped and can be deleted. */
  struct vc_sandbox sandbox;
  int lock_fd; /* flock on dir while held, or -1 */
};

#define VC_CONTAINER_INIT {.lock_fd = -1, .sandbox = VC_SANDBOX_INIT}

/* True for the container that booted its sandbox's VM. */
bool vc_container_owns_sandbox(const struct vc_container *c);

/* Loads a container and its sandbox from the state root; lock: serialize
 * with other commands on it (held until vc_container_free).  An unknown id
 * fails with errnum ENOENT and "container `id` does not exist". */
int vc_container_load(const struct vc_context *ctx, const char *id, bool lock,
                      struct vc_container *c, vc_error **err);
void vc_container_free(struct vc_container *c);

/* config.json as create read it, kept in the container's state directory
 * (as runc keeps its copy): exec, state, hooks and pods read that, not the
 * bundle's, which may change or go after create.  The path falls back to
 * the bundle's for a state without a copy. */
char *vc_container_config_path(const struct vc_container *c);
int vc_container_load_spec(const struct vc_container *c, struct oci_spec **spec,
                           vc_error **err);

/* created | running | paused | stopped, from the VM and the agent. */
const char *vc_container_status(const struct vc_container *c);
/* The host pid standing for the container (its shim), 0 when stopped. */
pid_t vc_container_pid(const struct vc_container *c, const char *status);

/* The container's OCI state document (runtime.md), status given;
 * annotations from its config.json copy when asked. */
char *vc_container_state_json(const struct vc_container *c, const char *status,
                              bool annotations);

struct vc_create_options {
  const char *bundle;         /* the bundle directory */
  const char *pid_file;       /* or NULL */
  const char *console_socket; /* or NULL */
  bool keep; /* run in the foreground: keep the stopped container (its VM
                stopped) for state and delete, as runc run --keep */
};

/* vcrun create: the container exists with its process waiting for start,
 * a shim holding this process's stdio is running; pid_file gets its pid.
 * On failure nothing is left behind. */
int vc_container_create(const struct vc_context *ctx, const char *id,
                        const struct vc_create_options *o, vc_error **err);

/* vcrun start: lets the created process run; poststart hooks. */
int vc_container_start(const struct vc_context *ctx, const char *id,
                       vc_error **err);

/* vcrun run: detach: create and start, leaving the shim.  Otherwise the
 * container runs in the foreground with this process's stdio and is
 * deleted after; returns its exit status (128+N for signal N). */
int vc_container_run(const struct vc_context *ctx, const char *id,
                     const struct vc_create_options *o, bool detach,
                     vc_error **err);

/* vcrun kill: sig to the init, or with all to every process of it; sig 0
 * checks that the init exists.  With all, a stopped container is not an
 * error (runc 1.1). */
int vc_container_kill(const struct vc_context *ctx, const char *id, int sig,
                      bool all, vc_error **err);

/* vcrun delete: removes the container; the sandbox container takes its VM
 * with it, which a running member refuses unless force.  force: an unknown
 * id is fine, a running container is killed, and a container whose state
 * cannot be read any more is cleaned up from what can be found. */
int vc_container_delete(const struct vc_context *ctx, const char *id,
                        bool force, vc_error **err);

int vc_container_pause(const struct vc_context *ctx, const char *id,
                       vc_error **err);
int vc_container_resume(const struct vc_context *ctx, const char *id,
                        vc_error **err);

/* The processes in the container's cgroup, as the guest sees them (free
 * with vc_agent_result_free(VC_AGENT_LIST_PROCESSES, list)); none for a
 * stopped container. */
int vc_container_ps(const struct vc_context *ctx, const char *id,
                    struct vc_msg_process_list *list, vc_error **err);
/* The host pids standing for the container's processes: its shim and the
 * shims of detached execs (caller frees *pids). */
int vc_container_host_pids(const struct vc_context *ctx, const char *id,
                           pid_t **pids, size_t *n, vc_error **err);

/* vcrun update: each of resources (LinuxResources objects' text, applied in
 * order; NULL entries skipped). */
int vc_container_update(const struct vc_context *ctx, const char *id,
                        const char *const resources[], size_t n,
                        vc_error **err);

/* vcrun events --stats: the cgroup's figures as JSON text (caller frees).
 * A stopped container is an error with errnum ESRCH (also for kill, ps and
 * update). */
int vc_container_stats(const struct vc_context *ctx, const char *id,
                       char **stats_json, vc_error **err);

/* vcrun events: the processes the guest's OOM killer has killed in the
 * container's cgroup so far (its memory.events' oom_kill), and whether the
 * container has stopped (then *oom_kills is its last count, or 0 once its
 * VM is gone). */
int vc_container_oom_kills(const struct vc_context *ctx, const char *id,
                           uint32_t *oom_kills, bool *stopped, vc_error **err);

/* The ids under the state root, sorted as runc lists them (caller frees
 * each and the array). */
int vc_container_list(const struct vc_context *ctx, char ***ids, size_t *n,
                      vc_error **err);

/* What `exec ID CMD...` changes in the container's process. */
struct vc_exec_options {
  const char *process_file; /* --process: used as it is; else the below */
  char *const *args;
  size_t n_args;
  const char *const *env; /* --env, added */
  size_t n_env;
  const char *cwd;
  bool tty;
  bool set_uid, set_gid;
  unsigned long long uid, gid;     /* --user UID[:GID] */
  const unsigned long long *gids;  /* --additional-gids */
  size_t n_gids;
  const char *const *caps; /* --cap */
  size_t n_caps;
  bool no_new_privs;
  const char *apparmor_profile, *selinux_label;
  /* How it runs: */
  bool detach;
  const char *pid_file;
  const char *console_socket;
};

/* vcrun exec: detached, a shim runs the process and the call returns 0;
 * otherwise this process relays its stdio and the call returns its exit
 * status. */
int vc_container_exec(const struct vc_context *ctx, const char *id,
                      const struct vc_exec_options *o, vc_error **err);

/* The guest kernel has neither AppArmor nor SELinux: a label (NULL or ""
 * for none) is a warning or an error, as [runtime] lsm_labels says.  The
 * message names where (a file) and field_prefix + the field for the
 * process's labels, linux.mountLabel for mount_label. */
int vc_check_lsm_labels(const struct vc_context *ctx,
                        const char *apparmor_profile, const char *selinux_label,
                        const char *mount_label, const char *where,
                        const char *field_prefix, vc_error **err);

#endif
