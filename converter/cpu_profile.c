/* SPDX-License-Identifier: MIT */
/*
 * cpu.pb.gz: CPU samples counted per thread and stack (a stack id of stacks.c, shared with the
 * execution trace), one pprof profile with Go's CPU sample types. A thread's counts go into the
 * profile when it exits, streamed into the gzip output (profile_out.c), so a long trace with
 * many short threads keeps only its live threads' counts and the profile's tables in memory.
 * Face: converter/internal.h (cv_cpu_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pprof_builder.h"

/* ---- counts per thread --------------------------------------------------------------------- */

static uint64_t stack_slot_hash(uint32_t stack, uint32_t labels)
{
    return ((uint64_t)(stack + 1) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)labels * 0xc2b2ae3d27d4eb4fULL) >> 20;
}

int cv_cpu_count(struct cv_thread *t, uint32_t stack, uint32_t labels, uint64_t weight_ns)
{
    struct cv_cpu_counts *c = &t->cpu;
    if ((c->n + 1) * 2 > c->cap_slots) { /* load under 1/2; rebuilt from the items */
        size_t cap = c->cap_slots ? c->cap_slots * 2 : 16;
        uint32_t *slots = cv_calloc(cap, sizeof(*slots));
        struct cv_cpu_count *items = slots ? cv_realloc(c->items, cap / 2 * sizeof(*items)) : NULL;
        if (!items) {
            free(slots);
            return LTPROF_ERR_NOMEM;
        }
        for (size_t i = 0; i < c->n; i++) {
            size_t j = stack_slot_hash(items[i].stack, items[i].labels) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(c->slots);
        c->slots = slots, c->items = items, c->cap_slots = cap;
    }
    size_t j = stack_slot_hash(stack, labels) & (c->cap_slots - 1);
    while (c->slots[j] && (c->items[c->slots[j] - 1].stack != stack ||
                           c->items[c->slots[j] - 1].labels != labels))
        j = (j + 1) & (c->cap_slots - 1);
    if (!c->slots[j]) {
        c->items[c->n] = (struct cv_cpu_count){stack, labels, 0, 0};
        c->slots[j] = (uint32_t)++c->n;
    }
    struct cv_cpu_count *e = &c->items[c->slots[j] - 1];
    e->count++;
    e->weight_ns += weight_ns;
    return 0;
}

void cv_cpu_counts_fini(struct cv_cpu_counts *c)
{
    free(c->items);
    free(c->slots);
    memset(c, 0, sizeof(*c));
}

/* ---- the profile --------------------------------------------------------------------------- */

/* The profile, streaming into <output_dir>/cpu.pb.gz, made on first use. */
static int cpu_ready(struct cv_state *st, struct ltprof_error *err)
{
    if (st->profiles[CV_PROFILE_CPU])
        return 0;
    if (st->cpu_failed)
        return LTPROF_ERR_IO; /* reported when it failed */
    uint64_t period = st->cpu_period_ns ? st->cpu_period_ns : 10000000;
    int rc = cv_profile_open(st, "cpu", (int64_t)period, &st->profiles[CV_PROFILE_CPU], err);
    st->cpu_failed = rc != 0;
    return rc;
}

int cv_cpu_thread_done(struct cv_state *st, struct cv_thread *t, struct ltprof_error *err)
{
    struct cv_cpu_counts *c = &t->cpu;
    if (!c->n)
        return 0;
    int rc = cpu_ready(st, err);
    char fallback[32];
    const char *name = t->name;
    if (!name || !*name) {
        snprintf(fallback, sizeof(fallback), "thread-%u", t->tid);
        name = fallback;
    }
    struct pprof_label labels[3 + CV_MAX_LABELS] = {
        {.key = "thread", .str = name},
        {.key = "tid", .num = t->tid},
        {.key = "pid", .num = t->pid},
    };
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        int64_t values[2] = {(int64_t)c->items[i].count, (int64_t)c->items[i].weight_ns};
        size_t n = 3 + cv_state_labels(st, t->pid, c->items[i].labels, labels + 3, CV_MAX_LABELS);
        rc = cv_profile_sample(st, st->profiles[CV_PROFILE_CPU], c->items[i].stack, values,
                               labels, n, err);
    }
    cv_cpu_counts_fini(c);
    return rc;
}

static int add_comments(struct cv_state *st, struct pprof_builder *b)
{
    char text[256];
    const struct cv_summary *sm = &st->summary;
    double complete = sm->cpu_samples ? 100.0 * (double)sm->complete_stacks / (double)sm->cpu_samples : 0;
    snprintf(text, sizeof(text), "ltprof: %llu CPU samples, engine %s, %.1f%% of stacks complete",
             (unsigned long long)sm->cpu_samples, sm->cpu_engine[0] ? sm->cpu_engine : "unknown",
             complete);
    return pprof_builder_add_comment(b, text);
}

int cv_cpu_profile_write(struct cv_state *st, struct ltprof_error *err)
{
    int rc = cpu_ready(st, err);
    for (size_t i = 0; rc == 0 && i < st->threads.len; i++)
        rc = cv_cpu_thread_done(st, CV_VEC_AT(&st->threads, struct cv_thread, i), err);
    if (rc)
        return rc;
    struct cv_profile *pr = st->profiles[CV_PROFILE_CPU];
    struct pprof_builder *b = cv_profile_builder(pr);
    if (st->have_time) { /* a span of more than 2^63 ns only comes from broken clocks */
        uint64_t span = (uint64_t)st->last_ns - (uint64_t)st->first_ns;
        pprof_builder_set_time(b, st->first_ns, span > INT64_MAX ? INT64_MAX : (int64_t)span);
    }
    if ((rc = add_comments(st, b)) != 0)
        return cv_error(err, rc, "failed to build the CPU profile: %s", cv_status_text(rc));
    return cv_profile_finish(st, pr, err);
}
