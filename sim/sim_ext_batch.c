/* sim_ext_batch.c: batches (docs/strategy-protocol.md "Batches"). While
 * nothing of the engine's own can change a position, the engine sends the
 * candles it will decide next in one message and hands out the answers one
 * candle at a time. A strategy that takes columns gets one list per field;
 * one that also resumes gets, after an order, only the positions now held
 * and goes on with the same batch instead of receiving its rest again. */
#include "sim_ext_internal.h"

#include <string.h>

static int same_view(const sim_position_view *a, const sim_position_view *b)
{
    return a->qty == b->qty && a->avg_price == b->avg_price && a->open_orders == b->open_orders;
}

/* The batch symbol of candle i (x->bcand[i]) with this view, added when
 * new; -1 when its symbol was seen with another view (a columnar batch has
 * one view per symbol: the cut rule promises it, this makes it certain). */
static int batch_symbol(sim_ext *x, int i, const sim_position_view *view)
{
    for (int j = 0; j < x->n_bsym; j++)
        if (!strcmp(x->bcand[x->bsym_first[j]].symbol, x->bcand[i].symbol))
            return same_view(&x->bsym_view[j], view) ? j : -1;
    int j = x->n_bsym++;
    x->bsym_first[j] = i, x->bsym_view[j] = *view;
    return j;
}

/* Bytes one candle may take in a message, so a batch stops at half the
 * message bound before it is formatted: numbers are at most 25 bytes. */
static size_t candle_bytes(const sim_ext *x)
{
    size_t ind = (size_t)x->n_ind * 3;
    return x->columns ? 40 + 26 * (6 + ind)
                      : 320 + PT_SYMBOL_MAX + (size_t)x->n_ind * (SIM_EXT_NAME_LEN + 8) + 40 * ind;
}

/* Read ahead from c into bcand/bview/bsym and the indicator rows vals;
 * sized by how far the last batch got (twice that, 8..256). */
static void collect(sim_ext *x, const pt_candle *c, const sim_ext_view *v, const double *vals0,
                    const double **vals)
{
    size_t per = candle_bytes(x);
    int want = x->bsize ? x->bsize : 8, n, nq = 0;
    x->n_bsym = 0;
    x->bcand[0] = *c, x->bview[0] = v->pos, vals[0] = vals0;
    x->bsym[0] = batch_symbol(x, 0, &v->pos);
    for (n = 1; n < want && (size_t)(n + 1) * per <= SIM_EXT_MSG_MAX / 2;) {
        int acc;
        const pt_candle *d = x->peek.at(x->peek.ud, nq++, &acc);
        if (!d)
            break;
        if (!acc)
            continue; /* rejected by the quality check: the strategy never sees it */
        const double *dv = sim_ext_ind_ahead(x, d, n);
        if (!dv) /* a non-finite input: that candle is asked alone, in lockstep */
            break;
        x->bcand[n] = *d;
        x->peek.view(x->peek.ud, d->symbol, &x->bview[n]);
        int j = x->columns ? batch_symbol(x, n, &x->bview[n]) : 0;
        if (j < 0)
            break;
        x->bsym[n] = j, vals[n] = dv;
        n++;
    }
    x->bn = n;
}

/* Send the message built for the batch (from 0, or resumed at from) and
 * keep the answer: answers are known for candles [from, n_known). */
static int answer(sim_ext *x, const pt_candle *c, int from)
{
    int at = -1;
    int rc = sim_ext_ask(x, c, x->bn, x->known, &x->n_known_orders, &at);
    if (rc)
        return rc;
    if (at >= 0 && at < from)
        return sim_ext_fail(x, c, PT_EINVAL, NULL, "a resumed batch's answer needs \"at\" >= %d, got %d",
                            from, at);
    x->n_known = at >= 0 ? at + 1 : x->bn;
    x->bsize = 2 * x->n_known < 8 ? 8 : 2 * x->n_known > SIM_EXT_BATCH_MAX ? SIM_EXT_BATCH_MAX
                                                                          : 2 * x->n_known;
    x->known_at = at;
    x->bnext = from;
    return PT_OK;
}

static int ask_batch(sim_ext *x, const pt_candle *c, const sim_ext_view *v, const double *vals0)
{
    const double *vals[SIM_EXT_BATCH_MAX];
    collect(x, c, v, vals0, vals);
    sim_ext_mb_reset(x);
    if (x->columns) {
        sim_ext_put_columns(x, vals);
    } else {
        sim_ext_mb_put(x, "{\"type\":\"batch\",\"candles\":[", 27);
        for (int i = 0; i < x->bn; i++) {
            sim_ext_mb_put(x, ",", i ? 1 : 0);
            sim_ext_put_candle(x, &x->bcand[i], &x->bview[i], vals[i], NULL);
        }
        sim_ext_mb_put(x, "]}", 2);
    }
    return answer(x, c, 0);
}

/* c is the next candle of the last batch and the engine is quiet again
 * (the order's fill changed a position): the positions held now, and the
 * strategy goes on from there. The batch's candles and indicator values
 * are what a fresh batch would carry; only the views differ. */
static int ask_resume(sim_ext *x, const pt_candle *c, const sim_ext_view *v)
{
    int from = x->bnext;
    for (int j = 0; j < x->n_bsym; j++)
        x->peek.view(x->peek.ud, x->bcand[x->bsym_first[j]].symbol, &x->bsym_view[j]);
    x->bsym_view[x->bsym[from]] = v->pos;
    for (int i = from; i < x->bn; i++)
        x->bview[i] = x->bsym_view[x->bsym[i]];
    sim_ext_mb_reset(x);
    sim_ext_put_resume(x, from);
    return answer(x, c, from);
}

/* The answer to the next candle of the last batch. */
static int known_answer(sim_ext *x, const pt_candle *c, const sim_ext_view *v,
                        sim_ext_order *reqs, int *n)
{
    int i = x->bnext++;
    /* the cut rule promises the view the batch assumed; check it */
    if (strcmp(x->bcand[i].symbol, c->symbol) || x->bcand[i].ts_ms != c->ts_ms ||
        !same_view(&x->bview[i], &v->pos))
        return sim_ext_fail(x, c, PT_ESTATE, NULL, "internal: batch candle %d does not match", i);
    if (i == x->known_at) {
        memcpy(reqs, x->known, sizeof *reqs * (size_t)x->n_known_orders);
        *n = x->n_known_orders;
    }
    return PT_OK;
}

int sim_ext_batch_decide(sim_ext *x, const pt_candle *c, const sim_ext_view *v, const double *vals,
                         sim_ext_order *reqs, int *n, int *used)
{
    *used = 1;
    if (x->bnext < x->n_known)
        return known_answer(x, c, v, reqs, n);
    if (!x->batch || x->batch_off || !v->quiet || !x->peek.at) {
        x->bn = x->bnext = x->n_known = 0; /* lockstep: the rest of the batch goes stale */
        *used = 0;
        return PT_OK;
    }
    const pt_candle *next = x->bnext < x->bn ? &x->bcand[x->bnext] : NULL;
    int rc = x->resume && next && next->ts_ms == c->ts_ms && !strcmp(next->symbol, c->symbol)
                 ? ask_resume(x, c, v)
                 : ask_batch(x, c, v, vals);
    return rc ? rc : known_answer(x, c, v, reqs, n);
}
