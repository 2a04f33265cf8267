/* SPDX-License-Identifier: MIT */
/*
 * gotrace: low-level encoder of Go execution traces (old "go 1.19 trace" format, read by
 * `go tool trace` from Go 1.19 to tip). This header is the module's face; the format is described
 * in the shared reference go-trace-format.md. The encoder writes bytes and keeps the bookkeeping the
 * format needs (batches, deltas, string and stack tables); the caller decides what the events
 * mean (G/P model, sequence numbers). Not thread-safe: one writer per thread.
 */
#ifndef LTPROF_GOTRACE_WRITER_H
#define LTPROF_GOTRACE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* P id of the "no P" pseudo-processor (start-up block of already blocked threads, samples). */
#define GOTRACE_NO_P UINT64_MAX
/* Real P ids must be below this: 1000000 and up are the viewer's pseudo-Ps (GC, Syscalls...). */
#define GOTRACE_MAX_P 1000000u
/* A P's open batch is written out when the next record would make it larger than this. */
#define GOTRACE_BATCH_BYTES 65536u
/* Limits applied to tables (see gotrace_string() and gotrace_stack()). */
#define GOTRACE_STRING_MAX_BYTES 1024u
#define GOTRACE_STACK_MAX_FRAMES 128u
#define GOTRACE_STACK_MAX_BYTES 2048u
/* UserLog messages longer than this keep their first GOTRACE_LOG_MAX_BYTES bytes. */
#define GOTRACE_LOG_MAX_BYTES 65536u

/*
 * Output callback: write all `size` bytes; return 0 or a negative enum ltprof_status (e.g.
 * LTPROF_ERR_IO). Called with whole records only, from the writer's calls.
 */
typedef int (*gotrace_write_fn)(void *ctx, const void *data, size_t size);

/* One stack frame. `function` and `file` are borrowed (copied into the string table). */
struct gotrace_frame {
    uint64_t pc;          /* 0 = unknown: a fake PC is made (see gotrace_stack) */
    const char *function; /* NULL or "" = empty */
    const char *file;     /* NULL or "" = empty */
    uint64_t line;
};

struct gotrace_stats {
    uint64_t events;            /* timed records encoded (batch headers and tables excluded) */
    uint64_t bytes;             /* bytes handed to the write callback, header included */
    uint64_t batches;           /* EvBatch records written */
    uint64_t clamped;           /* timestamps raised to keep time monotonic per P or per G */
    uint64_t strings;           /* distinct strings interned */
    uint64_t strings_truncated; /* distinct strings cut to their last GOTRACE_STRING_MAX_BYTES bytes */
    uint64_t stacks;            /* distinct stacks interned */
    uint64_t stacks_truncated;  /* stacks cut to 128 frames / 2048 encoded bytes */
    uint64_t fake_pcs;          /* frames whose PC was 0 or already used by another frame */
};

struct gotrace_writer;

/*
 * Create a writer and write the 16-byte header `go 1.19 trace\0\0\0` through `write`.
 * Returns NULL when memory runs out or the header cannot be written. The caller owns the writer.
 */
struct gotrace_writer *gotrace_writer_create(gotrace_write_fn write, void *ctx);
/* Free the writer without writing anything more. Accepts NULL. */
void gotrace_writer_destroy(struct gotrace_writer *w);
/*
 * Finish the file: write every open batch (ascending P id), the CPU-sample batch, EvFrequency
 * (1e9: ticks are nanoseconds), then one or more p=0 batches holding all strings and stacks.
 * The caller must have closed every running G and P (§2.13). Returns 0 or the first error the
 * writer met. No event may follow; destroy the writer afterwards.
 */
int gotrace_writer_finish(struct gotrace_writer *w);
/* Write P `p`'s open batch now (no-op when empty). Useful when a thread is gone for good. */
int gotrace_writer_flush_proc(struct gotrace_writer *w, uint64_t p);
/*
 * Causal clamp (off by default): also raise the time of an event naming a G (GoStart, GoUnblock,
 * GoSysExit, GoWaiting, GoInSyscall) to that G's last state change (create, start, block...),
 * wherever it happened, so that e.g. a thread's first GoStart never precedes its GoCreate.
 * Only correct when the calls follow causality across Ps (a G's create or unblock is passed
 * before its start, its block before its unblock), as a converter walking the events in time
 * order does; leave it off when feeding one P's events at a time.
 */
void gotrace_writer_clamp_causality(struct gotrace_writer *w, bool on);
/* First error met (sticky: after an error every call returns it), or 0. */
int gotrace_writer_error(const struct gotrace_writer *w);
void gotrace_writer_stats(const struct gotrace_writer *w, struct gotrace_stats *out);

/*
 * Intern `s` (truncated to its last 1024 bytes, like the Go runtime does for names) and return
 * its nonzero id. Returns 0 for NULL or "" (id 0 is the empty string in stack frames) and on
 * failure (then gotrace_writer_error() says why). Strings are written at finish.
 */
uint64_t gotrace_string(struct gotrace_writer *w, const char *s);
/*
 * Intern a stack (frames[0] = leaf) and return its nonzero id; n == 0 returns 0 ("no stack"),
 * and so does a failure (see gotrace_writer_error). At most 128 frames are kept, fewer if the
 * encoded EvStack would exceed 2048 bytes (the outermost frames are dropped). PCs identify
 * frames in every reader, so a PC may name only one (function, file, line): a frame whose PC is
 * 0 or already belongs to another (function, file, line) gets a fake PC, a hash of the three,
 * placed in [2^47, 2^48) (above user-space addresses) and probed until unused. The same frame
 * then always gets the same fake PC.
 */
uint64_t gotrace_stack(struct gotrace_writer *w, const struct gotrace_frame *frames, size_t n);
/*
 * A stack id now, its frames later: gotrace_stack_fill() gives them before
 * gotrace_writer_finish() (stacks are written at the end), for a caller that can name the
 * frames only once it has seen the whole trace. Not deduplicated. 0 on failure.
 */
uint64_t gotrace_stack_reserve(struct gotrace_writer *w);
/* The frames of reserved stack `id`, as for gotrace_stack(). 0, LTPROF_ERR_INVALID for an id
 * not reserved or filled already (the writer goes on), or another negative status. */
int gotrace_stack_fill(struct gotrace_writer *w, uint64_t id, const struct gotrace_frame *frames,
                       size_t n);

/*
 * Events. Every function writes one record into P `p`'s batch at time `ts` (ns) and returns 0 or
 * a negative enum ltprof_status (LTPROF_ERR_INVALID for a P id >= GOTRACE_MAX_P other than
 * GOTRACE_NO_P). A `ts` below the previous event of the same P is raised to it and counted as
 * clamped (see also gotrace_writer_clamp_causality). `stk` arguments are ids from gotrace_stack() (0 = none), `seq` the per-G sequence
 * numbers of §2.10 (the caller keeps them). The current G of a P is implicit: the one last
 * started on it.
 */
int gotrace_proc_start(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t thread);
int gotrace_proc_stop(struct gotrace_writer *w, uint64_t p, uint64_t ts);
int gotrace_gomaxprocs(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t procs,
                       uint64_t stk);
int gotrace_go_create(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                      uint64_t new_stk, uint64_t stk);
int gotrace_go_start(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g, uint64_t seq);
int gotrace_go_start_label(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                           uint64_t seq, uint64_t label_str);
int gotrace_go_end(struct gotrace_writer *w, uint64_t p, uint64_t ts);
int gotrace_go_stop(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_sched(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_preempt(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_sleep(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_block(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_block_send(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_block_recv(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_block_select(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_block_sync(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_block_cond(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_block_net(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_unblock(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                       uint64_t seq, uint64_t stk);
int gotrace_go_syscall(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk);
int gotrace_go_sys_block(struct gotrace_writer *w, uint64_t p, uint64_t ts);
/* `real_ts`: absolute time the syscall really returned, 0 = this event's time. */
int gotrace_go_sys_exit(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                        uint64_t seq, uint64_t real_ts);
int gotrace_go_waiting(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g);
int gotrace_go_in_syscall(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g);
int gotrace_heap_alloc(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t bytes);
int gotrace_heap_goal(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t bytes);
/*
 * A CPU profile sample taken at `ts` on P `p` (GOTRACE_NO_P = none) while `g` ran. Samples go
 * to a batch of their own (like the runtime's), need no ordering and are not clamped.
 */
int gotrace_cpu_sample(struct gotrace_writer *w, uint64_t ts, uint64_t p, uint64_t g,
                       uint64_t stk);
/* User annotations (runtime/trace). `name_str`/`key_str` are ids from gotrace_string(). */
int gotrace_user_task_create(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                             uint64_t parent, uint64_t name_str, uint64_t stk);
int gotrace_user_task_end(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                          uint64_t stk);
/* mode: 0 = region start, 1 = region end (same task and name_str as its start). */
int gotrace_user_region(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                        uint64_t mode, uint64_t name_str, uint64_t stk);
/* `message` (borrowed, NULL = "") is written inline, its first 64 KiB at most. */
int gotrace_user_log(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                     uint64_t key_str, uint64_t stk, const char *message);

#endif
