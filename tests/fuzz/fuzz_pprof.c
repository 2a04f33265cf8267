/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the pprof builder and reader (proto/). The input is a program of builder calls:
 * a profile kind, mappings, locations with lines (any bytes in names and files, up to 300),
 * samples with any values and labels, final samples, comments, times. Whatever the calls, the
 * builder must write a profile that our reader validates, with as many samples as were added;
 * with LTPROF_FUZZ_SAVE set the profiles are kept for `go tool pprof` (property_test.sh).
 * An input starting with 0xff is given to the reader as a profile itself instead, which must
 * fail cleanly or succeed.
 */
#include "fuzz_input.h"
#include "ltprof/ltprof.h"
#include "pprof_builder.h"
#include "pprof_reader.h"

static const char *const kinds[] = {"cpu", "heap", "allocs", "mutex", "block", "threadcreate",
                                    "goroutine"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ltprof_error err;
    Perftools__Profiles__Profile *p = NULL;
    if (size && data[0] == 0xff) {
        if (pprof_read_buffer(data + 1, size - 1, &p, &err) == 0)
            pprof_profile_free(p);
        return 0;
    }
    struct fz f = {data, size};
    const struct pprof_kind *kind = pprof_kind_lookup(kinds[fz_below(&f, 7)]);
    FZ_CHECK(kind);
    struct pprof_builder *b = pprof_builder_create(kind, (int64_t)fz_below(&f, 1u << 30));
    if (!b)
        return 0;
    uint64_t locs[64] = {0};
    size_t n_locs = 0, samples = 0;
    uint64_t mappings[8] = {0};
    size_t n_maps = 0;
    int streaming = 0;
    struct fz_mem out = {0};
    char s1[301], s2[301], s3[301], s4[301];
    for (int op = 0; op < 400 && !fz_empty(&f); op++) {
        switch (fz_byte(&f) % 7) {
        case 0:
            if (n_maps < 8) {
                uint64_t start = fz_below(&f, 1ull << 47), lim = start + fz_below(&f, 1u << 30);
                uint64_t id = pprof_builder_add_mapping(b, start, lim, fz_below(&f, 1u << 20),
                                                        fz_string(&f, s1, 300),
                                                        fz_byte(&f) & 1 ? "0123abcd" : NULL,
                                                        fz_byte(&f) & 15);
                if (id)
                    mappings[n_maps++] = id;
            }
            break;
        case 1: {
            struct pprof_line lines[4];
            size_t nl = fz_below(&f, 5);
            for (size_t i = 0; i < nl; i++) {
                lines[i].function = fz_string(&f, i % 2 ? s1 : s2, 300);
                lines[i].system_name = fz_byte(&f) & 1 ? NULL : lines[i].function;
                lines[i].file = fz_byte(&f) & 1 ? NULL : fz_string(&f, i % 2 ? s3 : s4, 300);
                lines[i].line = (int64_t)fz_below(&f, 100000) - 10;
            }
            uint64_t map = n_maps && fz_byte(&f) & 1 ? mappings[fz_below(&f, n_maps)] : 0;
            uint64_t id = pprof_builder_add_location(b, map, fz_below(&f, 1ull << 48), lines, nl);
            if (id && n_locs < 64)
                locs[n_locs++] = id;
            break;
        }
        case 2:
        case 3: {
            uint64_t stack[32];
            size_t depth = n_locs ? fz_below(&f, 33) : 0;
            for (size_t i = 0; i < depth; i++)
                stack[i] = locs[fz_below(&f, n_locs)];
            int64_t values[PPROF_MAX_SAMPLE_TYPES];
            for (size_t i = 0; i < kind->n_sample_types; i++)
                values[i] = (int64_t)fz_below(&f, UINT64_MAX);
            struct pprof_label labels[3];
            size_t nlab = fz_below(&f, 4);
            char keys[3][17], vals[3][17];
            for (size_t i = 0; i < nlab; i++) {
                labels[i].key = fz_string(&f, keys[i], 16);
                labels[i].str = fz_byte(&f) & 1 ? fz_string(&f, vals[i], 16) : NULL;
                labels[i].num = (int64_t)fz_below(&f, UINT64_MAX);
                labels[i].num_unit = fz_byte(&f) & 1 ? "bytes" : NULL;
            }
            int final = fz_byte(&f) & 1;
            int rc = final ? pprof_builder_add_final_sample(b, stack, depth, values, labels, nlab)
                           : pprof_builder_add_sample(b, stack, depth, values, labels, nlab);
            if (rc == 0)
                samples++;
            break;
        }
        case 4:
            pprof_builder_add_comment(b, fz_string(&f, s1, 300));
            break;
        case 5:
            pprof_builder_set_time(b, (int64_t)fz_below(&f, 1ull << 62),
                                   (int64_t)fz_below(&f, 1ull << 40));
            break;
        case 6:
            if (!streaming && fz_byte(&f) % 8 == 0 && pprof_builder_stream(b, fz_mem_write, &out) == 0)
                streaming = 1;
            break;
        }
    }
    int rc = pprof_builder_write(b, fz_mem_write, &out);
    pprof_builder_destroy(b);
    if (rc == 0) {
        int read = pprof_read_buffer(out.data, out.len, &p, &err);
        if (read != 0)
            fprintf(stderr, "our reader refused our profile: %s\n", err.message);
        FZ_CHECK(read == 0);
        /* merged samples make fewer, never more */
        FZ_CHECK(p->n_sample <= samples);
        pprof_profile_free(p);
        fz_save("profile", "pb.gz", out.data, out.len);
    }
    free(out.data);
    return 0;
}
