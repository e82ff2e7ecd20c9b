/* libFuzzer target: the INI config loader (ops_config_load_file, inih under
 * it, ops/ops_config.c) over the input as a file, then the same bytes as
 * PAPERTRADER_ environment lines (ops_config_apply_env), then printing
 * the effective config. Seeds: data/papertrader.example.ini and broken
 * configs (corpus/fuzz_config/). Dictionary: config.dict.
 *
 * Properties: loading never fails silently (an error return comes with a
 * counted error); getters return NUL-terminated strings or NULL; printing
 * the result works. */
#include "fuzz_util.h"
#include "ops.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    return 0;
}

#define MAX_ENV 64 /* environment lines taken from one input */

static void apply_as_env(ops_config *cfg, const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char *envp[MAX_ENV + 1];
    int n = 0;
    char *save = NULL;
    /* each input line is one variable; the dictionary holds PAPERTRADER_ names */
    for (char *line = strtok_r(text, "\n", &save); line && n < MAX_ENV; line = strtok_r(NULL, "\n", &save)) {
        envp[n++] = line;
    }
    envp[n] = NULL;
    int before = ops_config_errors(cfg);
    int rc = ops_config_apply_env(cfg, envp);
    FUZZ_CHECK(rc == PT_OK || ops_config_errors(cfg) > before);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    ops_config *cfg = NULL;
    FUZZ_CHECK(ops_config_new(&cfg) == PT_OK && cfg);
    FUZZ_CHECK(ops_config_errors(cfg) == 0);
    int rc = ops_config_load_file(cfg, path);
    if (rc != PT_OK)
        FUZZ_CHECK(ops_config_errors(cfg) > 0);
    apply_as_env(cfg, data, size);

    static const char *const probes[][2] = {
        {"session", "cash"}, {"feed", "symbols"}, {"server", "port"},
        {"strategy", "name"},        {"risk", "max_positions"},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const char *v = ops_config_get(cfg, probes[i][0], probes[i][1]);
        if (v)
            (void)strlen(v);
        double d = ops_config_get_num(cfg, probes[i][0], probes[i][1], 1.5);
        (void)d;
        (void)ops_config_get_bool(cfg, probes[i][0], probes[i][1]);
    }
    char kv[16][64];
    int np = ops_config_strategy_params(cfg, kv, 16);
    FUZZ_CHECK(np >= 0);
    for (int i = 0; i < np && i < 16; i++)
        FUZZ_CHECK(memchr(kv[i], '\0', sizeof kv[i]) != NULL);
    ops_config_print(cfg, devnull);

    /* the sizing mini-language on its own, input as one string */
    char *s = fuzz_strndup(data, size < 256 ? size : 256);
    char why[128];
    (void)ops_config_check_sizing(s, why, sizeof why);
    free(s);

    ops_config_free(cfg);
    close(fd);
    return 0;
}
