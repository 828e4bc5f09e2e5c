/* The runtime configuration: configuration.toml (see
 * config/configuration.toml.in for every key) over built-in defaults.
 * Loading is strict: an unknown table or key, a value of the wrong type, a
 * number out of range or a word not in the allowed set is an error that
 * names the file and line. */
#ifndef VC_CONFIG_H
#define VC_CONFIG_H

#include <stdbool.h>

#include "lib/base/error.h"

/* [hypervisor.<type>]: the file holds at most one such table, and its name
 * picks the backend (vmm/hypervisor.h); without one, "qemu". */
struct vc_hypervisor_config {
  char *type;                 /* the backend: "qemu" */
  char *path;                 /* QEMU binary */
  char *kernel;               /* guest kernel (uncompressed vmlinux) */
  char *initrd;               /* guest initramfs */
  char *machine_type;         /* "microvm" or "q35" */
  unsigned vcpus;             /* default_vcpus, 1..64 */
  unsigned memory_mib;        /* default_memory, 64..65536 */
  unsigned max_vcpus;         /* default_maxvcpus, 0..64; 0: the host's CPUs */
  unsigned max_memory_mib;    /* default_maxmemory, 0..1048576; 0: the host's */
  unsigned memory_slots;      /* memory_slots, 1..256: DIMMs to hot-plug */
  char *accel;                /* "auto" | "kvm" | "tcg" */
  char *kernel_params;        /* extra params appended to the guest cmdline */
  char *virtiofsd;            /* default /usr/lib/qemu/virtiofsd */
  char *virtiofs_cache;       /* "auto" | "always" | "none" */
  char *vsock_backend;        /* vcrun-vsock-backend, for hybrid vsock */
  unsigned pcie_root_ports;   /* q35: free ports for hot-plug, 0..32 */
};

struct vc_agent_config {       /* [agent] */
  unsigned boot_timeout_ms;    /* boot_timeout (seconds in the file) -> ms */
  unsigned request_timeout_ms; /* request_timeout (seconds) -> ms */
  char *transport;             /* "auto" | "vhost-vsock" | "hybrid-vsock" */
};

struct vc_runtime_settings { /* [runtime] */
  char *log_level;           /* "debug" | "info" | "warn" | "error" */
  char *state_root;          /* default "/run/vcrun" */
  /* sandboxes' sockets, logs and shares, one short directory each;
   * default "/run/vcrun/s" */
  char *run_root;
  char *lsm_labels;          /* "warn" | "error": apparmorProfile, selinuxLabel */
  /* host_cgroups: a sandbox's host processes go into the host cgroup
   * linux.cgroupsPath names (lib/placement.h); default true */
  bool host_cgroups;
  /* host_cgroup_overhead (MiB): added to the pod's memory limit for the
   * VM's host cgroup (guest kernel, QEMU, virtiofsd, backend, shims) */
  unsigned host_cgroup_overhead_mib;
};

struct vc_network_config { /* [network] */
  char *model;              /* "tcfilter" | "macvtap" | "none" */
};

struct vc_factory_config { /* [factory]: a pool of pre-booted sandboxes */
  bool enable;              /* create claims a pooled VM when one is ready */
  unsigned pool_size;       /* pool_size, 1..64: idle VMs kept ready */
  bool template_vm;         /* template: clones of a saved VM (not built yet) */
  char *path;               /* the pool's directory; "" -> <run_root>/pool */
};

struct vc_config {
  char *source; /* path it was loaded from (NULL for bare defaults) */
  struct vc_hypervisor_config hypervisor;
  struct vc_agent_config agent;
  struct vc_runtime_settings runtime;
  struct vc_network_config network;
  struct vc_factory_config factory;
};

/* Fills every field with its built-in default (cfg is not freed first). */
void vc_config_init_defaults(struct vc_config *cfg);

/* Defaults, then the file overrides them.  On error cfg is left empty (all
 * NULL/0, so vc_config_free() is harmless but not needed). */
int vc_config_load(const char *path, struct vc_config *cfg, vc_error **err);

/* The same from text in memory; name is what error messages call it. */
int vc_config_parse(const char *name, const char *text, struct vc_config *cfg,
                    vc_error **err);

/* Frees the strings and zeroes cfg. */
void vc_config_free(struct vc_config *cfg);

#endif
