/* vcrun factory init|status|destroy (Kata's verbs): the pool of
 * pre-booted sandboxes of lib/factory.h.  `refill` is internal: create
 * starts it detached after a claim. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cmd/cli.h"
#include "lib/factory.h"

static void print_status(const struct vc_config *cfg,
                         const struct vc_factory_status *st) {
  printf("factory: %s, pool_size %u, template %s\n",
         cfg->factory.enable ? "enabled" : "disabled", cfg->factory.pool_size,
         cfg->factory.template_vm ? "on" : "off");
  printf("root: %s\n", st->root);
  printf("key: %s (%s)\n", st->key,
         st->pool ? "pool initialized" : "no pool: run vcrun factory init");
  printf("template: %s\n", !cfg->factory.template_vm ? "off"
                            : st->template_ready ? "ready" : "missing");
  printf("ready: %u\nbooting: %u\nclaiming: %u\ndead: %u\n", st->ready,
         st->booting, st->claiming, st->dead);
  printf("stale: %u key(s), %u VM(s)\n", st->stale_keys, st->stale_vms);
  for (size_t i = 0; i < st->n_vms; i++) {
    const struct vc_factory_vm *vm = &st->vms[i];
    printf("vm %s %s key %s qemu %d owner %d\n", vm->name, vm->state,
           vm->key, (int)vm->qemu_pid, (int)vm->owner);
  }
}

int cmd_factory(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const struct vc_opt opts[] = {{NULL, 0, false, NULL, NULL, NULL}};
  int first = vc_parse_opts("factory", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "factory: expects one of init, status, destroy");
  const char *verb = argv[first];
  const struct vc_context *ctx = vc_cli_context(cli, err);
  if (ctx == NULL)
    return -1;
  const struct vc_config *cfg = ctx->cfg;
  if (strcmp(verb, "init") == 0) {
    if (!cfg->factory.enable)
      return vc_error_set(err, 0, "factory init: [factory] enable is false in %s",
                          cfg->source ? cfg->source : "the built-in defaults");
    unsigned booted = 0;
    if (vc_factory_fill(cfg, true, &booted, err) < 0)
      return -1;
    printf("factory: %u VM(s) booted into the pool\n", booted);
    return 0;
  }
  if (strcmp(verb, "refill") == 0) {
    /* Started by a create that claimed a VM: its boots give way to the
     * containers that run (the ready VMs are reniced to 0). */
    if (setpriority(PRIO_PROCESS, 0, 10) < 0)
      vc_log(cli, "warning", "factory refill: cannot lower its priority");
    return cfg->factory.enable ? vc_factory_fill(cfg, false, NULL, err) : 0;
  }
  if (strcmp(verb, "destroy") == 0)
    return vc_factory_destroy(cfg, err);
  if (strcmp(verb, "status") == 0) {
    struct vc_factory_status st;
    if (vc_factory_status(cfg, &st, err) < 0)
      return -1;
    print_status(cfg, &st);
    vc_factory_status_free(&st);
    return 0;
  }
  return vc_error_set(err, 0, "factory: unknown verb `%s` (init, status, destroy)",
                      verb);
}
