/* SPDX-License-Identifier: MIT */
/*
 * The runtime instance: the library constructor that reads the configuration and starts the
 * CPU sampler in every process that loads libltprof.so (linked or preloaded), an exit handler
 * that announces the process once more, and the small
 * public API of include/ltprof/ltprof.h. The constructor runs before main(), in the loading
 * thread, after liblttng-ust's own constructor (it is a dependency of this library).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ltprof/ltprof.h"
#include "internal.h"

/* Written once by the constructor, read-only afterwards. */
static struct rt_config runtime_config;

static void print_stats(void)
{
    struct tr_sampler_stats st;
    tr_sampler_get_stats(&st);
    double mean_ns = st.samples ? (double)st.handler_ns_total / (double)st.samples : 0.0;
    fprintf(stderr,
            "ltprof: stats: engine=%s samples=%llu handler_mean_ns=%.0f unwind_complete=%llu "
            "unwind_truncated=%llu unwind_no_info=%llu unwind_bad_frame=%llu "
            "foreign_signals=%llu\n",
            tr_engine_name(tr_sampler_engine()), (unsigned long long)st.samples, mean_ns,
            (unsigned long long)st.unwind_complete, (unsigned long long)st.unwind_truncated,
            (unsigned long long)st.unwind_no_info, (unsigned long long)st.unwind_bad_frame,
            (unsigned long long)st.signals_foreign);
}

/*
 * Announces the process once more at exit. At constructor time a session's events are not yet
 * enabled for our freshly registered probes, so a program that exits before its first CPU
 * sample would otherwise leave a trace without ltprof:process_info (and no schema version).
 * A destructor: atexit handlers registered from a library constructor run after the dynamic
 * linker's destructors, when the provider has already unregistered our probes. This file is
 * linked after the provider's, so this destructor runs before the provider's.
 */
__attribute__((destructor)) static void announce_at_exit(void)
{
    rt_http_stop_at_exit();
    tr_emit_process_info();
    rt_cpu_profile_stop_at_exit();
    rt_profiles_write_at_exit(&runtime_config);
}

const struct rt_config *rt_config_get(void)
{
    return &runtime_config;
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

__attribute__((constructor)) static void rt_start(void)
{
    struct ltprof_error err = {{0}};

    rt_config_load(&runtime_config, env_lookup, stderr);
    rt_log_set_level(runtime_config.log_level);
    tr_allocs_configure(runtime_config.memprofile_rate);
    tr_contention_configure(runtime_config.mutex_fraction, runtime_config.block_rate);
    char first_malloc[256];
    if (runtime_config.memprofile_rate && tr_allocs_interposed(first_malloc, sizeof(first_malloc)) != 1)
        RT_LOG(RT_LOG_WARN, "runtime",
               "allocations are not sampled: the malloc that runs is %s's, not libltprof.so's "
               "(put libltprof.so first in LD_PRELOAD)", first_malloc);
    /* The unwinder's module table, for stacks in normal context even without CPU sampling. */
    if (tr_modules_refresh() != 0)
        RT_LOG(RT_LOG_WARN, "runtime", "cannot list the loaded modules: stacks will be empty");

    tr_stack_prepare_self();
    struct tr_trace_config tc = {
        .syscall_ns = runtime_config.syscall_ns,
        .heap_interval_ms = runtime_config.heap_interval_ms,
    };
    tr_trace_configure(&tc);
    struct tr_sampler_config sc = {
        .period_hz = runtime_config.cpu_hz,
        .engine = runtime_config.cpu_engine,
        .max_frames = runtime_config.max_frames,
        .sched_switches = runtime_config.sched_switches,
    };
    if (tr_sampler_start(&sc, &err) != LTPROF_OK)
        RT_LOG(RT_LOG_WARN, "runtime", "CPU sampling is off: %s", err.message);
    tr_fork_hooks_install(); /* after the sampler's fork handlers: see tracer/fork.c */
    RT_LOG(RT_LOG_INFO, "runtime",
           "started: version=%s cpu_engine=%s cpu_hz=%u max_frames=%u sched=%s syscall_ns=%llu",
           ltprof_version(), tr_engine_name(tr_sampler_engine()), runtime_config.cpu_hz,
           runtime_config.max_frames, tr_sched_source(),
           (unsigned long long)runtime_config.syscall_ns);
    tr_emit_process_info();
    rt_cpu_profile_start_from_env(runtime_config.cpu_profile);
    rt_http_start_from_env(runtime_config.http_addr);
    if (runtime_config.stats)
        atexit(print_stats);
}

LTPROF_API const char *ltprof_version(void)
{
    return LTPROF_VERSION_STRING;
}

LTPROF_API const char *ltprof_cpu_engine(void)
{
    return tr_engine_name(tr_sampler_engine());
}

LTPROF_API const char *ltprof_status_string(enum ltprof_status status)
{
    switch (status) {
    case LTPROF_OK: return "success";
    case LTPROF_ERR_NOMEM: return "out of memory";
    case LTPROF_ERR_INVALID: return "invalid argument or input";
    case LTPROF_ERR_IO: return "input/output error";
    case LTPROF_ERR_BUSY: return "already in use";
    case LTPROF_ERR_UNSUPPORTED: return "not supported on this system";
    case LTPROF_ERR_NOT_FOUND: return "not found";
    }
    return "unknown status";
}
