/* Performance metrics (formulas and conventions documented in portfolio.h).
 * Online accumulators only: memory is bounded whatever the run length. */
#include "portfolio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_MS (365.0 * 86400000.0)

typedef struct bh_sym {
    char symbol[PT_SYMBOL_MAX];
    double first, last;
} bh_sym;

struct pf_metrics {
    int64_t bar_ms;
    double start_equity, prev_equity;
    int64_t first_ts, last_ts;
    uint64_t bars, in_market;
    /* returns: Welford mean/M2 plus downside sum of squares */
    double r_mean, r_m2, r_down2;
    uint64_t r_n;
    /* drawdown episodes */
    double peak, max_dd;
    uint64_t peak_idx, max_dd_bars;
    int64_t peak_ts, max_dd_peak_ts;
    int ep_holds_max; /* the open episode holds the max drawdown */
    /* trades */
    uint64_t trades, wins, losses, fills;
    double gross_win, gross_loss, pnl_sum, fees;
    int n_sym;
    bh_sym sym[PF_MAX_SYMBOLS];
};

int pf_metrics_new(int64_t bar_ms, double start_equity, pf_metrics **out)
{
    *out = NULL;
    if (bar_ms <= 0 || !isfinite(start_equity) || start_equity <= 0) {
        pt_err_log("portfolio: metrics need bar_ms > 0 and start equity > 0");
        return PT_EINVAL;
    }
    pf_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return PT_ENOMEM;
    m->bar_ms = bar_ms;
    m->start_equity = m->prev_equity = m->peak = start_equity;
    *out = m;
    return PT_OK;
}

void pf_metrics_free(pf_metrics *m)
{
    free(m);
}

void pf_metrics_bar(pf_metrics *m, int64_t ts_ms, double equity, int in_market)
{
    if (m->bars == 0) {
        m->first_ts = ts_ms;
        m->peak_ts = ts_ms;
    }
    uint64_t idx = m->bars++;
    m->last_ts = ts_ms;
    m->in_market += in_market != 0;
    if (m->prev_equity > 0) {
        double r = equity / m->prev_equity - 1;
        m->r_n++;
        double d = r - m->r_mean;
        m->r_mean += d / (double)m->r_n;
        m->r_m2 += d * (r - m->r_mean);
        if (r < 0)
            m->r_down2 += r * r;
    }
    m->prev_equity = equity;
    if (equity >= m->peak) { /* recovery (or new high) ends the episode */
        if (m->ep_holds_max)
            m->max_dd_bars = idx - m->peak_idx;
        m->ep_holds_max = 0;
        m->peak = equity;
        m->peak_idx = idx;
        m->peak_ts = ts_ms;
        return;
    }
    double dd = (m->peak - equity) / m->peak;
    if (dd > m->max_dd) {
        m->max_dd = dd;
        m->max_dd_peak_ts = m->peak_ts;
        m->ep_holds_max = 1;
    }
    if (m->ep_holds_max) /* unrecovered so far: runs to this bar */
        m->max_dd_bars = idx - m->peak_idx;
}

void pf_metrics_snapshot(pf_metrics *m, const pf_snapshot *s)
{
    pf_metrics_bar(m, s->ts_ms, s->equity, s->open_positions > 0);
}

void pf_metrics_trade(pf_metrics *m, double pnl)
{
    m->trades++;
    m->pnl_sum += pnl;
    if (pnl > 0) {
        m->wins++;
        m->gross_win += pnl;
    } else if (pnl < 0) {
        m->losses++;
        m->gross_loss += pnl;
    }
}

void pf_metrics_fill(pf_metrics *m, double fee, const pf_fill_result *r)
{
    m->fills++;
    m->fees += fee;
    if (r && r->round_trip_closed)
        pf_metrics_trade(m, r->round_trip_pnl);
}

int pf_metrics_price(pf_metrics *m, const char *symbol, double close)
{
    if (!symbol || !isfinite(close) || close <= 0)
        return PT_EINVAL;
    for (int i = 0; i < m->n_sym; i++)
        if (strcmp(m->sym[i].symbol, symbol) == 0) {
            m->sym[i].last = close;
            return PT_OK;
        }
    if (m->n_sym >= PF_MAX_SYMBOLS || strlen(symbol) >= PT_SYMBOL_MAX)
        return PT_EFULL;
    bh_sym *s = &m->sym[m->n_sym++];
    memcpy(s->symbol, symbol, strlen(symbol) + 1);
    s->first = s->last = close;
    return PT_OK;
}

static double ratio(double a, double b)
{
    return b != 0 && isfinite(a) && isfinite(b) ? a / b : NAN;
}

void pf_metrics_compute(const pf_metrics *m, pf_metrics_result *o)
{
    memset(o, 0, sizeof *o);
    o->start_ms = m->first_ts;
    o->end_ms = m->last_ts;
    o->bar_ms = m->bar_ms;
    o->candles = m->bars;
    o->start_equity = m->start_equity;
    o->end_equity = m->bars ? m->prev_equity : m->start_equity;
    o->total_return = m->bars ? o->end_equity / o->start_equity - 1 : NAN;
    double years = (double)m->bars * (double)m->bar_ms / YEAR_MS;
    o->cagr = m->bars && o->end_equity > 0 ? pow(o->end_equity / o->start_equity, 1 / years) - 1
                                           : NAN;
    double ppy = YEAR_MS / (double)m->bar_ms;
    double sd = m->r_n > 1 ? sqrt(m->r_m2 / (double)(m->r_n - 1)) : NAN;
    o->sharpe = ratio(m->r_mean, sd) * sqrt(ppy);
    double dd = m->r_n ? sqrt(m->r_down2 / (double)m->r_n) : NAN;
    o->sortino = ratio(m->r_mean, dd) * sqrt(ppy);
    o->max_drawdown = m->max_dd;
    o->max_drawdown_bars = m->max_dd_bars;
    o->max_drawdown_peak_ms = m->max_dd_peak_ts;
    o->calmar = ratio(o->cagr, m->max_dd);
    o->trades = m->trades;
    o->wins = m->wins;
    o->losses = m->losses;
    o->fills = m->fills;
    o->win_rate = ratio((double)m->wins, (double)m->trades);
    o->profit_factor = ratio(m->gross_win, -m->gross_loss);
    o->expectancy = ratio(m->pnl_sum, (double)m->trades);
    o->avg_win = ratio(m->gross_win, (double)m->wins);
    o->avg_loss = ratio(m->gross_loss, (double)m->losses);
    o->exposure = ratio((double)m->in_market, (double)m->bars);
    o->fees = m->fees;
    double bh = 0;
    for (int i = 0; i < m->n_sym; i++)
        bh += m->sym[i].last / m->sym[i].first - 1;
    o->buy_and_hold = ratio(bh, m->n_sym);
    o->bh_symbols = m->n_sym;
}

/* One table drives JSON and text output, so they never disagree. */
enum kind { K_TIME, K_U64, K_NUM, K_PCT };
typedef struct field {
    const char *key, *label;
    enum kind kind;
    size_t off;
} field;
#define F(k, label, kind) {#k, label, kind, offsetof(pf_metrics_result, k)}
static const field fields[] = {
    F(start_ms, "start", K_TIME),
    F(end_ms, "end", K_TIME),
    F(bar_ms, "bar interval (ms)", K_U64),
    F(candles, "candles", K_U64),
    F(start_equity, "start equity", K_NUM),
    F(end_equity, "end equity", K_NUM),
    F(total_return, "total return", K_PCT),
    F(cagr, "CAGR", K_PCT),
    F(sharpe, "Sharpe", K_NUM),
    F(sortino, "Sortino", K_NUM),
    F(calmar, "Calmar", K_NUM),
    F(max_drawdown, "max drawdown", K_PCT),
    F(max_drawdown_bars, "max drawdown duration (bars)", K_U64),
    F(max_drawdown_peak_ms, "max drawdown peak", K_TIME),
    F(trades, "trades (round trips)", K_U64),
    F(wins, "wins", K_U64),
    F(losses, "losses", K_U64),
    F(fills, "fills", K_U64),
    F(win_rate, "win rate", K_PCT),
    F(profit_factor, "profit factor", K_NUM),
    F(expectancy, "expectancy", K_NUM),
    F(avg_win, "average win", K_NUM),
    F(avg_loss, "average loss", K_NUM),
    F(exposure, "exposure", K_PCT),
    F(fees, "fees paid", K_NUM),
    F(buy_and_hold, "buy and hold return", K_PCT),
};
#undef F

static int64_t get_i64(const pf_metrics_result *r, const field *f)
{
    const char *p = (const char *)r + f->off;
    if (f->kind == K_TIME || strcmp(f->key, "bar_ms") == 0) {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint64_t u;
    memcpy(&u, p, sizeof u);
    return (int64_t)u;
}

static double get_num(const pf_metrics_result *r, const field *f)
{
    double v;
    memcpy(&v, (const char *)r + f->off, sizeof v);
    return v;
}

cJSON *pf_metrics_to_json(const pf_metrics_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const field *f = &fields[i];
        cJSON *item;
        if (f->kind == K_TIME) {
            char iso[32];
            pt_format_iso_ms(get_i64(r, f), iso, sizeof iso);
            item = cJSON_CreateString(iso);
        } else if (f->kind == K_U64) {
            item = cJSON_CreateNumber((double)get_i64(r, f));
        } else {
            double v = get_num(r, f);
            item = isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
        }
        if (!item || !cJSON_AddItemToObject(o, f->key, item)) {
            cJSON_Delete(item);
            cJSON_Delete(o);
            return NULL;
        }
    }
    if (!cJSON_AddNumberToObject(o, "bh_symbols", r->bh_symbols)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void pf_metrics_print_table(const pf_metrics_result *r, FILE *fp)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const field *f = &fields[i];
        char val[48];
        if (f->kind == K_TIME)
            pt_format_iso_ms(get_i64(r, f), val, sizeof val);
        else if (f->kind == K_U64)
            snprintf(val, sizeof val, "%lld", (long long)get_i64(r, f));
        else if (!isfinite(get_num(r, f)))
            snprintf(val, sizeof val, "n/a");
        else if (f->kind == K_PCT)
            snprintf(val, sizeof val, "%.2f %%", get_num(r, f) * 100);
        else
            snprintf(val, sizeof val, "%.4f", get_num(r, f));
        fprintf(fp, "  %-30s %24s\n", f->label, val);
    }
}
