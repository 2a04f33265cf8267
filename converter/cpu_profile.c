/* SPDX-License-Identifier: MIT */
/*
 * cpu.pb.gz: CPU samples counted per thread and stack (a stack id of stacks.c, shared with the
 * execution trace), one pprof profile with Go's CPU sample types. A thread's counts go into the
 * profile when it exits, streamed into the gzip output, so a long trace with many short threads
 * keeps only its live threads' counts and the profile's tables in memory. Locations come from
 * the shared symbolizer (proc_sym.c) and are cached per stack; the shared pprof builder encodes.
 * A failed conversion removes the half-written file. Face: converter/internal.h (cv_cpu_*).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "pprof_builder.h"
#include "sym.h"
#include "timeline.h"

#define MAX_LINES 16 /* inline depth kept per address */

/* A process's pprof mappings, by index in its module list, for one symbolizer session. */
struct cpu_proc {
    uint32_t sym_epoch;
    uint64_t *mapping_ids; /* 0 = not added yet */
    size_t cap;
};

/* The pprof locations of a stack (per stack id), for one symbolizer session of its process. */
struct stack_locs {
    uint32_t sym_epoch; /* 0 = not cached */
    uint32_t n;
    size_t offset; /* into loc_pool */
};

struct cv_cpu_profile {
    struct pprof_builder *b;
    FILE *f;
    bool write_failed;
    int write_errno;
    struct cv_vec procs;      /* struct cpu_proc, parallel to st->processes */
    struct cv_vec stack_locs; /* struct stack_locs, by stack id - 1 */
    struct cv_vec loc_pool;   /* uint64_t */
};

/* ---- counts per thread --------------------------------------------------------------------- */

static uint64_t stack_slot_hash(uint32_t stack)
{
    return (uint64_t)(stack + 1) * 0x9e3779b97f4a7c15ULL >> 20;
}

int cv_cpu_count(struct cv_thread *t, uint32_t stack, uint64_t weight_ns)
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
            size_t j = stack_slot_hash(items[i].stack) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(c->slots);
        c->slots = slots, c->items = items, c->cap_slots = cap;
    }
    size_t j = stack_slot_hash(stack) & (c->cap_slots - 1);
    while (c->slots[j] && c->items[c->slots[j] - 1].stack != stack)
        j = (j + 1) & (c->cap_slots - 1);
    if (!c->slots[j]) {
        c->items[c->n] = (struct cv_cpu_count){stack, 0, 0};
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

/* ---- symbolization ------------------------------------------------------------------------- */

/* The pprof mapping of the module holding `addr` (added on first use), or 0 (none known). */
static int mapping_for(struct pprof_builder *b, struct cpu_proc *cp, struct cv_process *p,
                       uint64_t addr, struct sym_module **mod_out, uint64_t *id)
{
    size_t i;
    struct sym_module *mod = cv_proc_sym_module(p, addr, &i);
    *mod_out = mod, *id = 0;
    if (!mod)
        return 0;
    if (cp->sym_epoch != p->sym_epoch || cp->cap < p->n_modules) {
        size_t cap = p->n_modules + 8;
        uint64_t *ids = cv_calloc(cap, sizeof(*ids));
        if (!ids)
            return LTPROF_ERR_NOMEM;
        if (cp->sym_epoch == p->sym_epoch && cp->mapping_ids)
            memcpy(ids, cp->mapping_ids, cp->cap * sizeof(*ids));
        free(cp->mapping_ids);
        cp->mapping_ids = ids, cp->cap = cap, cp->sym_epoch = p->sym_epoch;
    }
    if (!cp->mapping_ids[i]) {
        const struct sym_module_info *info = sym_module_info(mod);
        unsigned flags = 0;
        if (info->file_found && info->build_id_matches) {
            flags |= PPROF_HAS_FUNCTIONS;
            if (info->has_dwarf)
                flags |= PPROF_HAS_FILENAMES | PPROF_HAS_LINE_NUMBERS | PPROF_HAS_INLINE_FRAMES;
        }
        cp->mapping_ids[i] = pprof_builder_add_mapping(
            b, info->exec_start, info->exec_limit, info->exec_file_offset, p->modules[i].path,
            info->build_id_hex[0] ? info->build_id_hex : NULL, flags);
        if (!cp->mapping_ids[i])
            return LTPROF_ERR_NOMEM;
    }
    *id = cp->mapping_ids[i];
    return 0;
}

static uint64_t location_for(struct pprof_builder *b, struct cpu_proc *cp, struct cv_process *p,
                             uint64_t addr)
{
    struct sym_frame frames[MAX_LINES];
    struct pprof_line lines[MAX_LINES];
    struct sym_module *mod;
    uint64_t mapping;
    if (mapping_for(b, cp, p, addr, &mod, &mapping) != 0)
        return 0;
    size_t n = mod ? sym_lookup(p->sym, mod, addr, frames, MAX_LINES) : 0;
    for (size_t i = 0; i < n; i++)
        lines[i] = (struct pprof_line){frames[i].function, frames[i].system_name, frames[i].file,
                                       frames[i].line};
    return pprof_builder_add_location(b, mapping, addr, lines, n);
}

/* The location ids of a stack, leaf first (cached per stack and symbolizer session). */
static int stack_locations(struct cv_state *st, struct cv_cpu_profile *cpu, uint32_t stack,
                           const uint64_t **locs, uint32_t *n)
{
    *locs = NULL, *n = 0;
    const struct cv_stack *s = cv_stack_get(&st->stacks, stack);
    if (!s)
        return 0; /* an empty stack */
    struct cv_process *p = cv_state_process(st, s->pid);
    if (!p)
        return LTPROF_ERR_NOMEM;
    int rc = cv_proc_sym_sync(p);
    size_t pi = (size_t)(p - CV_VEC_AT(&st->processes, struct cv_process, 0));
    while (rc == 0 && cpu->procs.len <= pi)
        rc = cv_vec_push(&cpu->procs) ? 0 : LTPROF_ERR_NOMEM;
    while (rc == 0 && cpu->stack_locs.len < stack)
        rc = cv_vec_push(&cpu->stack_locs) ? 0 : LTPROF_ERR_NOMEM;
    if (rc)
        return rc;
    struct stack_locs *sl = CV_VEC_AT(&cpu->stack_locs, struct stack_locs, stack - 1);
    if (sl->sym_epoch != p->sym_epoch + 1) {
        struct cpu_proc *cp = CV_VEC_AT(&cpu->procs, struct cpu_proc, pi);
        uint64_t ids[CV_MAX_FRAMES];
        const uint64_t *pcs = cv_stack_pcs(&st->stacks, s);
        for (uint32_t i = 0; i < s->n; i++) {
            /* Callers' PCs are return addresses: step back into the call instruction. */
            uint64_t addr = i == 0 && s->exact_leaf ? pcs[i] : pcs[i] - 1;
            if (!(ids[i] = location_for(cpu->b, cp, p, addr)))
                return LTPROF_ERR_NOMEM;
        }
        size_t off = cv_vec_append(&cpu->loc_pool, ids, s->n);
        if (off == SIZE_MAX)
            return LTPROF_ERR_NOMEM;
        *sl = (struct stack_locs){p->sym_epoch + 1, s->n, off};
    }
    *locs = CV_VEC_AT(&cpu->loc_pool, uint64_t, sl->offset);
    *n = sl->n;
    return 0;
}

/* ---- the profile --------------------------------------------------------------------------- */

static int file_write(void *ctx, const void *data, size_t len)
{
    struct cv_cpu_profile *cpu = ctx;
    if (fwrite(data, 1, len, cpu->f) == len)
        return 0;
    cpu->write_failed = true;
    cpu->write_errno = errno ? errno : EIO;
    return -1;
}

/* The profile, streaming into <output_dir>/cpu.pb.gz, made on first use. */
static int cpu_ready(struct cv_state *st, struct ltprof_error *err)
{
    if (st->cpu)
        return st->cpu->b ? 0 : LTPROF_ERR_IO; /* a failed one stays failed */
    struct cv_cpu_profile *cpu = cv_calloc(1, sizeof(*cpu));
    if (!cpu)
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    st->cpu = cpu;
    cv_vec_init(&cpu->procs, sizeof(struct cpu_proc));
    cv_vec_init(&cpu->stack_locs, sizeof(struct stack_locs));
    cv_vec_init(&cpu->loc_pool, sizeof(uint64_t));
    int rc = cv_output_dir_make(st, err);
    if (rc)
        return rc;
    snprintf(st->summary.cpu_profile_path, sizeof(st->summary.cpu_profile_path), "%s/cpu.pb.gz",
             st->output_dir);
    if (!(cpu->f = fopen(st->summary.cpu_profile_path, "wb"))) {
        rc = cv_error(err, LTPROF_ERR_IO, "failed to create \"%s\": %s",
                      st->summary.cpu_profile_path, strerror(errno));
        st->summary.cpu_profile_path[0] = '\0';
        return rc;
    }
    uint64_t period = st->cpu_period_ns ? st->cpu_period_ns : 10000000;
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("cpu"), (int64_t)period);
    if (!b || (rc = pprof_builder_stream(b, file_write, cpu)) != 0) {
        pprof_builder_destroy(b);
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    }
    cpu->b = b;
    return 0;
}

static int write_error(struct cv_state *st, int rc, struct ltprof_error *err)
{
    if (st->cpu->write_failed)
        return cv_error(err, LTPROF_ERR_IO, "failed to write \"%s\": %s",
                        st->summary.cpu_profile_path, strerror(st->cpu->write_errno));
    return cv_error(err, rc, "failed to build the CPU profile: %s", cv_status_text(rc));
}

int cv_cpu_thread_done(struct cv_state *st, struct cv_thread *t, struct ltprof_error *err)
{
    struct cv_cpu_counts *c = &t->cpu;
    if (!c->n)
        return 0;
    int rc = cpu_ready(st, err);
    if (rc)
        return rc;
    char fallback[32];
    const char *name = t->name;
    if (!name || !*name) {
        snprintf(fallback, sizeof(fallback), "thread-%u", t->tid);
        name = fallback;
    }
    struct pprof_label labels[3] = {
        {.key = "thread", .str = name},
        {.key = "tid", .num = t->tid},
        {.key = "pid", .num = t->pid},
    };
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        const uint64_t *locs;
        uint32_t n;
        int64_t values[2] = {(int64_t)c->items[i].count, (int64_t)c->items[i].weight_ns};
        rc = stack_locations(st, st->cpu, c->items[i].stack, &locs, &n);
        if (rc == 0)
            rc = pprof_builder_add_final_sample(st->cpu->b, locs, n, values, labels, 3);
    }
    cv_cpu_counts_fini(c);
    return rc ? write_error(st, rc, err) : 0;
}

static int add_comments(struct cv_state *st, struct pprof_builder *b)
{
    char text[256];
    const struct cv_summary *sm = &st->summary;
    double complete = sm->cpu_samples ? 100.0 * (double)sm->complete_stacks / (double)sm->cpu_samples : 0;
    snprintf(text, sizeof(text), "ltprof: %llu CPU samples, engine %s, %.1f%% of stacks complete",
             (unsigned long long)sm->cpu_samples, sm->cpu_engine[0] ? sm->cpu_engine : "unknown",
             complete);
    int rc = pprof_builder_add_comment(b, text);
    if (rc == 0 && sm->discarded_events) {
        snprintf(text, sizeof(text), "ltprof: the tracer lost %llu events: the profile is incomplete",
                 (unsigned long long)sm->discarded_events);
        rc = pprof_builder_add_comment(b, text);
    }
    return rc;
}

int cv_cpu_profile_write(struct cv_state *st, struct ltprof_error *err)
{
    int rc = cpu_ready(st, err);
    for (size_t i = 0; rc == 0 && i < st->threads.len; i++)
        rc = cv_cpu_thread_done(st, CV_VEC_AT(&st->threads, struct cv_thread, i), err);
    if (rc)
        return rc;
    struct cv_cpu_profile *cpu = st->cpu;
    if (st->have_time)
        pprof_builder_set_time(cpu->b, st->first_ns, st->last_ns - st->first_ns);
    if ((rc = add_comments(st, cpu->b)) == 0)
        rc = pprof_builder_write(cpu->b, file_write, cpu);
    if (rc == 0 && fflush(cpu->f) != 0)
        cpu->write_failed = true, cpu->write_errno = errno;
    if (rc || cpu->write_failed)
        return write_error(st, rc ? rc : LTPROF_ERR_IO, err);
    FILE *f = cpu->f;
    cpu->f = NULL;
    if (fclose(f) != 0) {
        cpu->write_failed = true, cpu->write_errno = errno;
        unlink(st->summary.cpu_profile_path);
        rc = write_error(st, LTPROF_ERR_IO, err);
        st->summary.cpu_profile_path[0] = '\0';
        return rc;
    }
    return 0;
}

void cv_cpu_profile_destroy(struct cv_state *st)
{
    struct cv_cpu_profile *cpu = st->cpu;
    if (!cpu)
        return;
    if (cpu->f) { /* not finished: a failed conversion leaves no half-written profile */
        fclose(cpu->f);
        unlink(st->summary.cpu_profile_path);
        st->summary.cpu_profile_path[0] = '\0';
    }
    pprof_builder_destroy(cpu->b);
    for (size_t i = 0; i < cpu->procs.len; i++)
        free(CV_VEC_AT(&cpu->procs, struct cpu_proc, i)->mapping_ids);
    cv_vec_fini(&cpu->procs);
    cv_vec_fini(&cpu->stack_locs);
    cv_vec_fini(&cpu->loc_pool);
    free(cpu);
    st->cpu = NULL;
}
