/* sim_ext: the external-strategy protocol, version 1 (docs/strategy-
 * protocol.md): hello/ready, one candle (or one batch) and one answer in
 * lockstep, end. The child itself is sim_ext_proc.c; the indicators it
 * asks for are sim_ext_ind.c; the answers' orders are decoded in
 * sim_ext_msg.c. */
#include "sim_ext_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ strategy table */

/* State lives in the child; the engine calls sim_ext_decide, never these. */
static int ext_create(const double *v, void **state, char *err, size_t cap)
{
    (void)v, (void)err, (void)cap;
    *state = NULL;
    return PT_OK;
}

static int ext_on_candle(void *st, const pt_candle *c, const sim_position_view *p, sim_signal *o)
{
    (void)st, (void)c, (void)p, (void)o;
    return PT_EUNSUPPORTED;
}

static void ext_free_state(void *st) { (void)st; }

sim_ext *sim_ext_of(const sim_strategy_ops *ops)
{
    /* ops is the first member of struct sim_ext */
    return ops && ops->abi == SIM_EXT_TAG ? (sim_ext *)(void *)ops : NULL;
}

const sim_strategy_ops *sim_ext_table(const sim_ext *x) { return &x->ops; }

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n > t && !strcmp(s + n - t, tail);
}

int sim_ext_is_external(const char *p)
{
    struct stat st;
    if (!p || ends_with(p, ".so"))
        return 0;
    if (ends_with(p, ".py") || ends_with(p, ".mjs") || ends_with(p, ".js"))
        return 1;
    return strchr(p, '/') && !stat(p, &st) && S_ISREG(st.st_mode) && !access(p, X_OK);
}

/* ------------------------------------------------------------ messages out */

void sim_ext_num(char *buf, size_t cap, double v)
{
    if (isfinite(v))
        pt_format_double(v, buf, cap);
    else
        snprintf(buf, cap, "null");
}

static void mb_reset(sim_ext *x) { x->mlen = 0, x->mfull = 0; }

static void mb_put(sim_ext *x, const char *s, size_t n)
{
    if (x->mfull || x->mlen + n + 1 > SIM_EXT_MSG_MAX) {
        x->mfull = 1;
        return;
    }
    if (x->mlen + n + 1 > x->mcap) {
        size_t cap = x->mcap ? x->mcap * 2 : 4096;
        while (cap < x->mlen + n + 1)
            cap *= 2;
        char *m = realloc(x->msg, cap);
        if (!m) {
            x->mfull = 1;
            return;
        }
        x->msg = m, x->mcap = cap;
    }
    memcpy(x->msg + x->mlen, s, n);
    x->mlen += n;
    x->msg[x->mlen] = '\0';
}

static void mb_printf(sim_ext *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mb_printf(sim_ext *x, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    mb_put(x, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: names and symbols are printable ASCII; escape the two
 * characters JSON needs. */
static void mb_str(sim_ext *x, const char *s)
{
    mb_put(x, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            mb_put(x, "\\", 1);
        mb_put(x, s, 1);
    }
    mb_put(x, "\"", 1);
}

static void mb_num(sim_ext *x, const char *key, double v)
{
    char b[40];
    sim_ext_num(b, sizeof b, v);
    mb_printf(x, "%s\"%s\":%s", key[0] == ',' ? "," : "", key + (key[0] == ','), b);
}

static void put_pos(sim_ext *x, const sim_position_view *pos)
{
    mb_num(x, "qty", pos->qty);
    mb_num(x, ",avg_price", pos->avg_price);
    mb_printf(x, ",\"open_orders\":%d}", pos->open_orders);
}

/* ,"portfolio":{"cash":..,"equity":..,"positions":{"SYM":{position},...}} */
static void put_portfolio(sim_ext *x, const sim_ext_pf *pf)
{
    mb_put(x, ",\"portfolio\":{", 14);
    mb_num(x, "cash", pf->cash);
    mb_num(x, ",equity", pf->equity);
    mb_put(x, ",\"positions\":{", 14);
    for (int i = 0; i < pf->n; i++) {
        mb_printf(x, "%s", i ? "," : "");
        mb_str(x, pf->pos[i].symbol);
        mb_put(x, ":{", 2);
        put_pos(x, &pf->pos[i].pos);
    }
    mb_put(x, "}}", 2);
}

static void put_indicators(sim_ext *x, const double *vals);

/* A candle message; hi: a higher-timeframe candle (its interval and base
 * candle count, no indicators), else a base candle with vals. */
static void put_candle(sim_ext *x, const pt_candle *c, const sim_position_view *pos,
                       const double *vals, const sim_ext_hi *hi)
{
    mb_put(x, "{\"type\":\"candle\",\"symbol\":", 26);
    mb_str(x, c->symbol);
    mb_printf(x, ",\"interval\":\"%s\",\"ts\":%lld", hi ? x->tf_name[hi->tf] : x->interval,
              (long long)c->ts_ms);
    if (hi)
        mb_printf(x, ",\"count\":%d", hi->count);
    mb_num(x, ",open", c->open);
    mb_num(x, ",high", c->high);
    mb_num(x, ",low", c->low);
    mb_num(x, ",close", c->close);
    mb_num(x, ",volume", c->volume);
    mb_put(x, ",\"position\":{", 13);
    put_pos(x, pos);
    mb_put(x, ",\"indicators\":{", 15);
    if (vals)
        put_indicators(x, vals);
    mb_put(x, "}", 1);
    if (x->portfolio && x->pf)
        put_portfolio(x, x->pf);
    mb_put(x, "}", 1);
}

/* "name":value or "name":{"out":value,...} for each indicator asked for */
static void put_indicators(sim_ext *x, const double *vals)
{
    for (int i = 0; i < x->n_ind; i++) {
        const sim_ext_ind_spec *sp = &x->ind[i];
        int n = sim_ext_ind_outputs(sp->kind);
        mb_printf(x, "%s", i ? "," : "");
        mb_str(x, sp->name);
        mb_put(x, n > 1 ? ":{" : ":", n > 1 ? 2 : 1);
        for (int k = 0; k < n; k++) {
            char b[40];
            sim_ext_num(b, sizeof b, vals[i * 3 + k]);
            if (n > 1)
                mb_printf(x, "%s\"%s\":", k ? "," : "", sim_ext_ind_output_name(sp->kind, k));
            mb_printf(x, "%s", b);
        }
        if (n > 1)
            mb_put(x, "}", 1);
    }
}

static void put_hello(sim_ext *x, const char *mode, const double *values)
{
    mb_reset(x);
    mb_printf(x, "{\"type\":\"hello\",\"protocol\":%d,\"mode\":\"%s\",\"params\":{",
              SIM_EXT_PROTOCOL, mode);
    for (int i = 0; values && i < x->ops.n_params; i++) {
        char b[40];
        sim_ext_num(b, sizeof b, values[i]);
        mb_printf(x, "%s", i ? "," : "");
        mb_str(x, x->params[i].name);
        mb_printf(x, ":%s", b);
    }
    mb_put(x, "},\"symbols\":[", 13);
    for (int i = 0; i < x->opt.n_symbols; i++) {
        mb_printf(x, "%s", i ? "," : "");
        mb_str(x, x->opt.symbols[i]);
    }
    mb_printf(x, "],\"interval\":\"%s\",\"allow_short\":%s}\n", x->interval,
              x->opt.allow_short ? "true" : "false");
}

/* ------------------------------------------------------------ failures */

/* Log a failure once, naming the strategy, the candle and the text (cut). */
static int fail(sim_ext *x, const pt_candle *c, int rc, const char *text, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(sim_ext *x, const pt_candle *c, int rc, const char *text, const char *fmt, ...)
{
    char why[256], when[32] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c)
        pt_format_iso_ms(c->ts_ms, when, sizeof when);
    size_t tl = text ? strcspn(text, "\n") : 0; /* one log line */
    pt_err_log("strategy %s%s%s%s%s: %s%s%.*s%s%s", x->ops.name, c ? ": on candle " : "",
               c ? c->symbol : "", c ? " " : "", when, why, text ? ": '" : "",
               (int)(tl > SIM_EXT_CUT ? SIM_EXT_CUT : tl), text ? text : "",
               tl > SIM_EXT_CUT ? "...[cut]" : "", text ? "'" : "");
    x->dead = 1;
    sim_ext_proc_kill(&x->proc);
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

static int spawn(sim_ext *x, int pin_cpu)
{
    const char *argv[3] = {x->path, NULL, NULL};
    if (ends_with(x->path, ".py"))
        argv[0] = "python3", argv[1] = x->path;
    else if (ends_with(x->path, ".mjs") || ends_with(x->path, ".js"))
        argv[0] = "node", argv[1] = x->path;
    return sim_ext_proc_start(&x->proc, argv, x->ops.name, pin_cpu);
}

/* Send hello, read and check ready. */
static int handshake(sim_ext *x, const char *mode, const double *values, int timeout_ms)
{
    char why[160], *line;
    size_t len;
    put_hello(x, mode, values);
    int rc = sim_ext_proc_xchg(&x->proc, x->msg, x->mlen, 1, timeout_ms, &line, &len, why,
                               sizeof why);
    if (rc)
        return fail(x, NULL, rc, NULL, "no ready after hello: %s", why);
    if ((rc = sim_ext_ready_parse(x, line, len, why, sizeof why)))
        return fail(x, NULL, rc, line, "%s", why);
    return PT_OK;
}

int sim_ext_load(const char *path, sim_ext **out)
{
    *out = NULL;
    sim_ext *x = calloc(1, sizeof *x);
    if (!x)
        return PT_ENOMEM;
    snprintf(x->path, sizeof x->path, "%s", path);
    const char *base = strrchr(path, '/');
    snprintf(x->name, sizeof x->name, "%s", base ? base + 1 : path);
    x->ops = (sim_strategy_ops){.abi = SIM_EXT_TAG, .name = x->name, .description = x->desc,
                                .params = x->params, .indicator_names = x->dash_names,
                                .create = ext_create, .on_candle = ext_on_candle,
                                .free = ext_free_state};
    snprintf(x->interval, sizeof x->interval, "1m");
    int rc = access(path, R_OK) ? PT_ENOENT : spawn(x, -1);
    if (rc == PT_ENOENT)
        pt_err_log("strategy %s: cannot read it", path);
    if (!rc)
        rc = handshake(x, "describe", NULL, SIM_EXT_DESCRIBE_MS);
    if (!rc)
        sim_ext_stop(x);
    x->described = 1;
    if (rc) {
        sim_ext_free(x);
        return rc;
    }
    *out = x;
    return PT_OK;
}

static void pin_parent(sim_ext *x, int *cpu)
{
    const char *env = getenv("PT_STRATEGY_PIN");
    *cpu = -1;
    if (x->opt.live || (env && !strcmp(env, "0")))
        return;
    /* one core for both while they lockstep: a same-core pipe wake-up costs
     * a sixth of a cross-core one (docs/strategy-protocol.md "Speed") */
    int c = sched_getcpu();
    if (c < 0 || sched_getaffinity(0, sizeof x->old_mask, &x->old_mask))
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    if (!sched_setaffinity(0, sizeof one, &one))
        x->pinned = 1, *cpu = c;
}

int sim_ext_start(sim_ext *x, const sim_ext_options *opt, const double *values)
{
    int cpu;
    x->opt = *opt;
    pt_interval_format(opt->interval_ms > 0 ? opt->interval_ms : 60000, x->interval,
                       sizeof x->interval);
    const char *env = getenv("PT_STRATEGY_BATCH");
    x->batch_off = env && !strcmp(env, "0");
    x->dead = 0;
    pin_parent(x, &cpu);
    int rc = spawn(x, cpu);
    if (!rc)
        /* starting an interpreter takes longer than answering a candle */
        rc = handshake(x, opt->live ? "live" : "backtest", values,
                       opt->timeout_ms <= 0 ? 0
                       : opt->timeout_ms < SIM_EXT_DESCRIBE_MS ? SIM_EXT_DESCRIBE_MS
                                                               : opt->timeout_ms);
    if (!rc)
        rc = sim_ext_ind_resolve(x, values);
    if (rc) {
        sim_ext_stop(x);
        return rc;
    }
    x->running = 1;
    return PT_OK;
}

void sim_ext_stop(sim_ext *x)
{
    if (!x || !x->proc.pid)
        return;
    if (!x->dead) { /* after ready (describe) or a run: say end */
        char why[160], *line;
        size_t len;
        sim_ext_proc_xchg(&x->proc, "{\"type\":\"end\"}\n", 15, 0, SIM_EXT_END_MS, &line, &len,
                          why, sizeof why);
    }
    int code = sim_ext_proc_stop(&x->proc);
    if (code && !x->dead)
        pt_warn("strategy %s: exit status %d after end (expected 0)", x->ops.name, code);
    x->running = 0;
    if (x->pinned)
        sched_setaffinity(0, sizeof x->old_mask, &x->old_mask);
    x->pinned = 0;
}

void sim_ext_free(sim_ext *x)
{
    if (!x)
        return;
    sim_ext_stop(x);
    sim_ext_ind_reset(x);
    sim_ext_tf_free(x);
    free(x->msg);
    free(x);
}

void sim_ext_set_peek(sim_ext *x, const sim_ext_peek *pk) { x->peek = *pk; }

/* ------------------------------------------------------------ deciding */

/* One exchange: the message in x->msg, one answer line decoded. at: the
 * batch index the answer names (0 for a single candle). */
static int ask(sim_ext *x, const pt_candle *c, int batch_n, sim_ext_order *reqs, int *n, int *at)
{
    char why[160], *line;
    size_t len;
    if (x->mfull)
        return fail(x, c, PT_EFULL, NULL, "message over %d bytes", SIM_EXT_MSG_MAX);
    mb_put(x, "\n", 1);
    int rc = sim_ext_proc_xchg(&x->proc, x->msg, x->mlen, 1, x->opt.timeout_ms, &line, &len, why,
                               sizeof why);
    if (rc)
        return fail(x, c, rc, rc == PT_EFULL || rc == PT_EPARSE ? x->proc.buf : NULL, "%s", why);
    rc = sim_ext_answer_parse(x, line, len, c->symbol, batch_n, reqs, n, at, why, sizeof why);
    if (rc)
        return fail(x, batch_n > 1 && *at >= 0 && *at < batch_n ? &x->bcand[*at] : c, rc, line,
                    "%s", why);
    return PT_OK;
}

static int same_view(const sim_position_view *a, const sim_position_view *b)
{
    return a->qty == b->qty && a->avg_price == b->avg_price && a->open_orders == b->open_orders;
}

/* Build and send a batch from this candle on; remember the answer. */
static int ask_batch(sim_ext *x, const pt_candle *c, const sim_ext_view *v, const double *vals0)
{
    int n = 0, at = -1, nq = 0;
    mb_reset(x);
    mb_put(x, "{\"type\":\"batch\",\"candles\":[", 27);
    x->bcand[n] = *c, x->bview[n] = v->pos;
    put_candle(x, c, &v->pos, vals0, NULL);
    /* candles the strategy will not look at cost formatting and parsing:
     * size the batch by how far the last one got (twice that, 8..256) */
    int want = x->bsize ? x->bsize : 8;
    for (n = 1; n < want && x->mlen < SIM_EXT_MSG_MAX / 2;) {
        int acc;
        const pt_candle *d = x->peek.at(x->peek.ud, nq++, &acc);
        if (!d)
            break;
        if (!acc)
            continue; /* rejected by the quality check: the strategy never sees it */
        double *vals = sim_ext_ind_ahead(x, d, n);
        if (!vals) /* a non-finite input: that candle is asked alone, in lockstep */
            break;
        x->bcand[n] = *d;
        x->peek.view(x->peek.ud, d->symbol, &x->bview[n]);
        mb_put(x, ",", 1);
        put_candle(x, d, &x->bview[n], vals, NULL);
        n++;
    }
    mb_put(x, "]}", 2);
    int rc = ask(x, c, n, x->known, &x->n_known_orders, &at);
    if (rc)
        return rc;
    x->n_known = at >= 0 ? at + 1 : n; /* answers known for candles [0, n_known) */
    x->bsize = 2 * x->n_known < 8 ? 8 : 2 * x->n_known > SIM_EXT_BATCH_MAX ? SIM_EXT_BATCH_MAX
                                                                          : 2 * x->n_known;
    x->known_at = at;
    x->bnext = 0;
    return PT_OK;
}

/* The answer to the next candle of the last batch. */
static int known_answer(sim_ext *x, const pt_candle *c, const sim_ext_view *v,
                        sim_ext_order *reqs, int *n)
{
    int i = x->bnext++;
    /* the cut rule promises the view the batch assumed; check it */
    if (strcmp(x->bcand[i].symbol, c->symbol) || x->bcand[i].ts_ms != c->ts_ms ||
        !same_view(&x->bview[i], &v->pos))
        return fail(x, c, PT_ESTATE, NULL, "internal: batch candle %d does not match", i);
    if (i == x->known_at) {
        memcpy(reqs, x->known, sizeof *reqs * (size_t)x->n_known_orders);
        *n = x->n_known_orders;
    }
    return PT_OK;
}

int sim_ext_decide(sim_ext *x, const pt_candle *c, const sim_ext_view *v, sim_ext_order *reqs,
                   int *n, sim_signal *sig)
{
    *n = 0;
    if (x->dead || !x->running)
        return PT_ESTATE; /* logged when it happened */
    double *vals = sim_ext_ind_current(x, c);
    if (!vals)
        return fail(x, c, PT_EINVAL, NULL, "indicator input not finite");
    sim_ext_ind_dash(x, vals, sig);
    if (x->bnext < x->n_known)
        return known_answer(x, c, v, reqs, n);
    x->n_known = x->bnext = 0;
    if (x->batch && !x->batch_off && v->quiet && x->peek.at) {
        int rc = ask_batch(x, c, v, vals);
        return rc ? rc : known_answer(x, c, v, reqs, n);
    }
    mb_reset(x);
    x->pf = v->pf;
    put_candle(x, c, &v->pos, vals, NULL);
    int at = 0;
    return ask(x, c, 1, reqs, n, &at);
}

int sim_ext_higher(sim_ext *x, const sim_ext_hi *h, const sim_ext_view *v, sim_ext_order *reqs,
                   int *n)
{
    *n = 0;
    if (x->dead || !x->running)
        return PT_ESTATE;
    mb_reset(x);
    x->pf = v->pf;
    put_candle(x, &h->c, &v->pos, NULL, h);
    int at = 0;
    return ask(x, &h->c, 1, reqs, n, &at);
}
