/* libFuzzer target: the live feed's whole receive path over a real loopback
 * socket: lws 4.1.6's client parser, our fragment reassembly and size cap,
 * the deferred 1009 close and the Binance adapter, as a session runs them.
 * The harness is the exchange: it accepts the feed's connection, answers the
 * RFC 6455 upgrade itself, then writes the frames the input describes and
 * hangs up. Issue 11: frames over the cap plus lws's rx buffer used to
 * overrun that buffer; no unit test could see it, because only lws's own
 * parser state on a real connection shows it.
 *
 * Input: a sequence of frames, each
 *   b0   FIN (0x80), RSV bits (0x70), opcode (0x0f), sent as given
 *   b1   bit 7: mask the frame (servers must not: RFC 6455 5.1); bits 0-6: n
 *   b2   pad: when nonzero, (1 << (b2 % 21)) bytes of 'x' follow the literal ones
 *   n literal payload bytes from the input
 * so a few input bytes describe frames from 0 bytes to 1 MiB, fragmented or
 * not, with any opcode, control frames, invalid UTF-8 and JSON text.
 *
 * Properties: no crash or sanitizer report; the feed reconnects after every
 * input (it is never wedged); the counters add up (every candle it reports
 * closed was in the input's text frames, counted once). */
#include "feed.h"
#include "fuzz_util.h"
#include "wss.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#define CAP_BYTES 4096            /* the feed's message cap: small, so inputs cross it */
#define MAX_WRITE (8u << 20)      /* bytes written per input */
#define DEADLINE_MS 400           /* per phase; all of them stay under scripts/fuzz.sh -timeout=5 */

static struct lws_context *cx;
static feed_live *feed;
static int lfd = -1;
static uint64_t closed_seen;
static feed_conn_state state;

static void on_candle(void *ud, const pt_candle *c)
{
    (void)ud;
    FUZZ_CHECK(!strcmp(c->symbol, "BTCUSDT"));
    if (c->closed)
        closed_seen++;
}

static void on_state(void *ud, feed_conn_state st, const char *why)
{
    (void)ud;
    (void)why;
    state = st;
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    unsetenv("http_proxy");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4) ||
        getsockname(lfd, (struct sockaddr *)&a, &al))
        abort();
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", ntohs(a.sin_port));
    static const char *const syms[] = {"BTCUSDT"};
    feed_live_config c = {.exchange = "binance", .ws_url = url, .rest_url = "http://127.0.0.1:1",
                          .symbols = syms, .n_symbols = 1, .interval_ms = 60000, .backoff_base_ms = 1,
                          .backoff_cap_ms = 2, .max_msg_bytes = CAP_BYTES, .stale_after_ms = 3600000,
                          .backfill = 0};
    feed_live_callbacks cb = {on_candle, on_state};
    if (!(cx = wss_context_new()) || feed_live_new(cx, &c, &cb, NULL, &feed))
        abort();
}

/* Serve lws (its timers and our client's socket) for up to ms, or until
 * done() holds. */
static int serve_until(int (*done)(int fd), int fd, int64_t ms)
{
    int64_t until = pt_mono_ms() + ms;
    while (pt_mono_ms() < until) {
        if (done(fd))
            return 1;
        lws_service(cx, -1); /* non-blocking: lws 4.1.6 polls with timeout 0 */
        struct pollfd p = {.fd = fd >= 0 ? fd : lfd, .events = POLLIN};
        poll(&p, 1, 1);
    }
    return done(fd);
}

static int conn_fd = -1;
static int accepted(int fd)
{
    (void)fd;
    if (conn_fd < 0)
        conn_fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return conn_fd >= 0;
}

static char req[8192];
static size_t req_n;
static int request_read(int fd)
{
    ssize_t r = recv(fd, req + req_n, sizeof req - 1 - req_n, 0);
    if (r > 0)
        req_n += (size_t)r;
    req[req_n] = '\0';
    return strstr(req, "\r\n\r\n") != NULL || req_n == sizeof req - 1;
}

static int not_live(int fd)
{
    (void)fd;
    return state != FEED_CONN_LIVE && state != FEED_CONN_BACKFILLING;
}

static int never(int fd)
{
    (void)fd;
    return 0;
}

static int handshake(int fd)
{
    req_n = 0;
    if (!serve_until(request_read, fd, DEADLINE_MS))
        return -1;
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    if (!k)
        return -1;
    k += 19;
    char key[128];
    size_t kn = strcspn(k, "\r\n");
    if (kn > 60)
        return -1;
    snprintf(key, sizeof key, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)kn, k);
    unsigned char md[20];
    char acc[64], resp[256];
    lws_SHA1((const unsigned char *)key, strlen(key), md);
    lws_b64_encode_string((const char *)md, 20, acc, sizeof acc);
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
    return send(fd, resp, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* Writes all of p while serving lws (the client must read for us to write). */
static int send_all(int fd, const unsigned char *p, size_t n)
{
    int64_t until = pt_mono_ms() + DEADLINE_MS;
    while (n && pt_mono_ms() < until) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w, n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1; /* the client closed: fine, stop writing */
        lws_service(cx, -1);
        struct pollfd q = {.fd = fd, .events = POLLOUT};
        poll(&q, 1, 1);
    }
    return n ? -1 : 0;
}

static int send_frame(int fd, unsigned b0, int mask, const uint8_t *lit, size_t n, size_t pad)
{
    size_t len = n + pad;
    unsigned char h[14];
    size_t hn = 0;
    h[hn++] = (unsigned char)b0;
    unsigned char m = mask ? 0x80 : 0;
    if (len < 126) {
        h[hn++] = m | (unsigned char)len;
    } else if (len < 65536) {
        h[hn++] = m | 126;
        h[hn++] = (unsigned char)(len >> 8), h[hn++] = (unsigned char)len;
    } else {
        h[hn++] = m | 127;
        for (int i = 7; i >= 0; i--)
            h[hn++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (mask)
        memcpy(h + hn, key, 4), hn += 4;
    unsigned char *body = malloc(len ? len : 1);
    if (!body)
        abort();
    memcpy(body, lit, n);
    memset(body + n, 'x', pad);
    for (size_t i = 0; mask && i < len; i++)
        body[i] ^= key[i & 3];
    int rc = send_all(fd, h, hn) ? -1 : send_all(fd, body, len);
    free(body);
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    if (getenv("FUZZ_FEED_LOG")) /* harness debugging: the feed's own log lines */
        pt_log_set_stderr(1);
    setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    conn_fd = -1;
    FUZZ_CHECK(serve_until(accepted, -1, 4 * DEADLINE_MS)); /* the feed always reconnects */
    int fd = conn_fd;
    feed_live_stats before, after;
    feed_live_get_stats(feed, &before);
    uint64_t closed0 = closed_seen;
    size_t written = 0;
    if (!handshake(fd)) {
        for (size_t i = 0; i + 3 <= size && written < MAX_WRITE;) {
            unsigned b0 = data[i];
            size_t n = data[i + 1] & 0x7f, pad = data[i + 2] ? (size_t)1 << (data[i + 2] % 21) : 0;
            int mask = data[i + 1] & 0x80;
            i += 3;
            if (n > size - i)
                n = size - i;
            if (send_frame(fd, b0, mask, data + i, n, pad))
                break;
            i += n;
            written += n + pad;
        }
    }
    shutdown(fd, SHUT_RDWR);
    close(fd);
    FUZZ_CHECK(serve_until(not_live, -1, 4 * DEADLINE_MS)); /* the hang-up is noticed */
    serve_until(never, -1, 5); /* whatever lws still does with this input's bytes, it does now */
    feed_live_get_stats(feed, &after);
    FUZZ_CHECK(after.connects == before.connects + 1 || after.connects == before.connects);
    FUZZ_CHECK(closed_seen - closed0 == after.sym[0].closed - before.sym[0].closed);
    FUZZ_CHECK(after.dropped[FEED_DROP_TOO_BIG] - before.dropped[FEED_DROP_TOO_BIG] <= 1 + written / CAP_BYTES);
    return 0;
}
