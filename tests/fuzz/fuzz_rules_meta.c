/* libFuzzer target: every venue's trading-rules metadata parser
 * (feed_rules_parse -> feed/feed_rules_venues.c) on the input as the REST
 * body, exactly len bytes (no NUL after it). Seeds: the documented answer
 * shapes (corpus/fuzz_rules_meta/).
 *
 * Properties: a known result code; every record found is for a wanted
 * symbol, its decimals are exact (m > 0 or unset, e in 0..18) and rounding a
 * price onto its grid stays finite, on the grid and within one step. */
#include "feed_live_internal.h"
#include "fuzz_util.h"
#include "portfolio.h"

#include <math.h>

static const char *const venues[] = {"binance", "bitvavo", "bybit", "okx", "kraken", "coinbase"};
static const char *const syms[] = {"BTCUSDT", "ETHBTC", "BTC-EUR", "BTC-USDT"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

static void check_dec(pf_dec d)
{
    FUZZ_CHECK(d.m >= 0 && d.e >= 0 && d.e <= 18);
    if (!d.m)
        return;
    double x = 12345.678901, lo = pf_dec_round(x, d, 0), hi = pf_dec_round(x, d, 1);
    FUZZ_CHECK(isfinite(lo) && isfinite(hi) && lo <= x && hi >= x);
    FUZZ_CHECK(pf_dec_round(lo, d, 0) == lo && pf_dec_round(hi, d, 1) == hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees an over-read */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    for (size_t k = 0; k < 2 * sizeof venues / sizeof venues[0]; k++) {
        size_t v = k / 2, n = k % 2 ? 1 : 4; /* one symbol: Kraken then takes a lone pair as it */
        pf_rules_set out;
        char err[200];
        memset(&out, 0, sizeof out);
        int rc = feed_rules_parse(venues[v], (const char *)copy, size, syms + 4 - n, n, &out, err, sizeof err);
        FUZZ_CHECK(rc == PT_OK || rc == PT_ENOENT || rc == PT_EINVAL || rc == PT_EPARSE || rc == PT_EFULL);
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL || rc == PT_OK);
        FUZZ_CHECK(out.n >= 0 && out.n <= PF_MAX_SYMBOLS);
        for (int i = 0; i < out.n; i++) {
            int known = 0;
            for (size_t j = 0; j < 4; j++)
                known |= !strcmp(out.r[i].symbol, syms[j]);
            FUZZ_CHECK(known);
            check_dec(out.r[i].tick), check_dec(out.r[i].step), check_dec(out.r[i].min_qty);
            check_dec(out.r[i].min_notional);
        }
    }
    free(copy);
    return 0;
}
