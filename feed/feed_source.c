/* Candle sources: the CSV source and a k-way merge of sources.
 *
 * The merge holds one head candle per source in a binary min-heap keyed by
 * (ts_ms, source index), so several files advance together in event time and
 * ties are broken deterministically. Each source contributes only its next
 * row, so a source's own order is never changed: an out-of-order row comes
 * out where the source put it and the quality checker judges it.
 */
#include "feed.h"

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
