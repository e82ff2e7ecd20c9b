/* libFuzzer target: the exchange simulator's protocol code (feed/
 * feed_xsim_proto.c: WebSocket paths, subscribe messages, REST klines
 * queries, for Binance, Bitvavo and Binance USD-M futures with its mark
 * streams and /fapi endpoints) through its real lws server over
 * loopback. Tests and `demo` talk to it all day; a request it mishandles
 * must be a clear error answer, never a crash of the process serving it.
 *
 * Input:
 *   b0   bit 0: protocol (0 binance, 1 bitvavo); bit 1: REST (1) or WebSocket (0);
 *        bit 2: binance-futures instead (e.g. "/fapi/v1/fundingRate?symbol=BTCUSDT",
 *        "/market/stream?streams=btcusdt@markPrice@1s")
 *   a request target up to the first '\n' (bytes outside printable ASCII
 *   are %-escaped so the request line stays one line), e.g.
 *   "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5" or "/stream?streams=btcusdt@kline_1m"
 *   WebSocket only: frames, each b0 = FIN/RSV/opcode, b1 = n (0-127) and n
 *   payload bytes, masked as a client must (RFC 6455 5.3)
 *
 * Properties: no crash or sanitizer report; after every input the simulator
 * still accepts a connection and answers; its counters add up. */
#include "feed_xsim.h"
#include "fuzz_util.h"
#include "wss.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#define DEADLINE_MS 300

static struct lws_context *cx;
static feed_xsim *sims[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    signal(SIGPIPE, SIG_IGN);
    static const char *const bn[] = {"BTCUSDT", "ETHUSDT"}, *const bv[] = {"BTC-EUR"};
    feed_xsim_config c[3] = {
        {.protocol = "binance", .speed = 60, .symbols = bn, .n_symbols = 2, .seed = 1, .updates = 1},
        {.protocol = "bitvavo", .speed = 60, .symbols = bv, .n_symbols = 1, .seed = 2, .updates = 1},
        {.protocol = "binance-futures", .speed = 60, .symbols = bn, .n_symbols = 2, .seed = 3, .updates = 1,
         .funding = "every=1m"},
    };
    if (!(cx = wss_context_new()))
        abort();
    for (int i = 0; i < 3; i++)
        if (feed_xsim_new(cx, &c[i], &sims[i]))
            abort();
    return 0;
}

static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        abort();
    if (connect(fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS)
        abort();
    return fd;
}

/* Serves lws while writing all of p, then reads until the peer closes, the
 * deadline passes or max bytes came back. Returns the bytes read. */
static size_t exchange(int fd, const unsigned char *p, size_t n, char *in, size_t max, int64_t ms)
{
    int64_t until = pt_mono_ms() + ms;
    size_t got = 0;
    while (pt_mono_ms() < until) {
        if (n) {
            ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
            if (w > 0)
                p += w, n -= (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)
                n = 0; /* closed on us: read what is left */
        }
        ssize_t r = recv(fd, in + got, max - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) || got == max)
            break;
        lws_service(cx, -1); /* lws 4.1.6: a negative timeout polls without waiting */
        struct pollfd q = {.fd = fd, .events = POLLIN | (n ? POLLOUT : 0)};
        poll(&q, 1, 1);
    }
    return got;
}

static size_t put_target(char *out, size_t cap, const uint8_t *d, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n && w + 4 < cap; i++) {
        if (d[i] > 0x20 && d[i] < 0x7f)
            out[w++] = (char)d[i];
        else
            w += (size_t)snprintf(out + w, cap - w, "%%%02X", d[i]);
    }
    out[w] = '\0';
    return w;
}

static size_t put_frames(unsigned char *out, size_t cap, const uint8_t *d, size_t n)
{
    static const unsigned char key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    size_t w = 0;
    for (size_t i = 0; i + 2 <= n;) {
        size_t len = d[i + 1] & 0x7f;
        if (len > n - i - 2)
            len = n - i - 2;
        if (w + 6 + len > cap)
            break;
        out[w++] = d[i];
        out[w++] = 0x80 | (unsigned char)len;
        memcpy(out + w, key, 4), w += 4;
        for (size_t k = 0; k < len; k++)
            out[w++] = d[i + 2 + k] ^ key[k & 3];
        i += 2 + len;
    }
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int proto = data[0] & 4 ? 2 : data[0] & 1, rest = data[0] & 2;
    const uint8_t *nl = memchr(data + 1, '\n', size - 1);
    size_t tn = nl ? (size_t)(nl - data - 1) : size - 1;
    static char target[2048], in[1 << 16];
    static unsigned char req[1 << 15];
    put_target(target, 1024, data + 1, tn);
    if (target[0] != '/')
        memmove(target + 1, target, strlen(target) + 1), target[0] = '/';
    int port = feed_xsim_port(sims[proto]);
    int n = rest ? snprintf((char *)req, sizeof req,
                            "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", target, port)
                 : snprintf((char *)req, sizeof req,
                            "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                            target, port);
    size_t len = (size_t)n;
    if (!rest && nl)
        len += put_frames(req + len, sizeof req - len, nl + 1, size - (size_t)(nl + 1 - data));
    static const uint8_t bye[] = {0x88, 2, 0x03, 0xe8}; /* close 1000: the server hangs up, no waiting */
    if (!rest)
        len += put_frames(req + len, sizeof req - len, bye, sizeof bye);
    int fd = connect_to(port);
    exchange(fd, req, len, in, sizeof in, DEADLINE_MS);
    close(fd);
    /* still serving: a plain REST call answers */
    static const char probe[] = "GET /api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1 HTTP/1.1\r\n"
                                "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
    static const char probe_bv[] = "GET /v2/BTC-EUR/candles?interval=1m&limit=1 HTTP/1.1\r\n"
                                   "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
    fd = connect_to(port);
    static const char probe_bf[] = "GET /fapi/v1/premiumIndex?symbol=BTCUSDT HTTP/1.1\r\n"
                                   "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
    const char *pr = proto == 2 ? probe_bf : proto ? probe_bv : probe;
    size_t got = exchange(fd, (const unsigned char *)pr, strlen(pr), in, 64, 4 * DEADLINE_MS);
    close(fd);
    FUZZ_CHECK(got >= 12 && !memcmp(in, "HTTP/1.1 ", 9));
    feed_xsim_stats st;
    feed_xsim_get_stats(sims[proto], &st);
    FUZZ_CHECK(st.rest_errors <= st.rest_requests);
    return 0;
}
