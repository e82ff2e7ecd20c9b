/* opt_space: the parameter space of `optimize` (optimize.h). Canonical
 * order: combination number c in mixed radix, the first --grid axis the
 * most significant; --random keeps N distinct combinations, ascending. */
#include "optimize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (fprintf(stderr, "papertrader optimize: " __VA_ARGS__), fputc('\n', stderr), 2)

/* Digits after the point in a decimal text (for exact range steps). */
static int decimals(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    return dot ? (int)(s + n - dot - 1) : 0;
}

static int number(const char *grid, const char *s, size_t n, double *v)
{
    const char *why = "not a number";
    if (n == 0 || pt_parse_decimal(s, n, v, &why))
        return ERR("--grid %s: '%.*s': %s", grid, (int)n, s, why);
    return 0;
}

/* "a:b:step" -> a, a+step, ... <= b, rounded to the texts' decimals. */
static int parse_range(const char *grid, const char *t, opt_axis *ax)
{
    const char *c1 = strchr(t, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    double a, b, step;
    if (!c2 || strchr(c2 + 1, ':'))
        return ERR("--grid %s: a range is FROM:TO:STEP", grid);
    if (number(grid, t, (size_t)(c1 - t), &a) || number(grid, c1 + 1, (size_t)(c2 - c1 - 1), &b) ||
        number(grid, c2 + 1, strlen(c2 + 1), &step))
        return 2;
    if (!(step > 0))
        return ERR("--grid %s: step must be > 0", grid);
    if (a > b)
        return ERR("--grid %s: inverted range (%g > %g)", grid, a, b);
    int d = decimals(t, (size_t)(c1 - t));
    int d2 = decimals(c1 + 1, (size_t)(c2 - c1 - 1)), d3 = decimals(c2 + 1, strlen(c2 + 1));
    d = d > d2 ? d : d2;
    d = d > d3 ? d : d3;
    double n = floor((b - a) / step + 1e-9) + 1;
    if (n > OPT_MAX_VALUES)
        return ERR("--grid %s: more than %d values", grid, OPT_MAX_VALUES);
    ax->n = (int)n;
    ax->v = malloc((size_t)ax->n * sizeof *ax->v);
    if (!ax->v)
        return ERR("out of memory");
    double scale = pow(10, d > 12 ? 12 : d);
    for (int i = 0; i < ax->n; i++)
        ax->v[i] = round((a + i * step) * scale) / scale;
    return 0;
}

static int parse_list(const char *grid, const char *t, opt_axis *ax)
{
    int n = 1;
    for (const char *p = t; *p; p++)
        n += *p == ',';
    if (n > OPT_MAX_VALUES)
        return ERR("--grid %s: more than %d values", grid, OPT_MAX_VALUES);
    ax->v = malloc((size_t)n * sizeof *ax->v);
    if (!ax->v)
        return ERR("out of memory");
    for (const char *p = t;; ) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0)
            return ERR("--grid %s: empty value in the list", grid);
        if (number(grid, p, len, &ax->v[ax->n]))
            return 2;
        for (int i = 0; i < ax->n; i++)
            if (ax->v[i] == ax->v[ax->n])
                return ERR("--grid %s: value %.*s given twice", grid, (int)len, p);
        ax->n++;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int param_index(const sim_strategy_ops *ops, const char *name, size_t n)
{
    for (int i = 0; i < ops->n_params; i++)
        if (strlen(ops->params[i].name) == n && !strncmp(ops->params[i].name, name, n))
            return i;
    return -1;
}

static int parse_axis(opt_space *sp, const char *const *params, int n_params, const char *grid)
{
    const sim_strategy_ops *ops = sp->ops;
    const char *eq = strchr(grid, '=');
    if (!eq || eq == grid || !eq[1])
        return ERR("--grid '%s': want K=FROM:TO:STEP or K=V1,V2,...", grid);
    int p = param_index(ops, grid, (size_t)(eq - grid));
    if (p < 0)
        return ERR("--grid %s: unknown parameter '%.*s' of %s (papertrader strategies lists "
                   "them)", grid, (int)(eq - grid), grid, ops->name);
    for (int i = 0; i < sp->n_axes; i++)
        if (sp->ax[i].param == p)
            return ERR("--grid %s: parameter %s already has a --grid", grid, ops->params[p].name);
    for (int i = 0; i < n_params; i++)
        if ((size_t)(strchr(params[i], '=') - params[i]) == strlen(ops->params[p].name) &&
            !strncmp(params[i], ops->params[p].name, strlen(ops->params[p].name)))
            return ERR("--grid %s: %s is also fixed by --param %s", grid, ops->params[p].name,
                       params[i]);
    opt_axis *ax = &sp->ax[sp->n_axes++];
    ax->param = p;
    int rc = strchr(eq + 1, ':') ? parse_range(grid, eq + 1, ax) : parse_list(grid, eq + 1, ax);
    if (rc)
        return rc;
    const sim_param_spec *ps = &ops->params[p];
    for (int i = 0; i < ax->n; i++)
        if (ax->v[i] < ps->min || ax->v[i] > ps->max || (ps->integer && ax->v[i] != floor(ax->v[i])))
            return ERR("--grid %s: value %g outside %s's range [%g, %g]%s", grid, ax->v[i],
                       ps->name, ps->min, ps->max, ps->integer ? " (whole numbers)" : "");
    return 0;
}

static void combo_values(const opt_space *sp, uint64_t c, double *values)
{
    memcpy(values, sp->base, sizeof sp->base);
    for (int a = sp->n_axes - 1; a >= 0; a--) {
        values[sp->ax[a].param] = sp->ax[a].v[c % (uint64_t)sp->ax[a].n];
        c /= (uint64_t)sp->ax[a].n;
    }
}

void opt_space_values(const opt_space *sp, uint64_t i, double *values)
{
    combo_values(sp, sp->combo[i], values);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The candidate combination numbers: all, or N distinct drawn with seed. */
static int candidates(opt_space *sp, uint64_t random_n, uint64_t seed, uint64_t *n)
{
    *n = random_n && random_n < sp->combos ? random_n : sp->combos;
    sp->combo = malloc((size_t)*n * sizeof *sp->combo);
    if (!sp->combo)
        return ERR("out of memory");
    if (*n == sp->combos) {
        for (uint64_t c = 0; c < *n; c++)
            sp->combo[c] = c;
        return 0;
    }
    uint64_t st = seed, k = 0;
    while (k < *n) { /* draw the missing ones, then sort and drop repeats */
        for (uint64_t j = k; j < *n; j++)
            sp->combo[j] = splitmix(&st) % sp->combos;
        qsort(sp->combo, (size_t)*n, sizeof *sp->combo, cmp_u64);
        k = 0;
        for (uint64_t j = 0; j < *n; j++)
            if (k == 0 || sp->combo[j] != sp->combo[k - 1])
                sp->combo[k++] = sp->combo[j];
    }
    return 0;
}

/* Drops the combinations the strategy's create() refuses (fast >= slow). */
static int constrain(opt_space *sp, uint64_t n)
{
    double v[SIM_MAX_PARAMS];
    char err[160];
    for (uint64_t k = 0; k < n; k++) {
        void *st = NULL;
        combo_values(sp, sp->combo[k], v);
        if (sim_strategy_create(sp->ops, v, &st, err, sizeof err)) {
            sp->skipped++;
            continue;
        }
        sim_strategy_free_state(sp->ops, st);
        sp->combo[sp->n_eval++] = sp->combo[k];
    }
    if (sp->n_eval == 0)
        return ERR("every combination is refused by %s (%s)", sp->ops->name, err);
    return 0;
}

int opt_space_build(opt_space *sp, const sim_strategy_ops *ops, const char *const *params,
                    int n_params, const char *const *grids, int n_grids, uint64_t random_n,
                    uint64_t seed)
{
    char err[256];
    memset(sp, 0, sizeof *sp);
    sp->ops = ops;
    if (sim_strategy_params(ops, params, n_params, sp->base, err, sizeof err))
        return ERR("%s", err);
    if (n_grids > SIM_MAX_PARAMS)
        return ERR("at most %d --grid", SIM_MAX_PARAMS);
    sp->combos = 1;
    for (int i = 0; i < n_grids; i++) {
        int rc = parse_axis(sp, params, n_params, grids[i]);
        if (rc)
            return rc;
        uint64_t n = (uint64_t)sp->ax[sp->n_axes - 1].n;
        sp->combos = sp->combos > UINT64_MAX / n ? UINT64_MAX : sp->combos * n;
    }
    if (random_n > OPT_MAX_COMBOS)
        return ERR("--random %llu: at most %u", (unsigned long long)random_n, OPT_MAX_COMBOS);
    if (sp->combos > OPT_MAX_COMBOS && !random_n)
        return ERR("the grid has %llu combinations, more than %u: narrow it or sample it with "
                   "--random N --seed S", (unsigned long long)sp->combos, OPT_MAX_COMBOS);
    uint64_t n;
    int rc = candidates(sp, random_n, seed, &n);
    return rc ? rc : constrain(sp, n);
}

void opt_space_free(opt_space *sp)
{
    if (!sp)
        return;
    for (int i = 0; i < sp->n_axes; i++)
        free(sp->ax[i].v);
    free(sp->combo);
    memset(sp, 0, sizeof *sp);
}
