/* SPDX-License-Identifier: MIT */
/*
 * One in-process profile being written (runtime/internal.h: rt_writer_*): the shared pprof
 * builder, the in-process symbolizer with the executable's mapping first, samples given as
 * stacks of return addresses, and the gzipped profile written to a file descriptor. Used by
 * every in-process profile (profiles.c, custom_profiles.c).
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pprof_builder.h"
#include "sym.h"
#include "sym_pprof.h"

#define MAX_FRAMES 128

int rt_fd_write(void *ctx, const void *data, size_t len)
{
    int fd = *(const int *)ctx;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

int rt_writer_open(struct rt_writer *w, const struct pprof_kind *kind, int64_t period,
                   const char *comment)
{
    struct sym_module *exe = NULL;
    w->b = pprof_builder_create(kind, period);
    w->sym = w->b ? rt_self_symbolizer(&exe) : NULL;
    w->sp = w->sym ? sym_pprof_create(w->b, w->sym) : NULL;
    if (!w->sp || (exe && !sym_pprof_mapping(w->sp, exe)))
        return LTPROF_ERR_NOMEM;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    pprof_builder_set_time(w->b, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, 0);
    return comment ? pprof_builder_add_comment(w->b, comment) : 0;
}

int rt_writer_sample(struct rt_writer *w, const uint64_t *pcs, size_t n, int exact_leaf,
                     const int64_t *values, const struct pprof_label *labels, size_t n_labels)
{
    uint64_t locs[MAX_FRAMES];
    if (n > MAX_FRAMES)
        n = MAX_FRAMES;
    for (size_t i = 0; i < n; i++) /* return addresses: step back into the call */
        if (!(locs[i] = sym_pprof_location(w->sp, i == 0 && exact_leaf ? pcs[i] : pcs[i] - 1)))
            return LTPROF_ERR_NOMEM;
    return pprof_builder_add_final_sample(w->b, locs, n, values, labels, n_labels);
}

size_t rt_writer_labels(uint32_t set, struct pprof_label *out, size_t max)
{
    const struct tr_label_set *s = tr_label_set_get(set);
    size_t n = 0;
    for (uint32_t i = 0; s && i < s->n && n < max; i++)
        out[n++] = (struct pprof_label){.key = s->keys[i], .str = s->values[i]};
    return n;
}

int rt_writer_finish(struct rt_writer *w, int fd, int rc)
{
    if (rc == 0 && pprof_builder_write(w->b, rt_fd_write, &fd) != 0)
        rc = LTPROF_ERR_IO;
    sym_pprof_destroy(w->sp);
    rt_self_symbolizer_release(w->sym);
    pprof_builder_destroy(w->b);
    *w = (struct rt_writer){0};
    return rc;
}
