/* ws_server: pure helpers — bounded buffer, access policy (Origin, Host,
 * token, bind address: docs/faults.md), refcounted messages and the
 * per-client queue (coalesce, then drop a slow client), dashboard files. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pt_core.h"
#include "wss_internal.h"

/* ------------------------------------------------------------------ buf */
void wss_buf_init(wss_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

static int buf_reserve(wss_buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->max)
        return PT_EFULL;
    if (b->len + extra + 1 <= b->cap)
        return PT_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra + 1)
        ncap *= 2;
    if (ncap > b->max)
        ncap = b->max;
    char *np = realloc(b->p, ncap);
    if (!np)
        return PT_ENOMEM;
    b->p = np;
    b->cap = ncap;
    return PT_OK;
}

int wss_buf_append(wss_buf *b, const void *data, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return PT_OK;
}

int wss_buf_printf(wss_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return PT_EINVAL;
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PT_OK;
}

void wss_buf_free(wss_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* --------------------------------------------------------------- policy */
int wss_is_loopback_host(const char *h)
{
    if (!h)
        return 0;
    return !strcmp(h, "127.0.0.1") || !strcasecmp(h, "localhost") || !strcmp(h, "::1") ||
           !strcmp(h, "[::1]");
}

/* Splits "name:port" / "[v6]:port"; name keeps the brackets. */
static int split_hostport(const char *s, char *name, size_t cap, int *port)
{
    const char *colon = NULL;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb)
            return -1;
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] && !colon)
            return -1;
    } else {
        colon = strrchr(s, ':');
    }
    size_t nlen = colon ? (size_t)(colon - s) : strlen(s);
    if (nlen == 0 || nlen >= cap)
        return -1;
    memcpy(name, s, nlen);
    name[nlen] = '\0';
    *port = -1;
    if (colon) {
        /* the exact form a browser sends (docs/protocol.md): 1-5 digits, no
         * sign, no leading zero, so "034837" is not the port 34837 */
        const char *d = colon + 1;
        size_t n = strspn(d, "0123456789");
        if (n == 0 || n > 5 || d[n] || d[0] == '0')
            return -1;
        int p = atoi(d);
        if (p > 65535)
            return -1;
        *port = p;
    }
    return 0;
}

int wss_host_allowed(const char *host_hdr, const char *bind_host, int port)
{
    char name[256];
    int p;
    if (!host_hdr || !*host_hdr || split_hostport(host_hdr, name, sizeof name, &p))
        return 0;
    /* Browsers always send the port unless it is 80; we never listen on 80
     * by default, so a missing port means someone else's name. */
    if (p != port && !(p == -1 && port == 80))
        return 0;
    if (wss_is_loopback_host(name))
        return 1;
    return bind_host && !wss_is_loopback_host(bind_host) && !strcasecmp(name, bind_host) &&
           strcmp(bind_host, "0.0.0.0") != 0;
}

int wss_origin_allowed(const char *origin, int port, const char *const *extra, size_t n_extra)
{
    if (!origin || !*origin || !strcmp(origin, "null"))
        return 0;
    for (size_t i = 0; i < n_extra; i++)
        if (extra[i] && !strcmp(origin, extra[i]))
            return 1;
    static const char pfx[] = "http://";
    if (strncmp(origin, pfx, sizeof pfx - 1) != 0)
        return 0;
    const char *hp = origin + sizeof pfx - 1;
    if (strchr(hp, '/'))
        return 0;
    char name[256];
    int p;
    if (split_hostport(hp, name, sizeof name, &p))
        return 0;
    return p == port && (!strcmp(name, "127.0.0.1") || !strcmp(name, "localhost") ||
                         !strcmp(name, "[::1]"));
}

int wss_token_equal(const char *configured, const char *presented)
{
    if (!configured || !*configured || !presented)
        return 0;
    size_t n = strlen(configured);
    size_t m = strnlen(presented, n + 1);
    volatile unsigned char diff = (unsigned char)(m != n);
    /* Walks the configured length whatever was presented (reading presented
     * only up to its NUL), so timing does not reveal the matching prefix. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = i < m ? (unsigned char)presented[i] : 0;
        diff |= (unsigned char)(c ^ (unsigned char)configured[i]);
    }
    return diff == 0;
}

/* ------------------------------------------------------------- messages */
wss_msg *wss_msg_new(const void *payload, size_t len)
{
    wss_msg *m = malloc(sizeof *m + WSS_PRE + len + 1);
    if (!m)
        return NULL;
    m->refs = 1;
    m->kind = WSS_KIND_COUNT;
    m->coalesce = 0;
    m->ckey = 0;
    m->len = len;
    if (len && payload)
        memcpy(m->buf + WSS_PRE, payload, len);
    m->buf[WSS_PRE + len] = '\0';
    return m;
}

wss_msg *wss_msg_ref(wss_msg *m)
{
    m->refs++;
    return m;
}

void wss_msg_unref(wss_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

uint64_t wss_coalesce_key(int kind, const char *key)
{
    /* FNV-1a over kind and key; a collision only merges two coalescable
     * streams for one client, never trades or orders. */
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(kind + 1);
    h *= 1099511628211ull;
    for (const char *s = key ? key : ""; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h | 1; /* 0 marks a free slot */
}

/* ---------------------------------------------------------------- queue */
int wss_queue_init(wss_queue *q, size_t cap, size_t max_bytes)
{
    memset(q, 0, sizeof *q);
    q->ring = calloc(cap ? cap : 1, sizeof *q->ring);
    if (!q->ring)
        return PT_ENOMEM;
    q->cap = cap ? cap : 1;
    q->max_bytes = max_bytes;
    return PT_OK;
}

void wss_queue_free(wss_queue *q)
{
    if (!q || !q->ring)
        return;
    wss_msg *m;
    while ((m = wss_queue_pop(q)))
        wss_msg_unref(m);
    free(q->ring);
    q->ring = NULL;
}

int wss_queue_push(wss_queue *q, wss_msg *m)
{
    uint64_t oldest_abs = q->pushed - q->count;
    int free_slot = -1;
    if (m->coalesce) {
        for (int i = 0; i < WSS_COALESCE_SLOTS; i++) {
            if (q->slot[i].ckey == m->ckey) {
                uint64_t abs = q->slot[i].abs;
                if (abs >= oldest_abs && abs < q->pushed) {
                    size_t idx = (q->head + (size_t)(abs - oldest_abs)) % q->cap;
                    wss_msg *old = q->ring[idx];
                    if (old->ckey == m->ckey) {
                        /* bytes may grow: the byte bound still applies */
                        if (q->bytes - old->len + m->len > q->max_bytes)
                            return PT_EFULL;
                        q->bytes = q->bytes - old->len + m->len;
                        q->ring[idx] = wss_msg_ref(m);
                        wss_msg_unref(old);
                        return 1;
                    }
                }
                free_slot = i; /* stale entry for this key: reuse it */
                break;
            }
            if (free_slot < 0 && (q->slot[i].ckey == 0 || q->slot[i].abs < oldest_abs))
                free_slot = i;
        }
    }
    if (q->count >= q->cap || q->bytes + m->len > q->max_bytes)
        return PT_EFULL;
    q->ring[(q->head + q->count) % q->cap] = wss_msg_ref(m);
    q->count++;
    q->bytes += m->len;
    /* With every slot busy the message is queued uncoalesced: still correct,
     * just not merged. */
    if (m->coalesce && free_slot >= 0) {
        q->slot[free_slot].ckey = m->ckey;
        q->slot[free_slot].abs = q->pushed;
    }
    q->pushed++;
    return PT_OK;
}

wss_msg *wss_queue_pop(wss_queue *q)
{
    if (!q->count)
        return NULL;
    wss_msg *m = q->ring[q->head];
    q->ring[q->head] = NULL;
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= m->len;
    return m;
}

/* ---------------------------------------------------------------- files */
#define WSS_FILES_MAX 64
#define WSS_FILE_MAX_BYTES (4u << 20)

static const char *mime_for(const char *name)
{
    static const struct { const char *ext, *mime; } t[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
        {".png", "image/png"},                 {".ico", "image/x-icon"},
        {".json", "application/json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(dot, t[i].ext))
            return t[i].mime;
    return NULL;
}

static int read_file(const char *fs_path, const char *url, wss_files *f)
{
    int rc = PT_EIO;
    FILE *fp = NULL;
    unsigned char *data = NULL;
    struct stat st;
    if (f->n >= WSS_FILES_MAX || strlen(url) >= sizeof f->v[0].path) {
        pt_warn("ws_server: skipping %s (too many files or name too long)", fs_path);
        return PT_OK;
    }
    if (!(fp = fopen(fs_path, "rb")) || fstat(fileno(fp), &st) || !S_ISREG(st.st_mode) ||
        st.st_size > (off_t)WSS_FILE_MAX_BYTES) {
        pt_warn("ws_server: cannot read %s: %s", fs_path,
                   errno ? strerror(errno) : "not a regular file or too large");
        goto fail;
    }
    data = malloc((size_t)st.st_size + 1);
    if (!data || fread(data, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
        pt_warn("ws_server: short read on %s", fs_path);
        goto fail;
    }
    wss_file *nf = &f->v[f->n++];
    snprintf(nf->path, sizeof nf->path, "%s", url);
    nf->mime = mime_for(url);
    nf->data = data;
    nf->len = (size_t)st.st_size;
    data = NULL;
    rc = PT_OK;
fail:
    free(data);
    if (fp)
        fclose(fp);
    return rc;
}

/* The files of web_dir (flat, known types only: nothing else can be
 * served). PT_OK with f->n files, or why the folder is not usable. */
static int load_dir(wss_files *f, const char *web_dir)
{
    DIR *d = opendir(web_dir);
    if (!d) {
        pt_warn("ws_server: web dir %s: %s", web_dir, strerror(errno));
        return PT_ENOENT;
    }
    struct dirent *e;
    char fs[4096], url[320];
    int rc = PT_OK;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !mime_for(e->d_name) || strlen(e->d_name) > 60)
            continue;
        snprintf(fs, sizeof fs, "%s/%s", web_dir, e->d_name);
        snprintf(url, sizeof url, "/%s", e->d_name);
        rc = read_file(fs, url, f);
    }
    closedir(d);
    if (!rc && (!wss_files_find(f, "/") || !wss_files_find(f, "/app.js"))) {
        pt_warn("ws_server: %s has no index.html or app.js", web_dir);
        rc = PT_ENOENT;
    }
    return rc;
}

/* Adds a built-in file under url unless one is there already. */
static int add_builtin(wss_files *f, const wss_builtin *b, const char *url)
{
    if (wss_files_find(f, url) || f->n >= WSS_FILES_MAX || strlen(url) >= sizeof f->v[0].path)
        return PT_OK;
    wss_file *nf = &f->v[f->n];
    if (!(nf->data = malloc(b->len + 1)))
        return PT_ENOMEM;
    memcpy(nf->data, b->data, b->len);
    nf->len = b->len;
    memcpy(nf->path, url, strlen(url) + 1);
    nf->mime = mime_for(url);
    f->n++;
    return PT_OK;
}

/* web_dir and vendor_js override the built-in copy (wss_builtin.h). A
 * missing or broken folder (no index.html or app.js, an unreadable file) is
 * a warning and the built-in copy is served whole; a folder that lacks only
 * some files gets the built-in ones for those. Never fails but for memory. */
int wss_files_load(wss_files *f, const char *web_dir, const char *vendor_js)
{
    memset(f, 0, sizeof *f);
    if (!(f->v = calloc(WSS_FILES_MAX, sizeof *f->v)))
        return PT_ENOMEM;
    int rc = web_dir ? load_dir(f, web_dir) : PT_ENOENT;
    if (rc == PT_ENOMEM)
        goto fail;
    if (rc) {
        if (web_dir)
            pt_warn("ws_server: serving the built-in dashboard instead of %s", web_dir);
        wss_files_free(f);
        if (!(f->v = calloc(WSS_FILES_MAX, sizeof *f->v)))
            return PT_ENOMEM;
    }
    if (vendor_js && read_file(vendor_js, "/vendor/lightweight-charts.js", f))
        pt_warn("ws_server: serving the built-in chart library instead of %s", vendor_js);
    rc = PT_OK;
    for (int i = 0; i < wss_builtin_count && !rc; i++) {
        const wss_builtin *b = &wss_builtin_files[i];
        char url[320];
        snprintf(url, sizeof url, "/%s", b->name);
        rc = add_builtin(f, b, url);
    }
fail:
    if (rc)
        wss_files_free(f);
    return rc;
}

const unsigned char *wss_builtin_file(const char *name, size_t *len)
{
    for (int i = 0; i < wss_builtin_count; i++)
        if (!strcmp(wss_builtin_files[i].name, name)) {
            *len = wss_builtin_files[i].len;
            return wss_builtin_files[i].data;
        }
    return NULL;
}

void wss_files_free(wss_files *f)
{
    if (!f || !f->v)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].data);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

const wss_file *wss_files_find(const wss_files *f, const char *path)
{
    if (!path)
        return NULL;
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->v[i].path, path))
            return &f->v[i];
    return NULL;
}

void wss_inbound_parse(const char *text, size_t len, wss_inbound *out)
{
    memset(out, 0, sizeof *out);
    /* length-bounded (the text need not be NUL-terminated); one JSON value
     * and nothing but whitespace after it */
    const char *end = NULL;
    out->msg = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    while (out->msg && end && end < text + len && strchr(" \t\r\n", *end) && *end)
        end++;
    if (out->msg && (!end || end != text + len)) {
        cJSON_Delete(out->msg);
        out->msg = NULL;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(out->msg, "type");
    if (!cJSON_IsObject(out->msg) || !cJSON_IsString(type))
        return; /* WSS_IN_BAD */
    out->id = cJSON_GetObjectItemCaseSensitive(out->msg, "id");
    const char *t = type->valuestring;
    if (!strcmp(t, "auth")) {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(out->msg, "token");
        out->kind = WSS_IN_AUTH;
        out->token = cJSON_IsString(tok) ? tok->valuestring : NULL;
    } else if (!strcmp(t, "control")) {
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(out->msg, "cmd");
        out->kind = WSS_IN_CONTROL;
        out->cmd = cJSON_IsString(cmd) ? cmd->valuestring : NULL;
    } else {
        out->kind = !strcmp(t, "ping") ? WSS_IN_PING : WSS_IN_UNKNOWN;
    }
}
