/* SPDX-License-Identifier: MIT */
/*
 * The shared pprof builder (face: pprof_builder.h): interning tables for strings, functions,
 * locations and samples, and the encoder that packs them with protobuf-c and gzips them with zlib.
 * Every allocation goes through pb_alloc/pb_realloc/pb_free, so the allocator can be swapped and
 * tests can fail the Nth allocation (PPROF_BUILDER_FAULT_INJECTION). A failed call leaves the
 * builder as it was, apart from harmless extra strings or functions. Not thread-safe.
 */
#include "pprof_builder.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include <ltprof/ltprof.h>

#include "profile.pb-c.h"

/* ---- allocator ------------------------------------------------------------------------------ */

#ifdef PPROF_BUILDER_FAULT_INJECTION
/* Test hook: when > 0, every allocation decrements it and the one that brings it to 0 fails.
 * pprof_fault_allocs counts allocation attempts. */
long pprof_fault_countdown;
long pprof_fault_allocs;

static bool pb_fault(void) {
    pprof_fault_allocs++;
    return pprof_fault_countdown > 0 && --pprof_fault_countdown == 0;
}
#else
static inline bool pb_fault(void) {
    return false;
}
#endif

static void *pb_alloc(size_t size) {
    return pb_fault() ? NULL : malloc(size);
}
static void *pb_realloc(void *p, size_t size) {
    return pb_fault() ? NULL : realloc(p, size);
}
static void pb_free(void *p) {
    free(p);
}

/* Makes room for `need` more elements in a growable array; the array is unchanged on failure. */
static int reserve(void **arr, size_t *cap, size_t len, size_t need, size_t elem) {
    if (len + need <= *cap)
        return LTPROF_OK;
    size_t new_cap = *cap ? *cap * 2 : 16;
    while (new_cap < len + need)
        new_cap *= 2;
    if (new_cap > SIZE_MAX / elem)
        return LTPROF_ERR_NOMEM;
    void *p = pb_realloc(*arr, new_cap * elem);
    if (!p)
        return LTPROF_ERR_NOMEM;
    *arr = p;
    *cap = new_cap;
    return LTPROF_OK;
}
/* Typed front end of reserve() for the builder's `x` / `x_cap` array pairs. */
#define RESERVE(arr, n, need)                                                                      \
    ({                                                                                             \
        void *p_ = (arr);                                                                          \
        int r_ = reserve(&p_, &(arr##_cap), (n), (need), sizeof(*(arr)));                          \
        (arr) = p_;                                                                                \
        r_;                                                                                        \
    })

/* memcmp that accepts empty (possibly NULL) ranges. */
static bool same_bytes(const void *x, const void *y, size_t len) {
    return len == 0 || memcmp(x, y, len) == 0;
}

/* ---- hashing -------------------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

static uint64_t hash_str(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Open-addressing index: each slot holds a 32-bit hash and entry index + 1 (0 = empty). The
 * entries themselves live in the builder's arrays; `eq` compares one of them with a key. */
struct slot {
    uint32_t hash;
    uint32_t idx1;
};

struct table {
    struct slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two or 0 */
    size_t count;
};

struct pprof_builder;
typedef bool (*eq_fn)(const struct pprof_builder *b, uint32_t idx, const void *key);

/* The slot holding a matching entry, or the empty slot where it would go. Capacity must be > 0. */
static struct slot *table_find(const struct table *t, uint32_t hash, eq_fn eq,
                               const struct pprof_builder *b, const void *key) {
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        struct slot *s = &t->slots[i];
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): callers grow the table first */
        if (!s->idx1 || (s->hash == hash && eq(b, s->idx1 - 1, key)))
            return s;
    }
}

/* Ensures one more entry fits under a 3/4 load factor. Unchanged on failure. */
static int table_reserve(struct table *t) {
    size_t cap = t->slots ? t->mask + 1 : 0;
    if ((t->count + 1) * 4 <= cap * 3)
        return LTPROF_OK;
    size_t new_cap = cap ? cap * 2 : 64;
    if (new_cap > SIZE_MAX / sizeof(struct slot) || new_cap > UINT32_MAX)
        return LTPROF_ERR_NOMEM;
    struct slot *slots = pb_alloc(new_cap * sizeof(*slots));
    if (!slots)
        return LTPROF_ERR_NOMEM;
    memset(slots, 0, new_cap * sizeof(*slots));
    for (size_t i = 0; i < cap; i++) {
        if (!t->slots[i].idx1)
            continue;
        size_t j = t->slots[i].hash & (new_cap - 1);
        while (slots[j].idx1)
            j = (j + 1) & (new_cap - 1);
        slots[j] = t->slots[i];
    }
    pb_free(t->slots);
    t->slots = slots;
    t->mask = new_cap - 1;
    return LTPROF_OK;
}

/* Finds `key`; on a miss, grows the table so that the returned empty slot can be filled. */
static int table_lookup(struct table *t, uint32_t hash, eq_fn eq, const struct pprof_builder *b,
                        const void *key, struct slot **out) {
    if (t->slots) {
        *out = table_find(t, hash, eq, b, key);
        if ((*out)->idx1)
            return LTPROF_OK;
    }
    int rc = table_reserve(t);
    if (rc == LTPROF_OK)
        *out = table_find(t, hash, eq, b, key);
    return rc;
}

static void table_fill(struct table *t, struct slot *s, uint32_t hash, size_t idx) {
    s->hash = hash;
    s->idx1 = (uint32_t)idx + 1;
    t->count++;
}

/* ---- builder state -------------------------------------------------------------------------- */

struct b_mapping {
    uint64_t start, limit, offset;
    int64_t filename, build_id;
    unsigned flags;
};

struct b_function {
    int64_t name, system_name, filename;
};

struct b_line {
    uint64_t function_id;
    int64_t line;
};

/* A location's lines are lines[line_off .. line_off + n_lines). */
struct b_location {
    uint64_t mapping_id, address;
    size_t line_off;
    uint32_t n_lines;
};

struct b_label {
    int64_t key, str, num, num_unit;
};

/* A sample's stack is stack_ids[stack_off ..], its labels labels[label_off ..]. */
struct b_sample {
    size_t stack_off, label_off;
    uint32_t n_stack, n_labels;
    int64_t values[PPROF_MAX_SAMPLE_TYPES];
};

/* Every array comes with its length (n_x) and capacity (x_cap). The tables index them. */
struct pprof_builder {
    const struct pprof_kind *kind;
    int64_t period, time_nanos, duration_nanos;
    struct b_label type_strs[PPROF_MAX_SAMPLE_TYPES]; /* key = type, str = unit */
    struct b_label period_strs;
    int64_t default_sample_type;

    char **strings; /* owned copies; strings[0] = "" */
    size_t n_strings, strings_cap;
    struct table string_table;
    int64_t *comments;
    size_t n_comments, comments_cap;
    struct b_mapping *mappings;
    size_t n_mappings, mappings_cap;
    struct b_function *functions;
    size_t n_functions, functions_cap;
    struct table function_table;
    struct b_location *locations;
    size_t n_locations, locations_cap;
    struct table location_table;
    struct b_line *lines;
    size_t n_lines, lines_cap;
    struct b_sample *samples;
    size_t n_samples, samples_cap;
    struct table sample_table;
    uint64_t *stack_ids;
    size_t n_stack_ids, stack_ids_cap;
    struct b_label *labels;
    size_t n_labels, labels_cap;
    /* Final samples (pprof_builder_add_final_sample), encoded as Profile.sample fields: kept
     * in `enc` until the profile is written, or compressed into `zs` at once when streaming. */
    uint8_t *enc;
    size_t n_enc, enc_cap;
    uint8_t *scratch;
    size_t n_scratch, scratch_cap;
    z_stream *zs;
    uint8_t *zout;
    pprof_write_fn stream_write;
    void *stream_ctx;
    bool stream_done;
    bool drop_empty; /* samples whose values are all 0 are not written */
};

/* ---- kinds (Go 1.19's, reference section 2.1) ----------------------------------------------- */

#define HEAP_TYPES                                                                                 \
    {                                                                                              \
        {"alloc_objects", "count"}, {"alloc_space", "bytes"}, {"inuse_objects", "count"}, {        \
            "inuse_space", "bytes"                                                                 \
        }                                                                                          \
    }
#define CONTENTION_TYPES                                                                           \
    {                                                                                              \
        {"contentions", "count"}, {                                                                \
            "delay", "nanoseconds"                                                                 \
        }                                                                                          \
    }

static const struct pprof_kind kinds[] = {
    {"cpu", {{"samples", "count"}, {"cpu", "nanoseconds"}}, 2, {"cpu", "nanoseconds"}, NULL},
    {"heap", HEAP_TYPES, 4, {"space", "bytes"}, NULL},
    {"allocs", HEAP_TYPES, 4, {"space", "bytes"}, "alloc_space"},
    {"mutex", CONTENTION_TYPES, 2, {"contentions", "count"}, NULL},
    {"block", CONTENTION_TYPES, 2, {"contentions", "count"}, NULL},
    {"threadcreate", {{"threadcreate", "count"}}, 1, {"threadcreate", "count"}, NULL},
    {"goroutine", {{"goroutine", "count"}}, 1, {"goroutine", "count"}, NULL},
};

const struct pprof_kind *pprof_kind_lookup(const char *name) {
    for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    }
    return NULL;
}

/* ---- interning ------------------------------------------------------------------------------ */

static bool string_eq(const struct pprof_builder *b, uint32_t idx, const void *key) {
    return strcmp(b->strings[idx], key) == 0;
}

/* Index of `s` in the string table, adding a copy if new. NULL and "" are index 0. */
static int intern(struct pprof_builder *b, const char *s, int64_t *out) {
    *out = 0;
    if (!s || !*s)
        return LTPROF_OK;
    uint32_t h = (uint32_t)hash_str(s);
    struct slot *slot;
    int rc = table_lookup(&b->string_table, h, string_eq, b, s, &slot);
    if (rc == LTPROF_OK && !slot->idx1)
        rc = RESERVE(b->strings, b->n_strings, 1);
    if (rc != LTPROF_OK)
        return rc;
    if (!slot->idx1) {
        size_t len = strlen(s) + 1;
        char *copy = pb_alloc(len);
        if (!copy)
            return LTPROF_ERR_NOMEM;
        memcpy(copy, s, len);
        b->strings[b->n_strings] = copy;
        table_fill(&b->string_table, slot, h, b->n_strings++);
    }
    *out = slot->idx1 - 1;
    return LTPROF_OK;
}

static bool function_eq(const struct pprof_builder *b, uint32_t idx, const void *key) {
    const struct b_function *f = &b->functions[idx], *k = key;
    return f->name == k->name && f->system_name == k->system_name && f->filename == k->filename;
}

/* Id of the function for `line`, created the first time. */
static int intern_function(struct pprof_builder *b, const struct pprof_line *line, uint64_t *out) {
    struct b_function f;
    const char *system_name = line->system_name ? line->system_name : line->function;
    int rc = intern(b, line->function, &f.name);
    if (rc == LTPROF_OK)
        rc = intern(b, system_name, &f.system_name);
    if (rc == LTPROF_OK)
        rc = intern(b, line->file, &f.filename);
    if (rc != LTPROF_OK)
        return rc;
    uint32_t h =
        (uint32_t)mix(mix(mix(0, (uint64_t)f.name), (uint64_t)f.system_name), (uint64_t)f.filename);
    struct slot *slot;
    rc = table_lookup(&b->function_table, h, function_eq, b, &f, &slot);
    if (rc == LTPROF_OK && !slot->idx1) {
        rc = RESERVE(b->functions, b->n_functions, 1);
        if (rc == LTPROF_OK) {
            b->functions[b->n_functions] = f;
            table_fill(&b->function_table, slot, h, b->n_functions++);
        }
    }
    if (rc == LTPROF_OK)
        *out = slot->idx1; /* id = index + 1 */
    return rc;
}

/* ---- public API: setup ---------------------------------------------------------------------- */

struct pprof_builder *pprof_builder_create(const struct pprof_kind *kind, int64_t period) {
    if (!kind || kind->n_sample_types == 0 || kind->n_sample_types > PPROF_MAX_SAMPLE_TYPES)
        return NULL;
    struct pprof_builder *b = pb_alloc(sizeof(*b));
    if (!b)
        return NULL;
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->period = period;
    if (RESERVE(b->strings, 0, 64) != LTPROF_OK)
        goto error;
    b->strings[b->n_strings++] = NULL; /* "" at index 0, never looked up or freed */
    int rc = LTPROF_OK;
    for (size_t i = 0; i < kind->n_sample_types && rc == LTPROF_OK; i++) {
        rc = intern(b, kind->sample_types[i].type, &b->type_strs[i].key);
        if (rc == LTPROF_OK)
            rc = intern(b, kind->sample_types[i].unit, &b->type_strs[i].str);
    }
    if (rc == LTPROF_OK)
        rc = intern(b, kind->period_type.type, &b->period_strs.key);
    if (rc == LTPROF_OK)
        rc = intern(b, kind->period_type.unit, &b->period_strs.str);
    if (rc == LTPROF_OK)
        rc = intern(b, kind->default_sample_type, &b->default_sample_type);
    if (rc != LTPROF_OK)
        goto error;
    return b;
error:
    pprof_builder_destroy(b);
    return NULL;
}

void pprof_builder_drop_empty_samples(struct pprof_builder *b) {
    b->drop_empty = true;
}

void pprof_builder_set_time(struct pprof_builder *b, int64_t time_nanos, int64_t duration_nanos) {
    b->time_nanos = time_nanos;
    b->duration_nanos = duration_nanos;
}

int pprof_builder_add_comment(struct pprof_builder *b, const char *text) {
    if (!text || !*text)
        return LTPROF_ERR_INVALID;
    int64_t idx;
    int rc = RESERVE(b->comments, b->n_comments, 1);
    if (rc == LTPROF_OK)
        rc = intern(b, text, &idx);
    if (rc == LTPROF_OK)
        b->comments[b->n_comments++] = idx;
    return rc;
}

uint64_t pprof_builder_add_mapping(struct pprof_builder *b, uint64_t memory_start,
                                   uint64_t memory_limit, uint64_t file_offset,
                                   const char *filename, const char *build_id, unsigned flags) {
    struct b_mapping m = {memory_start, memory_limit, file_offset, 0, 0, flags};
    if (RESERVE(b->mappings, b->n_mappings, 1) != LTPROF_OK ||
        intern(b, filename, &m.filename) != LTPROF_OK ||
        intern(b, build_id, &m.build_id) != LTPROF_OK)
        return 0;
    b->mappings[b->n_mappings++] = m;
    return b->n_mappings;
}

void pprof_builder_destroy(struct pprof_builder *b) {
    if (!b)
        return;
    for (size_t i = 1; i < b->n_strings; i++)
        pb_free(b->strings[i]);
    pb_free(b->strings);
    pb_free(b->string_table.slots);
    pb_free(b->comments);
    pb_free(b->mappings);
    pb_free(b->functions);
    pb_free(b->function_table.slots);
    pb_free(b->locations);
    pb_free(b->location_table.slots);
    pb_free(b->lines);
    pb_free(b->samples);
    pb_free(b->sample_table.slots);
    pb_free(b->stack_ids);
    pb_free(b->labels);
    pb_free(b->enc);
    pb_free(b->scratch);
    if (b->zs) {
        deflateEnd(b->zs);
        pb_free(b->zs);
    }
    pb_free(b->zout);
    pb_free(b);
}

/* ---- locations ------------------------------------------------------------------------------ */

/* Key of a location lookup. Address-0 locations (synthetic frames) are also keyed by their
 * lines, which then sit uncommitted at lines[n_lines ..]. */
struct location_key {
    uint64_t mapping_id, address;
    uint32_t n_lines;
};

static bool location_eq(const struct pprof_builder *b, uint32_t idx, const void *key) {
    const struct b_location *l = &b->locations[idx];
    const struct location_key *k = key;
    if (l->mapping_id != k->mapping_id || l->address != k->address)
        return false;
    if (k->address != 0)
        return true;
    return l->n_lines == k->n_lines &&
           (!k->n_lines || same_bytes(b->lines + l->line_off, b->lines + b->n_lines,
                                      k->n_lines * sizeof(struct b_line)));
}

static uint32_t location_hash(const struct pprof_builder *b, const struct location_key *k) {
    uint64_t h = mix(mix(1, k->mapping_id), k->address);
    for (uint32_t i = 0; k->address == 0 && i < k->n_lines; i++)
        h = mix(mix(h, b->lines[b->n_lines + i].function_id),
                (uint64_t)b->lines[b->n_lines + i].line);
    return (uint32_t)h;
}

/* Writes the uncommitted lines of a new location at lines[n_lines ..]. */
static int stage_lines(struct pprof_builder *b, const struct pprof_line *lines, size_t n_lines) {
    int rc = RESERVE(b->lines, b->n_lines, n_lines);
    for (size_t i = 0; i < n_lines && rc == LTPROF_OK; i++) {
        struct b_line *l = &b->lines[b->n_lines + i];
        l->line = lines[i].line;
        rc = intern_function(b, &lines[i], &l->function_id);
    }
    return rc;
}

uint64_t pprof_builder_add_location(struct pprof_builder *b, uint64_t mapping_id, uint64_t address,
                                    const struct pprof_line *lines, size_t n_lines) {
    if (mapping_id > b->n_mappings || (n_lines && !lines) || n_lines > UINT32_MAX)
        return 0;
    struct location_key key = {mapping_id, address, (uint32_t)n_lines};
    bool staged = false;
    struct slot *slot;
    int rc = LTPROF_OK;
    if (address == 0) { /* lines are part of the key: stage them first */
        rc = stage_lines(b, lines, n_lines);
        staged = true;
    }
    uint32_t h = 0;
    if (rc == LTPROF_OK) {
        h = location_hash(b, &key);
        rc = table_lookup(&b->location_table, h, location_eq, b, &key, &slot);
    }
    if (rc != LTPROF_OK)
        return 0;
    if (slot->idx1)
        return slot->idx1;
    if (!staged && stage_lines(b, lines, n_lines) != LTPROF_OK)
        return 0;
    if (RESERVE(b->locations, b->n_locations, 1) != LTPROF_OK)
        return 0;
    b->locations[b->n_locations] =
        (struct b_location){mapping_id, address, b->n_lines, key.n_lines};
    b->n_lines += n_lines;
    table_fill(&b->location_table, slot, h, b->n_locations++);
    return b->n_locations;
}

/* ---- samples -------------------------------------------------------------------------------- */

/* The sample being added: its stack and labels sit uncommitted after the committed ones. */
struct sample_key {
    uint32_t n_stack, n_labels;
};

static bool sample_eq(const struct pprof_builder *b, uint32_t idx, const void *key) {
    const struct b_sample *s = &b->samples[idx];
    const struct sample_key *k = key;
    /* (the arrays may still be NULL when empty: no pointer arithmetic on them then) */
    return s->n_stack == k->n_stack && s->n_labels == k->n_labels &&
           (!k->n_stack || same_bytes(b->stack_ids + s->stack_off, b->stack_ids + b->n_stack_ids,
                                      k->n_stack * sizeof(uint64_t))) &&
           (!k->n_labels || same_bytes(b->labels + s->label_off, b->labels + b->n_labels,
                                       k->n_labels * sizeof(struct b_label)));
}

static int label_cmp(const struct b_label *x, const struct b_label *y) {
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->str != y->str)
        return x->str < y->str ? -1 : 1;
    if (x->num != y->num)
        return x->num < y->num ? -1 : 1;
    return (x->num_unit > y->num_unit) - (x->num_unit < y->num_unit);
}

/* Interns the labels into labels[n_labels ..] in a canonical order (insertion sort: few). */
static int stage_labels(struct pprof_builder *b, const struct pprof_label *labels, size_t n) {
    if (n == 0)
        return LTPROF_OK; /* (and b->labels may still be NULL: no pointer arithmetic on it) */
    struct b_label *out = &b->labels[b->n_labels];
    for (size_t i = 0; i < n; i++) {
        struct b_label l = {0, 0, 0, 0};
        int rc = intern(b, labels[i].key, &l.key);
        if (rc == LTPROF_OK && labels[i].str)
            rc = intern(b, labels[i].str, &l.str);
        else if (rc == LTPROF_OK) {
            l.num = labels[i].num;
            rc = intern(b, labels[i].num_unit, &l.num_unit);
        }
        if (rc != LTPROF_OK)
            return rc;
        size_t j = i;
        for (; j > 0 && label_cmp(&out[j - 1], &l) > 0; j--)
            out[j] = out[j - 1];
        out[j] = l;
    }
    return LTPROF_OK;
}

static int check_sample_args(const struct pprof_builder *b, const uint64_t *location_ids,
                             size_t n_locations, const int64_t *values,
                             const struct pprof_label *labels, size_t n_labels) {
    if (!values || (n_locations && !location_ids) || (n_labels && !labels) ||
        n_locations > UINT32_MAX || n_labels > UINT32_MAX)
        return LTPROF_ERR_INVALID;
    for (size_t i = 0; i < n_locations; i++) {
        if (location_ids[i] == 0 || location_ids[i] > b->n_locations)
            return LTPROF_ERR_INVALID;
    }
    for (size_t i = 0; i < n_labels; i++) {
        if (!labels[i].key || !*labels[i].key)
            return LTPROF_ERR_INVALID;
    }
    return LTPROF_OK;
}

int pprof_builder_add_sample(struct pprof_builder *b, const uint64_t *location_ids,
                             size_t n_locations, const int64_t *values,
                             const struct pprof_label *labels, size_t n_labels) {
    int rc = check_sample_args(b, location_ids, n_locations, values, labels, n_labels);
    if (rc == LTPROF_OK)
        rc = RESERVE(b->stack_ids, b->n_stack_ids, n_locations);
    if (rc == LTPROF_OK)
        rc = RESERVE(b->labels, b->n_labels, n_labels);
    if (rc == LTPROF_OK)
        rc = stage_labels(b, labels, n_labels);
    if (rc != LTPROF_OK)
        return rc;
    if (n_locations)
        memcpy(&b->stack_ids[b->n_stack_ids], location_ids, n_locations * sizeof(uint64_t));
    uint64_t h = mix(2, n_locations);
    for (size_t i = 0; i < n_locations; i++)
        h = mix(h, location_ids[i]);
    for (size_t i = 0; i < n_labels; i++) {
        const struct b_label *l = &b->labels[b->n_labels + i];
        h = mix(mix(mix(mix(h, (uint64_t)l->key), (uint64_t)l->str), (uint64_t)l->num),
                (uint64_t)l->num_unit);
    }
    struct sample_key key = {(uint32_t)n_locations, (uint32_t)n_labels};
    struct slot *slot;
    rc = table_lookup(&b->sample_table, (uint32_t)h, sample_eq, b, &key, &slot);
    if (rc == LTPROF_OK && !slot->idx1) {
        rc = RESERVE(b->samples, b->n_samples, 1);
        if (rc != LTPROF_OK)
            return rc;
        b->samples[b->n_samples] =
            (struct b_sample){b->n_stack_ids, b->n_labels, key.n_stack, key.n_labels, {0}};
        b->n_stack_ids += n_locations;
        b->n_labels += n_labels;
        table_fill(&b->sample_table, slot, (uint32_t)h, b->n_samples++);
    }
    if (rc == LTPROF_OK) {
        struct b_sample *s = &b->samples[slot->idx1 - 1];
        for (size_t i = 0; i < b->kind->n_sample_types; i++) /* wrap instead of overflow UB */
            s->values[i] = (int64_t)((uint64_t)s->values[i] + (uint64_t)values[i]);
    }
    return rc;
}

/* ---- final samples and streaming ---------------------------------------------------------- */

enum { ZCHUNK = 64 * 1024 };

static voidpf z_alloc(voidpf opaque, uInt items, uInt size);
static void z_free(voidpf opaque, voidpf p);

static size_t put_varint(uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* Appends the field tag, a varint length and the packed varints of vals (protobuf field of
 * kind LEN: packed repeated uint64 / int64). */
static size_t put_packed(uint8_t *out, uint8_t tag, const uint64_t *vals, size_t n) {
    uint8_t body[10 * 256];
    size_t len = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        len += put_varint(body + len, vals[i]);
    out[k++] = tag;
    k += put_varint(out + k, len);
    memcpy(out + k, body, len);
    return k + len;
}

/* Deflates `len` bytes into the stream (Z_FINISH ends it) and writes what comes out. */
static int stream_deflate(struct pprof_builder *b, const uint8_t *data, size_t len, int flush) {
    int zrc = Z_OK;
    do {
        size_t in = len < UINT32_MAX ? len : UINT32_MAX;
        b->zs->next_in = (Bytef *)data, b->zs->avail_in = (uInt)in;
        b->zs->next_out = b->zout, b->zs->avail_out = ZCHUNK;
        zrc = deflate(b->zs, in == len ? flush : Z_NO_FLUSH);
        data += in - b->zs->avail_in, len -= in - b->zs->avail_in;
        if (zrc == Z_STREAM_ERROR)
            return LTPROF_ERR_INVALID;
        if (ZCHUNK - b->zs->avail_out &&
            b->stream_write(b->stream_ctx, b->zout, ZCHUNK - b->zs->avail_out) != 0)
            return LTPROF_ERR_IO;
    } while (len > 0 || b->zs->avail_out == 0 || (flush == Z_FINISH && zrc != Z_STREAM_END));
    return LTPROF_OK;
}

int pprof_builder_stream(struct pprof_builder *b, pprof_write_fn write, void *ctx) {
    if (!b || !write || b->zs)
        return LTPROF_ERR_INVALID;
    z_stream *zs = pb_alloc(sizeof(*zs));
    uint8_t *out = zs ? pb_alloc(ZCHUNK) : NULL;
    if (!out) {
        pb_free(zs);
        return LTPROF_ERR_NOMEM;
    }
    memset(zs, 0, sizeof(*zs));
    zs->zalloc = z_alloc, zs->zfree = z_free;
    if (deflateInit2(zs, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        pb_free(out);
        pb_free(zs);
        return LTPROF_ERR_NOMEM;
    }
    b->zs = zs, b->zout = out, b->stream_write = write, b->stream_ctx = ctx;
    int rc = LTPROF_OK;
    if (b->n_enc) { /* final samples added before streaming began */
        rc = stream_deflate(b, b->enc, b->n_enc, Z_NO_FLUSH);
        b->n_enc = 0;
    }
    return rc;
}

int pprof_builder_add_final_sample(struct pprof_builder *b, const uint64_t *location_ids,
                                   size_t n_locations, const int64_t *values,
                                   const struct pprof_label *labels, size_t n_labels) {
    int rc = check_sample_args(b, location_ids, n_locations, values, labels, n_labels);
    if (rc == LTPROF_OK && (n_locations > 256 || n_labels > PPROF_MAX_FINAL_LABELS || b->stream_done))
        rc = LTPROF_ERR_INVALID;
    if (rc == LTPROF_OK)
        rc = RESERVE(b->labels, b->n_labels, n_labels);
    if (rc == LTPROF_OK) /* interned, staged past the end: not kept as the builder's labels */
        rc = stage_labels(b, labels, n_labels);
    size_t need = 32 + 10 * (n_locations + PPROF_MAX_SAMPLE_TYPES) + n_labels * 48;
    if (rc == LTPROF_OK)
        rc = RESERVE(b->scratch, 0, need);
    if (rc != LTPROF_OK)
        return rc;
    uint8_t *body = b->scratch + 12; /* room for the Profile.sample tag and length first */
    size_t n = 0;
    if (n_locations)
        n += put_packed(body + n, 0x0a, location_ids, n_locations); /* Sample.location_id */
    uint64_t vals[PPROF_MAX_SAMPLE_TYPES];
    for (size_t i = 0; i < b->kind->n_sample_types; i++)
        vals[i] = (uint64_t)values[i];
    n += put_packed(body + n, 0x12, vals, b->kind->n_sample_types); /* Sample.value */
    for (size_t i = 0; i < n_labels; i++) { /* Sample.label: key, str, num, num_unit */
        const struct b_label *l = &b->labels[b->n_labels + i];
        const int64_t f[4] = {l->key, l->str, l->num, l->num_unit};
        uint8_t lab[48];
        size_t t = 0;
        for (int k = 0; k < 4; k++) {
            if (f[k]) {
                lab[t++] = (uint8_t)((k + 1) << 3);
                t += put_varint(lab + t, (uint64_t)f[k]);
            }
        }
        body[n++] = 0x1a;
        n += put_varint(body + n, t);
        memcpy(body + n, lab, t);
        n += t;
    }
    uint8_t head[12];
    size_t h = 0;
    head[h++] = 0x12; /* Profile.sample */
    h += put_varint(head + h, n);
    uint8_t *rec = body - h;
    memcpy(rec, head, h);
    if (b->zs)
        return stream_deflate(b, rec, h + n, Z_NO_FLUSH);
    rc = RESERVE(b->enc, b->n_enc, h + n);
    if (rc != LTPROF_OK)
        return rc;
    memcpy(b->enc + b->n_enc, rec, h + n);
    b->n_enc += h + n;
    return LTPROF_OK;
}

/* ---- encoding ------------------------------------------------------------------------------- */

/* The protobuf-c view of the builder: message structs point into the builder's arrays. */
struct enc {
    Perftools__Profiles__Profile profile;
    Perftools__Profiles__ValueType types[PPROF_MAX_SAMPLE_TYPES], period_type;
    Perftools__Profiles__ValueType *type_ptrs[PPROF_MAX_SAMPLE_TYPES];
    Perftools__Profiles__Sample *samples, **samples_ptrs;
    Perftools__Profiles__Label *labels, **labels_ptrs;
    Perftools__Profiles__Mapping *mappings, **mappings_ptrs;
    Perftools__Profiles__Location *locations, **locations_ptrs;
    Perftools__Profiles__Line *lines, **lines_ptrs;
    Perftools__Profiles__Function *functions, **functions_ptrs;
    size_t n_samples; /* samples written (empty ones dropped when asked) */
};

static void *alloc_array(size_t n, size_t size) {
    return n > SIZE_MAX / size ? NULL : pb_alloc(n * size);
}

/* Allocates n message structs and n pointers to them (both stay NULL when n == 0). */
#define ALLOC_MSGS(e, field, n)                                                                    \
    ({                                                                                             \
        size_t n_ = (n);                                                                           \
        int r_ = LTPROF_OK;                                                                        \
        if (n_) {                                                                                  \
            (e)->field = alloc_array(n_, sizeof(*(e)->field));                                     \
            (e)->field##_ptrs = (e)->field ? alloc_array(n_, sizeof(*(e)->field##_ptrs)) : NULL;   \
            if (!(e)->field##_ptrs)                                                                \
                r_ = LTPROF_ERR_NOMEM;                                                             \
            for (size_t i_ = 0; r_ == LTPROF_OK && i_ < n_; i_++)                                  \
                (e)->field##_ptrs[i_] = &(e)->field[i_];                                           \
        }                                                                                          \
        r_;                                                                                        \
    })

static void enc_free(struct enc *e) {
    pb_free(e->samples), pb_free(e->samples_ptrs);
    pb_free(e->labels), pb_free(e->labels_ptrs);
    pb_free(e->mappings), pb_free(e->mappings_ptrs);
    pb_free(e->locations), pb_free(e->locations_ptrs);
    pb_free(e->lines), pb_free(e->lines_ptrs);
    pb_free(e->functions), pb_free(e->functions_ptrs);
}

static void enc_fill_tables(const struct pprof_builder *b, struct enc *e) {
    for (size_t i = 0; i < b->n_mappings; i++) {
        const struct b_mapping *m = &b->mappings[i];
        Perftools__Profiles__Mapping *pm = &e->mappings[i];
        perftools__profiles__mapping__init(pm);
        pm->id = i + 1, pm->memory_start = m->start, pm->memory_limit = m->limit;
        pm->file_offset = m->offset, pm->filename = m->filename, pm->build_id = m->build_id;
        pm->has_functions = !!(m->flags & PPROF_HAS_FUNCTIONS);
        pm->has_filenames = !!(m->flags & PPROF_HAS_FILENAMES);
        pm->has_line_numbers = !!(m->flags & PPROF_HAS_LINE_NUMBERS);
        pm->has_inline_frames = !!(m->flags & PPROF_HAS_INLINE_FRAMES);
    }
    for (size_t i = 0; i < b->n_functions; i++) {
        Perftools__Profiles__Function *pf = &e->functions[i];
        perftools__profiles__function__init(pf);
        pf->id = i + 1, pf->name = b->functions[i].name;
        pf->system_name = b->functions[i].system_name, pf->filename = b->functions[i].filename;
    }
    for (size_t i = 0; i < b->n_lines; i++) {
        perftools__profiles__line__init(&e->lines[i]);
        e->lines[i].function_id = b->lines[i].function_id;
        e->lines[i].line = b->lines[i].line;
    }
    for (size_t i = 0; i < b->n_locations; i++) {
        const struct b_location *l = &b->locations[i];
        Perftools__Profiles__Location *pl = &e->locations[i];
        perftools__profiles__location__init(pl);
        pl->id = i + 1, pl->mapping_id = l->mapping_id, pl->address = l->address;
        pl->n_line = l->n_lines;
        pl->line = l->n_lines ? &e->lines_ptrs[l->line_off] : NULL;
    }
}

static bool is_empty(const struct pprof_builder *b, const struct b_sample *s) {
    for (size_t i = 0; i < b->kind->n_sample_types; i++)
        if (s->values[i])
            return false;
    return true;
}

static void enc_fill_samples(struct pprof_builder *b, struct enc *e) {
    for (size_t i = 0; i < b->n_labels; i++) {
        perftools__profiles__label__init(&e->labels[i]);
        e->labels[i].key = b->labels[i].key, e->labels[i].str = b->labels[i].str;
        e->labels[i].num = b->labels[i].num, e->labels[i].num_unit = b->labels[i].num_unit;
    }
    for (size_t i = 0; i < b->n_samples; i++) {
        struct b_sample *s = &b->samples[i];
        if (b->drop_empty && is_empty(b, s))
            continue;
        Perftools__Profiles__Sample *ps = &e->samples[e->n_samples++];
        perftools__profiles__sample__init(ps);
        ps->n_location_id = s->n_stack;
        ps->location_id = s->n_stack ? &b->stack_ids[s->stack_off] : NULL;
        ps->n_value = b->kind->n_sample_types;
        ps->value = s->values;
        ps->n_label = s->n_labels;
        ps->label = s->n_labels ? &e->labels_ptrs[s->label_off] : NULL;
    }
}

static void enc_fill_profile(struct pprof_builder *b, struct enc *e) {
    Perftools__Profiles__Profile *p = &e->profile;
    perftools__profiles__profile__init(p);
    for (size_t i = 0; i < b->kind->n_sample_types; i++) {
        perftools__profiles__value_type__init(&e->types[i]);
        e->types[i].type = b->type_strs[i].key, e->types[i].unit = b->type_strs[i].str;
        e->type_ptrs[i] = &e->types[i];
    }
    perftools__profiles__value_type__init(&e->period_type);
    e->period_type.type = b->period_strs.key, e->period_type.unit = b->period_strs.str;
    p->n_sample_type = b->kind->n_sample_types, p->sample_type = e->type_ptrs;
    p->n_sample = e->n_samples, p->sample = e->samples_ptrs;
    p->n_mapping = b->n_mappings, p->mapping = e->mappings_ptrs;
    p->n_location = b->n_locations, p->location = e->locations_ptrs;
    p->n_function = b->n_functions, p->function = e->functions_ptrs;
    b->strings[0] = ""; /* only while packing: destroy skips index 0 */
    p->n_string_table = b->n_strings, p->string_table = b->strings;
    p->time_nanos = b->time_nanos, p->duration_nanos = b->duration_nanos;
    p->period_type = &e->period_type, p->period = b->period;
    p->n_comment = b->n_comments, p->comment = b->comments;
    p->default_sample_type = b->default_sample_type;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
    (void)opaque;
    return (size_t)items > SIZE_MAX / size ? NULL : pb_alloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p) {
    (void)opaque;
    pb_free(p);
}

/* Gzips the kept final samples then `len` bytes (level 1, like Go's BestSpeed) into `write`:
 * a throwaway stream on the builder's streaming path. */
static int gzip_to(struct pprof_builder *b, const uint8_t *data, size_t len, pprof_write_fn write,
                   void *ctx) {
    int rc = pprof_builder_stream(b, write, ctx);
    if (rc == LTPROF_OK)
        rc = stream_deflate(b, data, len, Z_FINISH);
    deflateEnd(b->zs);
    pb_free(b->zs);
    pb_free(b->zout);
    b->zs = NULL, b->zout = NULL;
    return rc;
}

int pprof_builder_write(struct pprof_builder *b, pprof_write_fn write, void *ctx) {
    if (!b || !write || b->stream_done ||
        (b->zs && (write != b->stream_write || ctx != b->stream_ctx)))
        return LTPROF_ERR_INVALID;
    struct enc e;
    memset(&e, 0, sizeof(e));
    uint8_t *buf = NULL;
    int rc = ALLOC_MSGS(&e, samples, b->n_samples);
    if (rc == LTPROF_OK)
        rc = ALLOC_MSGS(&e, labels, b->n_labels);
    if (rc == LTPROF_OK)
        rc = ALLOC_MSGS(&e, mappings, b->n_mappings);
    if (rc == LTPROF_OK)
        rc = ALLOC_MSGS(&e, locations, b->n_locations);
    if (rc == LTPROF_OK)
        rc = ALLOC_MSGS(&e, lines, b->n_lines);
    if (rc == LTPROF_OK)
        rc = ALLOC_MSGS(&e, functions, b->n_functions);
    if (rc != LTPROF_OK)
        goto end;
    enc_fill_tables(b, &e);
    enc_fill_samples(b, &e);
    enc_fill_profile(b, &e);
    size_t len = perftools__profiles__profile__get_packed_size(&e.profile);
    buf = pb_alloc(len ? len : 1);
    if (!buf) {
        rc = LTPROF_ERR_NOMEM;
        goto end;
    }
    perftools__profiles__profile__pack(&e.profile, buf);
    if (b->zs) { /* streaming: the rest goes into the same stream, which ends here */
        rc = stream_deflate(b, buf, len, Z_FINISH);
        b->stream_done = true;
    } else {
        size_t kept = b->n_enc; /* final samples survive for the next write */
        rc = gzip_to(b, buf, len, write, ctx);
        b->n_enc = kept;
    }
end:
    b->strings[0] = NULL;
    pb_free(buf);
    enc_free(&e);
    return rc;
}

static int write_to_file(void *ctx, const void *data, size_t len) {
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

int pprof_builder_write_file(struct pprof_builder *b, const char *path) {
    if (!b || !path)
        return LTPROF_ERR_INVALID;
    FILE *f = fopen(path, "wb");
    if (!f)
        return LTPROF_ERR_IO;
    int rc = pprof_builder_write(b, write_to_file, f);
    if (fclose(f) != 0 && rc == LTPROF_OK)
        rc = LTPROF_ERR_IO;
    if (rc != LTPROF_OK)
        unlink(path);
    return rc;
}

/* A count or size as pprof's int64 holds it: anything beyond is INT64_MAX (only broken
 * traces get there). */
static int64_t saturated(double v)
{
    return v >= 9223372036854775807.0 ? INT64_MAX : v > 0 ? (int64_t)v : 0;
}

void pprof_scale_heap_sample(uint64_t count, uint64_t bytes, uint64_t rate, int64_t *count_out,
                             int64_t *bytes_out)
{
    if (count == 0 || bytes == 0) {
        *count_out = *bytes_out = 0;
        return;
    }
    if (rate <= 1) {
        *count_out = count > INT64_MAX ? INT64_MAX : (int64_t)count;
        *bytes_out = bytes > INT64_MAX ? INT64_MAX : (int64_t)bytes;
        return;
    }
    double avg = (double)bytes / (double)count;
    double scale = 1.0 / (1.0 - exp(-avg / (double)rate));
    *count_out = saturated((double)count * scale);
    *bytes_out = saturated((double)bytes * scale);
}
