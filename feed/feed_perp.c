/* feed: perpetual futures state over a venue's mark price stream -- order,
 * mark-price bars and funding events -- judged only on the exchange's
 * clock (E event times, T funding times). Pure: the live feed
 * (feed_live.c) keeps one feed_perp_series per symbol.
 *
 * The funding rule (docs/feed.md "Perpetuals: marks and funding"): each
 * update announces (r, T), the rate for the next funding time T. When an
 * update arrives with E >= T and a later T', the settlement at T happened:
 * one funding event (T, the last r announced for T, the last mark with
 * E <= T). A T' more than one period past T means settlements were missed
 * while away: counted as a gap, never invented (their rates are in
 * `fetch --funding`). */
#include "feed_live_internal.h"

#include <stdio.h>
#include <string.h>

void feed_perp_init(feed_perp_series *s, const char *symbol, int64_t interval_ms)
{
    memset(s, 0, sizeof *s);
    snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
    s->interval_ms = interval_ms;
    s->last_event_ms = INT64_MIN;
}

static int64_t floor_to(int64_t t, int64_t step) { return t - ((t % step) + step) % step; }

/* the bar holding E: extends the one in progress or closes it */
static void bar_step(feed_perp_series *s, const feed_mark *m, feed_perp_step *out)
{
    int64_t open = floor_to(m->event_ms, s->interval_ms);
    double p = m->mark_price;
    if (s->has_bar && open > s->bar.ts_ms) {
        out->bar = s->bar;
        out->bar.closed = 1;
        out->bar_closed = 1;
        s->has_bar = 0;
    }
    if (!s->has_bar) {
        memset(&s->bar, 0, sizeof s->bar);
        memcpy(s->bar.symbol, s->symbol, sizeof s->bar.symbol);
        s->bar.ts_ms = open;
        s->bar.open = s->bar.high = s->bar.low = p;
        s->has_bar = 1;
    }
    s->bar.high = p > s->bar.high ? p : s->bar.high;
    s->bar.low = p < s->bar.low ? p : s->bar.low;
    s->bar.close = p;
}

static void funding_step(feed_perp_series *s, const feed_mark *m, feed_perp_step *out)
{
    if (s->ann_T && m->event_ms >= s->ann_T && m->next_funding_ms > s->ann_T) {
        if (m->event_ms == s->ann_T)
            s->mark_le = m->mark_price; /* E <= T still */
        out->funding = 1;
        memcpy(out->fund.symbol, s->symbol, sizeof out->fund.symbol);
        out->fund.ts_ms = s->ann_T;
        out->fund.rate = s->ann_rate;
        out->fund.mark_price = s->mark_le;
        int64_t step = m->next_funding_ms - s->ann_T;
        if (s->period_ms > 0 && step >= 2 * s->period_ms)
            out->gap = (int)(step / s->period_ms) - 1; /* settlements between T and T' never seen */
        else
            s->period_ms = step;
    } else if (s->ann_T && m->next_funding_ms < s->ann_T) {
        return; /* an older announcement: T only moves forward */
    } else if (s->ann_T == m->next_funding_ms || !s->ann_T) {
        s->ann_T = m->next_funding_ms;
        s->ann_rate = m->funding_rate;
        if (m->event_ms <= s->ann_T) /* a late update at or past T says nothing about the mark at T */
            s->mark_le = m->mark_price;
        return;
    } else {
        /* a later T without E reaching ann_T: the venue moved its schedule */
        s->period_ms = 0;
    }
    s->ann_T = m->next_funding_ms;
    s->ann_rate = m->funding_rate;
    s->mark_le = m->mark_price;
}

void feed_perp_offer(feed_perp_series *s, const feed_mark *m, feed_perp_step *out)
{
    memset(out, 0, sizeof *out);
    if (m->event_ms <= s->last_event_ms)
        return; /* repeated after a reconnect, or out of order */
    s->last_event_ms = m->event_ms;
    out->mark_ok = 1;
    bar_step(s, m, out);
    funding_step(s, m, out);
}

int feed_funding_format(const feed_funding *f, char *buf, size_t cap)
{
    /* the rate as plain decimals (venues quote 8): never "5e-05" */
    char rate[32], mark[32] = "";
    snprintf(rate, sizeof rate, "%.12f", f->rate == 0 ? 0.0 : f->rate);
    char *e = rate + strlen(rate) - 1;
    while (*e == '0')
        *e-- = '\0';
    if (*e == '.')
        *e = '\0';
    if (f->mark_price > 0)
        pt_format_double(f->mark_price, mark, sizeof mark);
    int n = snprintf(buf, cap, "%lld,%s,%s,%s\n", (long long)f->ts_ms, f->symbol, rate, mark);
    return n < 0 || (size_t)n >= cap ? PT_EFULL : n;
}
