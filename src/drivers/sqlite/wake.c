/* SPDX-License-Identifier: MIT */
/* Writers of one SQLite file in this process wake each other. SQLite's busy
 * handler can only sleep and try again: 16 writers on one file spent almost
 * all their time asleep while the lock stood free. Every connection to a
 * file joins the file's waiting room (by device and inode, however the path
 * was written); a connection that ends a transaction bumps the room's
 * generation and wakes whoever waits in it. A lock held by another process
 * wakes no one here: waits stay bounded by the backoff, as before. */
#include "drivers/sqlite/sqlite.h"

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

struct sq_room {
    sq_room *next;
    dev_t dev;
    ino_t ino;
    int users;
    uint64_t gen;
    pthread_cond_t cond;
};

static pthread_mutex_t rooms_mu = PTHREAD_MUTEX_INITIALIZER;
static sq_room *rooms;

sq_room *m2m__sq_room_join(const char *path) {
    struct stat st;
    if (!path || !*path || stat(path, &st) != 0)
        return NULL; /* in memory, or not a file: no one else to wait for */
    pthread_mutex_lock(&rooms_mu);
    sq_room *r = rooms;
    while (r && !(r->dev == st.st_dev && r->ino == st.st_ino))
        r = r->next;
    if (!r && (r = m2m__calloc(1, sizeof *r)) != NULL) {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&r->cond, &a);
        pthread_condattr_destroy(&a);
        r->dev = st.st_dev;
        r->ino = st.st_ino;
        r->next = rooms;
        rooms = r;
    }
    if (r)
        r->users++;
    pthread_mutex_unlock(&rooms_mu);
    return r;
}

void m2m__sq_room_leave(sq_room *r) {
    if (!r)
        return;
    pthread_mutex_lock(&rooms_mu);
    if (--r->users == 0) {
        sq_room **p = &rooms;
        while (*p != r)
            p = &(*p)->next;
        *p = r->next;
        pthread_cond_destroy(&r->cond);
        m2m__free(r);
    }
    pthread_mutex_unlock(&rooms_mu);
}

uint64_t m2m__sq_room_gen(sq_room *r) {
    if (!r)
        return 0;
    pthread_mutex_lock(&rooms_mu);
    uint64_t g = r->gen;
    pthread_mutex_unlock(&rooms_mu);
    return g;
}

void m2m__sq_room_release(sq_room *r) {
    if (!r)
        return;
    pthread_mutex_lock(&rooms_mu);
    r->gen++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&rooms_mu);
}

bool m2m__sq_room_wait(sq_room *r, uint64_t gen, int64_t until_us) {
    if (!r)
        return false;
    struct timespec ts = {(time_t)(until_us / 1000000),
                          (long)(until_us % 1000000) * 1000};
    bool woken = false;
    pthread_mutex_lock(&rooms_mu);
    while (r->gen == gen) {
        if (pthread_cond_timedwait(&r->cond, &rooms_mu, &ts) != 0)
            break; /* the time is up */
    }
    woken = r->gen != gen;
    pthread_mutex_unlock(&rooms_mu);
    return woken;
}
