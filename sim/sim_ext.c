/* sim_ext: the external-strategy protocol, version 1 (docs/strategy-
 * protocol.md): hello/ready, one candle (or one batch, sim_ext_batch.c)
 * and one answer in lockstep, end. The child itself is sim_ext_proc.c; the
 * indicators it asks for are sim_ext_ind.c; the answers' orders are decoded
 * in sim_ext_msg.c; the messages out are built in sim_ext_out.c. */
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

/* ------------------------------------------------------------ failures */

/* Log a failure once, naming the strategy, the candle and the text (cut). */
int sim_ext_fail(sim_ext *x, const pt_candle *c, int rc, const char *text, const char *fmt, ...)
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
    sim_ext_put_hello(x, mode, values);
    int rc = sim_ext_proc_xchg(&x->proc, x->msg, x->mlen, 1, timeout_ms, &line, &len, why,
                               sizeof why);
    if (rc)
        return sim_ext_fail(x, NULL, rc, NULL, "no ready after hello: %s", why);
    if ((rc = sim_ext_ready_parse(x, line, len, why, sizeof why)))
        return sim_ext_fail(x, NULL, rc, line, "%s", why);
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
    /* a start is a fresh run (optimize runs many with one table; a live
     * restart re-warms): no indicator, timeframe or batch state carries over */
    sim_ext_ind_reset(x);
    sim_ext_tf_free(x);
    x->bn = x->bnext = x->n_known = x->bsize = 0;
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
int sim_ext_ask(sim_ext *x, const pt_candle *c, int batch_n, sim_ext_order *reqs, int *n, int *at)
{
    char why[160], *line;
    size_t len;
    if (x->mfull)
        return sim_ext_fail(x, c, PT_EFULL, NULL, "message over %d bytes", SIM_EXT_MSG_MAX);
    sim_ext_mb_put(x, "\n", 1);
    int rc = sim_ext_proc_xchg(&x->proc, x->msg, x->mlen, 1, x->opt.timeout_ms, &line, &len, why,
                               sizeof why);
    if (rc)
        return sim_ext_fail(x, c, rc, rc == PT_EFULL || rc == PT_EPARSE ? x->proc.buf : NULL, "%s", why);
    rc = sim_ext_answer_parse(x, line, len, c->symbol, batch_n, reqs, n, at, why, sizeof why);
    if (rc)
        return sim_ext_fail(x, batch_n > 1 && *at >= 0 && *at < batch_n ? &x->bcand[*at] : c, rc, line,
                    "%s", why);
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
        return sim_ext_fail(x, c, PT_EINVAL, NULL, "indicator input not finite");
    sim_ext_ind_dash(x, vals, sig);
    int used = 0, rc = sim_ext_batch_decide(x, c, v, vals, reqs, n, &used);
    if (used)
        return rc;
    sim_ext_mb_reset(x);
    x->pf = v->pf;
    sim_ext_put_candle(x, c, &v->pos, vals, NULL);
    int at = 0;
    return sim_ext_ask(x, c, 1, reqs, n, &at);
}

int sim_ext_higher(sim_ext *x, const sim_ext_hi *h, const sim_ext_view *v, sim_ext_order *reqs,
                   int *n)
{
    *n = 0;
    if (x->dead || !x->running)
        return PT_ESTATE;
    sim_ext_mb_reset(x);
    x->pf = v->pf;
    sim_ext_put_candle(x, &h->c, &v->pos, NULL, h);
    int at = 0;
    return sim_ext_ask(x, &h->c, 1, reqs, n, &at);
}
