/* sim_ext_restart: a live external strategy that failed is started again
 * (docs/strategy-protocol.md "Failure"). The failed child was killed and
 * reaped at once; from the next candle on the engine waits a backoff
 * counted in candles (1, 2, 4 … 64: event time, never the wall clock),
 * starts the program again, and re-warms it and its engine indicators from
 * the last candles each symbol gave the strategy, exactly like a session's
 * warm-up: the strategy decides, nothing is acted on. Its failure opens
 * every symbol's breaker (they share the child) and the restart closes
 * them. After
 * SIM_EXT_RESTART_MAX attempts in a row without SIM_EXT_HEALTHY_CANDLES
 * good candles between them it stays down (entries blocked by the breaker,
 * stops still managed). Loop thread only, live sessions only. */
#include "sim_engine_internal.h"
#include "sim_ext_internal.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SIM_EXT_RESTART_MAX 8        /* attempts in a row before it stays down */
#define SIM_EXT_BACKOFF_MAX 64       /* candles between two attempts, at most */
#define SIM_EXT_HEALTHY_CANDLES 500  /* good candles that forgive earlier attempts */
#define SIM_EXT_REWARM_MAX 2000      /* candles kept per symbol to re-warm from */

typedef struct history {
    sim_symbol *s;
    pt_candle *ring; /* [cap] */
    int head, n;
} history;

struct sim_ext_restart {
    history sym[SIM_EXT_MAX_SYMS];
    int n_sym, cap;
    int attempts;          /* in a row */
    uint64_t down, healthy; /* candles since the failure / since the last start */
    int gave_up;
};

static history *history_of(sim_ext_restart *r, sim_symbol *s)
{
    for (int i = 0; i < r->n_sym; i++)
        if (r->sym[i].s == s)
            return &r->sym[i];
    if (r->n_sym >= SIM_EXT_MAX_SYMS)
        return NULL;
    history *h = &r->sym[r->n_sym];
    if (!(h->ring = malloc(sizeof *h->ring * (size_t)r->cap)))
        return NULL;
    h->s = s;
    r->n_sym++;
    return h;
}

static void remember(sim_ext_restart *r, sim_symbol *s, const pt_candle *c)
{
    history *h = history_of(r, s);
    if (!h)
        return; /* out of memory or symbols: that symbol re-warms shorter */
    h->ring[(h->head + h->n) % r->cap] = *c;
    if (h->n < r->cap)
        h->n++;
    else
        h->head = (h->head + 1) % r->cap;
}

/* The oldest remembered candle not yet replayed, across symbols, by time;
 * pos[i] counts the candles of symbol i replayed so far. */
static const pt_candle *next_oldest(const sim_ext_restart *r, const int *pos, int *which)
{
    const pt_candle *best = NULL;
    for (int i = 0; i < r->n_sym; i++) {
        const history *h = &r->sym[i];
        if (pos[i] >= h->n)
            continue;
        const pt_candle *c = &h->ring[(h->head + pos[i]) % r->cap];
        if (!best || c->ts_ms < best->ts_ms)
            best = c, *which = i;
    }
    return best;
}

/* Feed the remembered candles as a warm-up: decisions dropped (the
 * trade-from time is pushed past them, as for the session's warm-up). */
static int rewarm(sim_engine *e, int *fed)
{
    sim_ext_restart *r = e->ext_rs;
    int pos[SIM_EXT_MAX_SYMS] = {0}, which = 0, rc = PT_OK;
    int64_t trade_from = e->cfg.trade_from_ms;
    e->cfg.trade_from_ms = INT64_MAX;
    *fed = 0;
    for (const pt_candle *c; !rc && (c = next_oldest(r, pos, &which));) {
        sim_signal sig;
        if ((rc = sim_eng_ext_decide(e, r->sym[which].s, c, &sig)) == PT_OK)
            ++*fed;
        pos[which]++;
    }
    e->cfg.trade_from_ms = trade_from;
    return rc;
}

static int backoff(int attempts)
{
    int b = 1 << (attempts < 6 ? attempts : 6);
    return b < SIM_EXT_BACKOFF_MAX ? b : SIM_EXT_BACKOFF_MAX;
}

static int alive(const sim_ext *x) { return x->running && !x->dead; }

/* Every symbol shares the one child: its breaker closes with the restart. */
static void close_breakers(sim_engine *e, const pt_candle *c)
{
    for (int i = 0; i < e->n_syms; i++)
        e->syms[i].breaker_left = 0, e->syms[i].failures = 0;
    sim_eng_alert(e, c->ts_ms, NULL, "circuit_breaker", "closed again: strategy %s restarted",
                  e->ext->ops.name);
}

static void try_restart(sim_engine *e, const pt_candle *c)
{
    sim_ext_restart *r = e->ext_rs;
    sim_ext *x = e->ext;
    int attempt = ++r->attempts, fed = 0;
    sim_ext_stop(x); /* reaps what the failure left; the start resets the indicators */
    sim_ext_options xo = e->cfg.ext;
    xo.allow_short = e->cfg.allow_short;
    int rc = sim_ext_start(x, &xo, e->cfg.params);
    if (!rc)
        rc = rewarm(e, &fed);
    r->down = r->healthy = 0;
    if (!rc) {
        sim_eng_alert(e, c->ts_ms, NULL, "strategy_restart",
                      "strategy %s restarted (attempt %d of %d), re-warmed from %d candles",
                      x->ops.name, attempt, SIM_EXT_RESTART_MAX, fed);
        close_breakers(e, c);
    } else if (attempt >= SIM_EXT_RESTART_MAX) {
        r->gave_up = 1;
        sim_eng_alert(e, c->ts_ms, NULL, "strategy_down",
                      "strategy %s failed %d restarts in a row: it stays down (entries blocked, "
                      "stops still managed)", x->ops.name, attempt);
    } else {
        sim_eng_alert(e, c->ts_ms, NULL, "strategy_restart",
                      "strategy %s: restart %d of %d failed (%s); next in %d candles", x->ops.name,
                      attempt, SIM_EXT_RESTART_MAX, pt_strerror(rc), backoff(attempt));
    }
}

int sim_ext_rs_tick(sim_engine *e, sim_symbol *s, const pt_candle *c)
{
    sim_ext_restart *r = e->ext_rs;
    if (!r) {
        int w = sim_strategy_warmup(e->cfg.strategy, e->cfg.params, &e->cfg.sizing,
                                    e->cfg.atr_period);
        if (!(r = e->ext_rs = calloc(1, sizeof *r)))
            return PT_ENOMEM;
        r->cap = w < 1 ? 1 : w > SIM_EXT_REWARM_MAX ? SIM_EXT_REWARM_MAX : w;
    }
    if (!alive(e->ext) && !r->gave_up && ++r->down >= (uint64_t)backoff(r->attempts))
        try_restart(e, c);
    else if (alive(e->ext) && ++r->healthy >= SIM_EXT_HEALTHY_CANDLES)
        r->attempts = 0;
    remember(r, s, c);
    return PT_OK;
}

void sim_ext_rs_failed(sim_engine *e, const pt_candle *c)
{
    const sim_ext_restart *r = e->ext_rs;
    for (int i = 0; i < e->n_syms; i++)
        e->syms[i].breaker_left = INT_MAX; /* until the restart closes it */
    e->st.breaker_opens++;
    e->st.blocks[SIM_BLOCK_BREAKER]++;
    if (r && r->gave_up)
        return;
    sim_eng_alert(e, c->ts_ms, NULL, "circuit_breaker",
                  "opened: strategy %s failed; entries blocked until it restarts (in %d candles)",
                  e->ext->ops.name, backoff(r ? r->attempts : 0));
}

void sim_ext_rs_free(sim_ext_restart *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_sym; i++)
        free(r->sym[i].ring);
    free(r);
}
