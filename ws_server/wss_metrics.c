/* ws_server: a small metrics registry rendered in the Prometheus text
 * exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/):
 * "# HELP" (\\ and \n escaped), "# TYPE" once per family before its
 * samples, label values with \\, \" and \n escaped. Hand-written because no
 * packaged C client exists on Debian 12 and this is ~200 lines. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pt_core.h"
#include "wss_internal.h"

#define WSS_METRIC_FAMILIES_MAX 128
#define WSS_METRIC_SERIES_MAX 512
#define WSS_METRIC_LABELS_MAX 4

typedef struct wss_series {
    char **values; /* one per label */
    double v;
} wss_series;

enum { KIND_GAUGE, KIND_COUNTER, KIND_SUMMARY };
static const char *const kind_names[] = {"gauge", "counter", "summary"};

struct wss_metric {
    char *name, *help;
    int kind;            /* KIND_*: a summary's label is "quantile" */
    double sum, count;   /* summary: NAME_sum, NAME_count */
    int has_totals;
    int nlabels;
    char *labels[WSS_METRIC_LABELS_MAX];
    wss_series *series;
    size_t n, cap;
    int warned_full;
};

struct wss_metrics {
    wss_metric *fam[WSS_METRIC_FAMILIES_MAX];
    size_t n;
};

static int valid_name(const char *s, int allow_colon)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                 (allow_colon && *p == ':') || (p != s && *p >= '0' && *p <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

wss_metrics *wss_metrics_new(void)
{
    return calloc(1, sizeof(wss_metrics));
}

static void family_free(wss_metric *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        for (int l = 0; l < f->nlabels; l++)
            free(f->series[i].values[l]);
        free(f->series[i].values);
    }
    for (int l = 0; l < f->nlabels; l++)
        free(f->labels[l]);
    free(f->series);
    free(f->name);
    free(f->help);
    free(f);
}

void wss_metrics_free(wss_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        family_free(m->fam[i]);
    free(m);
}

static wss_series *find_series(wss_metric *f, const char *const *vals, int create);

static wss_metric *declare(wss_metrics *m, const char *name, const char *help,
                           const char *label_names, int kind)
{
    wss_metric *f = NULL;
    if (!m || !valid_name(name, 1) || m->n >= WSS_METRIC_FAMILIES_MAX) {
        pt_err_log("ws_server: metrics: bad name or too many families: %s", name ? name : "(null)");
        return NULL;
    }
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->fam[i]->name, name)) {
            pt_err_log("ws_server: metrics: duplicate family %s", name);
            return NULL;
        }
    if (!(f = calloc(1, sizeof *f)) || !(f->name = strdup(name)) ||
        !(f->help = strdup(help ? help : "")))
        goto fail;
    f->kind = kind;
    if (label_names && *label_names) {
        char *copy = strdup(label_names), *save = NULL;
        if (!copy)
            goto fail;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (f->nlabels >= WSS_METRIC_LABELS_MAX || !valid_name(t, 0) ||
                !strncmp(t, "__", 2) || !(f->labels[f->nlabels] = strdup(t))) {
                pt_err_log("ws_server: metrics: bad label '%s' in %s", t, name);
                free(copy);
                goto fail;
            }
            f->nlabels++;
        }
        free(copy);
    }
    if (f->nlabels == 0 && !find_series(f, NULL, 1))
        goto fail;
    m->fam[m->n++] = f;
    return f;
fail:
    family_free(f);
    return NULL;
}

wss_metric *wss_metrics_counter(wss_metrics *m, const char *name, const char *help,
                                const char *label_names)
{
    return declare(m, name, help, label_names, KIND_COUNTER);
}

wss_metric *wss_metrics_gauge(wss_metrics *m, const char *name, const char *help,
                              const char *label_names)
{
    return declare(m, name, help, label_names, KIND_GAUGE);
}

wss_metric *wss_metrics_summary(wss_metrics *m, const char *name, const char *help)
{
    return declare(m, name, help, "quantile", KIND_SUMMARY);
}

int wss_metric_summary_totals(wss_metric *mt, double sum, double count)
{
    if (!mt || mt->kind != KIND_SUMMARY || !isfinite(sum) || !isfinite(count) || count < 0)
        return PT_EINVAL;
    mt->sum = sum;
    mt->count = count;
    mt->has_totals = 1;
    return PT_OK;
}

static wss_series *find_series(wss_metric *f, const char *const *vals, int create)
{
    for (size_t i = 0; i < f->n; i++) {
        int l = 0;
        while (l < f->nlabels && !strcmp(f->series[i].values[l], vals[l]))
            l++;
        if (l == f->nlabels)
            return &f->series[i];
    }
    if (!create)
        return NULL;
    if (f->n >= WSS_METRIC_SERIES_MAX) {
        if (!f->warned_full)
            pt_warn("ws_server: metrics: %s has %d series; dropping new label sets", f->name,
                    WSS_METRIC_SERIES_MAX);
        f->warned_full = 1;
        return NULL;
    }
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 4;
        wss_series *ns = realloc(f->series, nc * sizeof *ns);
        if (!ns)
            return NULL;
        f->series = ns;
        f->cap = nc;
    }
    wss_series *s = &f->series[f->n];
    s->v = 0;
    s->values = calloc((size_t)(f->nlabels ? f->nlabels : 1), sizeof(char *));
    if (!s->values)
        return NULL;
    for (int l = 0; l < f->nlabels; l++) {
        if (!vals[l] || !(s->values[l] = strdup(vals[l]))) {
            for (int k = 0; k < l; k++)
                free(s->values[k]);
            free(s->values);
            return NULL;
        }
    }
    f->n++;
    return s;
}

static int update(wss_metric *f, const char *const *vals, double v, int is_add)
{
    if (!f || !isfinite(v) || (f->nlabels && !vals))
        return PT_EINVAL;
    wss_series *s = find_series(f, vals, 1);
    if (!s)
        return PT_EFULL;
    double nv = is_add ? s->v + v : v;
    if (f->kind == KIND_COUNTER && nv < s->v)
        return PT_EINVAL; /* counters only go up (resets happen at restart) */
    if (!isfinite(nv))
        return PT_ERANGE;
    s->v = nv;
    return PT_OK;
}

int wss_metric_set(wss_metric *mt, const char *const *label_values, double v)
{
    return update(mt, label_values, v, 0);
}

int wss_metric_add(wss_metric *mt, const char *const *label_values, double delta)
{
    return update(mt, label_values, delta, 1);
}

/* Escapes for HELP (label=0: \\ \n) and label values (label=1: also \"). */
static int put_escaped(wss_buf *out, const char *s, int label)
{
    int rc = PT_OK;
    for (const char *p = s; *p && !rc; p++) {
        if (*p == '\\')
            rc = wss_buf_append(out, "\\\\", 2);
        else if (*p == '\n')
            rc = wss_buf_append(out, "\\n", 2);
        else if (label && *p == '"')
            rc = wss_buf_append(out, "\\\"", 2);
        else
            rc = wss_buf_append(out, p, 1);
    }
    return rc;
}

int wss_metrics_render(const wss_metrics *m, wss_buf *out)
{
    int rc = PT_OK;
    char num[40];
    for (size_t i = 0; m && i < m->n && !rc; i++) {
        const wss_metric *f = m->fam[i];
        rc = wss_buf_printf(out, "# HELP %s ", f->name);
        if (!rc)
            rc = put_escaped(out, f->help, 0);
        if (!rc)
            rc = wss_buf_printf(out, "\n# TYPE %s %s\n", f->name, kind_names[f->kind]);
        for (size_t s = 0; s < f->n && !rc; s++) {
            rc = wss_buf_append(out, f->name, strlen(f->name));
            for (int l = 0; l < f->nlabels && !rc; l++) {
                rc = wss_buf_printf(out, "%s%s=\"", l ? "," : "{", f->labels[l]);
                if (!rc)
                    rc = put_escaped(out, f->series[s].values[l], 1);
                if (!rc)
                    rc = wss_buf_append(out, "\"", 1);
            }
            if (!rc && f->nlabels)
                rc = wss_buf_append(out, "}", 1);
            pt_format_double(f->series[s].v, num, sizeof num);
            if (!rc)
                rc = wss_buf_printf(out, " %s\n", num);
        }
        if (!rc && f->has_totals) {
            char cnt[40];
            pt_format_double(f->sum, num, sizeof num);
            pt_format_double(f->count, cnt, sizeof cnt);
            rc = wss_buf_printf(out, "%s_sum %s\n%s_count %s\n", f->name, num, f->name, cnt);
        }
    }
    return rc;
}
