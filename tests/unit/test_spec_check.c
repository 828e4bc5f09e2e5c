/* oci/spec_check.c (the host's checks before a VM boots), the capability
 * table both sides share (oci/capability.c) and linux.seccomp resolved
 * through libseccomp (oci/seccomp.c).  JSON here is single-quoted; sq()
 * turns it into double quotes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "oci/capability.h"
#include "oci/seccomp.h"
#include "oci/spec.h"
#include "oci/spec_check.h"
#include "test.h"
#include "lib/base/util.h"

static char *sq(const char *s) {
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

/* oci_spec_check's error for a spec, NULL when it passes, "(parse)" when
 * the spec does not even parse. */
static char *check_err(const char *doc) {
  cleanup_free char *text = sq(doc);
  struct oci_spec *s = NULL;
  vc_error *err = NULL;
  if (oci_spec_parse(text, "c.json", &s, &err) < 0) {
    fprintf(stderr, "  parse: %s\n", err->msg);
    vc_error_free(&err);
    return xstrdup("(parse)");
  }
  char *msg = NULL;
  if (oci_spec_check(s, "c.json", &err) < 0)
    msg = xstrdup(err != NULL ? err->msg : "(no message)");
  else if (err != NULL)
    msg = xstrdup("(error set on success)");
  vc_error_free(&err);
  oci_spec_free(s);
  return msg;
}

#define PROCESS(x) "{'ociVersion':'1.0.2','root':{'path':'r'}," \
  "'process':{'cwd':'/','args':['sh'],'capabilities':{" x "}}}"
#define LINUX(x) "{'ociVersion':'1.0.2','root':{'path':'r'},'linux':{" x "}}"
#define SECCOMP(x) LINUX("'seccomp':{" x "}")
#define ALLOW "'defaultAction':'SCMP_ACT_ALLOW'"

#define EXPECT(doc, want)                                                  \
  do {                                                                     \
    char *got_ = check_err(doc);                                           \
    const char *want_ = (want);                                            \
    if (want_ == NULL) {                                                   \
      if (got_ != NULL)                                                    \
        fprintf(stderr, "  %s:%d: unexpected error: %s\n", __FILE__,       \
                __LINE__, got_);                                           \
      CHECK(got_ == NULL);                                                 \
    } else {                                                               \
      CHECK_STR(got_, want_);                                              \
    }                                                                      \
    free(got_);                                                            \
  } while (0)

TEST(capability_table_matches_libcap) {
  for (int n = 0; n < OCI_CAPABILITY_COUNT; n++) {
    const char *name = oci_capability_name(n);
    CHECK(name != NULL);
    if (name == NULL)
      continue;
    CHECK(oci_capability_number(name) == n);
    cap_value_t v = -1;
    CHECK(cap_from_name(name, &v) == 0 && v == n);
  }
  for (int set = 0; set < OCI_CAPS_SETS; set++)
    CHECK(oci_capability_set_name(set) != NULL);
  CHECK_STR(oci_capability_set_name(OCI_CAPS_AMBIENT), "ambient");
  CHECK(oci_capability_name(-1) == NULL);
  CHECK(oci_capability_name(OCI_CAPABILITY_COUNT) == NULL);
  CHECK(oci_capability_number("cap_chown") == -1); /* runc: upper case only */
  CHECK(oci_capability_number("CAP_") == -1);
  CHECK(oci_capability_number("") == -1);
  CHECK(oci_capability_number("0") == -1);
}

TEST(capability_names) {
  EXPECT(LINUX(""), NULL);
  EXPECT(PROCESS(""), NULL);
  EXPECT(PROCESS("'bounding':['CAP_KILL'],'effective':['CAP_BPF'],"
                 "'inheritable':[],'permitted':['CAP_SYS_ADMIN','CAP_BPF'],"
                 "'ambient':['CAP_CHECKPOINT_RESTORE']"), NULL);
  /* The kernel refuses these at start; the host refuses them at create. */
  EXPECT(PROCESS("'effective':['CAP_KILL','CAP_BPF'],'permitted':['CAP_KILL']"),
         "c.json: process.capabilities.effective: CAP_BPF is not in "
         "process.capabilities.permitted");
  EXPECT(PROCESS("'inheritable':['CAP_CHOWN'],'bounding':['CAP_KILL']"),
         "c.json: process.capabilities.inheritable: CAP_CHOWN is not in "
         "process.capabilities.bounding");
  EXPECT(PROCESS("'bounding':['CAP_KILL','KILL']"),
         "c.json: process.capabilities.bounding[1]: unknown capability \"KILL\"");
  EXPECT(PROCESS("'effective':['CAP_X']"),
         "c.json: process.capabilities.effective[0]: unknown capability \"CAP_X\"");
  EXPECT(PROCESS("'inheritable':['']"),
         "c.json: process.capabilities.inheritable[0]: unknown capability \"\"");
  EXPECT(PROCESS("'permitted':['cap_chown']"),
         "c.json: process.capabilities.permitted[0]: unknown capability \"cap_chown\"");
  EXPECT(PROCESS("'ambient':['CAP_SYS_ADMIN','CAP_Y']"),
         "c.json: process.capabilities.ambient[1]: unknown capability \"CAP_Y\"");
}

/* linux.seccomp specs and the error each gets (NULL: accepted). */
static const struct {
  const char *doc, *want;
} seccomp_cases[] = {
    {SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1"), NULL},
    {SECCOMP(""), "c.json: linux.seccomp.defaultAction: must be a string"},
    {SECCOMP("'defaultAction':'SCMP_ACT_NO'"),
     "c.json: linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NO\""},
    {SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':-1"),
     "c.json: linux.seccomp.defaultErrnoRet: must be an integer from 0 to 65535"},
    {SECCOMP("'defaultAction':'SCMP_ACT_NOTIFY'"),
     "c.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported "
     "(no seccomp agent can reach the guest)"},
    {SECCOMP(ALLOW ",'syscalls':[{'names':['getpid'],'action':'SCMP_ACT_KILLL'}]"),
     "c.json: linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_KILLL\""},
    {SECCOMP(ALLOW ",'syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
             "'errnoRet':70000}]"),
     "c.json: linux.seccomp.syscalls[0].errnoRet: must be an integer from 0 to 65535"},
    {SECCOMP(ALLOW ",'syscalls':{}"),
     "c.json: linux.seccomp.syscalls: must be an array"},
    {SECCOMP(ALLOW ",'syscalls':[7]"),
     "c.json: linux.seccomp.syscalls[0]: must be an object"},
    {SECCOMP(ALLOW ",'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86',"
             "'SCMP_ARCH_X32','SCMP_ARCH_AARCH64'],"
             "'flags':['SECCOMP_FILTER_FLAG_LOG','SECCOMP_FILTER_FLAG_SPEC_ALLOW',"
             "'SECCOMP_FILTER_FLAG_TSYNC'],"
             "'syscalls':[{'names':['personality','mkdir'],'action':'SCMP_ACT_ERRNO',"
             "'args':[{'index':0,'value':8,'op':'SCMP_CMP_MASKED_EQ'}]},"
             "{'names':[],'action':'SCMP_ACT_LOG'}]"),
     NULL},
    {SECCOMP(ALLOW ",'architectures':['x86_64']"),
     "c.json: linux.seccomp.architectures[0]: unknown architecture \"x86_64\""},
    {SECCOMP(ALLOW ",'architectures':['SCMP_ARCH_x86_64']"),
     "c.json: linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_x86_64\""},
    {SECCOMP(ALLOW ",'architectures':['SCMP_ARCH_PDP11']"),
     "c.json: linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_PDP11\""},
    {SECCOMP(ALLOW ",'architectures':'SCMP_ARCH_X86'"),
     "c.json: linux.seccomp.architectures: must be an array"},
    {SECCOMP(ALLOW ",'flags':['X']"),
     "c.json: linux.seccomp.flags[0]: unknown flag \"X\""},
    {SECCOMP(ALLOW ",'syscalls':[{'names':['getpid','nosuchcall'],"
             "'action':'SCMP_ACT_ERRNO'}]"),
     "c.json: linux.seccomp.syscalls[0].names[1]: unknown syscall \"nosuchcall\""},
    {SECCOMP(ALLOW ",'syscalls':[{'names':[1],'action':'SCMP_ACT_ERRNO'}]"),
     "c.json: linux.seccomp.syscalls[0].names[0]: must be a string"},
    {SECCOMP(ALLOW ",'syscalls':[{'action':'SCMP_ACT_ERRNO'}]"),
     "c.json: linux.seccomp.syscalls[0].names: must be an array of strings"},
    {SECCOMP(ALLOW ",'syscalls':[{'names':['kill'],'action':'SCMP_ACT_LOG',"
             "'args':[{'index':6,'op':'SCMP_CMP_EQ'}]}]"),
     "c.json: linux.seccomp.syscalls[0].args[0].index: must be an integer from 0 to 5"},
    {SECCOMP(ALLOW ",'syscalls':[{'names':['kill'],'action':'SCMP_ACT_LOG',"
             "'args':[{'index':1,'op':'EQ'}]}]"),
     "c.json: linux.seccomp.syscalls[0].args[0].op: unknown operator \"EQ\""},
    {SECCOMP(ALLOW ",'syscalls':[{'names':['kill'],'action':'SCMP_ACT_LOG',"
             "'args':[{'index':1,'op':'SCMP_CMP_EQ','value':-1}]}]"),
     "c.json: linux.seccomp.syscalls[0].args[0].value: must be a non-negative integer"},
};

TEST(seccomp_names_and_values) {
  for (size_t i = 0; i < sizeof(seccomp_cases) / sizeof(seccomp_cases[0]); i++)
    EXPECT(seccomp_cases[i].doc, seccomp_cases[i].want);
}

/* What oci_seccomp_parse hands the agent to build its filter from. */
TEST(seccomp_resolved) {
  cleanup_free char *json = sq(
      "{'defaultAction':'SCMP_ACT_ERRNO','architectures':['SCMP_ARCH_X86_64'],"
      "'flags':['SECCOMP_FILTER_FLAG_LOG'],'syscalls':["
      "{'names':['getpid','read'],'action':'SCMP_ACT_ALLOW'},"
      "{'names':['kill'],'action':'SCMP_ACT_ERRNO','errnoRet':3,"
      "'args':[{'index':1,'value':9,'op':'SCMP_CMP_EQ'},"
      "{'index':1,'value':15,'op':'SCMP_CMP_EQ'}]}]}");
  struct oci_seccomp *s = NULL;
  vc_error *err = NULL;
  CHECK(oci_seccomp_parse(json, &s, &err) == 0 && err == NULL);
  if (s == NULL)
    return;
  CHECK(s->default_action == SCMP_ACT_ERRNO(EPERM));
  CHECK(s->n_arches == 1 && s->arches[0] == SCMP_ARCH_X86_64);
  CHECK(s->n_flags == 1 && s->flags[0] == SCMP_FLTATR_CTL_LOG);
  CHECK(s->n_rules == 2);
  if (s->n_rules == 2) {
    CHECK(s->rules[0].action == SCMP_ACT_ALLOW && s->rules[0].n_args == 0);
    CHECK(s->rules[0].n_syscalls == 2 &&
          s->rules[0].syscalls[0] == seccomp_syscall_resolve_name("getpid") &&
          s->rules[0].syscalls[1] == seccomp_syscall_resolve_name("read"));
    CHECK(s->rules[1].action == SCMP_ACT_ERRNO(3));
    CHECK(s->rules[1].n_args == 2 && s->rules[1].same_arg);
    CHECK(s->rules[1].args[1].arg == 1 && s->rules[1].args[1].datum_a == 15 &&
          s->rules[1].args[1].op == SCMP_CMP_EQ);
  }
  oci_seccomp_free(s);
  /* A failure half-way through a rule leaves nothing to free. */
  cleanup_free char *bad = sq("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':["
                              "{'names':['read'],'action':'SCMP_ACT_LOG'},"
                              "{'names':['read','nope'],'action':'SCMP_ACT_LOG'}]}");
  s = NULL;
  CHECK(oci_seccomp_parse(bad, &s, &err) < 0 && s == NULL && err != NULL);
  vc_error_free(&err);
  CHECK(oci_seccomp_parse("{", &s, &err) < 0 && err != NULL &&
        strncmp(err->msg, "linux.seccomp: invalid JSON", 27) == 0);
  vc_error_free(&err);
}

/* The name lists `vcrun features` prints are the ones the parser takes. */
TEST(seccomp_name_lists) {
  CHECK_STR(oci_seccomp_name(OCI_SECCOMP_ACTIONS, 0), "SCMP_ACT_KILL");
  CHECK(oci_seccomp_name(OCI_SECCOMP_ACTIONS, 8) == NULL);
  CHECK(oci_seccomp_name(OCI_SECCOMP_OPERATORS, 7) == NULL);
  CHECK(oci_seccomp_name(OCI_SECCOMP_FLAGS, 3) == NULL);
  const char *name;
  for (size_t i = 0; (name = oci_seccomp_name(OCI_SECCOMP_ACTIONS, i)) != NULL; i++) {
    cleanup_free char *doc = xasprintf(SECCOMP("'defaultAction':'%s'"), name);
    EXPECT(doc, NULL);
  }
  for (size_t i = 0; (name = oci_seccomp_name(OCI_SECCOMP_OPERATORS, i)) != NULL; i++) {
    cleanup_free char *doc = xasprintf(
        SECCOMP(ALLOW ",'syscalls':[{'names':['kill'],'action':'SCMP_ACT_LOG',"
                "'args':[{'index':1,'op':'%s'}]}]"), name);
    EXPECT(doc, NULL);
  }
  for (size_t i = 0; (name = oci_seccomp_name(OCI_SECCOMP_FLAGS, i)) != NULL; i++) {
    cleanup_free char *doc = xasprintf(SECCOMP(ALLOW ",'flags':['%s']"), name);
    EXPECT(doc, NULL);
  }
  size_t n_arches = 0;
  for (; (name = oci_seccomp_name(OCI_SECCOMP_ARCHES, n_arches)) != NULL; n_arches++)
    CHECK(strncmp(name, "SCMP_ARCH_", 10) == 0);
  CHECK(n_arches == 19);
  CHECK(oci_seccomp_arch_token("SCMP_ARCH_X86_64") == SCMP_ARCH_X86_64);
  CHECK(oci_seccomp_arch_token("SCMP_ARCH_AARCH64") == SCMP_ARCH_AARCH64);
  CHECK(oci_seccomp_arch_token("SCMP_ARCH_") == 0);
  CHECK(oci_seccomp_arch_token("x86_64") == 0);
}

#define NS(types) "'namespaces':[" types "]"
#define SYSCTL(kv) "'sysctl':{" kv "}"

TEST(sysctl_namespaces) {
  EXPECT(LINUX(NS("{'type':'ipc'},{'type':'network'},{'type':'uts'}") ","
               SYSCTL("'kernel.msgmax':'1','kernel.shm_rmid_forced':'1',"
                      "'fs.mqueue.msg_max':'9','net.ipv4.ip_forward':'1',"
                      "'kernel.domainname':'x'")),
         NULL);
  EXPECT(LINUX(NS("{'type':'network'}") "," SYSCTL("'kernel.sem':'1 2 3 4'")),
         "c.json: linux.sysctl[\"kernel.sem\"]: not allowed without an ipc "
         "namespace in linux.namespaces");
  EXPECT(LINUX(NS("{'type':'ipc'}") "," SYSCTL("'net.core.somaxconn':'9'")),
         "c.json: linux.sysctl[\"net.core.somaxconn\"]: not allowed without a "
         "network namespace in linux.namespaces");
  EXPECT(LINUX(NS("{'type':'ipc'},{'type':'network'}") ","
               SYSCTL("'vm.swappiness':'1'")),
         "c.json: linux.sysctl[\"vm.swappiness\"]: not allowed: the sysctl is "
         "not in a separate kernel namespace");
  /* Only the listed IPC keys: kernel.shmfoo is not one of them. */
  EXPECT(LINUX(NS("{'type':'ipc'}") "," SYSCTL("'kernel.shmfoo':'1'")),
         "c.json: linux.sysctl[\"kernel.shmfoo\"]: not allowed: the sysctl is "
         "not in a separate kernel namespace");
  EXPECT(LINUX(SYSCTL("'kernel.domainname':'x'")),
         "c.json: linux.sysctl[\"kernel.domainname\"]: not allowed: the sysctl "
         "is not in a separate kernel namespace");
  EXPECT(LINUX(NS("{'type':'uts'}") "," SYSCTL("'kernel.hostname':'x'")),
         "c.json: linux.sysctl[\"kernel.hostname\"]: not allowed: the hostname "
         "field sets it");
}

int main(void) {
  RUN(capability_table_matches_libcap);
  RUN(capability_names);
  RUN(seccomp_names_and_values);
  RUN(seccomp_resolved);
  RUN(seccomp_name_lists);
  RUN(sysctl_namespaces);
  return TEST_SUMMARY();
}
