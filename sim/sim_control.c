/* sim_control: operator controls (pause, resume, close one position,
 * flatten) from the dashboard. A control is queued with the boundary it was
 * decided at and applied when that candle time is complete, so it acts like
 * a strategy decision at that close: its market exits fill at each symbol's
 * next candle open (fill model, sim/README.md) and a replay that queues the
 * same controls at the same boundaries trades the same. */
#include "sim_engine_internal.h"

#include <stdio.h>
#include <string.h>

#define CTL_STR_(x) #x
#define CTL_STR(x) CTL_STR_(x) /* the cap, in the refusal text */

static const char *const ctl_names[SIM_CTL__COUNT] = {"pause", "resume", "close_position",
                                                      "flatten"};

const char *sim_control_name(sim_control_action a)
{
    return (unsigned)a < SIM_CTL__COUNT ? ctl_names[a] : "unknown";
}

int sim_control_parse(const char *name, sim_control_action *out)
{
    for (int i = 0; name && i < SIM_CTL__COUNT; i++)
        if (!strcmp(name, ctl_names[i])) {
            *out = (sim_control_action)i;
            return PT_OK;
        }
    return PT_EINVAL;
}

int sim_engine_paused(const sim_engine *e) { return e->paused; }
int sim_engine_controls_pending(const sim_engine *e) { return e->n_ctl; }

static sim_symbol *find_symbol(sim_engine *e, const char *name)
{
    for (int i = 0; name && i < e->n_syms; i++)
        if (!strcmp(e->syms[i].name, name))
            return &e->syms[i];
    return NULL;
}

static int set_why(const char **why, const char *text, int rc)
{
    if (why)
        *why = text;
    pt_warn("engine: control refused: %s", text);
    return rc;
}

static int enqueue(sim_engine *e, sim_control_action a, const char *symbol, int64_t boundary,
                   const char **why)
{
    if ((unsigned)a >= SIM_CTL__COUNT)
        return set_why(why, "unknown control", PT_EINVAL);
    if (e->finished)
        return set_why(why, "the session has ended", PT_ESTATE);
    if (a == SIM_CTL_CLOSE && (!symbol || !*symbol || strlen(symbol) >= PT_SYMBOL_MAX))
        return set_why(why, "close_position needs a \"symbol\"", PT_EINVAL);
    int same = e->ctl_last_n > 0 && boundary == e->ctl_last_b;
    if ((same && e->ctl_last_n >= SIM_CONTROLS_PER_CANDLE) || e->n_ctl >= SIM_CTL_QUEUE)
        return set_why(why, "too many controls for one candle (at most " CTL_STR(SIM_CONTROLS_PER_CANDLE) ")",
                       PT_EFULL);
    e->ctl_last_n = same ? e->ctl_last_n + 1 : 1;
    e->ctl_last_b = boundary;
    sim_ctl_pending *p = &e->ctl[e->n_ctl++];
    memset(p, 0, sizeof *p);
    p->action = a;
    if (a == SIM_CTL_CLOSE)
        snprintf(p->symbol, sizeof p->symbol, "%s", symbol);
    p->boundary = boundary;
    return PT_OK;
}

/* FIFO order needs nondecreasing boundaries: a live control never goes
 * before one already queued for replay. */
static int64_t last_boundary(const sim_engine *e)
{
    return e->n_ctl ? e->ctl[e->n_ctl - 1].boundary : INT64_MIN;
}

int sim_engine_control(sim_engine *e, sim_control_action a, const char *symbol,
                       int64_t *boundary_ts, const char **why)
{
    if (a == SIM_CTL_CLOSE && symbol && *symbol) {
        const sim_symbol *s = find_symbol(e, symbol);
        if (!s)
            return set_why(why, "unknown symbol", PT_ENOENT);
        if (s->qty == 0 && s->n_orders == 0)
            return set_why(why, "no open position or order on that symbol", PT_ENOENT);
    }
    int64_t b = e->event_ts > last_boundary(e) ? e->event_ts : last_boundary(e);
    int rc = enqueue(e, a, symbol, b, why);
    if (rc == PT_OK && boundary_ts)
        *boundary_ts = b;
    return rc;
}

int sim_engine_control_at(sim_engine *e, sim_control_action a, const char *symbol,
                          int64_t boundary_ts, const char **why)
{
    if ((e->event_ts != INT64_MIN && boundary_ts < e->event_ts) || boundary_ts < last_boundary(e))
        return set_why(why, "control boundary is in the past", PT_EINVAL);
    return enqueue(e, a, symbol, boundary_ts, why);
}

static void apply_one(sim_engine *e, const sim_ctl_pending *p)
{
    int64_t ts = p->boundary == INT64_MIN ? 0 : p->boundary;
    switch (p->action) {
    case SIM_CTL_PAUSE:
        e->paused = 1;
        for (int i = 0; i < e->n_syms; i++)
            sim_eng_cancel_orders(e, &e->syms[i], ts, 1, "paused");
        sim_eng_alert(e, ts, NULL, "control",
                      "entries paused by the operator (exits, stops and take-profits go on)");
        break;
    case SIM_CTL_RESUME:
        e->paused = 0;
        sim_eng_alert(e, ts, NULL, "control", "entries resumed by the operator");
        break;
    case SIM_CTL_CLOSE: {
        sim_symbol *s = find_symbol(e, p->symbol);
        if (!s) { /* replay of a symbol that never traded here: nothing to do */
            sim_eng_alert(e, ts, p->symbol, "control", "manual close: unknown symbol, ignored");
            break;
        }
        int open = s->qty != 0;
        sim_eng_market_exit(e, s, ts, "manual_close");
        sim_eng_alert(e, ts, s->name, "control", "manual close: %s",
                      open ? "market exit at the next candle open"
                           : "no position (open orders cancelled)");
        break;
    }
    case SIM_CTL_FLATTEN: {
        int n = 0;
        for (int i = 0; i < e->n_syms; i++) {
            n += e->syms[i].qty != 0;
            sim_eng_market_exit(e, &e->syms[i], ts, "flatten");
        }
        sim_eng_alert(e, ts, NULL, "control",
                      "flatten: %d position(s) exit at their next candle open, orders cancelled", n);
        break;
    }
    default:
        break;
    }
}

void sim_ctl_apply_due(sim_engine *e, int64_t before)
{
    int n = 0;
    while (n < e->n_ctl && e->ctl[n].boundary < before)
        n++;
    if (!n)
        return;
    /* copy first: an alert hook may look at the engine state */
    sim_ctl_pending due[SIM_CTL_QUEUE];
    memcpy(due, e->ctl, (size_t)n * sizeof due[0]);
    memmove(e->ctl, e->ctl + n, (size_t)(e->n_ctl - n) * sizeof e->ctl[0]);
    e->n_ctl -= n;
    for (int i = 0; i < n; i++)
        apply_one(e, &due[i]);
}
