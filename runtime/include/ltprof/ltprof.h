/* SPDX-License-Identifier: MIT */
/*
 * ltprof's public C API: what a program linked with -lltprof (or running with
 * LD_PRELOAD=libltprof.so) may call. Everything else in libltprof.so is hidden.
 * Profiling starts by itself when the library loads; configuration comes from LTPROF_*
 * environment variables (docs/configuration.md).
 */
#ifndef LTPROF_LTPROF_H
#define LTPROF_LTPROF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LTPROF_API __attribute__((visibility("default")))

/* Status codes returned by ltprof functions: 0 on success, negative on failure. */
enum ltprof_status {
    LTPROF_OK = 0,
    LTPROF_ERR_NOMEM = -1,       /* out of memory */
    LTPROF_ERR_INVALID = -2,     /* invalid argument or input */
    LTPROF_ERR_IO = -3,          /* a file or system call failed */
    LTPROF_ERR_BUSY = -4,        /* already in use */
    LTPROF_ERR_UNSUPPORTED = -5, /* not possible on this system */
    LTPROF_ERR_NOT_FOUND = -6,   /* nothing to work on */
};

/* Detail of a failure: one line a user can act on. Fixed size, so filling it never allocates. */
struct ltprof_error {
    char message[512];
};

/* Library version as "MAJOR.MINOR.PATCH". The string is static. */
LTPROF_API const char *ltprof_version(void);

/* The CPU sampling engine in use: "perf_event", "timer_create" or "none". Static string. */
LTPROF_API const char *ltprof_cpu_engine(void);

/* A short text for a status code. Static string. */
LTPROF_API const char *ltprof_status_string(enum ltprof_status status);

#ifdef __cplusplus
}
#endif

#endif
