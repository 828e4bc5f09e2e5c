/* The TOML-subset parser: what it accepts, the tree it builds, and an exact
 * "name:LINE: message" for every kind of error. */
#include <limits.h>
#include <stdlib.h>

#include "test.h"
#include "lib/host/toml.h"

static struct vc_toml_table *parse_len(const char *text, size_t len) {
  struct vc_toml_table *t = NULL;
  vc_error *err = NULL;
  if (vc_toml_parse("t.toml", text, len, &t, &err) < 0 || t == NULL) {
    fprintf(stderr, "  unexpected error: %s\n", err ? err->msg : "(none)");
    test_failed_checks++;
  }
  vc_error_free(&err);
  return t;
}

static struct vc_toml_table *parse(const char *text) {
  return parse_len(text, strlen(text));
}

/* True when text fails with exactly the message want, and leaves nothing. */
static int fails_with(const char *name, const char *text, size_t len,
                      const char *want) {
  struct vc_toml_table *t = NULL;
  vc_error *err = NULL;
  int r = vc_toml_parse(name, text, len, &t, &err);
  int ok = r < 0 && t == NULL && err != NULL && strcmp(err->msg, want) == 0;
  if (!ok)
    fprintf(stderr, "  want \"%s\"\n   got \"%s\"\n", want,
            r == 0 ? "success"
            : err  ? err->msg
                   : "(no error)");
  vc_error_free(&err);
  vc_toml_free(t);
  return ok;
}

/* String literals only: sizeof keeps embedded NUL bytes. */
#define ERR(text, want)                                                        \
  CHECK(fails_with("t.toml", text, sizeof(text) - 1, want))

static const char *str_at(const struct vc_toml_table *root, const char *path,
                          const char *key) {
  const struct vc_toml_value *v = vc_toml_lookup(root, path, key);
  return v != NULL && v->type == VC_TOML_STRING ? v->u.str : NULL;
}

static int int_is(const struct vc_toml_table *root, const char *path,
                  const char *key, long long want) {
  const struct vc_toml_value *v = vc_toml_lookup(root, path, key);
  return v != NULL && v->type == VC_TOML_INTEGER && v->u.integer == want;
}

TEST(empty_and_comment_only_documents) {
  struct vc_toml_table *t = parse("");
  CHECK(t != NULL && t->len == 0 && t->defined && strcmp(t->path, "") == 0);
  vc_toml_free(t);
  t = parse("# only a comment\n\n   \n\t# indented comment\n#no newline");
  CHECK(t != NULL && t->len == 0);
  vc_toml_free(t);
}

TEST(tables_keys_and_lines) {
  struct vc_toml_table *t = parse("top = 1\n"
                                  "\n"
                                  "[hypervisor.qemu]  # a comment\n"
                                  "path = \"/usr/bin/qemu\"\n"
                                  "vcpus=2\n"
                                  "[agent]\n"
                                  "  debug = true\n"
                                  "  quiet = false # trailing comment\n");
  CHECK(t != NULL);
  CHECK(int_is(t, "", "top", 1));
  CHECK(int_is(t, NULL, "top", 1));
  CHECK_STR(str_at(t, "hypervisor.qemu", "path"), "/usr/bin/qemu");
  CHECK(int_is(t, "hypervisor.qemu", "vcpus", 2));
  const struct vc_toml_value *v = vc_toml_lookup(t, "agent", "debug");
  CHECK(v != NULL && v->type == VC_TOML_BOOL && v->u.boolean && v->line == 7);
  v = vc_toml_lookup(t, "agent", "quiet");
  CHECK(v != NULL && v->type == VC_TOML_BOOL && !v->u.boolean && v->line == 8);

  const struct vc_toml_table *q = vc_toml_get_table(t, "hypervisor.qemu");
  CHECK(q != NULL && q->line == 3 && q->defined && q->len == 2);
  CHECK(q != NULL && strcmp(q->path, "hypervisor.qemu") == 0);
  const struct vc_toml_table *h = vc_toml_get_table(t, "hypervisor");
  CHECK(h != NULL && !h->defined && h->len == 1); /* implicit */
  CHECK(vc_toml_get_table(t, "agent") != NULL);
  CHECK(vc_toml_get_table(t, "nope") == NULL);
  CHECK(vc_toml_get_table(t, "top") == NULL); /* a value, not a table */
  CHECK(vc_toml_get_table(t, "hypervisor.qemu.path") == NULL);
  CHECK(vc_toml_lookup(t, "agent", "missing") == NULL);
  CHECK(vc_toml_lookup(t, "missing", "debug") == NULL);
  CHECK(vc_toml_lookup(t, "hyper", "qemu") == NULL); /* no prefix matches */

  /* Walking the root: keys in document order, with their types. */
  CHECK(t != NULL && t->len == 3);
  if (t != NULL && t->len == 3) {
    CHECK_STR(t->entries[0].key, "top");
    CHECK(t->entries[0].value.line == 1);
    CHECK_STR(t->entries[1].key, "hypervisor");
    CHECK(t->entries[1].value.type == VC_TOML_TABLE);
    CHECK_STR(t->entries[2].key, "agent");
  }
  vc_toml_free(t);
}

TEST(basic_string_escapes) {
  struct vc_toml_table *t = parse("a = \"q\\\"b\\\\n\\n t\\t r\\r bf\\b\\f\"\n"
                                  "e = \"caf\\u00e9 \\u20AC \\U0001F600\"\n"
                                  "raw = \"caf\xc3\xa9 # not a comment\"\n"
                                  "empty = \"\"\n"
                                  "tab = \"a\tb\"\n");
  CHECK_STR(str_at(t, "", "a"), "q\"b\\n\n t\t r\r bf\b\f");
  CHECK_STR(str_at(t, "", "e"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK_STR(str_at(t, "", "raw"), "caf\xc3\xa9 # not a comment");
  CHECK_STR(str_at(t, "", "empty"), "");
  CHECK_STR(str_at(t, "", "tab"), "a\tb");
  vc_toml_free(t);
}

TEST(literal_strings_have_no_escapes) {
  struct vc_toml_table *t = parse("p = 'C:\\Users\\n \"quoted\"'\ne = ''\n");
  CHECK_STR(str_at(t, "", "p"), "C:\\Users\\n \"quoted\"");
  CHECK_STR(str_at(t, "", "e"), "");
  vc_toml_free(t);
}

TEST(integers) {
  struct vc_toml_table *t = parse("a = 0\nb = +7\nc = -0\nd = 1_000_000\n"
                                  "e = -42\n"
                                  "max = 9223372036854775807\n"
                                  "min = -9223372036854775808\n"
                                  "f = 1_2_3\n");
  CHECK(int_is(t, "", "a", 0));
  CHECK(int_is(t, "", "b", 7));
  CHECK(int_is(t, "", "c", 0));
  CHECK(int_is(t, "", "d", 1000000));
  CHECK(int_is(t, "", "e", -42));
  CHECK(int_is(t, "", "max", LLONG_MAX));
  CHECK(int_is(t, "", "min", LLONG_MIN));
  CHECK(int_is(t, "", "f", 123));
  vc_toml_free(t);
}

TEST(arrays) {
  struct vc_toml_table *t = parse("s = [\"a\", 'b' ,\"c\"]\n"
                                  "n = [\n"
                                  "  1,  # one\n"
                                  "  # a comment line\n"
                                  "\n"
                                  "  -2,\n"
                                  "]\n"
                                  "e = []\n"
                                  "b = [true,false]\n"
                                  "after = 1\n");
  const struct vc_toml_value *v = vc_toml_lookup(t, "", "s");
  CHECK(v != NULL && v->type == VC_TOML_ARRAY && v->u.array.len == 3);
  if (v != NULL && v->type == VC_TOML_ARRAY && v->u.array.len == 3) {
    CHECK_STR(v->u.array.items[0].u.str, "a");
    CHECK_STR(v->u.array.items[1].u.str, "b");
    CHECK_STR(v->u.array.items[2].u.str, "c");
  }
  v = vc_toml_lookup(t, "", "n");
  CHECK(v != NULL && v->type == VC_TOML_ARRAY && v->u.array.len == 2 &&
        v->line == 2);
  if (v != NULL && v->type == VC_TOML_ARRAY && v->u.array.len == 2) {
    CHECK(v->u.array.items[0].type == VC_TOML_INTEGER);
    CHECK(v->u.array.items[0].u.integer == 1 && v->u.array.items[0].line == 3);
    CHECK(v->u.array.items[1].u.integer == -2 && v->u.array.items[1].line == 6);
  }
  v = vc_toml_lookup(t, "", "e");
  CHECK(v != NULL && v->type == VC_TOML_ARRAY && v->u.array.len == 0);
  v = vc_toml_lookup(t, "", "b");
  CHECK(v != NULL && v->type == VC_TOML_ARRAY && v->u.array.len == 2 &&
        v->u.array.items[0].u.boolean && !v->u.array.items[1].u.boolean);
  v = vc_toml_lookup(t, "", "after");
  CHECK(v != NULL && v->line == 10); /* lines inside the array counted */
  vc_toml_free(t);
}

TEST(keys_quoting_and_whitespace) {
  struct vc_toml_table *t = parse("\"my key\" = 1\n"
                                  "'lit.key' = 2\n"
                                  "bare-key_9 = 3\n"
                                  "\"\" = 4\n"
                                  "[ a . \"b.c\" ]\n"
                                  "x = 5\n"
                                  "[\t'd' . e\t]\n"
                                  "y = 6\n");
  CHECK(int_is(t, "", "my key", 1));
  CHECK(int_is(t, "", "lit.key", 2));
  CHECK(int_is(t, "", "bare-key_9", 3));
  CHECK(int_is(t, "", "", 4));
  const struct vc_toml_table *a = vc_toml_get_table(t, "a");
  const struct vc_toml_value *bc = vc_toml_get(a, "b.c");
  CHECK(bc != NULL && bc->type == VC_TOML_TABLE);
  if (bc != NULL && bc->type == VC_TOML_TABLE) {
    CHECK_STR(bc->u.table->path, "a.\"b.c\"");
    CHECK(int_is(bc->u.table, "", "x", 5));
  }
  CHECK(int_is(t, "d.e", "y", 6));
  vc_toml_free(t);
}

TEST(implicit_table_may_be_defined_later) {
  struct vc_toml_table *t = parse("[a.b]\nx = 1\n[a]\ny = 2\n[a.c]\n");
  CHECK(int_is(t, "a.b", "x", 1));
  CHECK(int_is(t, "a", "y", 2));
  const struct vc_toml_table *a = vc_toml_get_table(t, "a");
  CHECK(a != NULL && a->defined && a->line == 3 && a->len == 3);
  CHECK(vc_toml_get_table(t, "a.c") != NULL);
  vc_toml_free(t);
}

TEST(crlf_and_bom) {
  struct vc_toml_table *t =
      parse("\xef\xbb\xbf# c\r\n[t]\r\nk = 'v'\r\nn = [\r\n1,\r\n]\r\nz = 2");
  CHECK_STR(str_at(t, "t", "k"), "v");
  const struct vc_toml_value *z = vc_toml_lookup(t, "t", "z");
  CHECK(z != NULL && z->line == 7 && z->u.integer == 2);
  vc_toml_free(t);
  ERR("a = 1\r\nb = 2\r\nc = x\r\n", "t.toml:3: invalid value");
}

TEST(type_names) {
  CHECK_STR(vc_toml_type_name(VC_TOML_STRING), "string");
  CHECK_STR(vc_toml_type_name(VC_TOML_INTEGER), "integer");
  CHECK_STR(vc_toml_type_name(VC_TOML_BOOL), "boolean");
  CHECK_STR(vc_toml_type_name(VC_TOML_ARRAY), "array");
  CHECK_STR(vc_toml_type_name(VC_TOML_TABLE), "table");
}

TEST(error_prefix_uses_the_given_name) {
  const char text[] = "ok = 1\n\nbad\n";
  CHECK(fails_with("/etc/vcrun/configuration.toml", text, sizeof(text) - 1,
                   "/etc/vcrun/configuration.toml:3: expected '=' after key "
                   "\"bad\""));
}

TEST(duplicates_and_redefinitions) {
  ERR("a = 1\na = 2\n",
      "t.toml:2: duplicate key \"a\" (first defined on line 1)");
  ERR("[t]\nk = 'x'\n\nk = \"y\"\n",
      "t.toml:4: duplicate key \"k\" (first defined on line 2)");
  ERR("\"a\" = 1\na = 2\n",
      "t.toml:2: duplicate key \"a\" (first defined on line 1)");
  ERR("[a]\n[b]\n[a]\n",
      "t.toml:3: duplicate table [a] (first defined on line 1)");
  ERR("[a.b]\nx = 1\n[a.b]\n",
      "t.toml:3: duplicate table [a.b] (first defined on line 1)");
  ERR("[a.b]\n[a]\n[a]\n",
      "t.toml:3: duplicate table [a] (first defined on line 2)");
  ERR("[a]\nb = 1\n[a.b]\n",
      "t.toml:3: key \"b\" (line 2) redefined as a table");
  ERR("a = 1\n[a.b]\n", "t.toml:2: key \"a\" (line 1) redefined as a table");
  ERR("[a.b]\n[a]\nb = 1\n", "t.toml:3: key \"b\" is already the table [a.b]");
}

TEST(unterminated_strings) {
  ERR("a = \"abc\nb = 1\n", "t.toml:1: unterminated string");
  ERR("a = 1\nb = \"abc", "t.toml:2: unterminated string");
  ERR("a = 'abc\n", "t.toml:1: unterminated string");
  ERR("a = 'abc", "t.toml:1: unterminated string");
  ERR("a = \"abc\\", "t.toml:1: unterminated string");
  ERR("a = \"abc\r\n", "t.toml:1: unterminated string");
  ERR("\"key = 1\n", "t.toml:1: unterminated string");
  ERR("[\"tab]\n", "t.toml:1: unterminated string");
}

TEST(text_after_values_and_headers) {
  ERR("a = 1 2\n", "t.toml:1: unexpected text after value");
  ERR("a = \"x\"y\n", "t.toml:1: unexpected text after value");
  ERR("a = 'x' 'y'\n", "t.toml:1: unexpected text after value");
  ERR("a = [1] ]\n", "t.toml:1: unexpected text after value");
  ERR("\n[a] b = 1\n", "t.toml:2: unexpected text after table header");
  ERR("[a]]\n", "t.toml:1: unexpected text after table header");
  ERR("a = truex\n", "t.toml:1: invalid value");
  ERR("a = 1\rb = 2\n", "t.toml:1: stray control character after value");
}

TEST(control_characters_and_encoding) {
  ERR("a = \"x\x01y\"\n", "t.toml:1: control character in string");
  ERR("a = 'x\x1fy'\n", "t.toml:1: control character in string");
  ERR("a = \"x\x7f\"\n", "t.toml:1: control character in string");
  ERR("a = 1\n# bell \x07\n", "t.toml:2: control character in comment");
  ERR("a = 1 # \x7f\n", "t.toml:1: control character in comment");
  ERR("a = 1\nb = 2\0\n", "t.toml:2: NUL byte in the file");
  ERR("\na = \"\xff\"\n", "t.toml:2: invalid UTF-8");
  ERR("a = \"\xc0\xaf\"\n", "t.toml:1: invalid UTF-8");         /* overlong */
  ERR("a = \"\xed\xa0\x80\"\n", "t.toml:1: invalid UTF-8");     /* surrogate */
  ERR("a = \"\xf4\x90\x80\x80\"\n", "t.toml:1: invalid UTF-8"); /* > U+10FFFF */
  ERR("a = \"\xe2\x82\"\n", "t.toml:1: invalid UTF-8");         /* truncated */
  ERR("a = \"\xe2\x82", "t.toml:1: invalid UTF-8");             /* at the end */
}

TEST(escape_errors) {
  ERR("a = \"\\x41\"\n", "t.toml:1: invalid escape sequence \"\\x\"");
  ERR("a = \"\\ \"\n", "t.toml:1: invalid escape sequence");
  ERR("a = \"\\u12\"\n", "t.toml:1: \\u needs 4 hexadecimal digits");
  ERR("a = \"\\U0001F60\"\n", "t.toml:1: \\U needs 8 hexadecimal digits");
  ERR("a = \"\\u0000\"\n", "t.toml:1: \\u escape of NUL is not allowed");
  ERR("a = \"\\uD800\"\n",
      "t.toml:1: \\u escape is not a Unicode scalar value");
  ERR("a = \"\\U00110000\"\n",
      "t.toml:1: \\U escape is not a Unicode scalar value");
}

TEST(integer_errors) {
  ERR("a = 9223372036854775808\n",
      "t.toml:1: integer \"9223372036854775808\" is out of range");
  ERR("a = -9223372036854775809\n",
      "t.toml:1: integer \"-9223372036854775809\" is out of range");
  ERR("a = 99999999999999999999999\n",
      "t.toml:1: integer \"99999999999999999999999\" is out of range");
  ERR("a = 007\n", "t.toml:1: leading zeros are not allowed in \"007\"");
  ERR("a = -01\n", "t.toml:1: leading zeros are not allowed in \"-01\"");
  ERR("a = 1__0\n", "t.toml:1: '_' must be between digits in \"1__0\"");
  ERR("a = 1_\n", "t.toml:1: '_' must be between digits in \"1_\"");
  ERR("a = +_1\n", "t.toml:1: '_' must be between digits in \"+_1\"");
  ERR("a = +\n", "t.toml:1: invalid integer \"+\"");
  ERR("a = --1\n", "t.toml:1: invalid integer \"--1\"");
  ERR("a = 12abc\n", "t.toml:1: invalid integer \"12abc\"");
  ERR("a = 1.5\n", "t.toml:1: floats are not supported");
  ERR("a = 1e3\n", "t.toml:1: floats are not supported");
  ERR("a = -inf\n", "t.toml:1: floats are not supported");
  ERR("a = nan\n", "t.toml:1: floats are not supported");
  ERR("a = 0x1f\n",
      "t.toml:1: hexadecimal, octal and binary integers are not supported");
  ERR("a = 1979-05-27\n", "t.toml:1: dates and times are not supported");
  ERR("a = 07:32:00\n", "t.toml:1: dates and times are not supported");
}

TEST(unsupported_syntax) {
  ERR("a.b = 1\n",
      "t.toml:1: dotted keys are not supported, use a [table] header");
  ERR("[[servers]]\n",
      "t.toml:1: arrays of tables ([[...]]) are not supported");
  ERR("a = { x = 1 }\n", "t.toml:1: inline tables are not supported");
  ERR("a = \"\"\"\nx\"\"\"\n",
      "t.toml:1: multi-line strings are not supported");
  ERR("a = '''x'''\n", "t.toml:1: multi-line strings are not supported");
  ERR("a = [[1]]\n", "t.toml:1: nested arrays are not supported");
}

TEST(malformed_lines) {
  ERR("a\n", "t.toml:1: expected '=' after key \"a\"");
  ERR("a 1\n", "t.toml:1: expected '=' after key \"a\"");
  ERR("= 1\n", "t.toml:1: expected a key");
  ERR("\xc3\xa9 = 1\n", "t.toml:1: expected a key");
  ERR("a =\n", "t.toml:1: missing value");
  ERR("a = # comment\n", "t.toml:1: missing value");
  ERR("a = ", "t.toml:1: missing value");
  ERR("a = hello\n", "t.toml:1: invalid value");
  ERR("a = True\n", "t.toml:1: invalid value");
  ERR("[a\n", "t.toml:1: expected '.' or ']' in table header");
  ERR("[a b]\n", "t.toml:1: expected '.' or ']' in table header");
  ERR("[]\n", "t.toml:1: expected a key");
  ERR("[a.]\n", "t.toml:1: expected a key");
  ERR("[.a]\n", "t.toml:1: expected a key");
  ERR("[a..b]\n", "t.toml:1: expected a key");
  ERR("[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.A.B.C.D.E.F.G]\n",
      "t.toml:1: table header has more than 32 keys");
}

TEST(array_errors) {
  ERR("a = [1, \"a\"]\n", "t.toml:1: array mixes integer and string values");
  ERR("a = [\n  'x',\n  true,\n]\n",
      "t.toml:3: array mixes string and boolean values");
  ERR("a = [1,\n2\n", "t.toml:3: unterminated array (opened on line 1)");
  ERR("a = [", "t.toml:1: unterminated array (opened on line 1)");
  ERR("a = [1 2]\n", "t.toml:1: expected ',' or ']' in array");
  ERR("a = [1,,2]\n", "t.toml:1: invalid value");
  ERR("a = [,]\n", "t.toml:1: invalid value");
  ERR("a = [\n  1,\n  x,\n]\n", "t.toml:3: invalid value");
  ERR("a = [\n 1, # \x01\n]\n", "t.toml:2: control character in comment");
  ERR("a = [\"x\n\"]\n", "t.toml:1: unterminated string");
}

TEST(large_document) {
  /* Many keys and tables: every one kept, lines counted to the end. */
  size_t cap = 1 << 16, len = 0;
  char *text = malloc(cap);
  CHECK(text != NULL);
  if (text == NULL)
    return;
  for (int i = 0; i < 200; i++)
    len += (size_t)snprintf(text + len, cap - len,
                            "[t%d]\nk = %d\ns = \"v%d\"\n", i, i, i);
  struct vc_toml_table *t = parse_len(text, len);
  CHECK(t != NULL && t->len == 200);
  CHECK(int_is(t, "t199", "k", 199));
  CHECK_STR(str_at(t, "t7", "s"), "v7");
  const struct vc_toml_value *v = vc_toml_lookup(t, "t199", "s");
  CHECK(v != NULL && v->line == 600);
  vc_toml_free(t);
  free(text);
}

int main(void) {
  RUN(empty_and_comment_only_documents);
  RUN(tables_keys_and_lines);
  RUN(basic_string_escapes);
  RUN(literal_strings_have_no_escapes);
  RUN(integers);
  RUN(arrays);
  RUN(keys_quoting_and_whitespace);
  RUN(implicit_table_may_be_defined_later);
  RUN(crlf_and_bom);
  RUN(type_names);
  RUN(error_prefix_uses_the_given_name);
  RUN(duplicates_and_redefinitions);
  RUN(unterminated_strings);
  RUN(text_after_values_and_headers);
  RUN(control_characters_and_encoding);
  RUN(escape_errors);
  RUN(integer_errors);
  RUN(unsupported_syntax);
  RUN(malformed_lines);
  RUN(array_errors);
  RUN(large_document);
  return TEST_SUMMARY();
}
