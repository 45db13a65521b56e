/* SPDX-License-Identifier: MIT */
/* A connection to PostgreSQL lost right after COMMIT was sent, for the m2m
 * tool's exit 7 (in doubt):
 *   cutproxy DIR PORT SERVER_DIR SERVER_PORT MARK
 * listens on DIR/.s.PGSQL.PORT, returns once it does, and relays the first
 * connection to the server's socket. Once the client has sent MARK and then
 * COMMIT, it passes that on to the server, waits for the server's answer,
 * and closes the client's side without passing it on: the transaction has
 * ended on the server when the client sees the connection lost. The socket
 * is gone by then, so reconnecting to ask whether the transaction committed
 * fails too. Gives up after 30 s. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_addr(struct sockaddr_un *a, const char *dir, const char *port) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path, sizeof a->sun_path, "%s/.s.PGSQL.%s", dir, port);
    return n > 0 && (size_t)n < sizeof a->sun_path ? 0 : -1;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Whether needle occurs in the n bytes at hay. */
static const char *find(const char *hay, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

/* Read the server's answers until the one to COMMIT (or 5 s) and drop them. */
static void drain(int s) {
    char buf[65536];
    struct pollfd p = {s, POLLIN, 0};
    while (poll(&p, 1, 5000) > 0) {
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0 || find(buf, (size_t)n, "COMMIT") || find(buf, (size_t)n, "ROLLBACK"))
            break;
    }
    close(s);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: cutproxy DIR PORT SERVER_DIR SERVER_PORT MARK\n");
        return 2;
    }
    struct sockaddr_un me, server;
    if (unix_addr(&me, argv[1], argv[2]) || unix_addr(&server, argv[3], argv[4])) {
        fprintf(stderr, "cutproxy: socket path too long\n");
        return 2;
    }
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&me, sizeof me) || listen(ls, 1)) {
        perror("cutproxy: listen");
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("cutproxy: fork");
        return 1;
    }
    if (pid > 0)
        return 0; /* listening: the caller may connect */
    alarm(30);
    int c = accept(ls, NULL, NULL);
    close(ls);
    unlink(me.sun_path);
    if (c < 0)
        return 1;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&server, sizeof server)) {
        perror("cutproxy: connect");
        return 1;
    }
    const char *mark = argv[5];
    int marked = 0;
    char buf[65536];
    for (;;) {
        struct pollfd p[2] = {{c, POLLIN, 0}, {s, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int from = i ? s : c, to = i ? c : s;
            ssize_t n = read(from, buf, sizeof buf);
            if (n <= 0)
                return 0;
            if (write_all(to, buf, (size_t)n))
                return 0;
            if (i == 0) {
                const char *m = marked ? buf : find(buf, (size_t)n, mark);
                marked = marked || m;
                if (m && find(m, (size_t)n - (size_t)(m - buf), "COMMIT")) {
                    drain(s); /* COMMIT went out; its answer never comes back */
                    close(c);
                    return 0;
                }
            }
        }
    }
}
