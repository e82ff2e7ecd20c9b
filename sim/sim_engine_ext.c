/* sim_engine_ext: the engine's side of an external strategy
 * (docs/strategy-protocol.md): the decision step, the "quiet" rule that
 * lets a batch run ahead, and the backtest read-ahead that feeds batches.
 * Loop thread only. */
#include "feed.h"
#include "sim_engine_internal.h"
#include "sim_ext_internal.h"

#include <stdlib.h>
#include <string.h>

#define LA_CAP (2 * SIM_EXT_BATCH_MAX) /* candles read ahead (bound) */

/* Nothing of the engine's own can change a position before the strategy's
 * next order: no resting order, no stop-loss / take-profit / trailing stop
 * on an open position, no drawdown kill switch that could flatten it, no
 * open perp position (liquidation, funding), no operator control waiting. Blocks (quality, risk, pause) never change a
 * position, so they do not cut a batch. */
static int engine_quiet(const sim_engine *e)
{
    if (e->n_ctl || e->finished)
        return 0;
    for (int i = 0; i < e->n_syms; i++) {
        const sim_symbol *s = &e->syms[i];
        if (s->n_orders ||
            (s->qty != 0 && (s->sl > 0 || s->tp > 0 || s->trail_pct > 0 || e->cfg.max_drawdown_pct > 0 ||
                             e->cfg.perp.on))) /* perp: a liquidation or funding may come */
            return 0;
    }
    return 1;
}

/* Scope portfolio: cash, equity and every symbol's position now. */
typedef struct pf_now {
    sim_ext_pf pf;
    sim_ext_pfpos pos[SIM_EXT_MAX_SYMS];
} pf_now;

static const sim_ext_pf *pf_view(const sim_engine *e, pf_now *p)
{
    if (!e->ext->portfolio)
        return NULL;
    for (int i = 0; i < e->n_syms && i < SIM_EXT_MAX_SYMS; i++) {
        const sim_symbol *s = &e->syms[i];
        p->pos[i] = (sim_ext_pfpos){s->name, {s->qty, s->avg_price, s->n_orders, 0}};
    }
    p->pf = (sim_ext_pf){pf_cash(e->pf), pf_equity(e->pf),
                         e->n_syms < SIM_EXT_MAX_SYMS ? e->n_syms : SIM_EXT_MAX_SYMS, p->pos};
    return &p->pf;
}

/* Each order to its symbol: the candle's, or (scope portfolio) the one it
 * names, which the strategy has seen (sim_ext_msg.c checked). */
static void submit_all(sim_engine *e, sim_symbol *s, const pt_candle *c, const sim_ext_order *r,
                       int n)
{
    for (int k = 0; k < n; k++) {
        sim_symbol *t = s;
        for (int i = 0; r[k].symbol[0] && i < e->n_syms; i++)
            if (!strcmp(e->syms[i].name, r[k].symbol))
                t = &e->syms[i];
        sim_eng_submit(e, t, c, &r[k].rq, r[k].qty);
    }
}

/* The higher candles of one phase (before or after the base candle); their
 * orders are submitted at the base candle, like its own. */
static int higher(sim_engine *e, sim_symbol *s, const pt_candle *c, int after, pf_now *p)
{
    sim_ext_order reqs[SIM_EXT_MAX_ORDERS];
    for (int i = 0; i < e->ext->n_hi; i++) {
        if (e->ext->hi[i].after != after)
            continue;
        sim_ext_view v = {{s->qty, s->avg_price, s->n_orders, 0}, 0, pf_view(e, p)};
        int n = 0, rc = sim_ext_higher(e->ext, &e->ext->hi[i], &v, reqs, &n);
        if (rc)
            return rc;
        submit_all(e, s, c, reqs, n);
    }
    return PT_OK;
}

int sim_eng_ext_decide(sim_engine *e, sim_symbol *s, const pt_candle *c, sim_signal *sig)
{
    sim_ext_order reqs[SIM_EXT_MAX_ORDERS];
    int n = 0;
    memset(sig, 0, sizeof *sig);
    e->st.strategy_calls++;
    pf_now p;
    sim_ext_tf_fold(e->ext, c);
    int rc = higher(e, s, c, 0, &p);
    sim_ext_view v = {{s->qty, s->avg_price, s->n_orders, 0}, engine_quiet(e), pf_view(e, &p)};
    if (!rc)
        rc = sim_ext_decide(e->ext, c, &v, reqs, &n, sig);
    if (rc)
        return rc;
    submit_all(e, s, c, reqs, n);
    /* the dashboard sees the first orders (its signal holds SIM_MAX_ORDERS) */
    for (int i = 0; i < n && i < SIM_MAX_ORDERS; i++)
        sig->orders[sig->n_orders++] = reqs[i].rq;
    return higher(e, s, c, 1, &p);
}

/* ------------------------------------------------------------ read-ahead */

typedef struct lookahead {
    feed_source inner;
    sim_engine *e;
    pt_candle ring[LA_CAP];
    unsigned char acc[LA_CAP]; /* the engine's quality check will accept it */
    int head, n, end_rc;       /* end_rc: the inner source's PT_EOF or error, once seen */
    /* the same checks the engine runs, one candle earlier: same verdicts */
    char names[SIM_EXT_MAX_SYMS][PT_SYMBOL_MAX];
    quality_checker *qc[SIM_EXT_MAX_SYMS];
    int n_syms;
} lookahead;

static int shadow_accepts(lookahead *la, const pt_candle *c)
{
    int i;
    if (!c->closed)
        return 0;
    for (i = 0; i < la->n_syms && strcmp(la->names[i], c->symbol); i++)
        ;
    if (i == la->n_syms) {
        if (i >= la->e->cfg.max_symbols || i >= SIM_EXT_MAX_SYMS)
            return 0; /* the engine ignores it too */
        if (!(la->qc[i] = quality_new(&la->e->cfg.quality)))
            return 0;
        memcpy(la->names[i], c->symbol, PT_SYMBOL_MAX);
        la->n_syms++;
    }
    quality_result qr;
    return quality_check(la->qc[i], c, 0, &qr) != QUALITY_REJECT;
}

/* Read one more candle into the ring; 0 when the source is done or full. */
static int la_fill(lookahead *la)
{
    if (la->end_rc || la->n >= LA_CAP)
        return 0;
    pt_candle *c = &la->ring[(la->head + la->n) % LA_CAP];
    int rc = la->inner.ops->next(la->inner.self, c);
    if (rc) {
        la->end_rc = rc;
        return 0;
    }
    la->acc[(la->head + la->n) % LA_CAP] = (unsigned char)shadow_accepts(la, c);
    la->n++;
    return 1;
}

static int la_next(void *self, pt_candle *out)
{
    lookahead *la = self;
    if (!la->n && !la_fill(la))
        return la->end_rc;
    *out = la->ring[la->head];
    la->head = (la->head + 1) % LA_CAP;
    la->n--;
    return PT_OK;
}

static void la_free(void *self)
{
    lookahead *la = self;
    feed_source_free(&la->inner);
    for (int i = 0; i < la->n_syms; i++)
        quality_free(la->qc[i]);
    free(la);
}

static const feed_source_ops la_ops = {"lookahead", la_next, la_free};

static const pt_candle *la_at(void *ud, int i, int *accepted)
{
    lookahead *la = ud;
    while (i >= la->n)
        if (!la_fill(la))
            return NULL;
    *accepted = la->acc[(la->head + i) % LA_CAP];
    return &la->ring[(la->head + i) % LA_CAP];
}

static void la_view(void *ud, const char *symbol, sim_position_view *out)
{
    const sim_engine *e = ((lookahead *)ud)->e;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < e->n_syms; i++)
        if (!strcmp(e->syms[i].name, symbol)) {
            *out = (sim_position_view){e->syms[i].qty, e->syms[i].avg_price, e->syms[i].n_orders, 0};
            return;
        }
}

int sim_engine_lookahead(sim_engine *e, feed_source *src)
{
    if (!e->ext || !e->ext->batch)
        return PT_OK;
    lookahead *la = calloc(1, sizeof *la);
    if (!la)
        return PT_ENOMEM;
    la->inner = *src;
    la->e = e;
    src->ops = &la_ops;
    src->self = la;
    sim_ext_set_peek(e->ext, &(sim_ext_peek){la, la_at, la_view});
    return PT_OK;
}
