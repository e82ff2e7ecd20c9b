/* Configuration: one schema, four layers.
 *
 * Precedence (lowest first): built-in defaults < INI file (--config) <
 * environment PAPERTRADER_<SECTION>_<KEY> < command-line flags. Each value
 * remembers where it came from, so `papertrader config check` can say why a
 * value is what it is. Strict by default: an unknown section or key, or a
 * value out of range, is an error naming file:line and the key, with a
 * suggestion for likely typos (docs/config.md).
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
    const char *enums; /* "a|b|c" for T_ENUM; "old=new" is an accepted alias */
    int secret;        /* never printed */
    const char *help;
    const char *flag; /* the command-line flag of the key, or NULL (ops.h OPS_CMD_*) */
    unsigned cmds;    /* the commands that take the flag */
} cfg_key;

/* The optional last arguments are the flag and its commands: a key with a
 * flag is an option of those commands, with this row's range and help. */
#define ROW(s, k, t, lo, hi, d, e, h, ...)                                                           \
    {.section = s, .key = k, .type = t, .min = lo, .max = hi, .def = d, .enums = e, .help = h, __VA_ARGS__}
#define NUM(s, k, lo, hi, d, h, ...) ROW(s, k, T_NUM, lo, hi, d, NULL, h, __VA_ARGS__)
#define INT(s, k, lo, hi, d, h, ...) ROW(s, k, T_INT, lo, hi, d, NULL, h, __VA_ARGS__)
#define STR(s, k, d, h, ...) ROW(s, k, T_STR, 0, 0, d, NULL, h, __VA_ARGS__)
#define SECRET(s, k, h) ROW(s, k, T_STR, 0, 0, NULL, NULL, h, .secret = 1)
#define ENUM(s, k, e, d, h, ...) ROW(s, k, T_ENUM, 0, 0, d, e, h, __VA_ARGS__)
#define BOOL(s, k, d, h, ...) ROW(s, k, T_BOOL, 0, 0, d, NULL, h, __VA_ARGS__)
#define FL(f, c) .flag = f, .cmds = c
#define BT OPS_CMD_BACKTEST
#define LV OPS_CMD_SESSION

static const cfg_key schema[] = {
    NUM("session", "cash", 1e-6, 1e15, "10000", "starting cash in quote currency", FL("cash", BT | LV)),
    STR("session", "out", NULL, "output folder (default logs/<UTC time>-<mode>/)", FL("out", BT | LV)),
    NUM("session", "fee_bps", 0, 1000, "10", "taker fee in basis points", FL("fee-bps", BT | LV)),
    NUM("session", "maker_fee_bps", 0, 1000, "10", "maker fee in basis points", FL("maker-fee-bps", BT | LV)),
    NUM("session", "slippage_bps", 0, 1000, "0", "slippage in basis points", FL("slippage-bps", BT | LV)),
    ROW("session", "sizing", T_SIZING, 0, 0, "all-in", NULL, "all-in | quote:N | percent:P | risk:P",
        FL("sizing", BT | LV)),
    BOOL("session", "allow_short", "false", "allow short positions", FL("allow-short", BT | LV)),
    BOOL("session", "close_at_end", "false", "close open positions when the data ends", FL("close-at-end", BT | LV)),
    /* perpetual futures (docs/futures.md) */
    ENUM("session", "market", "spot|perp", "spot", "spot, or linear perpetual futures", FL("market", BT | LV)),
    NUM("session", "leverage", 1, 1000, "1", "perp: leverage (at most the first bracket's max)",
        FL("leverage", BT | LV)),
    ROW("session", "symbol_leverage", T_LIST, 0, 0, NULL, NULL, "perp: leverage per symbol, SYMBOL=N,...",
        FL("symbol-leverage", BT | LV)),
    ENUM("session", "margin", "isolated|cross", "isolated", "perp: margin mode", FL("margin", BT | LV)),
    STR("session", "brackets", NULL, "perp: CAP:MAX_LEV:MMR%,... (default: the built-in table)",
        FL("brackets", BT | LV)),
    NUM("session", "liquidation_fee_bps", 0, 1000, "50", "perp: liquidation fee on notional",
        FL("liquidation-fee-bps", BT | LV)),
    STR("session", "funding", NULL, "perp backtest: funding-rate CSV (ts,rate[,symbol,mark_price])",
        FL("funding", BT)),
    STR("session", "mark", NULL, "perp backtest: mark-price candle CSV", FL("mark", BT)),
    ROW("session", "funding_interval", T_INTERVAL, 0, 0, "8h", NULL,
        "perp backtest: longest step between funding rows (longer: a gap)", FL("funding-interval", BT)),
    /* backtest's --fsync (default none) is not read from the config: a
     * backtest is re-derivable; "fill" was its word for "every" */
    ENUM("session", "fsync", "every|none|fill=every", "every", "ledger durability: fdatasync every fill, or never",
         FL("fsync", LV)),
    INT("session", "strategy_timeout_ms", 0, 86400000, "5000",
        "live: an external strategy's answer deadline (0 = wait)"),
    INT("session", "restart_limit", 0, 1000, "5", "refuse to start after this many failed starts in a row (0 = off)"),
    INT("session", "restart_healthy_s", 1, 86400, "600", "uptime after which a start counts as healthy"),
    STR("session", "rules", NULL, "trading rules file (rules.json, docs/rules.md)", FL("rules", BT | LV)),
    /* the venues of feed_adapter_names(), checked equal by tests/unit/test_feed_venues.c */
    ENUM("feed", "exchange", "binance|bitvavo|bybit|okx|kraken|coinbase|bybit-linear|kucoin|binance-futures", "binance", "exchange protocol", FL("exchange", LV)),
    STR("feed", "ws_url", NULL, "WebSocket base URL (scheme://host:port)", FL("ws-url", LV)),
    STR("feed", "rest_url", NULL, "REST base URL (scheme://host:port)", FL("rest-url", LV)),
    ROW("feed", "symbols", T_LIST, 0, 0, NULL, NULL, "comma-separated symbols", FL("symbols", LV)),
    ROW("feed", "interval", T_INTERVAL, 0, 0, "1m", NULL, "candle interval (1m, 5m, 1h, ...)", FL("interval", LV)),
    INT("feed", "backoff_base_ms", 10, 60000, "500", "reconnect backoff base"),
    INT("feed", "backoff_cap_ms", 100, 3600000, "30000", "reconnect backoff cap"),
    INT("feed", "stale_after_s", 1, 3600, "30", "no data for this long: stale, reconnect"),
    INT("feed", "max_msg_bytes", 1024, 67108864, "1048576", "largest accepted message"),
    STR("feed", "ca_file", NULL, "extra CA certificate file (tests)", FL("ca-file", LV)),
    STR("strategy", "name", "sma_cross", "built-in name or path to a plugin .so", FL("strategy", BT | LV)),
    INT("risk", "max_positions", 0, 64, "64", "most open positions at once (0 or 64 = off)",
        FL("max-positions", BT | LV)),
    NUM("risk", "max_exposure_pct", 0, 100, "100", "most equity in one symbol (0 = off)",
        FL("max-exposure-pct", BT | LV)),
    NUM("risk", "daily_loss_pct", 0, 100, "0", "stop entries for the UTC day past this loss (0 = off)",
        FL("daily-loss-pct", BT | LV)),
    NUM("risk", "max_drawdown_pct", 0, 100, "0", "kill switch: flatten past this drawdown (0 = off)",
        FL("max-drawdown-pct", BT | LV)),
    NUM("risk", "min_notional", 0, 1e15, "0", "smallest entry in quote (0 = 0.01 % of the starting cash)",
        FL("min-notional", BT | LV)),
    /* the flag is --cooldown-losses N:CANDLES, both keys at once */
    INT("risk", "cooldown_losses", 0, 1000, "0", "consecutive losses that start a cooldown (0 = off)"),
    INT("risk", "cooldown_candles", 0, 10000000, "0", "cooldown length in candles"),
    INT("risk", "atr_period", 1, 10000, "14", "ATR period of risk sizing's stop distance", FL("atr-period", BT | LV)),
    NUM("risk", "atr_mult", 1e-6, 1000, "2", "ATR multiple of risk sizing's stop distance", FL("atr-mult", BT | LV)),
    NUM("risk", "max_participation_pct", 0, 100, "0", "largest fill as % of the candle's volume (0 = off)",
        FL("max-participation-pct", BT | LV)),
    NUM("quality", "min_quality", 0, 100, "60", "score below which new entries are blocked (0 = off)",
        FL("min-quality", BT | LV)),
    INT("quality", "window", 10, 100000, "500", "candles in the score window"),
    STR("server", "host", "127.0.0.1", "listen address (non-loopback needs a token)", FL("host", LV)),
    INT("server", "port", 0, 65535, "8765", "dashboard port (0 = a free port)", FL("port", LV)),
    SECRET("server", "token", "access token (prefer token_file or the environment)"),
    STR("server", "token_file", NULL, "file holding the access token (mode 0600)", FL("token-file", LV)),
    STR("server", "web_dir", NULL, "dashboard files overriding the built-in copy", FL("web-dir", LV)),
    ROW("server", "allowed_origins", T_LIST, 0, 0, NULL, NULL, "extra allowed Origin values"),
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
    STR("log", "dir", "logs", "folder for papertrader.log and errors.log", FL("log-dir", LV)),
    INT("log", "max_size_mb", 1, 1024, "10", "rotate a log file past this size"),
    INT("log", "max_files", 1, 100, "5", "rotated generations kept"),
    INT("log", "heartbeat_s", 0, 86400, "60", "heartbeat log line period (0 = off)", FL("heartbeat", LV)),
    INT("log", "report_interval_s", 1, 86400, "3600", "health report period (docs/health.md)"),
    INT("log", "health_window_s", 5, 3600, "600", "feed faults lower the health score this long"),
    /* [symbol.NAME]: one section per symbol, the same keys for every NAME
     * (SYM_SECTION below); values are kept as written (exact decimals) */
    NUM("symbol.*", "tick_size", 1e-18, 1e15, NULL, "price step (docs/rules.md)"),
    NUM("symbol.*", "lot_step", 1e-18, 1e15, NULL, "quantity step (docs/rules.md)"),
    NUM("symbol.*", "min_qty", 1e-18, 1e15, NULL, "smallest order quantity (docs/rules.md)"),
    NUM("symbol.*", "min_notional", 1e-18, 1e15, NULL, "smallest order value in quote (docs/rules.md)"),
};
#define N_SCHEMA (sizeof schema / sizeof schema[0])
#define MAX_EXTRA 32 /* [strategy] parameters: free keys, numeric */
#define SYM_SECTION "symbol.*" /* the template row of every [symbol.NAME] */
#define MAX_SYM_VALUES 256     /* [symbol.NAME] key = value pairs at most */

typedef struct cfg_value {
    char *value;
    char origin[96]; /* "default", "file.ini:12", "env PAPERTRADER_X", "flag --x" */
} cfg_value;

struct ops_config {
    cfg_value v[N_SCHEMA];
    struct {
        char key[32];
        cfg_value val;
        int file_line; /* line in the file being loaded; 0 = not from it */
    } extra[MAX_EXTRA];
    int n_extra;
    struct { /* [symbol.NAME] values: the row of their key, NAME */
        char name[PT_SYMBOL_MAX];
        int row;
        cfg_value val;
        int file_line;
    } sym[MAX_SYM_VALUES];
    int n_sym;
    int errors;
    /* parse state */
    const char *path;
    int line;
    int file_line[N_SCHEMA]; /* line of each key in the file being loaded; 0 = not set there */
};

/* The [symbol.NAME] entry of row i (create: add it), or -1. */
static int sym_entry(ops_config *cfg, const char *name, int i, int create)
{
    for (int j = 0; j < cfg->n_sym; j++)
        if (cfg->sym[j].row == i && !strcmp(cfg->sym[j].name, name))
            return j;
    if (!create || cfg->n_sym == MAX_SYM_VALUES || strlen(name) >= PT_SYMBOL_MAX)
        return -1;
    snprintf(cfg->sym[cfg->n_sym].name, PT_SYMBOL_MAX, "%s", name);
    cfg->sym[cfg->n_sym].row = i;
    return cfg->n_sym++;
}

/* "symbol.BTCUSDT" -> "BTCUSDT"; NULL for any other section (the
 * template "symbol.*" included). */
static const char *sym_name(const char *section)
{
    if (strncasecmp(section, "symbol.", 7) || !section[7] || !strcmp(section + 7, "*"))
        return NULL;
    return section + 7;
}

static int find_key(const char *section, const char *key)
{
    if (sym_name(section))
        section = SYM_SECTION;
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
    if (sym_name(section))
        section = SYM_SECTION;
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

/* text against "a|b|old=a": the canonical word into canon (an alias
 * resolved), or the words (and aliases) into why. */
static int enum_match(const char *enums, const char *text, char *canon, size_t ccap, char *why, size_t cap)
{
    char words[160] = "", aliases[160] = "";
    for (const char *p = enums; *p;) {
        size_t n = strcspn(p, "|"), eq = strcspn(p, "=|");
        const char *word = eq < n ? p + eq + 1 : p;
        int wn = eq < n ? (int)(n - eq - 1) : (int)n;
        if (eq == strlen(text) && !strncmp(p, text, eq)) {
            snprintf(canon, ccap, "%.*s", wn, word);
            return PT_OK;
        }
        char *list = eq < n ? aliases : words;
        size_t used = strlen(list);
        snprintf(list + used, sizeof words - used, "%s%.*s", used ? (eq < n ? ", " : "|") : "", (int)n, p);
        p += n + (p[n] == '|');
    }
    snprintf(why, cap, "must be one of %s%s%s%s", words, aliases[0] ? " (aliases " : "", aliases,
             aliases[0] ? ")" : "");
    return PT_EINVAL;
}

static int validate(const cfg_key *k, const char *text, char *why, size_t cap, char *canon, size_t ccap)
{
    if (ccap)
        canon[0] = '\0';
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
    case T_ENUM:
        return enum_match(k->enums, text, canon, ccap, why, cap);
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
    char canon[64];
    if (validate(&schema[i], value, why, sizeof why, canon, sizeof canon)) {
        pt_err_log("%s: [%s] %s = '%s': %s", origin, section, key, schema[i].secret ? "***" : value,
                   why);
        cfg->errors++;
        return PT_EINVAL;
    }
    cfg_value *slot = &cfg->v[i];
    if (sym_name(section)) {
        int j = sym_entry(cfg, sym_name(section), i, 1);
        if (j < 0) {
            pt_err_log("%s: [%s]: a symbol name of at most %d bytes, at most %d [symbol.*] values", origin,
                       section, PT_SYMBOL_MAX - 1, MAX_SYM_VALUES);
            cfg->errors++;
            return PT_EFULL;
        }
        slot = &cfg->sym[j].val;
    }
    return store(slot, canon[0] ? canon : value, origin);
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
    for (int j = 0; j < cfg->n_sym; j++)
        free(cfg->sym[j].val.value);
    free(cfg);
}

typedef struct line_reader {
    FILE *f;
    ops_config *cfg;
} line_reader;

/* fgets for inih, counting lines; a NUL byte would cut the line short
 * unseen (inih works on C strings), so such a line is an error and is
 * given to inih as an empty line. */
static char *counting_reader(char *str, int num, void *stream)
{
    line_reader *lr = stream;
    int n = 0, c = EOF, nul = 0;
    while (n < num - 1 && (c = getc(lr->f)) != EOF) {
        nul |= c == '\0';
        str[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0)
        return NULL;
    str[n] = '\0';
    lr->cfg->line++;
    if (nul) {
        pt_err_log("%s:%d: NUL byte in the line (a value would be cut short at it)", lr->cfg->path,
                   lr->cfg->line);
        lr->cfg->errors++;
        memcpy(str, "\n", 2);
    }
    return str;
}

/* The line this file already set [section] name at (0 = not yet); notes
 * the current line for the next time. */
static int seen_before(ops_config *cfg, const char *section, const char *name)
{
    int *slot = NULL, i = find_key(section, name), y = -1;
    if (i >= 0 && sym_name(section) && (y = sym_entry(cfg, sym_name(section), i, 0)) < 0)
        return 0; /* first time: ops_config_set adds it, on_ini notes the line */
    if (i >= 0)
        slot = y >= 0 ? &cfg->sym[y].file_line : &cfg->file_line[i];
    for (int j = 0; i < 0 && j < cfg->n_extra; j++)
        if (!strcasecmp(section, "strategy") && !strcmp(cfg->extra[j].key, name))
            slot = &cfg->extra[j].file_line;
    int prev = slot ? *slot : 0;
    if (slot && !prev)
        *slot = cfg->line;
    return prev;
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
    int prev = seen_before(cfg, section, name);
    if (prev) { /* last-wins would hide one of the two */
        pt_err_log("%s: [%s] %s is set twice in this file (lines %d and %d)", origin, section, name,
                   prev, cfg->line);
        cfg->errors++;
        return 1;
    }
    int n_extra = cfg->n_extra, n_sym = cfg->n_sym;
    ops_config_set(cfg, section, name, value, origin);
    if (cfg->n_extra > n_extra) /* a new [strategy] key: its line for next time */
        cfg->extra[n_extra].file_line = cfg->line;
    if (cfg->n_sym > n_sym) /* a new [symbol.NAME] key, likewise */
        cfg->sym[n_sym].file_line = cfg->line;
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
    memset(cfg->file_line, 0, sizeof cfg->file_line);
    for (int j = 0; j < cfg->n_extra; j++)
        cfg->extra[j].file_line = 0;
    for (int j = 0; j < cfg->n_sym; j++)
        cfg->sym[j].file_line = 0;
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
    if (i >= 0 && sym_name(section)) {
        int j = sym_entry((ops_config *)cfg, sym_name(section), i, 0);
        return j >= 0 ? &cfg->sym[j].val : NULL;
    }
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

const char *ops_config_symbol_at(const ops_config *cfg, int i)
{
    for (int j = 0; j < cfg->n_sym; j++) {
        int first = 1;
        for (int k = 0; k < j && first; k++)
            first = strcmp(cfg->sym[k].name, cfg->sym[j].name) != 0;
        if (first && i-- == 0)
            return cfg->sym[j].name;
    }
    return NULL;
}

/* [symbol.NAME] sections after the schema's, in the order first set. */
static void print_symbols(const ops_config *cfg, FILE *out)
{
    const char *name;
    for (int i = 0; (name = ops_config_symbol_at(cfg, i)); i++) {
        fprintf(out, "\n[symbol.%s]\n", name);
        for (int j = 0; j < cfg->n_sym; j++)
            if (!strcmp(cfg->sym[j].name, name))
                fprintf(out, "%s = %s  ; %s\n", schema[cfg->sym[j].row].key, cfg->sym[j].val.value,
                        cfg->sym[j].val.origin);
    }
}

void ops_config_print(const ops_config *cfg, FILE *out)
{
    const char *section = "";
    for (size_t i = 0; i < N_SCHEMA; i++) {
        if (!strcmp(schema[i].section, SYM_SECTION))
            continue; /* a template: its values follow per symbol */
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
    print_symbols(cfg, out);
}

/* ------------------------------------------------------ the schema as a table */

static const char *const type_names[] = {"text", "number", "integer", "bool", "choice", "interval", "list",
                                         "sizing"};

static void key_info(const cfg_key *k, ops_config_key_info *out)
{
    *out = (ops_config_key_info){k->section, k->key,  k->flag, k->help, k->def, type_names[k->type],
                                 k->enums,   k->min,  k->max,  k->cmds, k->type != T_BOOL};
}

int ops_config_key_at(size_t i, ops_config_key_info *out)
{
    if (i >= N_SCHEMA)
        return PT_ENOENT;
    key_info(&schema[i], out);
    return PT_OK;
}

int ops_config_flag_key(const char *flag, unsigned cmd, ops_config_key_info *out)
{
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (schema[i].flag && (schema[i].cmds & cmd) && !strcmp(schema[i].flag, flag)) {
            key_info(&schema[i], out);
            return PT_OK;
        }
    return PT_ENOENT;
}

int ops_config_check_value(const char *section, const char *key, const char *text, char *canon, size_t ccap,
                           char *why, size_t cap)
{
    int i = find_key(section, key);
    if (i < 0) {
        snprintf(why, cap, "no key [%s] %s", section, key);
        return PT_ENOENT;
    }
    if (validate(&schema[i], text, why, cap, canon, ccap))
        return PT_EINVAL;
    if (ccap && !canon[0])
        snprintf(canon, ccap, "%s", text);
    return PT_OK;
}
