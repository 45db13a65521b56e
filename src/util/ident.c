/* SPDX-License-Identifier: MIT */
/* Identifier validation: the only gate between user strings and SQL text. */
#include "util/util.h"

#include <string.h>

static bool part_ok(const char *s, size_t n) {
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

bool m2m__ident_ok(const char *s, bool allow_schema) {
    if (!s)
        return false;
    const char *dot = strchr(s, '.');
    if (!dot)
        return part_ok(s, strlen(s));
    return allow_schema && part_ok(s, (size_t)(dot - s)) &&
           part_ok(dot + 1, strlen(dot + 1));
}
