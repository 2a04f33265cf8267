/* SPDX-License-Identifier: MIT */
/*
 * Tests of proto/pprof_builder.c: round trip through an independent decoder, Go's kind table,
 * argument checks, repeatable output, final (pre-aggregated, streamed) samples, `go tool pprof`
 * acceptance and a 1M-sample profile.
 * Usage: test_pprof_builder <case> [tmpdir]; each case is one ctest test.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ltprof/ltprof.h>

#include "pprof_builder.h"
#include "test_util.h"

typedef Perftools__Profiles__Profile profile_t;

#define T0 1700000000123456789LL
#define DUR 2500000000LL
#define PERIOD 10000000LL

/* The CPU profile shared by round_trip and go_tool_pprof: two mappings (one symbolized, one
 * not), an inlined location, string and numeric labels, and duplicate samples to merge. */
static struct pprof_builder *build_cpu_profile(void) {
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("cpu"), PERIOD);
    CHECK(b);
    pprof_builder_set_time(b, T0, DUR);
    CHECK(pprof_builder_add_comment(b, "hello comment") == 0);
    uint64_t m1 = pprof_builder_add_mapping(b, 0x400000, 0x500000, 0, "/usr/bin/app", "abc123",
                                            PPROF_HAS_FUNCTIONS | PPROF_HAS_FILENAMES |
                                                PPROF_HAS_LINE_NUMBERS | PPROF_HAS_INLINE_FRAMES);
    uint64_t m2 = pprof_builder_add_mapping(b, 0x7f0000000000, 0x7f0000100000, 0x1000,
                                            "/nonexistent/libfoo.so", NULL, 0);
    CHECK(m1 == 1 && m2 == 2);
    struct pprof_line inl[2] = {{"inlined_leaf", "_Z12inlined_leafv", "app.c", 10},
                                {"outer_fn", NULL, "app.c", 20}};
    struct pprof_line main_line = {"main", NULL, "app.c", 30};
    uint64_t a = pprof_builder_add_location(b, m1, 0x401000, inl, 2);
    uint64_t m = pprof_builder_add_location(b, m1, 0x402000, &main_line, 1);
    uint64_t c = pprof_builder_add_location(b, m2, 0x7f0000001234, NULL, 0);
    CHECK(a == 1 && m == 2 && c == 3);
    /* Same (mapping, address): the same location, whatever lines are passed. */
    CHECK(pprof_builder_add_location(b, m1, 0x401000, &main_line, 1) == a);
    CHECK(pprof_builder_add_location(b, m2, 0x7f0000001234, NULL, 0) == c);

    uint64_t stack1[] = {a, m}, stack2[] = {c, m};
    int64_t one[] = {1, PERIOD};
    struct pprof_label l1[] = {{"thread", "worker", 0, NULL}, {"tid", NULL, 42, NULL}};
    struct pprof_label l1_swapped[] = {{"tid", NULL, 42, NULL}, {"thread", "worker", 0, NULL}};
    struct pprof_label l2[] = {{"thread", "other", 0, NULL}, {"bytes", NULL, 4096, "bytes"}};
    CHECK(pprof_builder_add_sample(b, stack1, 2, one, l1, 2) == 0);
    CHECK(pprof_builder_add_sample(b, stack1, 2, one, l1, 2) == 0);
    CHECK(pprof_builder_add_sample(b, stack1, 2, one, l1_swapped, 2) == 0); /* merges too */
    CHECK(pprof_builder_add_sample(b, stack1, 2, one, l2, 2) == 0);
    CHECK(pprof_builder_add_sample(b, stack2, 2, one, NULL, 0) == 0);
    CHECK(pprof_builder_add_sample(b, stack2, 2, one, NULL, 0) == 0);
    CHECK(pprof_builder_add_sample(b, stack2, 1, one, NULL, 0) == 0); /* shorter stack */
    return b;
}

static const Perftools__Profiles__Label *find_label(const profile_t *p,
                                                    const Perftools__Profiles__Sample *s,
                                                    const char *key) {
    for (size_t i = 0; i < s->n_label; i++) {
        if (strcmp(str_at(p, s->label[i]->key), key) == 0)
            return s->label[i];
    }
    return NULL;
}

static void check_round_trip_samples(const profile_t *p) {
    CHECK(p->n_sample == 4);
    const Perftools__Profiles__Sample *s = p->sample[0];
    CHECK(s->n_location_id == 2 && s->location_id[0] == 1 && s->location_id[1] == 2);
    CHECK(s->n_value == 2 && s->value[0] == 3 && s->value[1] == 3 * PERIOD);
    CHECK(s->n_label == 2);
    CHECK(strcmp(str_at(p, find_label(p, s, "thread")->str), "worker") == 0);
    CHECK(find_label(p, s, "tid")->num == 42 && find_label(p, s, "tid")->str == 0);
    CHECK(find_label(p, s, "tid")->num_unit == 0);
    s = p->sample[1];
    CHECK(s->value[0] == 1 && s->value[1] == PERIOD);
    CHECK(strcmp(str_at(p, find_label(p, s, "thread")->str), "other") == 0);
    CHECK(find_label(p, s, "bytes")->num == 4096);
    CHECK(strcmp(str_at(p, find_label(p, s, "bytes")->num_unit), "bytes") == 0);
    CHECK(p->sample[2]->n_location_id == 2 && p->sample[2]->value[0] == 2);
    CHECK(p->sample[2]->location_id[0] == 3 && p->sample[2]->n_label == 0);
    CHECK(p->sample[3]->n_location_id == 1 && p->sample[3]->value[1] == PERIOD);
}

static void check_round_trip_tables(const profile_t *p) {
    CHECK(p->n_mapping == 2 && p->n_location == 3 && p->n_function == 3);
    const Perftools__Profiles__Mapping *m1 = p->mapping[0], *m2 = p->mapping[1];
    CHECK(m1->memory_start == 0x400000 && m1->memory_limit == 0x500000 && m1->file_offset == 0);
    CHECK(strcmp(str_at(p, m1->filename), "/usr/bin/app") == 0);
    CHECK(strcmp(str_at(p, m1->build_id), "abc123") == 0);
    CHECK(m1->has_functions && m1->has_filenames && m1->has_line_numbers && m1->has_inline_frames);
    CHECK(m2->file_offset == 0x1000 && m2->build_id == 0);
    CHECK(!m2->has_functions && !m2->has_filenames && !m2->has_line_numbers &&
          !m2->has_inline_frames);
    const Perftools__Profiles__Location *a = p->location[0];
    CHECK(a->mapping_id == 1 && a->address == 0x401000 && a->n_line == 2);
    const Perftools__Profiles__Function *f0 = p->function[a->line[0]->function_id - 1];
    const Perftools__Profiles__Function *f1 = p->function[a->line[1]->function_id - 1];
    CHECK(strcmp(str_at(p, f0->name), "inlined_leaf") == 0 && a->line[0]->line == 10);
    CHECK(strcmp(str_at(p, f0->system_name), "_Z12inlined_leafv") == 0);
    CHECK(strcmp(str_at(p, f0->filename), "app.c") == 0);
    CHECK(strcmp(str_at(p, f1->name), "outer_fn") == 0 && f1->system_name == f1->name);
    CHECK(a->line[1]->line == 20);
    CHECK(p->location[2]->mapping_id == 2 && p->location[2]->n_line == 0);
    CHECK(p->location[2]->address == 0x7f0000001234);
}

static int case_round_trip(void) {
    struct pprof_builder *b = build_cpu_profile();
    struct mem_sink out = {0};
    CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
    pprof_builder_destroy(b);
    profile_t *p = decode_gzip(out.data, out.len);
    check_well_formed(p);
    CHECK(p->n_sample_type == 2);
    CHECK(strcmp(str_at(p, p->sample_type[0]->type), "samples") == 0);
    CHECK(strcmp(str_at(p, p->sample_type[0]->unit), "count") == 0);
    CHECK(strcmp(str_at(p, p->sample_type[1]->type), "cpu") == 0);
    CHECK(strcmp(str_at(p, p->sample_type[1]->unit), "nanoseconds") == 0);
    CHECK(strcmp(str_at(p, p->period_type->type), "cpu") == 0);
    CHECK(strcmp(str_at(p, p->period_type->unit), "nanoseconds") == 0);
    CHECK(p->period == PERIOD && p->time_nanos == T0 && p->duration_nanos == DUR);
    CHECK(p->default_sample_type == 0);
    CHECK(p->n_comment == 1 && strcmp(str_at(p, p->comment[0]), "hello comment") == 0);
    check_round_trip_tables(p);
    check_round_trip_samples(p);
    perftools__profiles__profile__free_unpacked(p, NULL);
    free(out.data);
    return 0;
}

static int case_kinds(void) {
    static const struct {
        const char *kind, *types, *period, *dflt;
    } want[] = {
        {"cpu", "samples/count cpu/nanoseconds", "cpu/nanoseconds", ""},
        {"heap", "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes",
         "space/bytes", ""},
        {"allocs", "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes",
         "space/bytes", "alloc_space"},
        {"mutex", "contentions/count delay/nanoseconds", "contentions/count", ""},
        {"block", "contentions/count delay/nanoseconds", "contentions/count", ""},
        {"threadcreate", "threadcreate/count", "threadcreate/count", ""},
        {"goroutine", "goroutine/count", "goroutine/count", ""},
    };
    CHECK(pprof_kind_lookup("nope") == NULL && pprof_kind_lookup(NULL) == NULL);
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        const struct pprof_kind *kind = pprof_kind_lookup(want[k].kind);
        CHECK(kind && strcmp(kind->name, want[k].kind) == 0);
        struct pprof_builder *b = pprof_builder_create(kind, 1);
        CHECK(b);
        int64_t values[PPROF_MAX_SAMPLE_TYPES] = {1, 2, 3, 4};
        CHECK(pprof_builder_add_sample(b, NULL, 0, values, NULL, 0) == 0); /* empty stack */
        struct mem_sink out = {0};
        CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
        pprof_builder_destroy(b);
        profile_t *p = decode_gzip(out.data, out.len);
        check_well_formed(p);
        char types[256] = "", buf[64];
        for (size_t i = 0; i < p->n_sample_type; i++) {
            snprintf(buf, sizeof(buf), "%s%s/%s", i ? " " : "", str_at(p, p->sample_type[i]->type),
                     str_at(p, p->sample_type[i]->unit));
            size_t l = strlen(types);
            CHECK(l + strlen(buf) < sizeof(types));
            memcpy(types + l, buf, strlen(buf) + 1);
        }
        CHECK(strcmp(types, want[k].types) == 0);
        CHECK(kind->n_sample_types == p->n_sample_type);
        snprintf(buf, sizeof(buf), "%s/%s", str_at(p, p->period_type->type),
                 str_at(p, p->period_type->unit));
        CHECK(strcmp(buf, want[k].period) == 0);
        CHECK(strcmp(str_at(p, p->default_sample_type), want[k].dflt) == 0);
        CHECK(p->n_sample == 1 && p->sample[0]->n_location_id == 0 && p->period == 1);
        CHECK(p->time_nanos == 0 && p->duration_nanos == 0);
        perftools__profiles__profile__free_unpacked(p, NULL);
        free(out.data);
    }
    return 0;
}

static int case_rejects_invalid(void) {
    CHECK(pprof_builder_create(NULL, 1) == NULL);
    struct pprof_kind empty = {"empty", {{NULL, NULL}}, 0, {"x", "y"}, NULL};
    CHECK(pprof_builder_create(&empty, 1) == NULL);
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("cpu"), PERIOD);
    CHECK(b);
    struct pprof_line line = {"f", NULL, NULL, 0};
    CHECK(pprof_builder_add_location(b, 1, 0x1000, &line, 1) == 0); /* no mapping 1 yet */
    CHECK(pprof_builder_add_location(b, 0, 0x1000, NULL, 1) == 0);  /* lines missing */
    uint64_t loc = pprof_builder_add_location(b, 0, 0x1000, &line, 1);
    CHECK(loc == 1);
    int64_t v[2] = {1, 1};
    uint64_t bad[] = {loc, 2}, zero[] = {0};
    CHECK(pprof_builder_add_sample(b, bad, 2, v, NULL, 0) == LTPROF_ERR_INVALID);
    CHECK(pprof_builder_add_sample(b, zero, 1, v, NULL, 0) == LTPROF_ERR_INVALID);
    CHECK(pprof_builder_add_sample(b, &loc, 1, NULL, NULL, 0) == LTPROF_ERR_INVALID);
    struct pprof_label nokey = {NULL, "x", 0, NULL};
    CHECK(pprof_builder_add_sample(b, &loc, 1, v, &nokey, 1) == LTPROF_ERR_INVALID);
    CHECK(pprof_builder_add_comment(b, NULL) == LTPROF_ERR_INVALID);
    CHECK(pprof_builder_write(b, NULL, NULL) == LTPROF_ERR_INVALID);
    CHECK(pprof_builder_write_file(b, "/nonexistent-dir/x.pb.gz") == LTPROF_ERR_IO);
    /* The rejected calls left nothing behind. */
    struct mem_sink out = {0};
    CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
    profile_t *p = decode_gzip(out.data, out.len);
    check_well_formed(p);
    CHECK(p->n_sample == 0 && p->n_location == 1 && p->n_mapping == 0);
    perftools__profiles__profile__free_unpacked(p, NULL);
    free(out.data);
    pprof_builder_destroy(b);
    pprof_builder_destroy(NULL);
    return 0;
}

static int fail_write(void *ctx, const void *data, size_t len) {
    (void)ctx, (void)data, (void)len;
    return 1;
}

/* Address-0 (synthetic) locations are told apart by their lines; output is deterministic and the
 * builder stays usable after writing; a failing sink gives LTPROF_ERR_IO. */
static int case_address0_and_rewrite(void) {
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("goroutine"), 1);
    CHECK(b);
    struct pprof_line x = {"lost_event", NULL, NULL, 0}, y = {"other", NULL, NULL, 0};
    uint64_t lx = pprof_builder_add_location(b, 0, 0, &x, 1);
    uint64_t ly = pprof_builder_add_location(b, 0, 0, &y, 1);
    CHECK(lx == 1 && ly == 2 && pprof_builder_add_location(b, 0, 0, &x, 1) == lx);
    int64_t v = 5;
    CHECK(pprof_builder_add_sample(b, &lx, 1, &v, NULL, 0) == 0);
    struct mem_sink o1 = {0}, o2 = {0}, o3 = {0};
    CHECK(pprof_builder_write(b, mem_sink_write, &o1) == 0);
    CHECK(pprof_builder_write(b, mem_sink_write, &o2) == 0);
    CHECK(o1.len == o2.len && memcmp(o1.data, o2.data, o1.len) == 0);
    CHECK(pprof_builder_write(b, fail_write, NULL) == LTPROF_ERR_IO);
    CHECK(pprof_builder_add_sample(b, &ly, 1, &v, NULL, 0) == 0);
    CHECK(pprof_builder_add_sample(b, &lx, 1, &v, NULL, 0) == 0);
    CHECK(pprof_builder_write(b, mem_sink_write, &o3) == 0);
    profile_t *p = decode_gzip(o3.data, o3.len);
    check_well_formed(p);
    CHECK(p->n_location == 2 && p->n_sample == 2 && p->sample[0]->value[0] == 10);
    CHECK(strcmp(str_at(p, p->function[p->location[1]->line[0]->function_id - 1]->name),
                 "other") == 0);
    perftools__profiles__profile__free_unpacked(p, NULL);
    pprof_builder_destroy(b);
    free(o1.data), free(o2.data), free(o3.data);
    return 0;
}

/* Runs `cmd`, returns its exit status and its output (stdout + stderr) in out. */
static int run_capture(const char *cmd, char *out, size_t size) {
    FILE *f = popen(cmd, "r");
    CHECK(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Final samples: the profile of build_cpu_profile with its aggregated samples added at once,
 * kept (written twice) or streamed (started before and after the first one). */
static struct pprof_builder *build_final_profile(int stream_at, struct mem_sink *out) {
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("cpu"), PERIOD);
    CHECK(b);
    pprof_builder_set_time(b, T0, DUR);
    CHECK(pprof_builder_add_comment(b, "hello comment") == 0);
    uint64_t m1 = pprof_builder_add_mapping(b, 0x400000, 0x500000, 0, "/usr/bin/app", "abc123",
                                            PPROF_HAS_FUNCTIONS);
    struct pprof_line leaf = {"leaf", NULL, "app.c", 10}, main_line = {"main", NULL, "app.c", 30};
    uint64_t a = pprof_builder_add_location(b, m1, 0x401000, &leaf, 1);
    uint64_t m = pprof_builder_add_location(b, m1, 0x402000, &main_line, 1);
    uint64_t stack[] = {a, m};
    int64_t three[] = {3, 3 * PERIOD}, one[] = {1, PERIOD};
    struct pprof_label l1[] = {{"thread", "worker", 0, NULL}, {"tid", NULL, 42, NULL}};
    struct pprof_label l2[] = {{"bytes", NULL, 4096, "bytes"}};
    if (stream_at == 0)
        CHECK(pprof_builder_stream(b, mem_sink_write, out) == 0);
    CHECK(pprof_builder_add_final_sample(b, stack, 2, three, l1, 2) == 0);
    if (stream_at == 1)
        CHECK(pprof_builder_stream(b, mem_sink_write, out) == 0);
    CHECK(pprof_builder_add_final_sample(b, stack, 2, one, l2, 1) == 0);
    CHECK(pprof_builder_add_final_sample(b, stack, 1, one, NULL, 0) == 0);
    CHECK(pprof_builder_add_final_sample(b, stack, 1, one, NULL, 0) == 0); /* not merged */
    CHECK(pprof_builder_add_sample(b, stack, 1, one, NULL, 0) == 0);        /* table sample */
    /* Bad arguments are refused as for pprof_builder_add_sample. */
    uint64_t bad[] = {a, 99};
    CHECK(pprof_builder_add_final_sample(b, bad, 2, one, NULL, 0) == LTPROF_ERR_INVALID);
    CHECK(pprof_builder_add_final_sample(b, stack, 2, NULL, NULL, 0) == LTPROF_ERR_INVALID);
    return b;
}

static void check_final_profile(const uint8_t *data, size_t len) {
    profile_t *p = decode_gzip(data, len);
    check_well_formed(p);
    CHECK(p->n_sample == 5 && p->n_location == 2 && p->n_function == 2);
    CHECK(p->period == PERIOD && p->time_nanos == T0 && p->duration_nanos == DUR);
    CHECK(p->n_comment == 1 && strcmp(str_at(p, p->comment[0]), "hello comment") == 0);
    const Perftools__Profiles__Sample *s = p->sample[0];
    CHECK(s->n_location_id == 2 && s->location_id[0] == 1 && s->location_id[1] == 2);
    CHECK(s->n_value == 2 && s->value[0] == 3 && s->value[1] == 3 * PERIOD);
    CHECK(s->n_label == 2);
    CHECK(strcmp(str_at(p, find_label(p, s, "thread")->str), "worker") == 0);
    CHECK(find_label(p, s, "tid")->num == 42 && find_label(p, s, "tid")->str == 0);
    s = p->sample[1];
    CHECK(s->n_label == 1 && find_label(p, s, "bytes")->num == 4096);
    CHECK(strcmp(str_at(p, find_label(p, s, "bytes")->num_unit), "bytes") == 0);
    for (size_t i = 2; i < 5; i++) {
        s = p->sample[i];
        CHECK(s->n_location_id == 1 && s->location_id[0] == 1 && s->n_label == 0);
        CHECK(s->n_value == 2 && s->value[0] == 1 && s->value[1] == PERIOD);
    }
    perftools__profiles__profile__free_unpacked(p, NULL);
}

static int case_final_samples(void) {
    /* Kept: two writes give the same bytes. */
    struct mem_sink out1 = {0}, out2 = {0};
    struct pprof_builder *b = build_final_profile(-1, NULL);
    CHECK(pprof_builder_write(b, mem_sink_write, &out1) == 0);
    CHECK(pprof_builder_write(b, mem_sink_write, &out2) == 0);
    CHECK(out1.len == out2.len && memcmp(out1.data, out2.data, out1.len) == 0);
    check_final_profile(out1.data, out1.len);
    pprof_builder_destroy(b);
    free(out1.data);
    free(out2.data);
    /* Streamed, from the start and after a first sample. */
    for (int at = 0; at <= 1; at++) {
        struct mem_sink out = {0}, other = {0};
        b = build_final_profile(at, &out);
        CHECK(pprof_builder_stream(b, mem_sink_write, &out) == LTPROF_ERR_INVALID);
        CHECK(pprof_builder_write(b, mem_sink_write, &other) == LTPROF_ERR_INVALID);
        CHECK(other.len == 0);
        CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
        check_final_profile(out.data, out.len);
        size_t len = out.len;
        CHECK(pprof_builder_write(b, mem_sink_write, &out) == LTPROF_ERR_INVALID);
        int64_t one[] = {1, PERIOD};
        uint64_t loc = 1;
        CHECK(pprof_builder_add_final_sample(b, &loc, 1, one, NULL, 0) == LTPROF_ERR_INVALID);
        CHECK(out.len == len);
        pprof_builder_destroy(b);
        free(out.data);
        free(other.data);
    }
    /* As many labels as the converter gives a CPU sample (thread, tid, pid and a thread's 16
     * labels), and the limit. */
    struct mem_sink out = {0};
    b = pprof_builder_create(pprof_kind_lookup("cpu"), PERIOD);
    CHECK(b);
    struct pprof_label many[PPROF_MAX_FINAL_LABELS + 1];
    char keys[PPROF_MAX_FINAL_LABELS + 1][8];
    for (int i = 0; i <= PPROF_MAX_FINAL_LABELS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        many[i] = (struct pprof_label){.key = keys[i], .num = i};
    }
    int64_t one[] = {1, PERIOD};
    CHECK(pprof_builder_add_final_sample(b, NULL, 0, one, many, 19) == 0);
    CHECK(pprof_builder_add_final_sample(b, NULL, 0, one, many, PPROF_MAX_FINAL_LABELS) == 0);
    CHECK(pprof_builder_add_final_sample(b, NULL, 0, one, many, PPROF_MAX_FINAL_LABELS + 1) ==
          LTPROF_ERR_INVALID);
    CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
    profile_t *p = decode_gzip(out.data, out.len);
    check_well_formed(p);
    CHECK(p->n_sample == 2 && p->sample[0]->n_label == 19 &&
          p->sample[1]->n_label == PPROF_MAX_FINAL_LABELS);
    CHECK(find_label(p, p->sample[0], "k18")->num == 18);
    perftools__profiles__profile__free_unpacked(p, NULL);
    pprof_builder_destroy(b);
    free(out.data);
    return 0;
}

static int case_go_tool_pprof(const char *tmpdir) {
    if (system("go version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "go not found: skipped\n");
        return 77;
    }
    char path[512], cmd[1024];
    static char out[1 << 16];
    snprintf(path, sizeof(path), "%s/go_tool_pprof_%d.pb.gz", tmpdir, (int)getpid());
    struct pprof_builder *b = build_cpu_profile();
    CHECK(pprof_builder_write_file(b, path) == 0);
    pprof_builder_destroy(b);
    snprintf(cmd, sizeof(cmd), "go tool pprof -raw '%s' 2>&1", path);
    int st = run_capture(cmd, out, sizeof(out));
    printf("%s\n", out);
    CHECK(st == 0);
    CHECK(strstr(out, "PeriodType: cpu nanoseconds"));
    CHECK(strstr(out, "Period: 10000000"));
    CHECK(strstr(out, "Comment: hello comment"));
    CHECK(strstr(out, "samples/count cpu/nanoseconds"));
    CHECK(strstr(out, "3   30000000: 1 2"));
    CHECK(strstr(out, "inlined_leaf app.c:10"));
    CHECK(strstr(out, "outer_fn app.c:20"));
    CHECK(strstr(out, "main app.c:30"));
    CHECK(strstr(out, "thread:[worker]"));
    CHECK(strstr(out, "/usr/bin/app abc123 [FN][FL][LN][IN]"));
    snprintf(cmd, sizeof(cmd), "go tool pprof -top '%s' 2>&1", path);
    st = run_capture(cmd, out, sizeof(out));
    printf("%s\n", out);
    CHECK(st == 0);
    CHECK(strstr(out, "File: app") && strstr(out, "Type: cpu"));
    CHECK(strstr(out, "inlined_leaf (inline)") && strstr(out, "main"));
    CHECK(strstr(out, "Duration: 2.50s, Total samples = 70ms ( 2.80%)"));
    /* A streamed profile of final samples reads the same way. */
    FILE *f = fopen(path, "w");
    CHECK(f);
    struct mem_sink streamed = {0};
    b = build_final_profile(0, &streamed);
    CHECK(pprof_builder_write(b, mem_sink_write, &streamed) == 0);
    pprof_builder_destroy(b);
    CHECK(fwrite(streamed.data, 1, streamed.len, f) == streamed.len && fclose(f) == 0);
    free(streamed.data);
    snprintf(cmd, sizeof(cmd), "go tool pprof -raw '%s' 2>&1", path);
    st = run_capture(cmd, out, sizeof(out));
    printf("%s\n", out);
    CHECK(st == 0);
    CHECK(strstr(out, "3   30000000: 1 2"));
    CHECK(strstr(out, "thread:[worker]") && strstr(out, "bytes:[4096 bytes]"));
    CHECK(strstr(out, "3   30000000: 1 \n")); /* pprof merges the equal final samples */
    unlink(path);
    return 0;
}

/* 1M samples over 10k distinct stacks drawn from 100k locations; prints time and size. */
static int case_large(void) {
    enum { N_LOC = 100000, N_STACKS = 10000, N_SAMPLES = 1000000, DEPTH = 16, N_FN = 20000 };
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("cpu"), PERIOD);
    CHECK(b);
    CHECK(pprof_builder_add_mapping(b, 0x400000, 0x400000 + 16 * N_LOC, 0, "/bin/big", NULL,
                                    PPROF_HAS_FUNCTIONS) == 1);
    char name[64], file[64];
    for (uint64_t i = 0; i < N_LOC; i++) {
        snprintf(name, sizeof(name), "ns::function_%llu", (unsigned long long)(i % N_FN));
        snprintf(file, sizeof(file), "src/file_%llu.cc", (unsigned long long)(i % 500));
        struct pprof_line line = {name, NULL, file, (int64_t)(i % 1000) + 1};
        CHECK(pprof_builder_add_location(b, 1, 0x400000 + 16 * i, &line, 1) == i + 1);
    }
    static uint64_t stacks[N_STACKS][DEPTH];
    uint64_t seed = 42;
    for (size_t s = 0; s < N_STACKS; s++) {
        for (size_t d = 0; d < DEPTH; d++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            stacks[s][d] = (seed >> 33) % N_LOC + 1;
        }
    }
    int64_t v[2] = {1, PERIOD};
    for (size_t i = 0; i < N_SAMPLES; i++)
        CHECK(pprof_builder_add_sample(b, stacks[(i * 7919) % N_STACKS], DEPTH, v, NULL, 0) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct mem_sink out = {0};
    CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    pprof_builder_destroy(b);
    double build_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double write_s = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
    printf("large: %d samples, %d stacks, %d locations: build %.3f s, write %.3f s, %zu bytes\n",
           N_SAMPLES, N_STACKS, N_LOC, build_s, write_s, out.len);
    profile_t *p = decode_gzip(out.data, out.len);
    check_well_formed(p);
    CHECK(p->n_sample == N_STACKS && p->n_location == N_LOC && p->n_function == N_FN);
    int64_t total = 0;
    for (size_t i = 0; i < p->n_sample; i++)
        total += p->sample[i]->value[0];
    CHECK(total == N_SAMPLES);
    perftools__profiles__profile__free_unpacked(p, NULL);
    free(out.data);
    return 0;
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    const char *tmpdir = argc > 2 ? argv[2] : "/tmp";
    if (strcmp(c, "round_trip") == 0)
        return case_round_trip();
    if (strcmp(c, "kinds") == 0)
        return case_kinds();
    if (strcmp(c, "rejects_invalid") == 0)
        return case_rejects_invalid();
    if (strcmp(c, "address0_and_rewrite") == 0)
        return case_address0_and_rewrite();
    if (strcmp(c, "go_tool_pprof") == 0)
        return case_go_tool_pprof(tmpdir);
    if (strcmp(c, "final_samples") == 0)
        return case_final_samples();
    if (strcmp(c, "large") == 0)
        return case_large();
    fprintf(stderr, "unknown case \"%s\"\n", c);
    return 2;
}
