/* feed_rules: one metadata request per session start for the exchange's
 * trading rules (feed.h "trading rules", docs/rules.md). A few bounded
 * attempts: a 429/418/5xx or a network error waits (Retry-After, at most
 * 2 s) and tries again; a malformed answer or the venue's refusal does not. */
#include "feed_live_internal.h"
#include "portfolio.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RULES_BODY_MAX (8u << 20) /* Bitvavo's whole market list is ~0.2 MiB */
#define RULES_URL_MAX 4096
#define RULES_WAIT_MAX_MS 2000

typedef struct body {
    char *p;
    size_t n;
} body;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    body *b = ud;
    size_t k = sz * nm;
    if (b->n + k > RULES_BODY_MAX)
        return 0; /* curl stops: too big */
    char *q = realloc(b->p, b->n + k + 1);
    if (!q)
        return 0;
    memcpy(q + b->n, p, k);
    b->p = q;
    b->n += k;
    b->p[b->n] = '\0';
    return k;
}

int feed_rules_parse(const char *exchange, const char *text, size_t len, const char *const *symbols, size_t n,
                     pf_rules_set *out, char *err, size_t err_cap)
{
    const feed_adapter *ad = feed_adapter_find(exchange);
    if (!ad || !ad->rules_parse) {
        snprintf(err, err_cap, "no trading rules for exchange '%s'", exchange);
        return PT_EUNSUPPORTED;
    }
    snprintf(out->source, sizeof out->source, "%s metadata", ad->name);
    return ad->rules_parse(text, len, symbols, n, out, err, err_cap);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static CURL *easy_for(const feed_rules_opts *o, const char *url, body *b)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    long t = o->timeout_ms > 0 ? (long)o->timeout_ms : 10000L;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, t);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, strncmp(url, "https", 5) ? "http" : "https");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "papertrader/" PT_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    if (o->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    return h;
}

/* One attempt: PT_OK with the parsed answer, or why not; *retry says
 * whether trying again may help, *wait_ms how long to wait first. */
static int attempt(const feed_rules_opts *o, const feed_adapter *ad, const char *url, pf_rules_set *out,
                   char *err, size_t cap, int *retry, long *wait_ms)
{
    body b = {NULL, 0};
    CURL *h = easy_for(o, url, &b);
    int rc = PT_ENOMEM;
    *retry = 0;
    *wait_ms = 250;
    if (!h)
        goto done;
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_off_t ra = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra);
    if (cc != CURLE_OK) {
        snprintf(err, cap, "%s", curl_easy_strerror(cc));
        rc = PT_ENET;
        *retry = 1;
    } else if (status == 429 || status == 418 || (status && status == ad->rate_limit_status)) {
        snprintf(err, cap, "HTTP %ld (rate limited)", status);
        rc = PT_ERATELIMIT;
        *retry = 1;
        *wait_ms = ra > 0 ? (long)ra * 1000 : 500;
    } else if (status >= 500) {
        snprintf(err, cap, "HTTP %ld", status);
        rc = PT_ENET;
        *retry = 1;
    } else {
        rc = feed_rules_parse(ad->name, b.p ? b.p : "", b.n, o->symbols, o->n_symbols, out, err, cap);
        if (status != 200 && rc != PT_EINVAL) { /* a 4xx without the venue's error text */
            snprintf(err, cap, "HTTP %ld: %.100s", status, b.p ? b.p : "");
            rc = PT_EINVAL;
        }
    }
    if (*wait_ms > RULES_WAIT_MAX_MS)
        *wait_ms = RULES_WAIT_MAX_MS;
done:
    curl_easy_cleanup(h);
    free(b.p);
    return rc;
}

int feed_rules_fetch(const feed_rules_opts *o, pf_rules_set *out)
{
    char dummy[8], url[RULES_URL_MAX];
    char *err = o->err ? o->err : dummy;
    size_t cap = o->err ? o->err_cap : sizeof dummy;
    err[0] = '\0';
    const feed_adapter *ad = feed_adapter_find(o->exchange);
    if (!ad || !ad->rules_url) {
        snprintf(err, cap, "no trading rules for exchange '%s'", o->exchange ? o->exchange : "");
        return PT_EUNSUPPORTED;
    }
    if (ad->rules_url(o->rest_url ? o->rest_url : ad->rest_url, o->symbols, o->n_symbols, url, sizeof url)) {
        snprintf(err, cap, "too many symbols for one metadata request");
        return PT_EINVAL;
    }
    int rc = PT_ENET, tries = o->max_attempts > 0 ? o->max_attempts : 3;
    for (int i = 0; i < tries; i++) {
        int retry;
        long wait;
        memset(out, 0, sizeof *out);
        rc = attempt(o, ad, url, out, err, cap, &retry, &wait);
        if (!retry)
            break;
        pt_warn("feed: trading rules from %s, attempt %d of %d: %s", ad->name, i + 1, tries, err);
        if (i + 1 < tries)
            sleep_ms(wait);
    }
    return rc;
}
