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

/* The container's namespaces in the order they are joined.  The user
 * namespace comes last, as nsenter orders a join that drops privilege: the
 * guest's root may enter every namespace of the container, but from inside
 * the container's user namespace it could not enter one the container
 * shares with the guest.  The mount namespace moves our root into the
 * container. */
static const struct {
  const char *name;
  int type;
} exec_namespaces[] = {
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
    {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},  {"user", CLONE_NEWUSER},
};

/* Opens init_pid's namespace `name`; -1 when it is ours already (one the
 * container shares with the agent: nothing to join). */
static int open_ns(pid_t init_pid, const char *name) {
  char path[64], own[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init_pid, name);
  snprintf(own, sizeof(own), "/proc/self/ns/%s", name);
  struct stat theirs_st, own_st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &theirs_st) < 0 || stat(own, &own_st) < 0)
    child_fail("exec: open %s: %s", path, strerror(errno));
  if (theirs_st.st_ino == own_st.st_ino && theirs_st.st_dev == own_st.st_dev) {
    close(fd);
    return -1;
  }
  return fd;
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
  /* Into the container's cgroup (limits, freezer, device rules) first,
   * while we are the guest's root: from the container's user namespace the
   * guest's cgroup files are not ours to write.  Before its cgroup
   * namespace, whose root that cgroup is. */
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", c->cgroup_dir);
  cleanup_close int procs_fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (procs_fd < 0 || write(procs_fd, "0", 1) != 1)
    child_fail("join cgroup %s: %s", c->cgroup_dir, strerror(errno));
  /* All opened first: in the container's mount namespace, /proc is the
   * container's and init_pid names nothing there. */
  int ns_fd[N_ELEMS(exec_namespaces)];
  for (size_t i = 0; i < N_ELEMS(exec_namespaces); i++)
    ns_fd[i] = open_ns(init_pid, exec_namespaces[i].name);
  for (size_t i = 0; i < N_ELEMS(exec_namespaces); i++) {
    if (ns_fd[i] < 0)
      continue;
    if (setns(ns_fd[i], exec_namespaces[i].type) < 0)
      child_fail("exec: join the container's %s namespace: %s",
                 exec_namespaces[i].name, strerror(errno));
    close(ns_fd[i]);
  }
  /* In a user namespace of its own, act as that namespace's root, as the
   * container's init does (and runc's nsexec): what we make, such as the
   * pty, is then owned by it. */
  if (ns_fd[N_ELEMS(exec_namespaces) - 1] >= 0 &&
      (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
    child_fail("exec: user namespace: become root (is 0 mapped?): %s",
               strerror(errno));
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
