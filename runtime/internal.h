/* SPDX-License-Identifier: MIT */
/*
 * Internal to runtime/: configuration from LTPROF_* variables and the logger. The public face
 * of the runtime is include/ltprof/ltprof.h; nothing here crosses the folder.
 */
#ifndef LTPROF_RUNTIME_INTERNAL_H
#define LTPROF_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tracer.h"

/* ---- configuration (config.c) -------------------------------------------------------------- */

/* Everything LTPROF_* variables can set; docs/configuration.md lists them. */
struct rt_config {
    uint32_t cpu_hz;               /* LTPROF_CPU_HZ: samples per CPU-second per thread, 0 = off */
    enum tr_cpu_engine cpu_engine; /* LTPROF_CPU_ENGINE: auto, perf, timer */
    uint32_t max_frames;           /* LTPROF_MAX_FRAMES: 1..128 */
    int log_level;                 /* LTPROF_LOG: enum rt_log_level */
    int stats;                     /* LTPROF_STATS: print sampler statistics at exit */
    int sched_switches;            /* LTPROF_SCHED: auto (1) or off (0) */
    uint64_t syscall_ns;           /* LTPROF_SYSCALL_NS: blocking calls at least this long */
    uint32_t heap_interval_ms;     /* LTPROF_HEAP_INTERVAL_MS: heap counter rate, 0 = off */
    uint64_t memprofile_rate;      /* LTPROF_MEMPROFILE_RATE: mean bytes per sampled allocation */
    uint64_t mutex_fraction;       /* LTPROF_MUTEX_FRACTION: 1 in N contended lock waits, 0 = off */
    uint64_t block_rate;           /* LTPROF_BLOCK_RATE: ns, Go's block profile rate, 0 = off */
    /* Written at exit ("" = not), absolute paths where "%p" is the pid: LTPROF_HEAPPROFILE,
     * LTPROF_MUTEXPROFILE, LTPROF_BLOCKPROFILE. Naming the mutex (block) file turns that
     * table on at 1 unless its rate is given, as `go test -mutexprofile` does. */
    char cpu_profile[4096];        /* LTPROF_CPUPROFILE: the whole run's CPU profile */
    char heap_profile[4096];
    char mutex_profile[4096];
    char block_profile[4096];
    /* The HTTP server (http_server.c). */
    char http_addr[256];           /* LTPROF_HTTP: where to listen at start-up, "" = not */
    char http_prefix[128];         /* LTPROF_HTTP_PREFIX: the routes' path, no trailing '/' */
    char http_token[256];          /* LTPROF_HTTP_TOKEN: required bearer token, "" = none */
    uint32_t http_max_seconds;     /* LTPROF_HTTP_MAX_SECONDS: longest recording or delta */
    int http_spawn_sessiond;       /* LTPROF_HTTP_SESSIOND: spawn (1) or never (0) */
    int http_cmdline;              /* LTPROF_HTTP_CMDLINE: serve /cmdline (1) or not (0) */
};

/* Signature of the environment lookup, so tests can pass their own. */
typedef const char *(*rt_getenv_fn)(const char *name);

/*
 * Fills `cfg` from the environment. A value that does not parse or is out of range keeps the
 * default and writes one warning line to `warn` (stderr in the library). Never fails.
 */
void rt_config_load(struct rt_config *cfg, rt_getenv_fn getenv_fn, FILE *warn);

/* The configuration read at start-up (runtime.c). */
const struct rt_config *rt_config_get(void);

/* ---- in-process profiles (profiles.c, self_symbolizer.c) ---------------------------------- */

/* Writes the profiles the configuration names (LTPROF_HEAPPROFILE, ...) at exit; each "%p"
 * becomes the pid. A failure is reported on stderr and leaves no file. */
void rt_profiles_write_at_exit(const struct rt_config *cfg);
/* The count Go's index page shows for profile `name` (records; threads for threadcreate and
 * goroutine; values for a user-defined profile), or -1 for an unknown name or no memory. */
int64_t rt_profile_count(const char *name);
/* `pattern` with each "%p" replaced by the pid; false when it does not fit. */
bool rt_expand_pid(const char *pattern, char *out, size_t size);
/* LTPROF_CPUPROFILE (cpu_profile.c): starts the in-process CPU profile into the file, and
 * stops and writes it at exit. Failures are reported on stderr and leave no file. */
void rt_cpu_profile_start_from_env(const char *pattern);
void rt_cpu_profile_stop_at_exit(void);

/* One in-process profile being written (profile_writer.c). */
struct pprof_kind;
struct pprof_label;
struct rt_writer {
    struct pprof_builder *b;
    struct sym_session *sym;
    struct sym_pprof *sp;
};
/* A builder for `kind` with this process's modules, the time, and `comment` (NULL: none).
 * 0 or LTPROF_ERR_NOMEM; call rt_writer_finish either way. */
int rt_writer_open(struct rt_writer *w, const struct pprof_kind *kind, int64_t period,
                   const char *comment);
/* One final sample at the stack `pcs` (return addresses, leaf first; with exact_leaf the first
 * is the interrupted instruction itself, as in a CPU sample). 0 or a negative status. */
int rt_writer_sample(struct rt_writer *w, const uint64_t *pcs, size_t n, int exact_leaf,
                     const int64_t *values, const struct pprof_label *labels, size_t n_labels);
/* Appends the pairs of thread label set `set` (tracer.h) to out as string labels; returns how
 * many (at most max). */
size_t rt_writer_labels(uint32_t set, struct pprof_label *out, size_t max);
/* When rc is 0, writes the profile to fd (LTPROF_ERR_IO when a write fails); frees everything.
 * Returns the status. */
int rt_writer_finish(struct rt_writer *w, int fd, int rc);

/* A pprof_write_fn writing to the fd *ctx (an int *), whole, across EINTR; -1 on failure. */
int rt_fd_write(void *ctx, const void *data, size_t len);

/* Go's legacy text profiles (profile_text.c). */
struct rt_text {
    int fd;
    int failed;
    struct sym_session *sym;
    size_t n;
    char buf[16384];
};
/* 0 or LTPROF_ERR_NOMEM; call rt_text_finish either way. */
int rt_text_open(struct rt_text *t, int fd);
void rt_text_printf(struct rt_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "@ <pcs>\n", `comment` (NULL: none) on a line of its own, the frame lines, a blank line.
 * exact_leaf: pcs[0] is an interrupted instruction, not a return address. */
void rt_text_stack(struct rt_text *t, const uint64_t *pcs, size_t n, int exact_leaf,
                   const char *comment);
/* A stack as a Go panic prints it: "function(...)\n\tfile:line +0xoffset" per frame. */
void rt_text_panic_stack(struct rt_text *t, const uint64_t *pcs, size_t n, int exact_leaf);
/* Flushes and frees; rc, else LTPROF_ERR_IO when a write failed, else 0. */
int rt_text_finish(struct rt_text *t, int rc);

/* Writes the thread profile ("goroutine", thread_profile.c) to fd: profile.proto (debug 0),
 * Go's text (1) or a dump of every thread (2). LTPROF_OK, LTPROF_ERR_NOMEM or LTPROF_ERR_IO. */
int rt_thread_profile_write(int fd, int debug);

/* Non-zero for one of Go's profile names (heap, allocs, goroutine, threadcreate, block,
 * mutex), which user-defined profiles cannot take (custom_profiles.c). */
int rt_is_go_profile(const char *name);

/* Writes the user-defined profile `name` (custom_profiles.c) to fd, as profile.proto (debug
 * 0) or Go's text (debug 1). LTPROF_OK, LTPROF_ERR_NOT_FOUND, LTPROF_ERR_NOMEM or
 * LTPROF_ERR_IO. */
int rt_custom_profile_write(const char *name, int fd, int debug);

/* The symbolizer session (symbolizer/sym.h) with this process's modules now, and the
 * executable's module in *exe (NULL if unknown; exe may be NULL); NULL when out of memory.
 * The session is kept while the modules stay the same and has one user at a time: give it
 * back with rt_self_symbolizer_release (never destroy it); another caller waits meanwhile. */
struct sym_module;
struct sym_session *rt_self_symbolizer(struct sym_module **exe);
void rt_self_symbolizer_release(struct sym_session *s);

/* ---- the HTTP server (http_server.c) ---- */

/* LTPROF_HTTP: starts the server on `address` ("" = not); a failure is one line on stderr. */
void rt_http_start_from_env(const char *address);
void rt_http_stop_at_exit(void);

/* ---- logging (log.c) ----------------------------------------------------------------------- */

enum rt_log_level {
    RT_LOG_OFF = 0,
    RT_LOG_ERROR,
    RT_LOG_WARN,
    RT_LOG_INFO,
    RT_LOG_DEBUG,
    RT_LOG_TRACE,
};

/* Parses "off|error|warn|info|debug|trace"; returns -1 when unknown. */
int rt_log_level_parse(const char *text);

/* Sets the level (from rt_config). Call once at start-up. */
void rt_log_set_level(int level);
int rt_log_enabled(int level);

/* One line to stderr: "ltprof[pid] LEVEL tag: message". Never from a signal handler or from
 * inside an interposed call. Use RT_LOG so arguments are not evaluated when the level is off. */
void rt_log_write(int level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define RT_LOG(level, tag, ...)                                                                   \
    do {                                                                                          \
        if (rt_log_enabled(level))                                                                \
            rt_log_write(level, tag, __VA_ARGS__);                                                \
    } while (0)

#endif
