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
#include <stdint.h>

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

/*
 * User annotations, as in Go's runtime/trace. They appear in the Go execution trace (tasks,
 * regions, logs) when a session records the 'ltprof:*' events, each with the caller's stack,
 * and cost a few nanoseconds when none does. Strings are copied; NULL counts as "".
 * Call from any thread; not from a signal handler.
 */

/* Whether a session records annotations now (Go's trace.IsEnabled). */
LTPROF_API int ltprof_trace_is_enabled(void);

/* Starts a task of kind `type` inside task `parent_id` (0: none) and returns its id (never 0),
 * traced or not. End it with ltprof_task_end(). */
LTPROF_API uint64_t ltprof_task_create(uint64_t parent_id, const char *type);
LTPROF_API void ltprof_task_end(uint64_t task_id);

/* Marks a region of kind `type`, in task `task_id` (0: none), from begin to end on the calling
 * thread. Regions nest; end them in the reverse order. */
LTPROF_API void ltprof_region_begin(uint64_t task_id, const char *type);
LTPROF_API void ltprof_region_end(uint64_t task_id, const char *type);

/* Records `message` under `category` in task `task_id` (0: none). */
LTPROF_API void ltprof_log(uint64_t task_id, const char *category, const char *message);

/*
 * Writes the profile `name` of this process, now, to `fd`, from the always-on tables,
 * symbolized in-process, like Go's pprof.Lookup(name).WriteTo(w, debug): debug 0 writes
 * gzipped profile.proto, 1 (or 2) Go's legacy text format (which pprof also reads).
 * "heap": the sampled allocations (LTPROF_MEMPROFILE_RATE) still in use and all made since
 * the start, shown as inuse_space by default; "allocs": the same, shown as alloc_space.
 * "mutex": contended waits on mutexes and rwlocks (LTPROF_MUTEX_FRACTION), "block": every wait
 * on synchronisation (LTPROF_BLOCK_RATE), at the waiting stack; both empty while their rate
 * is 0, the default, as in Go. "threadcreate": the stacks that created the program's threads
 * (not LTTng-UST's own), every thread since the start. "goroutine": the thread profile, the
 * current stack of every thread ltprof knows (those the sampler or the context-switch
 * recorder armed), grouped by stack, thread name and state (labels thread and state: the
 * interposed call or wait a thread is blocked in, "running", "blocked" for a sleep in a call
 * ltprof does not interpose, "no answer"); debug=2 lists every thread like a Go panic dump.
 * Blocked threads are read without being interrupted; running ones answer a signal.
 * Returns LTPROF_OK; LTPROF_ERR_NOT_FOUND for an unknown name;
 * LTPROF_ERR_INVALID for a NULL name, a negative fd or another debug; LTPROF_ERR_IO when a
 * write fails (partial output); LTPROF_ERR_NOMEM. Call from any thread, not from a signal
 * handler. Setting LTPROF_HEAPPROFILE=FILE (LTPROF_MUTEXPROFILE, LTPROF_BLOCKPROFILE) writes
 * "heap" ("mutex", "block") to FILE when the program exits (through exit() or a return from
 * main; "%p" in FILE becomes the pid).
 */
LTPROF_API int ltprof_profile_write(const char *name, int fd, int debug);

/*
 * Labels of the calling thread, like Go's pprof.Do / pprof.WithLabels: from a push to its pop,
 * the thread's CPU samples (ltprof_start_cpu_profile, LTPROF_CPUPROFILE) and sampled
 * allocations (heap, allocs) carry key=value as a pprof label, for go tool pprof -tagfocus
 * and -tags, in-process and in recorded traces (`ltprof record`, /debug/pprof/profile: each
 * set is recorded once as ltprof:label_set). Pushes nest (a key pushed again gets the new value
 * until its pop). At most 16 labels and 32 nested pushes per
 * thread, and 4096 distinct label sets in the process's life. Push: LTPROF_OK;
 * LTPROF_ERR_INVALID (NULL or empty key, NULL value, a limit above); LTPROF_ERR_NOMEM.
 */
LTPROF_API int ltprof_labels_push(const char *key, const char *value);
LTPROF_API void ltprof_labels_pop(void);
/* The calling thread's value for `key`, or NULL (Go's pprof.Label). */
LTPROF_API const char *ltprof_label(const char *key);

/*
 * The CPU profile of this process from now on, collected in-process (no LTTng session), like
 * Go's pprof.StartCPUProfile(w) / StopCPUProfile: ltprof_stop_cpu_profile writes it to the fd
 * given to start (gzipped profile.proto, Go's CPU sample types, labels thread, tid, pid) and
 * leaves the fd open. Samples come at LTPROF_CPU_HZ per CPU-second of each thread. Start:
 * LTPROF_OK; LTPROF_ERR_BUSY when a profile runs (LTPROF_CPUPROFILE's included);
 * LTPROF_ERR_UNSUPPORTED when CPU sampling is off (LTPROF_CPU_HZ=0 or refused);
 * LTPROF_ERR_INVALID for a negative fd. Stop: LTPROF_OK; LTPROF_ERR_NOT_FOUND when none runs;
 * LTPROF_ERR_IO; LTPROF_ERR_NOMEM. LTPROF_CPUPROFILE=FILE profiles the whole run into FILE.
 */
LTPROF_API int ltprof_start_cpu_profile(int fd);
LTPROF_API int ltprof_stop_cpu_profile(void);

/*
 * User-defined profiles, like Go's pprof.NewProfile: a named set of values (any non-NULL
 * pointers: open connections, buffers in flight...), each recorded with the stack of the code
 * that added it; ltprof_profile_write(name, ...) writes it as a count profile (sample type
 * <name>/count, one sample per distinct stack). A profile lives until the process ends.
 */
typedef struct ltprof_profile ltprof_profile;
/* A new profile; NULL when `name` is empty, longer than 127 bytes, one of Go's profile names
 * (heap, allocs, goroutine, threadcreate, block, mutex) or already taken (Go panics), or out of
 * memory. */
LTPROF_API ltprof_profile *ltprof_profile_new(const char *name);
/* The user-defined profile `name`, or NULL. */
LTPROF_API ltprof_profile *ltprof_profile_lookup(const char *name);
LTPROF_API const char *ltprof_profile_name(const ltprof_profile *p);
/* Adds `value` with the caller's stack, `skip` frames dropped first (0: the stack begins in
 * the function calling this one). LTPROF_OK; LTPROF_ERR_BUSY when `value` is in the profile
 * already (Go panics); LTPROF_ERR_INVALID for a NULL profile or value or a negative skip;
 * LTPROF_ERR_NOMEM. */
LTPROF_API int ltprof_profile_add(ltprof_profile *p, const void *value, int skip);
/* Removes `value` (nothing when absent). */
LTPROF_API void ltprof_profile_remove(ltprof_profile *p, const void *value);
LTPROF_API size_t ltprof_profile_count(const ltprof_profile *p);
/* The names of every profile, Go's and the user's, sorted (Go's pprof.Profiles): writes at
 * most `max` into `names` (NULL: none) and returns how many there are. The strings live as
 * long as the process. */
LTPROF_API size_t ltprof_profiles(const char **names, size_t max);

/*
 * The /debug/pprof HTTP server inside this process, like Go's net/http/pprof (docs/http.md):
 * index, heap, allocs, goroutine, threadcreate, block, mutex, user-defined profiles (with
 * debug=1/2 and seconds=N deltas), cmdline, symbol, profile?seconds=N and trace?seconds=N,
 * under LTPROF_HTTP_PREFIX (default /debug/pprof). LTPROF_HTTP=ADDRESS starts it when the
 * library loads. `address`: "127.0.0.1:6060", "[::1]:6060", "6060" (loopback), "0.0.0.0:6060"
 * (every interface: only when named), port 0 for any free port, or "unix:/path". Start:
 * LTPROF_OK; LTPROF_ERR_BUSY when it runs already; LTPROF_ERR_INVALID for a NULL or empty
 * address; LTPROF_ERR_IO when it cannot listen (ltprof_http_error() says why). Stop: LTPROF_OK,
 * or LTPROF_ERR_NOT_FOUND when none runs; the port closes at once, requests in progress get
 * their answers first (up to 2 s; one waiting out seconds= gets 503 at once). The server stops
 * at exit; a forked child has none. Not from a signal handler.
 */
LTPROF_API int ltprof_http_start(const char *address);
LTPROF_API int ltprof_http_stop(void);
/* Where the server listens ("127.0.0.1:6060", "unix:/path"), or NULL when it does not. */
LTPROF_API const char *ltprof_http_address(void);
/* Why the last ltprof_http_start() failed ("" after a success). */
LTPROF_API const char *ltprof_http_error(void);

#ifdef __cplusplus
}
#endif

#endif
