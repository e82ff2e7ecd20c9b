/* libFuzzer target: the dashboard server's inbound WebSocket messages
 * (ws_server/wss_util.c wss_inbound_parse, used by handle_message;
 * malformed, deep, huge or binary-ish JSON).
 *
 * Properties: never crashes or leaks; BAD exactly when the input is not one
 * JSON object with a string "type" (checked against cJSON itself); an AUTH
 * token / CONTROL cmd is the message's own string member or NULL; the parser
 * never reads past len (the input is copied to an exact-size buffer). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "wss_internal.h"

FUZZ_QUIET_INITIALIZE /* log lines off: findings are crashes and FUZZ_CHECKs */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size ? size : 1); /* exact size: ASan catches over-reads */
    if (!text)
        return 0;
    memcpy(text, data, size);
    wss_inbound in;
    wss_inbound_parse(text, size, &in);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(in.msg, "type");
    if (in.kind == WSS_IN_BAD) {
        FUZZ_CHECK(!cJSON_IsObject(in.msg) || !cJSON_IsString(type));
    } else {
        FUZZ_CHECK(cJSON_IsObject(in.msg) && cJSON_IsString(type));
        const char *t = type->valuestring;
        FUZZ_CHECK((in.kind == WSS_IN_AUTH) == !strcmp(t, "auth"));
        FUZZ_CHECK((in.kind == WSS_IN_CONTROL) == !strcmp(t, "control"));
        FUZZ_CHECK((in.kind == WSS_IN_PING) == !strcmp(t, "ping"));
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(in.msg, "token");
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(in.msg, "cmd");
        if (in.kind == WSS_IN_AUTH)
            FUZZ_CHECK(in.token == (cJSON_IsString(tok) ? tok->valuestring : NULL));
        if (in.kind == WSS_IN_CONTROL)
            FUZZ_CHECK(in.cmd == (cJSON_IsString(cmd) ? cmd->valuestring : NULL));
        FUZZ_CHECK(in.id == cJSON_GetObjectItemCaseSensitive(in.msg, "id"));
    }
    cJSON_Delete(in.msg);
    free(text);
    return 0;
}
