/* A bundle's config.json (OCI runtime spec, config.md and config-linux.md)
 * parsed into C structs and checked once, at load time, so that later code
 * can trust every field.  Also writes runc's default spec for `vcrun spec`.
 *
 * Conventions for everything below:
 *  - every pointer is owned by the spec and freed by oci_spec_free;
 *  - an optional string that is absent (or JSON null) is NULL;
 *  - a string vector (char **x with size_t n_x) is NULL when absent and
 *    otherwise holds n_x strings followed by a NULL, so args and env can be
 *    handed to execve as they are;
 *  - an array of structs is NULL with n == 0 when absent or empty;
 *  - fields not known here are ignored, as the spec requires;
 *  - linux.resources, linux.seccomp and linux.devices are not interpreted on
 *    the host: they are kept as compact JSON and passed to the guest. */
#ifndef VC_OCI_SPEC_H
#define VC_OCI_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

struct oci_user {
  uint32_t uid, gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
};

struct oci_rlimit {
  char *type; /* "RLIMIT_NOFILE"...; checked against Linux's list */
  uint64_t hard, soft;
};

struct oci_capabilities {
  char **bounding, **effective, **inheritable, **permitted, **ambient;
  size_t n_bounding, n_effective, n_inheritable, n_permitted, n_ambient;
};

struct oci_process {
  bool terminal;
  unsigned console_height, console_width; /* 0 when consoleSize is absent */
  struct oci_user user; /* uid 0, gid 0 when process.user is absent */
  char **args;
  size_t n_args; /* >= 1 */
  char **env;
  size_t n_env;
  char *cwd; /* absolute */
  struct oci_capabilities *capabilities; /* NULL if absent */
  struct oci_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj; /* -1000..1000 */
  char *apparmor_profile;
  char *selinux_label;
};

struct oci_mount {
  char *destination; /* never NULL nor empty */
  char *type, *source;
  char **options;
  size_t n_options;
};

struct oci_namespace {
  char *type; /* pid network mount ipc uts user cgroup time; no repeats */
  char *path; /* NULL (also for "") or absolute */
};

struct oci_id_mapping {
  uint32_t container_id, host_id, size;
};

struct oci_hook {
  char *path; /* absolute */
  char **args;
  size_t n_args;
  char **env;
  size_t n_env;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

struct oci_hooks {
  struct oci_hook *prestart, *create_runtime, *create_container,
      *start_container, *poststart, *poststop;
  size_t n_prestart, n_create_runtime, n_create_container, n_start_container,
      n_poststart, n_poststop;
};

/* One annotation, in document order; keys are unique and non-empty. */
struct oci_annotation {
  char *key, *value;
};

/* One linux.sysctl entry, in document order; keys are unique. */
struct oci_sysctl {
  char *key, *value;
};

struct oci_spec {
  char *oci_version; /* SemVer with major 1: 1.0.2-dev, 1.3.0 */
  char *root_path;   /* as written in config.json: relative to the bundle or absolute */
  bool root_readonly;
  char *hostname, *domainname;
  struct oci_process *process; /* NULL if absent */
  struct oci_mount *mounts;
  size_t n_mounts;
  struct oci_hooks hooks;
  struct oci_annotation *annotations;
  size_t n_annotations;
  /* linux */
  struct oci_namespace *namespaces;
  size_t n_namespaces;
  struct oci_id_mapping *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  char **masked_paths, **readonly_paths; /* absolute paths */
  size_t n_masked_paths, n_readonly_paths;
  char *cgroups_path;
  char *rootfs_propagation; /* [r]shared, [r]slave, [r]private, [r]unbindable */
  char *mount_label; /* linux.mountLabel (an SELinux context), NULL if absent */
  struct oci_sysctl *sysctl;
  size_t n_sysctl;
  char *resources_json; /* linux.resources (an object) as compact JSON, NULL if absent */
  char *seccomp_json;   /* linux.seccomp (an object) as compact JSON, NULL if absent */
  char *devices_json;   /* linux.devices (an array) as compact JSON, NULL if absent */
};

/* Parses and validates json_text.  source_name starts every error message
 * ("config.json: process.args: must be a non-empty array of strings");
 * fields are named by their JSON path, e.g. linux.namespaces[2].type. */
int oci_spec_parse(const char *json_text, const char *source_name,
                   struct oci_spec **out, vc_error **err);
/* Parses a process object alone (exec's --process file) with the checks
 * of config.json's process; errors start with source_name and name fields
 * as process.<field>.  On success (*out)->process is set. */
int oci_process_parse(const char *json_text, const char *source_name,
                      struct oci_spec **out, vc_error **err);
/* Reads and parses BUNDLE/config.json; errors name that path. */
int oci_spec_load(const char *bundle_dir, struct oci_spec **out, vc_error **err);
/* The same for a config.json at path. */
int oci_spec_load_file(const char *path, struct oci_spec **out, vc_error **err);
void oci_spec_free(struct oci_spec *spec);
/* Scope-bound: a parsed spec freed when it goes out of scope. */
static inline void oci_spec_freep(struct oci_spec **spec) { oci_spec_free(*spec); }
#define cleanup_spec __attribute__((cleanup(oci_spec_freep)))
/* The value of annotation key, NULL if absent. */
const char *oci_spec_annotation(const struct oci_spec *spec, const char *key);

/* The config.json that `runc spec` (runc 1.1) writes, byte for byte:
 * tab-indented, no trailing newline.  With rootless, what
 * `runc spec --rootless` writes: no network namespace, a user namespace
 * mapping the caller's euid/egid to 0, /sys bind-mounted, no gid=5 on
 * /dev/pts and no device rules. */
int oci_spec_default_json(bool rootless, char **out, vc_error **err);

/* A bind mount (type "bind", or a "bind"/"rbind" option, as runc decides):
 * its source is a host path, shared into the guest under the sandbox's
 * shared directory as mounts/<index>. */
bool oci_mount_is_bind(const struct oci_mount *m);

/* The part of a bind mount's source below root.path ("" for the root
 * itself), both taken as written, relative ones from bundle; NULL for a
 * source elsewhere, or one that reaches the root only through ".." or a
 * symlink.  runc binds such a source in the container's mount namespace,
 * where it shows the mounts made before it (an earlier mounts[] entry may
 * even create it): the agent binds it from the container's rootfs, and the
 * host shares nothing of its own for it.  The caller frees it. */
char *oci_mount_source_in_root(const struct oci_spec *spec, const char *bundle,
                               const struct oci_mount *m);

/* True if options[] holds name. */
bool oci_mount_has_option(const struct oci_mount *m, const char *name);

#endif
