/* The QMP client's parsing, apart from its socket: a line reader over a
 * bounded buffer and the session logic (greeting, qmp_capabilities, one
 * command, events skipped up to a limit).  Both are pure, so that what
 * QEMU (or whatever holds the socket) sends can be fuzzed without one
 * (tests/fuzz/fuzz_qmp.c).  vc_qmp_call drives them over the socket. */
#ifndef VC_QMP_H
#define VC_QMP_H

#include <stddef.h>

#include "lib/base/error.h"

/* Longest message read, newline included: ample for the commands vcrun
 * runs (quit, query-status), and a limit on what a peer makes us hold. */
#define VC_QMP_LINE_MAX (64 * 1024)
/* Messages other than the answer (events) accepted while waiting for one
 * answer; past it the peer is flooding us and the command fails. */
#define VC_QMP_MAX_SKIPPED 256
/* Longest error description from QEMU quoted in a vc_error. */
#define VC_QMP_DESC_MAX 200

/* Splits the bytes read from the socket into lines. */
struct vc_qmp_reader {
  char buf[VC_QMP_LINE_MAX + 1];
  size_t len;      /* bytes held */
  size_t consumed; /* of which lines already handed out */
};

/* Where the next bytes read go: returns the place and sets *room to how
 * many fit (0 only while a line is waiting to be taken). */
char *vc_qmp_reader_space(struct vc_qmp_reader *r, size_t *room);
/* Records that n (<= room) bytes were written at the place given. */
void vc_qmp_reader_commit(struct vc_qmp_reader *r, size_t n);
/* Takes the next line: 1 with *line (NUL-terminated in place of its '\n',
 * valid until the next call on r) of *len bytes, which may hold NULs;
 * 0 when more bytes are needed; -1 with *err when VC_QMP_LINE_MAX bytes came
 * without a newline. */
int vc_qmp_reader_line(struct vc_qmp_reader *r, const char **line,
                       size_t *len, vc_error **err);

enum vc_qmp_stage {
  VC_QMP_AWAIT_GREETING,
  VC_QMP_AWAIT_CAPABILITIES, /* qmp_capabilities sent */
  VC_QMP_AWAIT_ANSWER,       /* the command sent */
  VC_QMP_DONE,
};

struct vc_qmp_session {
  const char *command;   /* a QMP command name, not quoted: "quit" */
  const char *arguments; /* its arguments, a JSON object's text, or NULL */
  enum vc_qmp_stage stage;
  unsigned skipped; /* messages skipped while waiting for this answer */
};

void vc_qmp_session_init(struct vc_qmp_session *s, const char *command,
                         const char *arguments);
/* Handles one message (line of len bytes, without its newline).  Returns
 *  0: more is needed; if *send is set, it is malloc'd text to write first
 *     (the caller frees it);
 *  1: the command succeeded; *reply (if reply is non-NULL) gets its
 *     "return" value as compact JSON (malloc'd);
 * -1: *err says why: "QMP <command>: <QEMU's description>" when a command
 *     failed, "QMP: ..." when the peer broke the protocol (not JSON or
 *     nested too deep, no greeting, an answer before any command, more than
 *     VC_QMP_MAX_SKIPPED events).  Always a single printable line.
 * After 1 or -1 the session is over (stage VC_QMP_DONE). */
int vc_qmp_session_input(struct vc_qmp_session *s, const char *line,
                         size_t len, char **send, char **reply,
                         vc_error **err);

/* One command on a fresh connection to QEMU's QMP socket, within
 * timeout_ms: arguments is a JSON object's text, or NULL; *reply (if
 * non-NULL) gets the "return" value as compact JSON (malloc'd). */
int vc_qmp_call(const char *socket_path, const char *command,
                const char *arguments, char **reply, int timeout_ms,
                vc_error **err);
/* vc_qmp_call without arguments. */
int vc_qmp_execute(const char *socket_path, const char *command,
                   char **reply, int timeout_ms, vc_error **err);

/* A session: one connection for several commands, an fd passed along
 * (what "getfd" takes), and the events seen meanwhile kept (at most
 * VC_QMP_MAX_SKIPPED) for vc_qmp_wait_event.  Every call on it shares the
 * deadline vc_qmp_open set, now + timeout_ms. */
struct vc_qmp;
int vc_qmp_open(const char *socket_path, int timeout_ms, struct vc_qmp **out,
                vc_error **err);
void vc_qmp_close(struct vc_qmp *q);

/* Sends json (one command object, {"execute": ..., "arguments": {...}})
 * with fd attached as SCM_RIGHTS when fd >= 0, and waits for its answer;
 * *reply (if non-NULL) gets the whole answer line.  QEMU's error is err's
 * one printable line. */
int vc_qmp_command(struct vc_qmp *q, const char *json, int fd, char **reply,
                   vc_error **err);

/* Waits for an event named event whose data.device equals device (NULL:
 * any), counting those that arrived while a command ran. */
int vc_qmp_wait_event(struct vc_qmp *q, const char *event, const char *device,
                      vc_error **err);

#endif
