/* SPDX-License-Identifier: MIT */
/*
 * Fault test of proto/pprof_builder.c, compiled with PPROF_BUILDER_FAULT_INJECTION (and ASan +
 * UBSan): for every N, the Nth allocation fails. Each call must then return LTPROF_ERR_NOMEM (or
 * 0 for ids) or succeed, and retrying the failed call must give a profile byte-identical to the
 * fault-free one: a failure leaves the builder consistent. ASan reports any leak or bad access.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ltprof/ltprof.h>

#include "pprof_builder.h"
#include "test_util.h"

extern long pprof_fault_countdown; /* test hooks in pprof_builder.c */
extern long pprof_fault_allocs;

static long failures; /* injected failures seen by the scenario */

/* Retries `call` (an expression) until it succeeds; a failure must be the injected NOMEM. */
#define RETRY_STATUS(call)                                                                         \
    do {                                                                                           \
        int rc_;                                                                                   \
        while ((rc_ = (call)) != 0) {                                                              \
            CHECK(rc_ == LTPROF_ERR_NOMEM && pprof_fault_countdown == 0);                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define RETRY_ID(var, call)                                                                        \
    do {                                                                                           \
        while (((var) = (call)) == 0) {                                                            \
            CHECK(pprof_fault_countdown == 0);                                                     \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Builds a profile exercising every table and table growth, with table samples and final
 * samples (kept, or streamed into out as they come), writes it to out. */
static void scenario(struct mem_sink *out, bool stream) {
    struct pprof_builder *b;
    while (!(b = pprof_builder_create(pprof_kind_lookup("allocs"), 524288))) {
        CHECK(pprof_fault_countdown == 0);
        failures++;
    }
    pprof_builder_set_time(b, 1, 2);
    RETRY_STATUS(pprof_builder_add_comment(b, "fault test"));
    uint64_t m1, m2;
    RETRY_ID(m1, pprof_builder_add_mapping(b, 0x1000, 0x9000, 0, "/bin/prog", "00ff", 15));
    RETRY_ID(m2, pprof_builder_add_mapping(b, 0xa000, 0xb000, 0, "/lib/l.so", NULL, 0));
    uint64_t locs[120];
    char fn[32], file[32];
    for (int i = 0; i < 120; i++) {
        snprintf(fn, sizeof(fn), "fn_%d", i % 70);
        snprintf(file, sizeof(file), "file_%d.c", i % 7);
        struct pprof_line lines[2] = {{fn, i % 3 ? NULL : "_Zmangled", file, i},
                                      {"outer", NULL, file, 1000 + i}};
        uint64_t addr = i % 10 == 9 ? 0 : 0x1000 + 16 * (uint64_t)i; /* some synthetic */
        if (i % 11 == 10)
            RETRY_ID(locs[i], pprof_builder_add_location(b, m2, 0xa000 + (uint64_t)i, NULL, 0));
        else
            RETRY_ID(locs[i], pprof_builder_add_location(b, m1, addr, lines, 1 + i % 2));
    }
    for (int i = 0; i < 300; i++) {
        char val[16];
        snprintf(val, sizeof(val), "t%d", i % 13);
        struct pprof_label labels[2] = {{"thread", val, 0, NULL}, {"bytes", NULL, i % 5, "bytes"}};
        uint64_t stack[8];
        for (int d = 0; d < 8; d++)
            stack[d] = locs[(i * 7 + d * 13) % 120];
        int64_t v[4] = {1, 64, i % 2, 32};
        RETRY_STATUS(pprof_builder_add_sample(b, stack, 1 + (size_t)(i % 8), v, labels,
                                              (size_t)(i % 3)));
    }
    if (stream)
        RETRY_STATUS(pprof_builder_stream(b, mem_sink_write, out));
    for (int i = 0; i < 200; i++) {
        char val[16];
        snprintf(val, sizeof(val), "f%d", i);
        struct pprof_label labels[2] = {{"thread", val, 0, NULL}, {"tid", NULL, i, NULL}};
        int64_t v[4] = {i, 64 * i, 1, 32};
        RETRY_STATUS(pprof_builder_add_final_sample(b, &locs[i % 116], 1 + (size_t)(i % 4), v,
                                                    labels, (size_t)(i % 3)));
    }
    RETRY_STATUS(pprof_builder_write(b, mem_sink_write, out));
    pprof_builder_destroy(b);
}

static long run(bool stream) {
    struct mem_sink reference = {0};
    pprof_fault_countdown = 0;
    failures = 0;
    pprof_fault_allocs = 0;
    scenario(&reference, stream);
    long total_allocs = pprof_fault_allocs;
    CHECK(failures == 0 && total_allocs > 50);
    Perftools__Profiles__Profile *p = decode_gzip(reference.data, reference.len);
    check_well_formed(p);
    CHECK(p->n_location == 120 && p->n_mapping == 2 && p->n_sample > 300);
    perftools__profiles__profile__free_unpacked(p, NULL);
    for (long n = 1; n <= total_allocs; n++) {
        struct mem_sink out = {0};
        failures = 0;
        pprof_fault_countdown = n;
        scenario(&out, stream);
        CHECK(failures == 1); /* the Nth allocation failed exactly once */
        CHECK(out.len == reference.len && memcmp(out.data, reference.data, out.len) == 0);
        free(out.data);
    }
    free(reference.data);
    return total_allocs;
}

int main(void) {
    for (int stream = 0; stream <= 1; stream++) {
        long n = run(stream);
        printf("fault test%s: %ld allocation points, each failed once, all recovered\n",
               stream ? " (streamed)" : "", n);
    }
    return 0;
}
