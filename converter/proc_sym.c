/* SPDX-License-Identifier: MIT */
/*
 * The symbolizer of one traced process, kept for the whole conversion: a sym_session with the
 * process's modules (from the statedump and library events), added as they arrive, so the
 * CPU profile at the end and the execution trace while it streams share one set of lookups and
 * their cache. A module replaced at the same address (an exec) starts a fresh session.
 * Face: converter/internal.h (cv_proc_sym_*).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym.h"

void cv_proc_sym_fini(struct cv_process *p)
{
    sym_session_destroy(p->sym);
    free(p->sym_mods);
    p->sym = NULL;
    p->sym_mods = NULL;
    p->sym_synced = 0;
}

int cv_proc_sym_sync(struct cv_process *p)
{
    if (p->sym_stale) {
        cv_proc_sym_fini(p);
        p->sym_stale = false;
        p->sym_epoch++;
    }
    if (!p->sym && !(p->sym = sym_session_create()))
        return LTPROF_ERR_NOMEM;
    if (p->sym_synced == p->n_modules)
        return 0;
    struct sym_module **mods = cv_realloc(p->sym_mods, (p->n_modules + 1) * sizeof(*mods));
    if (!mods)
        return LTPROF_ERR_NOMEM;
    p->sym_mods = mods;
    for (size_t i = p->sym_synced; i < p->n_modules; i++) {
        const struct cv_module *m = &p->modules[i];
        mods[i] = NULL;
        if (m->memsz == 0)
            continue; /* the vDSO is reported without a size */
        mods[i] = sym_add_module(p->sym, m->path, m->baddr, m->memsz,
                                 m->build_id_len ? m->build_id : NULL, m->build_id_len);
        if (!mods[i])
            return LTPROF_ERR_NOMEM;
    }
    p->sym_synced = p->n_modules;
    return 0;
}

struct sym_module *cv_proc_sym_module(const struct cv_process *p, uint64_t addr, size_t *index)
{
    for (size_t i = 0; i < p->sym_synced; i++) {
        const struct cv_module *m = &p->modules[i];
        if (p->sym_mods[i] && addr >= m->baddr && addr - m->baddr < m->memsz) {
            if (index)
                *index = i;
            return p->sym_mods[i];
        }
    }
    return NULL;
}
