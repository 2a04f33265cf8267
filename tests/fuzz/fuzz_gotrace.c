/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the Go execution trace writer (converter/gotrace_writer.h), driven the way the
 * converter drives it: one P per thread slot, each goroutine a fresh id through create,
 * start, blocks of every kind, unblocks by another running thread or by goroutine 0,
 * preemption, blocking syscalls that give the P back, ends, annotations, the heap counter and
 * CPU samples, with stacks of up to 200 frames of any bytes (the writer's limits apply) and
 * time steps from 0 to 2^40 ns. The input picks the operations; only legal ones for the
 * model's state are made. The writer must finish without error; with LTPROF_FUZZ_SAVE the
 * traces are kept for `go tool trace -d` (property_test.sh).
 */
#include "fuzz_input.h"
#include "gotrace_writer.h"

#define SLOTS 8

enum gstate { G_NONE, G_RUNNABLE, G_RUNNING, G_BLOCKED, G_SYSCALL, G_DEAD };

struct slot {
    enum gstate st;
    uint64_t g, seq;
    int proc; /* ProcStart written */
    int regions;        /* open regions of the running goroutine */
    uint64_t rtask[8];  /* the task of each (an end must name its begin's task) */
};

static uint64_t stack_from(struct gotrace_writer *w, struct fz *f)
{
    static struct gotrace_frame frames[200];
    static char names[200][65], files[200][33];
    size_t n = fz_below(f, 201);
    if (n > 8 && fz_byte(f) % 4) /* deep ones now and then */
        n = 8;
    for (size_t i = 0; i < n; i++) {
        frames[i].pc = fz_byte(f) % 8 ? 0x400000 + fz_below(f, 1u << 20) * 16 : fz_below(f, 4);
        frames[i].function = fz_string(f, names[i], 64);
        frames[i].file = fz_byte(f) & 1 ? fz_string(f, files[i], 32) : NULL;
        frames[i].line = fz_below(f, 5000);
    }
    return n ? gotrace_stack(w, frames, n) : 0;
}

#define TRY(x) FZ_CHECK((x) == 0)

static void proc_on(struct gotrace_writer *w, struct slot *s, int p, uint64_t t)
{
    if (!s[p].proc) {
        TRY(gotrace_proc_start(w, (uint64_t)p, t, 1000 + (uint64_t)p));
        s[p].proc = 1;
    }
}

/* A running slot other than `not`, or -1. */
static int running(const struct slot *s, int not, struct fz *f)
{
    int start = (int)fz_below(f, SLOTS);
    for (int k = 0; k < SLOTS; k++) {
        int i = (start + k) % SLOTS;
        if (i != not && s[i].st == G_RUNNING)
            return i;
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    struct fz_mem out = {0};
    struct gotrace_writer *w = gotrace_writer_create(fz_mem_write, &out);
    if (!w)
        return 0;
    struct slot s[SLOTS] = {0};
    uint64_t t = 1000, next_g = 1, task = 0;
    char msg[257], name[33];
    proc_on(w, s, 0, t);
    TRY(gotrace_gomaxprocs(w, 0, t, SLOTS, 0));
    for (int op = 0; op < 2000 && !fz_empty(&f); op++) {
        t += fz_byte(&f) % 16 ? fz_below(&f, 100000) : fz_below(&f, 1ull << 40);
        int p = (int)fz_below(&f, SLOTS);
        struct slot *me = &s[p];
        uint64_t P = (uint64_t)p;
        switch (fz_byte(&f) % 10) {
        case 0: /* a new thread in slot p, created by a running one or by goroutine 0 */
            if (me->st != G_NONE && me->st != G_DEAD)
                break;
            {
                int by = running(s, p, &f);
                uint64_t entry = stack_from(w, &f);
                if (!entry) {
                    struct gotrace_frame e = {0x500000 + P * 64, "thread_main", "main.c", 1};
                    entry = gotrace_stack(w, &e, 1);
                }
                me->g = next_g++, me->seq = 0, me->regions = 0;
                if (by >= 0) {
                    TRY(gotrace_go_create(w, (uint64_t)by, t, me->g, entry, stack_from(w, &f)));
                } else {
                    proc_on(w, s, p, t);
                    TRY(gotrace_go_create(w, P, t, me->g, entry, 0));
                }
                me->st = G_RUNNABLE;
            }
            break;
        case 1:
            if (me->st == G_RUNNABLE) {
                proc_on(w, s, p, t);
                TRY(gotrace_go_start(w, P, t, me->g, ++me->seq));
                me->st = G_RUNNING;
            }
            break;
        case 2: /* a wait of some kind */
            if (me->st == G_RUNNING && !me->regions) {
                uint64_t stk = stack_from(w, &f);
                switch (fz_byte(&f) % 5) {
                case 0: TRY(gotrace_go_block_sync(w, P, t, stk)); break;
                case 1: TRY(gotrace_go_block_cond(w, P, t, stk)); break;
                case 2: TRY(gotrace_go_sleep(w, P, t, stk)); break;
                case 3: TRY(gotrace_go_block(w, P, t, stk)); break;
                default: TRY(gotrace_go_block_net(w, P, t, stk)); break;
                }
                me->st = G_BLOCKED;
            }
            break;
        case 3: /* woken by a running thread, or by goroutine 0 on its own idle P */
            if (me->st == G_BLOCKED) {
                int by = running(s, p, &f);
                uint64_t stk = stack_from(w, &f);
                TRY(gotrace_go_unblock(w, by >= 0 ? (uint64_t)by : P, t, me->g, ++me->seq, stk));
                me->st = G_RUNNABLE;
            }
            break;
        case 4:
            if (me->st == G_RUNNING && !me->regions) {
                TRY(gotrace_go_preempt(w, P, t, 0));
                me->st = G_RUNNABLE;
            }
            break;
        case 5: /* a blocking call gives the P back */
            if (me->st == G_RUNNING && !me->regions) {
                TRY(gotrace_go_syscall(w, P, t, stack_from(w, &f)));
                TRY(gotrace_go_sys_block(w, P, t));
                TRY(gotrace_proc_stop(w, P, t));
                me->proc = 0;
                me->st = G_SYSCALL;
            }
            break;
        case 6:
            if (me->st == G_SYSCALL) {
                proc_on(w, s, p, t);
                TRY(gotrace_go_sys_exit(w, P, t, me->g, ++me->seq, 0));
                me->st = G_RUNNABLE;
            }
            break;
        case 7: /* the thread ends */
            if (me->st == G_RUNNING && !me->regions) {
                TRY(gotrace_go_end(w, P, t));
                TRY(gotrace_proc_stop(w, P, t));
                me->proc = 0;
                me->st = G_DEAD;
            }
            break;
        case 8: /* annotations */
            if (me->st == G_RUNNING) {
                uint64_t str = gotrace_string(w, fz_string(&f, name, 32));
                switch (fz_byte(&f) % 5) {
                case 0: TRY(gotrace_user_task_create(w, P, t, ++task, 0, str, 0)); break;
                case 1: if (task) TRY(gotrace_user_task_end(w, P, t, task, 0)); break;
                case 2:
                    if (me->regions < 8) {
                        TRY(gotrace_user_region(w, P, t, task, 0, gotrace_string(w, "region"), 0));
                        me->rtask[me->regions++] = task;
                    }
                    break;
                case 3:
                    if (me->regions) {
                        me->regions--;
                        TRY(gotrace_user_region(w, P, t, me->rtask[me->regions], 1,
                                                gotrace_string(w, "region"), 0));
                    }
                    break;
                default:
                    TRY(gotrace_user_log(w, P, t, task, str, stack_from(w, &f),
                                         fz_string(&f, msg, 256)));
                    break;
                }
            }
            break;
        case 9:
            if (me->st == G_RUNNING) {
                TRY(gotrace_heap_alloc(w, P, t, fz_below(&f, 1ull << 40)));
                TRY(gotrace_cpu_sample(w, t, P, me->g, stack_from(w, &f)));
            }
            break;
        }
    }
    /* The end, as the converter writes it: open regions closed, running threads preempted,
     * every started P stopped. */
    t += 10;
    for (int p = 0; p < SLOTS; p++) {
        while (s[p].st == G_RUNNING && s[p].regions) {
            s[p].regions--;
            TRY(gotrace_user_region(w, (uint64_t)p, t, s[p].rtask[s[p].regions], 1,
                                    gotrace_string(w, "region"), 0));
        }
        if (s[p].st == G_RUNNING)
            TRY(gotrace_go_preempt(w, (uint64_t)p, t, 0));
    }
    for (int p = 0; p < SLOTS; p++)
        if (s[p].proc)
            TRY(gotrace_proc_stop(w, (uint64_t)p, t));
    TRY(gotrace_writer_finish(w));
    struct gotrace_stats st;
    gotrace_writer_stats(w, &st);
    FZ_CHECK(st.bytes == out.len && out.len >= 16 && memcmp(out.data, "go 1.19 trace\0\0\0", 16) == 0);
    gotrace_writer_destroy(w);
    fz_save("trace", "out", out.data, out.len);
    free(out.data);
    return 0;
}
