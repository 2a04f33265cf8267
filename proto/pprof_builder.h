/* SPDX-License-Identifier: MIT */
/*
 * The one pprof profile builder, shared by the runtime (in-process profiles) and the converter
 * (offline profiles), modelled on Go's runtime/pprof profileBuilder. It interns strings (index
 * 0 = ""), deduplicates locations by (mapping, address) and functions by (name, system name,
 * file), merges samples with identical stacks and labels, and writes gzip-compressed
 * profile.proto. Profile kinds are data: one descriptor row per kind.
 * Depends only on protobuf-c and zlib. Not thread-safe: one builder per thread.
 */
#ifndef LTPROF_PPROF_BUILDER_H
#define LTPROF_PPROF_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#define PPROF_MAX_SAMPLE_TYPES 4

struct pprof_value_type {
    const char *type; /* e.g. "cpu" */
    const char *unit; /* e.g. "nanoseconds" */
};

/* A profile kind: Go's sample types, units, period type and default sample type. */
struct pprof_kind {
    const char *name; /* "cpu", "heap", "allocs", "mutex", "block", "threadcreate", "goroutine" */
    struct pprof_value_type sample_types[PPROF_MAX_SAMPLE_TYPES];
    size_t n_sample_types;
    struct pprof_value_type period_type;
    const char *default_sample_type; /* NULL: leave unset, as Go does */
};

/* The descriptor for `name`, or NULL. The rows are static. */
const struct pprof_kind *pprof_kind_lookup(const char *name);

/* One source line of a location. Strings are copied by the builder. */
struct pprof_line {
    const char *function;    /* demangled name; NULL or "" = unknown */
    const char *system_name; /* mangled name; NULL = same as function */
    const char *file;        /* NULL = unknown */
    int64_t line;            /* 0 = unknown */
};

/* A sample label: string (str != NULL) or numeric (num, optional unit). */
struct pprof_label {
    const char *key;
    const char *str;
    int64_t num;
    const char *num_unit;
};

/* Mapping flags (profile.proto Mapping.has_*). */
enum pprof_mapping_flags {
    PPROF_HAS_FUNCTIONS = 1 << 0,
    PPROF_HAS_FILENAMES = 1 << 1,
    PPROF_HAS_LINE_NUMBERS = 1 << 2,
    PPROF_HAS_INLINE_FRAMES = 1 << 3,
};

struct pprof_builder;

/* A builder for `kind` with the given period (e.g. 10000000 for 100 Hz CPU). Caller destroys.
 * Returns NULL when out of memory. */
struct pprof_builder *pprof_builder_create(const struct pprof_kind *kind, int64_t period);

/* Collection start (ns since the Unix epoch) and window length; 0 leaves a field unset. */
void pprof_builder_set_time(struct pprof_builder *b, int64_t time_nanos, int64_t duration_nanos);

/* From now on, writing leaves out the samples whose values are all 0 (a delta profile's
 * cancelled samples). */
void pprof_builder_drop_empty_samples(struct pprof_builder *b);

/* Adds a free-text comment (shown by pprof -raw). 0 or a negative ltprof_status. */
int pprof_builder_add_comment(struct pprof_builder *b, const char *text);

/* Adds a mapping; returns its id (>= 1), or 0 when out of memory. build_id: lowercase hex or
 * NULL. flags: enum pprof_mapping_flags. The first mapping added is the main executable. */
uint64_t pprof_builder_add_mapping(struct pprof_builder *b, uint64_t memory_start,
                                   uint64_t memory_limit, uint64_t file_offset,
                                   const char *filename, const char *build_id, unsigned flags);

/* Returns the id of the location for (mapping_id, address), creating it with `lines` (innermost
 * first; n_lines may be 0 for an unsymbolized address) the first time. mapping_id 0 = none.
 * Returns 0 when out of memory. */
uint64_t pprof_builder_add_location(struct pprof_builder *b, uint64_t mapping_id, uint64_t address,
                                    const struct pprof_line *lines, size_t n_lines);

/* Adds `values` (kind->n_sample_types of them) to the sample with this stack (location ids,
 * leaf first) and these labels, creating it if new. 0 or a negative ltprof_status. */
int pprof_builder_add_sample(struct pprof_builder *b, const uint64_t *location_ids, size_t n_locations,
                             const int64_t *values, const struct pprof_label *labels, size_t n_labels);

/* Receives the encoded bytes; returns 0 to go on, non-zero to stop with an I/O error. */
typedef int (*pprof_write_fn)(void *ctx, const void *data, size_t len);

/*
 * Adds a sample the caller has aggregated already: it is never merged with another (two final
 * samples with the same stack and labels stay two), and it is encoded at once into a compact
 * buffer instead of the builder's tables, or straight into the output when streaming. At most
 * 256 locations and PPROF_MAX_FINAL_LABELS labels (a thread's 16 labels and the 3 that name
 * it fit). 0 or a negative ltprof_status.
 */
#define PPROF_MAX_FINAL_LABELS 32
int pprof_builder_add_final_sample(struct pprof_builder *b, const uint64_t *location_ids,
                                   size_t n_locations, const int64_t *values,
                                   const struct pprof_label *labels, size_t n_labels);

/*
 * Streams the profile: from now on final samples are compressed and passed to `write` as they
 * come, so a long conversion keeps only the tables (strings, functions, locations, mappings)
 * in memory. The profile ends with pprof_builder_write() on the same `write` and `ctx`; a
 * builder that streams cannot be written twice. 0 or a negative ltprof_status.
 */
int pprof_builder_stream(struct pprof_builder *b, pprof_write_fn write, void *ctx);

/* Encodes the profile, gzips it (level 1, like Go) and passes the bytes to `write`.
 * 0 or a negative ltprof_status. The builder stays usable, unless it streams (see above). */
int pprof_builder_write(struct pprof_builder *b, pprof_write_fn write, void *ctx);

/* Convenience: writes the profile to `path` (created or truncated). 0 or negative status. */
int pprof_builder_write_file(struct pprof_builder *b, const char *path);

/* Go's unbiasing of a heap-profile record of `count` sampled allocations totalling `bytes`,
 * sampled on average once per `rate` bytes (runtime/pprof scaleHeapSample): the record stands
 * for 1 / (1 - e^(-avg/rate)) allocations of its average size. A record holds one block size,
 * so the average is that size. rate <= 1: unchanged. */
void pprof_scale_heap_sample(uint64_t count, uint64_t bytes, uint64_t rate, int64_t *count_out,
                             int64_t *bytes_out);

/* Frees the builder. Accepts NULL. */
void pprof_builder_destroy(struct pprof_builder *b);

#endif
