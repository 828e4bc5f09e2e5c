/* vcrun check: one line per host requirement, OK or FAIL with a remedy. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "lib/factory.h"
#include "lib/sandbox.h"
#include "lib/base/util.h"
#include "lib/host/cgroup.h"
#include "lib/host/netlink.h"
#include "vmm/hypervisor.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static int failures;

static void line(bool ok, const char *what, const char *detail,
                 const char *remedy) {
  printf("%-4s %-14s %s%s%s\n", ok ? "OK" : "FAIL", what, detail,
         ok || !remedy ? "" : " -- ", ok || !remedy ? "" : remedy);
  if (!ok)
    failures++;
}

static void check_file(const char *what, const char *path, int mode,
                       const char *remedy) {
  bool ok = access(path, mode) == 0;
  cleanup_free char *detail =
      ok ? xstrdup(path) : xasprintf("%s: %s", path, strerror(errno));
  line(ok, what, detail, remedy);
}

/* The layout the host cgroup placement (lib/placement.h) sees. */
static char *cgroup_layout(void) {
  struct vc_cgroup_hierarchies h;
  vc_error *e = NULL;
  if (vc_cgroup_detect(VC_CGROUP_ROOT, &h, &e) < 0) {
    char *msg = xstrdup(e->msg);
    vc_error_free(&e);
    return msg;
  }
  char *text = vc_cgroup_describe(&h);
  vc_cgroup_hierarchies_free(&h);
  return text;
}

/* The pool of pre-booted VMs: informative only, since create boots a VM
 * when the pool has none. */
static void check_factory(const struct vc_config *cfg) {
  if (!cfg->factory.enable) {
    line(true, "factory", "disabled ([factory] enable = false)", NULL);
    return;
  }
  struct vc_factory_status st;
  vc_error *e = NULL;
  if (vc_factory_status(cfg, &st, &e) < 0) {
    line(false, "factory", e->msg, "fix [hypervisor] or [agent] above");
    vc_error_free(&e);
    return;
  }
  cleanup_free char *detail =
      st.pool ? xasprintf("enabled: %u of %u ready, %u booting, %u dead "
                          "(key %s, %s); %u stale VM(s)", st.ready,
                          cfg->factory.pool_size, st.booting, st.dead, st.key,
                          st.root, st.stale_vms)
              : xasprintf("enabled, no pool for this configuration (key %s, %s): "
                          "vcrun factory init; creates boot their VMs meanwhile",
                          st.key, st.root);
  line(true, "factory", detail, NULL);
  vc_factory_status_free(&st);
}

int cmd_check(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  if (argc > 0)
    return vc_error_set(err, 0, "check: takes no arguments");
  if (vc_cli_context(cli, err) == NULL)
    return -1;
  const struct vc_hypervisor_config *h = &cli->cfg.hypervisor;
  failures = 0;
  printf("configuration: %s\n", cli->cfg.source ? cli->cfg.source : "(built-in defaults)");
  check_file("qemu", h->path, X_OK, "apt-get install qemu-system-x86");
  check_file("kernel", h->kernel, R_OK, "make guest && make install");
  check_file("initrd", h->initrd, R_OK, "make guest && make install");
  check_file("virtiofsd", h->virtiofsd, X_OK, "apt-get install qemu-system-x86");

  char why[256];
  vc_kvm_usable(why, sizeof(why));
  bool use_kvm;
  vc_error *aerr = NULL;
  if (vc_accel_resolve(h, &use_kvm, &aerr) < 0) {
    line(false, "accel", aerr->msg, "set accel = \"auto\" or \"tcg\"");
    vc_error_free(&aerr);
  } else {
    cleanup_free char *d = xasprintf("%s (accel = \"%s\"; KVM: %s)",
                                     use_kvm ? "KVM" : "TCG (software emulation)",
                                     h->accel, why);
    line(true, "accel", d, NULL);
  }

  bool hybrid;
  vc_error *terr = NULL;
  if (vc_sandbox_pick_transport(cli->cfg.agent.transport, &hybrid, &terr) < 0) {
    line(false, "vsock", terr->msg,
         "modprobe vhost_vsock, or set transport = \"auto\"");
    vc_error_free(&terr);
  } else if (hybrid) {
    line(true, "vsock",
         "hybrid vsock: vcrun's vhost-user-vsock backend (vhost-user-vsock-pci)",
         NULL);
  } else {
    line(true, "vsock", "vhost-vsock: the kernel's /dev/vhost-vsock (vhost-vsock-pci)",
         NULL);
  }
  bool tc_ok, mvt_ok;
  char why_tc[256], why_mvt[256];
  vc_net_probe_models(&tc_ok, why_tc, sizeof(why_tc), &mvt_ok, why_mvt, sizeof(why_mvt));
  const char *model = cli->cfg.network.model;
  cleanup_free char *net = xasprintf("model = \"%s\"; tcfilter: %s; macvtap: %s", model,
                                     tc_ok ? "yes" : why_tc, mvt_ok ? "yes" : why_mvt);
  line((strcmp(model, "tcfilter") != 0 || tc_ok) && (strcmp(model, "macvtap") != 0 || mvt_ok),
       "network", net, "set [network] model to one this host supports, or \"none\"");
  cleanup_free char *layout = cgroup_layout();
  cleanup_free char *cgroups = xasprintf(
      "%s; host_cgroups = %s", layout,
      cli->cfg.runtime.host_cgroups ? "true" : "false");
  line(true, "cgroups", cgroups, NULL);
  check_factory(&cli->cfg);
  const char *root = cli->cfg.runtime.state_root;
  bool root_ok = vc_mkdir_p(root, 0711, NULL) == 0 && access(root, W_OK) == 0;
  line(root_ok, "state root", root, "run as root, or pass --root DIR");
  if (failures)
    return vc_error_set(err, 0, "%d requirement(s) not met", failures);
  return 0;
}
