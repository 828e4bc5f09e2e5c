/* The agent's methods: one table that the host (lib/agent_client.c) and the
 * guest agent (agent/rpc.c) both compile, with a typed C struct for every
 * request and response and one table-driven codec between those structs
 * and the JSON bodies of REQUEST/RESPONSE frames (lib/base/protocol.h).
 *
 * Wire format of the bodies:
 *   request:  {"method": "<name>", "params": {<request fields>}}
 *   response: {"result": {<response fields>}}
 *        or   {"error": {"code": <errno>, "message": "<text>"}}
 * An error's code is a Linux errno value (ENOENT: no such container or
 * process, EINVAL: a malformed request, EPROTO: an unknown method); the host
 * decides by the code and shows the message.  Hello's response carries
 * VC_AGENT_PROTOCOL_VERSION, which the host checks before anything else.
 *
 * Field types (enum vc_proto_type) and their C types:
 *   VC_PT_STR   char *      a JSON string; NULL when absent (const char *
 *                           in requests: borrowed from the caller when
 *                           encoding, owned when decoded)
 *   VC_PT_U32   uint32_t    a JSON integer in [0, UINT32_MAX]
 *   VC_PT_I64   int64_t     a JSON integer
 *   VC_PT_BOOL  bool        true or false
 *   VC_PT_JSON  char *      any JSON object, carried as its compact text
 *   VC_PT_LIST  an array of elements of another message: a pointer to the
 *               elements plus a size_t count (offset count_offset)
 * A decoded struct owns its strings and arrays: free it with
 * vc_proto_msg_free.  Decoding is bounded: bodies go through vc_json_parse
 * (depth VC_JSON_MAX_DEPTH), a field of the wrong type or a missing
 * required field is an error naming the method and the field, and unknown
 * fields are ignored (a newer peer may send more). */
#ifndef VC_AGENT_PROTO_H
#define VC_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

/* Bumped whenever a method or field changes meaning. */
#define VC_AGENT_PROTOCOL_VERSION 4

enum vc_proto_type {
  VC_PT_STR,
  VC_PT_U32,
  VC_PT_I64,
  VC_PT_BOOL,
  VC_PT_JSON,
  VC_PT_LIST,
};

struct vc_proto_msg;

struct vc_proto_field {
  const char *name;
  enum vc_proto_type type;
  size_t offset;
  bool required;
  /* VC_PT_LIST only: */
  const struct vc_proto_msg *element;
  size_t count_offset;
};

/* One message: its C struct's size and its fields. */
struct vc_proto_msg {
  const char *name;
  size_t size;
  const struct vc_proto_field *fields;
  size_t n_fields;
};

/* ---- The messages ---------------------------------------------------- */

/* No fields (Hello's request, most responses). */
struct vc_msg_empty {
  char unused;
};

/* A container: StartContainer, StateContainer, ListProcesses,
 * PauseContainer, ResumeContainer, StatsContainer, DeleteContainer. */
struct vc_msg_container {
  const char *id;
};

/* A process of a container: its init when exec_id is NULL or "". */
struct vc_msg_process_ref {
  const char *id;
  const char *exec_id;
};

struct vc_msg_hello_result {
  uint32_t version; /* VC_AGENT_PROTOCOL_VERSION of the agent */
  char *kernel;     /* the guest's uname release */
};

struct vc_msg_create_container {
  const char *id;
  const char *cgroup;     /* the container's cgroup below the guest's root */
  const char *rootfs_tag; /* the virtio-fs tag the rootfs is shared under */
  const char *bundle;     /* for the state guest hooks get */
  const char *spec;       /* config.json's text */
  /* Namespaces to enter instead of making new ones:
   * {"<type>": "<container id>", ...}, or NULL. */
  const char *join_namespaces;
  /* The VM runs in the pod's host network namespace (see lib/pod.h). */
  bool vm_network_namespace;
  /* The container uses the guest's own network namespace, the one that
   * holds the pod's NICs (UpdateNetwork), instead of a new one. */
  bool vm_network;
  /* The stream for the init's stdio on this connection; 0: attached later
   * with AttachStdio. */
  uint32_t stdio_stream;
  /* The directory of the share its rootfs and mounts are under (unique per
   * create, so an id can be used again at once); NULL: the id. */
  const char *share_name;
};

struct vc_msg_exec_process {
  const char *id;
  const char *exec_id;
  const char *process; /* the OCI process object's text */
  uint32_t stdio_stream;
};

struct vc_msg_attach_stdio {
  const char *id;
  uint32_t stdio_stream;
};

struct vc_msg_resize_terminal {
  const char *id;
  const char *exec_id;
  uint32_t rows, cols;
};

struct vc_msg_wait_result {
  uint32_t exit_status; /* 0-255; 128+N when killed by signal N */
};

struct vc_msg_signal_process {
  const char *id;
  const char *exec_id;
  uint32_t signal;
  bool all; /* every process of the container (kill --all) */
};

struct vc_msg_state_result {
  char *status; /* created | running | paused | stopped */
  int64_t pid;  /* the init's pid in the guest */
  bool exited;
  uint32_t exit_status; /* when exited */
  /* Processes the guest's OOM killer killed in the container's cgroup
   * (memory.events' oom_kill); absent from older agents: 0. */
  uint32_t oom_kills;
};

/* What `ps -ef` and the common -o columns show of one guest process. */
struct vc_msg_process_info {
  int64_t pid;
  char *cmd;        /* its command line, arguments joined by spaces */
  int64_t ppid;     /* its parent, in the guest */
  int64_t uid;      /* effective uid */
  int64_t start_time; /* seconds since the epoch, by the guest's clock */
  int64_t cpu_ms;   /* user + system time */
  char *tty;        /* "pts/0", "ttyS0", or NULL for none */
  char *comm;       /* its command name (/proc/PID/comm) */
};

struct vc_msg_process_list {
  struct vc_msg_process_info *processes;
  size_t n_processes;
};

struct vc_msg_update_container {
  const char *id;
  const char *resources; /* a LinuxResources object's text */
};

struct vc_msg_stats_result {
  char *stats; /* the cgroup's figures, as runc's events --stats data */
};

/* UpdateNetwork: the pod's network as the guest gets it (Kata's
 * UpdateInterfaces, UpdateRoutes and AddARPNeighbors in one request):
 * lib/base/net_msg.h converts it from and to struct vc_net_info.
 * Addresses are "ADDR/LEN" text, MACs "aa:bb:cc:dd:ee:ff". */
struct vc_msg_net_address {
  char *address;
};

struct vc_msg_net_interface {
  char *name;   /* what the NIC is called in the guest (eth0) */
  char *hwaddr; /* finds the NIC: the pod link's MAC */
  uint32_t mtu;
  struct vc_msg_net_address *addresses;
  size_t n_addresses;
};

struct vc_msg_net_route {
  char *dest;    /* "0.0.0.0/0" for the default route */
  char *gateway; /* an address, or NULL */
  char *source;  /* the preferred source address, or NULL */
  char *device;  /* an interface's name, or NULL */
  uint32_t mtu, metric, scope, flags;
};

struct vc_msg_net_neighbor {
  char *ip;
  char *hwaddr;
  char *device;
};

struct vc_msg_update_network {
  struct vc_msg_net_interface *interfaces;
  size_t n_interfaces;
  struct vc_msg_net_route *routes; /* in order: gatewayless ones first */
  size_t n_routes;
  struct vc_msg_net_neighbor *neighbors;
  size_t n_neighbors;
};

/* ReseedGuest: a VM restored from a saved template starts with the
 * template's RNG state and clock, as every other clone of it does: the
 * host sends fresh entropy (credited, then the CRNG reseeded) and its
 * CLOCK_REALTIME.  A template's agent (vcrun.template on its kernel command
 * line) refuses containers until this came. */
struct vc_msg_reseed_guest {
  const char *entropy; /* hex, 64 to 1024 digits (32 to 512 bytes) */
  int64_t realtime_sec;
  uint32_t realtime_nsec;
};

/* OnlineResources: after the host resized the VM, the agent brings CPUs
 * online or offline until vcpus are (the guest has no udev to do it; under
 * TCG every vCPU is present from boot and only this changes the count),
 * brings every present memory block online, and answers what is online
 * now; the host asks again until its hot-plug's ACPI events have arrived. */
struct vc_msg_online_resources {
  uint32_t vcpus; /* 1 or more */
};

struct vc_msg_online_result {
  uint32_t vcpus;      /* online CPUs */
  uint32_t memory_mib; /* online memory blocks, in MiB */
};

/* ---- The methods ----------------------------------------------------- */

enum vc_agent_method {
  VC_AGENT_HELLO,
  VC_AGENT_CREATE_CONTAINER,
  VC_AGENT_START_CONTAINER,
  VC_AGENT_EXEC_PROCESS,
  VC_AGENT_ATTACH_STDIO,
  VC_AGENT_RESIZE_TERMINAL,
  VC_AGENT_WAIT_PROCESS,
  VC_AGENT_SIGNAL_PROCESS,
  VC_AGENT_STATE_CONTAINER,
  VC_AGENT_LIST_PROCESSES,
  VC_AGENT_PAUSE_CONTAINER,
  VC_AGENT_RESUME_CONTAINER,
  VC_AGENT_UPDATE_CONTAINER,
  VC_AGENT_STATS_CONTAINER,
  VC_AGENT_DELETE_CONTAINER,
  VC_AGENT_DESTROY_SANDBOX,
  VC_AGENT_UPDATE_NETWORK,
  VC_AGENT_RESEED_GUEST,
  VC_AGENT_ONLINE_RESOURCES,
  VC_AGENT_N_METHODS
};

struct vc_agent_method_desc {
  const char *name; /* on the wire */
  const struct vc_proto_msg *request, *response;
};

/* Indexed by enum vc_agent_method. */
extern const struct vc_agent_method_desc vc_agent_methods[VC_AGENT_N_METHODS];

/* The method called name, or -1. */
int vc_agent_method_lookup(const char *name);

/* ---- The codec ------------------------------------------------------- */

/* A request body for method m with params (a struct of the method's
 * request type).  Returns malloc'd text. */
char *vc_proto_encode_request(enum vc_agent_method m, const void *params);
/* A result body for m with result (its response type; NULL for empty). */
char *vc_proto_encode_result(enum vc_agent_method m, const void *result);
/* An error body: an errno-like code and a message. */
char *vc_proto_encode_error(int code, const char *message);

/* Agent side: parses a request body.  *method gets the method and params
 * (a zeroed struct of its request type, allocated here) its fields.  On
 * failure *code gets EINVAL (malformed) or EPROTO (unknown method) and
 * *err the reason. */
int vc_proto_decode_request(const char *body, enum vc_agent_method *method,
                            void **params, int *code, vc_error **err);

/* Host side: parses a response body for method m.  A result fills result
 * (a struct of m's response type, or NULL to ignore it); an error reply
 * returns -1 with (*err)->errnum set to the agent's code and its message
 * as (*err)->msg.  The body is untrusted: anything malformed, too deep or
 * of the wrong type is an error naming the method. */
int vc_proto_decode_response(enum vc_agent_method m, const char *body,
                             void *result, vc_error **err);

/* Frees what a decoded struct of msg's type owns (not the struct). */
void vc_proto_msg_free(const struct vc_proto_msg *msg, void *value);

#endif
