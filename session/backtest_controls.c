/* Recorded operator controls for a backtest replay (session_controls.h). */
#include "session.h"

#include "pt_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bc_row {
    int64_t boundary; /* INT64_MIN: before the first candle */
    sim_control_action action;
    char symbol[PT_SYMBOL_MAX];
} bc_row;

struct session_controls {
    bc_row *rows;
    size_t n, next;
    char path[512];
};

size_t session_controls_count(const session_controls *c) { return c ? c->n : 0; }

void session_controls_free(session_controls *c)
{
    if (!c)
        return;
    free(c->rows);
    free(c);
}

/* One data line "ts,time,action,symbol" (ts empty: before the first candle). */
static int parse_row(char *line, bc_row *r, const char **field, const char **why)
{
    char *f[4] = {0};
    int n = 0;
    for (char *p = line; n < 4; n++) {
        f[n] = p;
        char *comma = strchr(p, ',');
        if (!comma) {
            n++;
            break;
        }
        *comma = 0;
        p = comma + 1;
    }
    *field = "line", *why = "want 4 fields: boundary_ts,boundary_time,action,symbol";
    if (n != 4)
        return PT_EPARSE;
    *field = "boundary_ts";
    r->boundary = INT64_MIN;
    if (*f[0] && pt_parse_int64(f[0], strlen(f[0]), &r->boundary, why))
        return PT_EPARSE;
    *field = "action", *why = "want pause, resume, close_position or flatten";
    if (sim_control_parse(f[2], &r->action))
        return PT_EPARSE;
    *field = "symbol", *why = "too long";
    if (strlen(f[3]) >= sizeof r->symbol)
        return PT_EPARSE;
    memcpy(r->symbol, f[3], strlen(f[3]) + 1);
    return PT_OK;
}

int session_controls_load(const char *path, session_controls **out)
{
    int rc = PT_ENOMEM;
    char line[512];
    long lineno = 0;
    session_controls *c = calloc(1, sizeof *c);
    FILE *f = NULL;
    if (!c || !(c->rows = calloc(SESSION_CONTROLS_MAX, sizeof *c->rows)))
        goto fail;
    snprintf(c->path, sizeof c->path, "%s", path);
    rc = PT_EIO;
    if (!(f = fopen(path, "r"))) {
        pt_err_log("%s: cannot read controls: %s", path, strerror(errno));
        goto fail;
    }
    rc = PT_EPARSE;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (!len || line[len - 1] != '\n') {
            pt_err_log("%s:%ld: line: torn or longer than %zu bytes", path, lineno, sizeof line - 2);
            goto fail;
        }
        line[--len] = 0;
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        if (lineno == 1 && !strncmp(line, "boundary_ts,", 12))
            continue; /* header */
        const char *field = "", *why = "";
        if (c->n == SESSION_CONTROLS_MAX) {
            pt_err_log("%s:%ld: more than %d controls", path, lineno, SESSION_CONTROLS_MAX);
            goto fail;
        }
        if (parse_row(line, &c->rows[c->n], &field, &why)) {
            pt_err_log("%s:%ld: %s: %s", path, lineno, field, why);
            goto fail;
        }
        if (c->n && c->rows[c->n].boundary < c->rows[c->n - 1].boundary) {
            pt_err_log("%s:%ld: boundary_ts: goes back in time", path, lineno);
            goto fail;
        }
        c->n++;
    }
    fclose(f);
    *out = c;
    return PT_OK;
fail:
    if (f)
        fclose(f);
    session_controls_free(c);
    return rc;
}

int session_controls_apply(session_controls *c, sim_engine *e, int64_t ts)
{
    for (; c && c->next < c->n && c->rows[c->next].boundary < ts; c->next++) {
        const bc_row *r = &c->rows[c->next];
        const char *why = NULL;
        int rc = sim_engine_control_at(e, r->action, r->symbol[0] ? r->symbol : NULL, r->boundary, &why);
        if (rc) {
            pt_err_log("%s: control %zu (%s %s): %s", c->path, c->next + 1, sim_control_name(r->action),
                       r->symbol, why ? why : pt_strerror(rc));
            return rc;
        }
    }
    return PT_OK;
}
