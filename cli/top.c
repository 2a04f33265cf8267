/* SPDX-License-Identifier: MIT */
/*
 * `ltprof top FILE`: prints the heaviest functions of a pprof profile like `go tool pprof -top`
 * (face: commands.h). Reads the file with pprof_reader.h, aggregates by function name (each Line
 * of a location is a frame, so inlined functions count on their own), and formats values in the
 * sample type's unit the way pprof does. Exit codes: 0 ok, 1 bad input, 2 usage.
 */
#define _GNU_SOURCE /* asprintf, qsort_r */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "pprof_reader.h"

typedef Perftools__Profiles__Profile profile_t;

static const char top_usage[] =
    "usage: ltprof top FILE [-n N] [--sample-index TYPE] [--cum]\n"
    "\n"
    "Prints the functions of a pprof profile (gzipped or raw profile.proto) with the largest\n"
    "values, like `go tool pprof -top`.\n"
    "  -n N                  rows to print (default 20, 0 = all)\n"
    "  --sample-index TYPE   value column to use, by type name or number (default: the\n"
    "                        profile's default_sample_type, else the last column)\n"
    "  --cum                 sort by cumulative instead of flat value\n"
    "  -h, --help            show this help\n";

struct top_opts {
    const char *path;
    long max_rows;
    const char *sample_index;
    bool by_cum;
};

/* Position of the message with `id` in its array, for profiles whose ids are not 1..N. */
struct id_pos {
    uint64_t id;
    size_t pos;
};

/* One row: all frames with the same function name. */
struct node {
    const char *name;
    char *owned_name; /* synthesized names ("0x... [lib]") are freed with the node table */
    int64_t flat, cum;
    size_t last_sample; /* 1 + index of the last sample counted in cum */
    bool outer;         /* seen as a location's last (non-inlined) line */
};

struct top {
    const profile_t *p;
    size_t column;
    struct node *nodes;
    size_t n_nodes;
    uint32_t *name_slots; /* open addressing: node index + 1, 0 = empty */
    size_t slot_mask;
    size_t *loc_off, *loc_n, *frames; /* frames of location i: frames[loc_off[i] ..], leaf first */
    struct id_pos *loc_ids, *fn_ids;  /* sorted, only when ids are not 1..N in order */
    int64_t total;
};

/* ---- arguments ------------------------------------------------------------------------------ */

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("ltprof top: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    fputs(top_usage, stderr);
    va_end(ap);
    return 2;
}

/* Fills opts; returns -1 when the caller should go on, else the exit status. */
static int parse_args(int argc, char **argv, struct top_opts *opts) {
    *opts = (struct top_opts){NULL, 20, NULL, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(top_usage, stdout);
            return 0;
        } else if (strcmp(a, "--cum") == 0) {
            opts->by_cum = true;
        } else if (strcmp(a, "-n") == 0 || strcmp(a, "--sample-index") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            val = argv[++i];
        } else if (strncmp(a, "--sample-index=", 15) == 0) {
            opts->sample_index = a + 15;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option %s", a);
        } else if (opts->path) {
            return usage_error("unexpected argument %s", a);
        } else {
            opts->path = a;
        }
        if (val && a[1] == 'n') {
            char *end;
            errno = 0;
            opts->max_rows = strtol(val, &end, 10);
            if (errno || *end || end == val || opts->max_rows < 0)
                return usage_error("-n needs a non-negative number, not \"%s\"", val);
        } else if (val) {
            opts->sample_index = val;
        }
    }
    if (!opts->path)
        return usage_error("%s", "missing profile file");
    return -1;
}

/* Column for --sample-index (type name or number), or pprof's default. -1 if none matches. */
static long pick_column(const profile_t *p, const char *want) {
    if (p->n_sample_type == 0)
        return -1;
    if (!want) {
        const char *dflt = pprof_profile_string(p, p->default_sample_type);
        for (size_t i = 0; *dflt && i < p->n_sample_type; i++) {
            if (strcmp(pprof_profile_string(p, p->sample_type[i]->type), dflt) == 0)
                return (long)i;
        }
        return (long)p->n_sample_type - 1;
    }
    for (size_t i = 0; i < p->n_sample_type; i++) {
        if (strcmp(pprof_profile_string(p, p->sample_type[i]->type), want) == 0)
            return (long)i;
    }
    char *end;
    long idx = strtol(want, &end, 10);
    return *want && !*end && idx >= 0 && (size_t)idx < p->n_sample_type ? idx : -1;
}

/* ---- value formatting (pprof's measurement package) ----------------------------------------- */

struct unit_step {
    const char *name;
    double factor;
};

static const struct unit_step time_units[] = {
    {"ns", 1},      {"us", 1e3},     {"ms", 1e6},       {"s", 1e9},
    {"mins", 60e9}, {"hrs", 3600e9}, {"days", 86400e9}, {"yrs", 365 * 86400e9}};
static const struct unit_step mem_units[] = {{"B", 1},
                                             {"kB", 1024.0},
                                             {"MB", 1024.0 * 1024},
                                             {"GB", 1024.0 * 1024 * 1024},
                                             {"TB", 1024.0 * 1024 * 1024 * 1024},
                                             {"PB", 1024.0 * 1024 * 1024 * 1024 * 1024}};

/* Nanoseconds per `unit` for time units, bytes per unit for memory units, else 0. */
static double unit_base(const char *unit, bool *is_time) {
    static const struct {
        const char *name;
        double base;
        bool time;
    } known[] = {{"nanoseconds", 1, true},      {"microseconds", 1e3, true},
                 {"milliseconds", 1e6, true},   {"seconds", 1e9, true},
                 {"bytes", 1, false},           {"kilobytes", 1024, false},
                 {"megabytes", 1 << 20, false}, {"gigabytes", 1 << 30, false}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(unit, known[i].name) == 0) {
            *is_time = known[i].time;
            return known[i].base;
        }
    }
    return 0;
}

/* Writes v (in `unit`) like pprof: "2.99s", "512.05kB", "10ms", "0", "23". */
static void format_value(int64_t v, const char *unit, char *buf, size_t size) {
    bool is_time = false;
    double base = unit_base(unit, &is_time);
    if (base == 0) {
        snprintf(buf, size, "%" PRId64, v);
        return;
    }
    double x = (double)v * base, ax = x < 0 ? -x : x;
    const struct unit_step *steps = is_time ? time_units : mem_units;
    size_t n = is_time ? sizeof(time_units) / sizeof(time_units[0])
                       : sizeof(mem_units) / sizeof(mem_units[0]);
    size_t k = 0;
    while (k + 1 < n && ax >= steps[k + 1].factor)
        k++;
    snprintf(buf, size, "%.2f", x / steps[k].factor);
    size_t len = strlen(buf);
    if (len > 3 && strcmp(buf + len - 3, ".00") == 0)
        buf[len -= 3] = '\0';
    if (strcmp(buf, "0") == 0 || strcmp(buf, "-0") == 0)
        return;
    snprintf(buf + len, size - len, "%s", steps[k].name);
}

/* pprof's Percentage: "  100%", "97.39%", "  0.5%", "    0%". */
static void format_pct(int64_t v, int64_t total, char *buf, size_t size) {
    double r = total ? (double)v / (double)total * 100 : 0;
    r = r < 0 ? -r : r;
    if (r >= 99.95 && r <= 100.05)
        snprintf(buf, size, "  100%%");
    else if (r >= 1.0)
        snprintf(buf, size, "%5.2f%%", r);
    else
        snprintf(buf, size, "%5.2g%%", r);
}

/* ---- aggregation ---------------------------------------------------------------------------- */

static uint64_t hash_name(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Index of the node named `name`, added if new. `owned` (malloc'ed) passes to the table or is
 * freed. The table was sized for every possible frame, so it never fills up. */
static size_t node_for(struct top *t, const char *name, char *owned) {
    size_t i = hash_name(name) & t->slot_mask;
    for (; t->name_slots[i]; i = (i + 1) & t->slot_mask) {
        size_t idx = t->name_slots[i] - 1;
        if (strcmp(t->nodes[idx].name, name) == 0) {
            free(owned);
            return idx;
        }
    }
    t->nodes[t->n_nodes] = (struct node){name, owned, 0, 0, 0, false};
    t->name_slots[i] = (uint32_t)++t->n_nodes;
    return t->n_nodes - 1;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static const Perftools__Profiles__Mapping *find_mapping(const profile_t *p, uint64_t id) {
    if (id && id <= p->n_mapping && p->mapping[id - 1]->id == id)
        return p->mapping[id - 1];
    for (size_t i = 0; id && i < p->n_mapping; i++) { /* few mappings: a scan is fine */
        if (p->mapping[i]->id == id)
            return p->mapping[i];
    }
    return NULL;
}

/* Name of an address without lines: "0x1234 [libfoo.so]", "0x1234" or "<unknown>". NULL = OOM. */
static char *address_name(const profile_t *p, const Perftools__Profiles__Location *loc) {
    const Perftools__Profiles__Mapping *m = find_mapping(p, loc->mapping_id);
    const char *file = m ? pprof_profile_string(p, m->filename) : "";
    char *s = NULL;
    int n;
    if (*file)
        n = asprintf(&s, "0x%" PRIx64 " [%s]", loc->address, base_name(file));
    else if (loc->address)
        n = asprintf(&s, "0x%" PRIx64, loc->address);
    else
        n = asprintf(&s, "<unknown>");
    return n < 0 ? NULL : s;
}

static int cmp_id_pos(const void *a, const void *b) {
    uint64_t x = ((const struct id_pos *)a)->id, y = ((const struct id_pos *)b)->id;
    return (x > y) - (x < y);
}

/* NULL in *out when ids are dense (id = position + 1); else a sorted id table. -1 on OOM. */
#define BUILD_ID_INDEX(out, arr, n)                                                                \
    ({                                                                                             \
        size_t i_ = 0;                                                                             \
        while (i_ < (n) && (arr)[i_]->id == i_ + 1)                                                \
            i_++;                                                                                  \
        *(out) = i_ == (n) ? NULL : malloc((n) * sizeof(struct id_pos));                           \
        for (i_ = 0; *(out) && i_ < (n); i_++)                                                     \
            (*(out))[i_] = (struct id_pos){(arr)[i_]->id, i_};                                     \
        if (*(out))                                                                                \
            qsort(*(out), (n), sizeof(struct id_pos), cmp_id_pos);                                 \
        i_ == (n) || *(out) ? 0 : -1;                                                              \
    })

/* Position of `id` (the reader guarantees it exists). */
static size_t id_pos(const struct id_pos *index, size_t n, uint64_t id) {
    if (!index)
        return id - 1;
    struct id_pos key = {id, 0};
    const struct id_pos *hit = bsearch(&key, index, n, sizeof(key), cmp_id_pos);
    return hit ? hit->pos : 0;
}

static const char *function_name(const struct top *t, uint64_t function_id) {
    const profile_t *p = t->p;
    const Perftools__Profiles__Function *f =
        p->function[id_pos(t->fn_ids, p->n_function, function_id)];
    const char *name = pprof_profile_string(p, f->name);
    if (!*name)
        name = pprof_profile_string(p, f->system_name);
    return *name ? name : "<unknown>";
}

/* Resolves every location to its frames (node indices, leaf first). -1 when out of memory. */
static int build_frames(struct top *t) {
    const profile_t *p = t->p;
    size_t n_frames = 0;
    for (size_t i = 0; i < p->n_location; i++)
        n_frames += p->location[i]->n_line ? p->location[i]->n_line : 1;
    size_t cap = 64;
    while (cap < 2 * n_frames)
        cap *= 2;
    t->nodes = malloc((n_frames + 1) * sizeof(*t->nodes));
    t->name_slots = calloc(cap, sizeof(*t->name_slots));
    t->frames = malloc((n_frames + 1) * sizeof(*t->frames));
    t->loc_off = malloc((p->n_location + 1) * sizeof(*t->loc_off));
    t->loc_n = malloc((p->n_location + 1) * sizeof(*t->loc_n));
    if (!t->nodes || !t->name_slots || !t->frames || !t->loc_off || !t->loc_n)
        return -1;
    t->slot_mask = cap - 1;
    if (BUILD_ID_INDEX(&t->loc_ids, p->location, p->n_location) != 0 ||
        BUILD_ID_INDEX(&t->fn_ids, p->function, p->n_function) != 0)
        return -1;
    size_t off = 0;
    for (size_t i = 0; i < p->n_location; i++) {
        const Perftools__Profiles__Location *loc = p->location[i];
        t->loc_off[i] = off;
        t->loc_n[i] = loc->n_line ? loc->n_line : 1;
        if (!loc->n_line) {
            char *name = address_name(p, loc);
            if (!name)
                return -1;
            t->frames[off++] = node_for(t, name, name);
            t->nodes[t->frames[off - 1]].outer = true;
        }
        for (size_t j = 0; j < loc->n_line; j++) {
            size_t node = node_for(t, function_name(t, loc->line[j]->function_id), NULL);
            t->nodes[node].outer |= j + 1 == loc->n_line;
            t->frames[off++] = node;
        }
    }
    return 0;
}

/* Adds every sample's value to its leaf's flat and, once per sample, to each frame's cum. */
static void accumulate(struct top *t) {
    const profile_t *p = t->p;
    for (size_t s = 0; s < p->n_sample; s++) {
        const Perftools__Profiles__Sample *sample = p->sample[s];
        int64_t v = sample->value[t->column];
        t->total += v < 0 ? -v : v;
        for (size_t i = 0; i < sample->n_location_id; i++) {
            size_t loc = id_pos(t->loc_ids, p->n_location, sample->location_id[i]);
            for (size_t j = 0; j < t->loc_n[loc]; j++) {
                struct node *n = &t->nodes[t->frames[t->loc_off[loc] + j]];
                if (i == 0 && j == 0)
                    n->flat += v;
                if (n->last_sample != s + 1)
                    n->cum += v;
                n->last_sample = s + 1;
            }
        }
    }
}

static int cmp_nodes(const void *a, const void *b, void *by_cum) {
    const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
    int64_t kx[2] = {llabs(x->flat), llabs(x->cum)}, ky[2] = {llabs(y->flat), llabs(y->cum)};
    int first = *(bool *)by_cum ? 1 : 0;
    for (int k = 0; k < 2; k++) {
        int i = k == 0 ? first : 1 - first;
        if (kx[i] != ky[i])
            return kx[i] > ky[i] ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

/* ---- report --------------------------------------------------------------------------------- */

static void print_header(const struct top *t, const char *unit) {
    const profile_t *p = t->p;
    const char *file = p->n_mapping ? pprof_profile_string(p, p->mapping[0]->filename) : "";
    const char *build_id = p->n_mapping ? pprof_profile_string(p, p->mapping[0]->build_id) : "";
    if (*file)
        printf("File: %s\n", base_name(file));
    if (*build_id)
        printf("Build ID: %s\n", build_id);
    for (size_t i = 0; i < p->n_comment; i++) {
        const char *c = pprof_profile_string(p, p->comment[i]);
        if (c[0] != '#')
            printf("%s\n", c);
    }
    printf("Type: %s\n", pprof_profile_string(p, p->sample_type[t->column]->type));
    if (p->time_nanos) {
        time_t sec = (time_t)(p->time_nanos / 1000000000);
        struct tm tm;
        char when[64];
        if (localtime_r(&sec, &tm) &&
            strftime(when, sizeof(when), "%b %-d, %Y at %-I:%M%P (%Z)", &tm))
            printf("Time: %s\n", when);
    }
    if (p->duration_nanos) {
        char dur[32], tot[32], pct[16] = "";
        bool is_time = false;
        double base = unit_base(unit, &is_time);
        format_value(p->duration_nanos, "nanoseconds", dur, sizeof(dur));
        format_value(t->total, unit, tot, sizeof(tot));
        printf("Duration: %s, Total samples = %s", dur, tot);
        if (is_time && t->total) {
            format_pct((int64_t)((double)t->total * base), p->duration_nanos, pct, sizeof(pct));
            printf(" (%s)", pct); /* pprof keeps the padding: "( 2.80%)" */
        }
        printf("\n");
    }
}

static void print_rows(const struct top *t, struct node **order, size_t n_rows, const char *unit) {
    int64_t shown = 0, sum = 0;
    for (size_t i = 0; i < n_rows; i++)
        shown += order[i]->flat;
    char a[32], b[32], c[32], d[16], e[16], f[16];
    format_value(shown, unit, a, sizeof(a));
    format_pct(shown, t->total, d, sizeof(d));
    format_value(t->total, unit, b, sizeof(b));
    printf("Showing nodes accounting for %s, %s of %s total\n", a, d + strspn(d, " "), b);
    if (n_rows < t->n_nodes)
        printf("Showing top %zu nodes out of %zu\n", n_rows, t->n_nodes);
    printf("%10s %5s%% %4s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
    for (size_t i = 0; i < n_rows; i++) {
        const struct node *n = order[i];
        sum += n->flat;
        format_value(n->flat, unit, a, sizeof(a));
        format_pct(n->flat, t->total, d, sizeof(d));
        format_pct(sum, t->total, e, sizeof(e));
        format_value(n->cum, unit, c, sizeof(c));
        format_pct(n->cum, t->total, f, sizeof(f));
        printf("%10s %s %s %10s %s  %s%s\n", a, d, e, c, f, n->name, n->outer ? "" : " (inline)");
    }
}

/* Aggregates and prints; returns 0, or -1 when out of memory. */
static int report(struct top *t, const struct top_opts *opts) {
    const char *unit = pprof_profile_string(t->p, t->p->sample_type[t->column]->unit);
    if (build_frames(t) != 0)
        return -1;
    accumulate(t);
    struct node **order = malloc((t->n_nodes + 1) * sizeof(*order));
    if (!order)
        return -1;
    for (size_t i = 0; i < t->n_nodes; i++)
        order[i] = &t->nodes[i];
    bool by_cum = opts->by_cum;
    qsort_r(order, t->n_nodes, sizeof(*order), cmp_nodes, &by_cum);
    size_t n_rows = t->n_nodes;
    if (opts->max_rows > 0 && (size_t)opts->max_rows < n_rows)
        n_rows = (size_t)opts->max_rows;
    print_header(t, unit);
    print_rows(t, order, n_rows, unit);
    free(order);
    return 0;
}

static void top_fini(struct top *t) {
    for (size_t i = 0; t->nodes && i < t->n_nodes; i++)
        free(t->nodes[i].owned_name);
    free(t->nodes);
    free(t->name_slots);
    free(t->frames);
    free(t->loc_off);
    free(t->loc_n);
    free(t->loc_ids);
    free(t->fn_ids);
}

int cli_top(int argc, char **argv) {
    struct top_opts opts;
    int status = parse_args(argc, argv, &opts);
    if (status >= 0)
        return status;
    struct top t;
    memset(&t, 0, sizeof(t));
    struct ltprof_error err;
    profile_t *p = NULL;
    if (pprof_read_file(opts.path, &p, &err) != LTPROF_OK) {
        fprintf(stderr, "ltprof top: %s: %s\n", opts.path, err.message);
        return 1;
    }
    t.p = p;
    long column = pick_column(p, opts.sample_index);
    if (column < 0 && opts.sample_index) {
        fprintf(stderr, "ltprof top: %s: no sample type \"%s\"\n", opts.path, opts.sample_index);
        status = 2;
    } else if (column < 0) {
        fprintf(stderr, "ltprof top: %s: profile has no sample types\n", opts.path);
        status = 1;
    } else {
        t.column = (size_t)column;
        status = report(&t, &opts) == 0 ? 0 : 1;
        if (status)
            fprintf(stderr, "ltprof top: %s: out of memory\n", opts.path);
    }
    top_fini(&t);
    pprof_profile_free(p);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "ltprof top: %s: cannot write output: %s\n", opts.path, strerror(errno));
        status = 1;
    }
    return status;
}
