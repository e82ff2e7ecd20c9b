/* libFuzzer target: the dashboard server's pure request checks
 * (ws_server/wss_util.c): the Host header check against DNS rebinding, the
 * Origin check against CSWSH, the token compare, and the HTTP path lookup
 * of the served files.
 *
 * The inbound WebSocket messages have their own target: fuzz_wss_inbound.c.
 *
 * Input: the text up to the first '\n' is the header value / path; the
 * rest (if any) is a second string (a configured extra origin, or a token).
 *
 * Properties: only loopback names with our port pass the Host check when
 * bound to loopback; an accepted Origin is one of the allowed spellings or
 * the configured extra, verbatim; tokens match only when equal; a path is
 * found only if it is exactly a table entry ("/" -> "/index.html"). */
#include <strings.h>

#include "fuzz_util.h"
#include "wss_internal.h"

#define PORT 8765

static wss_file table[3];
static wss_files files = {table, 3};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    snprintf(table[0].path, sizeof table[0].path, "/index.html");
    snprintf(table[1].path, sizeof table[1].path, "/app.js");
    snprintf(table[2].path, sizeof table[2].path, "/vendor/lightweight-charts.js");
    return 0;
}

/* Independent oracle: s is "<loopback name>:<digits equal to port>". The
 * name is 127.0.0.1, localhost (any case), [::1] or ::1. */
static int loopback_with_port(const char *s, int port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || !colon[1])
        return 0;
    long v = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000)
            return 0;
        v = v * 10 + (*p - '0');
    }
    size_t n = (size_t)(colon - s);
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]", "::1"};
    for (size_t i = 0; i < 4; i++)
        if (strlen(names[i]) == n && !strncasecmp(s, names[i], n))
            return v == port;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *a = fuzz_strndup(data, size);
    char *b = strchr(a, '\n');
    if (b)
        *b++ = '\0';

    /* Host: with a loopback bind only loopback names and our port pass */
    if (wss_host_allowed(a, "127.0.0.1", PORT))
        FUZZ_CHECK(loopback_with_port(a, PORT));
    (void)wss_host_allowed(a, "192.168.1.10", PORT);
    (void)wss_is_loopback_host(a);

    /* Origin: the loopback spellings with our port, or an exact extra */
    const char *extra[1] = {b ? b : "https://dash.example:8443"};
    if (wss_origin_allowed(a, PORT, extra, 1))
        FUZZ_CHECK(!strcmp(a, extra[0]) ||
                   (!strncmp(a, "http://", 7) && loopback_with_port(a + 7, PORT)));
    FUZZ_CHECK(!wss_origin_allowed("null", PORT, extra, 1) || !strcmp(extra[0], "null"));

    /* token: constant-time compare must still be a compare */
    const char *tok = b ? b : "s3cret-token-0123456789";
    int eq = wss_token_equal(tok, a);
    FUZZ_CHECK(eq == (tok[0] && a[0] && !strcmp(tok, a)));

    /* path lookup: exact entries only */
    const wss_file *f = wss_files_find(&files, a);
    if (f)
        FUZZ_CHECK(!strcmp(f->path, a) || (!strcmp(a, "/") && !strcmp(f->path, "/index.html")));
    free(a);
    return 0;
}
