/* SPDX-License-Identifier: MIT */
/*
 * Tests of proto/pprof_delta.c, the delta profiles of `heap?seconds=N`: what grew shows its
 * growth, what did not change is dropped, what shrank goes negative (Go subtracts every
 * column), samples that exist only in the earlier profile come out negated with their own
 * stack, labels keep samples apart, time and duration come from the two snapshots; inputs that
 * do not parse or differ from the kind are refused with a message.
 * Usage: test_pprof_delta <case>.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprof_delta.h"
#include "test_util.h"

typedef Perftools__Profiles__Profile profile_t;

/* A heap profile at time `t` with these values at the sites "grows", "same", "shrinks" and
 * "gone" (a site with all zero values is left out), "grows" twice under two labels. */
static struct mem_sink heap_at(int64_t t, int64_t grows, int64_t same, int64_t shrinks,
                               int64_t gone)
{
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("heap"), 1);
    CHECK(b);
    pprof_builder_set_time(b, t, 0);
    CHECK(pprof_builder_add_mapping(b, 0x1000, 0x9000, 0, "/bin/app", NULL,
                                    PPROF_HAS_FUNCTIONS) == 1);
    const char *names[4] = {"grows", "same", "shrinks", "gone"};
    int64_t values[4] = {grows, same, shrinks, gone};
    for (int i = 0; i < 4; i++) {
        if (!values[i])
            continue;
        struct pprof_line line = {names[i], NULL, "app.c", 10 + i};
        uint64_t loc = pprof_builder_add_location(b, 1, 0x1100 + 0x100 * (uint64_t)i, &line, 1);
        CHECK(loc);
        int64_t v[4] = {values[i], values[i] * 64, values[i], values[i] * 64};
        struct pprof_label label = {.key = "worker", .str = "a"};
        CHECK(pprof_builder_add_sample(b, &loc, 1, v, &label, 1) == 0);
        if (i == 0) { /* the same stack under another label: a sample of its own */
            label.str = "b";
            CHECK(pprof_builder_add_sample(b, &loc, 1, v, &label, 1) == 0);
        }
    }
    struct mem_sink out = {0};
    CHECK(pprof_builder_write(b, mem_sink_write, &out) == 0);
    pprof_builder_destroy(b);
    return out;
}

/* The first column of the sample whose leaf function is `name` and label worker=`worker`;
 * *found tells whether there is one. */
static int64_t value_of(const profile_t *p, const char *name, const char *worker, int *found)
{
    *found = 0;
    for (size_t i = 0; i < p->n_sample; i++) {
        const Perftools__Profiles__Sample *s = p->sample[i];
        const Perftools__Profiles__Location *loc = NULL;
        for (size_t k = 0; k < p->n_location; k++)
            if (p->location[k]->id == s->location_id[0])
                loc = p->location[k];
        CHECK(loc && loc->n_line == 1);
        const Perftools__Profiles__Function *f = NULL;
        for (size_t k = 0; k < p->n_function; k++)
            if (p->function[k]->id == loc->line[0]->function_id)
                f = p->function[k];
        CHECK(f);
        CHECK(s->n_label == 1);
        if (strcmp(pprof_profile_string(p, f->name), name) == 0 &&
            strcmp(pprof_profile_string(p, s->label[0]->str), worker) == 0) {
            CHECK(!*found); /* merged: one sample per stack and labels */
            *found = 1;
            return s->value[0];
        }
    }
    return 0;
}

static int case_subtracts(void)
{
    struct mem_sink p0 = heap_at(1000000000, 3, 5, 4, 2), p1 = heap_at(3500000000, 10, 5, 1, 0);
    struct mem_sink out = {0};
    struct ltprof_error err = {{0}};
    CHECK(pprof_delta_write(pprof_kind_lookup("heap"), p0.data, p0.len, p1.data, p1.len,
                            PPROF_DELTA_ALL, mem_sink_write, &out, &err) == 0);
    profile_t *d = NULL;
    CHECK(pprof_read_buffer(out.data, out.len, &d, &err) == 0);
    int found;
    CHECK(value_of(d, "grows", "a", &found) == 7 && found);
    CHECK(value_of(d, "grows", "b", &found) == 7 && found);
    value_of(d, "same", "a", &found);
    CHECK(!found); /* cancelled, dropped */
    CHECK(value_of(d, "shrinks", "a", &found) == -3 && found);
    CHECK(value_of(d, "gone", "a", &found) == -2 && found);
    CHECK(d->n_sample == 4);
    CHECK(d->time_nanos == 3500000000 && d->duration_nanos == 2500000000);
    CHECK(strcmp(pprof_profile_string(d, d->sample_type[3]->type), "inuse_space") == 0);
    for (size_t i = 0; i < d->n_sample; i++)
        CHECK(d->sample[i]->value[1] == d->sample[i]->value[0] * 64);
    CHECK(d->n_mapping == 1); /* the same mapping in both inputs is one */
    pprof_profile_free(d);
    free(out.data), free(p0.data), free(p1.data);
    return 0;
}

/* godeltaprof's delta_heap: the allocated columns subtracted, the in-use ones as they are. */
static int case_some_columns(void)
{
    struct mem_sink p0 = heap_at(1000000000, 3, 5, 4, 2), p1 = heap_at(2000000000, 10, 5, 1, 0);
    struct mem_sink out = {0};
    struct ltprof_error err = {{0}};
    CHECK(pprof_delta_write(pprof_kind_lookup("heap"), p0.data, p0.len, p1.data, p1.len, 3,
                            mem_sink_write, &out, &err) == 0);
    profile_t *d = NULL;
    CHECK(pprof_read_buffer(out.data, out.len, &d, &err) == 0);
    for (size_t i = 0; i < d->n_sample; i++) {
        const Perftools__Profiles__Sample *s = d->sample[i];
        int64_t alloc = s->value[0], inuse = s->value[2];
        if (alloc == 7) /* grows: allocated 10 - 3, in use 10 */
            CHECK(inuse == 10);
        else if (alloc == 0) /* same: nothing allocated, 5 in use */
            CHECK(inuse == 5);
        else if (alloc == -3) /* shrinks */
            CHECK(inuse == 1);
        else
            CHECK(alloc == -2 && inuse == 0); /* gone */
    }
    int found;
    CHECK(value_of(d, "same", "a", &found) == 0 && found); /* in use still: kept */
    pprof_profile_free(d);
    free(out.data), free(p0.data), free(p1.data);
    return 0;
}

static int case_rejects(void)
{
    struct mem_sink good = heap_at(1, 1, 1, 1, 1), out = {0};
    struct ltprof_error err = {{0}};
    static const unsigned char junk[] = "not a profile at all";
    CHECK(pprof_delta_write(pprof_kind_lookup("heap"), junk, sizeof(junk), good.data, good.len,
                            PPROF_DELTA_ALL, mem_sink_write, &out, &err) == LTPROF_ERR_INVALID);
    fprintf(stderr, "  junk: %s\n", err.message);
    CHECK(err.message[0]);
    CHECK(pprof_delta_write(pprof_kind_lookup("mutex"), good.data, good.len, good.data,
                            good.len, PPROF_DELTA_ALL, mem_sink_write, &out,
                            &err) == LTPROF_ERR_INVALID);
    fprintf(stderr, "  other kind: %s\n", err.message);
    CHECK(strstr(err.message, "sample types"));
    CHECK(out.len == 0);
    free(good.data);
    return 0;
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "subtracts") == 0)
        return case_subtracts();
    if (strcmp(c, "rejects") == 0)
        return case_rejects();
    if (strcmp(c, "some_columns") == 0)
        return case_some_columns();
    fprintf(stderr, "unknown case \"%s\"\n", c);
    return 2;
}
