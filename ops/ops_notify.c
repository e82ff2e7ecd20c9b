/* Notifications: webhook, Slack, Discord and Telegram targets behind a
 * bounded priority queue drained by one worker thread that owns libcurl.
 *
 * Why a worker thread and the blocking easy API: libcurl must never run in
 * the lws loop thread (a blocking transfer would stall every socket of it), and
 * notifications are rare enough that one thread with one easy handle is the
 * simplest correct shape. ops_notify_post() only formats, takes the mutex
 * and pushes. Payload shapes: Slack incoming webhooks ({"text"}), Discord
 * webhooks ({"content"}), Telegram Bot API sendMessage ({"chat_id","text"}).
 * Retry-After: RFC 9110 section 10.2.3 (curl parses both forms). */
#include "ops.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TITLE_MAX 128
#define TEXT_MAX 1024
#define AGG_MAX 32 /* distinct repeated messages tracked at once */

typedef struct notify_msg {
    ops_notify_category cat;
    ops_notify_priority prio;
    uint64_t seq;          /* FIFO within one priority */
    int64_t not_before_ms; /* retry backoff (monotonic) */
    int attempts;
    unsigned pending; /* bitmask of targets still to deliver */
    int count;        /* occurrences this message stands for */
    int64_t ts_wall;
    char title[TITLE_MAX];
    char text[TEXT_MAX];
} notify_msg;

typedef struct agg_entry {
    int used;
    ops_notify_category cat;
    ops_notify_priority prio;
    int64_t window_end;
    int repeats; /* posts folded in since the first one went out */
    char title[TITLE_MAX];
    char text[TEXT_MAX];
} agg_entry;

typedef struct bucket {
    double tokens;
    int64_t last_ms;
} bucket;

struct ops_notifier {
    ops_notify_config cfg;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stopping;
    _Atomic int64_t deadline_ms; /* flush deadline once stopping */
    notify_msg *q;
    int qn;
    uint64_t seq;
    agg_entry agg[AGG_MAX];
    bucket buckets[OPS_NOTIFY_NCAT];
    ops_notify_stats st;
};

static const char *const cat_names[OPS_NOTIFY_NCAT] = {"status", "trade", "error"};
static const char *const prio_names[] = {"low", "normal", "high", "critical"};
static const char *const kind_names[] = {"webhook", "slack", "discord", "telegram"};

static const struct {
    ops_notify_category cat;
    ops_notify_priority prio;
    const char *title;
} ev_table[OPS_EV_COUNT] = {
    [OPS_EV_START] = {OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "papertrader started"},
    [OPS_EV_STOP] = {OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "papertrader stopped"},
    [OPS_EV_TRADE] = {OPS_NOTIFY_TRADE, OPS_PRIO_NORMAL, "trade"},
    [OPS_EV_DAILY_LOSS_LIMIT] = {OPS_NOTIFY_STATUS, OPS_PRIO_CRITICAL, "daily loss limit reached"},
    [OPS_EV_QUALITY_LOW] = {OPS_NOTIFY_STATUS, OPS_PRIO_HIGH, "data quality below threshold"},
    [OPS_EV_QUALITY_OK] = {OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "data quality back above threshold"},
    [OPS_EV_FEED_DOWN] = {OPS_NOTIFY_STATUS, OPS_PRIO_CRITICAL, "feed down"},
    [OPS_EV_FEED_UP] = {OPS_NOTIFY_STATUS, OPS_PRIO_HIGH, "feed up"},
    [OPS_EV_ERROR] = {OPS_NOTIFY_ERROR, OPS_PRIO_HIGH, "error"},
};

/* Log a recurring condition at counts 1, 10, 100, ... so a flood cannot
 * flood the log too. */
static int log_worthy(uint64_t count)
{
    while (count >= 10 && count % 10 == 0)
        count /= 10;
    return count == 1;
}

void ops_notify_redact_url(const char *url, char *buf, size_t cap)
{
    if (!cap)
        return;
    buf[0] = '\0';
    if (!url)
        return;
    const char *p = strstr(url, "/bot");
    if (!p) {
        snprintf(buf, cap, "%s", url);
        return;
    }
    const char *rest = strchr(p + 4, '/');
    snprintf(buf, cap, "%.*s/bot***%s", (int)(p - url), url, rest ? rest : "");
}

/* Replace every occurrence of secret in s with "***" (curl error texts). */
static void scrub(char *s, size_t cap, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    if (sl < 4)
        return;
    char *p;
    while ((p = strstr(s, secret)) != NULL) {
        size_t tail = strlen(p + sl);
        memmove(p + 3, p + sl, tail + 1);
        memcpy(p, "***", 3);
        (void)cap;
    }
}

static void fmt_window(long ms, char *buf, size_t cap)
{
    if (ms >= 60000)
        snprintf(buf, cap, "%ld min", (ms + 30000) / 60000);
    else if (ms >= 1000)
        snprintf(buf, cap, "%ld s", (ms + 500) / 1000);
    else
        snprintf(buf, cap, "%ld ms", ms);
}

/* ------------------------------------------------------------ the queue
 * Unsorted array; pick and evict scan it (cap <= 4096, posts are rare). */

static int pick_ready(const ops_notifier *n, int64_t now, int64_t *next_at)
{
    int best = -1;
    *next_at = INT64_MAX;
    for (int i = 0; i < n->qn; i++) {
        const notify_msg *m = &n->q[i];
        if (m->not_before_ms > now) {
            if (m->not_before_ms < *next_at)
                *next_at = m->not_before_ms;
            continue;
        }
        if (best < 0 || m->prio > n->q[best].prio || (m->prio == n->q[best].prio && m->seq < n->q[best].seq))
            best = i;
    }
    return best;
}

/* Caller holds mu. Takes a copy; PT_EFULL if m was the one dropped. */
static int enqueue(ops_notifier *n, const notify_msg *m)
{
    if (n->qn >= n->cfg.queue_cap) {
        int victim = 0;
        for (int i = 1; i < n->qn; i++) {
            const notify_msg *v = &n->q[i], *w = &n->q[victim];
            if (v->prio < w->prio || (v->prio == w->prio && v->seq < w->seq))
                victim = i;
        }
        n->st.dropped++;
        if (log_worthy(n->st.dropped))
            pt_warn("notify: queue full (%d), dropped a %s message (%llu dropped so far)", n->cfg.queue_cap,
                    prio_names[m->prio <= n->q[victim].prio ? m->prio : n->q[victim].prio],
                    (unsigned long long)n->st.dropped);
        if (m->prio <= n->q[victim].prio)
            return PT_EFULL;
        n->q[victim] = n->q[--n->qn];
    }
    n->q[n->qn++] = *m;
    pthread_cond_signal(&n->cv);
    return PT_OK;
}

static void msg_init(ops_notifier *n, notify_msg *m, ops_notify_category cat, ops_notify_priority prio,
                     const char *title, const char *text, int count)
{
    memset(m, 0, sizeof *m);
    m->cat = cat;
    m->prio = prio;
    m->seq = ++n->seq;
    m->pending = (1u << n->cfg.n_targets) - 1u;
    m->count = count;
    m->ts_wall = pt_wall_ms();
    /* longer titles (aggregate summaries) are cut here on purpose; the
     * precision says so to the compiler (-Wformat-truncation in Release) */
    snprintf(m->title, sizeof m->title, "%.*s", (int)sizeof m->title - 1, title);
    snprintf(m->text, sizeof m->text, "%.*s", (int)sizeof m->text - 1, text);
}

/* Caller holds mu. Turns expired aggregation windows into summaries
 * ("feed down (x5 in 10 min)"); all of them when force. Returns the
 * earliest window end still open. */
static int64_t flush_aggregates(ops_notifier *n, int64_t now, int force)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < AGG_MAX; i++) {
        agg_entry *a = &n->agg[i];
        if (!a->used)
            continue;
        if (!force && a->window_end > now) {
            if (a->window_end < next)
                next = a->window_end;
            continue;
        }
        if (a->repeats > 0) {
            char win[32], title[TITLE_MAX + 48];
            fmt_window(n->cfg.aggregate_window_ms, win, sizeof win);
            snprintf(title, sizeof title, "%.*s (x%d in %s)", TITLE_MAX - 40, a->title, a->repeats + 1, win);
            notify_msg m;
            msg_init(n, &m, a->cat, a->prio, title, a->text, a->repeats + 1);
            (void)enqueue(n, &m);
        }
        a->used = 0;
    }
    return next;
}

/* ------------------------------------------------------------- posting */

static int take_token(ops_notifier *n, ops_notify_category cat, int64_t now)
{
    int cap = n->cfg.per_hour[cat];
    if (cap < 0)
        return 0;
    bucket *b = &n->buckets[cat];
    double refill = (double)(now - b->last_ms) * cap / (double)n->cfg.rate_window_ms;
    b->tokens = b->tokens + refill > cap ? cap : b->tokens + refill;
    b->last_ms = now;
    if (b->tokens < 1.0)
        return 0;
    b->tokens -= 1.0;
    return 1;
}

static int post_locked(ops_notifier *n, ops_notify_category cat, ops_notify_priority prio, const char *title,
                       const char *text)
{
    int64_t now = pt_mono_ms();
    if (atomic_load(&n->stopping))
        return PT_ESTATE;
    if (n->cfg.n_targets == 0) {
        n->st.dropped++;
        return PT_EFULL;
    }
    /* Trades are each distinct; status and error repeats fold together. */
    agg_entry *slot = NULL;
    if (cat != OPS_NOTIFY_TRADE) {
        for (int i = 0; i < AGG_MAX; i++) {
            agg_entry *a = &n->agg[i];
            if (a->used && a->cat == cat && !strcmp(a->title, title) && !strcmp(a->text, text)) {
                if (a->window_end > now) {
                    a->repeats++;
                    if (prio > a->prio)
                        a->prio = prio;
                    n->st.aggregated++;
                    n->st.posted++;
                    return PT_OK;
                }
                flush_aggregates(n, now, 0);
                break;
            }
        }
        for (int i = 0; i < AGG_MAX && !slot; i++)
            if (!n->agg[i].used)
                slot = &n->agg[i];
    }
    if (prio != OPS_PRIO_CRITICAL && !take_token(n, cat, now)) {
        n->st.rate_limited++;
        if (log_worthy(n->st.rate_limited))
            pt_warn("notify: %s message \"%s\" rate limited (%d per window; %llu limited so far)",
                    cat_names[cat], title, n->cfg.per_hour[cat], (unsigned long long)n->st.rate_limited);
        return PT_ERATELIMIT;
    }
    notify_msg m;
    msg_init(n, &m, cat, prio, title, text, 1);
    int rc = enqueue(n, &m);
    if (rc == PT_OK) {
        n->st.posted++;
        if (slot) {
            memset(slot, 0, sizeof *slot);
            slot->used = 1;
            slot->cat = cat;
            slot->prio = prio;
            slot->window_end = now + n->cfg.aggregate_window_ms;
            memcpy(slot->title, m.title, sizeof slot->title);
            memcpy(slot->text, m.text, sizeof slot->text);
        }
    }
    return rc;
}

int ops_notify_post(ops_notifier *n, ops_notify_category cat, ops_notify_priority prio, const char *title,
                    const char *fmt, ...)
{
    if (!n || (unsigned)cat >= OPS_NOTIFY_NCAT || (unsigned)prio > OPS_PRIO_CRITICAL || !title || !fmt)
        return PT_EINVAL;
    char text[TEXT_MAX], t[TITLE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(t, sizeof t, "%s", title);
    pthread_mutex_lock(&n->mu);
    int rc = post_locked(n, cat, prio, t, text);
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int ops_notify_event_post(ops_notifier *n, ops_notify_event ev, const char *detail)
{
    if ((unsigned)ev >= OPS_EV_COUNT)
        return PT_EINVAL;
    return ops_notify_post(n, ev_table[ev].cat, ev_table[ev].prio, ev_table[ev].title, "%s", detail ? detail : "");
}

void ops_notifier_stats(ops_notifier *n, ops_notify_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    *out = n->st;
    out->queue_depth = (uint64_t)n->qn;
    pthread_mutex_unlock(&n->mu);
}

/* ------------------------------------------------------------ delivery */

static size_t discard_body(char *p, size_t sz, size_t nm, void *ud)
{
    (void)p, (void)ud;
    return sz * nm;
}

/* Shutdown flush is over: its deadline passed, or a second SIGINT/SIGTERM
 * came ("a second signal exits at once": docs/health.md, ops_signal). */
static int flush_over(ops_notifier *n, int64_t now)
{
    return atomic_load(&n->stopping) && (now >= atomic_load(&n->deadline_ms) || ops_signal_stop_count() >= 2);
}

/* Aborts a request still running when the flush is over. */
static int xfer_check(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return flush_over(ud, pt_mono_ms());
}

static char *build_body(const ops_notify_target *t, const notify_msg *m)
{
    cJSON *o = cJSON_CreateObject();
    char line[TITLE_MAX + TEXT_MAX + 16];
    char *out = NULL;
    if (!o)
        return NULL;
    switch (t->kind) {
    case OPS_HOOK_SLACK:
        snprintf(line, sizeof line, "*%s*%s%s", m->title, m->text[0] ? "\n" : "", m->text);
        cJSON_AddStringToObject(o, "text", line);
        break;
    case OPS_HOOK_DISCORD:
        snprintf(line, sizeof line, "**%s**%s%s", m->title, m->text[0] ? "\n" : "", m->text);
        cJSON_AddStringToObject(o, "content", line);
        break;
    case OPS_HOOK_TELEGRAM:
        snprintf(line, sizeof line, "%s%s%s", m->title, m->text[0] ? "\n" : "", m->text);
        cJSON_AddStringToObject(o, "chat_id", t->chat_id);
        cJSON_AddStringToObject(o, "text", line);
        break;
    default: {
        char ts[32];
        pt_format_iso_ms(m->ts_wall, ts, sizeof ts);
        cJSON_AddStringToObject(o, "source", "papertrader");
        cJSON_AddStringToObject(o, "category", cat_names[m->cat]);
        cJSON_AddStringToObject(o, "priority", prio_names[m->prio]);
        cJSON_AddStringToObject(o, "title", m->title);
        cJSON_AddStringToObject(o, "text", m->text);
        cJSON_AddNumberToObject(o, "count", m->count);
        cJSON_AddStringToObject(o, "ts", ts);
    }
    }
    out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

typedef enum { DELIVER_OK, DELIVER_RETRY, DELIVER_FAIL } deliver_result;

/* One POST. On DELIVER_RETRY, *retry_after_ms is the server's Retry-After
 * (0 if none). why gets a short reason without secrets. */
static deliver_result post_one(ops_notifier *n, CURL *c, const ops_notify_target *t, const notify_msg *m,
                               int64_t *retry_after_ms, char *why, size_t why_cap)
{
    char url[1024], err[CURL_ERROR_SIZE] = "";
    *retry_after_ms = 0;
    if (t->kind == OPS_HOOK_TELEGRAM) {
        size_t bl = strlen(t->url);
        while (bl && t->url[bl - 1] == '/')
            bl--;
        snprintf(url, sizeof url, "%.*s/bot%s/sendMessage", (int)bl, t->url, t->token);
    } else {
        snprintf(url, sizeof url, "%s", t->url);
    }
    char *body = build_body(t, m);
    if (!body) {
        snprintf(why, why_cap, "out of memory");
        return DELIVER_RETRY;
    }
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
    if (h2)
        hdr = h2;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "papertrader/" PT_VERSION);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, n->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, n->cfg.timeout_ms < 5000 ? n->cfg.timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_check);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_off_t ra = -1;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra);
    }
    curl_slist_free_all(hdr);
    cJSON_free(body);
    if (rc != CURLE_OK) {
        snprintf(why, why_cap, "%s", err[0] ? err : curl_easy_strerror(rc));
        scrub(why, why_cap, t->token);
        return DELIVER_RETRY;
    }
    snprintf(why, why_cap, "HTTP %ld", status);
    if (status >= 200 && status < 300)
        return DELIVER_OK;
    if (status == 429 || status == 408 || status >= 500) {
        if (ra > 0)
            *retry_after_ms = (int64_t)ra * 1000;
        return DELIVER_RETRY;
    }
    return DELIVER_FAIL; /* other 4xx: bad URL, token or chat; retrying cannot help */
}

static void deliver(ops_notifier *n, CURL *c, notify_msg *m, int64_t *delay_ms)
{
    int64_t ra_max = 0;
    uint64_t sent = 0, failed = 0;
    for (int i = 0; i < n->cfg.n_targets; i++) {
        if (!(m->pending & (1u << i)))
            continue;
        const ops_notify_target *t = &n->cfg.targets[i];
        int64_t ra = 0;
        char why[CURL_ERROR_SIZE + 16], shown[600];
        deliver_result r = post_one(n, c, t, m, &ra, why, sizeof why);
        if (r == DELIVER_RETRY && m->attempts + 1 >= n->cfg.max_attempts)
            r = DELIVER_FAIL;
        if (r == DELIVER_OK) {
            m->pending &= ~(1u << i);
            sent++;
        } else if (r == DELIVER_FAIL) {
            m->pending &= ~(1u << i);
            failed++;
            ops_notify_redact_url(t->url, shown, sizeof shown);
            pt_warn("notify: %s target %s%s gave up on \"%s\" after %d attempt(s): %s", kind_names[t->kind],
                    shown, t->kind == OPS_HOOK_TELEGRAM ? "/bot***/sendMessage" : "", m->title, m->attempts + 1,
                    why);
        } else {
            pt_debug("notify: %s target attempt %d failed: %s", kind_names[t->kind], m->attempts + 1, why);
            if (ra > ra_max)
                ra_max = ra;
        }
    }
    /* Exponential backoff; a server's Retry-After wins when longer. */
    int64_t d = n->cfg.backoff_base_ms;
    for (int k = 0; k < m->attempts && d < n->cfg.backoff_cap_ms; k++)
        d *= 2;
    if (ra_max > d)
        d = ra_max;
    *delay_ms = d < n->cfg.backoff_cap_ms ? d : n->cfg.backoff_cap_ms;
    pthread_mutex_lock(&n->mu);
    n->st.sent += sent;
    n->st.failed += failed;
    pthread_mutex_unlock(&n->mu);
}

static void wait_until(ops_notifier *n, int64_t at_ms)
{
    struct timespec ts;
    if (at_ms == INT64_MAX) {
        pthread_cond_wait(&n->cv, &n->mu);
        return;
    }
    ts.tv_sec = (time_t)(at_ms / 1000);
    ts.tv_nsec = (long)(at_ms % 1000) * 1000000L;
    pthread_cond_timedwait(&n->cv, &n->mu, &ts);
}

static void *worker(void *arg)
{
    ops_notifier *n = arg;
    CURL *c = curl_easy_init();
    pthread_mutex_lock(&n->mu);
    for (;;) {
        int64_t now = pt_mono_ms();
        int stopping = atomic_load(&n->stopping);
        int64_t agg_next = flush_aggregates(n, now, stopping);
        if (stopping && (n->qn == 0 || flush_over(n, now)))
            break;
        int64_t next_at = INT64_MAX;
        int idx = c ? pick_ready(n, now, &next_at) : -1;
        if (idx < 0) {
            int64_t at = next_at < agg_next ? next_at : agg_next;
            if (stopping && now + 100 < at) /* re-check flush_over: a signal wakes no one */
                at = now + 100;
            if (!c && !stopping)
                at = INT64_MAX;
            wait_until(n, at);
            continue;
        }
        notify_msg m = n->q[idx];
        n->q[idx] = n->q[--n->qn];
        pthread_mutex_unlock(&n->mu);
        int64_t delay = 0;
        deliver(n, c, &m, &delay);
        pthread_mutex_lock(&n->mu);
        if (m.pending) {
            int targets = __builtin_popcount(m.pending);
            m.attempts++;
            m.not_before_ms = pt_mono_ms() + delay;
            n->st.retries += (uint64_t)targets;
            (void)enqueue(n, &m);
        }
    }
    if (n->qn > 0) {
        n->st.dropped += (uint64_t)n->qn;
        pt_warn("notify: shutdown deadline passed, %d queued message(s) not delivered", n->qn);
        n->qn = 0;
    }
    pthread_mutex_unlock(&n->mu);
    if (c)
        curl_easy_cleanup(c);
    else
        pt_err_log("notify: curl_easy_init failed; notifications are disabled");
    return NULL;
}

/* ------------------------------------------------------------ lifetime */

static void apply_defaults(ops_notify_config *c)
{
    static const int def_rate[OPS_NOTIFY_NCAT] = {10, 100, 30};
    for (int i = 0; i < OPS_NOTIFY_NCAT; i++)
        if (c->per_hour[i] == 0)
            c->per_hour[i] = def_rate[i];
#define DEF(f, v)                                                                                                      \
    if (c->f <= 0)                                                                                                     \
    c->f = v
    DEF(queue_cap, 64);
    DEF(max_attempts, 4);
    DEF(backoff_base_ms, 1000);
    DEF(backoff_cap_ms, 60000);
    DEF(timeout_ms, 10000);
    DEF(aggregate_window_ms, 600000);
    DEF(flush_deadline_ms, 5000);
    DEF(rate_window_ms, 3600000);
#undef DEF
    if (c->queue_cap > 4096)
        c->queue_cap = 4096;
    if (c->max_attempts > 20)
        c->max_attempts = 20;
}

int ops_notifier_new(const ops_notify_config *cfg, ops_notifier **out)
{
    ops_notifier *n = NULL;
    pthread_condattr_t ca;
    int rc = PT_ENOMEM, curl_ok = 0, sync_ok = 0;
    *out = NULL;
    if (!cfg || cfg->n_targets < 0 || cfg->n_targets > OPS_NOTIFY_MAX_TARGETS) {
        pt_err_log("notify: invalid configuration (targets %d)", cfg ? cfg->n_targets : -1);
        return PT_EINVAL;
    }
    for (int i = 0; i < cfg->n_targets; i++) {
        const ops_notify_target *t = &cfg->targets[i];
        if ((unsigned)t->kind > OPS_HOOK_TELEGRAM || !t->url[0] ||
            (t->kind == OPS_HOOK_TELEGRAM && (!t->token[0] || !t->chat_id[0]))) {
            pt_err_log("notify: target %d (%s) is incomplete", i, (unsigned)t->kind <= 3 ? kind_names[t->kind] : "?");
            return PT_EINVAL;
        }
    }
    n = calloc(1, sizeof *n);
    if (!n)
        goto fail;
    n->cfg = *cfg;
    apply_defaults(&n->cfg);
    n->q = calloc((size_t)n->cfg.queue_cap, sizeof *n->q);
    if (!n->q)
        goto fail;
    int64_t now = pt_mono_ms();
    for (int i = 0; i < OPS_NOTIFY_NCAT; i++)
        n->buckets[i] = (bucket){.tokens = n->cfg.per_hour[i] > 0 ? n->cfg.per_hour[i] : 0, .last_ms = now};
    /* curl_global_init is reference counted and thread-safe in this build
     * (CURL_VERSION_THREADSAFE, notes section 1). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pt_err_log("notify: curl_global_init failed");
        rc = PT_EIO;
        goto fail;
    }
    curl_ok = 1;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* pt_mono_ms is CLOCK_MONOTONIC */
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    sync_ok = 1;
    if (pthread_create(&n->thread, NULL, worker, n) != 0) {
        pt_err_log("notify: cannot start the worker thread: %s", strerror(errno));
        rc = PT_EIO;
        goto fail;
    }
    n->thread_started = 1;
    *out = n;
    return PT_OK;
fail:
    if (n) {
        if (sync_ok) {
            pthread_cond_destroy(&n->cv);
            pthread_mutex_destroy(&n->mu);
        }
        if (curl_ok)
            curl_global_cleanup();
        free(n->q);
        free(n);
    }
    if (rc == PT_ENOMEM)
        pt_err_log("notify: out of memory");
    return rc;
}

void ops_notifier_free(ops_notifier *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    atomic_store(&n->deadline_ms, pt_mono_ms() + n->cfg.flush_deadline_ms);
    atomic_store(&n->stopping, 1);
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (n->thread_started)
        pthread_join(n->thread, NULL);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    curl_global_cleanup();
    /* The token lives in cfg: wipe it before the memory goes back. */
    memset(&n->cfg, 0, sizeof n->cfg);
    free(n->q);
    free(n);
}

/* -------------------------------------------------------------- config */

static int add_target(ops_notify_config *cfg, ops_notify_kind kind, const char *url)
{
    if (cfg->n_targets >= OPS_NOTIFY_MAX_TARGETS)
        return PT_EFULL;
    ops_notify_target *t = &cfg->targets[cfg->n_targets++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    snprintf(t->url, sizeof t->url, "%s", url);
    return PT_OK;
}

int ops_notify_config_from(const ops_config *c, ops_notify_config *cfg)
{
    static const char *const rate_keys[OPS_NOTIFY_NCAT] = {"status_per_hour", "trades_per_hour", "errors_per_hour"};
    memset(cfg, 0, sizeof *cfg);
    const char *v;
    if ((v = ops_config_get(c, "notify", "webhook_url")) && *v)
        add_target(cfg, OPS_HOOK_JSON, v);
    if ((v = ops_config_get(c, "notify", "slack_url")) && *v)
        add_target(cfg, OPS_HOOK_SLACK, v);
    if ((v = ops_config_get(c, "notify", "discord_url")) && *v)
        add_target(cfg, OPS_HOOK_DISCORD, v);
    const char *chat = ops_config_get(c, "notify", "telegram_chat_id");
    const char *tok = ops_config_get(c, "notify", "telegram_token");
    const char *tok_file = ops_config_get(c, "notify", "telegram_token_file");
    int has_tok = (tok && *tok) || (tok_file && *tok_file);
    if ((chat && *chat) != has_tok) {
        pt_err_log("notify: telegram needs both telegram_chat_id and telegram_token (or telegram_token_file)");
        return PT_EINVAL;
    }
    if (chat && *chat) {
        const char *api = ops_config_get(c, "notify", "telegram_api_url");
        add_target(cfg, OPS_HOOK_TELEGRAM, api && *api ? api : "https://api.telegram.org");
        ops_notify_target *t = &cfg->targets[cfg->n_targets - 1];
        snprintf(t->chat_id, sizeof t->chat_id, "%s", chat);
        if (tok && *tok) {
            snprintf(t->token, sizeof t->token, "%s", tok);
        } else {
            int rc = ops_config_read_secret_file(tok_file, t->token, sizeof t->token);
            if (rc != PT_OK) {
                pt_err_log("notify: cannot read telegram_token_file %s: %s", tok_file, pt_strerror(rc));
                memset(cfg, 0, sizeof *cfg);
                return rc;
            }
        }
    }
    for (int i = 0; i < OPS_NOTIFY_NCAT; i++) {
        int r = (int)ops_config_get_num(c, "notify", rate_keys[i], -1);
        cfg->per_hour[i] = r == 0 ? -1 : (r < 0 ? 0 : r); /* 0 in the INI mutes the category */
    }
    cfg->queue_cap = (int)ops_config_get_num(c, "notify", "queue_size", 64);
    cfg->timeout_ms = (long)(ops_config_get_num(c, "notify", "timeout_s", 10) * 1000);
    return PT_OK;
}
