/* SPDX-License-Identifier: MIT */
/*
 * Symbolized pprof locations (sym_pprof.h): a small table from symbolizer module to pprof
 * mapping id, then one sym_lookup per new address.
 */
#include <stdlib.h>

#include "pprof_builder.h"
#include "sym.h"
#include "sym_pprof.h"

#define MAX_LINES 16 /* inline depth kept per address */

struct module_mapping {
    const struct sym_module *mod;
    uint64_t mapping_id;
};

struct sym_pprof {
    struct pprof_builder *b;
    struct sym_session *s;
    struct module_mapping *maps;
    size_t n, cap;
};

struct sym_pprof *sym_pprof_create(struct pprof_builder *b, struct sym_session *s)
{
    struct sym_pprof *sp = calloc(1, sizeof(*sp));
    if (sp)
        sp->b = b, sp->s = s;
    return sp;
}

uint64_t sym_pprof_mapping(struct sym_pprof *sp, const struct sym_module *mod)
{
    for (size_t i = 0; i < sp->n; i++)
        if (sp->maps[i].mod == mod)
            return sp->maps[i].mapping_id;
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 16;
        struct module_mapping *m = realloc(sp->maps, cap * sizeof(*m));
        if (!m)
            return 0;
        sp->maps = m, sp->cap = cap;
    }
    const struct sym_module_info *info = sym_module_info(mod);
    unsigned flags = 0;
    if (info->file_found && info->build_id_matches) {
        flags |= PPROF_HAS_FUNCTIONS;
        if (info->has_dwarf)
            flags |= PPROF_HAS_FILENAMES | PPROF_HAS_LINE_NUMBERS | PPROF_HAS_INLINE_FRAMES;
    }
    uint64_t id = pprof_builder_add_mapping(sp->b, info->exec_start, info->exec_limit,
                                            info->exec_file_offset, info->path,
                                            info->build_id_hex[0] ? info->build_id_hex : NULL,
                                            flags);
    if (id)
        sp->maps[sp->n++] = (struct module_mapping){mod, id};
    return id;
}

uint64_t sym_pprof_location(struct sym_pprof *sp, uint64_t addr)
{
    struct sym_module *mod = sym_find_module(sp->s, addr);
    uint64_t mapping = 0;
    if (mod && !(mapping = sym_pprof_mapping(sp, mod)))
        return 0;
    struct sym_frame frames[MAX_LINES];
    struct pprof_line lines[MAX_LINES];
    size_t n = mod ? sym_lookup(sp->s, mod, addr, frames, MAX_LINES) : 0;
    for (size_t i = 0; i < n; i++)
        lines[i] = (struct pprof_line){frames[i].function, frames[i].system_name, frames[i].file,
                                       frames[i].line};
    return pprof_builder_add_location(sp->b, mapping, addr, lines, n);
}

void sym_pprof_destroy(struct sym_pprof *sp)
{
    if (sp) {
        free(sp->maps);
        free(sp);
    }
}
