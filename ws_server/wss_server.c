/* ws_server: the libwebsockets side — one vhost, one protocol that answers
 * plain HTTP and the WebSocket stream. Follows notes/libwebsockets-4.1.6.md:
 * writes only in WRITEABLE, lws_send_pipe_choked, timers with lws_sul, an
 * `established` flag (CLOSED also fires for refused upgrades), Origin/Host
 * checked in FILTER_PROTOCOL_CONNECTION, own inbound size cap (close 1009). */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt_core.h"
#include "wss_internal.h"

_Static_assert(WSS_PRE >= LWS_PRE, "WSS_PRE must cover LWS_PRE");

#define WSS_CLOSE_SLOW 4001       /* app-defined: client fell behind, reconnect */
#define WSS_WRITE_BUDGET 128      /* messages per WRITEABLE, for fairness */
#define WSS_HTTP_CHUNK 16384
#define WSS_JSON_MAX (16u << 20)  /* bound on a snapshot / health document */
#define WSS_LAG_TICK_US 100000

#ifndef WSS_DEFAULT_WEB_DIR
#define WSS_DEFAULT_WEB_DIR "web"
#endif
#ifndef WSS_DEFAULT_VENDOR_JS
#define WSS_DEFAULT_VENDOR_JS "node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js"
#endif

typedef struct wss_pss {
    /* websocket */
    struct wss_pss *next, **pprev;
    struct lws *wsi; /* set at ESTABLISHED; valid until CLOSED */
    wss_queue q;
    wss_buf rx;
    uint32_t utf8; /* pt_utf8_check state across the fragments of rx */
    int established, authed, want_write, closing, close_code, close_after_flush;
    /* http */
    unsigned char *body_owned;
    const unsigned char *body;
    size_t body_len, body_off;
    int close_after_http;
} wss_pss;

enum { REJ_ORIGIN, REJ_HOST, REJ_FULL, REJ_TOO_LARGE, REJ_AUTH, REJ_METHOD, REJ_BAD_UTF8, REJ_COUNT };
static const char *const rej_names[REJ_COUNT] = {"origin", "host", "full", "too_large", "auth",
                                                 "method", "bad_utf8"};

struct wss_server {
    struct lws_context *cx;
    struct lws_vhost *vh;
    struct lws_protocols protocols[2];
    lws_retry_bo_t retry;
    uint32_t retry_table[1];
    char *host, *token, **origins;
    size_t n_origins;
    int port, max_clients, heartbeat_ms;
    size_t max_inbound, queue_msgs, queue_bytes;
    char csp[256];
    wss_callbacks cb;
    void *ud;
    wss_files files;
    wss_metrics *reg;
    wss_metric *m_clients, *m_dropped, *m_sent, *m_pub, *m_coal, *m_rej, *m_lag, *m_up, *m_rss;
    wss_pss *clients;
    int n_clients;
    int64_t seq, start_ms, lag_due_us;
    double lag_max_s;
    int lag_ticks;
    uint64_t rej[REJ_COUNT], pub_kind[WSS_KIND_COUNT];
    wss_stats st;
    lws_sorted_usec_list_t sul_hb, sul_lag;
    int suls_armed;
};

static const char *const kind_names[WSS_KIND_COUNT] = {
    "candle", "candle", "quality", "order", "trade", "portfolio", "health", "alert"};

/* Installed layout first (share/papertrader/web, with the chart library in
 * web/vendor/ by the install rules), else the source tree. Loop thread. */
const char *wss_default_web_dir(void)
{
    static char buf[4096];
    return buf[0] ? buf : pt_shared_file("web", WSS_DEFAULT_WEB_DIR, buf, sizeof buf);
}
struct lws_context *wss_context_new(void)
{
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    /* No LWS_SERVER_OPTION_VALIDATE_UTF8: lws 4.1.6 returns from its frame
     * parsers on invalid UTF-8 without resetting the rx buffer head
     * (lib/roles/ws/client-parser-ws.c, ops-ws.c), and the rest of a frame
     * longer than rx_buffer_size is then written past that buffer: any
     * exchange could crash a session with one such frame (issue 11). The
     * server and the feed check UTF-8 themselves (pt_utf8_check). */
    ci.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.max_http_header_data = WSS_LWS_HEADER_BUF; /* wss_internal.h: the 431 cap */
    struct lws_context *cx = lws_create_context(&ci);
    if (!cx)
        pt_err_log("ws_server: cannot create the lws context");
    return cx;
}

const char *wss_default_vendor_js(void)
{
    static char buf[4096];
    return buf[0] ? buf
                  : pt_shared_file("web/vendor/lightweight-charts.standalone.production.js",
                                   WSS_DEFAULT_VENDOR_JS, buf, sizeof buf);
}

/* ------------------------------------------------------------ documents */
static int health_doc(wss_server *srv, cJSON *o)
{
    int rc = srv->cb.health ? srv->cb.health(srv->ud, o) : PT_OK;
    if (!cJSON_GetObjectItemCaseSensitive(o, "status"))
        cJSON_AddStringToObject(o, "status", rc ? "degraded" : "ok");
    cJSON_AddNumberToObject(o, "uptime_s", (double)(pt_mono_ms() - srv->start_ms) / 1000.0);
    cJSON_AddNumberToObject(o, "rss_kb", (double)pt_rss_now_kb());
    cJSON *s = cJSON_AddObjectToObject(o, "server");
    if (s) {
        cJSON_AddNumberToObject(s, "clients", srv->n_clients);
        cJSON_AddNumberToObject(s, "clients_dropped", (double)srv->st.clients_dropped);
        cJSON_AddNumberToObject(s, "events_published", (double)srv->st.events_published);
        cJSON_AddNumberToObject(s, "event_loop_lag_s", srv->lag_max_s);
        cJSON_AddNumberToObject(s, "protocol", WSS_PROTOCOL_VERSION);
    }
    return rc;
}

static int snapshot_doc(wss_server *srv, cJSON *data)
{
    return srv->cb.snapshot ? srv->cb.snapshot(srv->ud, data) : PT_OK;
}

/* Serializes a document built by fill() into *out (malloc'd). */
static int build_json(wss_server *srv, int (*fill)(wss_server *, cJSON *), char **out)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return PT_ENOMEM;
    int rc = fill(srv, o);
    if (rc)
        pt_warn("ws_server: session callback returned %s", pt_strerror(rc));
    *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return *out ? PT_OK : PT_ENOMEM;
}

/* ------------------------------------------------------------ ws clients */
static void want_write(wss_pss *c, struct lws *wsi)
{
    if (!c->want_write) {
        c->want_write = 1;
        lws_callback_on_writable(wsi);
    }
}

static struct lws *pss_wsi(wss_server *srv, wss_pss *c);

/* The client is past its bound: free its backlog now (memory stays
 * bounded), send the close code when it next becomes writable, and let the
 * lws timeout reap it if it never does. */
static void drop_client(wss_server *srv, wss_pss *c, struct lws *wsi, int code, const char *why)
{
    if (c->closing)
        return;
    pt_warn("ws_server: dropping client (%s; %zu msgs, %zu bytes queued)", why, c->q.count,
            c->q.bytes);
    wss_msg *m;
    while ((m = wss_queue_pop(&c->q)))
        wss_msg_unref(m);
    c->closing = 1;
    c->close_code = code;
    srv->st.clients_dropped++;
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 2);
    want_write(c, wsi);
}

static int enqueue(wss_server *srv, wss_pss *c, struct lws *wsi, wss_msg *m)
{
    if (c->closing)
        return PT_ESTATE;
    int rc = wss_queue_push(&c->q, m);
    if (rc == PT_EFULL) {
        drop_client(srv, c, wsi, WSS_CLOSE_SLOW, "queue past its bound");
        return rc;
    }
    if (rc == 1)
        srv->st.coalesced++;
    want_write(c, wsi);
    return PT_OK;
}

/* A reply to one client: {"v":1,"type":..., ...fields} */
static void reply(wss_server *srv, wss_pss *c, struct lws *wsi, cJSON *o)
{
    cJSON_AddNumberToObject(o, "v", WSS_PROTOCOL_VERSION);
    char *txt = cJSON_PrintUnformatted(o);
    wss_msg *m = txt ? wss_msg_new(txt, strlen(txt)) : NULL;
    free(txt);
    if (m)
        enqueue(srv, c, wsi, m);
    wss_msg_unref(m);
}

static void reply_simple(wss_server *srv, wss_pss *c, struct lws *wsi, const char *type,
                         const char *err, const cJSON *id)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "type", type);
    if (err)
        cJSON_AddStringToObject(o, "error", err);
    if (id)
        cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
    reply(srv, c, wsi, o);
    cJSON_Delete(o);
}

static void send_snapshot(wss_server *srv, wss_pss *c, struct lws *wsi)
{
    cJSON *env = cJSON_CreateObject(), *data = NULL, *health = NULL;
    char *txt = NULL;
    wss_msg *m = NULL;
    if (!env)
        goto fail;
    cJSON_AddNumberToObject(env, "v", WSS_PROTOCOL_VERSION);
    cJSON_AddStringToObject(env, "type", "snapshot");
    cJSON_AddNumberToObject(env, "seq", (double)srv->seq);
    cJSON_AddNumberToObject(env, "ts", (double)pt_wall_ms());
    if (!(data = cJSON_AddObjectToObject(env, "data")))
        goto fail;
    snapshot_doc(srv, data);
    if ((health = cJSON_AddObjectToObject(data, "health")))
        health_doc(srv, health);
    cJSON_AddBoolToObject(data, "control_enabled", srv->token != NULL);
    cJSON_AddBoolToObject(data, "authed", c->authed);
    if (!(txt = cJSON_PrintUnformatted(env)) || !(m = wss_msg_new(txt, strlen(txt))))
        goto fail;
    enqueue(srv, c, wsi, m);
fail:
    if (!m)
        pt_err_log("ws_server: cannot build snapshot (out of memory)");
    wss_msg_unref(m);
    free(txt);
    cJSON_Delete(env);
}

static void handle_message(wss_server *srv, wss_pss *c, struct lws *wsi)
{
    wss_inbound in;
    wss_inbound_parse(c->rx.p ? c->rx.p : "", c->rx.len, &in);
    switch (in.kind) {
    case WSS_IN_BAD:
        pt_warn("ws_server: client message is not a JSON object with a string \"type\"");
        reply_simple(srv, c, wsi, "error", "bad message: expected {\"type\": ...}", NULL);
        break;
    case WSS_IN_AUTH:
        if (in.token && wss_token_equal(srv->token, in.token)) {
            c->authed = 1;
            reply_simple(srv, c, wsi, "auth_ok", NULL, in.id);
        } else {
            srv->rej[REJ_AUTH]++;
            pt_warn("ws_server: client sent an invalid token"); /* never the token itself */
            reply_simple(srv, c, wsi, "auth_invalid", "invalid token", in.id);
            c->close_after_flush = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        }
        break;
    case WSS_IN_CONTROL: {
        const char *why = NULL;
        if (!c->authed) {
            srv->rej[REJ_AUTH]++;
            reply_simple(srv, c, wsi, "control_ack", "unauthorized: control needs the access token", in.id);
        } else if (!in.cmd) {
            reply_simple(srv, c, wsi, "control_ack", "missing \"cmd\"", in.id);
        } else if (!srv->cb.control) {
            reply_simple(srv, c, wsi, "control_ack", "control not available in this session", in.id);
        } else {
            int rc = srv->cb.control(srv->ud, in.cmd, in.msg, &why);
            pt_info("ws_server: control '%.32s' -> %s", in.cmd, pt_strerror(rc));
            reply_simple(srv, c, wsi, "control_ack", rc ? (why ? why : pt_strerror(rc)) : NULL, in.id);
        }
        break;
    }
    case WSS_IN_PING:
        reply_simple(srv, c, wsi, "pong", NULL, in.id);
        break;
    default:
        reply_simple(srv, c, wsi, "error", "unknown message type", in.id);
    }
    cJSON_Delete(in.msg);
}

static int ws_writeable(wss_server *srv, wss_pss *c, struct lws *wsi)
{
    c->want_write = 0;
    if (c->closing) {
        static const char reason[] = "closing";
        lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)reason,
                         sizeof reason - 1);
        return -1;
    }
    wss_msg *m;
    int budget = WSS_WRITE_BUDGET;
    while (budget-- > 0 && (m = wss_queue_pop(&c->q))) {
        size_t len = m->len;
        int n = lws_write(wsi, wss_msg_payload(m), len, LWS_WRITE_TEXT);
        wss_msg_unref(m);
        if (n < (int)len) {
            pt_warn("ws_server: write to client failed");
            return -1;
        }
        srv->st.messages_sent++;
        if (lws_send_pipe_choked(wsi))
            break;
    }
    if (c->q.count)
        want_write(c, wsi);
    else if (c->close_after_flush) {
        c->closing = 1;
        c->close_code = c->close_after_flush;
        want_write(c, wsi);
    }
    return 0;
}

/* -------------------------------------------------------------- http */
static int add_hdr(struct lws *wsi, const char *name, const char *val, unsigned char **p,
                   unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)val,
                                       (int)strlen(val), p, end);
}

/* Writes status + security headers (R-S9); body is sent in HTTP_WRITEABLE.
 * Returns the callback's return value. */
static int http_respond(wss_server *srv, wss_pss *c, struct lws *wsi, unsigned status,
                        const char *mime, const unsigned char *body, size_t len, char *owned,
                        int dynamic, int head_only)
{
    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    c->body_owned = (unsigned char *)owned;
    c->body = body;
    c->body_len = len;
    c->body_off = 0;
    if (lws_add_http_common_headers(wsi, status, mime, len, &p, end))
        return 1;
    if (add_hdr(wsi, "x-content-type-options:", "nosniff", &p, end) ||
        add_hdr(wsi, "content-security-policy:", srv->csp, &p, end) ||
        add_hdr(wsi, "x-frame-options:", "DENY", &p, end) ||
        add_hdr(wsi, "referrer-policy:", "no-referrer", &p, end) ||
        add_hdr(wsi, "cache-control:", dynamic ? "no-store" : "no-cache", &p, end) ||
        (status == 405 && add_hdr(wsi, "allow:", "GET, HEAD", &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    if (head_only || !len) {
        free(c->body_owned);
        c->body_owned = NULL;
        c->body = NULL;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_text(wss_server *srv, wss_pss *c, struct lws *wsi, unsigned status, const char *msg,
                     int head_only)
{
    return http_respond(srv, c, wsi, status, "text/plain; charset=utf-8",
                        (const unsigned char *)msg, strlen(msg), NULL, 1, head_only);
}

/* 1 if the request's header values pass WSS_MAX_HEADER_BYTES (counted as
 * too_large; the caller answers 431). */
static int headers_too_large(wss_server *srv, struct lws *wsi)
{
    size_t n = 0;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        int k = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        n += k > 0 ? (size_t)k : 0;
    }
    if (n <= WSS_MAX_HEADER_BYTES)
        return 0;
    srv->rej[REJ_TOO_LARGE]++;
    pt_warn("ws_server: request headers of %zu bytes refused (431, cap %d)", n, WSS_MAX_HEADER_BYTES);
    return 1;
}

static int http_request(wss_server *srv, wss_pss *c, struct lws *wsi, const char *path)
{
    char host[256] = "";
    int is_get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    int is_head = !is_get && lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    if (headers_too_large(srv, wsi))
        return http_text(srv, c, wsi, 431, "request header fields too large\n", is_head);
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0 ||
        !wss_host_allowed(host, srv->host, srv->port)) {
        srv->rej[REJ_HOST]++;
        pt_warn("ws_server: HTTP request with a foreign Host header refused (403)");
        return http_text(srv, c, wsi, 403, "forbidden: unexpected Host header\n", is_head);
    }
    if (!is_get && !is_head) {
        srv->rej[REJ_METHOD]++;
        return http_text(srv, c, wsi, 405, "method not allowed\n", 0);
    }
    char *doc = NULL;
    if (!strcmp(path, "/health") || !strcmp(path, "/api/state")) {
        int rc = build_json(srv, strcmp(path, "/health") ? snapshot_doc : health_doc, &doc);
        if (rc)
            return http_text(srv, c, wsi, 500, "internal error\n", is_head);
        return http_respond(srv, c, wsi, 200, "application/json", (unsigned char *)doc, strlen(doc),
                            doc, 1, is_head);
    }
    if (!strcmp(path, "/metrics")) {
        wss_buf b;
        wss_buf_init(&b, WSS_JSON_MAX);
        if (srv->cb.metrics_refresh)
            srv->cb.metrics_refresh(srv->ud, srv->reg);
        /* server's own families, copied from the hot-path counters */
        wss_metric_set(srv->m_clients, NULL, srv->n_clients);
        wss_metric_set(srv->m_dropped, NULL, (double)srv->st.clients_dropped);
        wss_metric_set(srv->m_sent, NULL, (double)srv->st.messages_sent);
        wss_metric_set(srv->m_coal, NULL, (double)srv->st.coalesced);
        wss_metric_set(srv->m_lag, NULL, srv->lag_max_s);
        wss_metric_set(srv->m_up, NULL, (double)(pt_mono_ms() - srv->start_ms) / 1000.0);
        wss_metric_set(srv->m_rss, NULL, (double)pt_rss_now_kb() * 1024.0);
        for (int k = 0; k < WSS_KIND_COUNT; k++) {
            const char *lv[1] = {k == WSS_CANDLE_PARTIAL ? "candle_partial" : kind_names[k]};
            wss_metric_set(srv->m_pub, lv, (double)srv->pub_kind[k]);
        }
        for (int r = 0; r < REJ_COUNT; r++) {
            const char *lv[1] = {rej_names[r]};
            wss_metric_set(srv->m_rej, lv, (double)srv->rej[r]);
        }
        if (wss_metrics_render(srv->reg, &b) || !b.len) {
            wss_buf_free(&b);
            return http_text(srv, c, wsi, 500, "internal error\n", is_head);
        }
        return http_respond(srv, c, wsi, 200, "text/plain; version=0.0.4; charset=utf-8",
                            (unsigned char *)b.p, b.len, b.p, 1, is_head);
    }
    const wss_file *f = wss_files_find(&srv->files, path);
    if (!f)
        return http_text(srv, c, wsi, 404, "not found\n", is_head);
    return http_respond(srv, c, wsi, 200, f->mime, f->data, f->len, NULL, 0, is_head);
}

static int http_writeable(wss_pss *c, struct lws *wsi)
{
    if (!c->body)
        return 0;
    unsigned char buf[LWS_PRE + WSS_HTTP_CHUNK];
    size_t n = c->body_len - c->body_off;
    if (n > WSS_HTTP_CHUNK)
        n = WSS_HTTP_CHUNK;
    memcpy(buf + LWS_PRE, c->body + c->body_off, n);
    int final = c->body_off + n == c->body_len;
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    c->body_off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(c->body_owned);
    c->body_owned = NULL;
    c->body = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ------------------------------------------------------------ callback */
static wss_server *srv_of(struct lws *wsi)
{
    const struct lws_protocols *pr = lws_get_protocol(wsi);
    if (pr && pr->user)
        return pr->user;
    struct lws_vhost *vh = lws_get_vhost(wsi);
    return vh ? lws_get_vhost_user(vh) : NULL;
}

static struct lws *pss_wsi(wss_server *srv, wss_pss *c)
{
    (void)srv;
    return c->wsi;
}

static int filter_ws(wss_server *srv, wss_pss *c, struct lws *wsi)
{
    char host[256] = "", origin[256] = "", tok[256] = "";
    if (headers_too_large(srv, wsi)) {
        lws_return_http_status(wsi, 431, "request header fields too large");
        return 1;
    }
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0 ||
        !wss_host_allowed(host, srv->host, srv->port)) {
        srv->rej[REJ_HOST]++;
        pt_warn("ws_server: WebSocket upgrade with a foreign Host refused (403)");
        goto forbid;
    }
    int have_origin = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
    if (have_origin && lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        origin[0] = '\0';
    /* returns a pointer just past "token=" inside tok */
    const char *tv = lws_get_urlarg_by_name(wsi, "token=", tok, sizeof tok);
    int tok_ok = tv && wss_token_equal(srv->token, tv);
    /* R-S1: a missing Origin (non-browser tool) is only accepted with the token. */
    if (have_origin ? !wss_origin_allowed(origin, srv->port, (const char *const *)srv->origins,
                                          srv->n_origins)
                    : !tok_ok) {
        srv->rej[REJ_ORIGIN]++;
        pt_warn("ws_server: WebSocket upgrade from Origin '%.100s' refused (403)",
                have_origin ? origin : "(none)");
        goto forbid;
    }
    if (srv->n_clients >= srv->max_clients) {
        srv->rej[REJ_FULL]++;
        pt_warn("ws_server: client cap %d reached; refusing (503)", srv->max_clients);
        lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "too many clients");
        return 1;
    }
    if (c)
        c->authed = tok_ok;
    return 0;
forbid:
    lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "forbidden");
    return 1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    if (reason == LWS_CALLBACK_GET_THREAD_ID)
        return 0; /* called with a bare wsi: nothing of ours to look at */
    wss_server *srv = srv_of(wsi);
    wss_pss *c = user;
    if (!srv)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return http_request(srv, c, wsi, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(c, wsi);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c) {
            free(c->body_owned);
            c->body_owned = NULL;
            c->body = NULL;
        }
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter_ws(srv, c, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        if (wss_queue_init(&c->q, srv->queue_msgs, srv->queue_bytes))
            return -1;
        wss_buf_init(&c->rx, srv->max_inbound + 1);
        c->established = 1;
        c->wsi = wsi;
        c->next = srv->clients;
        c->pprev = &srv->clients;
        if (srv->clients)
            srv->clients->pprev = &c->next;
        srv->clients = c;
        srv->n_clients++;
        send_snapshot(srv, c, wsi);
        break;
    case LWS_CALLBACK_CLOSED:
        if (c && c->established) {
            *c->pprev = c->next;
            if (c->next)
                c->next->pprev = c->pprev;
            srv->n_clients--;
            wss_queue_free(&c->q);
            wss_buf_free(&c->rx);
            c->established = 0;
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->established ? ws_writeable(srv, c, wsi) : 0;
    case LWS_CALLBACK_RECEIVE:
        if (!c || !c->established || c->closing)
            break;
        if (lws_is_first_fragment(wsi))
            c->rx.len = 0, c->utf8 = 0;
        /* lws 4.1.6 has no cap of its own; count across fragments. */
        if (c->rx.len + len > srv->max_inbound || wss_buf_append(&c->rx, in, len)) {
            static const char r[] = "message too large";
            srv->rej[REJ_TOO_LARGE]++;
            pt_warn("ws_server: inbound message past %zu bytes; closing 1009", srv->max_inbound);
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)r, sizeof r - 1);
            return -1;
        }
        int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
        /* RFC 6455 8.1: invalid UTF-8 text fails the connection with 1007.
         * Checked here, not by lws: see wss_context_new. */
        if (!lws_frame_is_binary(wsi) &&
            (pt_utf8_check(&c->utf8, in, len) || (final && c->utf8))) {
            static const char r[] = "invalid UTF-8";
            srv->rej[REJ_BAD_UTF8]++;
            lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, (unsigned char *)r, sizeof r - 1);
            return -1;
        }
        if (final)
            handle_message(srv, c, wsi);
        break;
    case LWS_CALLBACK_PROTOCOL_DESTROY:
        if (srv->suls_armed) {
            lws_sul_cancel(&srv->sul_hb);
            lws_sul_cancel(&srv->sul_lag);
            srv->suls_armed = 0;
        }
        srv->vh = NULL;
        break;
    default:
        break;
    }
    return 0;
}

/* --------------------------------------------------------------- publish */
int64_t wss_publish(wss_server *srv, wss_kind kind, const char *key, const char *json, size_t len)
{
    if (!srv || (unsigned)kind >= WSS_KIND_COUNT || !json || !len)
        return PT_EINVAL;
    int64_t seq = ++srv->seq;
    srv->st.events_published++;
    srv->pub_kind[kind]++;
    if (!srv->clients)
        return seq; /* encode nothing nobody reads (notes §4 pitfall 2) */
    char head[160];
    int hn = snprintf(head, sizeof head, "{\"v\":%d,\"type\":\"%s\",%s\"seq\":%lld,\"ts\":%lld,\"data\":",
                      WSS_PROTOCOL_VERSION, kind_names[kind],
                      kind == WSS_CANDLE_PARTIAL ? "\"partial\":true," : "", (long long)seq,
                      (long long)pt_wall_ms());
    wss_msg *m = wss_msg_new(NULL, (size_t)hn + len + 1);
    if (!m)
        return PT_ENOMEM;
    unsigned char *p = wss_msg_payload(m);
    memcpy(p, head, (size_t)hn);
    memcpy(p + hn, json, len);
    p[(size_t)hn + len] = '}';
    m->kind = (uint8_t)kind;
    m->coalesce = kind == WSS_CANDLE_PARTIAL || kind == WSS_QUALITY || kind == WSS_PORTFOLIO ||
                  kind == WSS_HEALTH;
    m->ckey = m->coalesce ? wss_coalesce_key(kind, key) : 0;
    for (wss_pss *c = srv->clients, *next; c; c = next) {
        next = c->next;
        enqueue(srv, c, pss_wsi(srv, c), m);
    }
    wss_msg_unref(m);
    return seq;
}

void wss_close_all(wss_server *srv, int code)
{
    if (!srv)
        return;
    for (wss_pss *c = srv->clients; c; c = c->next) {
        struct lws *wsi = pss_wsi(srv, c);
        if (c->closing)
            continue;
        c->close_after_flush = code; /* what is queued (the last alert) goes first */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 2);
        want_write(c, wsi);
    }
}

/* ---------------------------------------------------------------- timers */
static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
    wss_server *srv = lws_container_of(sul, wss_server, sul_hb);
    if (srv->clients) {
        char *doc = NULL;
        if (!build_json(srv, health_doc, &doc))
            wss_publish(srv, WSS_HEALTH, NULL, doc, strlen(doc));
        free(doc);
    }
    lws_sul_schedule(srv->cx, 0, &srv->sul_hb, heartbeat_cb, (lws_usec_t)srv->heartbeat_ms * 1000);
}

/* Event-loop lag: how late a 100 ms timer fires; the max is kept for 10 s. */
static void lag_cb(lws_sorted_usec_list_t *sul)
{
    wss_server *srv = lws_container_of(sul, wss_server, sul_lag);
    int64_t now = pt_mono_ns() / 1000;
    double lag = srv->lag_due_us ? (double)(now - srv->lag_due_us) / 1e6 : 0;
    if (++srv->lag_ticks >= 100) {
        srv->lag_ticks = 0;
        srv->lag_max_s = 0;
    }
    if (lag > srv->lag_max_s)
        srv->lag_max_s = lag;
    srv->lag_due_us = now + WSS_LAG_TICK_US;
    lws_sul_schedule(srv->cx, 0, &srv->sul_lag, lag_cb, WSS_LAG_TICK_US);
}

/* --------------------------------------------------------------- lifetime */
wss_metrics *wss_metrics_registry(wss_server *srv) { return srv ? srv->reg : NULL; }
int wss_port(const wss_server *srv) { return srv ? srv->port : 0; }

void wss_get_stats(const wss_server *srv, wss_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!srv)
        return;
    *st = srv->st;
    st->clients = srv->n_clients;
    st->rejected_origin = srv->rej[REJ_ORIGIN];
    st->rejected_host = srv->rej[REJ_HOST];
    st->rejected_full = srv->rej[REJ_FULL];
}

/* R-S3: the notes found lws listening on *:port despite iface=127.0.0.1, so
 * check the kernel's view (/proc/net/tcp{,6}) rather than the config. */
static int listen_is_loopback_only(int port)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    int found = 0, bad = 0;
    for (size_t f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        char line[512], local[80];
        unsigned st;
        if (!fp)
            continue;
        while (fgets(line, sizeof line, fp)) {
            if (sscanf(line, " %*d: %79s %*s %x", local, &st) != 2 || st != 0x0A)
                continue; /* 0x0A = LISTEN */
            char *colon = strrchr(local, ':');
            if (!colon || strtol(colon + 1, NULL, 16) != port)
                continue;
            *colon = '\0';
            found = 1;
            if (strcmp(local, "0100007F") != 0 && strcmp(local, "00000000000000000000000001000000") != 0)
                bad = 1;
        }
        fclose(fp);
    }
    return found && !bad;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int wss_new(struct lws_context *cx, const wss_config *cfg, const wss_callbacks *cb, void *ud,
            wss_server **out)
{
    int rc = PT_EINVAL;
    wss_server *srv = NULL;
    static const wss_config defaults = {0};
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    const char *host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";
    int loopback = wss_is_loopback_host(host);
    if (!cx || cfg->port < 0 || cfg->port > 65535) {
        pt_err_log("ws_server: bad configuration (port %d)", cfg->port);
        return PT_EINVAL;
    }
    if (!loopback && (!cfg->token || !*cfg->token)) {
        pt_err_log("ws_server: refusing to bind %s: a non-loopback address needs an access token",
                   host);
        return PT_EINVAL;
    }
    rc = PT_ENOMEM;
    if (!(srv = calloc(1, sizeof *srv)))
        goto fail;
    srv->cx = cx;
    srv->start_ms = pt_mono_ms();
    srv->port = cfg->port ? cfg->port : 8765;
    srv->max_clients = cfg->max_clients > 0 ? cfg->max_clients : 32;
    srv->max_inbound = cfg->max_inbound ? cfg->max_inbound : 4096;
    srv->queue_msgs = cfg->queue_msgs ? cfg->queue_msgs : 4096;
    srv->queue_bytes = cfg->queue_bytes ? cfg->queue_bytes : (8u << 20);
    srv->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : 2000;
    if (cb)
        srv->cb = *cb;
    srv->ud = ud;
    /* "localhost" is not an interface lws can bind; use the IPv4 literal */
    if (!(srv->host = strdup(!strcasecmp(host, "localhost") ? "127.0.0.1" : host)))
        goto fail;
    if (cfg->token && *cfg->token && !(srv->token = strdup(cfg->token)))
        goto fail;
    if (cfg->n_origins) {
        if (!(srv->origins = calloc(cfg->n_origins, sizeof(char *))))
            goto fail;
        for (size_t i = 0; i < cfg->n_origins; i++, srv->n_origins++)
            if (!(srv->origins[i] = dup_or_null(cfg->origins[i])))
                goto fail;
    }
    snprintf(srv->csp, sizeof srv->csp,
             "default-src 'self'; connect-src 'self' ws://127.0.0.1:%d ws://localhost:%d; "
             "img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
             "base-uri 'none'; form-action 'none'",
             srv->port, srv->port);
    if ((rc = wss_files_load(&srv->files, cfg->web_dir ? cfg->web_dir : wss_default_web_dir(),
                             cfg->vendor_js ? cfg->vendor_js : wss_default_vendor_js())))
        goto fail;
    rc = PT_ENOMEM;
    if (!(srv->reg = wss_metrics_new()) ||
        !(srv->m_clients = wss_metrics_gauge(srv->reg, "papertrader_wss_clients", "Connected dashboard WebSocket clients.", NULL)) ||
        !(srv->m_dropped = wss_metrics_counter(srv->reg, "papertrader_wss_clients_dropped_total", "Clients disconnected for falling behind.", NULL)) ||
        !(srv->m_sent = wss_metrics_counter(srv->reg, "papertrader_wss_messages_sent_total", "WebSocket messages written to clients.", NULL)) ||
        !(srv->m_pub = wss_metrics_counter(srv->reg, "papertrader_wss_events_published_total", "Events published, by type.", "type")) ||
        !(srv->m_coal = wss_metrics_counter(srv->reg, "papertrader_wss_events_coalesced_total", "Queued updates replaced by a newer one (latest wins).", NULL)) ||
        !(srv->m_rej = wss_metrics_counter(srv->reg, "papertrader_wss_rejected_total", "Refused requests and connections, by reason.", "reason")) ||
        !(srv->m_lag = wss_metrics_gauge(srv->reg, "papertrader_wss_event_loop_lag_seconds", "Max lateness of a 100 ms loop timer over the last 10 s.", NULL)) ||
        !(srv->m_up = wss_metrics_gauge(srv->reg, "papertrader_wss_uptime_seconds", "Seconds since the server started.", NULL)) ||
        !(srv->m_rss = wss_metrics_gauge(srv->reg, "papertrader_wss_process_resident_memory_bytes", "Resident memory of the process.", NULL)))
        goto fail;

    srv->protocols[0] = (struct lws_protocols){
        .name = "papertrader-v1",
        .callback = callback,
        .per_session_data_size = sizeof(wss_pss),
        .rx_buffer_size = 4096,
        .user = srv,
    };
    srv->retry_table[0] = 1000;
    srv->retry = (lws_retry_bo_t){.retry_ms_table = srv->retry_table, .retry_ms_table_count = 1,
                                  .secs_since_valid_ping = 15, .secs_since_valid_hangup = 40};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = "wss";
    info.port = srv->port;
    info.iface = srv->host;
    info.protocols = srv->protocols;
    info.retry_and_idle_policy = &srv->retry;
    info.timeout_secs = 10;
    info.user = srv;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (strchr(srv->host, ':') == NULL)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6; /* notes §2: else *:port */
    rc = PT_EIO;
    if (!(srv->vh = lws_create_vhost(cx, &info))) {
        pt_err_log("ws_server: cannot listen on %s:%d (port in use?)", srv->host, srv->port);
        goto fail;
    }
    if (loopback && !listen_is_loopback_only(srv->port)) {
        pt_err_log("ws_server: %s:%d is not listening on loopback only; refusing", srv->host, srv->port);
        lws_vhost_destroy(srv->vh);
        srv->vh = NULL;
        goto fail;
    }
    srv->suls_armed = 1;
    if (srv->heartbeat_ms > 0)
        lws_sul_schedule(cx, 0, &srv->sul_hb, heartbeat_cb, (lws_usec_t)srv->heartbeat_ms * 1000);
    lws_sul_schedule(cx, 0, &srv->sul_lag, lag_cb, WSS_LAG_TICK_US);
    pt_info("ws_server: dashboard on http://%s:%d/", srv->host, srv->port);
    *out = srv;
    return PT_OK;
fail:
    wss_free(srv);
    return rc;
}

void wss_free(wss_server *srv)
{
    if (!srv)
        return;
    /* lws is gone (or never had our vhost): only memory to release. */
    wss_files_free(&srv->files);
    wss_metrics_free(srv->reg);
    for (size_t i = 0; i < srv->n_origins; i++)
        free(srv->origins[i]);
    free(srv->origins);
    free(srv->host);
    if (srv->token) {
        explicit_bzero(srv->token, strlen(srv->token));
        free(srv->token);
    }
    free(srv);
}
