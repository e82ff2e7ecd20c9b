/* Candle sources: the CSV source and a k-way merge of sources.
 *
 * The merge holds one head candle per source in a binary min-heap keyed by
 * (ts_ms, source index), so several files advance together in event time and
 * ties are broken deterministically. Each source contributes only its next
 * row, so a source's own order is never changed: an out-of-order row comes
 * out where the source put it and the quality checker judges it.
 */
#include "feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MERGE_MAX_SOURCES 65536

/* ------------------------------------------------------------- csv */

static int csv_src_next(void *self, pt_candle *out) { return feed_csv_next(self, out); }
static void csv_src_free(void *self) { feed_csv_free(self); }

static const feed_source_ops csv_source_ops = {"csv", csv_src_next, csv_src_free};

int feed_source_csv(const char *path, const feed_csv_opts *opts, feed_source *out)
{
    if (!out)
        return PT_EINVAL;
    memset(out, 0, sizeof *out);
    feed_csv *r;
    int rc = feed_csv_open(path, opts, &r);
    if (rc)
        return rc;
    out->ops = &csv_source_ops;
    out->self = r;
    return PT_OK;
}

void feed_source_free(feed_source *src)
{
    if (!src || !src->ops)
        return;
    if (src->ops->free)
        src->ops->free(src->self);
    src->ops = NULL;
    src->self = NULL;
}

/* ------------------------------------------------------------- merge */

typedef struct merge {
    feed_source *src;
    pt_candle *head; /* head[i]: next candle of source i while i is in the heap */
    uint32_t *heap;  /* source indexes */
    size_t n, nheap;
    int primed, err;
} merge;

static int before(const merge *m, uint32_t a, uint32_t b)
{
    int64_t ta = m->head[a].ts_ms, tb = m->head[b].ts_ms;
    return ta < tb || (ta == tb && a < b);
}

static void sift_down(merge *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < m->nheap && before(m, m->heap[l], m->heap[best]))
            best = l;
        if (l + 1 < m->nheap && before(m, m->heap[l + 1], m->heap[best]))
            best = l + 1;
        if (best == i)
            return;
        uint32_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

static void sift_up(merge *m, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(m, m->heap[i], m->heap[parent]))
            return;
        uint32_t t = m->heap[i];
        m->heap[i] = m->heap[parent];
        m->heap[parent] = t;
        i = parent;
    }
}

static int prime(merge *m)
{
    for (size_t i = 0; i < m->n; i++) {
        int rc = m->src[i].ops->next(m->src[i].self, &m->head[i]);
        if (rc == PT_EOF)
            continue;
        if (rc)
            return rc;
        m->heap[m->nheap++] = (uint32_t)i;
        sift_up(m, m->nheap - 1);
    }
    m->primed = 1;
    return PT_OK;
}

static int merge_next(void *self, pt_candle *out)
{
    merge *m = self;
    if (m->err)
        return m->err;
    if (!m->primed && (m->err = prime(m)) != PT_OK)
        return m->err;
    if (m->nheap == 0)
        return PT_EOF;
    uint32_t i = m->heap[0];
    *out = m->head[i];
    int rc = m->src[i].ops->next(m->src[i].self, &m->head[i]);
    if (rc == PT_OK) {
        sift_down(m, 0);
    } else if (rc == PT_EOF) {
        m->heap[0] = m->heap[--m->nheap];
        sift_down(m, 0);
    } else {
        m->err = rc; /* this candle is still good; the error comes next call */
    }
    return PT_OK;
}

static void merge_free(void *self)
{
    merge *m = self;
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        feed_source_free(&m->src[i]);
    free(m->src);
    free(m->head);
    free(m->heap);
    free(m);
}

static const feed_source_ops merge_ops = {"merge", merge_next, merge_free};

int feed_source_merge(const feed_source *srcs, size_t n, feed_source *out)
{
    if (!out || (n && !srcs) || n > MERGE_MAX_SOURCES)
        return PT_EINVAL;
    memset(out, 0, sizeof *out);
    merge *m = calloc(1, sizeof *m);
    if (!m)
        goto fail;
    m->src = calloc(n ? n : 1, sizeof *m->src);
    m->head = calloc(n ? n : 1, sizeof *m->head);
    m->heap = calloc(n ? n : 1, sizeof *m->heap);
    if (!m->src || !m->head || !m->heap)
        goto fail;
    memcpy(m->src, srcs, n * sizeof *srcs);
    m->n = n;
    out->ops = &merge_ops;
    out->self = m;
    return PT_OK;
fail:
    /* ownership was taken: the sources go too */
    for (size_t i = 0; i < n; i++) {
        feed_source tmp = srcs[i];
        feed_source_free(&tmp);
    }
    merge_free(m);
    return PT_ENOMEM;
}

/* ------------------------------------------------------------- ordered
 * A live session's recording in the order the engine processed it: the
 * per-symbol files advance as candles/.order names them, one symbol per
 * line (session/session_resume.c writes it). A plain time merge would break
 * ties and lags across symbols its own way; this reproduces the session. */

typedef struct ordered {
    feed_source *src;
    pt_candle *head;
    int *has_head; /* 1: head[i] read and not yet given out; -1: source at EOF */
    char (*names)[PT_SYMBOL_MAX]; /* each source's symbol, from its first row */
    size_t n;
    FILE *order;
    char path[512];
    uint64_t line;
} ordered;

static void ordered_free(void *self)
{
    ordered *o = self;
    if (!o)
        return;
    for (size_t i = 0; o->src && i < o->n; i++)
        feed_source_free(&o->src[i]);
    if (o->order)
        fclose(o->order);
    free(o->src);
    free(o->head);
    free(o->has_head);
    free(o->names);
    free(o);
}

/* Primes every head once so the sources can be matched by symbol. */
static int ordered_prime(ordered *o)
{
    for (size_t i = 0; i < o->n; i++) {
        if (o->has_head[i])
            continue;
        int rc = o->src[i].ops->next(o->src[i].self, &o->head[i]);
        if (rc && rc != PT_EOF)
            return rc;
        o->has_head[i] = rc == PT_EOF ? -1 : 1;
        if (rc == PT_OK && !o->names[i][0])
            memcpy(o->names[i], o->head[i].symbol, sizeof o->names[i]);
    }
    return PT_OK;
}

static int ordered_next(void *self, pt_candle *out)
{
    ordered *o = self;
    char name[PT_SYMBOL_MAX + 2];
    int rc = ordered_prime(o);
    if (rc)
        return rc;
    if (!fgets(name, sizeof name, o->order))
        return PT_EOF; /* rows past the last .order line were never processed */
    o->line++;
    size_t len = strcspn(name, "\n");
    if (name[len] != '\n') {
        if (len < sizeof name - 1 || feof(o->order)) { /* the file ends mid-line */
            pt_warn("%s:%llu: torn last line ignored", o->path, (unsigned long long)o->line);
            return PT_EOF;
        }
        pt_err_log("%s:%llu: line longer than a symbol (%zu bytes at most)", o->path, (unsigned long long)o->line,
                   sizeof name - 2);
        return PT_EPARSE;
    }
    if (len && name[len - 1] == '\r') /* CRLF, e.g. after an editor */
        len--;
    name[len] = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(o->names[i], name))
            continue;
        if (o->has_head[i] < 0) {
            pt_warn("%s:%llu: %s has no recorded candle left; stopping there", o->path,
                    (unsigned long long)o->line, name);
            return PT_EOF;
        }
        *out = o->head[i];
        o->has_head[i] = 0;
        return PT_OK;
    }
    pt_err_log("%s:%llu: '%s' is not the symbol of any given file", o->path, (unsigned long long)o->line, name);
    return PT_EPARSE;
}

static const feed_source_ops ordered_ops = {"ordered", ordered_next, ordered_free};

int feed_source_ordered(const feed_source *srcs, size_t n, const char *order_path, feed_source *out)
{
    int rc = PT_ENOMEM;
    if (!out || !srcs || !n || !order_path || n > MERGE_MAX_SOURCES)
        return PT_EINVAL;
    memset(out, 0, sizeof *out);
    ordered *o = calloc(1, sizeof *o);
    if (!o || !(o->src = calloc(n, sizeof *o->src)) || !(o->head = calloc(n, sizeof *o->head)) ||
        !(o->has_head = calloc(n, sizeof *o->has_head)) || !(o->names = calloc(n, sizeof *o->names)))
        goto fail;
    memcpy(o->src, srcs, n * sizeof *srcs);
    o->n = n;
    snprintf(o->path, sizeof o->path, "%s", order_path);
    if (!(o->order = fopen(order_path, "r"))) {
        pt_err_log("%s: cannot read: %s", order_path, strerror(errno));
        rc = PT_ENOENT;
        ordered_free(o);
        return rc;
    }
    out->ops = &ordered_ops;
    out->self = o;
    return PT_OK;
fail: /* before the copy: ownership was taken, so the sources go too */
    for (size_t i = 0; i < n; i++) {
        feed_source tmp = srcs[i];
        feed_source_free(&tmp);
    }
    if (o)
        o->n = 0;
    ordered_free(o);
    return rc;
}
