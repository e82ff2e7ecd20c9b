/* libFuzzer target: the quality checker (quality/quality.c) fed a candle
 * stream decoded from the input bytes, so the fuzzer steers times (gaps,
 * duplicates, disorder, huge jumps) and values (zero, negative, NaN, inf,
 * denormals, inconsistent OHLC) directly.
 *
 * Input layout: byte 0 picks the config (learned or fixed interval, window
 * sizes); then 12-byte records: int32 time step in seconds (may be <= 0),
 * then 4 x uint16 value codes (open, high, low, close), a few of which map
 * to special doubles (value_of); low bits of the value bytes also pick the
 * volume, the symbol (two series) and whether the future check runs. A step
 * of INT32_MIN stands for a rejected CSV row.
 *
 * Properties: the verdict is known; the score stays finite in [0, 100];
 * counts add up (candles == sum of verdicts). */
#include "fuzz_util.h"
#include "quality.h"

#define REC 12
#define MAX_CANDLES 4096 /* keeps each input well under a second */

FUZZ_QUIET_INITIALIZE /* log lines off: findings are crashes and FUZZ_CHECKs */

static double value_of(uint16_t code)
{
    switch (code) {
    case 0xFFFF: return NAN;
    case 0xFFFE: return INFINITY;
    case 0xFFFD: return -INFINITY;
    case 0xFFFC: return 0.0;
    case 0xFFFB: return -1.0;
    case 0xFFFA: return 4.9e-324; /* smallest denormal */
    case 0xFFF9: return 1.7e308;
    default: return 100.0 + (double)code * 0.01;
    }
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    quality_config cfg;
    quality_config_default(&cfg);
    uint8_t sel = data[0];
    cfg.interval_ms = (sel & 1) ? 60000 : 0;
    cfg.window = 10 + (sel >> 1 & 7) * 7;
    cfg.outlier_window = 10 + (sel >> 4 & 3) * 10;
    cfg.stale_run = 2 + (sel >> 6);
    quality_checker *qc = quality_new(&cfg);
    FUZZ_CHECK(qc != NULL);

    int64_t ts = 1700000000000LL;
    size_t n = 0;
    for (size_t off = 1; off + REC <= size && n < MAX_CANDLES; off += REC, n++) {
        const uint8_t *p = data + off;
        int32_t step = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                 (uint32_t)p[3] << 24);
        if (step == INT32_MIN) { /* a rejected CSV row between candles */
            quality_note_rejected_row(qc);
            FUZZ_CHECK(quality_score(qc) >= 0 && quality_score(qc) <= 100);
            continue;
        }
        ts += (int64_t)step * 1000;
        pt_candle c;
        memset(&c, 0, sizeof c);
        c.ts_ms = ts;
        c.open = value_of(rd16(p + 4));
        c.high = value_of(rd16(p + 6));
        c.low = value_of(rd16(p + 8));
        c.close = value_of(rd16(p + 10));
        c.volume = (p[4] & 1) ? 0.0 : (double)p[5];
        c.closed = 1;
        c.line = n + 1;
        snprintf(c.symbol, sizeof c.symbol, "%s", (p[10] & 1) ? "BTCUSDT" : "ETHUSDT");
        quality_result r;
        quality_verdict v = quality_check(qc, &c, (p[11] & 1) ? ts : 0, &r);
        FUZZ_CHECK(v == r.verdict);
        FUZZ_CHECK((unsigned)v < 3);
        FUZZ_CHECK(isfinite(r.score) && r.score >= 0 && r.score <= 100);
        FUZZ_CHECK(r.gap_missing >= 0);
        FUZZ_CHECK(quality_level(r.score) != NULL);
    }
    const quality_counts *k = quality_get_counts(qc);
    FUZZ_CHECK(k->by_verdict[0] + k->by_verdict[1] + k->by_verdict[2] == k->candles);
    FUZZ_CHECK(isfinite(k->score) && k->score >= 0 && k->score <= 100);
    FUZZ_CHECK(isfinite(k->worst_score) && k->worst_score >= 0 && k->worst_score <= 100);
    quality_free(qc);
    return 0;
}
