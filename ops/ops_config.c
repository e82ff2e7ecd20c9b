/* Configuration: one schema, four layers.
 *
 * Precedence (lowest first): built-in defaults < INI file (--config) <
 * environment PAPERTRADER_<SECTION>_<KEY> < command-line flags. Each value
 * remembers where it came from, so `papertrader config check` can say why a
 * value is what it is. Strict by default: an unknown section or key, or a
 * value out of range, is an error naming file:line and the key, with a
 * suggestion for likely typos (../shared/notes/robustness.md 5c, K1-K9).
 *
 * inih does not tell the handler the line number (Debian builds it without
 * INI_HANDLER_LINENO), so we feed it through ini_parse_stream with a reader
 * that counts lines. */
#include "ops.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef enum cfg_type { T_STR, T_NUM, T_INT, T_BOOL, T_ENUM, T_INTERVAL, T_LIST, T_SIZING } cfg_type;

typedef struct cfg_key {
    const char *section, *key;
    cfg_type type;
    double min, max;
    const char *def;   /* NULL = unset */
    const char *enums; /* "a|b|c" for T_ENUM */
    int secret;        /* never printed */
    const char *help;
} cfg_key;

#define NUM(s, k, lo, hi, d, h) {s, k, T_NUM, lo, hi, d, NULL, 0, h}
#define INT(s, k, lo, hi, d, h) {s, k, T_INT, lo, hi, d, NULL, 0, h}
#define STR(s, k, d, h) {s, k, T_STR, 0, 0, d, NULL, 0, h}
#define SECRET(s, k, h) {s, k, T_STR, 0, 0, NULL, NULL, 1, h}
#define ENUM(s, k, e, d, h) {s, k, T_ENUM, 0, 0, d, e, 0, h}
#define BOOL(s, k, d, h) {s, k, T_BOOL, 0, 0, d, NULL, 0, h}

static const cfg_key schema[] = {
    NUM("session", "cash", 1e-6, 1e15, "10000", "starting cash in quote currency"),
    STR("session", "out", NULL, "output folder (default logs/<UTC time>-<mode>/)"),
    NUM("session", "fee_bps", 0, 1000, "10", "taker fee in basis points"),
    NUM("session", "maker_fee_bps", 0, 1000, "10", "maker fee in basis points"),
    NUM("session", "slippage_bps", 0, 1000, "0", "slippage in basis points"),
    {"session", "sizing", T_SIZING, 0, 0, "all-in", NULL, 0, "all-in | quote:N | percent:P | risk:P"},
    BOOL("session", "allow_short", "false", "allow short positions"),
    BOOL("session", "close_at_end", "false", "close open positions when the data ends"),
    ENUM("session", "fsync", "every|none", "every", "ledger durability: fdatasync every fill, or never"),
    INT("session", "strategy_timeout_ms", 0, 86400000, "5000",
        "live: an external strategy's answer deadline (0 = wait)"),
    ENUM("feed", "exchange", "binance|bitvavo", "binance", "exchange protocol"),
    STR("feed", "ws_url", NULL, "WebSocket base URL (scheme://host:port)"),
    STR("feed", "rest_url", NULL, "REST base URL (scheme://host:port)"),
    {"feed", "symbols", T_LIST, 0, 0, NULL, NULL, 0, "comma-separated symbols"},
    {"feed", "interval", T_INTERVAL, 0, 0, "1m", NULL, 0, "candle interval (1m, 5m, 1h, ...)"},
    INT("feed", "backoff_base_ms", 10, 60000, "500", "reconnect backoff base"),
    INT("feed", "backoff_cap_ms", 100, 3600000, "30000", "reconnect backoff cap"),
    INT("feed", "stale_after_s", 1, 3600, "30", "no data for this long: stale, reconnect"),
    INT("feed", "max_msg_bytes", 1024, 67108864, "1048576", "largest accepted message"),
    STR("feed", "ca_file", NULL, "extra CA certificate file (tests)"),
    STR("strategy", "name", "sma_cross", "built-in name, path to a plugin .so, or a strategy program (.py, .mjs, executable)"),
    INT("risk", "max_positions", 1, 64, "64", "most open positions at once"),
    NUM("risk", "max_exposure_pct", 0.01, 100, "100", "most equity in one symbol"),
    NUM("risk", "daily_loss_pct", 0, 100, "0", "stop entries for the UTC day past this loss (0 = off)"),
    NUM("risk", "max_drawdown_pct", 0, 100, "0", "kill switch: flatten past this drawdown (0 = off)"),
    NUM("risk", "min_notional", 0, 1e15, "0", "smallest entry in quote (0 = 0.01 % of the starting cash)"),
    INT("risk", "cooldown_losses", 0, 1000, "0", "consecutive losses that start a cooldown (0 = off)"),
    INT("risk", "cooldown_candles", 0, 1000000, "0", "cooldown length in candles"),
    NUM("quality", "min_quality", 0, 100, "60", "score below which new entries are blocked (0 = off)"),
    INT("quality", "window", 10, 100000, "500", "candles in the score window"),
    STR("server", "host", "127.0.0.1", "listen address (non-loopback needs a token)"),
    INT("server", "port", 0, 65535, "8765", "dashboard port (0 = a free port)"),
    SECRET("server", "token", "access token (prefer token_file or the environment)"),
    STR("server", "token_file", NULL, "file holding the access token (mode 0600)"),
    {"server", "allowed_origins", T_LIST, 0, 0, NULL, NULL, 0, "extra allowed Origin values"},
    INT("server", "max_clients", 1, 1024, "16", "dashboard WebSocket clients at most"),
    STR("notify", "webhook_url", NULL, "generic JSON POST target"),
    STR("notify", "slack_url", NULL, "Slack/Discord-compatible webhook"),
    STR("notify", "telegram_chat_id", NULL, "Telegram chat id"),
    SECRET("notify", "telegram_token", "Telegram bot token (prefer the environment)"),
    STR("notify", "telegram_token_file", NULL, "file holding the Telegram bot token (mode 0600)"),
    INT("notify", "errors_per_hour", 0, 10000, "30", "rate limit for error notifications"),
    INT("notify", "trades_per_hour", 0, 10000, "100", "rate limit for trade notifications"),
    INT("notify", "status_per_hour", 0, 10000, "10", "rate limit for status notifications"),
    STR("notify", "discord_url", NULL, "Discord webhook ({\"content\"} payload)"),
    STR("notify", "telegram_api_url", "https://api.telegram.org", "Telegram Bot API base URL (tests)"),
    INT("notify", "queue_size", 1, 4096, "64", "notifications waiting at most (lowest priority dropped)"),
    INT("notify", "timeout_s", 1, 300, "10", "timeout of one notification request"),
    ENUM("log", "level", "error|warn|info|debug", "info", "log level"),
    STR("log", "dir", "logs", "folder for papertrader.log and errors.log"),
    INT("log", "max_size_mb", 1, 1024, "10", "rotate a log file past this size"),
    INT("log", "max_files", 1, 100, "5", "rotated generations kept"),
    INT("log", "heartbeat_s", 0, 86400, "60", "heartbeat log line period (0 = off)"),
    INT("log", "report_interval_s", 1, 86400, "3600", "health report period (docs/health.md)"),
};
#define N_SCHEMA (sizeof schema / sizeof schema[0])
#define MAX_EXTRA 32 /* [strategy] parameters: free keys, numeric */

typedef struct cfg_value {
    char *value;
    char origin[96]; /* "default", "file.ini:12", "env PAPERTRADER_X", "flag --x" */
} cfg_value;

struct ops_config {
    cfg_value v[N_SCHEMA];
    struct {
        char key[32];
        cfg_value val;
    } extra[MAX_EXTRA];
    int n_extra;
    int errors;
    /* parse state */
    const char *path;
    int line;
};

static int find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (!strcasecmp(schema[i].section, section) && !strcasecmp(schema[i].key, key))
            return (int)i;
    return -1;
}

static int levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = c < del ? (c < ins ? c : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

static const char *suggest(const char *section, const char *key)
{
    const char *best = NULL;
    int best_d = 3; /* only close typos */
    for (size_t i = 0; i < N_SCHEMA; i++) {
        if (strcasecmp(schema[i].section, section))
            continue;
        int dist = levenshtein(key, schema[i].key);
        if (strstr(key, schema[i].key) || strstr(schema[i].key, key))
            dist = dist < 2 ? dist : 2; /* "initial_cash" for "cash" */
        if (dist < best_d) {
            best_d = dist;
            best = schema[i].key;
        }
    }
    return best;
}

/* Validates text against the key's type; writes a reason on failure. */
int ops_config_check_sizing(const char *text, char *why, size_t cap);

static int validate(const cfg_key *k, const char *text, char *why, size_t cap)
{
    size_t len = strlen(text);
    double d;
    int64_t iv, ms;
    switch (k->type) {
    case T_STR:
    case T_LIST:
        if (len > 4096) {
            snprintf(why, cap, "value too long");
            return PT_EINVAL;
        }
        return PT_OK;
    case T_NUM:
        if (pt_parse_decimal(text, len, &d, NULL) || d < k->min || d > k->max) {
            snprintf(why, cap, "must be a number in [%g, %g]", k->min, k->max);
            return PT_EINVAL;
        }
        return PT_OK;
    case T_INT:
        if (pt_parse_int64(text, len, &iv, NULL) || iv < (int64_t)k->min || iv > (int64_t)k->max) {
            snprintf(why, cap, "must be a whole number in [%.0f, %.0f]", k->min, k->max);
            return PT_EINVAL;
        }
        return PT_OK;
    case T_BOOL:
        if (strcasecmp(text, "true") && strcasecmp(text, "false") && strcmp(text, "1") &&
            strcmp(text, "0") && strcasecmp(text, "yes") && strcasecmp(text, "no")) {
            snprintf(why, cap, "must be true or false");
            return PT_EINVAL;
        }
        return PT_OK;
    case T_ENUM: {
        const char *p = k->enums;
        while (*p) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            if (n == len && !strncmp(p, text, n))
                return PT_OK;
            if (!bar)
                break;
            p = bar + 1;
        }
        snprintf(why, cap, "must be one of %s", k->enums);
        return PT_EINVAL;
    }
    case T_INTERVAL:
        if (pt_interval_parse(text, &ms)) {
            snprintf(why, cap, "must be an interval like 1m, 5m, 1h, 1d");
            return PT_EINVAL;
        }
        return PT_OK;
    case T_SIZING:
        return ops_config_check_sizing(text, why, cap);
    }
    return PT_EINVAL;
}

int ops_config_check_sizing(const char *text, char *why, size_t cap)
{
    if (!strcmp(text, "all-in"))
        return PT_OK;
    const char *colon = strchr(text, ':');
    double d;
    if (colon && pt_parse_decimal(colon + 1, strlen(colon + 1), &d, NULL) == PT_OK && d > 0) {
        size_t n = (size_t)(colon - text);
        int is_quote = n == 5 && !strncmp(text, "quote", 5);
        int is_pct = (n == 7 && !strncmp(text, "percent", 7)) || (n == 4 && !strncmp(text, "risk", 4));
        if (is_quote || (is_pct && d <= 100))
            return PT_OK;
    }
    snprintf(why, cap, "must be all-in, quote:N (N > 0), percent:P or risk:P (0 < P <= 100)");
    return PT_EINVAL;
}

static int store(cfg_value *slot, const char *value, const char *origin)
{
    char *copy = strdup(value);
    if (!copy)
        return PT_ENOMEM;
    free(slot->value);
    slot->value = copy;
    snprintf(slot->origin, sizeof slot->origin, "%s", origin);
    return PT_OK;
}

int ops_config_set(ops_config *cfg, const char *section, const char *key, const char *value,
                   const char *origin)
{
    char why[160];
    int i = find_key(section, key);
    if (i < 0 && !strcasecmp(section, "strategy")) {
        /* a strategy parameter: numeric; the strategy checks name and range */
        double d;
        if (strlen(key) >= sizeof cfg->extra[0].key ||
            pt_parse_decimal(value, strlen(value), &d, NULL)) {
            pt_err_log("%s: [strategy] %s = '%s': a strategy parameter must be a number", origin, key,
                       value);
            cfg->errors++;
            return PT_EINVAL;
        }
        for (int j = 0; j < cfg->n_extra; j++)
            if (!strcmp(cfg->extra[j].key, key))
                return store(&cfg->extra[j].val, value, origin);
        if (cfg->n_extra == MAX_EXTRA) {
            pt_err_log("%s: too many [strategy] parameters (at most %d)", origin, MAX_EXTRA);
            cfg->errors++;
            return PT_EFULL;
        }
        snprintf(cfg->extra[cfg->n_extra].key, sizeof cfg->extra[0].key, "%s", key);
        return store(&cfg->extra[cfg->n_extra++].val, value, origin);
    }
    if (i < 0) {
        const char *s = suggest(section, key);
        pt_err_log("%s: unknown key '%s' in [%s]%s%s%s", origin, key, section,
                   s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
        cfg->errors++;
        return PT_EINVAL;
    }
    if (validate(&schema[i], value, why, sizeof why)) {
        pt_err_log("%s: [%s] %s = '%s': %s", origin, section, key, schema[i].secret ? "***" : value,
                   why);
        cfg->errors++;
        return PT_EINVAL;
    }
    return store(&cfg->v[i], value, origin);
}

int ops_config_new(ops_config **out)
{
    ops_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return PT_ENOMEM;
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (schema[i].def && store(&cfg->v[i], schema[i].def, "default")) {
            ops_config_free(cfg);
            return PT_ENOMEM;
        }
    *out = cfg;
    return PT_OK;
}

void ops_config_free(ops_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < N_SCHEMA; i++)
        free(cfg->v[i].value);
    for (int j = 0; j < cfg->n_extra; j++)
        free(cfg->extra[j].val.value);
    free(cfg);
}

typedef struct line_reader {
    FILE *f;
    ops_config *cfg;
} line_reader;

static char *counting_reader(char *str, int num, void *stream)
{
    line_reader *lr = stream;
    char *r = fgets(str, num, lr->f);
    if (r)
        lr->cfg->line++;
    return r;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    ops_config *cfg = user;
    char origin[96];
    snprintf(origin, sizeof origin, "%s:%d", cfg->path, cfg->line);
    if (!section[0]) {
        pt_err_log("%s: key '%s' outside any [section]", origin, name);
        cfg->errors++;
        return 1;
    }
    ops_config_set(cfg, section, name, value, origin);
    return 1; /* keep going: report every error at once */
}

int ops_config_load_file(ops_config *cfg, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        pt_err_log("config %s: %s", path, strerror(errno));
        return PT_ENOENT;
    }
    if (!S_ISREG(st.st_mode)) {
        pt_err_log("config %s: not a regular file", path);
        return PT_EINVAL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        pt_err_log("config %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    line_reader lr = {f, cfg};
    cfg->path = path;
    cfg->line = 0;
    int before = cfg->errors;
    int rc = ini_parse_stream(counting_reader, &lr, on_ini, cfg);
    fclose(f);
    if (rc > 0) {
        /* our handler never fails, so a positive rc is a syntax error inih
         * found itself: it names the first such line */
        pt_err_log("%s:%d: syntax error (expected [section] or key = value)", path, rc);
        cfg->errors++;
    } else if (rc < 0) {
        pt_err_log("config %s: cannot read (%d)", path, rc);
        cfg->errors++;
    }
    return cfg->errors > before ? PT_EINVAL : PT_OK;
}

int ops_config_apply_env(ops_config *cfg, char **envp)
{
    int before = cfg->errors;
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "PAPERTRADER_", 12))
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[128];
        size_t n = (size_t)(eq - *e);
        if (n >= sizeof name)
            continue;
        memcpy(name, *e, n);
        name[n] = '\0';
        /* PAPERTRADER_<SECTION>_<KEY>: the section is the first word */
        char *sec = name + 12, *us = strchr(sec, '_');
        if (!us)
            continue;
        *us = '\0';
        char *key = us + 1;
        for (char *p = sec; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        for (char *p = key; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        char origin[160];
        snprintf(origin, sizeof origin, "environment %.*s", (int)n, *e);
        ops_config_set(cfg, sec, key, eq + 1, origin);
    }
    return cfg->errors > before ? PT_EINVAL : PT_OK;
}

static const cfg_value *lookup(const ops_config *cfg, const char *section, const char *key)
{
    int i = find_key(section, key);
    if (i >= 0)
        return &cfg->v[i];
    for (int j = 0; j < cfg->n_extra; j++)
        if (!strcasecmp(section, "strategy") && !strcmp(cfg->extra[j].key, key))
            return &cfg->extra[j].val;
    return NULL;
}

const char *ops_config_get(const ops_config *cfg, const char *section, const char *key)
{
    const cfg_value *v = lookup(cfg, section, key);
    return v ? v->value : NULL;
}

const char *ops_config_origin(const ops_config *cfg, const char *section, const char *key)
{
    const cfg_value *v = lookup(cfg, section, key);
    return v && v->value ? v->origin : NULL;
}

double ops_config_get_num(const ops_config *cfg, const char *section, const char *key, double def)
{
    const char *s = ops_config_get(cfg, section, key);
    double d;
    return s && pt_parse_decimal(s, strlen(s), &d, NULL) == PT_OK ? d : def;
}

int ops_config_get_bool(const ops_config *cfg, const char *section, const char *key)
{
    const char *s = ops_config_get(cfg, section, key);
    return s && (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes"));
}

int ops_config_strategy_params(const ops_config *cfg, char (*kv)[64], int cap)
{
    int n = 0;
    for (int j = 0; j < cfg->n_extra && n < cap; j++, n++)
        snprintf(kv[n], 64, "%s=%s", cfg->extra[j].key, cfg->extra[j].val.value);
    return n;
}

int ops_config_read_secret_file(const char *path, char *buf, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        pt_err_log("secret file %s: %s", path, strerror(errno));
        return PT_ENOENT;
    }
    if (st.st_mode & 0077) {
        pt_err_log("secret file %s is readable by others (mode %03o); chmod 600 it", path,
                   (unsigned)(st.st_mode & 0777));
        return PT_EINVAL;
    }
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, (int)cap, f)) {
        if (f)
            fclose(f);
        pt_err_log("secret file %s: cannot read", path);
        return PT_EIO;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return PT_OK;
}

int ops_config_errors(const ops_config *cfg) { return cfg->errors; }

void ops_config_print(const ops_config *cfg, FILE *out)
{
    const char *section = "";
    for (size_t i = 0; i < N_SCHEMA; i++) {
        if (strcmp(section, schema[i].section)) {
            section = schema[i].section;
            fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
            if (!strcmp(section, "strategy"))
                for (int j = 0; j < cfg->n_extra; j++)
                    fprintf(out, "%s = %s  ; %s\n", cfg->extra[j].key, cfg->extra[j].val.value,
                            cfg->extra[j].val.origin);
        }
        const cfg_value *v = &cfg->v[i];
        if (!v->value)
            fprintf(out, "; %s =  (unset: %s)\n", schema[i].key, schema[i].help);
        else
            fprintf(out, "%s = %s  ; %s\n", schema[i].key, schema[i].secret ? "***" : v->value,
                    v->origin);
    }
}
