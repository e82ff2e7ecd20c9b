/* portfolio internals shared by the ledger writer and reader. */
#ifndef PF_INTERNAL_H
#define PF_INTERNAL_H

#include "portfolio.h"

#include <stddef.h>

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
