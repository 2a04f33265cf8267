/* SPDX-License-Identifier: MIT */
/*
 * One pprof file of a conversion (<output_dir>/<kind>.pb.gz): the shared pprof builder, streaming
 * its samples into the gzip output as they come, and the locations of each stack (a stack id of
 * stacks.c), symbolized once through the process's symbolizer (proc_sym.c, with the mappings
 * and locations of symbolizer/sym_pprof.h) and cached. Every
 * profile of the converter (cpu_profile.c, event_profiles.c) writes through it. A file that was
 * not finished, or whose conversion failed, is removed. Face: converter/internal.h
 * (cv_profile_*).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "pprof_builder.h"
#include "sym.h"
#include "sym_pprof.h"
#include "timeline.h"

/* A process's mappings and locations in this profile, for one symbolizer session. */
struct proc_maps {
    uint32_t sym_epoch;
    struct sym_pprof *sp; /* NULL = none yet */
};

/* The pprof locations of a stack, for one symbolizer session of its process. */
struct stack_locs {
    uint32_t sym_epoch; /* the session's epoch + 1; 0 = not cached */
    uint32_t n;
    size_t offset; /* into loc_pool */
};

struct cv_profile {
    struct pprof_builder *b;
    char path[4096];
    FILE *f;         /* open until the profile is finished */
    bool finished;
    bool write_failed;
    int write_errno;
    struct cv_vec procs;      /* struct proc_maps, parallel to st->processes */
    struct cv_vec stack_locs; /* struct stack_locs, by stack id - 1 */
    struct cv_vec loc_pool;   /* uint64_t */
};

/* ---- symbolization ------------------------------------------------------------------------- */

/* The location ids of a stack, leaf first (cached per stack and symbolizer session). */
static int stack_locations(struct cv_state *st, struct cv_profile *pr, uint32_t stack,
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
    while (rc == 0 && pr->procs.len <= pi)
        rc = cv_vec_push(&pr->procs) ? 0 : LTPROF_ERR_NOMEM;
    while (rc == 0 && pr->stack_locs.len < stack)
        rc = cv_vec_push(&pr->stack_locs) ? 0 : LTPROF_ERR_NOMEM;
    if (rc)
        return rc;
    struct stack_locs *sl = CV_VEC_AT(&pr->stack_locs, struct stack_locs, stack - 1);
    if (sl->sym_epoch != p->sym_epoch + 1) {
        struct proc_maps *pm = CV_VEC_AT(&pr->procs, struct proc_maps, pi);
        if (!pm->sp || pm->sym_epoch != p->sym_epoch) { /* a fresh session: fresh mappings */
            sym_pprof_destroy(pm->sp);
            pm->sym_epoch = p->sym_epoch;
            if (!(pm->sp = sym_pprof_create(pr->b, p->sym)))
                return LTPROF_ERR_NOMEM;
        }
        uint64_t ids[CV_MAX_FRAMES];
        const uint64_t *pcs = cv_stack_pcs(&st->stacks, s);
        for (uint32_t i = 0; i < s->n; i++) {
            /* Callers' PCs are return addresses: step back into the call instruction. */
            uint64_t addr = i == 0 && s->exact_leaf ? pcs[i] : pcs[i] - 1;
            if (!(ids[i] = sym_pprof_location(pm->sp, addr)))
                return LTPROF_ERR_NOMEM;
        }
        size_t off = cv_vec_append(&pr->loc_pool, ids, s->n);
        if (off == SIZE_MAX)
            return LTPROF_ERR_NOMEM;
        *sl = (struct stack_locs){p->sym_epoch + 1, s->n, off};
    }
    *locs = CV_VEC_AT(&pr->loc_pool, uint64_t, sl->offset);
    *n = sl->n;
    return 0;
}

/* ---- the file ------------------------------------------------------------------------------ */

static int file_write(void *ctx, const void *data, size_t len)
{
    struct cv_profile *pr = ctx;
    if (fwrite(data, 1, len, pr->f) == len)
        return 0;
    pr->write_failed = true;
    pr->write_errno = errno ? errno : EIO;
    return -1;
}

/* A one-line error for status rc: the file's write error if there was one. */
static int profile_error(struct cv_profile *pr, int rc, struct ltprof_error *err)
{
    if (pr->write_failed)
        return cv_error(err, LTPROF_ERR_IO, "failed to write \"%s\": %s", pr->path,
                        strerror(pr->write_errno));
    return cv_error(err, rc, "failed to build \"%s\": %s", pr->path, cv_status_text(rc));
}

int cv_profile_open(struct cv_state *st, const char *kind, int64_t period,
                    struct cv_profile **out, struct ltprof_error *err)
{
    *out = NULL;
    struct cv_profile *pr = cv_calloc(1, sizeof(*pr));
    if (!pr)
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    cv_vec_init(&pr->procs, sizeof(struct proc_maps));
    cv_vec_init(&pr->stack_locs, sizeof(struct stack_locs));
    cv_vec_init(&pr->loc_pool, sizeof(uint64_t));
    int rc = cv_output_dir_make(st, err);
    if (rc) {
        cv_profile_destroy(pr);
        return rc;
    }
    snprintf(pr->path, sizeof(pr->path), "%s/%s.pb.gz", st->output_dir, kind);
    if (!(pr->f = fopen(pr->path, "wb"))) {
        rc = cv_error(err, LTPROF_ERR_IO, "failed to create \"%s\": %s", pr->path,
                      strerror(errno));
        cv_profile_destroy(pr);
        return rc;
    }
    pr->b = pprof_builder_create(pprof_kind_lookup(kind), period);
    if (!pr->b || pprof_builder_stream(pr->b, file_write, pr) != 0) {
        cv_profile_destroy(pr); /* removes the empty file */
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    }
    *out = pr;
    return 0;
}

int cv_profile_sample(struct cv_state *st, struct cv_profile *pr, uint32_t stack,
                      const int64_t *values, const struct pprof_label *labels, size_t n_labels,
                      struct ltprof_error *err)
{
    const uint64_t *locs;
    uint32_t n;
    int rc = stack_locations(st, pr, stack, &locs, &n);
    if (rc == 0)
        rc = pprof_builder_add_final_sample(pr->b, locs, n, values, labels, n_labels);
    return rc ? profile_error(pr, rc, err) : 0;
}

struct pprof_builder *cv_profile_builder(struct cv_profile *pr)
{
    return pr->b;
}

int cv_profile_finish(const struct cv_state *st, struct cv_profile *pr, struct ltprof_error *err)
{
    int rc = 0;
    if (st->summary.discarded_events) { /* never silently incomplete */
        char text[160];
        snprintf(text, sizeof(text),
                 "ltprof: the tracer lost %llu events (its buffers were full): the profile is "
                 "incomplete", (unsigned long long)st->summary.discarded_events);
        rc = pprof_builder_add_comment(pr->b, text);
    }
    if (rc == 0)
        rc = pprof_builder_write(pr->b, file_write, pr);
    if (rc == 0 && fflush(pr->f) != 0)
        pr->write_failed = true, pr->write_errno = errno;
    FILE *f = pr->f;
    pr->f = NULL;
    if (fclose(f) != 0 && !pr->write_failed)
        pr->write_failed = true, pr->write_errno = errno;
    if (rc || pr->write_failed) {
        rc = profile_error(pr, rc ? rc : LTPROF_ERR_IO, err);
        unlink(pr->path);
        return rc;
    }
    pr->finished = true;
    return 0;
}

const char *cv_profile_path(const struct cv_profile *pr)
{
    return pr && pr->finished ? pr->path : NULL;
}

void cv_profile_remove(struct cv_profile *pr)
{
    if (pr && (pr->f || pr->finished)) {
        if (pr->f)
            fclose(pr->f);
        pr->f = NULL;
        pr->finished = false;
        unlink(pr->path);
    }
}

void cv_profile_destroy(struct cv_profile *pr)
{
    if (!pr)
        return;
    if (pr->f) { /* not finished: no half-written profile stays behind */
        fclose(pr->f);
        unlink(pr->path);
    }
    pprof_builder_destroy(pr->b);
    for (size_t i = 0; i < pr->procs.len; i++)
        sym_pprof_destroy(CV_VEC_AT(&pr->procs, struct proc_maps, i)->sp);
    cv_vec_fini(&pr->procs);
    cv_vec_fini(&pr->stack_locs);
    cv_vec_fini(&pr->loc_pool);
    free(pr);
}
