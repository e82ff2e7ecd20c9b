/* portfolio internals shared by the ledger writer and reader. */
#ifndef PF_INTERNAL_H
#define PF_INTERNAL_H

#include "portfolio.h"

#include <stddef.h>

typedef struct pf_pos {
    char symbol[PT_SYMBOL_MAX];
    double qty, avg_price, last_price, first_price;
    double realized, fees;
    double rt_pnl; /* realized pnl of the current round trip (fees included) */
    /* perp (pf_margin.c) */
    double leverage; /* 0 = the portfolio's default */
    double margin;   /* initial margin locked out of cash (isolated: the position's wallet) */
    double funding;  /* lifetime funding of this symbol, received > 0 */
} pf_pos;

struct pf_portfolio {
    double initial_cash, cash, realized, fees, high_water;
    uint64_t fills;
    int allow_short;
    int n;
    pf_pos pos[PF_MAX_SYMBOLS];
    /* perp (pf_margin.c); spot leaves these zero */
    int perp, cross;
    double leverage, liq_fee_rate;
    pf_brackets br;
    double funding, funding_paid, funding_received, bankruptcy_loss;
    uint64_t liquidations, funding_events;
};

/* pf_margin.c, for portfolio.c: a perp fill (same contract as
 * pf_apply_fill; f->fee may be lowered only by a liquidation). */
int pf_perp_fill(pf_portfolio *pf, int id, const pf_fill *f, int liquidation, pf_fill_result *out);
/* Sum of margin + unrealized PnL over open perp positions. */
double pf_perp_positions_value(const pf_portfolio *pf);

extern const char pf_trades_header[];    /* with trailing "\n" */
extern const char pf_portfolio_header[]; /* with trailing "\n" */

/* errno -> PT_ENOSPC (ENOSPC, EDQUOT) or PT_EIO */
int pf_errno_code(int e);
/* write(2) all of it, retrying EINTR and short writes; logs path + strerror */
int pf_write_all(int fd, const char *p, size_t n, const char *path);

/* A bounded row being built; over = 1 once something did not fit. */
typedef struct pf_row {
    char *p;
    size_t n, cap;
    int over;
} pf_row;
void pf_row_put(pf_row *r, const char *s, size_t n);
/* Decimal digits of u written to end back to front (at most 20 bytes
 * before end); returns how many. pf_format.c. */
int pf_utoa_rev(char *end, uint64_t u);
void pf_row_text(pf_row *r, const char *s); /* RFC 4180 quoting */

#endif
