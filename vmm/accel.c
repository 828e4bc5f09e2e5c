#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/hypervisor.h"
#include "lib/base/util.h"

static bool cpu_has_virt_extensions(void) {
  FILE *f = fopen("/proc/cpuinfo", "re");
  if (f == NULL)
    return false;
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "flags", 5) != 0)
      continue;
    found = strstr(line, " vmx") != NULL || strstr(line, " svm") != NULL;
    break;
  }
  fclose(f);
  return found;
}

bool vc_kvm_usable(char *why, size_t why_size) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, why_size, "/dev/kvm: %s", strerror(errno));
    return false;
  }
  close(fd);
  if (access("/sys/module/kvm_pvm", F_OK) == 0) {
    snprintf(why, why_size, "/dev/kvm is a nested paravirtual KVM (kvm_pvm), "
                            "under which stock guest kernels hang");
    return false;
  }
  if (!cpu_has_virt_extensions()) {
    snprintf(why, why_size, "the CPU shows neither vmx nor svm");
    return false;
  }
  snprintf(why, why_size, "/dev/kvm works with hardware virtualization");
  return true;
}

int vc_accel_resolve(const struct vc_hypervisor_config *cfg, bool *use_kvm,
                     vc_error **err) {
  char why[256];
  if (strcmp(cfg->accel, "tcg") == 0) {
    *use_kvm = false;
  } else if (strcmp(cfg->accel, "kvm") == 0) {
    if (!vc_kvm_usable(why, sizeof(why)))
      return vc_error_set(err, 0, "accel = \"kvm\" but KVM is not usable: %s",
                          why);
    *use_kvm = true;
  } else {
    *use_kvm = vc_kvm_usable(why, sizeof(why));
  }
  return 0;
}
