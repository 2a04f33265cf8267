/* SPDX-License-Identifier: MIT */
/*
 * Writes cpu.pb.gz from the aggregated CPU samples of the conversion state: one pprof
 * profile with Go's CPU sample types, symbolized per process with the shared symbolizer
 * (modules from the LTTng statedump) and built with the shared pprof builder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "pprof_builder.h"
#include "sym.h"

#define MAX_LINES 16 /* inline depth kept per address */

/* Per-process context: the process's symbolizer (proc_sym.c) and each module's pprof mapping. */
struct proc_syms {
    struct cv_process *proc;
    uint64_t *mapping_ids; /* parallel to proc->modules; 0 = not added yet */
};

static void proc_syms_fini(struct proc_syms *ps)
{
    free(ps->mapping_ids);
}

static int proc_syms_init(struct proc_syms *ps, struct cv_process *p)
{
    memset(ps, 0, sizeof(*ps));
    ps->proc = p;
    ps->mapping_ids = cv_calloc(p->n_modules + 1, sizeof(*ps->mapping_ids));
    if (!ps->mapping_ids)
        return LTPROF_ERR_NOMEM;
    return cv_proc_sym_sync(p);
}

/* The pprof mapping of the module holding `addr` (added on first use), or 0. */
static uint64_t mapping_for(struct proc_syms *ps, struct pprof_builder *b, uint64_t addr,
                            struct sym_module **mod_out)
{
    size_t i;
    struct sym_module *mod = cv_proc_sym_module(ps->proc, addr, &i);
    *mod_out = mod;
    if (!mod)
        return 0;
    if (!ps->mapping_ids[i]) {
        const struct cv_module *m = &ps->proc->modules[i];
        const struct sym_module_info *info = sym_module_info(mod);
        unsigned flags = 0;
        if (info->file_found && info->build_id_matches) {
            flags |= PPROF_HAS_FUNCTIONS;
            if (info->has_dwarf)
                flags |= PPROF_HAS_FILENAMES | PPROF_HAS_LINE_NUMBERS | PPROF_HAS_INLINE_FRAMES;
        }
        ps->mapping_ids[i] = pprof_builder_add_mapping(
            b, info->exec_start, info->exec_limit, info->exec_file_offset, m->path,
            info->build_id_hex[0] ? info->build_id_hex : NULL, flags);
    }
    return ps->mapping_ids[i];
}

static uint64_t location_for(struct proc_syms *ps, struct pprof_builder *b, uint64_t addr)
{
    struct sym_frame frames[MAX_LINES];
    struct pprof_line lines[MAX_LINES];
    struct sym_module *mod;
    uint64_t mapping = mapping_for(ps, b, addr, &mod);
    size_t n = mod ? sym_lookup(ps->proc->sym, mod, addr, frames, MAX_LINES) : 0;
    for (size_t i = 0; i < n; i++)
        lines[i] = (struct pprof_line){frames[i].function, frames[i].system_name, frames[i].file,
                                       frames[i].line};
    return pprof_builder_add_location(b, mapping, addr, lines, n);
}

static int add_sample(struct cv_state *st, struct proc_syms *ps, struct pprof_builder *b,
                      const struct cv_stack_sample *s, bool label_pid)
{
    uint64_t locs[CV_MAX_FRAMES];
    const uint64_t *pcs = CV_VEC_AT(&st->pc_pool, uint64_t, s->pcs_offset);
    for (uint32_t i = 0; i < s->n_pcs; i++) {
        /* Callers' PCs are return addresses: step back into the call instruction. */
        uint64_t addr = i == 0 ? pcs[i] : pcs[i] - 1;
        locs[i] = location_for(ps, b, addr);
        if (!locs[i])
            return LTPROF_ERR_NOMEM;
    }
    char fallback[32];
    const char *name = cv_state_thread_name(st, s->pid, s->tid);
    if (!name || !*name) {
        snprintf(fallback, sizeof(fallback), "thread-%u", s->tid);
        name = fallback;
    }
    struct pprof_label labels[3] = {
        {.key = "thread", .str = name},
        {.key = "tid", .num = s->tid},
        {.key = "pid", .num = s->pid},
    };
    int64_t values[2] = {(int64_t)s->count, (int64_t)s->weight_ns};
    return pprof_builder_add_sample(b, locs, s->n_pcs, values, labels, label_pid ? 3 : 2);
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

static int build_profile(struct cv_state *st, struct pprof_builder *b)
{
    int rc = add_comments(st, b);
    bool label_pid = st->processes.len > 1;
    for (size_t p = 0; rc == 0 && p < st->processes.len; p++) {
        struct cv_process *proc = CV_VEC_AT(&st->processes, struct cv_process, p);
        struct proc_syms ps;
        rc = proc_syms_init(&ps, proc);
        for (size_t i = 0; rc == 0 && i < st->samples.len; i++) {
            const struct cv_stack_sample *s = CV_VEC_AT(&st->samples, struct cv_stack_sample, i);
            if (s->pid == proc->pid)
                rc = add_sample(st, &ps, b, s, label_pid);
        }
        proc_syms_fini(&ps);
    }
    return rc;
}

int cv_cpu_profile_write(struct cv_state *st, struct ltprof_error *err)
{
    int rc;
    uint64_t period = st->cpu_period_ns ? st->cpu_period_ns : 10000000;
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("cpu"), (int64_t)period);
    if (!b)
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    if (st->have_time)
        pprof_builder_set_time(b, st->first_ns, st->last_ns - st->first_ns);
    rc = build_profile(st, b);
    if (rc != 0) {
        rc = cv_error(err, rc, "failed to build the CPU profile: %s", cv_status_text(rc));
        goto end;
    }
    if ((rc = cv_output_dir_make(st, err)))
        goto end;
    snprintf(st->summary.cpu_profile_path, sizeof(st->summary.cpu_profile_path), "%s/cpu.pb.gz",
             st->output_dir);
    rc = pprof_builder_write_file(b, st->summary.cpu_profile_path);
    if (rc != 0) {
        rc = cv_error(err, rc, "failed to write \"%s\": %s", st->summary.cpu_profile_path,
                      rc == LTPROF_ERR_IO ? strerror(errno) : cv_status_text(rc));
        st->summary.cpu_profile_path[0] = '\0';
    }
end:
    pprof_builder_destroy(b);
    return rc;
}
