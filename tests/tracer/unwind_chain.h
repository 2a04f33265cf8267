/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for test_unwind.c: call chains compiled WITHOUT frame pointers
 * (-O2 -fomit-frame-pointer, see tests/tracer/CMakeLists.txt) that the unwinder must walk
 * with CFI alone. Every chain function stays a real frame (no inlining, no tail calls).
 */
#ifndef LTPROF_TESTS_UNWIND_CHAIN_H
#define LTPROF_TESTS_UNWIND_CHAIN_H

typedef int (*chain_leaf_fn)(void *arg);

/* chain_run -> chain_a -> chain_b (VLA, CFA in rbp) -> chain_c (stack realignment, DRAP)
 * -> chain_d (all callee-saved registers busy) -> leaf(arg). Returns leaf's result + 0. */
int chain_run(chain_leaf_fn leaf, void *arg);

/* The inner links, global so that dladdr() names them. */
int chain_a(chain_leaf_fn leaf, void *arg, int seed);
int chain_b(chain_leaf_fn leaf, void *arg, int seed);
int chain_c(chain_leaf_fn leaf, void *arg, int seed);
int chain_d(chain_leaf_fn leaf, void *arg, int seed);

/* Spins until *(volatile int *)arg becomes non-zero; a leaf for chain_run(). */
int chain_spin(void *arg);

/* n nested frames of chain_recurse, then leaf(arg). */
int chain_recurse(int n, chain_leaf_fn leaf, void *arg);

#endif
