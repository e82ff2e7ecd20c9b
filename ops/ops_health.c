/* Health: a registry of components with heartbeats, counters, a state and
 * a ring of recent errors; REST latency quantiles; process RSS and CPU; the
 * 0-100 score of docs/health.md rendered as JSON (/health) and Prometheus
 * text format 0.0.4 (/metrics,
 * https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * One mutex guards everything: beats come from the loop thread, errors and
 * latency may come from curl workers. Never does I/O besides pt_log. */
#include "ops.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define RECENT_WINDOW_MS 600000 /* errors in the last 10 min count in the score */

/* -------------------------------------------------------------- latency */

struct ops_latency {
    int cap, n, head;
    uint64_t total;
    double sum; /* of every sample ever, for the Prometheus summary */
    double *ms;
    unsigned char *ok;
};

int ops_latency_new(int cap, ops_latency **out)
{
    *out = NULL;
    if (cap < 1 || cap > 65536)
        return PT_EINVAL;
    ops_latency *l = calloc(1, sizeof *l);
    if (!l)
        return PT_ENOMEM;
    l->cap = cap;
    l->ms = calloc((size_t)cap, sizeof *l->ms);
    l->ok = calloc((size_t)cap, 1);
    if (!l->ms || !l->ok) {
        ops_latency_free(l);
        return PT_ENOMEM;
    }
    *out = l;
    return PT_OK;
}

void ops_latency_free(ops_latency *l)
{
    if (!l)
        return;
    free(l->ms);
    free(l->ok);
    free(l);
}

void ops_latency_record(ops_latency *l, double ms, int ok)
{
    if (!l || !isfinite(ms) || ms < 0)
        return;
    l->ms[l->head] = ms;
    l->ok[l->head] = ok != 0;
    l->head = (l->head + 1) % l->cap;
    if (l->n < l->cap)
        l->n++;
    l->total++;
    l->sum += ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ops_latency_quantile(const ops_latency *l, double q)
{
    if (!l || l->n == 0 || !(q >= 0 && q <= 1))
        return NAN;
    double *tmp = malloc((size_t)l->n * sizeof *tmp);
    if (!tmp)
        return NAN;
    memcpy(tmp, l->ms, (size_t)l->n * sizeof *tmp); /* the first n slots are the live ones */
    qsort(tmp, (size_t)l->n, sizeof *tmp, cmp_double);
    /* nearest rank: the smallest sample with at least q of the samples <= it */
    long rank = (long)ceil(q * l->n - 1e-9);
    if (rank < 1)
        rank = 1;
    double v = tmp[rank - 1];
    free(tmp);
    return v;
}

double ops_latency_error_rate(const ops_latency *l)
{
    if (!l || l->n == 0)
        return 0;
    int bad = 0;
    for (int i = 0; i < l->n; i++)
        bad += !l->ok[i];
    return (double)bad / l->n;
}

size_t ops_latency_count(const ops_latency *l)
{
    return l ? (size_t)l->n : 0;
}

uint64_t ops_latency_total(const ops_latency *l)
{
    return l ? l->total : 0;
}

/* ---------------------------------------------------------------- score */

static const char *const level_names[] = {"critical", "poor", "fair", "good", "excellent"};
static const char *const state_names[] = {"unknown", "up", "degraded", "down"};

const char *ops_health_level_name(ops_health_level lvl)
{
    return (unsigned)lvl <= OPS_LEVEL_EXCELLENT ? level_names[lvl] : "?";
}

ops_health_level ops_health_level_of(int score)
{
    return score >= 90 ? OPS_LEVEL_EXCELLENT
           : score >= 75 ? OPS_LEVEL_GOOD
           : score >= 60 ? OPS_LEVEL_FAIR
           : score >= 40 ? OPS_LEVEL_POOR
                         : OPS_LEVEL_CRITICAL;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The formula of docs/health.md; keep the two in step. */
int ops_health_score_calc(const ops_health_inputs *in)
{
    static const double feed_penalty[] = {[OPS_HS_UNKNOWN] = 10, [OPS_HS_UP] = 0, [OPS_HS_DEGRADED] = 15,
                                          [OPS_HS_DOWN] = 35};
    double p = 0;
    if (in->monitored > 0)
        p += 40.0 * clampd((double)in->stale / in->monitored, 0, 1);
    p += fmin(20.0, 40.0 * clampd(in->rest_error_rate, 0, 1));
    p += fmin(10.0, 2.0 * (in->recent_errors > 0 ? in->recent_errors : 0));
    if (in->has_feed && (unsigned)in->feed_state <= OPS_HS_DOWN)
        p += feed_penalty[in->feed_state];
    if (in->rss_limit_kb > 0 && in->rss_kb > 0)
        p += clampd(40.0 * ((double)in->rss_kb / (double)in->rss_limit_kb - 0.5), 0, 20);
    p += fmin(20.0, 4.0 * (in->feed_disconnects > 0 ? in->feed_disconnects : 0));
    p += fmin(20.0, 0.5 * (in->feed_bad_msgs > 0 ? in->feed_bad_msgs : 0));
    long s = lround(100.0 - p);
    return (int)(s < 0 ? 0 : s > 100 ? 100 : s);
}

/* ------------------------------------------------------------- registry */

typedef struct counter {
    char name[32];
    double v;
    int is_gauge;
} counter;

typedef struct component {
    char name[32];
    int64_t period_ms;
    int64_t last_beat; /* INT64_MIN: never */
    int64_t registered_ms;
    uint64_t beats, errors;
    ops_health_state state;
    char state_text[96];
    int stale_reported;
    counter ctr[OPS_HEALTH_MAX_COUNTERS];
    int n_ctr;
} component;

#define FAULT_RING 4096 /* one entry per second with faults: an hour of window */
typedef struct fault_rec {
    int64_t ts_ms;
    uint32_t disconnects, bad_msgs;
} fault_rec;

struct ops_health {
    pthread_mutex_t mu;
    fault_rec faults[FAULT_RING];
    int fault_n, fault_head;
    ops_health_config cfg;
    component comp[OPS_HEALTH_MAX_COMPONENTS];
    int n_comp;
    ops_health_error_rec *ring;
    int ring_n, ring_head;
    uint64_t errors_total;
    ops_latency *rest;
    ops_notifier *notifier;
    int64_t started_ms;
    /* process sampling */
    long rss_kb;
    double cpu_pct;
    double last_cpu_s;
    int64_t last_sample_ms;
};

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int ops_health_new(const ops_health_config *cfg, ops_health **out)
{
    *out = NULL;
    ops_health *h = calloc(1, sizeof *h);
    int rc = PT_ENOMEM;
    if (!h)
        goto fail;
    if (cfg)
        h->cfg = *cfg;
    if (h->cfg.error_ring <= 0)
        h->cfg.error_ring = 32;
    if (h->cfg.error_ring > 1024)
        h->cfg.error_ring = 1024;
    if (h->cfg.stale_periods <= 0)
        h->cfg.stale_periods = 3;
    if (h->cfg.rss_limit_kb <= 0)
        h->cfg.rss_limit_kb = 1048576;
    if (h->cfg.latency_ring <= 0)
        h->cfg.latency_ring = 1024;
    if (h->cfg.fault_window_ms <= 0)
        h->cfg.fault_window_ms = 600000;
    if (h->cfg.fault_window_ms > 3600000)
        h->cfg.fault_window_ms = 3600000;
    if (!h->cfg.clock_ms)
        h->cfg.clock_ms = pt_mono_ms;
    h->ring = calloc((size_t)h->cfg.error_ring, sizeof *h->ring);
    if (!h->ring)
        goto fail;
    rc = ops_latency_new(h->cfg.latency_ring > 65536 ? 65536 : h->cfg.latency_ring, &h->rest);
    if (rc != PT_OK)
        goto fail;
    pthread_mutex_init(&h->mu, NULL);
    h->started_ms = h->cfg.clock_ms();
    h->last_sample_ms = h->started_ms;
    h->last_cpu_s = cpu_seconds();
    h->rss_kb = pt_rss_now_kb();
    *out = h;
    return PT_OK;
fail:
    pt_err_log("health: cannot create the registry: %s", pt_strerror(rc));
    if (h) {
        free(h->ring);
        free(h);
    }
    return rc;
}

void ops_health_free(ops_health *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->mu);
    ops_latency_free(h->rest);
    free(h->ring);
    free(h);
}

static int valid_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_'))
            return 0;
    return n > 0 && n < 32;
}

int ops_health_register(ops_health *h, const char *name, int64_t period_ms)
{
    if (!h || !name || !valid_name(name) || period_ms < 0) {
        pt_err_log("health: invalid component name \"%s\" (want [a-z0-9_]{1,31})", name ? name : "(null)");
        return PT_EINVAL;
    }
    int rc;
    pthread_mutex_lock(&h->mu);
    for (rc = 0; rc < h->n_comp; rc++)
        if (!strcmp(h->comp[rc].name, name))
            goto out;
    if (h->n_comp >= OPS_HEALTH_MAX_COMPONENTS) {
        pt_err_log("health: too many components (%d), \"%s\" not registered", OPS_HEALTH_MAX_COMPONENTS, name);
        rc = PT_EFULL;
        goto out;
    }
    component *c = &h->comp[h->n_comp];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->period_ms = period_ms;
    c->last_beat = INT64_MIN;
    c->registered_ms = h->cfg.clock_ms();
    rc = h->n_comp++;
out:
    pthread_mutex_unlock(&h->mu);
    return rc;
}

#define COMP_OK(h, i) ((i) >= 0 && (i) < (h)->n_comp)

void ops_health_beat(ops_health *h, int comp, int64_t now_ms)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    if (COMP_OK(h, comp)) {
        h->comp[comp].last_beat = now_ms;
        h->comp[comp].beats++;
    }
    pthread_mutex_unlock(&h->mu);
}

void ops_health_set_state(ops_health *h, int comp, ops_health_state st, const char *text)
{
    if (!h || (unsigned)st > OPS_HS_DOWN)
        return;
    pthread_mutex_lock(&h->mu);
    if (COMP_OK(h, comp)) {
        h->comp[comp].state = st;
        snprintf(h->comp[comp].state_text, sizeof h->comp[comp].state_text, "%s", text ? text : "");
    }
    pthread_mutex_unlock(&h->mu);
}

void ops_health_error(ops_health *h, int comp, int64_t now_ms, const char *fmt, ...)
{
    if (!h || !fmt)
        return;
    ops_health_error_rec e = {.ts_ms = now_ms, .wall_ms = pt_wall_ms(), .comp = comp};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.text, sizeof e.text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&h->mu);
    if (COMP_OK(h, comp)) {
        h->comp[comp].errors++;
        h->errors_total++;
        h->ring[h->ring_head] = e;
        h->ring_head = (h->ring_head + 1) % h->cfg.error_ring;
        if (h->ring_n < h->cfg.error_ring)
            h->ring_n++;
    }
    pthread_mutex_unlock(&h->mu);
}

static void counter_apply(ops_health *h, int comp, const char *name, double v, int is_gauge)
{
    if (!h || !name || !valid_name(name) || !isfinite(v))
        return;
    pthread_mutex_lock(&h->mu);
    if (COMP_OK(h, comp)) {
        component *c = &h->comp[comp];
        counter *k = NULL;
        for (int i = 0; i < c->n_ctr && !k; i++)
            if (!strcmp(c->ctr[i].name, name))
                k = &c->ctr[i];
        if (!k && c->n_ctr < OPS_HEALTH_MAX_COUNTERS) {
            k = &c->ctr[c->n_ctr++];
            snprintf(k->name, sizeof k->name, "%s", name);
            k->is_gauge = is_gauge;
        }
        if (k)
            k->v = is_gauge ? v : k->v + v;
    }
    pthread_mutex_unlock(&h->mu);
}

void ops_health_counter_add(ops_health *h, int comp, const char *name, double delta)
{
    counter_apply(h, comp, name, delta, 0);
}

void ops_health_gauge_set(ops_health *h, int comp, const char *name, double value)
{
    counter_apply(h, comp, name, value, 1);
}

void ops_health_rest(ops_health *h, double ms, int ok)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    ops_latency_record(h->rest, ms, ok);
    pthread_mutex_unlock(&h->mu);
}

void ops_health_sample(ops_health *h, int64_t now_ms)
{
    if (!h)
        return;
    double cpu = cpu_seconds();
    long rss = pt_rss_now_kb();
    pthread_mutex_lock(&h->mu);
    int64_t dt = now_ms - h->last_sample_ms;
    if (dt > 0) {
        h->cpu_pct = 100.0 * (cpu - h->last_cpu_s) / (dt / 1000.0);
        h->last_cpu_s = cpu;
        h->last_sample_ms = now_ms;
    }
    if (rss > 0)
        h->rss_kb = rss;
    pthread_mutex_unlock(&h->mu);
}

/* Caller holds mu. A component with a period is stale when its last beat
 * (or, before the first, its registration) is stale_periods periods old. */
static int stale_locked(const ops_health *h, const component *c, int64_t now)
{
    if (c->period_ms <= 0)
        return 0;
    int64_t since = c->last_beat == INT64_MIN ? c->registered_ms : c->last_beat;
    return now - since > c->period_ms * h->cfg.stale_periods;
}

int ops_health_is_stale(ops_health *h, int comp, int64_t now_ms)
{
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    int s = COMP_OK(h, comp) && stale_locked(h, &h->comp[comp], now_ms);
    pthread_mutex_unlock(&h->mu);
    return s;
}

int ops_health_check(ops_health *h, int64_t now_ms)
{
    if (!h)
        return 0;
    int n_stale = 0;
    char turned[OPS_HEALTH_MAX_COMPONENTS][32];
    int n_turned = 0;
    pthread_mutex_lock(&h->mu);
    ops_notifier *nt = h->notifier;
    for (int i = 0; i < h->n_comp; i++) {
        component *c = &h->comp[i];
        int s = stale_locked(h, c, now_ms);
        n_stale += s;
        if (s && !c->stale_reported) {
            int64_t since = c->last_beat == INT64_MIN ? c->registered_ms : c->last_beat;
            pt_warn("health: component %s is stale: no heartbeat for %lld ms (period %lld ms)", c->name,
                    (long long)(now_ms - since), (long long)c->period_ms);
            memcpy(turned[n_turned++], c->name, sizeof c->name);
        } else if (!s && c->stale_reported) {
            pt_info("health: component %s is beating again", c->name);
        }
        c->stale_reported = s;
    }
    pthread_mutex_unlock(&h->mu);
    /* Posting outside the lock: the notifier may report into this registry. */
    for (int i = 0; i < n_turned && nt; i++)
        ops_notify_post(nt, OPS_NOTIFY_ERROR, OPS_PRIO_HIGH, "component stale", "%s has stopped beating", turned[i]);
    return n_stale;
}

int ops_health_errors(ops_health *h, ops_health_error_rec *out, int cap)
{
    if (!h || !out || cap <= 0)
        return 0;
    pthread_mutex_lock(&h->mu);
    int n = h->ring_n < cap ? h->ring_n : cap;
    for (int i = 0; i < n; i++) {
        int idx = (h->ring_head - 1 - i + h->cfg.error_ring) % h->cfg.error_ring;
        out[i] = h->ring[idx];
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

uint64_t ops_health_errors_total(ops_health *h, int comp)
{
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    uint64_t v = comp < 0 ? h->errors_total : COMP_OK(h, comp) ? h->comp[comp].errors : 0;
    pthread_mutex_unlock(&h->mu);
    return v;
}

void ops_health_feed_faults(ops_health *h, int64_t now_ms, uint64_t disconnects, uint64_t bad_msgs)
{
    if (!h || (!disconnects && !bad_msgs))
        return;
    pthread_mutex_lock(&h->mu);
    fault_rec *f = &h->faults[h->fault_head];
    f->ts_ms = now_ms;
    f->disconnects = disconnects > 100000 ? 100000 : (uint32_t)disconnects; /* the part saturates long before */
    f->bad_msgs = bad_msgs > 100000 ? 100000 : (uint32_t)bad_msgs;
    h->fault_head = (h->fault_head + 1) % FAULT_RING;
    if (h->fault_n < FAULT_RING)
        h->fault_n++;
    pthread_mutex_unlock(&h->mu);
}

void ops_health_attach_notifier(ops_health *h, ops_notifier *n)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->notifier = n;
    pthread_mutex_unlock(&h->mu);
}

/* Caller holds mu. Recent errors are counted from the ring, so the ring
 * size also bounds this input (32 by default, more than the 5 that max it). */
static int score_locked(ops_health *h, int64_t now, ops_health_inputs *in)
{
    memset(in, 0, sizeof *in);
    for (int i = 0; i < h->n_comp; i++) {
        const component *c = &h->comp[i];
        if (c->period_ms > 0) {
            in->monitored++;
            in->stale += stale_locked(h, c, now);
        }
        if (!strcmp(c->name, "feed")) {
            in->has_feed = 1;
            in->feed_state = stale_locked(h, c, now) ? OPS_HS_DOWN : c->state;
        }
    }
    for (int i = 0; i < h->ring_n; i++)
        in->recent_errors += now - h->ring[i].ts_ms <= RECENT_WINDOW_MS;
    for (int i = 0; i < h->fault_n; i++) {
        const fault_rec *f = &h->faults[i];
        if (now - f->ts_ms <= h->cfg.fault_window_ms)
            in->feed_disconnects += (int)f->disconnects, in->feed_bad_msgs += (int)f->bad_msgs;
    }
    in->rest_error_rate = ops_latency_error_rate(h->rest);
    in->rss_kb = h->rss_kb;
    in->rss_limit_kb = h->cfg.rss_limit_kb;
    return ops_health_score_calc(in);
}

int ops_health_score(ops_health *h, int64_t now_ms, ops_health_inputs *in)
{
    ops_health_inputs tmp;
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    int s = score_locked(h, now_ms, in ? in : &tmp);
    pthread_mutex_unlock(&h->mu);
    return s;
}

/* ------------------------------------------------------------ rendering */

static int64_t beat_age(const component *c, int64_t now)
{
    return c->last_beat == INT64_MIN ? -1 : now - c->last_beat;
}

static int comp_up(const ops_health *h, const component *c, int64_t now)
{
    return !stale_locked(h, c, now) && c->state != OPS_HS_DOWN;
}

int ops_health_to_json(ops_health *h, int64_t now_ms, cJSON *obj)
{
    if (!h || !obj)
        return PT_EINVAL;
    int ok = 1;
    ops_health_inputs in;
    pthread_mutex_lock(&h->mu);
    int score = score_locked(h, now_ms, &in);
    ok &= cJSON_AddNumberToObject(obj, "score", score) != NULL;
    ok &= cJSON_AddStringToObject(obj, "level", level_names[ops_health_level_of(score)]) != NULL;
    ok &= cJSON_AddNumberToObject(obj, "uptime_s", (double)((now_ms - h->started_ms) / 1000)) != NULL;
    cJSON *ff = cJSON_AddObjectToObject(obj, "feed_faults"); /* what the score's feed-fault part saw */
    ok &= ff && cJSON_AddNumberToObject(ff, "window_s", (double)(h->cfg.fault_window_ms / 1000)) &&
          cJSON_AddNumberToObject(ff, "disconnects", in.feed_disconnects) &&
          cJSON_AddNumberToObject(ff, "bad_messages", in.feed_bad_msgs);
    cJSON *arr = cJSON_AddArrayToObject(obj, "components");
    ok &= arr != NULL;
    for (int i = 0; arr && i < h->n_comp; i++) {
        const component *c = &h->comp[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            ok = 0;
            break;
        }
        int64_t age = beat_age(c, now_ms);
        ok &= cJSON_AddStringToObject(o, "name", c->name) != NULL;
        ok &= cJSON_AddBoolToObject(o, "up", comp_up(h, c, now_ms)) != NULL;
        ok &= cJSON_AddBoolToObject(o, "stale", stale_locked(h, c, now_ms)) != NULL;
        ok &= cJSON_AddStringToObject(o, "state", state_names[c->state]) != NULL;
        ok &= cJSON_AddStringToObject(o, "state_text", c->state_text) != NULL;
        ok &= cJSON_AddNumberToObject(o, "period_ms", (double)c->period_ms) != NULL;
        ok &= (age < 0 ? cJSON_AddNullToObject(o, "last_beat_age_ms")
                       : cJSON_AddNumberToObject(o, "last_beat_age_ms", (double)age)) != NULL;
        ok &= cJSON_AddNumberToObject(o, "beats", (double)c->beats) != NULL;
        ok &= cJSON_AddNumberToObject(o, "errors", (double)c->errors) != NULL;
        cJSON *ctr = cJSON_AddObjectToObject(o, "counters");
        ok &= ctr != NULL;
        for (int k = 0; ctr && k < c->n_ctr; k++)
            ok &= cJSON_AddNumberToObject(ctr, c->ctr[k].name, c->ctr[k].v) != NULL;
    }
    cJSON *rest = cJSON_AddObjectToObject(obj, "rest");
    if (rest) {
        double q[2] = {ops_latency_quantile(h->rest, 0.5), ops_latency_quantile(h->rest, 0.99)};
        const char *qn[2] = {"p50_ms", "p99_ms"};
        ok &= cJSON_AddNumberToObject(rest, "samples", (double)ops_latency_count(h->rest)) != NULL;
        ok &= cJSON_AddNumberToObject(rest, "total", (double)ops_latency_total(h->rest)) != NULL;
        ok &= cJSON_AddNumberToObject(rest, "sum_ms", h->rest->sum) != NULL; /* over all time, as total */
        for (int i = 0; i < 2; i++)
            ok &= (isnan(q[i]) ? cJSON_AddNullToObject(rest, qn[i]) : cJSON_AddNumberToObject(rest, qn[i], q[i])) !=
                  NULL;
        ok &= cJSON_AddNumberToObject(rest, "error_rate", in.rest_error_rate) != NULL;
    }
    cJSON *proc = cJSON_AddObjectToObject(obj, "process");
    if (proc) {
        ok &= cJSON_AddNumberToObject(proc, "rss_kb", (double)h->rss_kb) != NULL;
        ok &= cJSON_AddNumberToObject(proc, "rss_limit_kb", (double)h->cfg.rss_limit_kb) != NULL;
        ok &= cJSON_AddNumberToObject(proc, "cpu_pct", round(h->cpu_pct * 10) / 10) != NULL;
    }
    ok &= rest && proc;
    cJSON *errs = cJSON_AddArrayToObject(obj, "recent_errors");
    ok &= errs != NULL;
    for (int i = 0; errs && i < h->ring_n && i < 10; i++) {
        const ops_health_error_rec *e = &h->ring[(h->ring_head - 1 - i + h->cfg.error_ring) % h->cfg.error_ring];
        char ts[32];
        pt_format_iso_ms(e->wall_ms, ts, sizeof ts);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(errs, o)) {
            cJSON_Delete(o);
            ok = 0;
            break;
        }
        ok &= cJSON_AddStringToObject(o, "ts", ts) != NULL;
        ok &= cJSON_AddStringToObject(o, "component", h->comp[e->comp].name) != NULL;
        ok &= cJSON_AddStringToObject(o, "text", e->text) != NULL;
    }
    if (h->notifier) {
        ops_notify_stats ns;
        ops_notifier_stats(h->notifier, &ns);
        cJSON *o = cJSON_AddObjectToObject(obj, "notifier");
        ok &= o != NULL;
        const uint64_t v[] = {ns.sent, ns.failed, ns.dropped, ns.rate_limited, ns.aggregated, ns.queue_depth};
        const char *k[] = {"sent", "failed", "dropped", "rate_limited", "aggregated", "queue_depth"};
        for (size_t i = 0; o && i < sizeof v / sizeof v[0]; i++)
            ok &= cJSON_AddNumberToObject(o, k[i], (double)v[i]) != NULL;
    }
    pthread_mutex_unlock(&h->mu);
    if (!ok) {
        pt_err_log("health: out of memory building the /health JSON");
        return PT_ENOMEM;
    }
    return PT_OK;
}

/* Appends whole lines; on overflow keeps the text up to the last line that
 * fit and remembers it. */
typedef struct pbuf {
    char *b;
    size_t cap, len;
    int full;
} pbuf;

__attribute__((format(printf, 2, 3))) static void pb(pbuf *p, const char *fmt, ...)
{
    if (p->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->b + p->len, p->cap - p->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= p->cap - p->len) {
        p->full = 1;
        p->b[p->len] = '\0';
        return;
    }
    p->len += (size_t)n;
}

static void pb_num(pbuf *p, const char *series, double v)
{
    char num[40];
    if (isnan(v))
        snprintf(num, sizeof num, "NaN");
    else
        pt_format_double(v, num, sizeof num);
    pb(p, "%s %s\n", series, num);
}

static void pb_head(pbuf *p, const char *name, const char *type, const char *help)
{
    pb(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int ops_health_prometheus(ops_health *h, int64_t now_ms, char *buf, size_t cap, size_t *len)
{
    if (!h || !buf || cap == 0)
        return PT_EINVAL;
    pbuf p = {buf, cap, 0, 0};
    char series[160];
    buf[0] = '\0';
    ops_health_inputs in;
    pthread_mutex_lock(&h->mu);
    int score = score_locked(h, now_ms, &in);
    pb_head(&p, "papertrader_health_score", "gauge", "Overall health score 0-100 (docs/health.md).");
    pb_num(&p, "papertrader_health_score", score);
    pb_head(&p, "papertrader_component_up", "gauge", "1 if the component beats in time and is not down.");
    for (int i = 0; i < h->n_comp; i++) {
        snprintf(series, sizeof series, "papertrader_component_up{component=\"%s\"}", h->comp[i].name);
        pb_num(&p, series, comp_up(h, &h->comp[i], now_ms));
    }
    pb_head(&p, "papertrader_errors_total", "counter", "Errors recorded per component.");
    for (int i = 0; i < h->n_comp; i++) {
        snprintf(series, sizeof series, "papertrader_errors_total{component=\"%s\"}", h->comp[i].name);
        pb_num(&p, series, (double)h->comp[i].errors);
    }
    pb_head(&p, "papertrader_component_value", "gauge", "Named counters and gauges of a component.");
    for (int i = 0; i < h->n_comp; i++)
        for (int k = 0; k < h->comp[i].n_ctr; k++) {
            snprintf(series, sizeof series, "papertrader_component_value{component=\"%s\",name=\"%s\"}",
                     h->comp[i].name, h->comp[i].ctr[k].name);
            pb_num(&p, series, h->comp[i].ctr[k].v);
        }
    pb_head(&p, "papertrader_rest_latency_seconds", "summary", "REST call latency over the recent samples.");
    pb_num(&p, "papertrader_rest_latency_seconds{quantile=\"0.5\"}", ops_latency_quantile(h->rest, 0.5) / 1000);
    pb_num(&p, "papertrader_rest_latency_seconds{quantile=\"0.99\"}", ops_latency_quantile(h->rest, 0.99) / 1000);
    pb_num(&p, "papertrader_rest_latency_seconds_sum", h->rest->sum / 1000);
    pb_num(&p, "papertrader_rest_latency_seconds_count", (double)h->rest->total);
    pb_head(&p, "papertrader_rest_error_ratio", "gauge", "Failed share of the recent REST calls.");
    pb_num(&p, "papertrader_rest_error_ratio", in.rest_error_rate);
    pb_head(&p, "papertrader_process_resident_memory_bytes", "gauge", "Resident set size.");
    pb_num(&p, "papertrader_process_resident_memory_bytes", (double)h->rss_kb * 1024);
    pb_head(&p, "papertrader_process_cpu_percent", "gauge", "CPU use over the last sampling interval.");
    pb_num(&p, "papertrader_process_cpu_percent", h->cpu_pct);
    if (h->notifier) {
        ops_notify_stats ns;
        ops_notifier_stats(h->notifier, &ns);
        pb_head(&p, "papertrader_notifications_total", "counter", "Notifications by outcome.");
        const uint64_t v[] = {ns.sent, ns.failed, ns.dropped, ns.rate_limited, ns.aggregated};
        const char *k[] = {"sent", "failed", "dropped", "rate_limited", "aggregated"};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            snprintf(series, sizeof series, "papertrader_notifications_total{result=\"%s\"}", k[i]);
            pb_num(&p, series, (double)v[i]);
        }
        pb_head(&p, "papertrader_notify_queue_depth", "gauge", "Notifications waiting to be sent.");
        pb_num(&p, "papertrader_notify_queue_depth", (double)ns.queue_depth);
    }
    pthread_mutex_unlock(&h->mu);
    if (len)
        *len = p.len;
    return p.full ? PT_EFULL : PT_OK;
}

/* Caller holds mu. "feed,engine" or "none". */
static void stale_list(const ops_health *h, int64_t now, char *buf, size_t cap)
{
    pbuf p = {buf, cap, 0, 0};
    buf[0] = '\0';
    for (int i = 0; i < h->n_comp; i++)
        if (stale_locked(h, &h->comp[i], now))
            pb(&p, "%s%s", p.len ? "," : "", h->comp[i].name);
    if (!p.len)
        snprintf(buf, cap, "none");
}

void ops_health_log_heartbeat(ops_health *h, const char *extra)
{
    if (!h)
        return;
    int64_t now = h->cfg.clock_ms();
    char stale[256];
    ops_health_inputs in;
    pthread_mutex_lock(&h->mu);
    int score = score_locked(h, now, &in);
    stale_list(h, now, stale, sizeof stale);
    double p50 = ops_latency_quantile(h->rest, 0.5), p99 = ops_latency_quantile(h->rest, 0.99);
    pt_info("heartbeat: health %d (%s), stale %s, errors %llu (%d in 10 min), rss %.1f MiB, cpu %.1f%%, "
            "rest p50 %.0f ms p99 %.0f ms%s%s",
            score, level_names[ops_health_level_of(score)], stale, (unsigned long long)h->errors_total,
            in.recent_errors, h->rss_kb / 1024.0, h->cpu_pct, isnan(p50) ? 0 : p50, isnan(p99) ? 0 : p99,
            extra && *extra ? ", " : "", extra ? extra : "");
    pthread_mutex_unlock(&h->mu);
}

void ops_health_log_report(ops_health *h)
{
    if (!h)
        return;
    int64_t now = h->cfg.clock_ms();
    ops_health_inputs in;
    pthread_mutex_lock(&h->mu);
    int score = score_locked(h, now, &in);
    pt_info("health report: score %d (%s), uptime %lld s, rss %.1f MiB of %.0f MiB budget, cpu %.1f%%", score,
            level_names[ops_health_level_of(score)], (long long)((now - h->started_ms) / 1000), h->rss_kb / 1024.0,
            h->cfg.rss_limit_kb / 1024.0, h->cpu_pct);
    for (int i = 0; i < h->n_comp; i++) {
        const component *c = &h->comp[i];
        int64_t age = beat_age(c, now);
        pt_info("  %-10s %s%s%s%s, beats %llu, last %s%lld ms ago, errors %llu", c->name, state_names[c->state],
                c->state_text[0] ? " (" : "", c->state_text, c->state_text[0] ? ")" : "",
                (unsigned long long)c->beats, age < 0 ? "never " : "", (long long)(age < 0 ? 0 : age),
                (unsigned long long)c->errors);
    }
    if (ops_latency_total(h->rest))
        pt_info("  rest       %llu calls, p50 %.1f ms, p99 %.1f ms, errors %.1f%%",
                (unsigned long long)ops_latency_total(h->rest), ops_latency_quantile(h->rest, 0.5),
                ops_latency_quantile(h->rest, 0.99), in.rest_error_rate * 100);
    if (h->notifier) {
        ops_notify_stats ns;
        ops_notifier_stats(h->notifier, &ns);
        pt_info("  notifier   sent %llu, failed %llu, dropped %llu, rate limited %llu, aggregated %llu, queued %llu",
                (unsigned long long)ns.sent, (unsigned long long)ns.failed, (unsigned long long)ns.dropped,
                (unsigned long long)ns.rate_limited, (unsigned long long)ns.aggregated,
                (unsigned long long)ns.queue_depth);
    }
    for (int i = 0; i < h->ring_n && i < 5; i++) {
        const ops_health_error_rec *e = &h->ring[(h->ring_head - 1 - i + h->cfg.error_ring) % h->cfg.error_ring];
        char ts[32];
        pt_format_iso_ms(e->wall_ms, ts, sizeof ts);
        pt_info("  error      %s [%s] %s", ts, h->comp[e->comp].name, e->text);
    }
    pthread_mutex_unlock(&h->mu);
}
