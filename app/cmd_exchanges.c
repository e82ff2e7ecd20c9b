/* papertrader exchanges: the venues papertrader streams and fetches, with
 * what each supports, read from the feed adapter table (feed_venue_at):
 * market, candle intervals, REST history depth and page, how a bar becomes
 * final, default endpoints. */
#include "commands.h"
#include "feed.h"
#include "pt_core.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader exchanges [--json]\n"
            "  Lists every venue `run`, `demo`, `fetch` and `exchange-sim` take by name\n"
            "  (--exchange NAME, --protocol NAME), with its market (spot or perp), candle\n"
            "  intervals (REST; \"live\" names the one interval run/demo can stream where the\n"
            "  venue's socket has only one), REST history depth (bars; unlimited = the venue keeps all),\n"
            "  rows per REST call, how a candle becomes final, and default endpoints.\n"
            "  Trading rules (tick, lot, minimum order value) are not read from any\n"
            "  venue yet: \"rules\" is none.\n"
            "  --json   machine-readable output\n"
            "Per-venue sources and limits: docs/feed.md.\n");
}

static void intervals_text(const feed_venue *v, char *buf, size_t cap)
{
    size_t w = 0;
    buf[0] = 0;
    for (size_t i = 0; i < v->n_intervals && w < cap; i++) {
        char iv[16];
        pt_interval_format(v->intervals_ms[i], iv, sizeof iv);
        w += (size_t)snprintf(buf + w, cap - w, "%s%s", i ? "," : "", iv);
    }
}

static cJSON *to_json(const feed_venue *v)
{
    char iv[256];
    cJSON *j = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    if (!j || !arr) {
        cJSON_Delete(j), cJSON_Delete(arr);
        return NULL;
    }
    cJSON_AddStringToObject(j, "name", v->name);
    cJSON_AddBoolToObject(j, "spot", !strcmp(v->market, "spot"));
    cJSON_AddBoolToObject(j, "perp", !strcmp(v->market, "perp"));
    cJSON_AddStringToObject(j, "market", v->market);
    for (size_t i = 0; i < v->n_intervals; i++) {
        pt_interval_format(v->intervals_ms[i], iv, sizeof iv);
        cJSON_AddItemToArray(arr, cJSON_CreateString(iv));
    }
    cJSON_AddItemToObject(j, "intervals", arr);
    if (v->live_interval_ms) { /* run/demo stream this one only; fetch takes every interval */
        pt_interval_format(v->live_interval_ms, iv, sizeof iv);
        cJSON_AddStringToObject(j, "live_interval", iv);
    } else {
        cJSON_AddNullToObject(j, "live_interval");
    }
    cJSON_AddNumberToObject(j, "history_bars", v->history_bars); /* 0 = unlimited */
    cJSON_AddNumberToObject(j, "rest_page", v->rest_page);
    cJSON_AddBoolToObject(j, "closed_flag", v->closed_flag);
    cJSON_AddStringToObject(j, "finality", v->finality);
    cJSON_AddNullToObject(j, "rules");
    cJSON_AddStringToObject(j, "ws_url", v->ws_url);
    cJSON_AddStringToObject(j, "rest_url", v->rest_url);
    return j;
}

static int print_json(void)
{
    feed_venue v;
    cJSON *root = cJSON_CreateObject(), *arr = root ? cJSON_AddArrayToObject(root, "exchanges") : NULL;
    int ok = arr != NULL;
    for (size_t i = 0; ok && feed_venue_at(i, &v) == PT_OK; i++) {
        cJSON *x = to_json(&v);
        ok = x != NULL && cJSON_AddItemToArray(arr, x);
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "papertrader exchanges: out of memory\n");
        return PT_EXIT_FAILURE;
    }
    printf("%s\n", text);
    free(text);
    return PT_EXIT_OK;
}

int cmd_exchanges(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c, rc = PT_EXIT_OK;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default:
            fprintf(stderr, "papertrader exchanges: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return app_usage_hint("exchanges");
        }
    }
    if (optind < argc) {
        fprintf(stderr, "papertrader exchanges: unexpected argument '%s'\n", argv[optind]);
        return app_usage_hint("exchanges");
    }
    if (json) {
        rc = print_json();
    } else {
        feed_venue v;
        char iv[256], depth[32];
        for (size_t i = 0; feed_venue_at(i, &v) == PT_OK; i++) {
            intervals_text(&v, iv, sizeof iv);
            if (v.history_bars)
                snprintf(depth, sizeof depth, "%d bars", v.history_bars);
            else
                snprintf(depth, sizeof depth, "unlimited");
            char live[40] = "every interval";
            if (v.live_interval_ms)
                pt_interval_format(v.live_interval_ms, live, sizeof live), strcat(live, " only");
            printf("%s\n  market     %s\n  intervals  %s\n  live       %s\n  history    %s, %d rows per REST call\n"
                   "  finality   %s\n  rules      none\n  endpoints  %s  %s\n\n",
                   v.name, v.market, iv, live, depth, v.rest_page, v.finality, v.ws_url, v.rest_url);
        }
    }
    if (rc == PT_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "papertrader exchanges: cannot write to stdout\n");
        rc = PT_EXIT_FAILURE;
    }
    return rc;
}
