/* SPDX-License-Identifier: MIT */
/*
 * The runtime's logger (runtime/internal.h): one line per message on stderr, off unless
 * LTPROF_LOG sets a level. Never called from signal handlers or interposed calls.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static atomic_int log_level = RT_LOG_OFF;

static const char *const level_names[] = {"off", "error", "warn", "info", "debug", "trace"};

int rt_log_level_parse(const char *text)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcmp(text, level_names[i]) == 0)
            return (int)i;
    return -1;
}

void rt_log_set_level(int level)
{
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int rt_log_enabled(int level)
{
    return level != RT_LOG_OFF && level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void rt_log_write(int level, const char *tag, const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "ltprof[%d] %s %s: ", (int)getpid(),
                     level_names[level], tag);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = strlen(line);
    line[len++] = '\n';
    /* One write(2) per line so lines from several threads do not interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
