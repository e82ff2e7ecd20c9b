/* libFuzzer target: the REST klines body parser (feed_rest_parse_rows,
 * feed/feed_adapter_util.c) shared by the Binance and Bitvavo backfill, and
 * every registered adapter's own rest_parse hook (feed_adapter_at: Bybit's,
 * OKX's, Kraken's enveloped rows).
 * Seeds: the exchanges' documented responses and broken ones (HTML body,
 * [], overlapping rows, truncated JSON).
 *
 * Properties: on PT_OK the rows are strictly ascending by open time, at most
 * cap, finite, positive; on an error nothing is committed (n == 0) except
 * PT_EFULL; each drop is counted under a known reason. */
#include "feed_live_internal.h"
#include "fuzz_util.h"

#define CAP 64 /* small on purpose: the "more rows than limit" path runs too */

FUZZ_QUIET_INITIALIZE /* log lines off: findings are crashes and FUZZ_CHECKs */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    pt_candle *rows = malloc(CAP * sizeof *rows);
    if (!body || !rows)
        abort();
    memcpy(body, data, size);
    uint64_t drops[FEED_DROP__COUNT] = {0};
    size_t n = 12345;
    /* a = 0: the shared parser; then every adapter of the registry with its own hook */
    for (size_t a = 0; a == 0 || feed_adapter_at(a - 1); a++) {
        const feed_adapter *ad = a ? feed_adapter_at(a - 1) : NULL;
        if (ad && !ad->rest_parse)
            continue;
        char err[256];
        n = 12345;
        int rc = ad ? ad->rest_parse(body, size, "BTCUSDT", rows, CAP, &n, drops, err, sizeof err)
                    : feed_rest_parse_rows(body, size, "BTCUSDT", rows, CAP, &n, drops);
        FUZZ_CHECK(rc == PT_OK || rc == PT_EPARSE || rc == PT_EFULL || (ad && (rc == PT_EINVAL || rc == PT_ERATELIMIT)));
        if (ad && (rc == PT_EINVAL || rc == PT_ERATELIMIT))
            FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && n == 0);
        FUZZ_CHECK(n <= CAP);
        if (rc == PT_EPARSE)
            FUZZ_CHECK(n == 0);
        for (size_t i = 0; rc == PT_OK && i < n; i++) {
            fuzz_check_candle(&rows[i]);
            FUZZ_CHECK(rows[i].open > 0 && rows[i].high > 0 && rows[i].low > 0 && rows[i].close > 0);
            FUZZ_CHECK(rows[i].volume >= 0);
            FUZZ_CHECK(!strcmp(rows[i].symbol, "BTCUSDT"));
            if (i > 0)
                FUZZ_CHECK(rows[i].ts_ms > rows[i - 1].ts_ms);
        }
    }
    free(rows);
    free(body);
    return 0;
}
