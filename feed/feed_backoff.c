/* feed: pure retry helpers — full-jitter backoff, circuit breaker, token
 * bucket, Retry-After policy. No clock and no RNG of their own: callers
 * pass now and a random value, so the unit tests drive them exactly.
 * Sources: Brooker, "Exponential Backoff And Jitter" (AWS, 2015); Fowler,
 * "CircuitBreaker"; Binance rest-api limits (429/418 + Retry-After). */
#include "feed_live_internal.h"

uint64_t feed_rng_next(uint64_t *state)
{
    /* splitmix64 (Vigna): tiny, good enough for jitter, seedable */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t feed_backoff_delay(int64_t base_ms, int64_t cap_ms, int attempt, uint64_t rnd)
{
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    if (attempt < 0)
        attempt = 0;
    int64_t ceil_ms = base_ms;
    /* double until the cap; the loop bound keeps the shift from overflowing */
    for (int i = 0; i < attempt && ceil_ms < cap_ms; i++)
        ceil_ms *= 2;
    if (ceil_ms > cap_ms)
        ceil_ms = cap_ms;
    return (int64_t)(rnd % (uint64_t)(ceil_ms + 1));
}

const char *feed_breaker_name(feed_breaker_state s)
{
    switch (s) {
    case FEED_BREAKER_CLOSED: return "closed";
    case FEED_BREAKER_OPEN: return "open";
    case FEED_BREAKER_HALF_OPEN: return "half_open";
    }
    return "unknown";
}

int feed_breaker_allow(feed_breaker *b, int64_t now_ms, int64_t *wait_ms)
{
    if (wait_ms)
        *wait_ms = 0;
    switch (b->state) {
    case FEED_BREAKER_CLOSED:
        return 1;
    case FEED_BREAKER_OPEN:
        if (now_ms < b->until_ms) {
            if (wait_ms)
                *wait_ms = b->until_ms - now_ms;
            return 0;
        }
        b->state = FEED_BREAKER_HALF_OPEN;
        b->probe_out = 1;
        return 1;
    case FEED_BREAKER_HALF_OPEN:
        if (b->probe_out) {
            if (wait_ms)
                *wait_ms = 100; /* ask again soon: the probe decides */
            return 0;
        }
        b->probe_out = 1;
        return 1;
    }
    return 0;
}

void feed_breaker_record(feed_breaker *b, int64_t now_ms, int ok, uint64_t rnd)
{
    int threshold = b->threshold > 0 ? b->threshold : 5;
    int64_t open_ms = b->open_ms > 0 ? b->open_ms : 60000;
    b->probe_out = 0;
    if (ok) {
        b->failures = 0;
        b->state = FEED_BREAKER_CLOSED;
        return;
    }
    b->failures++;
    if (b->state == FEED_BREAKER_HALF_OPEN || b->failures >= threshold) {
        /* jitter the open period by +-25 % so many clients do not probe together */
        int64_t span = open_ms / 2;
        int64_t jit = span > 0 ? (int64_t)(rnd % (uint64_t)(span + 1)) - span / 2 : 0;
        b->state = FEED_BREAKER_OPEN;
        b->until_ms = now_ms + open_ms + jit;
        b->opens++;
    }
}

void feed_tb_init(feed_token_bucket *tb, double capacity, double per_sec)
{
    tb->capacity = capacity > 0 ? capacity : 1;
    tb->per_sec = per_sec > 0 ? per_sec : 1;
    tb->tokens = tb->capacity;
    tb->last_ms = INT64_MIN;
}

int64_t feed_tb_take(feed_token_bucket *tb, int64_t now_ms, double cost)
{
    if (cost > tb->capacity)
        cost = tb->capacity; /* a request bigger than the burst still goes, at a full bucket */
    if (tb->last_ms != INT64_MIN && now_ms > tb->last_ms) {
        tb->tokens += (double)(now_ms - tb->last_ms) * tb->per_sec / 1000.0;
        if (tb->tokens > tb->capacity)
            tb->tokens = tb->capacity;
    }
    if (tb->last_ms == INT64_MIN || now_ms > tb->last_ms)
        tb->last_ms = now_ms;
    if (tb->tokens >= cost) {
        tb->tokens -= cost;
        return 0;
    }
    double need = cost - tb->tokens;
    int64_t ms = (int64_t)(need * 1000.0 / tb->per_sec) + 1;
    return ms > 0 ? ms : 1;
}

int64_t feed_retry_after_ms(long long header_s, int64_t max_ms, int attempt, int64_t base_ms,
                            int64_t cap_ms, uint64_t rnd, int *clamped)
{
    if (clamped)
        *clamped = 0;
    if (max_ms < 1000)
        max_ms = 1000;
    if (header_s <= 0) {
        /* no usable header (curl gives 0 for missing, negative or past
         * dates): jittered backoff, but never sooner than 1 s */
        int64_t d = feed_backoff_delay(base_ms, cap_ms, attempt, rnd);
        return d < 1000 ? 1000 : d;
    }
    if (header_s > max_ms / 1000) {
        if (clamped)
            *clamped = 1;
        return max_ms;
    }
    return (int64_t)header_s * 1000;
}
