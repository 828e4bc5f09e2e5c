/* Feeds arbitrary bytes to the config.json parser, as a hostile or broken
 * bundle would, then to the host's checks (capability names, linux.seccomp
 * through libseccomp, sysctl keys) on what it accepts, and checks that
 * re-serializing any JSON it accepts is stable (serialize, parse,
 * serialize gives the same text). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "oci/spec.h"
#include "oci/spec_check.h"

static void check_round_trip(const char *text) {
  yajl_val tree = NULL, again = NULL;
  vc_error *err = NULL;
  char *first = NULL, *second = NULL;
  if (vc_json_parse(text, &tree, &err) < 0) {
    vc_error_free(&err);
    return;
  }
  if (vc_json_serialize(tree, &first, &err) < 0 ||
      vc_json_parse(first, &again, &err) < 0 ||
      vc_json_serialize(again, &second, &err) < 0 ||
      strcmp(first, second) != 0) {
    fprintf(stderr, "round trip failed: %s\n", err ? err->msg : "texts differ");
    abort();
  }
  free(first);
  free(second);
  yajl_tree_free(again);
  yajl_tree_free(tree);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';

  struct oci_spec *spec = NULL;
  vc_error *err = NULL;
  if (oci_spec_parse(text, "config.json", &spec, &err) == 0) {
    if (spec == NULL || err != NULL)
      abort();
    /* Touch what callers rely on: NULL-terminated vectors, annotations. */
    if (spec->process != NULL &&
        (spec->process->n_args == 0 || spec->process->args[spec->process->n_args] != NULL))
      abort();
    for (size_t i = 0; i < spec->n_annotations; i++)
      if (oci_spec_annotation(spec, spec->annotations[i].key) == NULL)
        abort();
    /* Errors of the checks name the file too. */
    if (oci_spec_check(spec, "config.json", &err) < 0 &&
        (err == NULL || strncmp(err->msg, "config.json: ", 13) != 0))
      abort();
    oci_spec_free(spec);
  } else if (spec != NULL || err == NULL || err->msg == NULL ||
             strncmp(err->msg, "config.json: ", 13) != 0) {
    abort();
  }
  vc_error_free(&err);

  check_round_trip(text);
  free(text);
  return 0;
}
