/* SPDX-License-Identifier: MIT */
/*
 * w1_print.h — the tables of W1's compare mode: medians, each phase's row
 * with m2m over the best baseline, and the CPU seconds behind the times.
 * Included by w1.c alone.
 */
#ifndef M2M_BENCH_W1_PRINT_H
#define M2M_BENCH_W1_PRINT_H

#include "w1.h"

enum { W1_MAX_IMPLS = 3 }; /* m2m and up to two baselines */

static int w1_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double w1_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, w1_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *w1_backend_name(int b) {
    return b == W1_SQLITE ? "sqlite" : b == W1_PG ? "pg" : "mariadb";
}

/* Print phase p's row of a table: each implementation's value, then m2m
 * (implementation 0) over the best baseline. */
static void w1_print_values(const double (*v)[W1_NPHASES], int nimpl, int p) {
    double best = v[1][p];
    for (int i = 2; i < nimpl; i++)
        if (v[i][p] < best)
            best = v[i][p];
    printf("%-5s", w1_phase_name[p]);
    for (int i = 0; i < nimpl; i++)
        printf(" %10.4f", v[i][p]);
    printf(" %8.2fx", v[0][p] / best);
}

/* CPU seconds each implementation spent per phase, the client process's and
 * (PostgreSQL) its server backend's: the work behind the times, which
 * varies less from run to run than the times do on a shared machine. */
static void w1_print_cpu(const w1_result *res, const w1_impl *const *impls, int nimpl,
                         int runs, const char *be, int64_t users) {
    double cli[W1_MAX_IMPLS][W1_NPHASES], srv[W1_MAX_IMPLS][W1_NPHASES],
        tot[W1_MAX_IMPLS][W1_NPHASES];
    double *tmp = w1_xmalloc((size_t)runs * sizeof *tmp);
    int have_srv = 1;
    for (int i = 0; i < nimpl; i++)
        for (int p = 0; p < W1_NPHASES; p++) {
            double *out[3] = {&cli[i][p], &srv[i][p], &tot[i][p]};
            for (int k = 0; k < 3; k++) {
                for (int r = 0; r < runs; r++) {
                    const w1_result *x = &res[r * nimpl + i];
                    have_srv &= x->srv[p] >= 0;
                    tmp[r] = k == 0   ? x->cpu[p]
                             : k == 1 ? x->srv[p]
                                      : x->cpu[p] + x->srv[p];
                }
                *out[k] = w1_median(tmp, runs);
            }
        }
    free(tmp);
    if (!have_srv)
        for (int i = 0; i < nimpl; i++)
            for (int p = 0; p < W1_NPHASES; p++)
                tot[i][p] = cli[i][p], srv[i][p] = 0;
    printf("W1 %s U=%" PRId64 " runs=%d: median CPU seconds per phase, %s\n", be, users,
           runs, have_srv ? "client + server backend" : "client (in process)");
    printf("%-5s", "phase");
    for (int i = 0; i < nimpl; i++)
        printf(" %10s", impls[i]->name);
    printf(" %9s", "m2m/best");
    if (have_srv) {
        printf("  client:");
        for (int i = 0; i < nimpl; i++)
            printf(" %9s", impls[i]->name);
    }
    printf("\n");
    for (int p = 0; p < W1_NPHASES; p++) {
        w1_print_values((const double(*)[W1_NPHASES])tot, nimpl, p);
        if (have_srv) {
            printf("        ");
            for (int i = 0; i < nimpl; i++)
                printf(" %9.4f", cli[i][p]);
        }
        printf("\n");
    }
    for (int p = 0; p < W1_NPHASES; p++)
        for (int i = 0; i < nimpl; i++)
            printf("CPU %s %" PRId64 " %s %s %.6f %.6f\n", be, users, w1_phase_name[p],
                   impls[i]->name, cli[i][p], srv[i][p]);
}

#endif
