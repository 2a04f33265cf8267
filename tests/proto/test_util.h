/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the tests in tests/proto/: an assert macro, a memory sink for
 * pprof_builder_write, and an independent decoder (zlib + protobuf-c, not pprof_reader.c) so a
 * reader bug cannot hide a builder bug. Header-only: each test includes it once.
 */
#ifndef LTPROF_TESTS_PROTO_TEST_UTIL_H
#define LTPROF_TESTS_PROTO_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "profile.pb-c.h"

#include "check.h"

/* A growable byte buffer used as a pprof_write_fn sink. */
struct mem_sink {
    unsigned char *data;
    size_t len, cap;
};

static inline int mem_sink_write(void *ctx, const void *data, size_t len) {
    struct mem_sink *s = ctx;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len)
            cap *= 2;
        unsigned char *p = realloc(s->data, cap);
        if (!p)
            return -1;
        s->data = p, s->cap = cap;
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return 0;
}

/* Gunzips and unpacks; aborts the test on any failure. Free with ..._free_unpacked(p, NULL). */
static inline Perftools__Profiles__Profile *decode_gzip(const unsigned char *data, size_t len) {
    CHECK(len > 10 && data[0] == 0x1f && data[1] == 0x8b);
    size_t cap = len * 8 + 1024, used = 0;
    unsigned char *out = malloc(cap);
    CHECK(out);
    z_stream zs = {0};
    CHECK(inflateInit2(&zs, 16 + 15) == Z_OK);
    zs.next_in = (unsigned char *)data, zs.avail_in = (uInt)len;
    int zrc;
    do {
        if (used == cap) {
            out = realloc(out, cap *= 2);
            CHECK(out);
        }
        zs.next_out = out + used, zs.avail_out = (uInt)(cap - used);
        zrc = inflate(&zs, Z_NO_FLUSH);
        used = cap - zs.avail_out;
        CHECK(zrc == Z_OK || zrc == Z_STREAM_END);
    } while (zrc != Z_STREAM_END);
    CHECK(zs.avail_in == 0);
    inflateEnd(&zs);
    Perftools__Profiles__Profile *p = perftools__profiles__profile__unpack(NULL, used, out);
    free(out);
    CHECK(p != NULL);
    return p;
}

static inline const char *str_at(const Perftools__Profiles__Profile *p, int64_t idx) {
    CHECK(idx >= 0 && (size_t)idx < p->n_string_table);
    return p->string_table[idx];
}

/* Checks the structural rules of reference section 1.2: "" first, no duplicate strings, ids
 * 1..N in order, every reference and string index resolving. */
static inline void check_well_formed(const Perftools__Profiles__Profile *p) {
    CHECK(p->n_string_table >= 1 && strcmp(p->string_table[0], "") == 0);
    for (size_t i = 1; i < p->n_string_table; i++) {
        CHECK(p->string_table[i][0] != '\0');
        for (size_t j = 1; j < i && p->n_string_table < 2000; j++)
            CHECK(strcmp(p->string_table[i], p->string_table[j]) != 0);
    }
    for (size_t i = 0; i < p->n_mapping; i++) {
        CHECK(p->mapping[i]->id == i + 1);
        str_at(p, p->mapping[i]->filename), str_at(p, p->mapping[i]->build_id);
    }
    for (size_t i = 0; i < p->n_function; i++) {
        CHECK(p->function[i]->id == i + 1);
        str_at(p, p->function[i]->name), str_at(p, p->function[i]->system_name);
        str_at(p, p->function[i]->filename);
    }
    for (size_t i = 0; i < p->n_location; i++) {
        const Perftools__Profiles__Location *l = p->location[i];
        CHECK(l->id == i + 1);
        CHECK(l->mapping_id <= p->n_mapping);
        for (size_t j = 0; j < l->n_line; j++)
            CHECK(l->line[j]->function_id >= 1 && l->line[j]->function_id <= p->n_function);
    }
    for (size_t i = 0; i < p->n_sample; i++) {
        const Perftools__Profiles__Sample *s = p->sample[i];
        CHECK(s->n_value == p->n_sample_type);
        for (size_t j = 0; j < s->n_location_id; j++)
            CHECK(s->location_id[j] >= 1 && s->location_id[j] <= p->n_location);
        for (size_t j = 0; j < s->n_label; j++) {
            str_at(p, s->label[j]->key), str_at(p, s->label[j]->str);
            str_at(p, s->label[j]->num_unit);
        }
    }
    for (size_t i = 0; i < p->n_sample_type; i++)
        str_at(p, p->sample_type[i]->type), str_at(p, p->sample_type[i]->unit);
    CHECK(p->period_type != NULL);
    str_at(p, p->period_type->type), str_at(p, p->period_type->unit);
    str_at(p, p->default_sample_type);
    for (size_t i = 0; i < p->n_comment; i++)
        str_at(p, p->comment[i]);
}

#endif
