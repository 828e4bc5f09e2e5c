/* config.json parsing and validation (oci/spec.c), runc's default spec, and
 * the yajl helpers in lib/json.c.  JSON in this file is written with single
 * quotes, which J() turns into double quotes. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "oci/spec.h"
#include "test.h"
#include "lib/base/util.h"

static char *J(const char *s) {
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

/* Parses single-quoted JSON; NULL (with the error printed) on failure. */
static struct oci_spec *parse_sq(const char *sq) {
  cleanup_free char *text = J(sq);
  struct oci_spec *s = NULL;
  vc_error *err = NULL;
  if (oci_spec_parse(text, "config.json", &s, &err) < 0) {
    fprintf(stderr, "  unexpected error: %s\n", err ? err->msg : "(none)");
    vc_error_free(&err);
    return NULL;
  }
  return s;
}

/* The error message for single-quoted JSON, or NULL if it parsed. */
static char *parse_err(const char *sq) {
  cleanup_free char *text = J(sq);
  struct oci_spec *s = (struct oci_spec *)1;
  vc_error *err = NULL;
  int rc = oci_spec_parse(text, "config.json", &s, &err);
  if (rc == 0) {
    oci_spec_free(s);
    return NULL;
  }
  char *msg = (s == NULL && err != NULL) ? xstrdup(err->msg) : xstrdup("(bad error state)");
  vc_error_free(&err);
  return msg;
}

#define EXPECT_ERR(sq, msg)                                                \
  do {                                                                     \
    char *e_ = parse_err(sq);                                              \
    CHECK_STR(e_, msg);                                                    \
    free(e_);                                                              \
  } while (0)

#define EXPECT_OK(sq)                                                      \
  do {                                                                     \
    struct oci_spec *s_ = parse_sq(sq);                                    \
    CHECK(s_ != NULL);                                                     \
    oci_spec_free(s_);                                                     \
  } while (0)

#define BASE "'ociVersion':'1.0.2','root':{'path':'rootfs'}"
#define DOC(x) "{" BASE x "}"
/* A valid process followed by x (",'key':value"); keys in x override the
 * defaults because the last of repeated keys wins. */
#define PROC(x) DOC(",'process':{'cwd':'/','args':['sh']" x "}")
#define LINUX(x) DOC(",'linux':{" x "}")
#define HOOKS(x) DOC(",'hooks':{" x "}")

static const char *full_config =
    "{\n"
    "  'ociVersion': '1.0.2-dev',\n"
    "  'process': {\n"
    "    'terminal': true,\n"
    "    'consoleSize': {'height': 24, 'width': 80},\n"
    "    'user': {'uid': 1000, 'gid': 100, 'umask': 18,\n"
    "             'additionalGids': [5, 4294967295]},\n"
    "    'args': ['/bin/sh', '-c', 'echo \\'hi\\' \\u00e9'],\n"
    "    'env': ['PATH=/usr/bin:/bin', 'TERM=xterm', 'EMPTY='],\n"
    "    'cwd': '/home/user',\n"
    "    'capabilities': {\n"
    "      'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],\n"
    "      'effective': ['CAP_KILL'],\n"
    "      'inheritable': [],\n"
    "      'permitted': ['CAP_KILL', 'CAP_CHOWN'],\n"
    "      'ambient': ['CAP_KILL']\n"
    "    },\n"
    "    'rlimits': [\n"
    "      {'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 512},\n"
    "      {'type': 'RLIMIT_CORE', 'hard': 18446744073709551615,\n"
    "       'soft': 18446744073709551615},\n"
    "      {'type': 'RLIMIT_AS', 'hard': 9223372036854775808, 'soft': 0}\n"
    "    ],\n"
    "    'noNewPrivileges': true,\n"
    "    'oomScoreAdj': -500,\n"
    "    'apparmorProfile': 'acme_secure_profile',\n"
    "    'selinuxLabel': 'system_u:system_r:svirt_lxc_net_t:s0:c124,c675'\n"
    "  },\n"
    "  'root': {'path': '/var/lib/rootfs', 'readonly': false},\n"
    "  'hostname': 'box',\n"
    "  'domainname': 'example.org',\n"
    "  'mounts': [\n"
    "    {'destination': '/proc', 'type': 'proc', 'source': 'proc'},\n"
    "    {'destination': '/data', 'type': 'bind', 'source': '/volumes/testing',\n"
    "     'options': ['rbind', 'rw']},\n"
    "    {'destination': '/tmp'}\n"
    "  ],\n"
    "  'hooks': {\n"
    "    'prestart': [{'path': '/usr/bin/fix-mounts', 'args': ['fix-mounts', 'a'],\n"
    "                  'env': ['key1=value1'], 'timeout': 5},\n"
    "                 {'path': '/usr/bin/setup-network'}],\n"
    "    'createRuntime': [{'path': '/bin/cr'}],\n"
    "    'createContainer': [{'path': '/bin/cc'}],\n"
    "    'startContainer': [{'path': '/bin/sc'}],\n"
    "    'poststart': [{'path': '/bin/ps', 'timeout': 2147483647}],\n"
    "    'poststop': [{'path': '/bin/cleanup', 'args': ['cleanup', '-f']}]\n"
    "  },\n"
    "  'annotations': {'com.example.key1': 'value1', 'com.example.key2': ''},\n"
    "  'linux': {\n"
    "    'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/x'},\n"
    "                   {'type': 'ipc', 'path': ''}, {'type': 'uts'}, {'type': 'mount'},\n"
    "                   {'type': 'user'}, {'type': 'cgroup'}, {'type': 'time'}],\n"
    "    'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 32000}],\n"
    "    'gidMappings': [{'containerID': 0, 'hostID': 4294967295, 'size': 1},\n"
    "                    {'containerID': 1, 'hostID': 2000, 'size': 10}],\n"
    "    'maskedPaths': ['/proc/kcore', '/sys/firmware'],\n"
    "    'readonlyPaths': ['/proc/sys'],\n"
    "    'cgroupsPath': '/myRuntime/myContainer',\n"
    "    'rootfsPropagation': 'rslave',\n"
    "    'sysctl': {'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256'},\n"
    "    'resources': {\n"
    "      'devices': [{'allow': false, 'access': 'rwm'}],\n"
    "      'memory': {'limit': 536870912, 'swap': -1},\n"
    "      'cpu': {'shares': 1024, 'cpus': '2-3'},\n"
    "      'pids': {'limit': 32771}\n"
    "    },\n"
    "    'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',\n"
    "                'syscalls': [{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO',\n"
    "                              'errnoRet': 1}]},\n"
    "    'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,\n"
    "                 'fileMode': 438, 'uid': 0, 'gid': 0}]\n"
    "  }\n"
    "}\n";

TEST(full_config_parses_every_field) {
  struct oci_spec *s = parse_sq(full_config);
  CHECK(s != NULL);
  if (s == NULL)
    return;
  CHECK_STR(s->oci_version, "1.0.2-dev");
  CHECK_STR(s->root_path, "/var/lib/rootfs");
  CHECK(!s->root_readonly);
  CHECK_STR(s->hostname, "box");
  CHECK_STR(s->domainname, "example.org");

  struct oci_process *p = s->process;
  CHECK(p != NULL);
  if (p != NULL) {
    CHECK(p->terminal);
    CHECK(p->console_height == 24 && p->console_width == 80);
    CHECK(p->user.uid == 1000 && p->user.gid == 100);
    CHECK(p->user.has_umask && p->user.umask == 18);
    CHECK(p->user.n_additional_gids == 2);
    CHECK(p->user.additional_gids[0] == 5 &&
          p->user.additional_gids[1] == UINT32_MAX);
    CHECK(p->n_args == 3);
    CHECK_STR(p->args[0], "/bin/sh");
    CHECK_STR(p->args[2], "echo \"hi\" \xc3\xa9");
    CHECK(p->args[3] == NULL); /* NULL-terminated for execve */
    CHECK(p->n_env == 3);
    CHECK_STR(p->env[1], "TERM=xterm");
    CHECK_STR(p->env[2], "EMPTY=");
    CHECK(p->env[3] == NULL);
    CHECK_STR(p->cwd, "/home/user");
    CHECK(p->capabilities != NULL);
    if (p->capabilities != NULL) {
      struct oci_capabilities *c = p->capabilities;
      CHECK(c->n_bounding == 3);
      CHECK_STR(c->bounding[2], "CAP_NET_BIND_SERVICE");
      CHECK(c->n_effective == 1);
      CHECK(c->inheritable != NULL && c->n_inheritable == 0 &&
            c->inheritable[0] == NULL);
      CHECK(c->n_permitted == 2);
      CHECK_STR(c->permitted[1], "CAP_CHOWN");
      CHECK(c->n_ambient == 1);
    }
    CHECK(p->n_rlimits == 3);
    CHECK_STR(p->rlimits[0].type, "RLIMIT_NOFILE");
    CHECK(p->rlimits[0].hard == 1024 && p->rlimits[0].soft == 512);
    CHECK(p->rlimits[1].hard == UINT64_MAX && p->rlimits[1].soft == UINT64_MAX);
    CHECK(p->rlimits[2].hard == 9223372036854775808ULL && p->rlimits[2].soft == 0);
    CHECK(p->no_new_privileges);
    CHECK(p->has_oom_score_adj && p->oom_score_adj == -500);
    CHECK_STR(p->apparmor_profile, "acme_secure_profile");
    CHECK_STR(p->selinux_label, "system_u:system_r:svirt_lxc_net_t:s0:c124,c675");
  }

  CHECK(s->n_mounts == 3);
  if (s->n_mounts == 3) {
    CHECK_STR(s->mounts[0].destination, "/proc");
    CHECK_STR(s->mounts[0].type, "proc");
    CHECK(s->mounts[0].options == NULL && s->mounts[0].n_options == 0);
    CHECK_STR(s->mounts[1].source, "/volumes/testing");
    CHECK(s->mounts[1].n_options == 2);
    CHECK_STR(s->mounts[1].options[1], "rw");
    CHECK_STR(s->mounts[2].destination, "/tmp");
    CHECK(s->mounts[2].type == NULL && s->mounts[2].source == NULL);
  }

  struct oci_hooks *h = &s->hooks;
  CHECK(h->n_prestart == 2 && h->n_create_runtime == 1 &&
        h->n_create_container == 1 && h->n_start_container == 1 &&
        h->n_poststart == 1 && h->n_poststop == 1);
  if (h->n_prestart == 2) {
    CHECK_STR(h->prestart[0].path, "/usr/bin/fix-mounts");
    CHECK(h->prestart[0].n_args == 2);
    CHECK_STR(h->prestart[0].args[1], "a");
    CHECK(h->prestart[0].n_env == 1);
    CHECK_STR(h->prestart[0].env[0], "key1=value1");
    CHECK(h->prestart[0].has_timeout && h->prestart[0].timeout == 5);
    CHECK(!h->prestart[1].has_timeout && h->prestart[1].args == NULL);
  }
  if (h->n_create_runtime == 1)
    CHECK_STR(h->create_runtime[0].path, "/bin/cr");
  if (h->n_create_container == 1)
    CHECK_STR(h->create_container[0].path, "/bin/cc");
  if (h->n_start_container == 1)
    CHECK_STR(h->start_container[0].path, "/bin/sc");
  if (h->n_poststart == 1)
    CHECK(h->poststart[0].timeout == 2147483647);
  if (h->n_poststop == 1)
    CHECK_STR(h->poststop[0].args[1], "-f");

  CHECK(s->n_annotations == 2);
  CHECK_STR(oci_spec_annotation(s, "com.example.key1"), "value1");
  CHECK_STR(oci_spec_annotation(s, "com.example.key2"), "");
  CHECK(oci_spec_annotation(s, "com.example.none") == NULL);
  CHECK(oci_spec_annotation(s, NULL) == NULL);

  CHECK(s->n_namespaces == 8);
  if (s->n_namespaces == 8) {
    CHECK_STR(s->namespaces[0].type, "pid");
    CHECK(s->namespaces[0].path == NULL);
    CHECK_STR(s->namespaces[1].path, "/var/run/netns/x");
    CHECK(s->namespaces[2].path == NULL); /* "" means a new namespace */
    CHECK_STR(s->namespaces[7].type, "time");
  }
  CHECK(s->n_uid_mappings == 1 && s->uid_mappings[0].container_id == 0 &&
        s->uid_mappings[0].host_id == 1000 && s->uid_mappings[0].size == 32000);
  CHECK(s->n_gid_mappings == 2 && s->gid_mappings[0].host_id == UINT32_MAX &&
        s->gid_mappings[1].container_id == 1 && s->gid_mappings[1].size == 10);
  CHECK(s->n_masked_paths == 2);
  CHECK_STR(s->masked_paths[1], "/sys/firmware");
  CHECK(s->masked_paths[2] == NULL);
  CHECK(s->n_readonly_paths == 1);
  CHECK_STR(s->readonly_paths[0], "/proc/sys");
  CHECK_STR(s->cgroups_path, "/myRuntime/myContainer");
  CHECK_STR(s->rootfs_propagation, "rslave");
  CHECK(s->n_sysctl == 2);
  if (s->n_sysctl == 2) {
    CHECK_STR(s->sysctl[0].key, "net.ipv4.ip_forward");
    CHECK_STR(s->sysctl[0].value, "1");
    CHECK_STR(s->sysctl[1].key, "net.core.somaxconn");
    CHECK_STR(s->sysctl[1].value, "256");
  }
  CHECK_STR(s->resources_json,
            "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
            "\"memory\":{\"limit\":536870912,\"swap\":-1},"
            "\"cpu\":{\"shares\":1024,\"cpus\":\"2-3\"},"
            "\"pids\":{\"limit\":32771}}");
  CHECK_STR(s->seccomp_json,
            "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
            "[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}");
  CHECK_STR(s->devices_json,
            "[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,"
            "\"fileMode\":438,\"uid\":0,\"gid\":0}]");
  oci_spec_free(s);
}

TEST(minimal_config_leaves_everything_empty) {
  struct oci_spec *s = parse_sq(DOC(""));
  CHECK(s != NULL);
  if (s == NULL)
    return;
  CHECK_STR(s->oci_version, "1.0.2");
  CHECK_STR(s->root_path, "rootfs");
  CHECK(!s->root_readonly);
  CHECK(s->process == NULL && s->hostname == NULL && s->domainname == NULL);
  CHECK(s->mounts == NULL && s->n_mounts == 0);
  CHECK(s->hooks.prestart == NULL && s->hooks.n_poststop == 0);
  CHECK(s->annotations == NULL && s->n_annotations == 0);
  CHECK(s->namespaces == NULL && s->uid_mappings == NULL &&
        s->masked_paths == NULL && s->sysctl == NULL);
  CHECK(s->resources_json == NULL && s->seccomp_json == NULL &&
        s->devices_json == NULL);
  oci_spec_free(s);

  /* A process with only what is required gets the documented defaults. */
  s = parse_sq(PROC(""));
  CHECK(s != NULL && s->process != NULL);
  if (s != NULL && s->process != NULL) {
    struct oci_process *p = s->process;
    CHECK(p->user.uid == 0 && p->user.gid == 0 && !p->user.has_umask);
    CHECK(p->env == NULL && p->n_env == 0);
    CHECK(p->capabilities == NULL && p->rlimits == NULL);
    CHECK(!p->terminal && !p->no_new_privileges && !p->has_oom_score_adj);
    CHECK(p->console_height == 0 && p->console_width == 0);
  }
  oci_spec_free(s);
}

TEST(null_members_count_as_absent) {
  struct oci_spec *s = parse_sq(DOC(
      ",'hostname':null,'hooks':null,'annotations':null,'mounts':null,"
      "'process':{'cwd':'/','args':['sh'],'env':null,'user':null,"
      "'capabilities':null,'rlimits':null,'oomScoreAdj':null},"
      "'linux':{'namespaces':null,'resources':null,'seccomp':null,"
      "'sysctl':null,'devices':null}"));
  CHECK(s != NULL);
  if (s == NULL)
    return;
  CHECK(s->hostname == NULL && s->n_annotations == 0 && s->n_mounts == 0);
  CHECK(s->process != NULL && s->process->env == NULL &&
        !s->process->has_oom_score_adj);
  CHECK(s->resources_json == NULL && s->seccomp_json == NULL &&
        s->devices_json == NULL);
  oci_spec_free(s);
  EXPECT_ERR(DOC(",'process':{'cwd':null,'args':['sh']}"),
             "config.json: process.cwd: missing");
  EXPECT_ERR("{'ociVersion':null,'root':{'path':'r'}}",
             "config.json: ociVersion: missing");
}

TEST(unknown_fields_are_ignored) {
  struct oci_spec *s = parse_sq(
      "{'ociVersion':'1.2.0','root':{'path':'r','extra':[1,{'a':null}]},"
      "'vm':{'hypervisor':{'path':'/usr/bin/qemu'}},'windows':{},'solaris':7,"
      "'x-custom':[[[[{}]]]],"
      "'process':{'cwd':'/','args':['sh'],'ioPriority':{'class':'IOPRIO_CLASS_BE'},"
      "'scheduler':{'policy':'SCHED_OTHER'},'commandLine':'sh',"
      "'user':{'uid':0,'gid':0,'username':'root'},"
      "'capabilities':{'bounding':[],'future':3}},"
      "'mounts':[{'destination':'/x','uidMappings':[],'mystery':true}],"
      "'linux':{'intelRdt':{},'personality':{'domain':'LINUX'},"
      "'mountLabel':'x','timeOffsets':{},'namespaces':[{'type':'pid','x':1}]}}");
  CHECK(s != NULL);
  if (s != NULL) {
    CHECK_STR(s->oci_version, "1.2.0");
    CHECK(s->n_mounts == 1 && s->n_namespaces == 1);
    CHECK_STR(s->mount_label, "x");
  }
  oci_spec_free(s);
}

TEST(duplicate_keys_last_one_wins) {
  struct oci_spec *s = parse_sq(DOC(",'hostname':'a','hostname':'b'"));
  CHECK(s != NULL);
  if (s != NULL)
    CHECK_STR(s->hostname, "b");
  oci_spec_free(s);
}

TEST(invalid_json_names_the_line) {
  char *e = parse_err("{\n  'ociVersion': '1.0.2',\n  'root': {,}\n}\n");
  CHECK(e != NULL);
  if (e != NULL) {
    const char *want = "config.json: invalid JSON at line 3: ";
    CHECK(strncmp(e, want, strlen(want)) == 0);
    CHECK(strstr(e, "parse error") != NULL);
    CHECK(strchr(e, '\n') == NULL); /* one line, unlike yajl's verbose text */
  }
  free(e);
  EXPECT_ERR("", "config.json: invalid JSON at line 1: parse error: premature EOF");
  EXPECT_ERR("{\n'a':\n1\n\n", "config.json: invalid JSON at line 3: parse error: premature EOF");
  EXPECT_ERR("{} {}", "config.json: invalid JSON at line 1: parse error: trailing garbage");
  EXPECT_ERR("{'a':'\\x'}",
             "config.json: invalid JSON at line 1: lexical error: inside a string, "
             "'\\' occurs before a character which it may not.");
  EXPECT_ERR("[1]", "config.json: must be a JSON object");
  EXPECT_ERR("'x'", "config.json: must be a JSON object");
  EXPECT_ERR("null", "config.json: must be a JSON object");

  /* Nesting: 100 levels are fine, 101 are refused before yajl_tree. */
  char deep[512];
  size_t n = 0;
  n += (size_t)snprintf(deep + n, sizeof(deep) - n, DOC(",'x':"));
  n--; /* drop the closing brace */
  for (int i = 0; i < 99; i++)
    deep[n++] = '[';
  for (int i = 0; i < 99; i++)
    deep[n++] = ']';
  deep[n++] = '}';
  deep[n] = '\0';
  EXPECT_OK(deep);
  char deeper[sizeof(deep) + 2];
  snprintf(deeper, sizeof(deeper), "[%s]", deep);
  EXPECT_ERR(deeper, "config.json: invalid JSON at line 1: nested deeper than 100 levels");

  /* Invalid UTF-8 is refused by yajl. */
  EXPECT_ERR(DOC(",'hostname':'\xff'"),
             "config.json: invalid JSON at line 1: lexical error: invalid bytes in UTF8 string.");

  /* The source name leads every message; NULL means config.json. */
  struct oci_spec *s = NULL;
  vc_error *err = NULL;
  CHECK(oci_spec_parse("{}", "/b/config.json", &s, &err) < 0 && s == NULL);
  CHECK(err != NULL);
  if (err != NULL)
    CHECK_STR(err->msg, "/b/config.json: ociVersion: missing");
  vc_error_free(&err);
  CHECK(oci_spec_parse("{}", NULL, &s, &err) < 0);
  if (err != NULL)
    CHECK_STR(err->msg, "config.json: ociVersion: missing");
  vc_error_free(&err);
}

TEST(oci_version_rules) {
  EXPECT_ERR("{'root':{'path':'r'}}", "config.json: ociVersion: missing");
  EXPECT_ERR("{'ociVersion':1,'root':{'path':'r'}}",
             "config.json: ociVersion: must be a string");
  /* Another major is another spec; any 1.x is taken (later minors only add
   * properties, which are ignored), as runc 1.1 takes the suite's 1.3.0. */
  const char *bad[] = {"", "1", "1.0", "1.0.", "1.0.x", "01.0.0", "0.1.0",
                       "2.0.0", "10.0.0", "1.01.0", "1.0.2-", "1.0.2 ",
                       "v1.0.2", "1.0.02", "1.0.2-a b", "1..0", "1.3"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char doc[128], want[160];
    snprintf(doc, sizeof(doc), "{'ociVersion':'%s','root':{'path':'r'}}", bad[i]);
    snprintf(want, sizeof(want),
             "config.json: ociVersion: unsupported version \"%s\" "
             "(want 1.x.y)", bad[i]);
    EXPECT_ERR(doc, want);
  }
  const char *good[] = {"1.0.0", "1.0.2-dev", "1.1.0", "1.1.0-rc.1",
                        "1.2.0", "1.2.1+build.5", "1.0.0-rc5+dev",
                        "1.3.0", "1.10.0", "1.99.7-rc.1", "1.4.0+meta"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    char doc[128];
    snprintf(doc, sizeof(doc), "{'ociVersion':'%s','root':{'path':'r'}}", good[i]);
    EXPECT_OK(doc);
  }
}

TEST(root_rules) {
  EXPECT_ERR("{'ociVersion':'1.0.2'}", "config.json: root: missing");
  EXPECT_ERR("{'ociVersion':'1.0.2','root':'rootfs'}",
             "config.json: root: must be an object");
  EXPECT_ERR("{'ociVersion':'1.0.2','root':{}}", "config.json: root.path: missing");
  EXPECT_ERR("{'ociVersion':'1.0.2','root':{'path':''}}",
             "config.json: root.path: must not be empty");
  EXPECT_ERR("{'ociVersion':'1.0.2','root':{'path':5}}",
             "config.json: root.path: must be a string");
  EXPECT_ERR("{'ociVersion':'1.0.2','root':{'path':'r','readonly':'yes'}}",
             "config.json: root.readonly: must be a boolean");
  EXPECT_ERR(DOC(",'hostname':5"), "config.json: hostname: must be a string");
  EXPECT_ERR(DOC(",'domainname':[]"), "config.json: domainname: must be a string");
}

TEST(process_rules) {
  EXPECT_ERR(DOC(",'process':[]"), "config.json: process: must be an object");
  EXPECT_ERR(DOC(",'process':{'cwd':'/'}"),
             "config.json: process.args: must be a non-empty array of strings");
  EXPECT_ERR(PROC(",'args':[]"),
             "config.json: process.args: must be a non-empty array of strings");
  EXPECT_ERR(PROC(",'args':'sh'"),
             "config.json: process.args: must be a non-empty array of strings");
  EXPECT_ERR(PROC(",'args':['sh',1]"), "config.json: process.args[1]: must be a string");
  EXPECT_ERR(DOC(",'process':{'args':['sh']}"), "config.json: process.cwd: missing");
  EXPECT_ERR(PROC(",'cwd':'tmp'"), "config.json: process.cwd: must be an absolute path");
  EXPECT_ERR(PROC(",'cwd':''"), "config.json: process.cwd: must be an absolute path");
  EXPECT_ERR(PROC(",'cwd':7"), "config.json: process.cwd: must be a string");
  EXPECT_ERR(PROC(",'env':'A=b'"), "config.json: process.env: must be an array of strings");
  EXPECT_ERR(PROC(",'env':['A=b',null]"), "config.json: process.env[1]: must be a string");
  EXPECT_ERR(PROC(",'env':['A=b','FOO']"),
             "config.json: process.env[1]: must be of the form NAME=value");
  EXPECT_ERR(PROC(",'env':['=x']"),
             "config.json: process.env[0]: must be of the form NAME=value");
  EXPECT_ERR(PROC(",'terminal':'true'"), "config.json: process.terminal: must be a boolean");
  EXPECT_ERR(PROC(",'noNewPrivileges':1"),
             "config.json: process.noNewPrivileges: must be a boolean");
  EXPECT_ERR(PROC(",'consoleSize':[24,80]"),
             "config.json: process.consoleSize: must be an object");
  EXPECT_ERR(PROC(",'consoleSize':{'height':24}"),
             "config.json: process.consoleSize.width: missing");
  EXPECT_ERR(PROC(",'consoleSize':{'height':-1,'width':80}"),
             "config.json: process.consoleSize.height: must be a non-negative integer");
  EXPECT_ERR(PROC(",'oomScoreAdj':1001"),
             "config.json: process.oomScoreAdj: must be an integer between -1000 and 1000");
  EXPECT_ERR(PROC(",'oomScoreAdj':-1001"),
             "config.json: process.oomScoreAdj: must be an integer between -1000 and 1000");
  EXPECT_ERR(PROC(",'oomScoreAdj':1.5"),
             "config.json: process.oomScoreAdj: must be an integer between -1000 and 1000");
  EXPECT_ERR(PROC(",'oomScoreAdj':'5'"),
             "config.json: process.oomScoreAdj: must be an integer between -1000 and 1000");
  EXPECT_OK(PROC(",'oomScoreAdj':-1000"));
  EXPECT_OK(PROC(",'oomScoreAdj':1000"));
  EXPECT_ERR(PROC(",'apparmorProfile':true"),
             "config.json: process.apparmorProfile: must be a string");
  EXPECT_ERR(PROC(",'selinuxLabel':{}"), "config.json: process.selinuxLabel: must be a string");
  EXPECT_ERR(PROC(",'capabilities':['CAP_KILL']"),
             "config.json: process.capabilities: must be an object");
  EXPECT_ERR(PROC(",'capabilities':{'bounding':'CAP_KILL'}"),
             "config.json: process.capabilities.bounding: must be an array of strings");
  EXPECT_ERR(PROC(",'capabilities':{'ambient':['CAP_KILL',2]}"),
             "config.json: process.capabilities.ambient[1]: must be a string");
}

TEST(user_rules) {
  EXPECT_ERR(PROC(",'user':0"), "config.json: process.user: must be an object");
  EXPECT_ERR(PROC(",'user':{'gid':0}"), "config.json: process.user.uid: missing");
  EXPECT_ERR(PROC(",'user':{'uid':0}"), "config.json: process.user.gid: missing");
  EXPECT_ERR(PROC(",'user':{'uid':-1,'gid':0}"),
             "config.json: process.user.uid: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':1.5,'gid':0}"),
             "config.json: process.user.uid: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':1.0,'gid':0}"),
             "config.json: process.user.uid: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':'0','gid':0}"),
             "config.json: process.user.uid: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':0,'gid':1e3}"),
             "config.json: process.user.gid: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':4294967296,'gid':0}"),
             "config.json: process.user.uid: must be at most 4294967295");
  EXPECT_ERR(PROC(",'user':{'uid':99999999999999999999999,'gid':0}"),
             "config.json: process.user.uid: must be at most 4294967295");
  EXPECT_ERR(PROC(",'user':{'uid':-99999999999999999999999,'gid':0}"),
             "config.json: process.user.uid: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':0,'gid':0,'umask':-18}"),
             "config.json: process.user.umask: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':0,'gid':0,'additionalGids':5}"),
             "config.json: process.user.additionalGids: must be an array");
  EXPECT_ERR(PROC(",'user':{'uid':0,'gid':0,'additionalGids':[1,-2]}"),
             "config.json: process.user.additionalGids[1]: must be a non-negative integer");
  EXPECT_ERR(PROC(",'user':{'uid':0,'gid':0,'additionalGids':[4294967296]}"),
             "config.json: process.user.additionalGids[0]: must be at most 4294967295");

  struct oci_spec *s = parse_sq(PROC(",'user':{'uid':4294967295,'gid':-0,'umask':0}"));
  CHECK(s != NULL && s->process != NULL);
  if (s != NULL && s->process != NULL) {
    CHECK(s->process->user.uid == UINT32_MAX && s->process->user.gid == 0);
    CHECK(s->process->user.has_umask && s->process->user.umask == 0);
    CHECK(s->process->user.additional_gids == NULL);
  }
  oci_spec_free(s);
}

TEST(rlimit_rules) {
  EXPECT_ERR(PROC(",'rlimits':{}"), "config.json: process.rlimits: must be an array");
  EXPECT_ERR(PROC(",'rlimits':['RLIMIT_NOFILE']"),
             "config.json: process.rlimits[0]: must be an object");
  EXPECT_ERR(PROC(",'rlimits':[{'hard':1,'soft':1}]"),
             "config.json: process.rlimits[0].type: missing");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':1,'soft':1},"
                  "{'type':'RLIMIT_FOO','hard':1,'soft':1}]"),
             "config.json: process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':1,'soft':1},"
                  "{'type':'RLIMIT_NOFILE','hard':2,'soft':2}]"),
             "config.json: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':1}]"),
             "config.json: process.rlimits[0].soft: missing");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':1}]"),
             "config.json: process.rlimits[0].hard: missing");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':1,'soft':-1}]"),
             "config.json: process.rlimits[0].soft: must be a non-negative integer");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':1.5,'soft':1}]"),
             "config.json: process.rlimits[0].hard: must be a non-negative integer");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':18446744073709551616,"
                  "'soft':1}]"),
             "config.json: process.rlimits[0].hard: must be at most 18446744073709551615");
  EXPECT_ERR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':1024,'soft':1025}]"),
             "config.json: process.rlimits[0]: soft limit 1025 is above hard limit 1024");
}

TEST(big_uint64_rlimits) {
  struct oci_spec *s = parse_sq(PROC(
      ",'rlimits':[{'type':'RLIMIT_MEMLOCK','hard':18446744073709551615,"
      "'soft':18446744073709551614},"
      "{'type':'RLIMIT_STACK','hard':9223372036854775808,'soft':9223372036854775807},"
      "{'type':'RLIMIT_NPROC','hard':0,'soft':0}]"));
  CHECK(s != NULL && s->process != NULL);
  if (s != NULL && s->process != NULL && s->process->n_rlimits == 3) {
    struct oci_rlimit *r = s->process->rlimits;
    CHECK(r[0].hard == UINT64_MAX && r[0].soft == UINT64_MAX - 1);
    CHECK(r[1].hard == (uint64_t)INT64_MAX + 1 && r[1].soft == (uint64_t)INT64_MAX);
    CHECK(r[2].hard == 0 && r[2].soft == 0);
  }
  oci_spec_free(s);
}

TEST(mount_and_hook_rules) {
  EXPECT_ERR(DOC(",'mounts':{}"), "config.json: mounts: must be an array");
  EXPECT_ERR(DOC(",'mounts':[{'destination':'/a'},'/b']"),
             "config.json: mounts[1]: must be an object");
  EXPECT_ERR(DOC(",'mounts':[{'destination':'/a'},{'type':'tmpfs'}]"),
             "config.json: mounts[1].destination: missing");
  EXPECT_ERR(DOC(",'mounts':[{'destination':''}]"),
             "config.json: mounts[0].destination: must not be empty");
  EXPECT_ERR(DOC(",'mounts':[{'destination':'/a','type':1}]"),
             "config.json: mounts[0].type: must be a string");
  EXPECT_ERR(DOC(",'mounts':[{'destination':'/a','source':false}]"),
             "config.json: mounts[0].source: must be a string");
  EXPECT_ERR(DOC(",'mounts':[{'destination':'/a','options':['ro',1]}]"),
             "config.json: mounts[0].options[1]: must be a string");
  EXPECT_OK(DOC(",'mounts':[{'destination':'relative/is/allowed'}]"));

  EXPECT_ERR(DOC(",'hooks':[]"), "config.json: hooks: must be an object");
  EXPECT_ERR(HOOKS("'poststop':{}"), "config.json: hooks.poststop: must be an array");
  EXPECT_ERR(HOOKS("'prestart':[{'path':'/a'},7]"),
             "config.json: hooks.prestart[1]: must be an object");
  EXPECT_ERR(HOOKS("'createRuntime':[{'args':['x']}]"),
             "config.json: hooks.createRuntime[0].path: missing");
  EXPECT_ERR(HOOKS("'createContainer':[{'path':'bin/hook'}]"),
             "config.json: hooks.createContainer[0].path: must be an absolute path");
  EXPECT_ERR(HOOKS("'startContainer':[{'path':'/h','timeout':0}]"),
             "config.json: hooks.startContainer[0].timeout: must be a positive integer");
  EXPECT_ERR(HOOKS("'poststart':[{'path':'/h','timeout':-3}]"),
             "config.json: hooks.poststart[0].timeout: must be a positive integer");
  EXPECT_ERR(HOOKS("'poststart':[{'path':'/h','timeout':2147483648}]"),
             "config.json: hooks.poststart[0].timeout: must be a positive integer");
  EXPECT_ERR(HOOKS("'poststop':[{'path':'/h','args':[1]}]"),
             "config.json: hooks.poststop[0].args[0]: must be a string");
  EXPECT_ERR(HOOKS("'poststop':[{'path':'/h','env':'A=1'}]"),
             "config.json: hooks.poststop[0].env: must be an array of strings");
  EXPECT_OK(HOOKS("'prestart':[],'unknownHook':[{'path':'x'}]"));
}

TEST(annotation_rules) {
  EXPECT_ERR(DOC(",'annotations':['a']"), "config.json: annotations: must be an object");
  EXPECT_ERR(DOC(",'annotations':{'a':'1','b':2}"),
             "config.json: annotations[\"b\"]: must be a string");
  EXPECT_ERR(DOC(",'annotations':{'a':'1','':'2'}"),
             "config.json: annotations: keys must not be empty");
  EXPECT_ERR(DOC(",'annotations':{'a':'1','b':'2','a':'3'}"),
             "config.json: annotations: duplicate key \"a\"");
  EXPECT_OK(DOC(",'annotations':{}"));
}

TEST(linux_rules) {
  EXPECT_ERR(DOC(",'linux':[]"), "config.json: linux: must be an object");
  EXPECT_ERR(LINUX("'namespaces':{'type':'pid'}"),
             "config.json: linux.namespaces: must be an array");
  EXPECT_ERR(LINUX("'namespaces':[{'type':'pid'},{'type':'uts'},{'type':'foo'}]"),
             "config.json: linux.namespaces[2].type: unknown namespace type \"foo\"");
  EXPECT_ERR(LINUX("'namespaces':[{'type':'pid'},{'type':'pid'}]"),
             "config.json: linux.namespaces[1].type: duplicate namespace type \"pid\"");
  EXPECT_ERR(LINUX("'namespaces':[{'path':'/proc/1/ns/pid'}]"),
             "config.json: linux.namespaces[0].type: missing");
  EXPECT_ERR(LINUX("'namespaces':['pid']"),
             "config.json: linux.namespaces[0]: must be an object");
  EXPECT_ERR(LINUX("'namespaces':[{'type':'network','path':'netns/x'}]"),
             "config.json: linux.namespaces[0].path: must be an absolute path");
  EXPECT_ERR(LINUX("'namespaces':[{'type':'network','path':1}]"),
             "config.json: linux.namespaces[0].path: must be a string");
  EXPECT_ERR(LINUX("'uidMappings':[{'containerID':0,'hostID':1000}]"),
             "config.json: linux.uidMappings[0].size: missing");
  EXPECT_ERR(LINUX("'gidMappings':[{'containerID':0,'hostID':-1,'size':1}]"),
             "config.json: linux.gidMappings[0].hostID: must be a non-negative integer");
  EXPECT_ERR(LINUX("'gidMappings':[{'containerID':4294967296,'hostID':1,'size':1}]"),
             "config.json: linux.gidMappings[0].containerID: must be at most 4294967295");
  EXPECT_ERR(LINUX("'uidMappings':[[0,0,1]]"),
             "config.json: linux.uidMappings[0]: must be an object");
  EXPECT_ERR(LINUX("'maskedPaths':['/proc/kcore','proc/keys']"),
             "config.json: linux.maskedPaths[1]: must be an absolute path");
  EXPECT_ERR(LINUX("'readonlyPaths':[5]"),
             "config.json: linux.readonlyPaths[0]: must be a string");
  EXPECT_ERR(LINUX("'cgroupsPath':5"), "config.json: linux.cgroupsPath: must be a string");
  EXPECT_ERR(LINUX("'rootfsPropagation':'sideways'"),
             "config.json: linux.rootfsPropagation: unknown propagation \"sideways\"");
  EXPECT_OK(LINUX("'rootfsPropagation':'private'"));
  EXPECT_OK(LINUX("'rootfsPropagation':'runbindable'"));
  EXPECT_ERR(LINUX("'mountLabel':['system_u']"),
             "config.json: linux.mountLabel: must be a string");
  EXPECT_ERR(LINUX("'sysctl':{'net.ipv4.ip_forward':1}"),
             "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: must be a string");
  EXPECT_ERR(LINUX("'sysctl':{'a':'1','a':'2'}"),
             "config.json: linux.sysctl: duplicate key \"a\"");
  EXPECT_ERR(LINUX("'resources':[]"), "config.json: linux.resources: must be an object");
  EXPECT_ERR(LINUX("'seccomp':'unconfined'"), "config.json: linux.seccomp: must be an object");
  EXPECT_ERR(LINUX("'devices':{}"), "config.json: linux.devices: must be an array");

  struct oci_spec *s = parse_sq(LINUX("'resources':{},'devices':[],'seccomp':{'a':1.50e3}"));
  CHECK(s != NULL);
  if (s != NULL) {
    CHECK_STR(s->resources_json, "{}");
    CHECK_STR(s->devices_json, "[]");
    CHECK_STR(s->seccomp_json, "{\"a\":1.50e3}"); /* numbers keep their text */
  }
  oci_spec_free(s);
}

static void check_default(const char *json, bool rootless) {
  struct oci_spec *s = NULL;
  vc_error *err = NULL;
  CHECK(oci_spec_parse(json, "default", &s, &err) == 0);
  if (err != NULL)
    fprintf(stderr, "  %s\n", err->msg);
  vc_error_free(&err);
  if (s == NULL)
    return;
  CHECK_STR(s->oci_version, "1.0.2-dev");
  CHECK_STR(s->root_path, "rootfs");
  CHECK(s->root_readonly);
  CHECK_STR(s->hostname, "runc");
  struct oci_process *p = s->process;
  CHECK(p != NULL);
  if (p != NULL) {
    CHECK(p->terminal && p->no_new_privileges);
    CHECK(p->n_args == 1);
    CHECK_STR(p->args[0], "sh");
    CHECK(p->n_env == 2);
    CHECK_STR(p->env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    CHECK_STR(p->env[1], "TERM=xterm");
    CHECK_STR(p->cwd, "/");
    CHECK(p->user.uid == 0 && p->user.gid == 0);
    CHECK(p->capabilities != NULL && p->capabilities->n_bounding == 3 &&
          p->capabilities->n_effective == 3 && p->capabilities->n_permitted == 3 &&
          p->capabilities->n_ambient == 3 && p->capabilities->inheritable == NULL);
    CHECK(p->n_rlimits == 1);
    if (p->n_rlimits == 1) {
      CHECK_STR(p->rlimits[0].type, "RLIMIT_NOFILE");
      CHECK(p->rlimits[0].hard == 1024 && p->rlimits[0].soft == 1024);
    }
  }
  CHECK(s->n_mounts == 7);
  if (s->n_mounts == 7) {
    const char *dest[] = {"/proc", "/dev", "/dev/pts", "/dev/shm",
                          "/dev/mqueue", "/sys", "/sys/fs/cgroup"};
    for (size_t i = 0; i < 7; i++)
      CHECK_STR(s->mounts[i].destination, dest[i]);
    CHECK_STR(s->mounts[5].type, rootless ? "none" : "sysfs");
    CHECK(s->mounts[2].n_options == (rootless ? 5u : 6u));
  }
  CHECK(s->n_namespaces == 5);
  bool has_net = false, has_user = false;
  for (size_t i = 0; i < s->n_namespaces; i++) {
    has_net |= strcmp(s->namespaces[i].type, "network") == 0;
    has_user |= strcmp(s->namespaces[i].type, "user") == 0;
  }
  CHECK(has_net == !rootless && has_user == rootless);
  CHECK(s->n_masked_paths == 10 && s->n_readonly_paths == 5);
  if (rootless) {
    CHECK(s->resources_json == NULL);
    CHECK(s->n_uid_mappings == 1 && s->uid_mappings[0].host_id == geteuid() &&
          s->uid_mappings[0].container_id == 0 && s->uid_mappings[0].size == 1);
    CHECK(s->n_gid_mappings == 1 && s->gid_mappings[0].host_id == getegid());
  } else {
    CHECK_STR(s->resources_json, "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}");
    CHECK(s->n_uid_mappings == 0);
  }
  oci_spec_free(s);
}

TEST(default_spec_round_trips) {
  char *json = NULL;
  vc_error *err = NULL;
  CHECK(oci_spec_default_json(false, &json, &err) == 0 && json != NULL);
  if (json == NULL)
    return;
  /* runc's layout: tab indentation, "key": value, no final newline. */
  const char *head =
      "{\n\t\"ociVersion\": \"1.0.2-dev\",\n\t\"process\": {\n\t\t\"terminal\": true,";
  CHECK(strncmp(json, head, strlen(head)) == 0);
  CHECK(json[strlen(json) - 1] == '}');
  CHECK(strstr(json, "\t\t\t\t\"ptmxmode=0666\",\n\t\t\t\t\"mode=0620\",\n\t\t\t\t\"gid=5\"\n") != NULL);
  check_default(json, false);
  free(json);

  CHECK(oci_spec_default_json(true, &json, &err) == 0 && json != NULL);
  if (json == NULL)
    return;
  CHECK(strstr(json, "\"gid=5\"") == NULL);
  CHECK(strstr(json, "\"rbind\"") != NULL);
  check_default(json, true);
  free(json);
}

TEST(load_reads_bundle_config) {
  char dir[] = "/tmp/vc-test-spec-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  cleanup_free char *path = xasprintf("%s/config.json", dir);
  struct oci_spec *s = NULL;
  vc_error *err = NULL;

  /* Missing file: the error names the path. */
  CHECK(oci_spec_load(dir, &s, &err) < 0 && s == NULL);
  CHECK(err != NULL && strstr(err->msg, path) != NULL);
  vc_error_free(&err);

  cleanup_free char *text = J(PROC(",'env':['A=1']"));
  CHECK(vc_write_file_atomic(path, text, strlen(text), 0644, &err) == 0);
  CHECK(oci_spec_load(dir, &s, &err) == 0 && s != NULL);
  if (s != NULL && s->process != NULL)
    CHECK_STR(s->process->env[0], "A=1");
  oci_spec_free(s);
  s = NULL;

  /* Errors are prefixed with the file's path. */
  cleanup_free char *bad = J(PROC(",'cwd':'x'"));
  CHECK(vc_write_file_atomic(path, bad, strlen(bad), 0644, &err) == 0);
  CHECK(oci_spec_load(dir, &s, &err) < 0 && s == NULL);
  cleanup_free char *want = xasprintf("%s: process.cwd: must be an absolute path", path);
  if (err != NULL)
    CHECK_STR(err->msg, want);
  vc_error_free(&err);

  /* A NUL byte would silently cut the document short: refused. */
  CHECK(vc_write_file_atomic(path, "{}\0{}", 5, 0644, &err) == 0);
  CHECK(oci_spec_load(dir, &s, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "NUL byte") != NULL);
  vc_error_free(&err);

  unlink(path);
  rmdir(dir);
}

/* --- lib/json.c ---------------------------------------------------------- */

TEST(json_serialize_round_trip) {
  cleanup_free char *text = J(
      "{ 'a' : [ 1, -2, 3.25, 1e3, 18446744073709551615, -0 ],\n"
      "  /* comment */ 'b' : { 'c' : null, 'd' : true, 'e' : false },\n"
      "  'f' : 'tab\\tquote\\\"slash/\\\\ \\u00e9\\u0001', 'g' : {}, 'h' : [] }");
  yajl_val tree = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_parse(text, &tree, &err) == 0 && tree != NULL);
  if (tree == NULL)
    return;
  char *out = NULL;
  CHECK(vc_json_serialize(tree, &out, &err) == 0);
  CHECK_STR(out, "{\"a\":[1,-2,3.25,1e3,18446744073709551615,-0],"
                 "\"b\":{\"c\":null,\"d\":true,\"e\":false},"
                 "\"f\":\"tab\\tquote\\\"slash/\\\\ \xc3\xa9\\u0001\",\"g\":{},\"h\":[]}");
  /* The output parses back to the same output. */
  yajl_val again = NULL;
  CHECK(out != NULL && vc_json_parse(out, &again, &err) == 0);
  char *out2 = NULL;
  CHECK(vc_json_serialize(again, &out2, &err) == 0);
  CHECK_STR(out2, out);
  /* A subtree, and scalars on their own. */
  char *sub = NULL;
  CHECK(vc_json_serialize(vc_json_get(tree, "b"), &sub, &err) == 0);
  CHECK_STR(sub, "{\"c\":null,\"d\":true,\"e\":false}");
  free(sub);
  CHECK(vc_json_serialize(vc_json_get(tree, "f"), &sub, &err) == 0);
  CHECK(sub != NULL && sub[0] == '"');
  free(sub);
  CHECK(vc_json_serialize(NULL, &sub, &err) == 0);
  CHECK_STR(sub, "null");
  free(sub);
  free(out);
  free(out2);
  yajl_tree_free(again);
  yajl_tree_free(tree);
}

TEST(json_lookups) {
  cleanup_free char *text = J("{'k':1,'s':'x','k':{'n':['a']},'z':null}");
  yajl_val t = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_parse(text, &t, &err) == 0);
  yajl_val k = vc_json_get(t, "k");
  CHECK(YAJL_IS_OBJECT(k)); /* the last "k" */
  const char *path[] = {"k", "n", NULL};
  CHECK(YAJL_IS_ARRAY(vc_json_get_path(t, path)));
  const char *bad_path[] = {"s", "n", NULL};
  CHECK(vc_json_get_path(t, bad_path) == NULL);
  CHECK_STR(vc_json_get_str(t, "s"), "x");
  CHECK(vc_json_get_str(t, "k") == NULL);
  CHECK(vc_json_get_object(t, "k") == k);
  CHECK(vc_json_get_array(t, "k") == NULL);
  CHECK(YAJL_IS_NULL(vc_json_get(t, "z")));
  CHECK(vc_json_get(t, "missing") == NULL);
  CHECK(vc_json_get(NULL, "k") == NULL);
  CHECK(vc_json_get(vc_json_get(t, "s"), "k") == NULL);
  yajl_tree_free(t);
}

TEST(json_integers) {
  cleanup_free char *text =
      J("[0, 4294967295, 18446744073709551615, 18446744073709551616, -1, 1.0,"
        " 2e2, -9223372036854775808, 9223372036854775808, '7', -0]");
  yajl_val t = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_parse(text, &t, &err) == 0);
  if (t == NULL)
    return;
  yajl_val *v = t->u.array.values;
  uint64_t u = 99;
  int64_t i = 99;
  CHECK(vc_json_to_u64(v[0], UINT64_MAX, &u) == VC_JSON_NUM_OK && u == 0);
  CHECK(vc_json_to_u64(v[1], UINT32_MAX, &u) == VC_JSON_NUM_OK && u == UINT32_MAX);
  CHECK(vc_json_to_u64(v[1], UINT32_MAX - 1, &u) == VC_JSON_NUM_RANGE);
  CHECK(vc_json_to_u64(v[2], UINT64_MAX, &u) == VC_JSON_NUM_OK && u == UINT64_MAX);
  CHECK(vc_json_to_u64(v[3], UINT64_MAX, &u) == VC_JSON_NUM_RANGE);
  CHECK(vc_json_to_u64(v[4], UINT64_MAX, &u) == VC_JSON_NUM_RANGE);
  CHECK(vc_json_to_u64(v[5], UINT64_MAX, &u) == VC_JSON_NUM_TYPE);
  CHECK(vc_json_to_u64(v[6], UINT64_MAX, &u) == VC_JSON_NUM_TYPE);
  CHECK(vc_json_to_u64(v[9], UINT64_MAX, &u) == VC_JSON_NUM_TYPE);
  CHECK(vc_json_to_u64(v[10], UINT64_MAX, &u) == VC_JSON_NUM_OK && u == 0);
  CHECK(vc_json_to_u64(NULL, UINT64_MAX, &u) == VC_JSON_NUM_TYPE);
  CHECK(vc_json_to_i64(v[4], -1, 0, &i) == VC_JSON_NUM_OK && i == -1);
  CHECK(vc_json_to_i64(v[4], 0, 5, &i) == VC_JSON_NUM_RANGE);
  CHECK(vc_json_to_i64(v[7], INT64_MIN, INT64_MAX, &i) == VC_JSON_NUM_OK && i == INT64_MIN);
  CHECK(vc_json_to_i64(v[8], INT64_MIN, INT64_MAX, &i) == VC_JSON_NUM_RANGE);
  CHECK(vc_json_to_i64(v[5], INT64_MIN, INT64_MAX, &i) == VC_JSON_NUM_TYPE);
  CHECK(vc_json_to_i64(v[9], INT64_MIN, INT64_MAX, &i) == VC_JSON_NUM_TYPE);
  yajl_tree_free(t);
}

TEST(json_parse_errors) {
  yajl_val t = (yajl_val)1;
  vc_error *err = NULL;
  CHECK(vc_json_parse("[1,\n2,\n\n  x]", &t, &err) < 0 && t == NULL);
  if (err != NULL)
    CHECK_STR(err->msg, "invalid JSON at line 4: lexical error: invalid char in json text.");
  vc_error_free(&err);
  CHECK(vc_json_parse("{\"a\":1} // trailing comment\n", &t, &err) == 0);
  yajl_tree_free(t);
  CHECK(vc_json_parse("   ", &t, &err) < 0);
  if (err != NULL)
    CHECK_STR(err->msg, "invalid JSON at line 1: parse error: premature EOF");
  vc_error_free(&err);
}

TEST(json_generator) {
  struct vc_json_gen j;
  vc_json_gen_init(&j, NULL);
  vc_json_gen_map_open(&j);
  vc_json_gen_key(&j, "s");
  vc_json_gen_str(&j, "v");
  vc_json_gen_key(&j, "n");
  vc_json_gen_str(&j, NULL);
  vc_json_gen_key(&j, "i");
  vc_json_gen_int(&j, -5);
  vc_json_gen_key(&j, "u");
  vc_json_gen_uint(&j, UINT64_MAX);
  vc_json_gen_key(&j, "b");
  vc_json_gen_bool(&j, false);
  vc_json_gen_key(&j, "z");
  vc_json_gen_null(&j);
  char *const v[] = {"x", "y"};
  vc_json_gen_key(&j, "v");
  vc_json_gen_strv(&j, v, 2);
  vc_json_gen_map_close(&j);
  char *out = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_gen_finish(&j, &out, &err) == 0);
  CHECK_STR(out, "{\"s\":\"v\",\"n\":null,\"i\":-5,\"u\":18446744073709551615,"
                 "\"b\":false,\"z\":null,\"v\":[\"x\",\"y\"]}");
  free(out);
  vc_json_gen_free(&j); /* harmless after finish */

  /* Pretty output has no final newline. */
  vc_json_gen_init(&j, "  ");
  vc_json_gen_array_open(&j);
  vc_json_gen_int(&j, 1);
  vc_json_gen_array_close(&j);
  CHECK(vc_json_gen_finish(&j, &out, &err) == 0);
  CHECK_STR(out, "[\n  1\n]");
  free(out);

  /* The first failure sticks and is reported once, at the end. */
  vc_json_gen_init(&j, NULL);
  vc_json_gen_map_open(&j);
  vc_json_gen_int(&j, 1); /* a number where a key belongs */
  vc_json_gen_key(&j, "k");
  vc_json_gen_map_close(&j);
  CHECK(vc_json_gen_finish(&j, &out, &err) < 0 && out == NULL);
  if (err != NULL)
    CHECK_STR(err->msg, "JSON generation: object keys must be strings");
  vc_error_free(&err);

  /* Trees nested beyond yajl_gen's limit fail cleanly. */
  char deep[600];
  for (int i = 0; i < 200; i++) {
    deep[i] = '[';
    deep[200 + i] = ']';
  }
  deep[400] = '\0';
  yajl_val t = yajl_tree_parse(deep, NULL, 0);
  CHECK(t != NULL);
  CHECK(vc_json_serialize(t, &out, &err) < 0 && out == NULL);
  if (err != NULL)
    CHECK_STR(err->msg, "JSON generation: nested too deeply");
  vc_error_free(&err);
  yajl_tree_free(t);
  /* ...and vc_json_parse never hands out such a tree. */
  CHECK(vc_json_parse(deep, &t, &err) < 0 && t == NULL);
  vc_error_free(&err);
}

/* oci_mount_source_in_root for root.path root and bind source src. */
static void expect_in_root(const char *root, const char *src,
                           const char *want) {
  struct oci_spec spec = {.root_path = (char *)root};
  struct oci_mount m = {.destination = "/d", .source = (char *)src};
  char *got = oci_mount_source_in_root(&spec, "/b/bundle", &m);
  CHECK_STR_OR_NULL(got, want);
  free(got);
}

TEST(bind_source_in_root) {
  expect_in_root("rootfs", "rootfs/base", "/base");
  expect_in_root("rootfs", "rootfs", "");
  expect_in_root("rootfs", "/b/bundle/rootfs//base/./x/", "/base/x");
  expect_in_root("/b/bundle/rootfs", "rootfs/base", "/base");
  expect_in_root("./rootfs/", "/b/bundle/rootfs/etc/passwd", "/etc/passwd");
  expect_in_root("rootfs", "rootfs2/base", NULL);
  expect_in_root("rootfs", "data", NULL);
  expect_in_root("rootfs", "/b/bundle/x/../rootfs/base", NULL);
  expect_in_root("rootfs", "", NULL);
  expect_in_root("rootfs", NULL, NULL);
}

/* exec's --process file: a process object alone, with the same checks. */
static char *process_err(const char *sq) {
  cleanup_free char *text = J(sq);
  struct oci_spec *s = NULL;
  vc_error *err = NULL;
  if (oci_process_parse(text, "p.json", &s, &err) == 0) {
    bool ok = s != NULL && s->process != NULL && err == NULL;
    oci_spec_free(s);
    return ok ? NULL : xstrdup("(bad success state)");
  }
  char *msg = s == NULL && err != NULL ? xstrdup(err->msg) : xstrdup("(bad error state)");
  vc_error_free(&err);
  return msg;
}

TEST(process_alone) {
  char *e = process_err("{'args':['sh'],'cwd':'/','terminal':true} // a comment");
  CHECK(e == NULL);
  free(e);
  e = process_err("['sh']");
  CHECK_STR(e, "p.json: must be a JSON object");
  free(e);
  e = process_err("{'args':['sh'],'cwd':'tmp'}");
  CHECK_STR(e, "p.json: process.cwd: must be an absolute path");
  free(e);
  /* One object only: nothing can reach past process in the wrapping spec. */
  e = process_err("{'args':['sh'],'cwd':'/'},'linux':{}");
  CHECK(e != NULL && strncmp(e, "p.json: invalid JSON at line 1", 30) == 0);
  free(e);
}

int main(void) {
  RUN(bind_source_in_root);
  RUN(full_config_parses_every_field);
  RUN(minimal_config_leaves_everything_empty);
  RUN(null_members_count_as_absent);
  RUN(unknown_fields_are_ignored);
  RUN(duplicate_keys_last_one_wins);
  RUN(invalid_json_names_the_line);
  RUN(oci_version_rules);
  RUN(root_rules);
  RUN(process_rules);
  RUN(user_rules);
  RUN(rlimit_rules);
  RUN(big_uint64_rlimits);
  RUN(mount_and_hook_rules);
  RUN(annotation_rules);
  RUN(linux_rules);
  RUN(default_spec_round_trips);
  RUN(load_reads_bundle_config);
  RUN(json_serialize_round_trip);
  RUN(json_lookups);
  RUN(json_integers);
  RUN(json_parse_errors);
  RUN(json_generator);
  RUN(process_alone);
  return TEST_SUMMARY();
}
