/* Namespaces by type, and entering another container's namespaces from the
 * agent: a pod member's linux.namespaces[].path names a container of the
 * sandbox (the host resolved it), and the agent, which is single-threaded,
 * steps into that container's namespaces around the clone or fork of the
 * new process, then back into its own. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/util.h"

static const struct {
  const char *type, *proc_name;
  int flag;
} namespace_types[] = {
    {"pid", "pid", CLONE_NEWPID},       {"network", "net", CLONE_NEWNET},
    {"mount", "mnt", CLONE_NEWNS},      {"ipc", "ipc", CLONE_NEWIPC},
    {"uts", "uts", CLONE_NEWUTS},       {"user", "user", CLONE_NEWUSER},
    {"cgroup", "cgroup", CLONE_NEWCGROUP},
};

int agent_namespace_flag(const char *type, const char **proc_name) {
  for (size_t i = 0; i < N_ELEMS(namespace_types); i++)
    if (strcmp(type, namespace_types[i].type) == 0) {
      if (proc_name != NULL)
        *proc_name = namespace_types[i].proc_name;
      return namespace_types[i].flag;
    }
  return 0;
}

static int open_ns(pid_t pid, const char *name, vc_error **err) {
  char path[64];
  if (pid > 0)
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
  else
    snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    vc_error_set(err, errno, "open %s", path);
  return fd;
}

int agent_ns_switch_enter(struct agent_ns_switch *sw, pid_t pid,
                          const char *type, vc_error **err) {
  const char *name = NULL;
  int flag = agent_namespace_flag(type, &name);
  if (flag == 0 || flag == CLONE_NEWNS || flag == CLONE_NEWUSER ||
      sw->n == N_ELEMS(sw->own_fd))
    return vc_error_set(err, 0, "cannot enter a %s namespace of another "
                        "container", type);
  int own = open_ns(0, name, err);
  if (own < 0)
    return -1;
  cleanup_close int theirs = open_ns(pid, name, err);
  if (theirs < 0) {
    close(own);
    return -1;
  }
  if (setns(theirs, flag) < 0) {
    int e = errno;
    close(own);
    return vc_error_set(err, e, "enter the %s namespace of pid %d", type,
                        (int)pid);
  }
  sw->own_fd[sw->n] = own;
  sw->flag[sw->n] = flag;
  sw->n++;
  return 0;
}

void agent_ns_switch_back(struct agent_ns_switch *sw) {
  while (sw->n > 0) {
    sw->n--;
    /* Failing here would leave the agent in a container's namespace:
     * nothing sensible remains but to say so loudly. */
    if (setns(sw->own_fd[sw->n], sw->flag[sw->n]) < 0)
      agent_log("return to the agent's own namespace (flag %#x): %s",
                sw->flag[sw->n], strerror(errno));
    close(sw->own_fd[sw->n]);
  }
}
