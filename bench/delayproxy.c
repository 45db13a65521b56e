/* SPDX-License-Identifier: MIT */
/*
 * delayproxy: a PostgreSQL server as if on another machine.
 *
 *   delayproxy DIR PORT SERVER_DIR SERVER_PORT DELAY_US
 *
 * Listens on the unix socket DIR/.s.PGSQL.PORT (libpq: host=DIR port=PORT),
 * returns once it does (the relay runs in a child until killed), and relays
 * every connection to the server's socket SERVER_DIR/.s.PGSQL.SERVER_PORT,
 * holding each chunk of bytes DELAY_US microseconds, in each direction,
 * from the moment it was read: a round trip costs 2 x DELAY_US more, and
 * bytes that follow each other (a pipeline, a stream of rows) are not
 * delayed more than once. Each direction of a connection is a reader
 * thread that stamps the chunks and a writer thread that sends each at its
 * time. bench/latency.sh runs W1 through it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_un server;
static int64_t delay_ns;

static int unix_addr(struct sockaddr_un *a, const char *dir, const char *port) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path, sizeof a->sun_path, "%s/.s.PGSQL.%s", dir, port);
    return n > 0 && (size_t)n < sizeof a->sun_path ? 0 : -1;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct chunk {
    struct chunk *next;
    int64_t due; /* CLOCK_MONOTONIC ns */
    size_t n;
    char data[];
} chunk;

/* One direction of a connection: from -> to, through a queue. */
typedef struct pipe_ {
    int from, to;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chunk *head, *tail;
    int eof;
} pipe_;

static void *reader(void *arg) {
    pipe_ *p = arg;
    char buf[65536];
    for (;;) {
        ssize_t n = read(p->from, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        chunk *c = n > 0 ? malloc(sizeof *c + (size_t)n) : NULL;
        pthread_mutex_lock(&p->mu);
        if (!c) {
            p->eof = 1;
        } else {
            *c = (chunk){.due = now_ns() + delay_ns, .n = (size_t)n};
            memcpy(c->data, buf, (size_t)n);
            if (p->tail)
                p->tail->next = c;
            else
                p->head = c;
            p->tail = c;
        }
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (!c)
            return NULL;
    }
}

static void *writer(void *arg) {
    pipe_ *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->eof)
            pthread_cond_wait(&p->cv, &p->mu);
        chunk *c = p->head;
        if (c && !(p->head = c->next))
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        if (!c)
            break;
        int64_t wait = c->due - now_ns();
        if (wait > 0) {
            struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
            while (nanosleep(&ts, &ts) && errno == EINTR) {
            }
        }
        size_t off = 0;
        while (off < c->n) {
            ssize_t w = write(p->to, c->data + off, c->n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        int lost = off < c->n;
        free(c);
        if (lost)
            break;
    }
    shutdown(p->to, SHUT_WR);
    return NULL;
}

/* Relay one client connection until both directions end. */
static void *relay(void *arg) {
    int c = (int)(intptr_t)arg;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&server, sizeof server)) {
        perror("delayproxy: connect");
        close(c);
        if (s >= 0)
            close(s);
        return NULL;
    }
    pipe_ p[2] = {{.from = c, .to = s}, {.from = s, .to = c}};
    pthread_t th[4];
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&p[i].mu, NULL);
        pthread_cond_init(&p[i].cv, NULL);
        pthread_create(&th[2 * i], NULL, reader, &p[i]);
        pthread_create(&th[2 * i + 1], NULL, writer, &p[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        while (p[i].head) {
            chunk *n = p[i].head->next;
            free(p[i].head);
            p[i].head = n;
        }
        pthread_mutex_destroy(&p[i].mu);
        pthread_cond_destroy(&p[i].cv);
    }
    close(c);
    close(s);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: delayproxy DIR PORT SERVER_DIR SERVER_PORT DELAY_US\n");
        return 2;
    }
    struct sockaddr_un me;
    if (unix_addr(&me, argv[1], argv[2]) || unix_addr(&server, argv[3], argv[4])) {
        fprintf(stderr, "delayproxy: socket path too long\n");
        return 2;
    }
    delay_ns = strtoll(argv[5], NULL, 10) * 1000;
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&me, sizeof me) || listen(ls, 64)) {
        perror("delayproxy: listen");
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("delayproxy: fork");
        return 1;
    }
    if (pid > 0) {
        printf("%ld\n", (long)pid); /* listening: the caller may connect */
        return 0;
    }
    /* Wake at the due time, not up to 50 us later (the default slack). */
    prctl(PR_SET_TIMERSLACK, 1UL);
    /* Let go of the caller's stdout: a $(...) reading it would wait. */
    if (!freopen("/dev/null", "w", stdout))
        return 1;
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            perror("delayproxy: accept");
            return 1;
        }
        pthread_t th;
        if (pthread_create(&th, NULL, relay, (void *)(intptr_t)c) == 0)
            pthread_detach(th);
        else
            close(c);
    }
}
