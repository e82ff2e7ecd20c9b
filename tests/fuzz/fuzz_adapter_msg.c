/* libFuzzer target: every exchange adapter's WebSocket message parser
 * (feed_adapter.parse, feed/feed_adapter_*.c) on the input as one text
 * frame, for every adapter of the registry (feed_adapter_at). Seeds: the exchanges' documented messages verbatim and broken
 * variants of them (corpus/fuzz_adapter_msg/).
 *
 * The buffer is exactly the frame (no NUL after it), as lws hands it over:
 * ASan catches a parser that reads one byte too far.
 *
 * Properties: the result kind is known; a DROP carries a known reason and a
 * NUL-terminated detail; a CANDLE result has 1..FEED_PARSE_MAX finite
 * candles with positive prices and a clean symbol; a MARK result a finite
 * positive mark, a rate in (-1, 1) and its times. */
#include "feed_live_internal.h"
#include "fuzz_util.h"

#include <math.h>

static const int64_t intervals[] = {60000, 3600000};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

static void check_out(const feed_parse_out *o)
{
    FUZZ_CHECK(o->kind >= FEED_MSG_DROP && o->kind <= FEED_MSG_IGNORE);
    FUZZ_CHECK(memchr(o->detail, '\0', sizeof o->detail) != NULL);
    if (o->kind == FEED_MSG_DROP)
        FUZZ_CHECK((unsigned)o->reason < FEED_DROP__COUNT);
    if (o->kind == FEED_MSG_MARK) { /* perpetual venues: a usable mark update */
        const feed_mark *m = &o->mark;
        FUZZ_CHECK(memchr(m->symbol, '\0', sizeof m->symbol) != NULL && m->symbol[0] != '\0');
        FUZZ_CHECK(isfinite(m->mark_price) && m->mark_price > 0 && isfinite(m->index_price) && m->index_price >= 0);
        FUZZ_CHECK(isfinite(m->funding_rate) && fabs(m->funding_rate) < 1);
        FUZZ_CHECK(m->event_ms > 0 && m->next_funding_ms > 0 && o->event_ms == m->event_ms);
    }
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
    const feed_adapter *ad;
    for (size_t a = 0; (ad = feed_adapter_at(a)); a++) { /* every adapter of the registry */
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
