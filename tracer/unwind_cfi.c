/* SPDX-License-Identifier: MIT */
/*
 * DWARF call-frame information for the unwinder (face: unwind.h, internals: unwind-internal.h):
 * finds the FDE for a PC through .eh_frame_hdr, parses its CIE and runs the CFA program up to
 * the PC, and evaluates the small DWARF expressions GCC and glibc emit.
 * Everything here runs inside signal handlers: no locks, no allocation, every read of
 * .eh_frame is bounded by the module's mapped range and every stack read by the stack range.
 */
#include <stdbool.h>
#include <string.h>

#include "unwind-internal.h"

#define DW_EH_PE_absptr 0x00
#define DW_EH_PE_uleb128 0x01
#define DW_EH_PE_udata2 0x02
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_sleb128 0x09
#define DW_EH_PE_sdata2 0x0a
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_indirect 0x80
#define DW_EH_PE_omit 0xff

#define EXPR_STACK_DEPTH 16

/* Bounded cursor over mapped, read-only memory; `bad` sticks once a read would overrun. */
struct reader {
    const uint8_t *p;
    const uint8_t *end;
    bool bad;
};

static inline bool rd_has(struct reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return false;
    }
    return true;
}

static inline __attribute__((always_inline)) uint64_t rd_fixed(struct reader *r, size_t n,
                                                               bool is_signed)
{
    uint64_t v;

    if (!rd_has(r, n))
        return 0;
    switch (n) { /* constant after inlining: one load */
    case 1: v = is_signed ? (uint64_t)(int64_t)*(const int8_t *)r->p : *r->p; break;
    case 2: { uint16_t u; memcpy(&u, r->p, 2); v = is_signed ? (uint64_t)(int64_t)(int16_t)u : u;
              break; }
    case 4: { uint32_t u; memcpy(&u, r->p, 4); v = is_signed ? (uint64_t)(int64_t)(int32_t)u : u;
              break; }
    default: memcpy(&v, r->p, 8); break;
    }
    r->p += n;
    return v;
}

static uint8_t rd_u8(struct reader *r)
{
    return (uint8_t)rd_fixed(r, 1, false);
}

static uint64_t rd_uleb(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;

    for (;;) {
        if (!rd_has(r, 1))
            return 0;
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return v;
    }
}

static int64_t rd_sleb(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;

    do {
        if (!rd_has(r, 1))
            return 0;
        b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* Reads a pointer with encoding enc. Only absolute and pc-relative values are supported;
 * with value_only the application bits are ignored (FDE address ranges, skipped personality). */
static uint64_t rd_encoded(struct reader *r, uint8_t enc, bool value_only)
{
    uintptr_t field = (uintptr_t)r->p;
    uint64_t v;

    switch (enc & 0x0f) {
    case DW_EH_PE_absptr: v = rd_fixed(r, 8, false); break;
    case DW_EH_PE_uleb128: v = rd_uleb(r); break;
    case DW_EH_PE_udata2: v = rd_fixed(r, 2, false); break;
    case DW_EH_PE_udata4: v = rd_fixed(r, 4, false); break;
    case DW_EH_PE_udata8: v = rd_fixed(r, 8, false); break;
    case DW_EH_PE_sleb128: v = (uint64_t)rd_sleb(r); break;
    case DW_EH_PE_sdata2: v = rd_fixed(r, 2, true); break;
    case DW_EH_PE_sdata4: v = rd_fixed(r, 4, true); break;
    case DW_EH_PE_sdata8: v = rd_fixed(r, 8, true); break;
    default: r->bad = true; return 0;
    }
    if (value_only)
        return v;
    if (enc & DW_EH_PE_indirect) /* would need a read of arbitrary memory */
        r->bad = true; // NOLINT(bugprone-branch-clone): two reasons for one verdict
    else if ((enc & 0x70) == DW_EH_PE_pcrel)
        v += field;
    else if ((enc & 0x70) != 0)
        r->bad = true;
    return v;
}

/* Entry i of the .eh_frame_hdr table: initial location (which 0) or FDE address (which 1). */
static inline uintptr_t table_entry(const struct tr_module *m, size_t i, int which)
{
    const uint8_t *at = (const uint8_t *)m->table;

    switch (m->table_enc & 0x0f) {
    case 0x0b: { int32_t v; memcpy(&v, at + i * 8 + which * 4, 4); return m->hdr + (int64_t)v; }
    case 0x03: { uint32_t v; memcpy(&v, at + i * 8 + which * 4, 4); return m->hdr + v; }
    default: { uint64_t v; memcpy(&v, at + i * 16 + which * 8, 8); return m->hdr + v; }
    }
}

/* Address of the FDE that may cover pc: binary search of the .eh_frame_hdr table, whose
 * bounds and encoding were checked when the module table was built. */
static uintptr_t find_fde(const struct tr_module *m, uintptr_t pc)
{
    size_t lo = 0, hi = m->fde_count;

    while (lo < hi) { /* first entry with initial_loc > pc */
        size_t mid = lo + (hi - lo) / 2;

        if (table_entry(m, mid, 0) <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : table_entry(m, lo - 1, 1);
}

/* Opens the CIE or FDE entry at addr: sets r to its body and returns its length field's end. */
static int open_entry(const struct tr_module *m, uintptr_t addr, struct reader *r)
{
    if (addr < m->eh_lo || addr >= m->eh_hi)
        return -1;
    r->p = (const uint8_t *)addr;
    r->end = (const uint8_t *)m->eh_hi;
    r->bad = false;
    uint64_t len = rd_fixed(r, 4, false);
    if (r->bad || len == 0 || len == 0xffffffffu || len > (uint64_t)(r->end - r->p))
        return -1; /* 64-bit DWARF never appears in .eh_frame in practice */
    r->end = r->p + len;
    return 0;
}

static int parse_cie(const struct tr_module *m, uintptr_t addr, struct tr_cie *cie)
{
    struct reader r;
    char aug[8];
    size_t n = 0;

    if (open_entry(m, addr, &r) != 0 || rd_fixed(&r, 4, false) != 0)
        return -1;
    uint8_t version = rd_u8(&r);
    if (version != 1 && version != 3)
        return -1;
    do {
        aug[n] = (char)rd_u8(&r);
    } while (!r.bad && aug[n] != '\0' && ++n < sizeof(aug));
    if (r.bad || n == sizeof(aug) || (n > 0 && aug[0] != 'z'))
        return -1;
    cie->code_align = rd_uleb(&r);
    cie->data_align = rd_sleb(&r);
    cie->ra_reg = version == 1 ? rd_u8(&r) : rd_uleb(&r);
    cie->fde_enc = DW_EH_PE_absptr;
    cie->signal_frame = false;
    cie->has_z = n > 0;
    if (cie->has_z) {
        uint64_t aug_len = rd_uleb(&r);
        if (r.bad || aug_len > (uint64_t)(r.end - r.p))
            return -1;
        const uint8_t *aug_end = r.p + aug_len;
        for (size_t i = 1; i < n && !r.bad; i++) {
            if (aug[i] == 'R')
                cie->fde_enc = rd_u8(&r);
            else if (aug[i] == 'P')
                rd_encoded(&r, rd_u8(&r), true);
            else if (aug[i] == 'L')
                rd_u8(&r);
            else if (aug[i] == 'S')
                cie->signal_frame = true;
            else
                break; /* unknown: the rest is skipped thanks to 'z' */
        }
        r.p = aug_end;
    }
    cie->insns = r.p;
    cie->insns_end = r.end;
    return r.bad ? -1 : 0;
}

int tr_cfi_find(const struct tr_module *m, uintptr_t pc, struct tr_cie *cie, struct tr_fde *fde)
{
    struct reader r;

    if (m->table == 0 || m->fde_count == 0)
        return -1;
    uintptr_t addr = find_fde(m, pc);
    if (addr == 0 || open_entry(m, addr, &r) != 0)
        return -1;
    uintptr_t id_field = (uintptr_t)r.p;
    uint64_t cie_off = rd_fixed(&r, 4, false);
    if (r.bad || cie_off == 0 || cie_off > id_field)
        return -1;
    if (parse_cie(m, id_field - cie_off, cie) != 0)
        return -1;
    fde->pc_begin = rd_encoded(&r, cie->fde_enc, false);
    uint64_t range = rd_encoded(&r, cie->fde_enc & 0x0f, true);
    if (r.bad || pc < fde->pc_begin || pc - fde->pc_begin >= range)
        return -1;
    if (cie->has_z) {
        uint64_t aug_len = rd_uleb(&r);
        if (r.bad || aug_len > (uint64_t)(r.end - r.p))
            return -1;
        r.p += aug_len;
    }
    fde->insns = r.p;
    fde->insns_end = r.end;
    return 0;
}

static void set_rule(struct tr_cfi_rules *rules, uint64_t reg, uint8_t kind, int64_t val)
{
    if (reg < TR_REG_COUNT) { /* rules for vector registers etc. are irrelevant here */
        rules->kind[reg] = kind;
        rules->val[reg] = val;
    }
}

/* Records the expression block at r (uleb length + bytes) and skips it; 0 on success. */
static int take_block(struct reader *r, int64_t *where)
{
    const uint8_t *start = r->p;
    uint64_t len = rd_uleb(r);

    if (r->bad || len > (uint64_t)(r->end - r->p))
        return -1;
    r->p += len;
    *where = (int64_t)(uintptr_t)start;
    return 0;
}

/* Runs one CFA instruction that is not an advance or a state-stack op. 0, or -1 if unknown. */
static int run_rule_insn(struct reader *r, uint8_t op, const struct tr_cie *cie,
                         struct tr_cfi_rules *rules, const struct tr_cfi_rules *initial)
{
    uint64_t reg, reg2;
    int64_t block;

    switch (op) {
    case 0x00: return 0; /* nop */
    case 0x05: reg = rd_uleb(r); set_rule(rules, reg, TR_RULE_OFFSET,
                                          (int64_t)rd_uleb(r) * cie->data_align); return 0;
    case 0x11: reg = rd_uleb(r); set_rule(rules, reg, TR_RULE_OFFSET,
                                          rd_sleb(r) * cie->data_align); return 0;
    case 0x2f: reg = rd_uleb(r); set_rule(rules, reg, TR_RULE_OFFSET,
                                          -(int64_t)rd_uleb(r) * cie->data_align); return 0;
    case 0x14: reg = rd_uleb(r); set_rule(rules, reg, TR_RULE_VAL_OFFSET,
                                          (int64_t)rd_uleb(r) * cie->data_align); return 0;
    case 0x15: reg = rd_uleb(r); set_rule(rules, reg, TR_RULE_VAL_OFFSET,
                                          rd_sleb(r) * cie->data_align); return 0;
    case 0x06: /* restore_extended */
        reg = rd_uleb(r);
        if (reg < TR_REG_COUNT)
            set_rule(rules, reg, initial ? initial->kind[reg] : TR_RULE_UNSPEC,
                     initial ? initial->val[reg] : 0);
        return 0;
    case 0x07: set_rule(rules, rd_uleb(r), TR_RULE_UNDEF, 0); return 0;
    case 0x08: set_rule(rules, rd_uleb(r), TR_RULE_SAME, 0); return 0;
    case 0x09: reg = rd_uleb(r); reg2 = rd_uleb(r);
        set_rule(rules, reg, TR_RULE_REGISTER, (int64_t)reg2); return 0;
    case 0x0c: rules->cfa_kind = TR_CFA_REG; rules->cfa_reg = rd_uleb(r);
        rules->cfa_val = (int64_t)rd_uleb(r); return 0;
    case 0x12: rules->cfa_kind = TR_CFA_REG; rules->cfa_reg = rd_uleb(r);
        rules->cfa_val = rd_sleb(r) * cie->data_align; return 0;
    case 0x0d: rules->cfa_kind = TR_CFA_REG; rules->cfa_reg = rd_uleb(r); return 0;
    case 0x0e: rules->cfa_val = (int64_t)rd_uleb(r); return 0;
    case 0x13: rules->cfa_val = rd_sleb(r) * cie->data_align; return 0;
    case 0x0f:
        if (take_block(r, &block) != 0)
            return -1;
        rules->cfa_kind = TR_CFA_EXPR;
        rules->cfa_val = block;
        return 0;
    case 0x10: case 0x16: /* expression, val_expression */
        reg = rd_uleb(r);
        if (take_block(r, &block) != 0)
            return -1;
        set_rule(rules, reg, op == 0x10 ? TR_RULE_EXPR : TR_RULE_VAL_EXPR, block);
        return 0;
    case 0x2e: rd_uleb(r); return 0; /* GNU_args_size */
    default: return -1;
    }
}

int tr_cfi_run(const uint8_t *insns, const uint8_t *end, const struct tr_cie *cie,
               uintptr_t loc, uintptr_t pc, struct tr_cfi_rules *rules,
               const struct tr_cfi_rules *initial, int *budget)
{
    struct tr_cfi_rules saved[TR_CFI_STATE_DEPTH];
    int depth = 0;
    struct reader r = { insns, end, false };

    while (r.p < r.end && !r.bad) {
        if (--*budget < 0)
            return -1;
        uint8_t op = rd_u8(&r), low = op & 0x3f;
        uint64_t delta = 0;

        if ((op & 0xc0) == 0x40) {
            delta = low;
        } else if ((op & 0xc0) == 0x80) {
            set_rule(rules, low, TR_RULE_OFFSET, (int64_t)rd_uleb(&r) * cie->data_align);
            continue;
        } else if ((op & 0xc0) == 0xc0) {
            set_rule(rules, low, initial ? initial->kind[low] : TR_RULE_UNSPEC,
                     initial ? initial->val[low] : 0);
            continue;
        } else if (op == 0x01) { /* set_loc */
            uint64_t to = rd_encoded(&r, cie->fde_enc, false);
            if (to > pc)
                return r.bad ? -1 : 0;
            loc = to;
            continue;
        } else if (op >= 0x02 && op <= 0x04) {
            delta = rd_fixed(&r, op == 0x02 ? 1 : op == 0x03 ? 2 : 4, false);
        } else if (op == 0x0a) { /* remember_state */
            if (depth == TR_CFI_STATE_DEPTH)
                return -1;
            saved[depth++] = *rules;
            continue;
        } else if (op == 0x0b) { /* restore_state */
            if (depth == 0)
                return -1;
            *rules = saved[--depth];
            continue;
        } else {
            if (run_rule_insn(&r, op, cie, rules, initial) != 0)
                return -1;
            continue;
        }
        if (r.bad)
            return -1;
        if (delta * cie->code_align > pc - loc)
            return 0; /* the next row starts after pc */
        loc += delta * cie->code_align;
    }
    return r.bad ? -1 : 0;
}

static bool read_stack(const struct tr_stack_range *stack, uint64_t addr, size_t size,
                       uint64_t *out)
{
    if (addr < stack->lo || addr > stack->hi || stack->hi - addr < size)
        return false;
    *out = 0;
    memcpy(out, (const void *)(uintptr_t)(addr + (uint64_t)stack->delta), size);
    return true;
}

/* Executes one expression op other than literals and registers; false on a fault. */
static bool expr_arith(uint8_t op, uint64_t *st, int *sp)
{
    if (*sp < 2)
        return false;
    uint64_t b = st[*sp - 1], a = st[*sp - 2];
    uint64_t v;

    switch (op) {
    case 0x1a: v = a & b; break;
    case 0x1c: v = a - b; break;
    case 0x1e: v = a * b; break;
    case 0x21: v = a | b; break;
    case 0x22: v = a + b; break;
    case 0x24: v = b < 64 ? a << b : 0; break;
    case 0x25: v = b < 64 ? a >> b : 0; break;
    /* DW_OP_shra: arithmetic, as gcc and clang shift signed values */
    // cppcheck-suppress shiftTooManyBitsSigned
    case 0x26: v = b < 64 ? (uint64_t)((int64_t)a >> b) : 0; break;
    case 0x27: v = a ^ b; break;
    case 0x29: v = a == b; break;
    case 0x2a: v = (int64_t)a >= (int64_t)b; break;
    case 0x2b: v = (int64_t)a > (int64_t)b; break;
    case 0x2c: v = (int64_t)a <= (int64_t)b; break;
    case 0x2d: v = (int64_t)a < (int64_t)b; break;
    case 0x2e: v = a != b; break;
    default: return false;
    }
    st[--*sp - 1] = v;
    return true;
}

int tr_cfi_eval(uintptr_t block, const struct tr_regs *regs, const struct tr_stack_range *stack,
                bool push_cfa, uint64_t cfa, uint64_t *out, int *budget)
{
    uint64_t st[EXPR_STACK_DEPTH];
    int sp = 0;
    struct reader r = { (const uint8_t *)block, (const uint8_t *)block + 16, false };
    uint64_t len = rd_uleb(&r);

    r.end = r.p + len; /* the block was bounds-checked when its rule was recorded */
    if (push_cfa)
        st[sp++] = cfa;
    while (r.p < r.end && !r.bad) {
        if (--*budget < 0 || sp >= EXPR_STACK_DEPTH)
            return -1;
        uint8_t op = rd_u8(&r);
        if (op >= 0x30 && op <= 0x4f) {          /* lit0..lit31 */
            st[sp++] = op - 0x30;
        } else if (op >= 0x70 && op <= 0x8f) {   /* breg0..breg31 */
            unsigned reg = op - 0x70;
            int64_t off = rd_sleb(&r);
            if (reg >= TR_REG_COUNT || !(regs->valid & (1u << reg)))
                return -1;
            st[sp++] = regs->reg[reg] + (uint64_t)off;
        } else if (op >= 0x08 && op <= 0x0f) {   /* const1u .. const8s */
            static const uint8_t sizes[] = { 1, 1, 2, 2, 4, 4, 8, 8 };
            st[sp++] = rd_fixed(&r, sizes[op - 0x08], (op & 1) != 0);
        } else if (op == 0x10) {
            st[sp++] = rd_uleb(&r);
        } else if (op == 0x11) {
            st[sp++] = (uint64_t)rd_sleb(&r);
        } else if (op == 0x06 || op == 0x94) {  /* deref, deref_size */
            size_t size = op == 0x06 ? 8 : rd_u8(&r);
            if (sp < 1 || size == 0 || size > 8 || !read_stack(stack, st[sp - 1], size,
                                                                 &st[sp - 1]))
                return -1;
        } else if (op == 0x12) {                 /* dup */
            if (sp < 1)
                return -1;
            st[sp] = st[sp - 1];
            sp++;
        } else if (op == 0x13) {                 /* drop */
            if (sp < 1)
                return -1;
            sp--;
        } else if (op == 0x23) {                 /* plus_uconst */
            if (sp < 1)
                return -1;
            st[sp - 1] += rd_uleb(&r);
        } else if (op == 0x1f || op == 0x20) {   /* neg, not */
            if (sp < 1)
                return -1;
            st[sp - 1] = op == 0x1f ? -st[sp - 1] : ~st[sp - 1];
        } else if (op == 0x96) {                 /* nop */
        } else if (!expr_arith(op, st, &sp)) {
            return -1;
        }
    }
    if (r.bad || sp < 1)
        return -1;
    *out = st[sp - 1];
    return 0;
}
