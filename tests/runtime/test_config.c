/* SPDX-License-Identifier: MIT */
/*
 * Tests runtime/config.c: defaults, valid values, and that every bad value gives exactly one
 * warning naming the variable and keeps the default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#include "check.h"

/* A fake environment: NAME=VALUE pairs. */
static const char *fake_env[16];

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; fake_env[i]; i++)
        if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
            return fake_env[i] + n + 1;
    return NULL;
}

/* Loads the config from `env` (NULL-terminated) and returns the warnings written. */
static char *load(struct rt_config *cfg, const char **env)
{
    static char buf[16384];
    memset(fake_env, 0, sizeof(fake_env));
    for (size_t i = 0; env[i]; i++)
        fake_env[i] = env[i];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    CHECK(f);
    rt_config_load(cfg, fake_getenv, f);
    fclose(f);
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void config_defaults(void)
{
    struct rt_config cfg;
    const char *env[] = {NULL};
    char *w = load(&cfg, env);
    CHECK(w[0] == '\0');
    CHECK(cfg.cpu_hz == 100);
    CHECK(cfg.cpu_engine == TR_ENGINE_AUTO);
    CHECK(cfg.max_frames == 128);
    CHECK(cfg.log_level == RT_LOG_OFF);
    CHECK(cfg.stats == 0);
}

static void config_valid_values(void)
{
    struct rt_config cfg;
    const char *env[] = {"LTPROF_CPU_HZ=250", "LTPROF_CPU_ENGINE=timer", "LTPROF_MAX_FRAMES=16",
                         "LTPROF_LOG=debug", "LTPROF_STATS=1", NULL};
    char *w = load(&cfg, env);
    CHECK(w[0] == '\0');
    CHECK(cfg.cpu_hz == 250);
    CHECK(cfg.cpu_engine == TR_ENGINE_TIMER);
    CHECK(cfg.max_frames == 16);
    CHECK(cfg.log_level == RT_LOG_DEBUG);
    CHECK(cfg.stats == 1);
    const char *env0[] = {"LTPROF_CPU_HZ=0", "LTPROF_CPU_ENGINE=perf", NULL};
    load(&cfg, env0);
    CHECK(cfg.cpu_hz == 0);
    CHECK(cfg.cpu_engine == TR_ENGINE_PERF);
}

static void config_bad_values_warn_once_and_keep_defaults(void)
{
    static const char *bad[][2] = {
        {"LTPROF_CPU_HZ=fast", "LTPROF_CPU_HZ"},     {"LTPROF_CPU_HZ=-5", "LTPROF_CPU_HZ"},
        {"LTPROF_CPU_HZ=100x", "LTPROF_CPU_HZ"},     {"LTPROF_CPU_HZ=", "LTPROF_CPU_HZ"},
        {"LTPROF_CPU_HZ=1001", "LTPROF_CPU_HZ"},     {"LTPROF_CPU_HZ=99999999999999999999", "LTPROF_CPU_HZ"},
        {"LTPROF_CPU_ENGINE=gpu", "LTPROF_CPU_ENGINE"}, {"LTPROF_MAX_FRAMES=0", "LTPROF_MAX_FRAMES"},
        {"LTPROF_MAX_FRAMES=129", "LTPROF_MAX_FRAMES"}, {"LTPROF_LOG=loud", "LTPROF_LOG"},
        {"LTPROF_STATS=yes", "LTPROF_STATS"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rt_config cfg;
        const char *env[] = {bad[i][0], NULL};
        char *w = load(&cfg, env);
        CHECK(count_lines(w) == 1);
        CHECK(strstr(w, bad[i][1]) != NULL);
        CHECK(strstr(w, "warning") != NULL);
        CHECK(cfg.cpu_hz == 100 && cfg.cpu_engine == TR_ENGINE_AUTO && cfg.max_frames == 128 &&
              cfg.log_level == RT_LOG_OFF && cfg.stats == 0);
    }
}

/* LTPROF_MEMPROFILE_RATE and LTPROF_HEAPPROFILE: the path is made absolute at load. */
static void config_heap_profile(void)
{
    struct rt_config cfg;
    const char *none[] = {NULL};
    load(&cfg, none);
    CHECK(cfg.memprofile_rate == 524288 && cfg.heap_profile[0] == '\0');
    const char *abs[] = {"LTPROF_HEAPPROFILE=/tmp/h-%p.pb.gz", "LTPROF_MEMPROFILE_RATE=1", NULL};
    CHECK(load(&cfg, abs)[0] == '\0');
    CHECK(strcmp(cfg.heap_profile, "/tmp/h-%p.pb.gz") == 0 && cfg.memprofile_rate == 1);
    const char *rel[] = {"LTPROF_HEAPPROFILE=out/h.pb.gz", NULL};
    CHECK(load(&cfg, rel)[0] == '\0');
    char want[4200], cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "%s/out/h.pb.gz", cwd);
    CHECK(strcmp(cfg.heap_profile, want) == 0);
    static char longpath[5000];
    memset(longpath, 'a', sizeof(longpath) - 1);
    memcpy(longpath, "LTPROF_HEAPPROFILE=/", 20); // NOLINT(bugprone-not-null-terminated-result): a prefix
    const char *bad[][1] = {{"LTPROF_HEAPPROFILE="}, {longpath}, {"LTPROF_MEMPROFILE_RATE=-1"}};
    for (size_t i = 0; i < 3; i++) {
        const char *env[] = {bad[i][0], NULL};
        char *w = load(&cfg, env);
        CHECK(count_lines(w) == 1 && strstr(w, "warning"));
        CHECK(cfg.heap_profile[0] == '\0' && cfg.memprofile_rate == 524288);
    }
}

/* LTPROF_MUTEXPROFILE / LTPROF_BLOCKPROFILE turn their table on at 1 unless the rate is given. */
static void config_contention_profiles(void)
{
    struct rt_config cfg;
    const char *none[] = {NULL};
    load(&cfg, none);
    CHECK(cfg.mutex_fraction == 0 && cfg.block_rate == 0 && !cfg.mutex_profile[0]);
    const char *files[] = {"LTPROF_MUTEXPROFILE=/tmp/m", "LTPROF_BLOCKPROFILE=/tmp/b", NULL};
    CHECK(load(&cfg, files)[0] == '\0');
    CHECK(cfg.mutex_fraction == 1 && cfg.block_rate == 1);
    CHECK(strcmp(cfg.mutex_profile, "/tmp/m") == 0 && strcmp(cfg.block_profile, "/tmp/b") == 0);
    const char *rates[] = {"LTPROF_MUTEXPROFILE=/tmp/m", "LTPROF_MUTEX_FRACTION=5",
                           "LTPROF_BLOCK_RATE=10000", NULL};
    CHECK(load(&cfg, rates)[0] == '\0');
    CHECK(cfg.mutex_fraction == 5 && cfg.block_rate == 10000 && !cfg.block_profile[0]);
    const char *bad[] = {"LTPROF_BLOCKPROFILE=/tmp/b", "LTPROF_BLOCK_RATE=soon", NULL};
    char *w = load(&cfg, bad);
    CHECK(count_lines(w) == 1 && strstr(w, "LTPROF_BLOCK_RATE") && strstr(w, "using 1"));
    CHECK(cfg.block_rate == 1);
}

static void config_http(void)
{
    struct rt_config cfg;
    const char *none[] = {NULL};
    load(&cfg, none);
    CHECK(!cfg.http_addr[0] && strcmp(cfg.http_prefix, "/debug/pprof") == 0 && !cfg.http_token[0]);
    CHECK(cfg.http_max_seconds == 600 && cfg.http_spawn_sessiond == 1 && cfg.http_cmdline == 1);
    const char *good[] = {"LTPROF_HTTP=127.0.0.1:6060", "LTPROF_HTTP_PREFIX=/prof//",
                          "LTPROF_HTTP_TOKEN=abc", "LTPROF_HTTP_MAX_SECONDS=5",
                          "LTPROF_HTTP_SESSIOND=never", "LTPROF_HTTP_CMDLINE=off", NULL};
    CHECK(load(&cfg, good)[0] == '\0');
    CHECK(strcmp(cfg.http_addr, "127.0.0.1:6060") == 0 && strcmp(cfg.http_prefix, "/prof") == 0);
    CHECK(strcmp(cfg.http_token, "abc") == 0 && cfg.http_max_seconds == 5);
    CHECK(cfg.http_spawn_sessiond == 0 && cfg.http_cmdline == 0);
    const char *root[] = {"LTPROF_HTTP_PREFIX=/", NULL};
    CHECK(load(&cfg, root)[0] == '\0' && cfg.http_prefix[0] == '\0');
    const char *bad[] = {"LTPROF_HTTP_PREFIX=debug", "LTPROF_HTTP_TOKEN=a b",
                         "LTPROF_HTTP_MAX_SECONDS=0", "LTPROF_HTTP_SESSIOND=maybe",
                         "LTPROF_HTTP_CMDLINE=yes", "LTPROF_HTTP=has space", NULL};
    char *w = load(&cfg, bad);
    CHECK(count_lines(w) == 6 && strstr(w, "LTPROF_HTTP_PREFIX") && strstr(w, "LTPROF_HTTP_TOKEN"));
    CHECK(strcmp(cfg.http_prefix, "/debug/pprof") == 0 && !cfg.http_token[0] && !cfg.http_addr[0]);
    CHECK(cfg.http_max_seconds == 600 && cfg.http_spawn_sessiond == 1 && cfg.http_cmdline == 1);
}

static void log_level_parse(void)
{
    CHECK(rt_log_level_parse("off") == RT_LOG_OFF);
    CHECK(rt_log_level_parse("trace") == RT_LOG_TRACE);
    CHECK(rt_log_level_parse("WARN") == -1);
    rt_log_set_level(RT_LOG_WARN);
    CHECK(rt_log_enabled(RT_LOG_ERROR) && rt_log_enabled(RT_LOG_WARN));
    CHECK(!rt_log_enabled(RT_LOG_INFO));
    rt_log_set_level(RT_LOG_OFF);
    CHECK(!rt_log_enabled(RT_LOG_ERROR));
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"config_defaults", config_defaults},
        {"config_valid_values", config_valid_values},
        {"config_bad_values_warn_once_and_keep_defaults", config_bad_values_warn_once_and_keep_defaults},
        {"config_heap_profile", config_heap_profile},
        {"config_contention_profiles", config_contention_profiles},
        {"config_http", config_http},
        {"log_level_parse", log_level_parse},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        cases[i].fn();
        printf("ok %s\n", cases[i].name);
    }
    return 0;
}
