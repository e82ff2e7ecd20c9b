/* quality: per-symbol data-quality checker that sits between every feed and
 * the engine. Each candle gets a verdict (accept, accept with flags,
 * reject) with its reasons, and the checker keeps a 0-100 score over a
 * rolling window. Rules, parameters and the score formula: quality/README.md.
 *
 * Owns: one fixed-size state block per symbol (rolling windows sized at
 * creation); O(1) amortized work per candle, no allocation after _new.
 * Must never: modify a candle, look at the wall clock (the caller passes
 * now_ms for the future check), or block exits: the gate only ever limits
 * new entries.
 *
 * Ownership: quality_new() returns a checker freed with quality_free()
 * (NULL is a no-op). Pointers returned by the getters stay valid until the
 * next quality_check() or quality_free() on the same checker.
 */
#ifndef PT_QUALITY_H
#define PT_QUALITY_H

#include "pt_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Issue types. Rejecting ones first. The text is the name used in reports,
 * JSON keys and metric labels: keep it stable. */
#define QUALITY_ISSUE_MAP(X)                                   \
    X(QI_NONFINITE, "non_finite")                              \
    X(QI_BAD_PRICE, "bad_price")             /* <= 0 */         \
    X(QI_NEGATIVE_VOLUME, "negative_volume")                   \
    X(QI_OHLC_INCONSISTENT, "ohlc_inconsistent")               \
    X(QI_DUPLICATE, "duplicate")             /* same ts, same values */ \
    X(QI_CONFLICT, "conflict")               /* same ts, other values */ \
    X(QI_OUT_OF_ORDER, "out_of_order")                         \
    X(QI_MISALIGNED, "misaligned")                             \
    X(QI_FUTURE, "future")                                     \
    X(QI_ROW_REJECTED, "row_rejected")       /* failed parsing upstream */ \
    X(QI_GAP, "gap")                         /* flag on the candle after a gap */ \
    X(QI_OUTLIER_RETURN, "outlier_return")                     \
    X(QI_OUTLIER_RANGE, "outlier_range")                       \
    X(QI_OUTLIER_VOLUME, "outlier_volume")                     \
    X(QI_SPIKE, "spike")                     /* spike and revert */ \
    X(QI_STALE, "stale")                     /* long run of identical zero-volume bars */ \
    X(QI_ZERO_VOLUME, "zero_volume")                           \
    X(QI_FLAT, "flat")                       /* O = H = L = C */

typedef enum quality_issue {
#define QI_ENUM_(name, text) name,
    QUALITY_ISSUE_MAP(QI_ENUM_)
#undef QI_ENUM_
    QI__COUNT
} quality_issue;

const char *quality_issue_name(quality_issue i);

typedef enum quality_verdict {
    QUALITY_ACCEPT = 0,
    QUALITY_ACCEPT_FLAGGED = 1,
    QUALITY_REJECT = 2,
} quality_verdict;

const char *quality_verdict_name(quality_verdict v);

typedef struct quality_config {
    int64_t interval_ms;        /* expected bar interval; 0 = learn from the data */
    int window;                 /* candles in the score window (default 500) */
    double min_score;           /* gate threshold for new entries (default 60) */
    int outlier_window;         /* candles in the robust-spread window (default 60) */
    double outlier_k;           /* MADs from the median that make an outlier (default 8) */
    double volume_k;            /* same, for log volume (default 12) */
    int stale_run;              /* identical zero-volume bars that make stale (default 30) */
    int64_t future_tolerance_ms; /* open time beyond now + interval + this is "future" (default 5000) */
} quality_config;

void quality_config_default(quality_config *cfg);

typedef struct quality_result {
    quality_verdict verdict;
    uint32_t flags;        /* bit (1u << quality_issue) per issue found */
    int64_t gap_missing;   /* intervals missing before this candle (0 if none) */
    double score;          /* score after this candle */
} quality_result;

typedef struct quality_counts {
    uint64_t candles;                 /* seen, any verdict */
    uint64_t by_verdict[3];
    uint64_t by_issue[QI__COUNT];
    uint64_t gaps;                    /* number of gaps */
    uint64_t missing_bars;            /* intervals missing in all gaps */
    double score;                     /* current */
    double worst_score;               /* lowest score once the window filled (or at end) */
    int64_t worst_ts_ms;              /* candle time of the worst score */
    int64_t first_ts_ms, last_ts_ms;  /* of accepted candles */
    int64_t interval_ms;              /* configured or learned */
} quality_counts;

typedef struct quality_checker quality_checker;

/* NULL on bad config (logged) or out of memory. */
quality_checker *quality_new(const quality_config *cfg);
void quality_free(quality_checker *qc);

/* Judge one candle. now_ms is the caller's clock for the future check
 * (event time of the session; 0 disables it). */
quality_verdict quality_check(quality_checker *qc, const pt_candle *c, int64_t now_ms,
                              quality_result *out);
/* A row the feed could not parse still counts against the score. */
void quality_note_rejected_row(quality_checker *qc);

double quality_score(const quality_checker *qc);
/* "Excellent" 90-100, "Good" 75-89, "Fair" 60-74, "Poor" 40-59, "Critical" < 40 */
const char *quality_level(double score);
/* New entries allowed only at or above the threshold; threshold 0 = always;
 * a negative threshold means the configured cfg.min_score. */
int quality_gate_allows_entry(const quality_checker *qc, double threshold);
const quality_counts *quality_get_counts(const quality_checker *qc);

/* ---------------------------------------------------------------- replay
 * A symbol's verdicts depend on its candle sequence only, so a search that
 * runs the engine many times over the same candles (app/opt_eval.c) checks
 * each candle once and replays the results. A tape holds one checker's
 * results in order plus its final counts; a replay checker hands them out
 * in that order, whatever candle it is given, with O(1) work. Its counts
 * track candles, by_verdict and score as it goes and equal the recorded
 * checker's in full once the whole tape is replayed.
 * Ownership: the tape is the caller's (quality_tape_free, NULL: no-op) and
 * must outlive every replay checker made from it. */
typedef struct quality_tape quality_tape;

quality_tape *quality_tape_new(void); /* NULL: out of memory */
/* Append one result (quality_check's *out). PT_OK or PT_ENOMEM. */
int quality_tape_add(quality_tape *t, const quality_result *r);
/* The recorded checker's final counts and config, after its last candle. */
void quality_tape_seal(quality_tape *t, const quality_checker *qc);
void quality_tape_free(quality_tape *t);
/* NULL on out of memory. quality_note_rejected_row is a no-op on it; a
 * check past the tape's end is a reject (logged once). */
quality_checker *quality_new_replay(const quality_tape *t);

#ifdef __cplusplus
}
#endif
#endif
