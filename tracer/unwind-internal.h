/* SPDX-License-Identifier: MIT */
/*
 * Internal to the unwinder (unwind.c, unwind_modules.c): the module table.
 * A table is immutable once published; readers (signal handlers) load it with acquire and
 * may keep using an old one, because replaced tables are never freed. The tr_cfi_* functions
 * (unwind_cfi.c) parse CIEs/FDEs and run CFA programs; all are async-signal-safe.
 */
#ifndef LTPROF_TRACER_UNWIND_INTERNAL_H
#define LTPROF_TRACER_UNWIND_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

/* One executable PT_LOAD segment of a loaded object, with what is needed to find its FDEs. */
struct tr_module {
    uintptr_t text_lo;    /* executable range [text_lo, text_hi), runtime addresses */
    uintptr_t text_hi;
    uintptr_t bias;       /* load bias (dlpi_addr) */
    uintptr_t eh_lo;      /* readable range holding .eh_frame_hdr and .eh_frame */
    uintptr_t eh_hi;
    uintptr_t hdr;        /* .eh_frame_hdr runtime address; 0 when the object has none */
    uintptr_t table;      /* first entry of the sorted (initial_loc, fde) table; 0 if none */
    size_t fde_count;
    uint8_t table_enc;    /* DW_EH_PE_datarel | (udata4, sdata4, udata8 or sdata8) */
};

struct tr_module_table {
    size_t count;
    struct tr_module mod[]; /* sorted by text_lo, ranges do not overlap */
};

/* The current table, or NULL before the first tr_modules_refresh(). Async-signal-safe. */
const struct tr_module_table *tr_modules_current(void);

/* The module whose executable range holds pc, or NULL. Async-signal-safe. */
const struct tr_module *tr_modules_find(const struct tr_module_table *table, uintptr_t pc);


/* Test hook: when true, tr_unwind() neither reads nor fills its row cache (unwind.c). */
extern bool tr_unwind_row_cache_off;

/* How a register of the caller is recovered (DWARF register rules). */
enum tr_rule_kind {
    TR_RULE_UNSPEC = 0, /* no rule: callee-saved registers keep their value, others are lost */
    TR_RULE_UNDEF,      /* DW_CFA_undefined; for the return address: outermost frame */
    TR_RULE_SAME,
    TR_RULE_OFFSET,     /* saved at CFA + val */
    TR_RULE_VAL_OFFSET, /* value is CFA + val */
    TR_RULE_REGISTER,   /* in register val */
    TR_RULE_EXPR,       /* saved at the address computed by the expression at val */
    TR_RULE_VAL_EXPR,   /* value computed by the expression at val */
};

enum tr_cfa_kind { TR_CFA_REG = 0, TR_CFA_EXPR };

#define TR_CFI_STATE_DEPTH 8 /* DW_CFA_remember_state nesting */

/* One row of the CFI table. Expression rules keep the address of their block (uleb length
 * followed by the ops) in val, already bounds-checked against the module. */
struct tr_cfi_rules {
    int64_t cfa_val;  /* offset for TR_CFA_REG, block address for TR_CFA_EXPR */
    int64_t val[TR_REG_COUNT];
    uint8_t cfa_kind;
    uint8_t cfa_reg;
    uint8_t kind[TR_REG_COUNT];
};

struct tr_cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;        /* return address column, 16 on x86-64 */
    uint8_t fde_enc;        /* 'R' augmentation: encoding of FDE addresses */
    bool signal_frame;      /* 'S': the caller's PC is exact, not a return address */
    bool has_z;
    const uint8_t *insns;   /* initial instructions [insns, insns_end) */
    const uint8_t *insns_end;
};

struct tr_fde {
    uintptr_t pc_begin;
    const uint8_t *insns;
    const uint8_t *insns_end;
};

/* Finds and parses the FDE covering pc in module m and its CIE. 0, or -1 if there is none. */
int tr_cfi_find(const struct tr_module *m, uintptr_t pc, struct tr_cie *cie, struct tr_fde *fde);

/* Runs CFA instructions [insns, end) from location loc while the row start is <= pc.
 * initial: the CIE's row for DW_CFA_restore (NULL while running the CIE itself).
 * budget: instructions left, decremented. 0, or -1 on malformed or unsupported input. */
int tr_cfi_run(const uint8_t *insns, const uint8_t *end, const struct tr_cie *cie,
               uintptr_t loc, uintptr_t pc, struct tr_cfi_rules *rules,
               const struct tr_cfi_rules *initial, int *budget);

/* Evaluates the DWARF expression block at `block` with the frame's registers; dereferences
 * only inside stack. push_cfa: start with the CFA on the stack (register rules). 0 or -1. */
int tr_cfi_eval(uintptr_t block, const struct tr_regs *regs, const struct tr_stack_range *stack,
                bool push_cfa, uint64_t cfa, uint64_t *out, int *budget);

#endif
