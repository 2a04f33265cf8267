/* SPDX-License-Identifier: MIT */
/*
 * Reads the LTPROF_* environment variables into struct rt_config (runtime/internal.h).
 * A bad value never stops the program: it gets one warning line and the default.
 * Runs once, in the library constructor, before any thread of ours exists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CPU_HZ_DEFAULT 100
#define CPU_HZ_MAX 1000
#define MAX_FRAMES_DEFAULT 128
#define SYSCALL_NS_DEFAULT 10000
#define SYSCALL_NS_MAX 60000000000ull /* one minute */
#define HEAP_INTERVAL_MS_DEFAULT 10
#define HEAP_INTERVAL_MS_MAX 60000
#define MEMPROFILE_RATE_DEFAULT 524288 /* Go's runtime.MemProfileRate */
#define MEMPROFILE_RATE_MAX (1ull << 40)
#define MUTEX_FRACTION_MAX (1ull << 31)
#define BLOCK_RATE_MAX (1ull << 62) /* ns */
#define HTTP_MAX_SECONDS_DEFAULT 600
#define HTTP_MAX_SECONDS_MAX 86400
#define HTTP_PREFIX_DEFAULT "/debug/pprof"

static void warn_bad(FILE *warn, const char *name, const char *value, const char *expected,
                     const char *fallback)
{
    if (warn)
        fprintf(warn, "ltprof: warning: ignoring %s=\"%s\": expected %s; using %s\n", name, value,
                expected, fallback);
}

/* Parses a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
static int parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    if (*text == '\0' || *text == '-' || *text == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Parses a whole decimal number in [0, max]; 0 on success, -1 otherwise. */
static int parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    if (*text == '\0' || *text == '-' || *text == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static void load_u64(const char *name, const char *value, uint64_t max, uint64_t *field,
                     FILE *warn)
{
    char expected[64], fallback[32];
    if (!value || parse_u64(value, max, field) == 0)
        return;
    snprintf(expected, sizeof(expected), "a whole number from 0 to %llu", (unsigned long long)max);
    snprintf(fallback, sizeof(fallback), "%llu", (unsigned long long)*field);
    warn_bad(warn, name, value, expected, fallback);
}

static void load_sched(const char *value, struct rt_config *cfg, FILE *warn)
{
    if (!value)
        return;
    if (strcmp(value, "auto") == 0 || strcmp(value, "perf") == 0)
        cfg->sched_switches = 1;
    else if (strcmp(value, "off") == 0)
        cfg->sched_switches = 0;
    else
        warn_bad(warn, "LTPROF_SCHED", value, "auto, perf or off", "auto");
}

static void load_u32(const char *name, const char *value, uint32_t min, uint32_t max,
                     uint32_t *field, FILE *warn)
{
    char expected[64], fallback[32];
    if (!value || parse_u32(value, min, max, field) == 0)
        return;
    snprintf(expected, sizeof(expected), "a whole number from %u to %u", min, max);
    snprintf(fallback, sizeof(fallback), "%u", *field);
    warn_bad(warn, name, value, expected, fallback);
}

static void load_engine(const char *value, struct rt_config *cfg, FILE *warn)
{
    if (!value)
        return;
    if (strcmp(value, "auto") == 0)
        cfg->cpu_engine = TR_ENGINE_AUTO;
    else if (strcmp(value, "perf") == 0)
        cfg->cpu_engine = TR_ENGINE_PERF;
    else if (strcmp(value, "timer") == 0)
        cfg->cpu_engine = TR_ENGINE_TIMER;
    else
        warn_bad(warn, "LTPROF_CPU_ENGINE", value, "auto, perf or timer", "auto");
}

/* An output file named at start-up: kept as an absolute path, so a later chdir() does not move
 * it. */
static void load_path(const char *name, const char *value, char *field, size_t size, FILE *warn)
{
    field[0] = '\0';
    if (!value)
        return;
    char cwd[4096] = "";
    if (value[0] != '/' && !getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    int n = value[0] == '/' ? snprintf(field, size, "%s", value)
                            : snprintf(field, size, "%s/%s", cwd, value);
    if (!value[0] || (value[0] != '/' && !cwd[0]) || n < 0 || (size_t)n >= size) {
        field[0] = '\0';
        warn_bad(warn, name, value, "a file path (up to 4095 bytes once made absolute)",
                 "none: nothing is written");
    }
}

static void load_log(const char *value, struct rt_config *cfg, FILE *warn)
{
    if (!value)
        return;
    int level = rt_log_level_parse(value);
    if (level < 0)
        warn_bad(warn, "LTPROF_LOG", value, "off, error, warn, info, debug or trace", "off");
    else
        cfg->log_level = level;
}

/* A string kept as it is, when it fits and has no control characters. */
static void load_string(const char *name, const char *value, char *field, size_t size,
                        const char *expected, FILE *warn)
{
    if (!value)
        return;
    size_t len = strlen(value);
    int ok = len < size;
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)value[i] > ' ' && value[i] != 0x7f;
    if (ok)
        memcpy(field, value, len + 1);
    else
        warn_bad(warn, name, value, expected, field[0] ? field : "none");
}

/* "/debug/pprof": starts with '/', no trailing '/', no '?', '#' or '%' (kept literal). */
static void load_prefix(const char *value, struct rt_config *cfg, FILE *warn)
{
    char prefix[sizeof(cfg->http_prefix)] = "";
    load_string("LTPROF_HTTP_PREFIX", value, prefix, sizeof(prefix), "a URL path", NULL);
    size_t len = strlen(prefix);
    while (len > 1 && prefix[len - 1] == '/')
        prefix[--len] = '\0';
    int ok = value && prefix[0] == '/' && !strpbrk(prefix, "?#%");
    if (ok)
        memcpy(cfg->http_prefix, prefix, len + 1);
    else if (value)
        warn_bad(warn, "LTPROF_HTTP_PREFIX", value,
                 "a URL path starting with '/' (up to 127 bytes, no spaces, '?', '#' or '%')",
                 HTTP_PREFIX_DEFAULT);
    if (strcmp(cfg->http_prefix, "/") == 0)
        cfg->http_prefix[0] = '\0'; /* routes at the root: "/heap" */
}

static void load_switch(const char *name, const char *value, const char *on, const char *off,
                        int *field, FILE *warn)
{
    if (!value)
        return;
    if (strcmp(value, on) == 0)
        *field = 1;
    else if (strcmp(value, off) == 0)
        *field = 0;
    else {
        char expected[64];
        snprintf(expected, sizeof(expected), "%s or %s", on, off);
        warn_bad(warn, name, value, expected, *field ? on : off);
    }
}

void rt_config_load(struct rt_config *cfg, rt_getenv_fn getenv_fn, FILE *warn)
{
    uint32_t stats = 0;

    cfg->cpu_hz = CPU_HZ_DEFAULT;
    cfg->cpu_engine = TR_ENGINE_AUTO;
    cfg->max_frames = MAX_FRAMES_DEFAULT;
    cfg->log_level = RT_LOG_OFF;
    cfg->stats = 0;
    cfg->sched_switches = 1;
    cfg->syscall_ns = SYSCALL_NS_DEFAULT;
    cfg->heap_interval_ms = HEAP_INTERVAL_MS_DEFAULT;
    cfg->memprofile_rate = MEMPROFILE_RATE_DEFAULT;

    load_u32("LTPROF_CPU_HZ", getenv_fn("LTPROF_CPU_HZ"), 0, CPU_HZ_MAX, &cfg->cpu_hz, warn);
    load_engine(getenv_fn("LTPROF_CPU_ENGINE"), cfg, warn);
    load_u32("LTPROF_MAX_FRAMES", getenv_fn("LTPROF_MAX_FRAMES"), 1, MAX_FRAMES_DEFAULT,
             &cfg->max_frames, warn);
    load_log(getenv_fn("LTPROF_LOG"), cfg, warn);
    load_u32("LTPROF_STATS", getenv_fn("LTPROF_STATS"), 0, 1, &stats, warn);
    cfg->stats = (int)stats;
    load_sched(getenv_fn("LTPROF_SCHED"), cfg, warn);
    load_u64("LTPROF_SYSCALL_NS", getenv_fn("LTPROF_SYSCALL_NS"), SYSCALL_NS_MAX, &cfg->syscall_ns,
             warn);
    load_u32("LTPROF_HEAP_INTERVAL_MS", getenv_fn("LTPROF_HEAP_INTERVAL_MS"), 0,
             HEAP_INTERVAL_MS_MAX, &cfg->heap_interval_ms, warn);
    load_u64("LTPROF_MEMPROFILE_RATE", getenv_fn("LTPROF_MEMPROFILE_RATE"), MEMPROFILE_RATE_MAX,
             &cfg->memprofile_rate, warn);
    load_path("LTPROF_CPUPROFILE", getenv_fn("LTPROF_CPUPROFILE"), cfg->cpu_profile,
              sizeof(cfg->cpu_profile), warn);
    load_path("LTPROF_HEAPPROFILE", getenv_fn("LTPROF_HEAPPROFILE"), cfg->heap_profile,
              sizeof(cfg->heap_profile), warn);
    load_path("LTPROF_MUTEXPROFILE", getenv_fn("LTPROF_MUTEXPROFILE"), cfg->mutex_profile,
              sizeof(cfg->mutex_profile), warn);
    load_path("LTPROF_BLOCKPROFILE", getenv_fn("LTPROF_BLOCKPROFILE"), cfg->block_profile,
              sizeof(cfg->block_profile), warn);
    cfg->mutex_fraction = cfg->mutex_profile[0] ? 1 : 0;
    cfg->block_rate = cfg->block_profile[0] ? 1 : 0;
    load_u64("LTPROF_MUTEX_FRACTION", getenv_fn("LTPROF_MUTEX_FRACTION"), MUTEX_FRACTION_MAX,
             &cfg->mutex_fraction, warn);
    load_u64("LTPROF_BLOCK_RATE", getenv_fn("LTPROF_BLOCK_RATE"), BLOCK_RATE_MAX,
             &cfg->block_rate, warn);

    cfg->http_addr[0] = cfg->http_token[0] = '\0';
    snprintf(cfg->http_prefix, sizeof(cfg->http_prefix), "%s", HTTP_PREFIX_DEFAULT);
    cfg->http_max_seconds = HTTP_MAX_SECONDS_DEFAULT;
    cfg->http_spawn_sessiond = 1;
    cfg->http_cmdline = 1;
    load_string("LTPROF_HTTP", getenv_fn("LTPROF_HTTP"), cfg->http_addr, sizeof(cfg->http_addr),
                "an address such as 127.0.0.1:6060, [::1]:6060, 6060 or unix:/path", warn);
    load_prefix(getenv_fn("LTPROF_HTTP_PREFIX"), cfg, warn);
    load_string("LTPROF_HTTP_TOKEN", getenv_fn("LTPROF_HTTP_TOKEN"), cfg->http_token,
                sizeof(cfg->http_token), "up to 255 printable characters without spaces", warn);
    load_u32("LTPROF_HTTP_MAX_SECONDS", getenv_fn("LTPROF_HTTP_MAX_SECONDS"), 1,
             HTTP_MAX_SECONDS_MAX, &cfg->http_max_seconds, warn);
    load_switch("LTPROF_HTTP_SESSIOND", getenv_fn("LTPROF_HTTP_SESSIOND"), "spawn", "never",
                &cfg->http_spawn_sessiond, warn);
    load_switch("LTPROF_HTTP_CMDLINE", getenv_fn("LTPROF_HTTP_CMDLINE"), "on", "off",
                &cfg->http_cmdline, warn);
}
