/* papertrader: dispatch to a subcommand. */
#include "commands.h"
#include "pt_core.h"

#include <stdio.h>
#include <string.h>

typedef struct app_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} app_command;

static const app_command commands[] = {
#define PT_CMD_ROW_(cli, fn, help) {cli, fn, help},
    PT_COMMAND_MAP(PT_CMD_ROW_)
#undef PT_CMD_ROW_
};

static void usage(FILE *out)
{
    fprintf(out, "usage: papertrader [--version] [--help] <command> [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].help);
    fprintf(out,
            "\n'papertrader <command> --help' describes a command.\n"
            "\nexit codes:\n"
            "  0  success (for check: the data is usable)\n"
            "  1  runtime failure (output I/O error, network gone, internal error)\n"
            "  2  usage or configuration error\n"
            "  3  input missing, unreadable, or not candle data\n"
            "  4  data quality below --min-quality\n"
            "  5  durable state corrupt; refusing to start\n"
            "  6  state directory locked by another process\n"
            "  7  restart loop: the session's last starts failed; refusing to start again\n");
}

int app_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return 0;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    }
    return 0;
}

int app_usage_hint(const char *cmd)
{
    if (cmd)
        fprintf(stderr, "(papertrader %s --help lists the options)\n", cmd);
    else
        fprintf(stderr, "(papertrader --help lists the commands)\n");
    return PT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "papertrader: no command given\n");
        return app_usage_hint(NULL);
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("papertrader %s\n", PT_VERSION);
        return PT_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "papertrader: unknown command '%s'\n", argv[1]);
    return app_usage_hint(NULL);
}
