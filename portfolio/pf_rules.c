/* pf_rules: the exchange's trading rules per symbol as exact decimals, the
 * rounding onto their grids and the rules.json file (portfolio.h "rules",
 * docs/rules.md). Pure arithmetic plus one file reader/writer. */
#include "portfolio.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEC_MAX_E 18
#define RULES_FILE_MAX (1 << 20)
#define TWO53 9007199254740992.0

static const double pow10_tab[DEC_MAX_E + 1] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                                1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                                1e14, 1e15, 1e16, 1e17, 1e18};

int pf_dec_parse(const char *text, pf_dec *out, const char **why)
{
    const char *dummy = NULL;
    why = why ? why : &dummy;
    *out = (pf_dec){0, 0};
    int64_t m = 0;
    int e = 0, digits = 0, dot = 0;
    const char *p = text ? text : "";
    for (; *p; p++) {
        if (*p == '.' && !dot) {
            dot = 1;
            continue;
        }
        if (*p < '0' || *p > '9') {
            *why = "must be a plain decimal like 0.001 (no sign, no exponent)";
            return PT_EINVAL;
        }
        if (m == 0 && *p == '0' && !dot)
            continue; /* leading zeros */
        if (++digits > 18 || (dot && ++e > DEC_MAX_E)) {
            *why = "has more than 18 digits or 18 decimals";
            return PT_EINVAL;
        }
        m = m * 10 + (*p - '0');
    }
    if (p == text || (dot && p - text == 1)) {
        *why = "is empty";
        return PT_EINVAL;
    }
    while (e > 0 && m % 10 == 0) {
        m /= 10;
        e--;
    }
    if (m == 0) {
        *why = "must be greater than 0";
        return PT_EINVAL;
    }
    *out = (pf_dec){m, e};
    return PT_OK;
}

int pf_dec_format(pf_dec d, char *buf, size_t cap)
{
    if (d.m <= 0)
        return snprintf(buf, cap, "%s", "");
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)d.m);
    if (d.e == 0)
        return snprintf(buf, cap, "%s", digits);
    if (n > d.e)
        return snprintf(buf, cap, "%.*s.%s", n - d.e, digits, digits + n - d.e);
    static const char zeros[] = "000000000000000000";
    return snprintf(buf, cap, "0.%.*s%s", d.e - n, zeros, digits);
}

double pf_dec_value(pf_dec d) { return d.m > 0 ? (double)d.m / pow10_tab[d.e] : 0; }

/* The double of grid point n: n*m*10^-e, one rounding. */
static double grid(double n, pf_dec d) { return n * (double)d.m / pow10_tab[d.e]; }

double pf_dec_round(double x, pf_dec d, int up)
{
    if (d.m <= 0 || !isfinite(x) || x < 0)
        return x;
    double n = floor(x / pf_dec_value(d));
    if ((n + 2) * (double)d.m > TWO53)
        return x; /* finer than x's own resolution: already on the grid */
    /* the estimate is off by at most one either way: settle it exactly */
    while (n > 0 && grid(n, d) > x)
        n--;
    while (grid(n + 1, d) <= x)
        n++;
    if (up && grid(n, d) < x)
        n++;
    return grid(n, d);
}

const pf_rules *pf_rules_find(const pf_rules_set *set, const char *symbol)
{
    for (int i = 0; set && i < set->n; i++)
        if (!strcmp(set->r[i].symbol, symbol))
            return &set->r[i];
    return NULL;
}

static pf_rules *rules_get(pf_rules_set *set, const char *symbol)
{
    pf_rules *r = (pf_rules *)pf_rules_find(set, symbol);
    if (r || set->n == PF_MAX_SYMBOLS || !symbol[0] || strlen(symbol) >= PT_SYMBOL_MAX)
        return r;
    r = &set->r[set->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->symbol, sizeof r->symbol, "%s", symbol);
    return r;
}

/* The fields by their config/JSON key: one table for the file, the config
 * and the messages. */
static const struct {
    const char *key;
    size_t off;
} fields[] = {
    {"tick_size", offsetof(pf_rules, tick)},
    {"lot_step", offsetof(pf_rules, step)},
    {"min_qty", offsetof(pf_rules, min_qty)},
    {"min_notional", offsetof(pf_rules, min_notional)},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

const char *pf_rules_key(size_t i) { return i < N_FIELDS ? fields[i].key : NULL; }

static pf_dec *field_of(pf_rules *r, size_t i) { return (pf_dec *)((char *)r + fields[i].off); }

int pf_rules_set_field(pf_rules_set *set, const char *symbol, const char *key, const char *text,
                       const char **why)
{
    const char *dummy = NULL;
    why = why ? why : &dummy;
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (strcmp(fields[i].key, key))
            continue;
        pf_dec d;
        if (pf_dec_parse(text, &d, why))
            return PT_EINVAL;
        pf_rules *r = rules_get(set, symbol);
        if (!r) {
            *why = "too many symbols (or a bad symbol name)";
            return PT_EFULL;
        }
        *field_of(r, i) = d;
        return PT_OK;
    }
    *why = "unknown rule (tick_size, lot_step, min_qty, min_notional)";
    return PT_EINVAL;
}

int pf_rules_merge(pf_rules_set *dst, const pf_rules_set *src)
{
    for (int i = 0; i < src->n; i++) {
        pf_rules *d = rules_get(dst, src->r[i].symbol);
        if (!d)
            return PT_EFULL;
        for (size_t k = 0; k < N_FIELDS; k++)
            if (field_of((pf_rules *)&src->r[i], k)->m > 0)
                *field_of(d, k) = *field_of((pf_rules *)&src->r[i], k);
    }
    return PT_OK;
}

int pf_rules_add_json(const pf_rules *r, cJSON *o)
{
    char buf[40];
    for (size_t k = 0; k < N_FIELDS; k++) {
        pf_dec d = *field_of((pf_rules *)r, k);
        if (d.m > 0 && (pf_dec_format(d, buf, sizeof buf) < 0 || !cJSON_AddStringToObject(o, fields[k].key, buf)))
            return PT_ENOMEM;
    }
    if ((r->tick.m && !cJSON_AddNumberToObject(o, "price_decimals", r->tick.e)) ||
        (r->step.m && !cJSON_AddNumberToObject(o, "qty_decimals", r->step.e)))
        return PT_ENOMEM;
    return PT_OK;
}

cJSON *pf_rules_to_json(const pf_rules_set *set)
{
    cJSON *j = cJSON_CreateObject(), *sy = NULL;
    if (!j || !cJSON_AddNumberToObject(j, "version", 1) || !cJSON_AddStringToObject(j, "source", set->source) ||
        !(sy = cJSON_AddObjectToObject(j, "symbols")))
        goto fail;
    for (int i = 0; i < set->n; i++) {
        cJSON *o = cJSON_AddObjectToObject(sy, set->r[i].symbol);
        if (!o || pf_rules_add_json(&set->r[i], o))
            goto fail;
    }
    return j;
fail:
    cJSON_Delete(j);
    return NULL;
}

int pf_rules_write(const char *path, const pf_rules_set *set)
{
    cJSON *j = pf_rules_to_json(set);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return PT_ENOMEM;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = PT_EIO, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0 && !pt_write_all(fd, text, strlen(text)) && !pt_write_all(fd, "\n", 1) &&
        !fsync(fd))
        rc = PT_OK;
    if ((fd >= 0 && close(fd)) || (rc == PT_OK && rename(tmp, path)))
        rc = PT_EIO;
    if (rc)
        pt_err_log("rules %s: cannot write: %s", path, strerror(errno));
    free(text);
    return rc;
}

static char *read_all(const char *path, int *rc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = errno == ENOENT ? PT_ENOENT : PT_EIO;
        pt_err_log("rules %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(RULES_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, RULES_FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > RULES_FILE_MAX) {
        *rc = buf ? PT_EIO : PT_ENOMEM;
        pt_err_log("rules %s: %s", path, bad ? "read error" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* One symbol object of the file. */
static int read_symbol(const char *path, const cJSON *o, pf_rules_set *out)
{
    if (!cJSON_IsObject(o)) {
        pt_err_log("rules %s: symbols.%s: not an object", path, o->string);
        return PT_EPARSE;
    }
    for (size_t k = 0; k < N_FIELDS; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, fields[k].key);
        const char *why = "must be a decimal text (\"0.01\")";
        int rc = v ? PT_EINVAL : PT_OK;
        if (cJSON_IsString(v))
            rc = pf_rules_set_field(out, o->string, fields[k].key, v->valuestring, &why);
        if (rc) {
            pt_err_log("rules %s: symbols.%s.%s: %s", path, o->string, fields[k].key, why);
            return rc;
        }
    }
    return PT_OK;
}

int pf_rules_read(const char *path, pf_rules_set *out)
{
    memset(out, 0, sizeof *out);
    int rc = PT_OK;
    char *text = read_all(path, &rc);
    if (!text)
        return rc;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *sy = cJSON_GetObjectItemCaseSensitive(j, "symbols");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "source");
    if (!cJSON_IsObject(sy)) {
        pt_err_log("rules %s: %s", path, j ? "symbols: missing or not an object" : "not valid JSON");
        cJSON_Delete(j);
        return PT_EPARSE;
    }
    snprintf(out->source, sizeof out->source, "%s", cJSON_IsString(src) ? src->valuestring : path);
    const cJSON *o;
    cJSON_ArrayForEach(o, sy)
    {
        if ((rc = read_symbol(path, o, out)))
            break;
    }
    cJSON_Delete(j);
    return rc;
}

static void fmt_num(double v, char *buf, size_t cap) { pf_format_double(v, buf, cap); }

int pf_rules_check(const pf_rules *r, double qty, double price, char *why, size_t cap)
{
    char a[40], b[40];
    if (!(qty > 0)) {
        pf_dec_format(r->step, b, sizeof b);
        snprintf(why, cap, "quantity rounds to 0 on the lot step %s (lot_step)", b);
        return PT_ERANGE;
    }
    if (r->min_qty.m && qty < pf_dec_value(r->min_qty)) {
        fmt_num(qty, a, sizeof a);
        pf_dec_format(r->min_qty, b, sizeof b);
        snprintf(why, cap, "quantity %s is below the minimum quantity %s (min_qty)", a, b);
        return PT_ERANGE;
    }
    if (r->min_notional.m && qty * price < pf_dec_value(r->min_notional)) {
        fmt_num(qty * price, a, sizeof a);
        pf_dec_format(r->min_notional, b, sizeof b);
        snprintf(why, cap, "order value %s is below the minimum order value %s (min_notional)", a, b);
        return PT_ERANGE;
    }
    return PT_OK;
}
