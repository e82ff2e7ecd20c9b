/* quality: per-symbol candle checker. Rules, parameters and the score
 * formula are documented in quality/README.md; the numbers below are the
 * ones it cites. One checker serves one symbol's stream of closed candles. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality.h"
#include "quality_internal.h"

/* ---------------------------------------------------------------- tunables */
#define QUALITY_LEARN_N 16          /* accepted timestamps used to learn the interval */
#define QUALITY_DAY_MS 86400000LL
#define QUALITY_WINDOW_MAX 1000000  /* score window bound (2 bytes per slot) */
#define QUALITY_WORST_MIN 50        /* worst score is tracked from min(window, 50) candles */
#define QUALITY_MIN_HISTORY 10      /* traded bars before the outlier rules judge */
/* Floors of the robust scale (1.4826 * MAD) so that a quiet market is not an
 * outlier: 0.1% for log returns and log(high/low) ranges (with k = 8 the
 * smallest flagged move is then ~0.8%), 0.25 for log volume (e^(12*0.25)
 * = 20x the median at the default volume_k). */
#define QUALITY_RET_FLOOR 0.001
#define QUALITY_RANGE_FLOOR 0.001
#define QUALITY_VOL_FLOOR 0.25
#define QUALITY_SPIKE_REVERT 0.5    /* the revert undoes at least half of the spike */
#define QUALITY_LOG_PER_ISSUE 10    /* warnings per issue type before going quiet */
/* Timestamps beyond +-2^53 ms (285,000 years) are absurd: later ones are
 * "future", earlier ones "out_of_order", whatever now_ms says. The bound
 * keeps every difference below from overflowing. */
#define QUALITY_TS_ABS_MAX (1LL << 53)
#define QUALITY_CFG_MS_MAX (366LL * QUALITY_DAY_MS)

/* Penalties in thousandths of a candle (integers: the window sum never
 * drifts). See README "Score". */
#define PEN_REJECT 1000
#define PEN_DUPLICATE 500
#define PEN_GAP_PER_BAR 250
#define PEN_GAP_CAP_BARS 4
#define PEN_OUTLIER 500
#define PEN_OUTLIER_VOLUME 250
#define PEN_SPIKE 500
#define PEN_STALE 500
#define PEN_MAX 3000

#define QBIT(i) (1u << (i))
#define QUALITY_REJECT_MASK                                                                    \
    (QBIT(QI_NONFINITE) | QBIT(QI_BAD_PRICE) | QBIT(QI_NEGATIVE_VOLUME) |                      \
     QBIT(QI_OHLC_INCONSISTENT) | QBIT(QI_DUPLICATE) | QBIT(QI_CONFLICT) | QBIT(QI_OUT_OF_ORDER) | \
     QBIT(QI_MISALIGNED) | QBIT(QI_FUTURE) | QBIT(QI_ROW_REJECTED))

struct quality_checker {
    quality_config cfg;
    quality_counts counts;

    int64_t interval;   /* 0 while learning */
    int64_t phase;      /* grid offset: aligned iff (ts - phase) % interval == 0 */
    int phase_anchored; /* grid taken from the first accepted candle */
    int phase_set;

    int have_last;
    pt_candle last; /* last accepted candle (values only) */

    int learning;
    int learn_n;
    int64_t learn_ts[QUALITY_LEARN_N];
    uint64_t learn_seq[QUALITY_LEARN_N]; /* score-window sequence of each */

    uint16_t *pen; /* window ring of penalties, thousandths */
    int win_cap, win_n;
    uint64_t seq; /* slots written so far */
    int64_t pen_sum;
    int worst_armed;
    int64_t score_pen_sum; /* the (pen_sum, win_n) counts.score was computed from */
    int score_win_n;       /* -1: none yet */

    quality_rwin ret, range, vol;
    double prev_ret;
    int prev_ret_sign; /* sign of the previous bar's outlier return, 0 if none */
    int stale_run;
    uint64_t traded; /* accepted bars with volume > 0: the outlier rules judge from QUALITY_MIN_HISTORY */

    const quality_tape *tape; /* replay checker (quality.h "replay"); NULL: live */
    size_t tape_pos;
};

struct quality_tape {
    quality_result *r;
    size_t n, cap;
    quality_config cfg;
    quality_counts final;
};

static const char *const issue_names[QI__COUNT] = {
#define QI_NAME_(name, text) [name] = text,
    QUALITY_ISSUE_MAP(QI_NAME_)
#undef QI_NAME_
};

const char *quality_issue_name(quality_issue i)
{
    if ((int)i < 0 || i >= QI__COUNT)
        return "unknown";
    return issue_names[i];
}

const char *quality_verdict_name(quality_verdict v)
{
    switch (v) {
    case QUALITY_ACCEPT: return "accept";
    case QUALITY_ACCEPT_FLAGGED: return "accept_flagged";
    case QUALITY_REJECT: return "reject";
    }
    return "unknown";
}

void quality_config_default(quality_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->interval_ms = 0;
    cfg->window = 500;
    cfg->min_score = 60.0;
    cfg->outlier_window = 60;
    cfg->outlier_k = 8.0;
    cfg->volume_k = 12.0;
    cfg->stale_run = 30;
    cfg->future_tolerance_ms = 5000;
}

static int config_check(const quality_config *c)
{
    const char *bad = NULL;
    if (c->interval_ms < 0 || c->interval_ms > QUALITY_CFG_MS_MAX)
        bad = "interval_ms must be in [0, 366 days]";
    else if (c->window < 1 || c->window > QUALITY_WINDOW_MAX)
        bad = "window must be in [1, 1000000]";
    else if (!(c->min_score >= 0.0 && c->min_score <= 100.0))
        bad = "min_score must be in [0, 100]";
    else if (c->outlier_window < 5 || c->outlier_window > QUALITY_OUTLIER_WINDOW_MAX)
        bad = "outlier_window must be in [5, 1000]";
    else if (!(c->outlier_k > 0.0 && isfinite(c->outlier_k)))
        bad = "outlier_k must be > 0";
    else if (!(c->volume_k > 0.0 && isfinite(c->volume_k)))
        bad = "volume_k must be > 0";
    else if (c->stale_run < 2)
        bad = "stale_run must be >= 2";
    else if (c->future_tolerance_ms < 0 || c->future_tolerance_ms > QUALITY_CFG_MS_MAX)
        bad = "future_tolerance_ms must be in [0, 366 days]";
    if (bad) {
        pt_err_log("quality: bad config: %s", bad);
        return PT_EINVAL;
    }
    return PT_OK;
}

quality_checker *quality_new(const quality_config *cfg)
{
    quality_config def;
    if (!cfg) {
        quality_config_default(&def);
        cfg = &def;
    }
    if (config_check(cfg) != PT_OK)
        return NULL;
    quality_checker *qc = calloc(1, sizeof *qc);
    if (!qc)
        goto fail;
    qc->cfg = *cfg;
    qc->win_cap = cfg->window;
    qc->pen = calloc((size_t)qc->win_cap, sizeof *qc->pen);
    if (!qc->pen || quality_rwin_init(&qc->ret, cfg->outlier_window) != PT_OK ||
        quality_rwin_init(&qc->range, cfg->outlier_window) != PT_OK ||
        quality_rwin_init(&qc->vol, cfg->outlier_window) != PT_OK)
        goto fail;
    qc->interval = cfg->interval_ms;
    qc->learning = cfg->interval_ms == 0;
    /* Sub-day configured intervals sit on the epoch grid (exchanges open 1m,
     * 1h bars at ts % interval == 0). Days and weeks are anchored at the
     * first accepted bar: weekly bars open on Monday, 1970-01-01 was a
     * Thursday, and daily bars may open at a local midnight. */
    qc->phase_anchored = cfg->interval_ms == 0 || cfg->interval_ms >= QUALITY_DAY_MS;
    qc->phase_set = !qc->phase_anchored;
    qc->counts.interval_ms = cfg->interval_ms;
    qc->counts.score = 100.0;
    qc->counts.worst_score = 100.0;
    qc->score_win_n = -1;
    return qc;
fail:
    pt_err_log("quality: out of memory");
    quality_free(qc);
    return NULL;
}

void quality_free(quality_checker *qc)
{
    if (!qc)
        return;
    free(qc->pen);
    quality_rwin_free(&qc->ret);
    quality_rwin_free(&qc->range);
    quality_rwin_free(&qc->vol);
    free(qc);
}

/* ---------------------------------------------------------------- score */
static double score_now(const quality_checker *qc)
{
    if (qc->win_n == 0)
        return 100.0;
    double s = 100.0 * (1.0 - (double)qc->pen_sum / (1000.0 * qc->win_n));
    return s < 0.0 ? 0.0 : s > 100.0 ? 100.0 : s;
}

static void score_update(quality_checker *qc, int64_t ts)
{
    quality_counts *k = &qc->counts;
    /* The score is a pure function of (pen_sum, win_n), which mostly stay
     * put once the window is full: skip the division then. */
    if (qc->pen_sum != qc->score_pen_sum || qc->win_n != qc->score_win_n) {
        k->score = score_now(qc);
        qc->score_pen_sum = qc->pen_sum;
        qc->score_win_n = qc->win_n;
    }
    int need = qc->win_cap < QUALITY_WORST_MIN ? qc->win_cap : QUALITY_WORST_MIN;
    /* Before the window holds enough candles the "worst" is simply the
     * latest score, so a short stream still reports one ("or at the end"). */
    if (qc->win_n < need || !qc->worst_armed || k->score < k->worst_score) {
        k->worst_score = k->score;
        k->worst_ts_ms = ts;
    }
    if (qc->win_n >= need)
        qc->worst_armed = 1;
}

static void window_push(quality_checker *qc, int pen)
{
    if (pen > PEN_MAX)
        pen = PEN_MAX;
    size_t i = (size_t)(qc->seq % (uint64_t)qc->win_cap);
    if (qc->win_n == qc->win_cap)
        qc->pen_sum -= qc->pen[i];
    else
        qc->win_n++;
    qc->pen[i] = (uint16_t)pen;
    qc->pen_sum += pen;
    qc->seq++;
}

/* Add a penalty to an earlier slot if it is still in the window. */
static void window_add(quality_checker *qc, uint64_t seq, int pen)
{
    if (seq >= qc->seq || qc->seq - seq > (uint64_t)qc->win_n)
        return;
    size_t i = (size_t)(seq % (uint64_t)qc->win_cap);
    int v = qc->pen[i] + pen;
    if (v > PEN_MAX)
        v = PEN_MAX;
    qc->pen_sum += v - qc->pen[i];
    qc->pen[i] = (uint16_t)v;
}

static int gap_penalty(int64_t missing)
{
    if (missing <= 0)
        return 0;
    return PEN_GAP_PER_BAR * (int)(missing < PEN_GAP_CAP_BARS ? missing : PEN_GAP_CAP_BARS);
}

double quality_score(const quality_checker *qc) { return qc ? qc->counts.score : 0.0; }

const char *quality_level(double score)
{
    if (score >= 90.0)
        return "Excellent";
    if (score >= 75.0)
        return "Good";
    if (score >= 60.0)
        return "Fair";
    if (score >= 40.0)
        return "Poor";
    return "Critical";
}

int quality_gate_allows_entry(const quality_checker *qc, double threshold)
{
    if (threshold < 0.0)
        threshold = qc ? qc->cfg.min_score : 0.0;
    if (threshold <= 0.0)
        return 1;
    return qc && qc->counts.score >= threshold;
}

const quality_counts *quality_get_counts(const quality_checker *qc) { return qc ? &qc->counts : NULL; }

/* ---------------------------------------------------------------- logging */
static void log_issue(quality_checker *qc, const pt_candle *c, quality_issue i, const char *detail)
{
    uint64_t n = qc->counts.by_issue[i]; /* already counted */
    char ts[32] = "?";
    if (c && c->ts_ms >= -QUALITY_TS_ABS_MAX && c->ts_ms <= QUALITY_TS_ABS_MAX)
        pt_format_iso_ms(c->ts_ms, ts, sizeof ts);
    else if (c) /* pt_format_iso_ms negates ms: INT64_MIN would overflow */
        snprintf(ts, sizeof ts, "%" PRId64 "ms", c->ts_ms);
    pt_log_level lvl = i < QI_GAP && n <= QUALITY_LOG_PER_ISSUE ? PT_LOG_WARN : PT_LOG_DEBUG;
    if (pt_log_get_level() < lvl)
        return;
    pt_log(lvl, "quality: %s line %" PRIu64 " ts %s: %s (%s)%s", c ? c->symbol : "?",
           c ? c->line : 0, ts, issue_names[i], detail,
           lvl == PT_LOG_WARN && n == QUALITY_LOG_PER_ISSUE ? "; further ones at debug level" : "");
}

/* ---------------------------------------------------------------- rules */
static int64_t pos_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

/* Validation of the values alone; returns reject bits and the offending
 * field for the log. */
static uint32_t check_values(const pt_candle *c, const char **field)
{
    const double v[5] = {c->open, c->high, c->low, c->close, c->volume};
    static const char *const names[5] = {"open", "high", "low", "close", "volume"};
    uint32_t f = 0;
    for (int i = 0; i < 5; i++)
        if (!isfinite(v[i])) {
            *field = names[i];
            return QBIT(QI_NONFINITE); /* nothing else is meaningful */
        }
    for (int i = 3; i >= 0; i--)
        if (!(v[i] > 0.0)) {
            f |= QBIT(QI_BAD_PRICE);
            *field = names[i];
        }
    if (c->volume < 0.0) {
        f |= QBIT(QI_NEGATIVE_VOLUME);
        if (!*field)
            *field = "volume";
    }
    double lo = c->open < c->close ? c->open : c->close;
    double hi = c->open > c->close ? c->open : c->close;
    if (c->low > lo || c->high < hi) {
        f |= QBIT(QI_OHLC_INCONSISTENT);
        if (!*field)
            *field = c->low > lo ? "low" : "high";
    }
    return f;
}

static int same_values(const pt_candle *a, const pt_candle *b)
{
    return a->open == b->open && a->high == b->high && a->low == b->low && a->close == b->close &&
           a->volume == b->volume;
}

static uint32_t check_time(const quality_checker *qc, const pt_candle *c, int64_t now_ms)
{
    uint32_t f = 0;
    if (c->ts_ms > QUALITY_TS_ABS_MAX)
        return QBIT(QI_FUTURE);
    if (c->ts_ms < -QUALITY_TS_ABS_MAX)
        return QBIT(QI_OUT_OF_ORDER);
    if (now_ms > 0 && now_ms < QUALITY_TS_ABS_MAX &&
        c->ts_ms > now_ms + qc->interval + qc->cfg.future_tolerance_ms)
        f |= QBIT(QI_FUTURE);
    if (qc->have_last) {
        if (c->ts_ms == qc->last.ts_ms)
            f |= same_values(c, &qc->last) ? QBIT(QI_DUPLICATE) : QBIT(QI_CONFLICT);
        else if (c->ts_ms < qc->last.ts_ms)
            f |= QBIT(QI_OUT_OF_ORDER);
    }
    if (qc->interval > 0 && qc->phase_set && pos_mod(c->ts_ms - qc->phase, qc->interval) != 0)
        f |= QBIT(QI_MISALIGNED);
    return f;
}

/* Learned interval: the smallest positive step among the first
 * QUALITY_LEARN_N accepted timestamps (robust to gaps, which only make steps
 * longer). Gaps among those candles are counted now, and their penalty goes
 * into the slots they occupy, so nothing is lost by learning. */
static void learn_finish(quality_checker *qc)
{
    int64_t iv = INT64_MAX;
    for (int i = 1; i < qc->learn_n; i++)
        if (qc->learn_ts[i] - qc->learn_ts[i - 1] < iv)
            iv = qc->learn_ts[i] - qc->learn_ts[i - 1];
    qc->interval = iv;
    qc->counts.interval_ms = iv;
    qc->learning = 0;
    qc->phase = pos_mod(qc->learn_ts[0], iv);
    qc->phase_set = 1;
    char buf[32];
    pt_interval_format(iv, buf, sizeof buf);
    pt_info("quality: learned interval %s from the first %d candles", buf, qc->learn_n);
    for (int i = 1; i < qc->learn_n; i++) {
        int64_t step = qc->learn_ts[i] - qc->learn_ts[i - 1];
        if (step % iv != 0)
            pt_warn("quality: candle %d of the learning phase is off the learned %s grid", i, buf);
        int64_t missing = step / iv - 1;
        if (missing > 0) {
            qc->counts.gaps++;
            qc->counts.missing_bars += (uint64_t)missing;
            qc->counts.by_issue[QI_GAP]++;
            window_add(qc, qc->learn_seq[i], gap_penalty(missing));
        }
    }
}

/* Outlier, spike, stale and informational flags of an accepted candle;
 * updates the rolling windows. Returns the penalty of these flags. */
static int judge_accepted(quality_checker *qc, const pt_candle *c, int64_t missing, uint32_t *flags)
{
    const quality_config *cfg = &qc->cfg;
    int pen = 0;
    int traded = c->volume > 0.0; /* a bar without trades carries no price information */
    /* The windows hold moves only (see below), so history is counted in
     * traded bars: after a long flat run the window may be empty, the scale
     * is then the floor and a 5x jump is still caught. */
    int min_n = qc->traded >= QUALITY_MIN_HISTORY ? 0 : INT32_MAX;
    if (traded)
        qc->traded++;
    if (qc->have_last && traded) {
        /* Returns across a gap span (missing + 1) intervals: scale by the
         * random-walk sqrt(time) so an overnight move is judged fairly. */
        double r = log(c->close / qc->last.close) / sqrt((double)(missing + 1));
        int sign = quality_rwin_beyond(&qc->ret, r, QUALITY_RET_FLOOR, min_n, cfg->outlier_k);
        if (sign && qc->prev_ret_sign == -sign &&
            fabs(r) >= QUALITY_SPIKE_REVERT * fabs(qc->prev_ret)) {
            /* Spike and revert: the spike bar already carries outlier_return;
             * this bar, which undoes it, is flagged spike (verdicts are
             * final, so the pair is marked on its second bar). */
            *flags |= QBIT(QI_SPIKE);
            pen += PEN_SPIKE;
            sign = 0;
        } else if (sign) {
            *flags |= QBIT(QI_OUTLIER_RETURN);
            pen += PEN_OUTLIER;
        }
        qc->prev_ret_sign = sign;
        qc->prev_ret = r;
        /* Only moves enter the window: on tick-quantised prices most bars do
         * not move, the MAD of a mostly-zero window collapses to the floor
         * and every one-tick move would look like an outlier. */
        if (r != 0.0)
            quality_rwin_push(&qc->ret, r);
    } else {
        qc->prev_ret_sign = 0;
    }
    if (traded) {
        double rg = log(c->high / c->low);
        if (quality_rwin_beyond(&qc->range, rg, QUALITY_RANGE_FLOOR, min_n, cfg->outlier_k) > 0) {
            *flags |= QBIT(QI_OUTLIER_RANGE);
            if (!(*flags & QBIT(QI_OUTLIER_RETURN)))
                pen += PEN_OUTLIER; /* one outlier penalty per bar */
        }
        if (rg != 0.0) /* same reason: flat bars are no information on the spread */
            quality_rwin_push(&qc->range, rg);
        double lv = log(c->volume);
        if (quality_rwin_beyond(&qc->vol, lv, QUALITY_VOL_FLOOR, min_n, cfg->volume_k) > 0) {
            *flags |= QBIT(QI_OUTLIER_VOLUME);
            pen += PEN_OUTLIER_VOLUME;
        }
        quality_rwin_push(&qc->vol, lv);
    }
    int flat = c->open == c->high && c->high == c->low && c->low == c->close;
    if (flat)
        *flags |= QBIT(QI_FLAT);
    if (!traded) {
        *flags |= QBIT(QI_ZERO_VOLUME);
        int same = qc->have_last && qc->last.volume == 0.0 && qc->last.open == c->open &&
                   qc->last.high == c->high && qc->last.low == c->low && qc->last.close == c->close;
        qc->stale_run = same ? qc->stale_run + 1 : 1;
        if (qc->stale_run >= cfg->stale_run) {
            *flags |= QBIT(QI_STALE);
            pen += PEN_STALE;
        }
    } else {
        qc->stale_run = 0;
    }
    return pen;
}

static void count_flags(quality_checker *qc, uint32_t flags)
{
    flags &= QBIT(QI__COUNT) - 1u;
    for (; flags; flags &= flags - 1) /* set bits only: most candles have none */
        qc->counts.by_issue[__builtin_ctz(flags)]++;
}

/* ---------------------------------------------------------------- replay */

static quality_verdict replay_check(quality_checker *qc, quality_result *out)
{
    const quality_tape *t = qc->tape;
    quality_result r = {QUALITY_REJECT, 0, 0, qc->counts.score};
    if (qc->tape_pos < t->n) {
        r = t->r[qc->tape_pos++];
    } else if (qc->tape_pos++ == t->n) {
        pt_err_log("quality: replay past the end of its tape (%zu results)", t->n);
    }
    qc->counts.candles++;
    qc->counts.by_verdict[r.verdict]++;
    qc->counts.score = r.score;
    if (qc->tape_pos == t->n)
        qc->counts = t->final;
    if (out)
        *out = r;
    return r.verdict;
}

quality_tape *quality_tape_new(void) { return calloc(1, sizeof(quality_tape)); }

int quality_tape_add(quality_tape *t, const quality_result *r)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        quality_result *nr = realloc(t->r, cap * sizeof *nr);
        if (!nr)
            return PT_ENOMEM;
        t->r = nr, t->cap = cap;
    }
    t->r[t->n++] = *r;
    return PT_OK;
}

void quality_tape_seal(quality_tape *t, const quality_checker *qc)
{
    t->cfg = qc->cfg;
    t->final = qc->counts;
}

void quality_tape_free(quality_tape *t)
{
    if (!t)
        return;
    free(t->r);
    free(t);
}

quality_checker *quality_new_replay(const quality_tape *t)
{
    quality_checker *qc = calloc(1, sizeof *qc);
    if (!qc)
        return NULL;
    qc->cfg = t->cfg;
    qc->tape = t;
    qc->counts.interval_ms = t->cfg.interval_ms; /* a fresh checker's counts (quality_new) */
    qc->counts.score = 100.0;
    qc->counts.worst_score = 100.0;
    if (t->n == 0)
        qc->counts = t->final;
    return qc;
}

quality_verdict quality_check(quality_checker *qc, const pt_candle *c, int64_t now_ms,
                              quality_result *out)
{
    quality_result r = {QUALITY_REJECT, 0, 0, 0.0};
    if (!qc || !c) {
        if (out)
            *out = r;
        return QUALITY_REJECT;
    }
    if (qc->tape)
        return replay_check(qc, out);
    const char *field = NULL;
    uint32_t flags = check_values(c, &field);
    flags |= check_time(qc, c, now_ms);
    int pen;
    if (flags & QUALITY_REJECT_MASK) {
        r.verdict = QUALITY_REJECT;
        pen = (flags & QUALITY_REJECT_MASK) == QBIT(QI_DUPLICATE) ? PEN_DUPLICATE : PEN_REJECT;
        count_flags(qc, flags);
        for (int i = 0; i < QI__COUNT; i++)
            if (flags & QBIT(i)) {
                log_issue(qc, c, (quality_issue)i, field ? field : "timestamp");
                break; /* one line per candle: the first reason, all are counted */
            }
    } else {
        int64_t missing = 0;
        if (!qc->phase_set && !qc->learning) { /* configured >= 1 day: anchor here */
            qc->phase = pos_mod(c->ts_ms, qc->interval);
            qc->phase_set = 1;
        }
        if (qc->have_last && qc->interval > 0)
            missing = (c->ts_ms - qc->last.ts_ms) / qc->interval - 1;
        pen = 0;
        if (missing > 0) {
            flags |= QBIT(QI_GAP);
            pen += gap_penalty(missing);
            qc->counts.gaps++;
            qc->counts.missing_bars += (uint64_t)missing;
        } else {
            missing = 0;
        }
        pen += judge_accepted(qc, c, missing, &flags);
        count_flags(qc, flags);
        if (flags & QBIT(QI_GAP))
            log_issue(qc, c, QI_GAP, "missing bars after the previous candle");
        r.verdict = flags ? QUALITY_ACCEPT_FLAGGED : QUALITY_ACCEPT;
        r.gap_missing = missing;
        if (!qc->have_last)
            qc->counts.first_ts_ms = c->ts_ms;
        qc->counts.last_ts_ms = c->ts_ms;
        qc->last = *c;
        qc->have_last = 1;
        if (qc->learning) {
            qc->learn_ts[qc->learn_n] = c->ts_ms;
            qc->learn_seq[qc->learn_n] = qc->seq; /* the slot window_push fills below */
            qc->learn_n++;
        }
    }
    qc->counts.candles++;
    qc->counts.by_verdict[r.verdict]++;
    window_push(qc, pen);
    if (qc->learning && qc->learn_n == QUALITY_LEARN_N)
        learn_finish(qc);
    score_update(qc, c->ts_ms);
    r.flags = flags;
    r.score = qc->counts.score;
    if (out)
        *out = r;
    return r.verdict;
}

void quality_note_rejected_row(quality_checker *qc)
{
    if (!qc || qc->tape)
        return;
    qc->counts.candles++;
    qc->counts.by_verdict[QUALITY_REJECT]++;
    qc->counts.by_issue[QI_ROW_REJECTED]++;
    window_push(qc, PEN_REJECT);
    score_update(qc, qc->counts.last_ts_ms);
}
