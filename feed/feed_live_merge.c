/* feed: per-symbol merge of live closed candles with REST backfill.
 * Contract (docs/feed.md, reconnect and backfill): the consumer
 * sees each closed candle once, in strictly increasing open time. Dedup key
 * is the open time (symbol and interval are fixed per series). A candle
 * already delivered is a duplicate; one older than the cursor that was
 * never delivered is out of order; both are dropped and counted. */
#include "feed_live_internal.h"

#include <stdlib.h>
#include <string.h>

int feed_series_init(feed_series *s, const char *symbol, int64_t interval_ms, size_t buf_cap)
{
    memset(s, 0, sizeof *s);
    pt_candle probe;
    if (feed_candle_set_symbol(&probe, symbol) || interval_ms <= 0)
        return PT_EINVAL;
    memcpy(s->symbol, probe.symbol, sizeof s->symbol);
    memcpy(s->st.symbol, probe.symbol, sizeof s->st.symbol);
    s->interval_ms = interval_ms;
    s->last_ts = INT64_MIN;
    s->st.last_closed_ts = INT64_MIN;
    s->buf_cap = buf_cap ? buf_cap : 4096;
    s->buf = calloc(s->buf_cap, sizeof *s->buf);
    return s->buf ? PT_OK : PT_ENOMEM;
}

void feed_series_free(feed_series *s)
{
    if (!s)
        return;
    free(s->buf);
    s->buf = NULL;
}

static int seen(const feed_series *s, int64_t ts)
{
    for (size_t i = 0; i < s->recent_n; i++)
        if (s->recent[i] == ts)
            return 1;
    return 0;
}

static void emit(feed_series *s, const pt_candle *c, feed_emit_fn fn, void *ud)
{
    s->last_ts = c->ts_ms;
    s->st.last_closed_ts = c->ts_ms;
    s->st.closed++;
    s->recent[s->recent_pos] = c->ts_ms;
    s->recent_pos = (s->recent_pos + 1) % FEED_RECENT;
    if (s->recent_n < FEED_RECENT)
        s->recent_n++;
    pt_candle out = *c;
    out.closed = 1;
    fn(ud, &out);
}

/* dup/order check against the cursor; 1 if c is new and in order */
static int in_order(feed_series *s, const pt_candle *c, feed_offer *why)
{
    if (s->last_ts == INT64_MIN || c->ts_ms > s->last_ts)
        return 1;
    if (c->ts_ms == s->last_ts || seen(s, c->ts_ms)) {
        s->st.duplicates++;
        *why = FEED_OFFER_DUPLICATE;
    } else {
        s->st.out_of_order++;
        *why = FEED_OFFER_OUT_OF_ORDER;
    }
    return 0;
}

static feed_offer buffer(feed_series *s, const pt_candle *c)
{
    /* keep the buffer ascending and unique; live data is nearly sorted */
    size_t i = s->buf_n;
    while (i > 0 && s->buf[i - 1].ts_ms > c->ts_ms)
        i--;
    if (i > 0 && s->buf[i - 1].ts_ms == c->ts_ms) {
        s->st.duplicates++;
        return FEED_OFFER_DUPLICATE;
    }
    if (s->buf_n == s->buf_cap) {
        s->overflowed = 1; /* the next backfill starts at the cursor and refetches it */
        return FEED_OFFER_OVERFLOW;
    }
    memmove(&s->buf[i + 1], &s->buf[i], (s->buf_n - i) * sizeof *s->buf);
    s->buf[i] = *c;
    s->buf_n++;
    return FEED_OFFER_BUFFERED;
}

feed_offer feed_series_offer(feed_series *s, const pt_candle *c, feed_emit_fn fn, void *ud)
{
    feed_offer why = FEED_OFFER_EMIT;
    if (!in_order(s, c, &why))
        return why;
    if (s->backfilling)
        return buffer(s, c);
    if (s->last_ts != INT64_MIN && c->ts_ms > s->last_ts + s->interval_ms) {
        /* missed bars: hold this one, the caller fetches the hole by REST */
        s->gap_from = s->last_ts + s->interval_ms;
        s->gap_to = c->ts_ms; /* exclusive */
        s->backfilling = 1;
        feed_offer b = buffer(s, c);
        return b == FEED_OFFER_BUFFERED ? FEED_OFFER_GAP : b;
    }
    emit(s, c, fn, ud);
    return FEED_OFFER_EMIT;
}

void feed_series_begin_backfill(feed_series *s)
{
    s->backfilling = 1;
}

/* counts bars the merged series skips between the cursor and c */
static void count_gap(feed_series *s, const pt_candle *c)
{
    if (s->last_ts != INT64_MIN && c->ts_ms > s->last_ts + s->interval_ms) {
        s->st.gaps++;
        s->st.gap_candles += (uint64_t)((c->ts_ms - s->last_ts) / s->interval_ms - 1);
    }
}

int feed_series_end_backfill(feed_series *s, const pt_candle *rows, size_t n, int ok, int64_t covered_to,
                             feed_emit_fn fn, void *ud)
{
    feed_offer why;
    size_t b = 0;
    /* merge REST rows and buffered live rows by open time; on a tie the
     * REST row wins (a closed REST bar is authoritative) */
    for (size_t i = 0; ok && i < n; i++) {
        while (b < s->buf_n && s->buf[b].ts_ms < rows[i].ts_ms) {
            if (in_order(s, &s->buf[b], &why)) {
                count_gap(s, &s->buf[b]);
                emit(s, &s->buf[b], fn, ud);
            }
            b++;
        }
        if (b < s->buf_n && s->buf[b].ts_ms == rows[i].ts_ms) {
            s->st.duplicates++; /* delivered twice: live and REST */
            b++;
        }
        if (in_order(s, &rows[i], &why)) {
            count_gap(s, &rows[i]);
            emit(s, &rows[i], fn, ud);
        }
    }
    for (; b < s->buf_n; b++) {
        if (!in_order(s, &s->buf[b], &why))
            continue;
        int64_t next = s->last_ts + s->interval_ms;
        if (ok && covered_to > 0 && s->last_ts != INT64_MIN && s->buf[b].ts_ms > next && next >= covered_to) {
            /* a hole nobody asked REST for: keep the rest, fetch it next */
            memmove(s->buf, &s->buf[b], (s->buf_n - b) * sizeof *s->buf);
            s->buf_n -= b;
            s->gap_from = next;
            s->gap_to = s->buf[0].ts_ms;
            return 1;
        }
        count_gap(s, &s->buf[b]); /* REST had no row: no-trade bar or failed fetch */
        emit(s, &s->buf[b], fn, ud);
    }
    s->buf_n = 0;
    s->backfilling = 0;
    s->overflowed = 0;
    return 0;
}

int feed_series_update_open(feed_series *s, const pt_candle *c, pt_candle *closed)
{
    int out = 0;
    /* pushes that cannot be the bar in progress: an older bar (out of
     * order) or the same state again (a repeated message); both harmless,
     * counted as the flagged venues count theirs */
    if (s->has_open_bar && c->ts_ms < s->open_bar.ts_ms)
        s->st.out_of_order++;
    else if (s->has_open_bar && c->ts_ms == s->open_bar.ts_ms && c->open == s->open_bar.open &&
             c->high == s->open_bar.high && c->low == s->open_bar.low && c->close == s->open_bar.close &&
             c->volume == s->open_bar.volume)
        s->st.duplicates++;
    if (s->has_open_bar && c->ts_ms > s->open_bar.ts_ms) {
        /* a newer bar started: the previous one is final (Bitvavo has no
         * closed flag) */
        *closed = s->open_bar;
        closed->closed = 1;
        out = 1;
    }
    if (!s->has_open_bar || c->ts_ms >= s->open_bar.ts_ms) {
        s->open_bar = *c;
        s->open_bar.closed = 0;
        s->has_open_bar = 1;
    }
    return out;
}

int feed_series_close_due(feed_series *s, int64_t now_ms, int64_t grace_ms, pt_candle *closed)
{
    if (!s->has_open_bar || now_ms < s->open_bar.ts_ms + s->interval_ms + grace_ms)
        return 0;
    *closed = s->open_bar;
    closed->closed = 1;
    s->has_open_bar = 0;
    return 1;
}
