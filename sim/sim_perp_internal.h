/* sim perp internals (docs/futures.md): the funding file's rows
 * (sim_funding.c) and the engine's perp steps (sim_perp.c) that
 * sim_engine.c calls. Not part of the public API. Loop thread only. */
#ifndef PT_SIM_PERP_INTERNAL_H
#define PT_SIM_PERP_INTERNAL_H

#include "sim_engine_internal.h"

#include <limits.h>

#define SIM_FUNDING_SYMBOLS 64

typedef struct sim_funding_row {
    int64_t ts_ms;
    double rate, mark; /* mark 0: none in the file */
    int symbol;        /* index into sim_funding.symbols */
    uint64_t line;
} sim_funding_row;

struct sim_funding {
    char path[PATH_MAX];
    int64_t period_ms;
    sim_funding_row *rows;
    size_t n, cap;
    char symbols[SIM_FUNDING_SYMBOLS][PT_SYMBOL_MAX]; /* "*": no symbol column */
    int64_t last_ts[SIM_FUNDING_SYMBOLS];
    int n_symbols;
};

/* Before this symbol's fills on c: the mark candle for c into *mk (c itself
 * without one), funding rows due by c's time, a gap through the
 * liquidation price at the mark's open. PT_OK, or PT_EPARSE (bad input,
 * logged with file:line; the engine stops taking candles). */
int sim_perp_before(sim_engine *e, sim_symbol *s, const pt_candle *c, pt_candle *mk);
/* 1 if the liquidation check goes before the protective exits on this
 * candle: unless an armed stop is on the safe side of the liquidation
 * price (any path down to the liquidation price passes the stop first). */
int sim_perp_liq_first(const sim_engine *e, const sim_symbol *s);
/* Liquidate when the mark's range reaches the liquidation price. */
void sim_perp_liq_check(sim_engine *e, sim_symbol *s, const pt_candle *mk);
/* sim_engine_finish: warn about a funding file that ends early. */
void sim_perp_finish(sim_engine *e);
/* Apply the configured per-symbol leverage to a symbol seen first. */
void sim_perp_symbol_new(sim_engine *e, const char *name);
/* Entry quantity of a perp order at price (margin-based sizing, bracket
 * cap, margin exposure); 0 with *why when nothing fits. */
double sim_perp_entry_qty(sim_engine *e, sim_symbol *s, double order_qty, double price, double fee,
                          sim_block_reason *why);

#endif
