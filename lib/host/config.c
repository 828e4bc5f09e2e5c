/* configuration.toml -> struct vc_config.  The accepted tables and keys are
 * described by the tables below; anything the file holds that they do not
 * describe is an error. */
#include "lib/host/config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/host/toml.h"
#include "lib/base/util.h"

#ifndef VC_DATADIR
#define VC_DATADIR "/usr/local/share"
#endif
#ifndef VC_LIBEXECDIR
#define VC_LIBEXECDIR "/usr/local/libexec"
#endif

enum key_kind {
  KEY_STRING, /* any string without control characters */
  KEY_PATH,   /* an absolute path */
  KEY_CHOICE, /* one of a list of words */
  KEY_UINT,   /* an integer in [min, max], stored multiplied by scale */
  KEY_BOOL,   /* true or false */
  KEY_OPT_PATH, /* an absolute path, or "" for a default */
};

struct key_spec {
  const char *name;
  enum key_kind kind;
  size_t offset;              /* of the field in struct vc_config */
  const char *const *choices; /* KEY_CHOICE, NULL-terminated */
  long long min, max;         /* KEY_UINT, as written in the file */
  unsigned scale;             /* KEY_UINT */
};

struct table_spec {
  const char *path; /* as vc_toml_table.path spells it */
  const struct key_spec *keys;
  size_t nkeys;
  const char *hypervisor; /* [hypervisor.<name>]: the backend it picks */
};

static const char *const machine_types[] = {"microvm", "q35", NULL};
static const char *const accels[] = {"auto", "kvm", "tcg", NULL};
static const char *const cache_modes[] = {"auto", "always", "none", NULL};
static const char *const transports[] = {"auto", "vhost-vsock", "hybrid-vsock",
                                         NULL};
static const char *const lsm_label_modes[] = {"warn", "error", NULL};
static const char *const net_models[] = {"tcfilter", "macvtap", "none", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error",
                                         NULL};

#define FIELD(f) offsetof(struct vc_config, f)

static const struct key_spec qemu_keys[] = {
    {"path", KEY_PATH, FIELD(hypervisor.path), NULL, 0, 0, 0},
    {"kernel", KEY_PATH, FIELD(hypervisor.kernel), NULL, 0, 0, 0},
    {"initrd", KEY_PATH, FIELD(hypervisor.initrd), NULL, 0, 0, 0},
    {"machine_type", KEY_CHOICE, FIELD(hypervisor.machine_type), machine_types,
     0, 0, 0},
    {"default_vcpus", KEY_UINT, FIELD(hypervisor.vcpus), NULL, 1, 64, 1},
    {"default_memory", KEY_UINT, FIELD(hypervisor.memory_mib), NULL, 64, 65536,
     1},
    {"default_maxvcpus", KEY_UINT, FIELD(hypervisor.max_vcpus), NULL, 0, 64, 1},
    {"default_maxmemory", KEY_UINT, FIELD(hypervisor.max_memory_mib), NULL, 0,
     1048576, 1},
    {"memory_slots", KEY_UINT, FIELD(hypervisor.memory_slots), NULL, 1, 256, 1},
    {"accel", KEY_CHOICE, FIELD(hypervisor.accel), accels, 0, 0, 0},
    {"kernel_params", KEY_STRING, FIELD(hypervisor.kernel_params), NULL, 0, 0,
     0},
    {"virtiofsd", KEY_PATH, FIELD(hypervisor.virtiofsd), NULL, 0, 0, 0},
    {"virtiofs_cache", KEY_CHOICE, FIELD(hypervisor.virtiofs_cache),
     cache_modes, 0, 0, 0},
    {"vsock_backend", KEY_PATH, FIELD(hypervisor.vsock_backend), NULL, 0, 0, 0},
    {"pcie_root_ports", KEY_UINT, FIELD(hypervisor.pcie_root_ports), NULL, 0,
     32, 1},
};

static const struct key_spec network_keys[] = {
    {"model", KEY_CHOICE, FIELD(network.model), net_models, 0, 0, 0},
};

static const struct key_spec agent_keys[] = {
    {"boot_timeout", KEY_UINT, FIELD(agent.boot_timeout_ms), NULL, 1, 3600,
     1000},
    {"request_timeout", KEY_UINT, FIELD(agent.request_timeout_ms), NULL, 1,
     3600, 1000},
    {"transport", KEY_CHOICE, FIELD(agent.transport), transports, 0, 0, 0},
};

static const struct key_spec runtime_keys[] = {
    {"log_level", KEY_CHOICE, FIELD(runtime.log_level), log_levels, 0, 0, 0},
    {"state_root", KEY_PATH, FIELD(runtime.state_root), NULL, 0, 0, 0},
    {"run_root", KEY_PATH, FIELD(runtime.run_root), NULL, 0, 0, 0},
    {"lsm_labels", KEY_CHOICE, FIELD(runtime.lsm_labels), lsm_label_modes, 0, 0, 0},
    {"host_cgroups", KEY_BOOL, FIELD(runtime.host_cgroups), NULL, 0, 0, 0},
    {"host_cgroup_overhead", KEY_UINT, FIELD(runtime.host_cgroup_overhead_mib),
     NULL, 0, 1048576, 1},
};

static const struct key_spec factory_keys[] = {
    {"enable", KEY_BOOL, FIELD(factory.enable), NULL, 0, 0, 0},
    {"pool_size", KEY_UINT, FIELD(factory.pool_size), NULL, 1, 64, 1},
    {"template", KEY_BOOL, FIELD(factory.template_vm), NULL, 0, 0, 0},
    {"path", KEY_OPT_PATH, FIELD(factory.path), NULL, 0, 0, 0},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A second backend gets its own [hypervisor.<name>] entry here, with the
 * keys it understands (most are shared: struct vc_hypervisor_config). */
static const struct table_spec tables[] = {
    {"", NULL, 0, NULL},
    {"hypervisor", NULL, 0, NULL},
    {"hypervisor.qemu", qemu_keys, N(qemu_keys), "qemu"},
    {"agent", agent_keys, N(agent_keys), NULL},
    {"runtime", runtime_keys, N(runtime_keys), NULL},
    {"network", network_keys, N(network_keys), NULL},
    {"factory", factory_keys, N(factory_keys), NULL},
};

struct ctx {
  const char *name;
  struct vc_config *cfg;
  vc_error **err;
  const struct vc_toml_table *hypervisor_table; /* the one seen, or NULL */
};

static int fail(struct ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int line, const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  vc_error_set(c->err, 0, "%s:%d: %s", c->name, line,
               msg != NULL ? msg : "out of memory");
  free(msg);
  return -1;
}

static const struct table_spec *find_table_spec(const char *path) {
  for (size_t i = 0; i < N(tables); i++)
    if (strcmp(tables[i].path, path) == 0)
      return &tables[i];
  return NULL;
}

/* "qemu, firecracker": the backends the file may name. */
static void hypervisor_names(char *list, size_t size) {
  list[0] = '\0';
  for (size_t i = 0; i < N(tables); i++)
    if (tables[i].hypervisor != NULL)
      snprintf(list + strlen(list), size - strlen(list), "%s%s",
               list[0] ? ", " : "", tables[i].hypervisor);
}

/* The hypervisor table t names the backend; only one may. */
static int choose_hypervisor(struct ctx *c, const struct vc_toml_table *t,
                             const struct table_spec *spec) {
  if (c->hypervisor_table != NULL)
    return fail(c, t->line, "[%s] and [%s] (line %d): give one "
                "[hypervisor.<name>] table, the hypervisor to use",
                t->path, c->hypervisor_table->path, c->hypervisor_table->line);
  c->hypervisor_table = t;
  free(c->cfg->hypervisor.type);
  c->cfg->hypervisor.type = xstrdup(spec->hypervisor);
  return 0;
}

static int apply_key(struct ctx *c, const struct key_spec *k,
                     const struct vc_toml_value *v) {
  void *field = (char *)c->cfg + k->offset;
  if (k->kind == KEY_BOOL) {
    if (v->type != VC_TOML_BOOL)
      return fail(c, v->line, "\"%s\" must be true or false", k->name);
    *(bool *)field = v->u.boolean;
    return 0;
  }
  if (k->kind == KEY_UINT) {
    if (v->type != VC_TOML_INTEGER)
      return fail(c, v->line, "\"%s\" must be an integer", k->name);
    if (v->u.integer < k->min || v->u.integer > k->max)
      return fail(c, v->line, "\"%s\" must be between %lld and %lld", k->name,
                  k->min, k->max);
    *(unsigned *)field = (unsigned)v->u.integer * k->scale;
    return 0;
  }
  if (k->kind == KEY_BOOL) {
    if (v->type != VC_TOML_BOOL)
      return fail(c, v->line, "\"%s\" must be true or false", k->name);
    *(bool *)field = v->u.boolean;
    return 0;
  }
  if (v->type != VC_TOML_STRING)
    return fail(c, v->line, "\"%s\" must be a string", k->name);
  const char *s = v->u.str;
  for (const char *p = s; *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return fail(c, v->line, "\"%s\" must not contain control characters",
                  k->name);
  if ((k->kind == KEY_PATH || (k->kind == KEY_OPT_PATH && s[0] != '\0')) &&
      s[0] != '/')
    return fail(c, v->line, "\"%s\" must be an absolute path", k->name);
  if (k->kind == KEY_CHOICE) {
    size_t i = 0;
    while (k->choices[i] != NULL && strcmp(k->choices[i], s) != 0)
      i++;
    if (k->choices[i] == NULL) {
      char list[128] = "";
      for (i = 0; k->choices[i] != NULL; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 i > 0 ? ", " : "", k->choices[i]);
      return fail(c, v->line, "\"%s\" must be one of %s", k->name, list);
    }
  }
  char **str = field;
  free(*str);
  *str = xstrdup(s);
  return 0;
}

static int apply_table(struct ctx *c, const struct vc_toml_table *t,
                       const struct table_spec *spec) {
  for (size_t i = 0; i < t->len; i++) {
    const char *key = t->entries[i].key;
    const struct vc_toml_value *v = &t->entries[i].value;
    const struct key_spec *k = NULL;
    for (size_t j = 0; j < spec->nkeys && k == NULL; j++)
      if (strcmp(spec->keys[j].name, key) == 0)
        k = &spec->keys[j];
    if (k != NULL) {
      if (apply_key(c, k, v) < 0)
        return -1;
      continue;
    }
    if (v->type == VC_TOML_TABLE) {
      const struct table_spec *sub = find_table_spec(v->u.table->path);
      if (sub == NULL && strcmp(t->path, "hypervisor") == 0) {
        char names[128];
        hypervisor_names(names, sizeof(names));
        return fail(c, v->u.table->line,
                    "unknown hypervisor [%s] (this vcrun has: %s)",
                    v->u.table->path, names);
      }
      if (sub == NULL)
        return fail(c, v->u.table->line, "unknown table [%s]",
                    v->u.table->path);
      if (sub->hypervisor != NULL && choose_hypervisor(c, v->u.table, sub) < 0)
        return -1;
      if (apply_table(c, v->u.table, sub) < 0)
        return -1;
      continue;
    }
    cleanup_free char *as_table =
        t->path[0] != '\0' ? xasprintf("%s.%s", t->path, key) : xstrdup(key);
    if (find_table_spec(as_table) != NULL)
      return fail(c, v->line, "\"%s\" must be a table", key);
    if (t->path[0] == '\0')
      return fail(c, v->line, "unknown key \"%s\" at the top level", key);
    return fail(c, v->line, "unknown key \"%s\" in [%s]", key, t->path);
  }
  return 0;
}

void vc_config_init_defaults(struct vc_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  struct vc_hypervisor_config *h = &cfg->hypervisor;
  h->type = xstrdup("qemu");
  h->path = xstrdup("/usr/bin/qemu-system-x86_64");
  h->kernel = xstrdup(VC_DATADIR "/vcrun/vmlinux");
  h->initrd = xstrdup(VC_DATADIR "/vcrun/initramfs.cpio");
  h->machine_type = xstrdup("q35");
  h->vcpus = 1;
  h->memory_mib = 256;
  h->max_vcpus = 0;
  h->max_memory_mib = 0;
  h->memory_slots = 10;
  h->accel = xstrdup("auto");
  h->kernel_params = xstrdup("");
  h->virtiofsd = xstrdup("/usr/lib/qemu/virtiofsd");
  h->virtiofs_cache = xstrdup("auto");
  h->vsock_backend = xstrdup(VC_LIBEXECDIR "/vcrun-vsock-backend");
  h->pcie_root_ports = 2;
  cfg->agent.boot_timeout_ms = 30 * 1000;
  cfg->agent.request_timeout_ms = 30 * 1000;
  cfg->agent.transport = xstrdup("auto");
  cfg->runtime.log_level = xstrdup("warn");
  cfg->runtime.state_root = xstrdup("/run/vcrun");
  cfg->runtime.run_root = xstrdup("/run/vcrun/s");
  cfg->runtime.lsm_labels = xstrdup("warn");
  cfg->runtime.host_cgroups = true;
  cfg->runtime.host_cgroup_overhead_mib = 384;
  cfg->network.model = xstrdup("tcfilter");
  cfg->factory.enable = false;
  cfg->factory.pool_size = 2;
  cfg->factory.template_vm = false;
  cfg->factory.path = xstrdup("");
}

void vc_config_free(struct vc_config *cfg) {
  struct vc_hypervisor_config *h = &cfg->hypervisor;
  char *strings[] = {cfg->source,
                     h->type,
                     h->path,
                     h->kernel,
                     h->initrd,
                     h->machine_type,
                     h->accel,
                     h->kernel_params,
                     h->virtiofsd,
                     h->virtiofs_cache,
                     h->vsock_backend,
                     cfg->agent.transport,
                     cfg->runtime.log_level,
                     cfg->runtime.state_root,
                     cfg->runtime.run_root,
                     cfg->runtime.lsm_labels,
                     cfg->network.model,
                     cfg->factory.path};
  for (size_t i = 0; i < N(strings); i++)
    free(strings[i]);
  memset(cfg, 0, sizeof(*cfg));
}

static int parse_text(const char *name, const char *text, size_t len,
                      struct vc_config *cfg, vc_error **err) {
  vc_config_init_defaults(cfg);
  cfg->source = xstrdup(name);
  struct vc_toml_table *root = NULL;
  int r = vc_toml_parse(name, text, len, &root, err);
  if (r == 0) {
    struct ctx c = {name, cfg, err, NULL};
    r = apply_table(&c, root, &tables[0]);
  }
  vc_toml_free(root);
  if (r < 0)
    vc_config_free(cfg);
  return r;
}

int vc_config_parse(const char *name, const char *text, struct vc_config *cfg,
                    vc_error **err) {
  return parse_text(name, text, strlen(text), cfg, err);
}

int vc_config_load(const char *path, struct vc_config *cfg, vc_error **err) {
  memset(cfg, 0, sizeof(*cfg));
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (vc_read_file(path, &text, &len, err) < 0)
    return -1;
  return parse_text(path, text, len, cfg, err);
}
