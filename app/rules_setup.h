/* rules_setup: where a session's trading rules come from (docs/rules.md):
 * a saved file (--rules FILE / [session] rules), the exchange's metadata
 * (live sessions), the [symbol.NAME] keys of the config on top; and the
 * session folder's cache DIR/rules.json that a resume and a replay read.
 * The rules themselves and their arithmetic are portfolio/'s (pf_rules),
 * the fetch feed/'s (feed_rules_fetch). */
#ifndef PT_APP_RULES_SETUP_H
#define PT_APP_RULES_SETUP_H

#include "ops.h"
#include "portfolio.h"

struct lws_context;

/* [symbol.NAME] keys of c over *out (merged field by field). PT_OK, or
 * PT_EINVAL after logging "[symbol.X] key = 'v' (origin): why". */
int rules_setup_config(const ops_config *c, pf_rules_set *out);

typedef struct rules_live_in {
    const ops_config *cfg;      /* [session] rules, [symbol.NAME] */
    const char *exchange, *rest_url, *ca_file;
    const char *const *symbols;
    int n_symbols;
    const char *outdir;         /* DIR: DIR/rules.json */
    int resuming;               /* 1: DIR/rules.json only, never a fetch */
    struct lws_context *cx;     /* serviced while the fetch runs (an in-process simulator answers) */
} rules_live_in;

/* A live session's rules, before its first candle: resuming, the cache (or
 * none if the session had none); else the file or the exchange's metadata
 * (a failed fetch is one warning: the session goes on with the config's
 * rules or none, and says which), the config's keys on top, cached in
 * DIR/rules.json when there are any. PT_OK, or an error for a bad file or
 * key (logged). */
int rules_setup_live(const rules_live_in *in, pf_rules_set *out);

/* backtest --rule SYMBOL:KEY=VALUE (a [symbol.NAME] key of the config, as
 * backtest_config.c derives it) into keys. PT_EINVAL after printing why. */
int rules_setup_arg(const char *arg, pf_rules_set *keys);
/* A backtest's rules: the --rules file (NULL: none), else the rules.json of
 * the live session whose recording the inputs are (DIR/candles/...), then
 * the --rule keys on top. out->n == 0: none. PT_OK or the file's error. */
int rules_setup_backtest(const char *file, const pf_rules_set *keys, char *const *files, int nfiles,
                         const char *order, pf_rules_set *out);

#endif
