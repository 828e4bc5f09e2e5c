/* A resized VM: hot-plugged memory comes online by itself
 * (memhp_default_state=online on the command line vmm/qemu.c writes), but
 * CPUs, hot-plugged or (under TCG) present from boot beyond maxcpus=, stay
 * offline in a guest without udev.  OnlineResources brings the count the
 * host asks online, then counts what is. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/base/agent_proto.h"
#include "lib/base/util.h"

#define CPU_DIR "/sys/devices/system/cpu"
#define MEMORY_DIR "/sys/devices/system/memory"

/* Reads a small sysfs file into buf (NUL-terminated, newline cut); -1 if
 * it cannot. */
static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

static int write_small(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* True for "cpu<digits>" / "memory<digits>". */
static bool numbered(const char *name, const char *prefix) {
  size_t len = strlen(prefix);
  if (strncmp(name, prefix, len) != 0 || name[len] == '\0')
    return false;
  return strspn(name + len, "0123456789") == strlen(name + len);
}

/* The numbers of the CPUs that can go on- and offline (cpu0 cannot: it
 * has no "online" file), ascending, and whether each is online; at most
 * max.  *always: CPUs that are always online. */
static size_t list_cpus(unsigned *nums, bool *online, size_t max,
                        uint32_t *always) {
  DIR *d = opendir(CPU_DIR);
  size_t n = 0;
  *always = 0;
  if (d == NULL)
    return 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    if (!numbered(de->d_name, "cpu"))
      continue;
    char path[320], state[16];
    snprintf(path, sizeof(path), CPU_DIR "/%s/online", de->d_name);
    if (read_small(path, state, sizeof(state)) < 0) {
      (*always)++;
      continue;
    }
    if (n == max)
      continue;
    unsigned num = (unsigned)strtoul(de->d_name + 3, NULL, 10);
    size_t i = n++;
    for (; i > 0 && nums[i - 1] > num; i--) { /* insertion: keep them sorted */
      nums[i] = nums[i - 1];
      online[i] = online[i - 1];
    }
    nums[i] = num;
    online[i] = strcmp(state, "1") == 0;
  }
  closedir(d);
  return n;
}

static bool set_cpu(unsigned num, bool up) {
  char path[96];
  snprintf(path, sizeof(path), CPU_DIR "/cpu%u/online", num);
  return write_small(path, up ? "1" : "0") == 0;
}

/* Brings CPUs up (lowest first) or down (highest first) until want are
 * online, as far as the present ones allow; the count online after. */
static uint32_t online_cpus(uint32_t want) {
  enum { MAX_CPUS = 512 };
  unsigned nums[MAX_CPUS];
  bool online[MAX_CPUS];
  uint32_t up;
  size_t n = list_cpus(nums, online, MAX_CPUS, &up);
  for (size_t i = 0; i < n; i++)
    up += online[i];
  for (size_t i = 0; i < n && up < want; i++)
    if (!online[i] && set_cpu(nums[i], true)) {
      online[i] = true;
      up++;
    }
  for (size_t i = n; i > 0 && up > want; i--)
    if (online[i - 1] && set_cpu(nums[i - 1], false)) {
      online[i - 1] = false;
      up--;
    }
  return up;
}

/* Brings offline memory blocks up; the online ones in MiB. */
static uint32_t online_memory_mib(void) {
  char text[32];
  if (read_small(MEMORY_DIR "/block_size_bytes", text, sizeof(text)) < 0)
    return 0;
  unsigned long long block = strtoull(text, NULL, 16);
  DIR *d = opendir(MEMORY_DIR);
  if (d == NULL || block == 0) {
    if (d != NULL)
      closedir(d);
    return 0;
  }
  unsigned long long blocks = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    if (!numbered(de->d_name, "memory"))
      continue;
    char path[320], state[32];
    snprintf(path, sizeof(path), MEMORY_DIR "/%s/state", de->d_name);
    if (read_small(path, state, sizeof(state)) < 0)
      continue;
    if (strcmp(state, "offline") == 0 && write_small(path, "online") == 0)
      strcpy(state, "online");
    if (strcmp(state, "online") == 0)
      blocks++;
  }
  closedir(d);
  unsigned long long mib = blocks * (block >> 20);
  return mib > UINT32_MAX ? UINT32_MAX : (uint32_t)mib;
}

int agent_online_resources(const struct vc_msg_online_resources *in,
                           struct vc_msg_online_result *out, vc_error **err) {
  if (in->vcpus == 0)
    return vc_error_set(err, EINVAL, "OnlineResources: vcpus must be 1 or more");
  out->vcpus = online_cpus(in->vcpus);
  out->memory_mib = online_memory_mib();
  return 0;
}
