/* SPDX-License-Identifier: MIT */
/* An in-place sort. glibc's qsort is a merge sort that first allocates a
 * buffer the size of the array: 32 MiB more for the row digests of a
 * million-row version, 8 MiB for a million ids. This one allocates
 * nothing: quicksort (median of three, insertion sort for short runs,
 * the shorter side first so the stack stays O(log n)), falling back to
 * heapsort past a depth limit so that no input takes O(n^2). */
#include "util/util.h"

#include <string.h>

enum { SHORT_RUN = 12 };

typedef int (*cmp_fn)(const void *, const void *);

static void swap(unsigned char *a, unsigned char *b, size_t size) {
    unsigned char t[64];
    while (size) {
        size_t k = size < sizeof t ? size : sizeof t;
        memcpy(t, a, k);
        memcpy(a, b, k);
        memcpy(b, t, k);
        a += k, b += k, size -= k;
    }
}

#define AT(i) (base + (i)*size)

static void insertion(unsigned char *base, size_t n, size_t size, cmp_fn cmp) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(AT(j - 1), AT(j)) > 0; j--)
            swap(AT(j - 1), AT(j), size);
}

static void sift(unsigned char *base, size_t root, size_t n, size_t size, cmp_fn cmp) {
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && cmp(AT(child), AT(child + 1)) < 0)
            child++;
        if (cmp(AT(root), AT(child)) >= 0)
            return;
        swap(AT(root), AT(child), size);
    }
}

static void heapsort(unsigned char *base, size_t n, size_t size, cmp_fn cmp) {
    for (size_t i = n / 2; i-- > 0;)
        sift(base, i, n, size, cmp);
    for (size_t end = n; end-- > 1;) {
        swap(AT(0), AT(end), size);
        sift(base, 0, end, size, cmp);
    }
}

static void quick(unsigned char *base, size_t n, size_t size, cmp_fn cmp, int depth) {
    while (n > SHORT_RUN) {
        if (depth-- == 0) {
            heapsort(base, n, size, cmp);
            return;
        }
        /* The median of the first, middle and last goes first: the pivot. */
        size_t mid = n / 2, last = n - 1;
        if (cmp(AT(mid), AT(0)) < 0)
            swap(AT(mid), AT(0), size);
        if (cmp(AT(last), AT(mid)) < 0) {
            swap(AT(last), AT(mid), size);
            if (cmp(AT(mid), AT(0)) < 0)
                swap(AT(mid), AT(0), size);
        }
        swap(AT(0), AT(mid), size);
        /* Hoare's partition around base[0]: [1, j] <= pivot <= [j + 1, n). */
        size_t i = 0, j = n;
        for (;;) {
            do
                i++;
            while (i < n && cmp(AT(i), base) < 0);
            do
                j--;
            while (cmp(AT(j), base) > 0);
            if (i >= j)
                break;
            swap(AT(i), AT(j), size);
        }
        swap(base, AT(j), size);
        /* Now [0, j) <= base[j] <= (j, n). */
        size_t left = j, right = n - j - 1;
        if (left < right) {
            quick(base, left, size, cmp, depth);
            base = AT(j + 1);
            n = right;
        } else {
            quick(AT(j + 1), right, size, cmp, depth);
            n = left;
        }
    }
    insertion(base, n, size, cmp);
}

void m2m__sort(void *base, size_t n, size_t size,
               int (*cmp)(const void *, const void *)) {
    int depth = 0;
    for (size_t k = n; k > 1; k >>= 1)
        depth += 2;
    if (n > 1)
        quick(base, n, size, cmp, depth);
}
