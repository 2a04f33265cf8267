/* SPDX-License-Identifier: MIT */
/*
 * Tests of the always-on tables' stack buckets (tracer/stack_buckets.c): one bucket per
 * (stack, key), found again for the same pair, never shared by different ones; an empty stack
 * (a thread whose stack could not be taken) is a bucket like any other, even as the table's
 * very first (UBSan once caught a memcpy from the still-NULL frame pool there); a copy holds
 * the same frames; a reset table starts over. Usage: test_stack_buckets CASE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stack_buckets.h"

static void case_empty_stack_first(void)
{
    struct tr_buckets t = TR_BUCKETS_INIT;
    uint32_t empty = tr_buckets_for(&t, NULL, 0, 7);
    CHECK(empty != 0 && empty != UINT32_MAX);
    CHECK(tr_buckets_for(&t, NULL, 0, 7) == empty);
    CHECK(tr_buckets_for(&t, NULL, 0, 8) != empty); /* another key */
    struct tr_bucket *b = tr_buckets_at(&t, empty);
    CHECK(b && b->npcs == 0 && b->key == 7);
    const uint64_t pcs[3] = {0x1000, 0x2000, 0x3000};
    uint32_t full = tr_buckets_for(&t, pcs, 3, 7);
    CHECK(full != empty && full != 0);
    CHECK(tr_buckets_for(&t, NULL, 0, 7) == empty);
    tr_buckets_reset(&t);
    printf("ok empty_stack_first\n");
}

static void case_stacks_and_keys_apart(void)
{
    struct tr_buckets t = TR_BUCKETS_INIT;
    enum { STACKS = 5000, DEPTH = 12 };
    static uint32_t ids[STACKS];
    uint64_t pcs[DEPTH];
    for (int round = 0; round < 2; round++)
        for (uint32_t s = 0; s < STACKS; s++) {
            for (int d = 0; d < DEPTH; d++)
                pcs[d] = 0x400000 + 16 * (uint64_t)(s * 31 + (uint32_t)d);
            uint32_t id = tr_buckets_for(&t, pcs, 1 + s % DEPTH, s % 3);
            CHECK(id != 0 && id != UINT32_MAX);
            if (round == 0)
                ids[s] = id;
            else
                CHECK(id == ids[s]); /* found again, after the table grew */
        }
    for (uint32_t s = 1; s < STACKS; s++)
        CHECK(ids[s] != ids[s - 1]);
    struct tr_bucket_snapshot snap;
    CHECK(tr_buckets_copy(&t, &snap) == 0);
    CHECK(snap.n_buckets == STACKS + 1); /* and bucket 0, the overflow */
    const struct tr_bucket *b = &snap.buckets[ids[42]];
    CHECK(b->npcs == 1 + 42 % DEPTH && b->key == 42 % 3);
    CHECK(snap.pcs[b->pcs_offset] == 0x400000 + 16 * 42 * 31);
    tr_bucket_snapshot_free(&snap);
    tr_buckets_reset(&t);
    CHECK(tr_buckets_bytes(&t) == 0);
    CHECK(tr_buckets_for(&t, pcs, 2, 0) == 1); /* starts over */
    tr_buckets_reset(&t);
    printf("ok stacks_and_keys_apart: %u stacks\n", (unsigned)STACKS);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "empty_stack_first") == 0)
        case_empty_stack_first();
    else if (strcmp(c, "stacks_and_keys_apart") == 0)
        case_stacks_and_keys_apart();
    else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    return 0;
}
