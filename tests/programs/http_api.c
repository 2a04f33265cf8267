/* SPDX-License-Identifier: MIT */
/*
 * http_api: the HTTP server's C API from a program linked with -lltprof. Checks the statuses
 * itself (exit 1 with the failed check on stderr): ltprof_http_start(NULL) and "" are
 * LTPROF_ERR_INVALID, a bad address LTPROF_ERR_IO with a reason in ltprof_http_error(), a stop
 * with none running LTPROF_ERR_NOT_FOUND; then starts on 127.0.0.1:0, prints
 * "listening ADDRESS" (ltprof_http_address()), and a second start is LTPROF_ERR_BUSY. It then
 * reads commands from stdin, one per line, answering "ok" or "failed" (so the test drives it):
 *   stop     ltprof_http_stop() (it must return even while a request waits out seconds=)
 *   start    ltprof_http_start() on the address it had (the port is free again)
 *   quit     exits 0 (the server stops at exit)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ltprof/ltprof.h"

#define EXPECT(expr)                                                                              \
    do {                                                                                          \
        if (!(expr)) {                                                                            \
            fprintf(stderr, "http_api: check failed: %s\n", #expr);                               \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

int main(void)
{
    EXPECT(ltprof_http_start(NULL) == LTPROF_ERR_INVALID);
    EXPECT(ltprof_http_start("") == LTPROF_ERR_INVALID);
    EXPECT(ltprof_http_start("127.0.0.1:99999") == LTPROF_ERR_IO);
    EXPECT(strstr(ltprof_http_error(), "127.0.0.1:99999") != NULL);
    EXPECT(ltprof_http_address() == NULL);
    EXPECT(ltprof_http_stop() == LTPROF_ERR_NOT_FOUND);
    EXPECT(ltprof_http_start("127.0.0.1:0") == LTPROF_OK);
    EXPECT(ltprof_http_error()[0] == '\0');
    char address[300];
    snprintf(address, sizeof(address), "%s", ltprof_http_address());
    EXPECT(strncmp(address, "127.0.0.1:", 10) == 0 && strcmp(address, "127.0.0.1:0") != 0);
    EXPECT(ltprof_http_start("127.0.0.1:0") == LTPROF_ERR_BUSY);
    printf("listening %s\n", address);
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        int ok = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (strcmp(line, "stop\n") == 0)
            ok = ltprof_http_stop() == LTPROF_OK && ltprof_http_address() == NULL;
        else if (strcmp(line, "start\n") == 0)
            ok = ltprof_http_start(address) == LTPROF_OK;
        else if (strcmp(line, "quit\n") == 0)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        printf("%s %.0f ms%s%s\n", ok ? "ok" : "failed", ms, ok ? "" : ": ", ok ? "" : ltprof_http_error());
        fflush(stdout);
    }
    return 0;
}
