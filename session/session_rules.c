/* session_rules: a session's trading rules from file, exchange and config,
 * cached in DIR/rules.json (session.h, docs/rules.md). */
#include "session.h"

#include "feed.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int session_rules_config(const ops_config *c, pf_rules_set *out)
{
    const char *name;
    char section[PT_SYMBOL_MAX + 8];
    pf_rules_set add;
    memset(&add, 0, sizeof add);
    for (int i = 0; c && (name = ops_config_symbol_at(c, i)); i++) {
        snprintf(section, sizeof section, "symbol.%s", name);
        const char *key;
        for (size_t k = 0; (key = pf_rules_key(k)); k++) {
            const char *v = ops_config_get(c, section, key), *why = NULL;
            if (v && pf_rules_set_field(&add, name, key, v, &why)) {
                pt_err_log("[%s] %s = '%s' (%s): %s", section, key, v, ops_config_origin(c, section, key), why);
                return PT_EINVAL;
            }
        }
    }
    if (!add.n)
        return PT_OK;
    if (!out->source[0])
        snprintf(out->source, sizeof out->source, "config");
    return pf_rules_merge(out, &add);
}

/* The fetch on a thread of its own while this one services the loop: the
 * built-in simulator answers from that loop. */
typedef struct fetch_job {
    feed_rules_opts o;
    pf_rules_set *set;
    struct lws_context *cx;
    int rc, done;
} fetch_job;

static void *fetch_main(void *arg)
{
    fetch_job *j = arg;
    j->rc = feed_rules_fetch(&j->o, j->set);
    __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
    if (j->cx)
        lws_cancel_service(j->cx); /* wake the loop below */
    return NULL;
}

static int fetch(const session_rules_live_in *in, pf_rules_set *out, char *err, size_t cap)
{
    fetch_job j = {.o = {.exchange = in->exchange, .rest_url = in->rest_url, .ca_file = in->ca_file,
                         .symbols = in->symbols, .n_symbols = (size_t)in->n_symbols, .timeout_ms = 5000,
                         .err = err, .err_cap = cap},
                   .set = out, .cx = in->cx};
    pthread_t t;
    if (pthread_create(&t, NULL, fetch_main, &j)) {
        snprintf(err, cap, "cannot start a thread");
        return PT_ENOMEM;
    }
    const struct timespec nap = {0, 10000000};
    while (!__atomic_load_n(&j.done, __ATOMIC_ACQUIRE))
        if (!in->cx || lws_service(in->cx, 0) < 0)
            nanosleep(&nap, NULL);
    pthread_join(t, NULL);
    return j.rc;
}

/* The file or the exchange: the rules the config's keys go on top of. */
static int base_rules(const session_rules_live_in *in, pf_rules_set *out)
{
    const char *file = ops_config_get(in->cfg, "session", "rules");
    if (file)
        return pf_rules_read(file, out) ? PT_EINVAL : PT_OK;
    char err[200] = "";
    int rc = fetch(in, out, err, sizeof err);
    if (rc == PT_OK || (rc == PT_ENOENT && out->n > 0)) {
        if (rc)
            pt_warn("session: trading rules: %s (those symbols trade without rules)", err);
        return PT_OK;
    }
    memset(out, 0, sizeof *out);
    int have_config = in->cfg && ops_config_symbol_at(in->cfg, 0);
    pt_warn("session: trading rules from %s could not be fetched (%s): going on with %s", in->exchange, err,
            have_config ? "the config's [symbol.NAME] rules" : "no trading rules");
    return PT_OK;
}

int session_rules_live(const session_rules_live_in *in, pf_rules_set *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/rules.json", in->outdir);
    memset(out, 0, sizeof *out);
    if (in->resuming) { /* the rules it started with, whatever the exchange says now */
        if (access(path, F_OK))
            return PT_OK;
        int rc = pf_rules_read(path, out);
        if (!rc)
            pt_info("session: trading rules of %d symbols from %s", out->n, path);
        return rc;
    }
    int rc = base_rules(in, out);
    if (!rc)
        rc = session_rules_config(in->cfg, out);
    if (rc || !out->n)
        return rc;
    pt_info("session: trading rules of %d symbols (%s), recorded in %s", out->n, out->source, path);
    return pf_rules_write(path, out);
}

int session_rules_arg(const char *arg, pf_rules_set *keys)
{
    const char *colon = strchr(arg, ':'), *eq = colon ? strchr(colon, '=') : NULL, *why = "want SYMBOL:KEY=VALUE";
    char sym[PT_SYMBOL_MAX], key[32];
    if (colon && eq && colon > arg && (size_t)(colon - arg) < sizeof sym && (size_t)(eq - colon - 1) < sizeof key) {
        snprintf(sym, sizeof sym, "%.*s", (int)(colon - arg), arg);
        snprintf(key, sizeof key, "%.*s", (int)(eq - colon - 1), colon + 1);
        if (!pf_rules_set_field(keys, sym, key, eq + 1, &why)) {
            snprintf(keys->source, sizeof keys->source, "config");
            return PT_OK;
        }
    }
    fprintf(stderr, "papertrader backtest: --rule '%s': %s\n", arg, why);
    return PT_EINVAL;
}

int session_rules_backtest(const char *file, const pf_rules_set *keys, char *const *files, int nfiles,
                         const char *order, pf_rules_set *out)
{
    char dir[4096], path[4200] = "";
    memset(out, 0, sizeof *out);
    for (int i = -1; !file && !path[0] && i < nfiles; i++) { /* a recording replays with its rules */
        const char *p = i < 0 ? order : files[i];
        if (p && session_recording_dir_of(p, dir, sizeof dir)) {
            snprintf(path, sizeof path, "%s/rules.json", dir);
            if (access(path, F_OK))
                path[0] = '\0';
        }
    }
    if (path[0])
        file = path;
    if (file && pf_rules_read(file, out))
        return PT_EINVAL;
    if (file)
        pt_info("backtest: trading rules of %d symbols from %s", out->n, file);
    if (!out->source[0] && keys->n)
        snprintf(out->source, sizeof out->source, "%s", keys->source);
    return pf_rules_merge(out, keys);
}
