/* opt_eval: the candles of an optimize run, read once, and one evaluation:
 * exactly what `backtest` does per candle, minus the ledger files, so a
 * results.csv row equals that backtest's report.json (tests/integration/
 * optimize_exact.sh). */
#include "session.h"
#include "optimize.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Each symbol's quality results, checked once here and replayed by every
 * evaluation's engine (quality.h "replay"): the same verdicts and scores
 * the engine's own checker would give, without the rolling windows. */
typedef struct opt_sym {
    char name[PT_SYMBOL_MAX];
    quality_checker *qc;
    quality_tape *tape;
    double bh_first, bh_last; /* first and last close the backtest prices buy-and-hold at */
} opt_sym;

struct opt_data {
    pt_candle *c;
    uint64_t n;
    int64_t bar_ms;
    opt_sym sym[PF_MAX_SYMBOLS];
    int n_sym, last;
    int bh_order[PF_MAX_SYMBOLS]; /* symbols in the order of their first priced close */
    int n_bh;
};

uint64_t opt_data_candles(const opt_data *d) { return d->n; }

uint64_t opt_data_index_at(const opt_data *d, int64_t ts)
{
    uint64_t lo = 0, hi = d->n; /* candles are in event-time order (k-way merge) */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (d->c[mid].ts_ms < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void opt_data_span(const opt_data *d, int64_t *first_ts, int64_t *last_ts, int64_t *bar_ms)
{
    *first_ts = d->c[0].ts_ms;
    *last_ts = d->c[d->n - 1].ts_ms;
    *bar_ms = d->bar_ms;
}

static int sym_index(const opt_data *d, const char *name)
{
    if (d->n_sym && !strcmp(d->sym[d->last].name, name))
        return d->last;
    for (int i = 0; i < d->n_sym; i++)
        if (!strcmp(d->sym[i].name, name))
            return i;
    return -1;
}

static const quality_tape *tape_of(void *ud, const char *symbol)
{
    const opt_data *d = ud; /* asked once per symbol and run (engine's symbol_get) */
    int i = sym_index(d, symbol);
    return i >= 0 ? d->sym[i].tape : NULL;
}

/* The engine's check of one candle, recorded (symbols past the table are
 * left to the engine, which ignores them past its max_symbols anyway). */
static int record_quality(opt_data *d, const quality_config *qcfg, const pt_candle *c)
{
    if (!c->closed)
        return PT_OK;
    int i = sym_index(d, c->symbol);
    if (i < 0) {
        if (d->n_sym == PF_MAX_SYMBOLS)
            return PT_OK;
        opt_sym *s = &d->sym[d->n_sym];
        snprintf(s->name, sizeof s->name, "%s", c->symbol);
        s->qc = quality_new(qcfg);
        s->tape = quality_tape_new();
        i = d->n_sym++;
        if (!s->qc || !s->tape)
            return PT_ENOMEM;
    }
    d->last = i;
    quality_result r;
    quality_check(d->sym[i].qc, c, 0, &r);
    /* the backtest's h_candle prices every close that is not rejected */
    if (r.verdict != QUALITY_REJECT && isfinite(c->close) && c->close > 0) {
        if (!d->sym[i].bh_first)
            d->bh_order[d->n_bh++] = i, d->sym[i].bh_first = c->close;
        d->sym[i].bh_last = c->close;
    }
    return quality_tape_add(d->sym[i].tape, &r);
}

int opt_data_load(const session_backtest_config *s, opt_data **out)
{
    *out = NULL;
    opt_data *d = calloc(1, sizeof *d);
    feed_source src = {0};
    uint64_t rejects = 0, cap = 0;
    int rc = d ? session_backtest_open(s, &rejects, &d->bar_ms, &src) : PT_ENOMEM;
    pt_candle c;
    while (!rc && (rc = src.ops->next(src.self, &c)) == PT_OK) {
        if (d->n == cap) {
            cap = cap ? cap * 2 : 65536;
            pt_candle *nc = cap <= OPT_MAX_CANDLES ? realloc(d->c, cap * sizeof *nc) : NULL;
            if (!nc) {
                pt_err_log("optimize: more than %u candles or out of memory", OPT_MAX_CANDLES);
                rc = PT_ENOMEM;
                break;
            }
            d->c = nc;
        }
        d->c[d->n++] = c;
        if (record_quality(d, &s->cfg.quality, &c)) {
            rc = PT_ENOMEM;
            break;
        }
    }
    feed_source_free(&src);
    for (int i = 0; d && i < d->n_sym && d->sym[i].qc && d->sym[i].tape; i++) {
        quality_tape_seal(d->sym[i].tape, d->sym[i].qc);
        quality_free(d->sym[i].qc);
        d->sym[i].qc = NULL;
    }
    if (rc != PT_EOF || !d->n) {
        if (rc == PT_EOF)
            pt_err_log("optimize: no candles in the input");
        opt_data_free(d);
        return 3;
    }
    if (d->bar_ms <= 0) /* as backtest does */
        d->bar_ms = 60000;
    *out = d;
    return 0;
}

void opt_data_free(opt_data *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_sym; i++) {
        quality_free(d->sym[i].qc);
        quality_tape_free(d->sym[i].tape);
    }
    free(d->c);
    free(d);
}

/* ------------------------------------------------------------ engine */

/* The backtest's hooks (app/cmd_backtest.c) without the ledger. Its
 * h_candle only feeds buy-and-hold, which keeps each symbol's first and
 * last priced close in first-priced order: the same for every run, so
 * recorded once (record_quality) and handed over at the end. */
static void price_buy_and_hold(const opt_data *d, const sim_engine_config *cfg, pf_metrics *m)
{
    for (int k = 0; k < d->n_bh; k++) {
        const opt_sym *s = &d->sym[d->bh_order[k]];
        if (d->bh_order[k] >= cfg->max_symbols) /* the engine never saw it */
            continue;
        pf_metrics_price(m, s->name, s->bh_first);
        pf_metrics_price(m, s->name, s->bh_last);
    }
}

typedef struct ev_ctx {
    pf_metrics *m;
    const opt_tap *tap;
} ev_ctx;

static void h_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    ev_ctx *x = ud;
    pf_metrics_fill(x->m, f->fee, r);
    if (x->tap && x->tap->fill)
        x->tap->fill(x->tap->ud, f, r);
}

static void h_row(void *ud, const pf_snapshot *s)
{
    ev_ctx *x = ud;
    pf_metrics_snapshot(x->m, s);
    if (x->tap && x->tap->row)
        x->tap->row(x->tap->ud, s);
}

/* A window's own buy-and-hold: what the backtest's h_candle would price. */
static void h_candle(void *ud, const pt_candle *c, quality_verdict v, double score,
                     const sim_signal *sig)
{
    (void)score, (void)sig;
    if (v != QUALITY_REJECT)
        pf_metrics_price(((ev_ctx *)ud)->m, c->symbol, c->close);
}

/* Runs the engine over candles [from, to) of d; *rep is report.json's
 * document. The whole data replays the recorded quality and prices. */
static int run_engine(const opt_data *d, const sim_engine_config *cfg, const char *controls,
                      uint64_t from, uint64_t to, const opt_tap *tap, cJSON **rep)
{
    int whole = from == 0 && to == d->n;
    ev_ctx x = {NULL, tap};
    sim_engine *e = NULL;
    session_controls *ctl = NULL;
    const sim_hooks hooks = {whole ? NULL : h_candle, NULL, h_fill, h_row, NULL};
    int rc = pf_metrics_new(d->bar_ms, cfg->cash, &x.m);
    if (!rc)
        rc = sim_engine_new(cfg, &hooks, &x, &e);
    if (!rc && controls)
        rc = session_controls_load(controls, &ctl);
    for (uint64_t i = from; !rc && i < to; i++) {
        if (ctl)
            rc = session_controls_apply(ctl, e, d->c[i].ts_ms);
        if (!rc)
            sim_engine_on_candle(e, &d->c[i]);
    }
    if (!rc)
        rc = session_controls_apply(ctl, e, INT64_MAX);
    if (!rc)
        sim_engine_finish(e);
    if (!rc && sim_engine_get_stats(e)->accepted == 0) {
        pt_err_log("optimize: no usable candles in the input");
        rc = PT_EINVAL;
    }
    if (!rc) {
        pf_metrics_result mr;
        if (whole)
            price_buy_and_hold(d, cfg, x.m);
        pf_metrics_compute(x.m, &mr);
        *rep = pf_metrics_to_json(&mr);
        rc = *rep ? sim_engine_stats_to_json(e, cJSON_AddObjectToObject(*rep, "engine"))
                  : PT_ENOMEM;
    }
    session_controls_free(ctl);
    sim_engine_free(e);
    pf_metrics_free(x.m);
    return rc;
}

/* ------------------------------------------------------------ flattening */

typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void put_field(buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        put(b, s, strlen(s));
        return;
    }
    put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            put(b, "\"", 1); /* doubled */
        put(b, p, 1);
    }
    put(b, "\"", 1);
}

/* Values as report.json prints them: numbers in cJSON's text, strings
 * bare, null empty, booleans true/false. Keys joined with '.'. */
static void flatten(const cJSON *o, const char *prefix, buf *h, buf *r)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        char key[256], num[64];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", it->string);
        if (cJSON_IsObject(it)) {
            flatten(it, key, h, r);
            continue;
        }
        put(h, ",", h->n ? 1 : 0), put_field(h, key);
        put(r, ",", r->n ? 1 : 0);
        if (cJSON_IsString(it))
            put_field(r, it->valuestring);
        else if (cJSON_IsBool(it))
            put_field(r, cJSON_IsTrue(it) ? "true" : "false");
        else if (cJSON_IsNumber(it) && cJSON_PrintPreallocated((cJSON *)it, num, sizeof num, 0))
            put_field(r, num);
    }
}

int opt_eval_run(const opt_data *d, const sim_engine_config *cfg, const double *values,
                 const char *controls, const opt_range *range, char **header, char **row)
{
    sim_engine_config c = *cfg;
    memcpy(c.params, values, sizeof c.params);
    uint64_t from = range ? range->from : 0, to = range ? range->to : d->n;
    if (from == 0 && to == d->n) { /* the recorded verdicts are those of the whole data */
        c.quality_replay = tape_of;
        c.quality_replay_ud = (void *)d;
    }
    cJSON *rep = NULL;
    int rc = run_engine(d, &c, controls, from, to, range ? range->tap : NULL, &rep);
    buf h = {0}, r = {0};
    if (!rc) {
        flatten(rep, "", &h, &r);
        rc = h.oom || r.oom || !h.p ? PT_ENOMEM : PT_OK;
    }
    cJSON_Delete(rep);
    if (rc) {
        free(h.p), free(r.p);
        return rc;
    }
    *header = h.p, *row = r.p;
    return PT_OK;
}
