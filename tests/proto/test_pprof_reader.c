/* SPDX-License-Identifier: MIT */
/*
 * Tests of proto/pprof_reader.c: good profiles (gzipped and raw) load, and bad input (random
 * bytes, truncated gzip, empty file, dangling references, bad string indices) is rejected with
 * a clear message instead of a crash. Usage: test_pprof_reader <case> <tmpdir>.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprof_builder.h"
#include "pprof_reader.h"
#include "test_util.h"

typedef Perftools__Profiles__Profile profile_t;

static struct mem_sink good_profile(void) {
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("heap"), 524288);
    CHECK(b);
    CHECK(pprof_builder_add_mapping(b, 0x1000, 0x2000, 0, "/bin/x", NULL, 0) == 1);
    struct pprof_line line = {"alloc_here", NULL, "x.c", 3};
    uint64_t loc = pprof_builder_add_location(b, 1, 0x1100, &line, 1);
    int64_t v[4] = {1, 64, 1, 64};
    CHECK(pprof_builder_add_sample(b, &loc, 1, v, NULL, 0) == 0);
    struct mem_sink out = {0};
    CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
    pprof_builder_destroy(b);
    return out;
}

/* Expects rejection with a message containing `want`. */
static void expect_bad(const void *data, size_t len, const char *want) {
    struct ltprof_error err;
    profile_t *p = (profile_t *)&err; /* must be reset to NULL */
    int rc = pprof_read_buffer(data, len, &p, &err);
    fprintf(stderr, "  rejected: %s\n", err.message);
    CHECK(rc == LTPROF_ERR_INVALID && p == NULL);
    CHECK(strstr(err.message, want) != NULL);
}

/* Packs a hand-made profile raw (no gzip). */
static void expect_bad_profile(const profile_t *p, const char *want) {
    size_t len = perftools__profiles__profile__get_packed_size(p);
    uint8_t *buf = malloc(len + 1);
    CHECK(buf);
    perftools__profiles__profile__pack(p, buf);
    expect_bad(buf, len, want);
    free(buf);
}

static void crafted_profiles(void) {
    char *strings[] = {"", "cpu", "nanoseconds", "f"};
    Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT, *vtp = &vt;
    Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT, *fnp = &fn;
    Perftools__Profiles__Line line = PERFTOOLS__PROFILES__LINE__INIT, *linep = &line;
    Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT, *locp = &loc;
    Perftools__Profiles__Sample s = PERFTOOLS__PROFILES__SAMPLE__INIT, *sp = &s;
    Perftools__Profiles__Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
    uint64_t ids[] = {1};
    int64_t values[] = {7};
    vt.type = 1, vt.unit = 2, fn.id = 1, fn.name = 3, line.function_id = 1;
    loc.id = 1, loc.n_line = 1, loc.line = &linep;
    s.n_location_id = 1, s.location_id = ids, s.n_value = 1, s.value = values;
    p.n_sample_type = 1, p.sample_type = &vtp, p.n_sample = 1, p.sample = &sp;
    p.n_location = 1, p.location = &locp, p.n_function = 1, p.function = &fnp;
    p.n_string_table = 4, p.string_table = strings;

    size_t len = perftools__profiles__profile__get_packed_size(&p);
    uint8_t *buf = malloc(len);
    CHECK(buf);
    perftools__profiles__profile__pack(&p, buf);
    profile_t *out = NULL;
    struct ltprof_error err;
    CHECK(pprof_read_buffer(buf, len, &out, &err) == 0 && out->sample[0]->value[0] == 7);
    pprof_profile_free(out);
    free(buf);

    fn.name = 9;
    expect_bad_profile(&p, "string index out of range");
    fn.name = 3, ids[0] = 5;
    expect_bad_profile(&p, "missing location 5");
    ids[0] = 1, line.function_id = 2;
    expect_bad_profile(&p, "line with no function");
    line.function_id = 1, s.n_value = 0;
    expect_bad_profile(&p, "sample has 0 values vs. 1 types");
    s.n_value = 1, strings[0] = "x";
    expect_bad_profile(&p, "string table must start with \"\"");
    strings[0] = "", fn.id = 0;
    expect_bad_profile(&p, "function with reserved id 0");
}

static int case_rejects_bad_input(const char *tmpdir) {
    struct ltprof_error err;
    profile_t *p = NULL;
    expect_bad("", 0, "empty input file");
    uint8_t junk[4096];
    srand(1);
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (uint8_t)rand();
        size_t len = 1 + (size_t)rand() % sizeof(junk);
        CHECK(pprof_read_buffer(junk, len, &p, &err) == LTPROF_ERR_INVALID && p == NULL);
        junk[0] = 0x1f, junk[1] = 0x8b; /* random bytes behind a gzip magic */
        CHECK(pprof_read_buffer(junk, len, &p, &err) == LTPROF_ERR_INVALID && p == NULL);
    }
    struct mem_sink good = good_profile();
    expect_bad(good.data, good.len / 2, "truncated gzip data");
    expect_bad(good.data, 10, "truncated gzip data");
    good.data[good.len / 2] ^= 0xff; /* corrupt the deflate stream or its CRC */
    expect_bad(good.data, good.len, "gzip");
    free(good.data);
    crafted_profiles();

    char path[512];
    snprintf(path, sizeof(path), "%s/reader_empty_%d.pb.gz", tmpdir, (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f && fclose(f) == 0);
    CHECK(pprof_read_file(path, &p, &err) == LTPROF_ERR_INVALID && p == NULL);
    CHECK(strstr(err.message, "empty input file"));
    unlink(path);
    CHECK(pprof_read_file(path, &p, &err) == LTPROF_ERR_IO && p == NULL);
    CHECK(strstr(err.message, "No such file"));
    return 0;
}

static int case_reads_gzip_and_raw(const char *tmpdir) {
    struct mem_sink good = good_profile();
    char path[512];
    snprintf(path, sizeof(path), "%s/reader_good_%d.pb.gz", tmpdir, (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(good.data, 1, good.len, f) == good.len && fclose(f) == 0);
    profile_t *p = NULL;
    struct ltprof_error err;
    CHECK(pprof_read_file(path, &p, &err) == 0);
    unlink(path);
    CHECK(p->n_sample == 1 && p->sample[0]->value[3] == 64 && p->period == 524288);
    CHECK(strcmp(pprof_profile_string(p, p->sample_type[3]->type), "inuse_space") == 0);
    CHECK(strcmp(pprof_profile_string(p, 99999), "") == 0);
    /* The same profile re-packed without gzip. */
    size_t len = perftools__profiles__profile__get_packed_size(p);
    uint8_t *raw = malloc(len);
    CHECK(raw);
    perftools__profiles__profile__pack(p, raw);
    profile_t *q = NULL;
    CHECK(pprof_read_buffer(raw, len, &q, &err) == 0);
    CHECK(q->n_location == 1 && q->location[0]->address == 0x1100);
    pprof_profile_free(q);
    pprof_profile_free(p);
    pprof_profile_free(NULL);
    free(raw);
    free(good.data);
    return 0;
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    const char *tmpdir = argc > 2 ? argv[2] : "/tmp";
    if (strcmp(c, "rejects_bad_input") == 0)
        return case_rejects_bad_input(tmpdir);
    if (strcmp(c, "reads_gzip_and_raw") == 0)
        return case_reads_gzip_and_raw(tmpdir);
    fprintf(stderr, "unknown case \"%s\"\n", c);
    return 2;
}
