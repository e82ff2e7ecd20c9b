/* ws_server internals shared by its .c files and tests/unit/test_wss.c.
 * Pure code only (no lws calls), so it can be tested without sockets. */
#ifndef WSS_INTERNAL_H
#define WSS_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "wss.h"

/* Headroom in front of every outgoing payload; wss_lws.c asserts that it is
 * at least LWS_PRE (lws writes the frame header there). */
#define WSS_PRE 16

/* Request headers (docs/protocol.md "HTTP"): a request whose header values
 * (URI, Cookie, ... as lws keeps them) pass WSS_MAX_HEADER_BYTES gets 431.
 * lws's own header buffer is twice that so such a request still reaches
 * us; past that buffer lws 4.1.6 closes the connection without an answer
 * (lib/roles/http/parsers.c lws_pos_in_bounds). Browsers send up to ~8-16
 * KiB (cookies of other apps on 127.0.0.1 included). */
#define WSS_MAX_HEADER_BYTES 16384
#define WSS_LWS_HEADER_BUF (2 * WSS_MAX_HEADER_BYTES)

/* ---------------------------------------------------------------- policy */
/* 1 if host is a loopback literal or "localhost" (bind and Host checks). */
int wss_is_loopback_host(const char *host);
/* Host header check against DNS rebinding (R-S2): loopback names with our
 * port, or bind_host:port when bound elsewhere. */
int wss_host_allowed(const char *host_hdr, const char *bind_host, int port);
/* Origin check (R-S1): http://{127.0.0.1,localhost,[::1]}:port or an exact
 * entry of extra[]. Missing/"null" origins are refused here. */
int wss_origin_allowed(const char *origin, int port, const char *const *extra, size_t n_extra);
/* Constant-time compare of a presented token with the configured one; 0 if
 * either is NULL or empty. Time depends only on the configured length. */
int wss_token_equal(const char *configured, const char *presented);

/* ------------------------------------------------------ inbound messages
 * A client's text message (docs/protocol.md "Client messages"), parsed
 * apart from lws so it can be fuzzed (tests/fuzz/fuzz_wss_inbound.c).
 * kind BAD: not a JSON object with a string "type". Strings and id point
 * into out->msg (owned: cJSON_Delete it, also for BAD). */
typedef enum wss_inbound_kind {
    WSS_IN_BAD = 0, WSS_IN_AUTH, WSS_IN_CONTROL, WSS_IN_PING, WSS_IN_UNKNOWN
} wss_inbound_kind;
typedef struct wss_inbound {
    wss_inbound_kind kind;
    cJSON *msg;
    const cJSON *id;    /* echoed in the reply; NULL if absent */
    const char *token;  /* AUTH: NULL if not a string */
    const char *cmd;    /* CONTROL: NULL if not a string */
} wss_inbound;
void wss_inbound_parse(const char *text, size_t len, wss_inbound *out);

/* ------------------------------------------------------- shared messages
 * One encoded event, shared by every client queue that holds it. */
typedef struct wss_msg {
    uint32_t refs;
    uint8_t kind;      /* wss_kind, or WSS_KIND_COUNT for per-client replies */
    uint8_t coalesce;  /* latest-wins per (kind, key) */
    uint64_t ckey;     /* hash of (kind, key) when coalesce */
    size_t len;        /* payload bytes after the WSS_PRE headroom */
    unsigned char buf[]; /* WSS_PRE + len + 1 */
} wss_msg;

wss_msg *wss_msg_new(const void *payload, size_t len);
wss_msg *wss_msg_ref(wss_msg *m);
void wss_msg_unref(wss_msg *m);
static inline unsigned char *wss_msg_payload(wss_msg *m) { return m->buf + WSS_PRE; }
uint64_t wss_coalesce_key(int kind, const char *key);

/* ------------------------------------------------------ per-client queue
 * A bounded FIFO of message references. A coalescable message replaces a
 * still-queued one with the same key in place (latest wins, order of other
 * messages kept). Bounds are in messages and bytes. */
#define WSS_COALESCE_SLOTS 64

typedef struct wss_queue {
    wss_msg **ring;
    size_t cap, head, count; /* head: index of the oldest */
    size_t bytes, max_bytes;
    uint64_t pushed;         /* absolute index of the next push */
    struct { uint64_t ckey, abs; } slot[WSS_COALESCE_SLOTS];
} wss_queue;

int wss_queue_init(wss_queue *q, size_t cap, size_t max_bytes);
void wss_queue_free(wss_queue *q);   /* unrefs what is queued */
/* Returns PT_OK (queued, takes a new ref), 1 (coalesced into an existing
 * entry), or PT_EFULL (nothing changed: the client is past its bound). */
int wss_queue_push(wss_queue *q, wss_msg *m);
/* Oldest message (ownership of the queue's ref moves to the caller) or NULL. */
wss_msg *wss_queue_pop(wss_queue *q);

/* -------------------------------------------------------------- http files
 * The dashboard files, read once at start (no disk I/O on the loop). */
typedef struct wss_file {
    char path[64];      /* URL path: "/index.html" */
    const char *mime;
    unsigned char *data;
    size_t len;
} wss_file;

typedef struct wss_files {
    wss_file *v;
    size_t n;
} wss_files;

int wss_files_load(wss_files *f, const char *web_dir, const char *vendor_js);
void wss_files_free(wss_files *f);
/* Exact lookup; "/" maps to "/index.html". Anything else (traversal,
 * encoded dots, double slashes) simply is not in the table. */
const wss_file *wss_files_find(const wss_files *f, const char *path);

#endif
