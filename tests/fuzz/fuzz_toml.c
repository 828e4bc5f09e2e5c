/* Feeds arbitrary bytes to the TOML-subset parser (walking and freeing the
 * tree it returns) and to the configuration loader built on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/host/config.h"
#include "lib/host/toml.h"

/* Touches every node, so that a bad pointer in the tree shows up here. */
static size_t walk(const struct vc_toml_table *t) {
  size_t n = strlen(t->path);
  for (size_t i = 0; i < t->len; i++) {
    const struct vc_toml_entry *e = &t->entries[i];
    n += strlen(e->key) + (vc_toml_get(t, e->key) == &e->value);
    const struct vc_toml_value *v = &e->value;
    if (v->type == VC_TOML_TABLE)
      n += walk(v->u.table);
    else if (v->type == VC_TOML_STRING)
      n += strlen(v->u.str);
    else if (v->type == VC_TOML_ARRAY)
      for (size_t j = 0; j < v->u.array.len; j++)
        if (v->u.array.items[j].type == VC_TOML_STRING)
          n += strlen(v->u.array.items[j].u.str);
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct vc_toml_table *root = NULL;
  vc_error *err = NULL;
  if (vc_toml_parse("fuzz.toml", (const char *)data, size, &root, &err) == 0) {
    volatile size_t sink = walk(root);
    (void)sink;
    (void)vc_toml_lookup(root, "hypervisor.qemu", "path");
    vc_toml_free(root);
  } else if (err == NULL || strncmp(err->msg, "fuzz.toml:", 10) != 0) {
    abort(); /* every failure must say where */
  }
  vc_error_free(&err);

  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  struct vc_config cfg;
  if (vc_config_parse("fuzz.toml", text, &cfg, &err) == 0)
    vc_config_free(&cfg);
  vc_error_free(&err);
  free(text);
  return 0;
}
