/* SPDX-License-Identifier: MIT */
/*
 * Call chains without frame pointers for test_unwind.c (face: unwind_chain.h). Compiled with
 * -O2 -fomit-frame-pointer; the asm barriers keep every frame alive (no inlining, no tail
 * calls, no cloning) and give GCC's CFI its interesting shapes: a VLA (CFA in rbp),
 * an over-aligned local (DRAP stack realignment with CFA expressions) and busy callee-saved
 * registers (saved and restored through DW_CFA_offset rules).
 */
#include <stdint.h>

#include "unwind_chain.h"

#define CHAIN_FN __attribute__((noinline, noclone, used))
#define KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

CHAIN_FN int chain_spin(void *arg)
{
    volatile int *flag = arg;
    uint64_t spins = 0;

    while (!*flag)
        spins++;
    KEEP(spins);
    return 0;
}

CHAIN_FN int chain_d(chain_leaf_fn leaf, void *arg, int seed)
{
    /* Values live across the call occupy rbx, rbp and r12-r15. */
    uint64_t a = (uint64_t)seed * 3, b = a ^ 0x55, c = a + 7, d = b * 5, e = c ^ d, f = a + e;

    KEEP(a); KEEP(b); KEEP(c); KEEP(d); KEEP(e); KEEP(f);
    int r = leaf(arg);
    KEEP(a); KEEP(b); KEEP(c); KEEP(d); KEEP(e); KEEP(f);
    return r + (int)((a + b + c + d + e + f) & 0);
}

CHAIN_FN int chain_c(chain_leaf_fn leaf, void *arg, int seed)
{
    /* An over-aligned local plus a VLA makes GCC realign through DRAP (r10): the CFA is then
     * DW_CFA_def_cfa_expression (breg6 -8; deref) and rbp a DW_CFA_expression. */
    char aligned[64] __attribute__((aligned(64)));
    char vla[(seed & 7) + 8];

    aligned[0] = (char)seed;
    vla[0] = (char)seed;
    KEEP(aligned);
    KEEP(vla);
    int r = chain_d(leaf, arg, aligned[0]);
    KEEP(aligned);
    KEEP(vla);
    return r;
}

CHAIN_FN int chain_b(chain_leaf_fn leaf, void *arg, int seed)
{
    char vla[(seed & 15) + 16];

    vla[0] = (char)seed;
    KEEP(vla);
    int r = chain_c(leaf, arg, vla[0] + 1);
    KEEP(vla);
    return r;
}

CHAIN_FN int chain_a(chain_leaf_fn leaf, void *arg, int seed)
{
    volatile char pad[40];

    pad[0] = (char)seed;
    int r = chain_b(leaf, arg, pad[0] + 1);
    KEEP(&pad);
    return r;
}

CHAIN_FN int chain_run(chain_leaf_fn leaf, void *arg)
{
    int r = chain_a(leaf, arg, 1);

    KEEP(r);
    return r;
}

CHAIN_FN int chain_recurse(int n, chain_leaf_fn leaf, void *arg)
{
    volatile int depth = n;
    int r = n <= 0 ? leaf(arg) : chain_recurse(n - 1, leaf, arg);

    KEEP(&depth);
    return r + (depth & 0);
}
