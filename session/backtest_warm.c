/* backtest_warm: a live session's recording replays with its warm-up.
 * `run` feeds its first candles (fetched over REST) to the strategy without
 * trading and writes where trading starts into session.json
 * ("trade_from_ms"); a backtest of DIR/candles/<SYM>.csv (or of
 * DIR/candles/.order) finds it there, so the same candles only warm and
 * the trades come out byte-identical (docs/durability.md, warm-up). */
#include "session.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int session_recording_dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return 0;
    size_t n = (size_t)(slash - path);
    if (n < 7 || strncmp(slash - 7, "candles", 7) || (n > 7 && slash[-8] != '/'))
        return 0;
    n -= 7; /* "DIR/" or "" */
    return snprintf(dir, cap, "%.*s", n ? (int)n : 1, n ? path : ".") < (int)cap;
}

static int64_t trade_from_of(const char *dir)
{
    cJSON *doc = session_json_read(dir); /* none, or not ours: no recorded start */
    const cJSON *tf = cJSON_GetObjectItemCaseSensitive(doc, "trade_from_ms");
    int64_t v = cJSON_IsNumber(tf) && tf->valuedouble > 0 ? (int64_t)tf->valuedouble : 0;
    cJSON_Delete(doc);
    return v;
}

int64_t session_recorded_trade_from(char *const *files, int nfiles, const char *order, char *from, size_t cap)
{
    char dir[4096];
    for (int i = -1; i < nfiles; i++) {
        const char *p = i < 0 ? order : files[i];
        if (!p || !session_recording_dir_of(p, dir, sizeof dir))
            continue;
        int64_t v = trade_from_of(dir);
        if (v > 0) {
            snprintf(from, cap, "%s/session.json", dir);
            return v;
        }
    }
    return 0;
}
