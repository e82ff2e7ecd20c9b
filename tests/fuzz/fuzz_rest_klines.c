/* libFuzzer target: the REST klines body parser (feed_rest_parse_rows,
 * feed/feed_adapter_util.c) shared by the Binance and Bitvavo backfill, and
 * every registered adapter's own rest_parse hook (feed_adapter_at: Bybit's,
 * OKX's, Kraken's enveloped rows, KuCoin's [time_s, o, c, h, l, ...] rows),
 * connect-token parser (KuCoin), and mark-price klines and funding history
 * rows (perpetual venues: binance-futures).
 * Seeds: the exchanges' documented responses and broken ones (HTML body,
 * [], overlapping rows, truncated JSON).
 *
 * Properties: on PT_OK the rows are strictly ascending by open time, at most
 * cap, finite, positive; on an error nothing is committed (n == 0) except
 * PT_EFULL; each drop is counted under a known reason. */
#include "feed_live_internal.h"
#include "fuzz_util.h"

#include <math.h>

#define CAP 64 /* small on purpose: the "more rows than limit" path runs too */

FUZZ_QUIET_INITIALIZE /* log lines off: findings are crashes and FUZZ_CHECKs */

static void fuzz_perp(const feed_adapter *bf, const char *body, size_t size, pt_candle *rows)
{
    uint64_t drops[FEED_DROP__COUNT] = {0};
    char err[64];
    size_t n = 12345;
    int rc = bf->mark_parse(body, size, "BTCUSDT", rows, CAP, &n, drops, err, sizeof err);
    FUZZ_CHECK(rc == PT_OK || rc == PT_EPARSE || rc == PT_EFULL);
    for (size_t i = 0; rc == PT_OK && i < n; i++) {
        fuzz_check_candle(&rows[i]);
        FUZZ_CHECK(rows[i].volume == 0 && (i == 0 || rows[i].ts_ms > rows[i - 1].ts_ms));
    }
    feed_funding *fr = malloc(CAP * sizeof *fr);
    if (!fr)
        abort();
    n = 12345;
    rc = bf->funding_parse(body, size, "BTCUSDT", fr, CAP, &n, drops, err, sizeof err);
    FUZZ_CHECK(rc == PT_OK || rc == PT_EPARSE || rc == PT_EFULL);
    FUZZ_CHECK(n <= CAP && (rc != PT_EPARSE || n == 0));
    for (size_t i = 0; rc == PT_OK && i < n; i++) {
        FUZZ_CHECK(isfinite(fr[i].rate) && fabs(fr[i].rate) < 1 && isfinite(fr[i].mark_price) && fr[i].mark_price >= 0);
        FUZZ_CHECK(!strcmp(fr[i].symbol, "BTCUSDT") && (i == 0 || fr[i].ts_ms > fr[i - 1].ts_ms));
    }
    free(fr);
}

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
    const feed_adapter *ad;
    for (size_t a = 0; (ad = feed_adapter_at(a)); a++) { /* every adapter with a connect token */
        if (!ad->token_parse)
            continue;
        char url[1024], err[256];
        int64_t ping = -1;
        int rc = ad->token_parse(body, size, "pt1", url, sizeof url, &ping, err, sizeof err);
        FUZZ_CHECK(rc == PT_OK || rc == PT_EPARSE || rc == PT_EFULL || rc == PT_EINVAL || rc == PT_ERATELIMIT);
        if (rc == PT_OK)
            FUZZ_CHECK(memchr(url, '\0', sizeof url) && (!strncmp(url, "ws://", 5) || !strncmp(url, "wss://", 6)) &&
                       !strpbrk(url, " \r\n\"#") && (ping == 0 || (ping >= 1000 && ping <= 600000)));
        else
            FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    }
    /* perpetual venues: mark-price klines (volume ignored) and funding rows */
    for (size_t a = 0; (ad = feed_adapter_at(a)); a++) {
        if (ad->mark_parse && ad->funding_parse)
            fuzz_perp(ad, body, size, rows);
    }
    free(rows);
    free(body);
    return 0;
}
