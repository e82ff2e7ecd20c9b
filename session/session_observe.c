/* The observer dispatch of the live session (session_internal.h): the loop
 * reports each event once here, and every observer in s->obs that has the
 * member gets it, in table order. During a resume replay only observers
 * with .replay hear the engine's events: nothing is notified or timed twice
 * for a candle the previous run already reported. */
#include "session_internal.h"

#include <stdarg.h>
#include <stdio.h>

#define SL_TEXT_MAX 512 /* one notification or heartbeat line */

#define EACH(s, o, member)                                                                          \
    for (size_t i_ = 0; i_ < (s)->n_obs; i_++)                                                      \
        for (const session_observer *o = (s)->obs[i_]; o; o = NULL)                                 \
            if (o->member && (!(s)->replaying || o->replay))

/* buf <- the variadic arguments after fmt, formatted (bounded) */
#define FORMAT(buf, fmt)                                                                            \
    do {                                                                                            \
        va_list ap_;                                                                                \
        va_start(ap_, fmt);                                                                         \
        vsnprintf(buf, sizeof buf, fmt, ap_);                                                       \
        va_end(ap_);                                                                                \
    } while (0)

/* start, serve, metrics_init: the first error ends the round */
#define FIRST_ERROR(s, member, ...)                                                                 \
    do {                                                                                            \
        EACH(s, o_, member) {                                                                       \
            int rc_ = o_->member(__VA_ARGS__);                                                      \
            if (rc_)                                                                                \
                return rc_;                                                                         \
        }                                                                                           \
        return PT_OK;                                                                               \
    } while (0)

int sl_observe_start(session *s) { FIRST_ERROR(s, start, s); }

int sl_observe_serve(session *s) { FIRST_ERROR(s, serve, s); }

int sl_observe_metrics_init(session *s, wss_metrics *reg) { FIRST_ERROR(s, metrics_init, s, reg); }

void sl_observe_candle(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double score,
                       const sim_signal *sig)
{
    EACH(s, o, on_candle) o->on_candle(s, y, c, v, score, sig);
}

void sl_observe_partial(session *s, const pt_candle *c) { EACH(s, o, on_partial) o->on_partial(s, c); }
void sl_observe_engine_ms(session *s, double ms) { EACH(s, o, on_engine_ms) o->on_engine_ms(s, ms); }
void sl_observe_order(session *s, const sim_order_event *ev) { EACH(s, o, on_order) o->on_order(s, ev); }
void sl_observe_fill(session *s, const pf_fill *f, const pf_fill_result *r) { EACH(s, o, on_fill) o->on_fill(s, f, r); }
void sl_observe_row(session *s, const pf_snapshot *row) { EACH(s, o, on_row) o->on_row(s, row); }

void sl_observe_alert(session *s, const char *level, const char *symbol, const char *msg, const sim_alert *a)
{
    EACH(s, o, on_alert) o->on_alert(s, level, symbol, msg, a);
}

void sl_observe_feed_state(session *s, feed_conn_state st, const char *reason)
{
    EACH(s, o, on_feed_state) o->on_feed_state(s, st, reason);
}

void sl_observe_error(session *s, const char *fmt, ...)
{
    char text[SL_TEXT_MAX];
    FORMAT(text, fmt);
    EACH(s, o, on_error) o->on_error(s, text);
}

void sl_observe_poll(session *s, int64_t now_mono) { EACH(s, o, poll) o->poll(s, now_mono); }

void sl_observe_heartbeat(session *s, const char *fmt, ...)
{
    char line[SL_TEXT_MAX];
    FORMAT(line, fmt);
    int logged = 0;
    EACH(s, o, heartbeat) logged |= o->heartbeat(s, line);
    if (!logged)
        pt_info("heartbeat: %s", line);
}

void sl_observe_health(session *s, cJSON *obj) { EACH(s, o, health) o->health(s, obj); }
void sl_observe_metrics(session *s) { EACH(s, o, metrics) o->metrics(s); }
void sl_observe_stop(session *s) { EACH(s, o, stop) o->stop(s); }
void sl_observe_end(session *s) { EACH(s, o, end) o->end(s); }

void sl_observe_free(session *s)
{
    int replaying = s->replaying;
    s->replaying = 0; /* free runs for every observer */
    EACH(s, o, free) o->free(s);
    s->replaying = replaying;
}
