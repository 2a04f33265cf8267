/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by gotrace_writer.c (batches, events, output) and gotrace_tables.c (string,
 * stack and PC tables). The face of the module is gotrace_writer.h; nothing here leaves
 * converter/. Single-threaded like the writer itself.
 */
#ifndef LTPROF_GOTRACE_INTERNAL_H
#define LTPROF_GOTRACE_INTERNAL_H

#include "gotrace_writer.h"
#include "internal.h" /* cv_malloc, cv_realloc, cv_hash_bytes */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Growable byte buffer. */
struct gt_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

/* Interned string: `data` holds `len` bytes (not NUL-terminated), id = index + 1. */
struct gt_string {
    uint64_t hash;
    char *data;
    size_t len;
};

/* Interned stack: `enc` = uvarint n, then n × (pc, fn, file, line); id = index + 1. */
struct gt_stack {
    uint64_t hash;
    uint8_t *enc;
    size_t len;
};

/* Owner of a PC: the (function, file, line) it stands for. pc 0 marks an empty slot. */
struct gt_pc {
    uint64_t pc;
    uint64_t fn;
    uint64_t file;
    uint64_t line;
};

/* Index of an interned table: open addressing, slot = entry index + 1, 0 = empty. */
struct gt_index {
    uint32_t *slots;
    size_t cap; /* power of two, or 0 */
};

struct gt_tables {
    struct gt_string *strings;
    size_t nstrings, strings_cap;
    struct gt_index string_index;
    struct gt_stack *stacks;
    size_t nstacks, stacks_cap;
    struct gt_index stack_index;
    struct gt_pc *pcs; /* open addressing by pc */
    size_t npcs, pcs_cap;
};

/* Byte buffers and uvarints. */
int gt_buf_reserve(struct gt_buf *b, size_t extra);
size_t gt_uvarint_put(uint8_t *out, uint64_t v); /* writes ≤ 10 bytes, returns the count */
size_t gt_uvarint_len(uint64_t v);

/* Tables. Intern functions return 0 or a negative ltprof_status; ids go to *id. */
void gt_tables_fini(struct gt_tables *t);
int gt_string_intern(struct gt_tables *t, const char *s, uint64_t *id, bool *truncated);
/* Interns the frames; *kept = frames kept after truncation, *fake = PCs replaced. */
int gt_stack_intern(struct gt_tables *t, const struct gotrace_frame *frames, size_t n,
                    uint64_t *id, size_t *kept, uint64_t *fake);
/* A stack id whose frames come later (gt_stack_fill, before the tables are written; a stack
 * never filled is written with no frames). 0 or a negative status. */
int gt_stack_reserve(struct gt_tables *t, uint64_t *id);
int gt_stack_fill(struct gt_tables *t, uint64_t id, const struct gotrace_frame *frames, size_t n,
                  size_t *kept, uint64_t *fake);
/*
 * Append the table records (EvString then EvStack, ascending ids) to `out`; whenever `out`
 * would exceed GOTRACE_BATCH_BYTES, `flush` is called first (it writes `out`, then starts it
 * again with a batch header).
 */
int gt_tables_write(const struct gt_tables *t, struct gt_buf *out,
                    int (*flush)(void *ctx, struct gt_buf *out), void *ctx);

#endif
