/* SPDX-License-Identifier: MIT */
/*
 * later - earlier for two snapshots of one profile (pprof_delta.h). Both are decoded, then fed
 * into one builder: the later one's samples as they are, the earlier one's negated. The builder
 * merges samples with identical stacks and labels, so what did not change cancels and is
 * dropped at writing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprof_delta.h"

typedef Perftools__Profiles__Profile profile_t;

/* An input's id and what it maps to (the builder's id, or an index); sorted by old id. */
struct id_pair {
    uint64_t old_id, new_id;
};

static int by_old_id(const void *a, const void *b)
{
    const struct id_pair *x = a, *y = b;
    return x->old_id < y->old_id ? -1 : x->old_id > y->old_id;
}

static uint64_t new_id(const struct id_pair *map, size_t n, uint64_t old_id)
{
    struct id_pair key = {.old_id = old_id};
    const struct id_pair *hit = bsearch(&key, map, n, sizeof(*map), by_old_id);
    return hit ? hit->new_id : 0;
}

static unsigned mapping_flags(const Perftools__Profiles__Mapping *m)
{
    return (m->has_functions ? PPROF_HAS_FUNCTIONS : 0) |
           (m->has_filenames ? PPROF_HAS_FILENAMES : 0) |
           (m->has_line_numbers ? PPROF_HAS_LINE_NUMBERS : 0) |
           (m->has_inline_frames ? PPROF_HAS_INLINE_FRAMES : 0);
}

/* The builder's mapping for m: one already added with the same range and file (the later
 * profile's mappings come first), else a new one. 0 when out of memory. */
static uint64_t add_mapping(struct pprof_builder *b, const profile_t *p,
                            const Perftools__Profiles__Mapping *m, const profile_t *first,
                            const struct id_pair *first_map)
{
    if (first) {
        for (size_t i = 0; i < first->n_mapping; i++) {
            const Perftools__Profiles__Mapping *o = first->mapping[i];
            if (o->memory_start == m->memory_start && o->memory_limit == m->memory_limit &&
                o->file_offset == m->file_offset &&
                strcmp(pprof_profile_string(first, o->filename),
                       pprof_profile_string(p, m->filename)) == 0)
                return new_id(first_map, first->n_mapping, o->id);
        }
    }
    const char *build_id = pprof_profile_string(p, m->build_id);
    return pprof_builder_add_mapping(b, m->memory_start, m->memory_limit, m->file_offset,
                                     pprof_profile_string(p, m->filename),
                                     build_id[0] ? build_id : NULL, mapping_flags(m));
}

/* Everything one input contributes; the maps stay for matching the next input's mappings. */
struct input {
    const profile_t *p;
    struct id_pair *mappings, *locations;
};

static int add_locations(struct pprof_builder *b, struct input *in, const struct input *first)
{
    const profile_t *p = in->p;
    in->mappings = calloc(p->n_mapping + 1, sizeof(*in->mappings));
    in->locations = calloc(p->n_location + 1, sizeof(*in->locations));
    struct id_pair *functions = calloc(p->n_function + 1, sizeof(*functions));
    if (!in->mappings || !in->locations || !functions) {
        free(functions);
        return LTPROF_ERR_NOMEM;
    }
    for (size_t i = 0; i < p->n_function; i++) /* function id -> its index */
        functions[i] = (struct id_pair){p->function[i]->id, i};
    qsort(functions, p->n_function, sizeof(*functions), by_old_id);
    for (size_t i = 0; i < p->n_mapping; i++) {
        uint64_t id = add_mapping(b, p, p->mapping[i], first ? first->p : NULL,
                                  first ? first->mappings : NULL);
        if (!id) {
            free(functions);
            return LTPROF_ERR_NOMEM;
        }
        in->mappings[i] = (struct id_pair){p->mapping[i]->id, id};
    }
    qsort(in->mappings, p->n_mapping, sizeof(*in->mappings), by_old_id);
    struct pprof_line *lines = NULL;
    size_t lines_cap = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->n_location; i++) {
        const Perftools__Profiles__Location *l = p->location[i];
        if (l->n_line > lines_cap) {
            free(lines);
            lines_cap = l->n_line;
            lines = calloc(lines_cap, sizeof(*lines));
            if (!lines) {
                free(functions);
                return LTPROF_ERR_NOMEM;
            }
        }
        for (size_t k = 0; k < l->n_line; k++) {
            struct id_pair key = {.old_id = l->line[k]->function_id};
            const struct id_pair *hit =
                bsearch(&key, functions, p->n_function, sizeof(*functions), by_old_id);
            const Perftools__Profiles__Function *f = hit ? p->function[hit->new_id] : NULL;
            lines[k] = (struct pprof_line){
                .function = f ? pprof_profile_string(p, f->name) : NULL,
                .system_name = f ? pprof_profile_string(p, f->system_name) : NULL,
                .file = f ? pprof_profile_string(p, f->filename) : NULL,
                .line = l->line[k]->line,
            };
        }
        uint64_t mapping = l->mapping_id ? new_id(in->mappings, p->n_mapping, l->mapping_id) : 0;
        uint64_t id = pprof_builder_add_location(b, mapping, l->address, lines, l->n_line);
        if (!id)
            rc = LTPROF_ERR_NOMEM;
        in->locations[i] = (struct id_pair){l->id, id};
    }
    free(lines);
    free(functions);
    qsort(in->locations, p->n_location, sizeof(*in->locations), by_old_id);
    return rc;
}

/* The input's samples, each value multiplied by sign; with sign -1, only the `columns`. */
static int add_samples(struct pprof_builder *b, const struct input *in, int64_t sign,
                       unsigned columns)
{
    const profile_t *p = in->p;
    uint64_t *stack = NULL;
    struct pprof_label *labels = NULL;
    size_t stack_cap = 0, labels_cap = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->n_sample; i++) {
        const Perftools__Profiles__Sample *s = p->sample[i];
        if (s->n_location_id > stack_cap || s->n_label > labels_cap) {
            free(stack), free(labels);
            stack_cap = s->n_location_id + 16, labels_cap = s->n_label + 4;
            stack = calloc(stack_cap, sizeof(*stack));
            labels = calloc(labels_cap, sizeof(*labels));
            if (!stack || !labels) {
                rc = LTPROF_ERR_NOMEM;
                break;
            }
        }
        for (size_t k = 0; k < s->n_location_id; k++)
            stack[k] = new_id(in->locations, p->n_location, s->location_id[k]);
        for (size_t k = 0; k < s->n_label; k++) {
            const Perftools__Profiles__Label *l = s->label[k];
            labels[k] = (struct pprof_label){
                .key = pprof_profile_string(p, l->key),
                .str = l->str ? pprof_profile_string(p, l->str) : NULL,
                .num = l->num,
                .num_unit = l->num_unit ? pprof_profile_string(p, l->num_unit) : NULL,
            };
        }
        int64_t values[PPROF_MAX_SAMPLE_TYPES];
        for (size_t k = 0; k < s->n_value && k < PPROF_MAX_SAMPLE_TYPES; k++)
            values[k] = sign > 0 || columns & (1u << k)
                            ? (int64_t)((uint64_t)s->value[k] * (uint64_t)sign) /* wraps like Go */
                            : 0;
        rc = pprof_builder_add_sample(b, stack, s->n_location_id, values, labels, s->n_label);
    }
    free(stack), free(labels);
    return rc;
}

static int same_types(const struct pprof_kind *kind, const profile_t *p)
{
    if (p->n_sample_type != kind->n_sample_types)
        return 0;
    for (size_t i = 0; i < p->n_sample_type; i++)
        if (strcmp(pprof_profile_string(p, p->sample_type[i]->type), kind->sample_types[i].type) != 0)
            return 0;
    return 1;
}

int pprof_delta_write(const struct pprof_kind *kind, const void *earlier, size_t earlier_len,
                      const void *later, size_t later_len, unsigned columns,
                      pprof_write_fn write, void *ctx, struct ltprof_error *err)
{
    profile_t *p0 = NULL, *p1 = NULL;
    struct pprof_builder *b = NULL;
    struct input in0 = {0}, in1 = {0};
    err->message[0] = '\0';
    int rc = pprof_read_buffer(earlier, earlier_len, &p0, err);
    if (rc == 0)
        rc = pprof_read_buffer(later, later_len, &p1, err);
    if (rc == 0 && (!kind || !same_types(kind, p0) || !same_types(kind, p1))) {
        rc = LTPROF_ERR_INVALID;
        snprintf(err->message, sizeof(err->message),
                 "cannot subtract profiles: their sample types differ from %s's",
                 kind ? kind->name : "the kind");
    }
    if (rc == 0) {
        b = pprof_builder_create(kind, p1->period);
        rc = b ? 0 : LTPROF_ERR_NOMEM;
    }
    if (rc == 0) {
        pprof_builder_set_time(b, p1->time_nanos, p1->time_nanos - p0->time_nanos);
        pprof_builder_drop_empty_samples(b);
        for (size_t i = 0; rc == 0 && i < p1->n_comment; i++)
            rc = pprof_builder_add_comment(b, pprof_profile_string(p1, p1->comment[i]));
        in1.p = p1, in0.p = p0;
        if (rc == 0)
            rc = add_locations(b, &in1, NULL);
        if (rc == 0)
            rc = add_locations(b, &in0, &in1);
        if (rc == 0)
            rc = add_samples(b, &in1, 1, columns);
        if (rc == 0)
            rc = add_samples(b, &in0, -1, columns);
        if (rc == 0)
            rc = pprof_builder_write(b, write, ctx);
        if (rc != 0 && !err->message[0])
            snprintf(err->message, sizeof(err->message), "cannot compute the delta: %s",
                     rc == LTPROF_ERR_NOMEM ? "out of memory" : "write failed");
    }
    free(in0.mappings), free(in0.locations), free(in1.mappings), free(in1.locations);
    pprof_builder_destroy(b);
    pprof_profile_free(p0);
    pprof_profile_free(p1);
    return rc;
}
