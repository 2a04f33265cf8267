/* SPDX-License-Identifier: MIT */
/*
 * The stack walk of the x86-64 DWARF CFI unwinder (face: unwind.h). tr_unwind() and
 * tr_unwind_here() are async-signal-safe: no locks, no allocation, reads only inside the given
 * stack range and the modules of the current table (unwind_modules.c); CFI parsing is in
 * unwind_cfi.c. Rows found for a PC go to a small lock-free (seqlock) cache shared by all
 * threads. tr_stack_range_self() and tr_modules_refresh() run in normal context.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <ucontext.h>

#include "unwind-internal.h"
#include "unwind.h"

#define MAX_CFA_INSNS 1000 /* per frame: CIE + FDE instructions + expression ops */

/* Callee-saved in the SysV ABI (rbx, rbp, r12-r15): kept by frames without a rule for them. */
#define CALLEE_SAVED ((1u << 3) | (1u << 6) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15))
#define REG_BIT(r) (1u << (r))

enum step_result { STEP_OK = -1, STEP_END = -2 }; /* or an enum tr_unwind_status */

struct walk {
    const struct tr_module_table *table;
    const struct tr_stack_range *stack;
    struct tr_regs regs; /* the frame being unwound */
    uint64_t prev_cfa;   /* CFAs must strictly increase */
    uint64_t ra_slot;    /* where the last step read the return address, 0: not from memory */
    uint64_t *slots;     /* optional: ra_slot of each recorded PC */
    bool exact_pc;       /* regs' RIP is not a return address (first frame, after a signal) */
    bool first;
};

static bool stack_read8(const struct tr_stack_range *stack, uint64_t addr, uint64_t *out)
{
    if (addr < stack->lo || addr > stack->hi || stack->hi - addr < 8)
        return false;
    memcpy(out, (const void *)(uintptr_t)(addr + (uint64_t)stack->delta), 8);
    return true;
}

static int compute_cfa(struct walk *w, const struct tr_cfi_rules *rules, uint64_t *cfa,
                       int *budget)
{
    if (rules->cfa_kind == TR_CFA_EXPR) {
        if (tr_cfi_eval((uintptr_t)rules->cfa_val, &w->regs, w->stack, false, 0, cfa,
                        budget) != 0)
            return TR_UNWIND_BAD_FRAME;
    } else {
        if (rules->cfa_reg >= TR_REG_COUNT || !(w->regs.valid & REG_BIT(rules->cfa_reg)))
            return TR_UNWIND_BAD_FRAME;
        *cfa = w->regs.reg[rules->cfa_reg] + (uint64_t)rules->cfa_val;
    }
    if (*cfa <= w->prev_cfa || *cfa <= w->stack->lo || *cfa > w->stack->hi)
        return TR_UNWIND_BAD_FRAME;
    return STEP_OK;
}

/* The caller's value of register r under rules; false if it cannot be recovered safely. */
static bool recover_reg(struct walk *w, const struct tr_cfi_rules *rules, unsigned r,
                        uint64_t cfa, uint64_t *out, bool *known, int *budget)
{
    const struct tr_regs *old = &w->regs;
    uint64_t addr;

    *known = true;
    /* The analyzer cannot see that a rule's value is set whenever its kind uses one, nor that
     * `valid` guards the registers it reads. NOLINTBEGIN(clang-analyzer-core.UndefinedBinaryOperatorResult,clang-analyzer-core.CallAndMessage) */
    switch (rules->kind[r]) {
    case TR_RULE_UNSPEC:
        *known = (CALLEE_SAVED & REG_BIT(r)) && (old->valid & REG_BIT(r));
        *out = old->reg[r];
        return true;
    case TR_RULE_SAME:
        *known = (old->valid & REG_BIT(r)) != 0;
        *out = old->reg[r];
        return true;
    case TR_RULE_UNDEF:
        *known = false;
        return true;
    case TR_RULE_OFFSET:
        return stack_read8(w->stack, cfa + (uint64_t)rules->val[r], out);
    case TR_RULE_VAL_OFFSET:
        *out = cfa + (uint64_t)rules->val[r];
        return true;
    case TR_RULE_REGISTER:
        if (rules->val[r] < 0 || rules->val[r] >= TR_REG_COUNT ||
            !(old->valid & REG_BIT(rules->val[r])))
            return false;
        *out = old->reg[rules->val[r]];
        return true;
    case TR_RULE_EXPR:
        return tr_cfi_eval((uintptr_t)rules->val[r], old, w->stack, true, cfa, &addr,
                           budget) == 0 && stack_read8(w->stack, addr, out);
    case TR_RULE_VAL_EXPR:
        return tr_cfi_eval((uintptr_t)rules->val[r], old, w->stack, true, cfa, out,
                           budget) == 0;
    default:
        return false;
    }
    /* NOLINTEND(clang-analyzer-core.UndefinedBinaryOperatorResult,clang-analyzer-core.CallAndMessage) */
}

/* Replaces w->regs by the caller's registers according to one CFI row. */
static int apply_rules(struct walk *w, const struct tr_cfi_rules *rules,
                       const struct tr_cie *cie, int *budget)
{
    struct tr_regs next; /* not zeroed: this runs for every frame, and `valid` says enough */
    uint64_t cfa;
    int ret;

    if (cie->ra_reg >= TR_REG_COUNT)
        return TR_UNWIND_NO_INFO;
    if (rules->kind[cie->ra_reg] == TR_RULE_UNDEF)
        return STEP_END; /* _start, clone/clone3: the outermost frame */
    if (rules->kind[cie->ra_reg] == TR_RULE_UNSPEC)
        return TR_UNWIND_BAD_FRAME;
    ret = compute_cfa(w, rules, &cfa, budget);
    if (ret != STEP_OK)
        return ret;
    next.valid = 0;
    for (unsigned r = 0; r < TR_REG_COUNT; r++) {
        bool known;

        if (rules->kind[r] == TR_RULE_UNSPEC) { /* the common case, kept out of the switch */
            next.reg[r] = w->regs.reg[r];
            if ((CALLEE_SAVED & REG_BIT(r)) && (w->regs.valid & REG_BIT(r)))
                next.valid |= REG_BIT(r);
            continue;
        }
        if (!recover_reg(w, rules, r, cfa, &next.reg[r], &known, budget))
            return TR_UNWIND_BAD_FRAME;
        if (known)
            next.valid |= REG_BIT(r);
        else
            next.reg[r] = 0;
    }
    if (rules->kind[TR_REG_RSP] == TR_RULE_UNSPEC) {
        next.reg[TR_REG_RSP] = cfa;
        next.valid |= REG_BIT(TR_REG_RSP);
    }
    next.reg[TR_REG_RIP] = next.reg[cie->ra_reg];
    w->ra_slot = rules->kind[cie->ra_reg] == TR_RULE_OFFSET
                     ? cfa + (uint64_t)rules->val[cie->ra_reg] : 0;
    if (!(next.valid & REG_BIT(cie->ra_reg)) || !(next.valid & REG_BIT(TR_REG_RSP)))
        return TR_UNWIND_BAD_FRAME;
    next.valid |= REG_BIT(TR_REG_RIP);
    if (next.reg[TR_REG_RIP] == 0)
        return STEP_END;
    w->regs = next;
    w->prev_cfa = cfa;
    w->exact_pc = cie->signal_frame;
    return STEP_OK;
}

/*
 * Row cache: the CFI row found for a PC, shared by all threads, direct-mapped. Each entry is a
 * seqlock: a writer claims it by moving `seq` from even to odd with a CAS (and simply skips
 * caching when that fails, so a signal handler never waits), a reader retries nothing and
 * treats an odd or changed `seq` as a miss. Only rows without expressions are cached; the
 * table pointer in the tag drops rows from before a tr_modules_refresh().
 * An entry fills one cache line: at 100 Hz the cache is cold at every sample, so each frame
 * costs about one miss here instead of a binary search through the modules and the FDEs.
 * Registers without a rule (TR_RULE_UNSPEC) are not stored; a row with more than
 * ROW_CACHE_RULES rules (x86-64 code saves at most six registers plus the return address) or
 * with offsets beyond 16 bits is not cached.
 */
#define ROW_CACHE_BITS 10
#define ROW_CACHE_SIZE (1u << ROW_CACHE_BITS)
#define ROW_CACHE_RULES 7

/* What an entry holds besides its sequence number. */
struct row_cache_row {
    uintptr_t pc; /* the lookup PC */
    const struct tr_module_table *table;
    int32_t cfa_off;
    uint8_t cfa_reg;
    uint8_t ra_reg;
    uint8_t signal_frame;
    uint8_t n_rules;
    struct {
        uint8_t reg;
        uint8_t kind;
        int16_t val;
    } rule[ROW_CACHE_RULES];
};
#define ROW_CACHE_WORDS ((sizeof(struct row_cache_row) + 7) / 8)

/* The row is read while a writer may be storing it, which C11 allows only for atomics: both
 * sides copy it as words with relaxed atomic accesses (plain moves on x86-64), so the seqlock
 * is well defined and ThreadSanitizer can follow it. */
union row_cache_words {
    struct row_cache_row row;
    uint64_t w[ROW_CACHE_WORDS];
};

struct row_cache_entry {
    uint64_t seq;
    union row_cache_words data;
} __attribute__((aligned(64)));

static struct row_cache_entry g_row_cache[ROW_CACHE_SIZE];
bool tr_unwind_row_cache_off;

static struct row_cache_entry *cache_slot(uintptr_t pc)
{
    return &g_row_cache[(pc * 0x9e3779b97f4a7c15ull) >> (64 - ROW_CACHE_BITS)];
}

static bool cache_get(const struct walk *w, uintptr_t pc, struct tr_cfi_rules *rules,
                      struct tr_cie *cie)
{
    struct row_cache_entry *e = cache_slot(pc);
    union row_cache_words data;
    uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

    if (seq & 1)
        return false;
    for (size_t i = 0; i < ROW_CACHE_WORDS; i++)
        data.w[i] = __atomic_load_n(&e->data.w[i], __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const struct row_cache_row *copy = &data.row;
    if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq || copy->pc != pc ||
        copy->table != w->table || copy->n_rules > ROW_CACHE_RULES)
        return false;
    rules->cfa_kind = TR_CFA_REG;
    rules->cfa_reg = copy->cfa_reg;
    rules->cfa_val = copy->cfa_off;
    memset(rules->kind, TR_RULE_UNSPEC, sizeof(rules->kind));
    for (unsigned i = 0; i < copy->n_rules; i++) {
        if (copy->rule[i].reg >= TR_REG_COUNT)
            return false;
        rules->kind[copy->rule[i].reg] = copy->rule[i].kind;
        rules->val[copy->rule[i].reg] = copy->rule[i].val;
    }
    cie->ra_reg = copy->ra_reg;
    cie->signal_frame = copy->signal_frame;
    return true;
}

/* Packs a row into `e`; false when it does not fit an entry. */
static bool cache_pack(struct row_cache_row *e, const struct tr_cfi_rules *rules)
{
    unsigned n = 0;
    if (rules->cfa_kind != TR_CFA_REG || rules->cfa_val != (int32_t)rules->cfa_val)
        return false;
    for (unsigned r = 0; r < TR_REG_COUNT; r++) {
        uint8_t k = rules->kind[r]; /* val is only meaningful (and set) for some kinds */
        int64_t v = k >= TR_RULE_OFFSET ? rules->val[r] : 0;
        if (k == TR_RULE_UNSPEC)
            continue;
        if (k == TR_RULE_EXPR || k == TR_RULE_VAL_EXPR || v != (int16_t)v ||
            n == ROW_CACHE_RULES)
            return false;
        e->rule[n].reg = (uint8_t)r;
        e->rule[n].kind = k;
        e->rule[n].val = (int16_t)v;
        n++;
    }
    e->n_rules = (uint8_t)n;
    e->cfa_reg = rules->cfa_reg;
    e->cfa_off = (int32_t)rules->cfa_val;
    return true;
}

static void cache_put(const struct walk *w, uintptr_t pc, const struct tr_cfi_rules *rules,
                      const struct tr_cie *cie)
{
    struct row_cache_entry *e = cache_slot(pc);
    union row_cache_words packed;
    memset(&packed, 0, sizeof(packed));
    uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);

    if (!cache_pack(&packed.row, rules))
        return;
    packed.row.pc = pc;
    packed.row.table = w->table;
    packed.row.ra_reg = (uint8_t)cie->ra_reg;
    packed.row.signal_frame = cie->signal_frame;
    if ((seq & 1) || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false,
                                                  __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return; /* another writer, perhaps the code this handler interrupted */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (size_t i = 0; i < ROW_CACHE_WORDS; i++)
        __atomic_store_n(&e->data.w[i], packed.w[i], __ATOMIC_RELAXED);
    __atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

/* First frame without CFI (a leaf in code without unwind info): return address at [rsp]. */
static int step_leaf_heuristic(struct walk *w)
{
    uint64_t rsp = w->regs.reg[TR_REG_RSP], ra;

    if (!stack_read8(w->stack, rsp, &ra) || ra == 0 || !tr_modules_find(w->table, ra - 1))
        return TR_UNWIND_NO_INFO;
    w->regs.reg[TR_REG_RIP] = ra;
    w->regs.reg[TR_REG_RSP] = rsp + 8;
    w->regs.valid &= CALLEE_SAVED | REG_BIT(TR_REG_RSP) | REG_BIT(TR_REG_RIP);
    w->prev_cfa = rsp + 8;
    w->exact_pc = false;
    return STEP_OK;
}

/* Unwinds one frame: w->regs becomes the caller's state. */
static int step(struct walk *w)
{
    struct tr_cfi_rules initial, rules;
    struct tr_cie cie;
    struct tr_fde fde;
    int budget = MAX_CFA_INSNS;
    uint64_t pc = w->regs.reg[TR_REG_RIP];
    uintptr_t lookup = w->exact_pc ? pc : pc - 1;
    bool first = w->first;

    w->first = false;
    /* The cache first: a hit needs neither the module nor the FDE search. Only PCs inside a
     * module of this table are ever cached. */
    if (!tr_unwind_row_cache_off && cache_get(w, lookup, &rules, &cie))
        return apply_rules(w, &rules, &cie, &budget);
    const struct tr_module *m = tr_modules_find(w->table, lookup);
    if (m == NULL || tr_cfi_find(m, lookup, &cie, &fde) != 0)
        return first ? step_leaf_heuristic(w) : TR_UNWIND_NO_INFO;
    /* Only the rule kinds need a start value (TR_RULE_UNSPEC); the CIE defines the CFA. */
    memset(initial.kind, TR_RULE_UNSPEC, sizeof(initial.kind));
    initial.cfa_kind = TR_CFA_REG;
    initial.cfa_reg = UINT8_MAX;
    initial.cfa_val = 0;
    if (tr_cfi_run(cie.insns, cie.insns_end, &cie, fde.pc_begin, lookup, &initial, NULL,
                   &budget) != 0)
        return TR_UNWIND_NO_INFO;
    rules = initial;
    if (tr_cfi_run(fde.insns, fde.insns_end, &cie, fde.pc_begin, lookup, &rules, &initial,
                   &budget) != 0)
        return TR_UNWIND_NO_INFO;
    if (cie.ra_reg < TR_REG_COUNT)
        cache_put(w, lookup, &rules, &cie);
    return apply_rules(w, &rules, &cie, &budget);
}

/* Records up to max PCs, skipping the first `skip` frames. */
static size_t walk_stack(struct walk *w, uint64_t *pcs, size_t max, unsigned skip,
                         enum tr_unwind_status *status)
{
    size_t n = 0;

    for (;;) {
        if (skip > 0) {
            skip--;
        } else if (n == max) {
            *status = TR_UNWIND_TRUNCATED;
            return n;
        } else {
            if (w->slots)
                w->slots[n] = w->ra_slot;
            pcs[n++] = w->regs.reg[TR_REG_RIP];
        }
        int ret = step(w);
        if (ret == STEP_END) {
            *status = TR_UNWIND_COMPLETE;
            return n;
        }
        if (ret != STEP_OK) {
            *status = (enum tr_unwind_status)ret;
            return n;
        }
    }
}

static size_t unwind_from(const struct tr_regs *regs, const struct tr_stack_range *stack,
                          uint64_t *pcs, uint64_t *slots, size_t max, unsigned skip,
                          enum tr_unwind_status *status)
{
    struct walk w = { .stack = stack, .exact_pc = true, .first = true, .slots = slots };

    *status = TR_UNWIND_NO_INFO;
    if (regs == NULL || stack == NULL || (pcs == NULL && max > 0))
        return 0;
    if (!(regs->valid & REG_BIT(TR_REG_RIP)) || regs->reg[TR_REG_RIP] == 0)
        return 0;
    w.table = tr_modules_current();
    w.regs = *regs;
    if (!(regs->valid & REG_BIT(TR_REG_RSP)) || stack->lo >= stack->hi) {
        *status = TR_UNWIND_BAD_FRAME;
        if (max == 0 || skip > 0)
            return 0;
        pcs[0] = regs->reg[TR_REG_RIP];
        return 1;
    }
    w.prev_cfa = regs->reg[TR_REG_RSP];
    return walk_stack(&w, pcs, max, skip, status);
}

size_t tr_unwind(const struct tr_regs *regs, const struct tr_stack_range *stack, uint64_t *pcs,
                 size_t max, enum tr_unwind_status *status)
{
    return unwind_from(regs, stack, pcs, NULL, max, 0, status);
}

/* The body of tr_unwind_here(): inlined, so the registers it takes are its caller's. */
static inline __attribute__((always_inline)) size_t here(const struct tr_stack_range *stack,
                                                         uint64_t *pcs, uint64_t *slots,
                                                         size_t max,
                                                         enum tr_unwind_status *status)
{
    struct tr_regs regs = {0}; /* zeroed: what the asm below leaves out is never garbage */
    size_t n;

    /* rip, rsp and the callee-saved registers at this very instruction; this function's own
     * CFI row there tells how to recover the caller's values. */
    __asm__ volatile("leaq 0(%%rip), %%rax\n\t"
                     "movq %%rax, 128(%0)\n\t"
                     "movq %%rsp, 56(%0)\n\t"
                     "movq %%rbp, 48(%0)\n\t"
                     "movq %%rbx, 24(%0)\n\t"
                     "movq %%r12, 96(%0)\n\t"
                     "movq %%r13, 104(%0)\n\t"
                     "movq %%r14, 112(%0)\n\t"
                     "movq %%r15, 120(%0)\n\t"
                     : : "r"(regs.reg) : "rax", "memory");
    regs.valid = CALLEE_SAVED | REG_BIT(TR_REG_RSP) | REG_BIT(TR_REG_RIP);
    n = unwind_from(&regs, stack, pcs, slots, max, 1, status);
    __asm__ volatile("" : : : "memory"); /* keep this frame alive: no tail call */
    return n;
}

__attribute__((noinline)) size_t tr_unwind_here(const struct tr_stack_range *stack,
                                                 uint64_t *pcs, size_t max,
                                                 enum tr_unwind_status *status)
{
    return here(stack, pcs, NULL, max, status);
}

__attribute__((noinline)) size_t tr_unwind_here_slots(const struct tr_stack_range *stack,
                                                       uint64_t *pcs, uint64_t *slots,
                                                       size_t max,
                                                       enum tr_unwind_status *status)
{
    return here(stack, pcs, slots, max, status);
}

void tr_regs_from_ucontext(struct tr_regs *regs, const void *ucontext)
{
    static const int map[TR_REG_COUNT] = {
        REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
        REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP,
    };
    const ucontext_t *uc = ucontext;

    for (int i = 0; i < TR_REG_COUNT; i++)
        regs->reg[i] = (uint64_t)uc->uc_mcontext.gregs[map[i]];
    regs->valid = (1u << TR_REG_COUNT) - 1;
}

int tr_stack_range_self(struct tr_stack_range *range)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    int err = pthread_getattr_np(pthread_self(), &attr);

    if (err != 0)
        return -err;
    err = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (err != 0)
        return -err;
    range->lo = (uintptr_t)addr;
    range->hi = (uintptr_t)addr + size;
    range->delta = 0;
    return 0;
}
