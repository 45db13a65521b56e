/* SPDX-License-Identifier: MIT */
/* Waiting out a busy database: the clock, the backoff between attempts,
 * and the deadline a write operation shares with SQLite's busy handler. */
#include "core/db.h"

#include <time.h>

enum {
    /* A lock is rarely free again sooner than a short write transaction
     * takes; asking earlier mostly finds it still held. Unmeasured. */
    BACKOFF_MIN_US = 1000,
    /* Waiters poll at least this often, so the queue behind a released lock
     * moves at the pace of its transactions, not of the sleeps. Unmeasured. */
    BACKOFF_MAX_US = 50000,
    /* Doublings of BACKOFF_MIN_US that pass BACKOFF_MAX_US (64 ms): later
     * attempts take the maximum without shifting further. */
    BACKOFF_DOUBLINGS = 6,
};

int64_t m2m__clock_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t m2m__backoff_until(m2m_db *db, int attempt, int64_t deadline_us) {
    int64_t now = m2m__clock_us(), left = deadline_us - now;
    if (left <= 0)
        return -1;
    int64_t span = attempt >= BACKOFF_DOUBLINGS ? BACKOFF_MAX_US
                                                : (int64_t)BACKOFF_MIN_US << attempt;
    if (span > BACKOFF_MAX_US)
        span = BACKOFF_MAX_US;
    /* Jitter (half to all of span): waiters that failed together do not
     * come back together. xorshift, seeded per connection. */
    uint32_t s = db->busy_seed
                     ? db->busy_seed
                     : ((uint32_t)(uintptr_t)db ^ (uint32_t)m2m__clock_us()) | 1;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    db->busy_seed = s;
    int64_t us = span / 2 + (int64_t)(s % (uint32_t)(span / 2 + 1));
    if (us > left)
        us = left;
    return now + us;
}

bool m2m__backoff(m2m_db *db, int attempt, int64_t deadline_us) {
    int64_t until = m2m__backoff_until(db, attempt, deadline_us);
    if (until < 0)
        return false;
    int64_t us = until - m2m__clock_us();
    if (us > 0) {
        struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

int64_t m2m__busy_wait_end(m2m_db *db, int count) {
    if (count == 0)
        db->busy_wait_end = db->busy_deadline
                                ? db->busy_deadline
                                : m2m__clock_us() + (int64_t)db->busy_timeout_ms * 1000;
    return db->busy_wait_end;
}
