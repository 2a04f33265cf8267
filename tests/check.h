/* SPDX-License-Identifier: MIT */
/*
 * The assertion every C test uses: CHECK(expr) prints file:line and the expression, then
 * exits with status 1 so ctest marks the case failed. Header-only.
 */
#ifndef LTPROF_TESTS_CHECK_H
#define LTPROF_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(expr)                                                                               \
    do {                                                                                          \
        if (!(expr)) {                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);              \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

#endif
