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
    const char *unit;     /* the sample type's unit */
    const char *out_unit; /* the unit values are printed in */
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

/* Units pprof scales (measurement.go): memory and time, each with its steps and aliases. */
struct unit_step {
    const char *name; /* canonical name, as printed */
    double factor;    /* bytes or nanoseconds */
};

static const struct unit_step mem_steps[] = {{"B", 1},
                                             {"kB", 1024.0},
                                             {"MB", 1024.0 * 1024},
                                             {"GB", 1024.0 * 1024 * 1024},
                                             {"TB", 1024.0 * 1024 * 1024 * 1024},
                                             {"PB", 1024.0 * 1024 * 1024 * 1024 * 1024}};
static const struct unit_step time_steps[] = {
    {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"hrs", 3600e9}};

static const struct {
    const char *alias;
    bool time;
    double factor;
} unit_aliases[] = {{"b", false, 1},
                    {"byte", false, 1},
                    {"kb", false, 1024.0},
                    {"kbyte", false, 1024.0},
                    {"kilobyte", false, 1024.0},
                    {"mb", false, 1024.0 * 1024},
                    {"mbyte", false, 1024.0 * 1024},
                    {"megabyte", false, 1024.0 * 1024},
                    {"gb", false, 1024.0 * 1024 * 1024},
                    {"gbyte", false, 1024.0 * 1024 * 1024},
                    {"gigabyte", false, 1024.0 * 1024 * 1024},
                    {"tb", false, 1024.0 * 1024 * 1024 * 1024},
                    {"pb", false, 1024.0 * 1024 * 1024 * 1024 * 1024},
                    {"ns", true, 1},
                    {"nanosecond", true, 1},
                    {"us", true, 1e3},
                    {"microsecond", true, 1e3},
                    {"ms", true, 1e6},
                    {"millisecond", true, 1e6},
                    {"s", true, 1e9},
                    {"sec", true, 1e9},
                    {"second", true, 1e9},
                    {"hr", true, 3600e9},
                    {"hour", true, 3600e9}};

/* pprof's sniffUnit: lower-case, drop a plural "s", look up the alias. */
static bool sniff_unit(const char *unit, bool *time, double *factor) {
    char low[32];
    size_t n = strlen(unit);
    if (n >= sizeof(low))
        return false;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(unit[i] >= 'A' && unit[i] <= 'Z' ? unit[i] - 'A' + 'a' : unit[i]);
    if (n > 2 && low[n - 1] == 's')
        low[n - 1] = '\0';
    for (size_t i = 0; i < sizeof(unit_aliases) / sizeof(unit_aliases[0]); i++) {
        if (strcmp(low, unit_aliases[i].alias) == 0) {
            *time = unit_aliases[i].time;
            *factor = unit_aliases[i].factor;
            return true;
        }
    }
    return false;
}

/* pprof's Scale: v in `from` expressed in `to` ("auto" = the largest unit giving >= 1). The
 * unit name goes to *unit ("" for plain counts). */
static double scale_value(int64_t v, const char *from, const char *to, const char **unit) {
    bool time, to_time;
    double factor, to_factor;
    if (!sniff_unit(from, &time, &factor)) {
        static const char *plain[] = {"count", "sample", "unit", "minimum", "auto"};
        *unit = to;
        for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
            *unit = strcmp(to, plain[i]) == 0 ? "" : *unit;
        return (double)v;
    }
    const struct unit_step *steps = time ? time_steps : mem_steps;
    size_t n = time ? sizeof(time_steps) / sizeof(time_steps[0])
                    : sizeof(mem_steps) / sizeof(mem_steps[0]);
    const struct unit_step *dflt = time ? &time_steps[3] : &mem_steps[0];
    double x = (double)v * factor, ax = x < 0 ? -x : x;
    if (strcmp(to, "auto") == 0 || strcmp(to, "minimum") == 0) {
        const struct unit_step *best = NULL;
        for (size_t i = 0; i < n; i++)
            best = ax / steps[i].factor >= 1.0 ? &steps[i] : best;
        dflt = best ? best : dflt;
    } else if (sniff_unit(to, &to_time, &to_factor) && to_time == time) {
        for (size_t i = 0; i < n; i++)
            dflt = steps[i].factor == to_factor ? &steps[i] : dflt;
    }
    *unit = dflt->name;
    return x / dflt->factor;
}

/* pprof's ScaledLabel: "2.99s", "512.05kB", "10ms", "0", "23". */
static void format_value(int64_t v, const char *from, const char *to, char *buf, size_t size) {
    const char *unit;
    double x = scale_value(v, from, to, &unit);
    snprintf(buf, size, "%.2f", x);
    size_t len = strlen(buf);
    if (len > 3 && strcmp(buf + len - 3, ".00") == 0)
        buf[len -= 3] = '\0';
    if (strcmp(buf, "0") == 0 || strcmp(buf, "-0") == 0)
        return;
    snprintf(buf + len, size - len, "%s", unit);
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
        /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): a used slot's node is named */
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
        bool dense_ = i_ == (n);                                                                   \
        *(out) = dense_ ? NULL : malloc((n) * sizeof(struct id_pos));                              \
        for (i_ = 0; *(out) && i_ < (n); i_++)                                                     \
            (*(out))[i_] = (struct id_pos){(arr)[i_]->id, i_};                                     \
        if (*(out))                                                                                \
            qsort(*(out), (n), sizeof(struct id_pos), cmp_id_pos);                                 \
        dense_ || *(out) ? 0 : -1;                                                                 \
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
        if (v == 0)
            continue; /* like pprof's graph: such samples create no nodes */
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

/* pprof's FlatNameOrder / CumNameOrder: |flat| (|cum|) desc, name, then the other desc. */
static int cmp_nodes(const void *a, const void *b, void *by_cum) {
    const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
    bool cum = *(bool *)by_cum;
    int64_t x1 = llabs(cum ? x->cum : x->flat), y1 = llabs(cum ? y->cum : y->flat);
    int64_t x2 = llabs(cum ? x->flat : x->cum), y2 = llabs(cum ? y->flat : y->cum);
    if (x1 != y1)
        return x1 > y1 ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c != 0 || x2 == y2)
        return c;
    return x2 > y2 ? -1 : 1;
}

/* pprof's selectOutputUnit: one unit for the report, from the smallest non-zero row value and
 * the total (scaled up when they are more than 100x apart). */
static void select_output_unit(struct top *t, struct node **rows, size_t n_rows) {
    int64_t min = 0, max = t->total;
    if (n_rows == 0) {
        t->out_unit = "minimum"; /* pprof keeps per-value scaling then */
        return;
    }
    for (size_t i = 0; i < n_rows; i++) {
        int64_t v = llabs(rows[i]->flat) ? llabs(rows[i]->flat) : llabs(rows[i]->cum);
        if (v > 0 && (min == 0 || v < min))
            min = v;
    }
    min = min ? min : max;
    const char *min_unit, *max_unit, *unit;
    scale_value(min, t->unit, "minimum", &min_unit);
    scale_value(max, t->unit, "minimum", &max_unit);
    unit = min_unit;
    if (strcmp(min_unit, max_unit) != 0 && min * 100 < max)
        scale_value(100 * min, t->unit, "minimum", &unit);
    t->out_unit = *unit ? unit : t->unit;
}

static void print_header(const struct top *t) {
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
        const char *ns_unit;
        double total_ns = scale_value(t->total, t->unit, "nanoseconds", &ns_unit);
        format_value(p->duration_nanos, "nanoseconds", "auto", dur, sizeof(dur));
        format_value(t->total, t->unit, t->out_unit, tot, sizeof(tot));
        if (strcmp(ns_unit, "ns") == 0 && total_ns != 0) {
            format_pct((int64_t)total_ns, p->duration_nanos, pct + 1, sizeof(pct) - 2);
            pct[0] = '(';
            size_t l = strlen(pct); /* at most sizeof(pct) - 2: room for ")" and its NUL */
            memcpy(pct + l, ")", 2);
        }
        printf("Duration: %s, Total samples = %s %s\n", dur, tot, pct);
    }
}

static void print_legend(const struct top *t, struct node **rows, size_t n_rows, size_t n_kept,
                         size_t n_dropped, int64_t cutoff) {
    int64_t shown = 0;
    for (size_t i = 0; i < n_rows; i++)
        shown += rows[i]->flat;
    char a[32], b[32], pct[16];
    format_value(shown, t->unit, t->out_unit, a, sizeof(a));
    format_pct(shown, t->total, pct, sizeof(pct));
    format_value(t->total, t->unit, t->out_unit, b, sizeof(b));
    printf("Showing nodes accounting for %s, %s of %s total\n", a, pct + strspn(pct, " "), b);
    if (t->total && n_dropped) {
        format_value(cutoff, t->unit, t->out_unit, a, sizeof(a));
        printf("Dropped %zu node%s (cum <= %s)\n", n_dropped, n_dropped > 1 ? "s" : "", a);
    }
    if (t->total && n_rows > 0 && n_rows < n_kept)
        printf("Showing top %zu nodes out of %zu\n", n_rows, n_kept);
}

static void print_rows(const struct top *t, struct node **rows, size_t n_rows) {
    int64_t sum = 0;
    char a[32], c[32], d[16], e[16], f[16];
    printf("      flat  flat%%   sum%%        cum   cum%%\n");
    for (size_t i = 0; i < n_rows; i++) {
        const struct node *n = rows[i];
        sum += n->flat;
        format_value(n->flat, t->unit, t->out_unit, a, sizeof(a));
        format_pct(n->flat, t->total, d, sizeof(d));
        format_pct(sum, t->total, e, sizeof(e));
        format_value(n->cum, t->unit, t->out_unit, c, sizeof(c));
        format_pct(n->cum, t->total, f, sizeof(f));
        printf("%10s %s %s %10s %s  %s%s\n", a, d, e, c, f, n->name, n->outer ? "" : " (inline)");
    }
}

/* Aggregates, drops nodes under pprof's 0.5% cum cutoff, sorts and prints. -1 when OOM. */
static int report(struct top *t, const struct top_opts *opts) {
    t->unit = pprof_profile_string(t->p, t->p->sample_type[t->column]->unit);
    if (build_frames(t) != 0)
        return -1;
    accumulate(t);
    struct node **rows = malloc((t->n_nodes + 1) * sizeof(*rows));
    if (!rows)
        return -1;
    int64_t flat_sum = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        flat_sum += t->nodes[i].flat;
    int64_t cutoff = llabs((int64_t)((double)flat_sum * 0.005));
    size_t n_kept = 0, n_seen = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        if (t->nodes[i].last_sample == 0)
            continue; /* in no sample: pprof has no node for it */
        n_seen++;
        if (llabs(t->nodes[i].cum) >= cutoff)
            rows[n_kept++] = &t->nodes[i];
    }
    bool by_cum = opts->by_cum;
    qsort_r(rows, n_kept, sizeof(*rows), cmp_nodes, &by_cum);
    size_t n_rows = n_kept;
    if (opts->max_rows > 0 && (size_t)opts->max_rows < n_rows)
        n_rows = (size_t)opts->max_rows;
    select_output_unit(t, rows, n_rows);
    print_header(t);
    print_legend(t, rows, n_rows, n_kept, n_seen - n_kept, cutoff);
    print_rows(t, rows, n_rows);
    free(rows);
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
