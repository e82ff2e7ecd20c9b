/* libFuzzer target: every exchange adapter's WebSocket message parser
 * (feed_adapter.parse, feed/feed_adapter_*.c) on the input as one text
 * frame, and its own REST body parser (feed_adapter.rest_parse) where it
 * has one. Seeds: the exchanges' documented messages verbatim and broken
 * variants of them (corpus/fuzz_adapter_msg/).
 *
 * The buffer is exactly the frame (no NUL after it), as lws hands it over:
 * ASan catches a parser that reads one byte too far.
 *
 * Properties: the result kind is known; a DROP carries a known reason and a
 * NUL-terminated detail; a CANDLE result has 1..FEED_PARSE_MAX finite
 * candles with positive prices and a clean symbol. */
#include "feed_live_internal.h"
#include "fuzz_util.h"

/* every registered adapter (feed_venue_at walks the registry) */
static const feed_adapter *adapters[16];
static size_t n_adapters;
static const int64_t intervals[] = {60000, 3600000};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    feed_venue v;
    while (n_adapters < sizeof adapters / sizeof adapters[0] && feed_venue_at(n_adapters, &v) == PT_OK)
        adapters[n_adapters++] = feed_adapter_find(v.name);
    if (n_adapters < 3) {
        fprintf(stderr, "fuzz_adapter_msg: only %zu adapters registered\n", n_adapters);
        abort();
    }
    return 0;
}

/* REST rows: ascending, unique, clean; an error names itself */
static void check_rest(const feed_adapter *ad, const char *msg, size_t size)
{
    pt_candle rows[64];
    uint64_t drops[FEED_DROP__COUNT] = {0};
    char err[256];
    size_t n = 0;
    memset(err, 0xA5, sizeof err);
    int rc = ad->rest_parse(msg, size, "BTC-USD", rows, sizeof rows / sizeof rows[0], &n, drops, err, sizeof err);
    FUZZ_CHECK(rc == PT_OK || rc == PT_EPARSE || rc == PT_EFULL || rc == PT_EINVAL);
    if (rc == PT_EINVAL)
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    for (size_t i = 0; rc == PT_OK && i < n; i++) {
        fuzz_check_candle(&rows[i]);
        FUZZ_CHECK(i == 0 || rows[i].ts_ms > rows[i - 1].ts_ms);
    }
}

static void check_out(const feed_parse_out *o)
{
    FUZZ_CHECK(o->kind >= FEED_MSG_DROP && o->kind <= FEED_MSG_IGNORE);
    FUZZ_CHECK(memchr(o->detail, '\0', sizeof o->detail) != NULL);
    if (o->kind == FEED_MSG_DROP)
        FUZZ_CHECK((unsigned)o->reason < FEED_DROP__COUNT);
    if (o->kind != FEED_MSG_CANDLE)
        return;
    FUZZ_CHECK(o->n >= 1 && o->n <= FEED_PARSE_MAX);
    for (size_t i = 0; i < o->n; i++) {
        const pt_candle *c = &o->candles[i];
        fuzz_check_candle(c);
        FUZZ_CHECK(c->open > 0 && c->high > 0 && c->low > 0 && c->close > 0 && c->volume >= 0);
        FUZZ_CHECK(c->symbol[0] != '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: libFuzzer's buffer already is, the point is to not
     * hand the parser a NUL it could rely on */
    char *msg = malloc(size ? size : 1);
    if (!msg)
        abort();
    memcpy(msg, data, size);
    for (size_t a = 0; a < n_adapters; a++) {
        const feed_adapter *ad = adapters[a];
        if (ad->rest_parse)
            check_rest(ad, msg, size);
        for (size_t k = 0; k < sizeof intervals / sizeof intervals[0]; k++) {
            feed_parse_out out;
            memset(&out, 0xA5, sizeof out); /* "always filled": garbage must not survive */
            ad->parse(msg, size, intervals[k], &out);
            check_out(&out);
        }
    }
    free(msg);
    return 0;
}
