/* SPDX-License-Identifier: MIT */
/*
 * Internal to tracer/: stack unwinding without frame pointers (x86-64).
 * A table of loaded modules points at each module's .eh_frame_hdr; tr_unwind() walks the
 * stack with the DWARF CFI found there. tr_unwind() is async-signal-safe: no locks, no
 * allocation, no libc calls that are not; it only reads memory inside the given stack range
 * and inside modules of the table. Module-table updates happen in normal context.
 */
#ifndef LTPROF_TRACER_UNWIND_H
#define LTPROF_TRACER_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#define TR_UNWIND_MAX_FRAMES 128

/* Why a walk ended (recorded as ltprof:cpu_sample.unwind_status). */
enum tr_unwind_status {
    TR_UNWIND_COMPLETE = 0,  /* reached the outermost frame (return address undefined) */
    TR_UNWIND_TRUNCATED = 1, /* hit the caller's frame limit */
    TR_UNWIND_NO_INFO = 2,   /* a PC outside every known module, or without an FDE */
    TR_UNWIND_BAD_FRAME = 3, /* a CFA or saved register outside the stack, or no progress */
};

/* DWARF x86-64 register numbers 0..16 (rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8..r15, rip). */
#define TR_REG_COUNT 17
#define TR_REG_RBP 6
#define TR_REG_RSP 7
#define TR_REG_RIP 16

/* Register state of one frame; `valid` has bit i set when reg[i] is known. */
struct tr_regs {
    uint64_t reg[TR_REG_COUNT];
    uint32_t valid;
};

/* Memory the unwinder may read as stack: [lo, hi). With delta != 0 the bytes of address a are
 * read at a + delta: a copy of another thread's stack (thread_dump.c). */
struct tr_stack_range {
    uintptr_t lo;
    uintptr_t hi;
    intptr_t delta;
};

/* Build/refresh the module table from dl_iterate_phdr(). Normal context only; safe while other
 * threads unwind in signal handlers (the new table is published atomically and old tables are
 * kept). Returns 0, or a negative errno. */
int tr_modules_refresh(void);

/* Registers from a signal handler's ucontext_t (pass the third handler argument). */
void tr_regs_from_ucontext(struct tr_regs *regs, const void *ucontext);

/* The calling thread's stack range (pthread_getattr_np). Normal context only. 0 or -errno. */
int tr_stack_range_self(struct tr_stack_range *range);

/*
 * Walks the stack from `regs`. Writes at most `max` PCs: pcs[0] = the PC in regs, then each
 * caller's return address (not adjusted). Returns the number written and sets *status.
 * Async-signal-safe.
 */
size_t tr_unwind(const struct tr_regs *regs, const struct tr_stack_range *stack, uint64_t *pcs,
                 size_t max, enum tr_unwind_status *status);

/* Unwinds the caller of tr_unwind_here() (pcs[0] is a return address into the caller's caller
 * chain is NOT included: pcs[0] is the PC right after the call to tr_unwind_here). Normal or
 * signal context. */
size_t tr_unwind_here(const struct tr_stack_range *stack, uint64_t *pcs, size_t max,
                      enum tr_unwind_status *status);

/* The same, and slots[i] = the stack address pcs[i] was read from (0 for pcs[0], and for a PC
 * not read from the stack: a signal frame's). A later walk of the same frames finds the same
 * values there, which is how stack_capture.c recognises a stack it has seen. */
size_t tr_unwind_here_slots(const struct tr_stack_range *stack, uint64_t *pcs, uint64_t *slots,
                            size_t max, enum tr_unwind_status *status);

#endif
