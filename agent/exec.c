/* The child side of ExecProcess: a new process in a running container.  The
 * agent forked it after entering the container's pid namespace for its
 * children, so it is already in that namespace; it joins the others here
 * and takes the process's security settings as the container's init does. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/security.h"
#include "lib/base/util.h"

static void join(pid_t init_pid, const char *name, int type) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init_pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    child_fail("exec: open %s: %s", path, strerror(errno));
  /* The same namespace as ours (e.g. no network namespace) is fine. */
  if (setns(fd, type) < 0 && errno != EINVAL)
    child_fail("exec: join the container's %s namespace: %s", name,
               strerror(errno));
  close(fd);
}

_Noreturn void agent_exec_child(const struct agent_container *c,
                                const struct oci_process *p, int sync_fd,
                                int stdio[3]) {
  pid_t init_pid = c->init.pid;
  vc_error *err = NULL;
  agent_child_set_sync_fd(sync_fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  /* As for the init: capabilities checked and the container's seccomp
   * filter built while stderr is still the guest console. */
  struct agent_security *sec = NULL;
  child_check(agent_security_prepare(p, c->spec->seccomp_json, &sec, &err),
              &err);
  /* rlimits and oomScoreAdj while we are still the guest's root, before the
   * container's user namespace: runc sets them from the host too. */
  child_check(agent_process_limits(p, &err), &err);
  for (int i = 0; i < 3; i++)
    if (dup2(stdio[i], i) < 0)
      child_fail("dup2 stdio: %s", strerror(errno));
  setsid();
  /* First: the others may be owned by the container's user namespace. */
  join(init_pid, "user", CLONE_NEWUSER);
  join(init_pid, "ipc", CLONE_NEWIPC);
  join(init_pid, "uts", CLONE_NEWUTS);
  join(init_pid, "net", CLONE_NEWNET);
  /* Into the container's cgroup (limits, freezer) before its cgroup
   * namespace, whose root that cgroup is. */
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", c->cgroup_dir);
  cleanup_close int procs_fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (procs_fd < 0 || write(procs_fd, "0", 1) != 1)
    child_fail("join cgroup %s: %s", c->cgroup_dir, strerror(errno));
  join(init_pid, "cgroup", CLONE_NEWCGROUP);
  /* Last: entering the mount namespace moves our root into the container. */
  join(init_pid, "mnt", CLONE_NEWNS);
  const char *cwd = p->cwd && p->cwd[0] ? p->cwd : "/";
  if (chdir(cwd) < 0)
    child_fail("process.cwd `%s`: %s", cwd, strerror(errno));
  agent_child_terminal(p, sync_fd);
  cleanup_free char *exe = agent_resolve_executable(p);
  umask(p->user.has_umask ? p->user.umask : 0022);
  char **argv = xcalloc(p->n_args + 1, sizeof(char *));
  for (size_t i = 0; i < p->n_args; i++)
    argv[i] = p->args[i];
  char **envp = xcalloc(p->n_env + 1, sizeof(char *));
  for (size_t i = 0; i < p->n_env; i++)
    envp[i] = p->env[i];
  /* User, capabilities, no_new_privs and seccomp, the filter last: only
   * execve runs under it. */
  child_check(agent_security_apply(sec, &p->user, &err), &err);
  execve(exe, argv, envp);
  child_fail("exec: \"%s\": %s", p->args[0], strerror(errno));
}
