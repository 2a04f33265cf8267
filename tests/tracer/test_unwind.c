/* SPDX-License-Identifier: MIT */
/*
 * Tests of the DWARF CFI unwinder (tracer/unwind.h). One executable, one case per argument.
 * Stacks are captured in SIGPROF handlers (tr_unwind from the ucontext) or with
 * tr_unwind_here(), then checked in normal context with dladdr() (the executable is linked
 * with exported symbols). The chains in unwind_chain.c have no frame pointers, nor has libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "unwind-internal.h" /* tr_cfi_* for the table-driven cases */
#include "unwind.h"
#include "unwind_chain.h"

#include "check.h"

#define MAX_PCS TR_UNWIND_MAX_FRAMES

/* Functions checked by name must be in the dynamic symbol table for dladdr(). */
#define NAMED __attribute__((noinline, visibility("default")))

/* Filled by the SIGPROF handler. */
static volatile int g_flag;
static volatile int g_captured;
static uint64_t g_pcs[MAX_PCS];
static size_t g_n;
static enum tr_unwind_status g_status;
static int g_use_here; /* handler captures with tr_unwind_here() instead of the ucontext */
static __thread struct tr_stack_range t_stack;

static const char *status_name(enum tr_unwind_status s)
{
    static const char *names[] = { "COMPLETE", "TRUNCATED", "NO_INFO", "BAD_FRAME" };
    return (unsigned)s < 4 ? names[s] : "?";
}

/* Symbol for a PC; return addresses (index > 0) are looked up at pc - 1. */
static const char *sym_of(uint64_t pc, int is_return, const char **file)
{
    Dl_info info;

    if (!dladdr((void *)(uintptr_t)(is_return ? pc - 1 : pc), &info)) {
        *file = "?";
        return "?";
    }
    *file = info.dli_fname ? info.dli_fname : "?";
    return info.dli_sname ? info.dli_sname : "?";
}

static void dump(const char *what, const uint64_t *pcs, size_t n, enum tr_unwind_status st)
{
    printf("%s: %zu frames, %s\n", what, n, status_name(st));
    for (size_t i = 0; i < n; i++) {
        const char *file, *name = sym_of(pcs[i], i > 0, &file);
        const char *base = strrchr(file, '/');
        printf("  #%-2zu 0x%012llx %s (%s)\n", i, (unsigned long long)pcs[i], name,
               base ? base + 1 : file);
    }
}

/* Index of the first frame at or after `from` named `name`, or -1. */
static int find_frame(const uint64_t *pcs, size_t n, size_t from, const char *name)
{
    for (size_t i = from; i < n; i++) {
        const char *file;
        if (strcmp(sym_of(pcs[i], i > 0, &file), name) == 0)
            return (int)i;
    }
    return -1;
}

static int frame_in_libc(const uint64_t *pcs, size_t i)
{
    const char *file;
    sym_of(pcs[i], i > 0, &file);
    return strstr(file, "libc.so") != NULL;
}

/* Checks chain_d, chain_c, chain_b, chain_a, chain_run at consecutive frames from `at`. */
static void check_chain(const uint64_t *pcs, size_t n, size_t at)
{
    static const char *order[] = { "chain_d", "chain_c", "chain_b", "chain_a", "chain_run" };

    for (size_t k = 0; k < 5; k++) {
        const char *file;
        CHECK(at + k < n);
        CHECK(strcmp(sym_of(pcs[at + k], 1, &file), order[k]) == 0);
    }
}

NAMED void prof_handler(int sig, siginfo_t *si, void *uc)
{
    struct tr_regs regs;

    (void)sig;
    (void)si;
    if (g_captured)
        return;
    if (g_use_here) {
        g_n = tr_unwind_here(&t_stack, g_pcs, MAX_PCS, &g_status);
    } else {
        tr_regs_from_ucontext(&regs, uc);
        g_n = tr_unwind(&regs, &t_stack, g_pcs, MAX_PCS, &g_status);
    }
    g_captured = 1;
    g_flag = 1;
}

static void arm_profiling_timer(int on)
{
    struct itimerval it = { { 0, on ? 1000 : 0 }, { 0, on ? 1000 : 0 } };
    struct sigaction sa = { .sa_sigaction = prof_handler, .sa_flags = SA_SIGINFO | SA_RESTART };

    if (on)
        CHECK(sigaction(SIGPROF, &sa, NULL) == 0);
    CHECK(setitimer(ITIMER_PROF, &it, NULL) == 0);
}

/* Runs the chain with a spinning leaf until SIGPROF captured a stack. */
__attribute__((noinline)) static void spin_in_chain(void)
{
    CHECK(tr_stack_range_self(&t_stack) == 0);
    g_flag = 0;
    g_captured = 0;
    arm_profiling_timer(1);
    chain_run(chain_spin, (void *)&g_flag);
    arm_profiling_timer(0);
    CHECK(g_captured);
}

static int case_signal_reaches_main(void)
{
    spin_in_chain();
    dump("signal", g_pcs, g_n, g_status);
    const char *file;
    CHECK(g_n >= 8);
    CHECK(strcmp(sym_of(g_pcs[0], 0, &file), "chain_spin") == 0);
    check_chain(g_pcs, g_n, 1);
    CHECK(find_frame(g_pcs, g_n, 6, "main") > 0);
    CHECK(g_status == TR_UNWIND_COMPLETE);
    CHECK(strcmp(sym_of(g_pcs[g_n - 1], 1, &file), "_start") == 0);
    return 0;
}

static int case_here_through_signal_frame(void)
{
    g_use_here = 1;
    spin_in_chain();
    g_use_here = 0;
    dump("here-in-handler", g_pcs, g_n, g_status);
    int leaf = find_frame(g_pcs, g_n, 0, "chain_spin");
    const char *file;
    CHECK(strcmp(sym_of(g_pcs[0], 1, &file), "prof_handler") == 0);
    CHECK(leaf > 1); /* handler, signal trampoline (libc), then the interrupted leaf */
    CHECK(frame_in_libc(g_pcs, (size_t)leaf - 1));
    check_chain(g_pcs, g_n, (size_t)leaf + 1);
    CHECK(find_frame(g_pcs, g_n, (size_t)leaf, "main") > leaf);
    CHECK(g_status == TR_UNWIND_COMPLETE);
    return 0;
}

NAMED void *thread_main(void *arg)
{
    sigset_t set;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    CHECK(pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0);
    spin_in_chain();
    return NULL;
}

static int case_thread_reaches_start(void)
{
    sigset_t set, old;
    pthread_t th;

    /* Only the spinning thread may take the process-wide SIGPROF. */
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, &old) == 0);
    CHECK(pthread_create(&th, NULL, thread_main, NULL) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
    dump("thread", g_pcs, g_n, g_status);
    const char *file;
    CHECK(strcmp(sym_of(g_pcs[0], 0, &file), "chain_spin") == 0);
    check_chain(g_pcs, g_n, 1);
    int start = find_frame(g_pcs, g_n, 6, "thread_main");
    CHECK(start > 0);
    CHECK((size_t)start + 1 < g_n);
    for (size_t i = (size_t)start + 1; i < g_n; i++) /* start_thread, clone3 */
        CHECK(frame_in_libc(g_pcs, i));
    CHECK(find_frame(g_pcs, g_n, 0, "main") < 0);
    CHECK(g_status == TR_UNWIND_COMPLETE);
    return 0;
}

static uint64_t q_pcs[MAX_PCS];
static size_t q_n;
static enum tr_unwind_status q_status;
static void *q_bt[MAX_PCS];
static int q_bt_n;
/* libc's own functions: under ASan the plain symbols are libasan's interceptors. */
static int (*libc_backtrace)(void **, int);

NAMED int cmp_capture(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    if (q_n == 0) {
        struct tr_stack_range range;
        CHECK(tr_stack_range_self(&range) == 0);
        q_n = tr_unwind_here(&range, q_pcs, MAX_PCS, &q_status);
        q_bt_n = libc_backtrace(q_bt, MAX_PCS); /* libgcc's unwinder, for comparison */
    }
    return (x > y) - (x < y);
}

NAMED int case_through_libc_qsort(void)
{
    int v[64];

    for (int i = 0; i < 64; i++)
        v[i] = (i * 37) % 64;
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    CHECK(libc != NULL);
    void (*libc_qsort)(void *, size_t, size_t, int (*)(const void *, const void *)) =
        (void (*)(void *, size_t, size_t, int (*)(const void *, const void *)))dlsym(libc, "qsort");
    CHECK(libc_qsort != NULL);
    libc_backtrace = (int (*)(void **, int))dlsym(libc, "backtrace");
    CHECK(libc_backtrace != NULL);
    libc_qsort(v, 64, sizeof(v[0]), cmp_capture);
    dlclose(libc);
    dump("qsort", q_pcs, q_n, q_status);
    const char *file;
    CHECK(q_n >= 4);
    CHECK(strcmp(sym_of(q_pcs[0], 1, &file), "cmp_capture") == 0);
    CHECK(frame_in_libc(q_pcs, 1));
    int caller = find_frame(q_pcs, q_n, 1, "case_through_libc_qsort");
    CHECK(caller > 1);
    CHECK(find_frame(q_pcs, q_n, 1, "qsort") > 0 || find_frame(q_pcs, q_n, 1, "qsort_r") > 0);
    CHECK(find_frame(q_pcs, q_n, (size_t)caller, "main") > caller);
    CHECK(q_status == TR_UNWIND_COMPLETE);
    /* Same caller chain as glibc's backtrace() (its frame 0 is its own call site). */
    CHECK(q_bt_n == (int)q_n);
    for (size_t i = 1; i < q_n; i++)
        CHECK((uintptr_t)q_bt[i] == q_pcs[i]);
    for (int i = 1; i < 64; i++)
        CHECK(v[i - 1] <= v[i]);
    return 0;
}

NAMED int case_truncated(void)
{
    struct tr_stack_range range;
    uint64_t pcs[3];
    enum tr_unwind_status st;

    CHECK(tr_stack_range_self(&range) == 0);
    CHECK(tr_unwind_here(&range, pcs, 3, &st) == 3);
    CHECK(st == TR_UNWIND_TRUNCATED);
    const char *file;
    CHECK(strcmp(sym_of(pcs[0], 1, &file), "case_truncated") == 0);
    return 0;
}

/* Bad ranges and garbage registers end with NO_INFO / BAD_FRAME, never a crash. */
static int case_bad_input(void)
{
    static uint64_t fake[512];
    struct tr_stack_range range, elsewhere = { (uintptr_t)fake, (uintptr_t)(fake + 512), 0 };
    struct tr_regs regs = { .valid = (1u << TR_REG_COUNT) - 1 };
    uint64_t pcs[MAX_PCS];
    enum tr_unwind_status st;
    size_t n;

    CHECK(tr_stack_range_self(&range) == 0);
    n = tr_unwind_here(&elsewhere, pcs, MAX_PCS, &st);
    CHECK(st == TR_UNWIND_BAD_FRAME && n == 0);

    regs.reg[TR_REG_RIP] = 0;
    regs.reg[TR_REG_RSP] = range.hi - 4096;
    n = tr_unwind(&regs, &range, pcs, MAX_PCS, &st);
    CHECK(st == TR_UNWIND_NO_INFO && n == 0);

    regs.reg[TR_REG_RIP] = 0x12345; /* in no module; [rsp] is no return address either */
    memset(fake, 0, sizeof(fake));
    regs.reg[TR_REG_RSP] = (uintptr_t)fake;
    n = tr_unwind(&regs, &elsewhere, pcs, MAX_PCS, &st);
    CHECK(st == TR_UNWIND_NO_INFO && n == 1 && pcs[0] == 0x12345);

    /* A first PC without CFI: one heuristic step through the return address at [rsp]. */
    fake[100] = (uintptr_t)chain_run + 8;
    regs.reg[TR_REG_RSP] = (uintptr_t)&fake[100];
    n = tr_unwind(&regs, &elsewhere, pcs, MAX_PCS, &st);
    CHECK(n >= 2 && pcs[0] == 0x12345 && pcs[1] == (uintptr_t)chain_run + 8);
    CHECK(st != TR_UNWIND_TRUNCATED); /* chain_run's CFI then reads a 0 return address */

    regs.reg[TR_REG_RIP] = (uintptr_t)qsort; /* real code, rsp outside the stack range */
    regs.reg[TR_REG_RSP] = 0x1000;
    n = tr_unwind(&regs, &range, pcs, MAX_PCS, &st);
    CHECK(st == TR_UNWIND_BAD_FRAME && n == 1);

    /* Random PCs in libc and the test program over stacks of random words, text addresses
     * and pointers into the same buffer. */
    uintptr_t text[2] = { (uintptr_t)qsort, (uintptr_t)chain_run };
    unsigned seed = 12345, counts[4] = { 0 };
    for (int iter = 0; iter < 20000; iter++) {
        for (size_t i = 0; i < 512; i++) {
            unsigned r = rand_r(&seed);
            fake[i] = r % 3 == 0 ? text[r & 1] + (r >> 8) % 4096 :
                      r % 3 == 1 ? (uintptr_t)&fake[(r >> 4) % 512] :
                      ((uint64_t)rand_r(&seed) << 32) ^ r;
        }
        for (int k = 0; k < TR_REG_COUNT; k++)
            regs.reg[k] = fake[(unsigned)rand_r(&seed) % 512];
        regs.reg[TR_REG_RIP] = text[iter & 1] + (unsigned)rand_r(&seed) % 8192;
        regs.reg[TR_REG_RSP] = (uintptr_t)&fake[(unsigned)rand_r(&seed) % 512];
        n = tr_unwind(&regs, &elsewhere, pcs, MAX_PCS, &st);
        CHECK(n <= MAX_PCS && (unsigned)st < 4);
        counts[st]++;
    }
    printf("fuzz: complete %u truncated %u no_info %u bad_frame %u\n", counts[0], counts[1],
           counts[2], counts[3]);
    return 0;
}

/* The DWARF expressions GCC and glibc emit, evaluated on hand-made blocks. */
static int case_cfi_expressions(void)
{
    /* .plt: CFA = rsp + 8 + ((rip & 15) >= 11 ? 8 : 0) */
    static const uint8_t plt[] = { 11, 0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24,
                                   0x22 };
    /* DRAP: CFA = *(rbp - 8) */
    static const uint8_t drap[] = { 3, 0x76, 0x78, 0x06 };
    /* const2s -300; const1u 200; minus; neg; plus_uconst 4 -> 504 */
    static const uint8_t arith[] = { 9, 0x0b, 0xd4, 0xfe, 0x08, 200, 0x1c, 0x1f, 0x23, 4 };
    static const uint8_t unknown_op[] = { 2, 0x30, 0xe0 };
    uint64_t frame[4] = { 0, 0x1111, 0x2222, 0x3333 };
    struct tr_stack_range range = { (uintptr_t)frame, (uintptr_t)(frame + 4), 0 };
    struct tr_regs regs = { .valid = (1u << TR_REG_COUNT) - 1 };
    uint64_t out;
    int budget = 1000;

    regs.reg[TR_REG_RSP] = 0x7000;
    regs.reg[TR_REG_RIP] = 0x40100b;
    CHECK(tr_cfi_eval((uintptr_t)plt, &regs, &range, false, 0, &out, &budget) == 0);
    CHECK(out == 0x7010);
    regs.reg[TR_REG_RIP] = 0x401006;
    CHECK(tr_cfi_eval((uintptr_t)plt, &regs, &range, false, 0, &out, &budget) == 0);
    CHECK(out == 0x7008);
    regs.reg[TR_REG_RBP] = (uintptr_t)&frame[3];
    CHECK(tr_cfi_eval((uintptr_t)drap, &regs, &range, false, 0, &out, &budget) == 0);
    CHECK(out == 0x2222);
    regs.reg[TR_REG_RBP] = (uintptr_t)&frame[0]; /* rbp - 8 is below the range */
    CHECK(tr_cfi_eval((uintptr_t)drap, &regs, &range, false, 0, &out, &budget) != 0);
    regs.valid &= ~(1u << TR_REG_RBP);
    CHECK(tr_cfi_eval((uintptr_t)drap, &regs, &range, false, 0, &out, &budget) != 0);
    CHECK(tr_cfi_eval((uintptr_t)arith, &regs, &range, false, 0, &out, &budget) == 0);
    CHECK(out == 504);
    CHECK(tr_cfi_eval((uintptr_t)unknown_op, &regs, &range, false, 0, &out, &budget) != 0);
    budget = 3;
    CHECK(tr_cfi_eval((uintptr_t)plt, &regs, &range, false, 0, &out, &budget) != 0);
    return 0;
}

/* A CFA program with advances, remember/restore state and restore, run to several PCs. */
static int case_cfi_program(void)
{
    static const uint8_t cie_prog[] = { 0x0c, 7, 8, 0x90, 1 }; /* def_cfa rsp+8; rip at cfa-8 */
    static const uint8_t prog[] = {
        0x41, 0x0e, 16, 0x86, 2,      /* @1: cfa rsp+16; rbp at cfa-16 */
        0x43, 0x0d, 6,                /* @4: cfa register rbp */
        0x02, 20, 0x0a, 0x0c, 7, 8, 0xc6, /* @24: remember; cfa rsp+8; restore rbp */
        0x41, 0x0b,                   /* @25: restore_state */
        0x41, 0x07, 3, 0x2e, 16,      /* @26: rbx undefined; args_size */
    };
    static const uint8_t bad_prog[] = { 0x0b }; /* restore_state without remember */
    struct tr_cie cie = { .code_align = 1, .data_align = -8, .ra_reg = 16 };
    struct tr_cfi_rules initial, rules;
    int budget = 1000;

    memset(&initial, 0, sizeof(initial));
    CHECK(tr_cfi_run(cie_prog, cie_prog + sizeof(cie_prog), &cie, 0x100, 0x100, &initial,
                     NULL, &budget) == 0);
    CHECK(initial.cfa_reg == 7 && initial.cfa_val == 8 && initial.kind[16] == TR_RULE_OFFSET &&
          initial.val[16] == -8);
    static const struct { uintptr_t pc; uint8_t cfa_reg; int64_t cfa_off; uint8_t rbp, rbx; }
        rows[] = {
        { 0x100, 7, 8, TR_RULE_UNSPEC, TR_RULE_UNSPEC },
        { 0x101, 7, 16, TR_RULE_OFFSET, TR_RULE_UNSPEC },
        { 0x117, 6, 16, TR_RULE_OFFSET, TR_RULE_UNSPEC },
        { 0x118, 7, 8, TR_RULE_UNSPEC, TR_RULE_UNSPEC },
        { 0x119, 6, 16, TR_RULE_OFFSET, TR_RULE_UNSPEC },
        { 0x140, 6, 16, TR_RULE_OFFSET, TR_RULE_UNDEF },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        rules = initial;
        CHECK(tr_cfi_run(prog, prog + sizeof(prog), &cie, 0x100, rows[i].pc, &rules, &initial,
                         &budget) == 0);
        CHECK(rules.cfa_kind == TR_CFA_REG && rules.cfa_reg == rows[i].cfa_reg);
        CHECK(rules.cfa_val == rows[i].cfa_off);
        CHECK(rules.kind[6] == rows[i].rbp && rules.kind[3] == rows[i].rbx);
        CHECK(rules.kind[16] == TR_RULE_OFFSET && rules.val[16] == -8);
    }
    rules = initial;
    CHECK(tr_cfi_run(bad_prog, bad_prog + 1, &cie, 0x100, 0x100, &rules, &initial,
                     &budget) != 0);
    budget = 2;
    rules = initial;
    CHECK(tr_cfi_run(prog, prog + sizeof(prog), &cie, 0x100, 0x140, &rules, &initial,
                     &budget) != 0);
    return 0;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define TIMING_ROUNDS 20000

static int timing_leaf(void *arg)
{
    struct tr_stack_range *range = arg;
    uint64_t pcs[MAX_PCS];
    enum tr_unwind_status st = TR_UNWIND_NO_INFO;
    size_t n = 0;

    n = tr_unwind_here(range, pcs, MAX_PCS, &st); /* warm-up */
    CHECK(st == TR_UNWIND_COMPLETE);
    double t0 = now_ns();
    for (int i = 0; i < TIMING_ROUNDS; i++)
        n = tr_unwind_here(range, pcs, MAX_PCS, &st);
    double per_stack = (now_ns() - t0) / TIMING_ROUNDS;
    printf("unwind cost, warm row cache: %zu frames/stack, %.0f ns/stack, %.1f ns/frame, "
           "%.0f ns per 30 frames\n", n, per_stack, per_stack / n, per_stack / n * 30);
    CHECK(st == TR_UNWIND_COMPLETE && n >= 30);

    /* Without the row cache: every frame searches .eh_frame_hdr and runs the CFA program. */
    tr_unwind_row_cache_off = true;
    t0 = now_ns();
    for (int i = 0; i < TIMING_ROUNDS; i++)
        n = tr_unwind_here(range, pcs, MAX_PCS, &st);
    per_stack = (now_ns() - t0) / TIMING_ROUNDS;
    tr_unwind_row_cache_off = false;
    printf("unwind cost, row cache off: %zu frames/stack, %.0f ns/stack, %.1f ns/frame, "
           "%.0f ns per 30 frames\n", n, per_stack, per_stack / n, per_stack / n * 30);
    CHECK(st == TR_UNWIND_COMPLETE && n >= 30);
    return 0;
}

static int case_cost_per_frame(void)
{
    struct tr_stack_range range;

    CHECK(tr_stack_range_self(&range) == 0);
    return chain_recurse(26, timing_leaf, &range);
}

static const struct {
    const char *name;
    int (*fn)(void);
} cases[] = {
    { "unwind_from_signal_handler_reaches_main", case_signal_reaches_main },
    { "unwind_here_through_signal_frame", case_here_through_signal_frame },
    { "unwind_thread_reaches_start_thread", case_thread_reaches_start },
    { "unwind_through_libc_qsort", case_through_libc_qsort },
    { "unwind_truncated_at_max", case_truncated },
    { "unwind_bad_input_no_crash", case_bad_input },
    { "unwind_cfi_expressions", case_cfi_expressions },
    { "unwind_cfi_program", case_cfi_program },
    { "unwind_cost_per_frame", case_cost_per_frame },
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE\n", argv[0]);
        return 2;
    }
    void *warm[4];
    backtrace(warm, 4); /* loads libgcc_s now, not inside a test */
    CHECK(tr_modules_refresh() == 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            int ret = cases[i].fn();
            __asm__ volatile("" : : : "memory"); /* keep main's frame: no tail call */
            return ret;
        }
    }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
