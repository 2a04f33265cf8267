/* SPDX-License-Identifier: MIT */
/*
 * The in-process symbolizer: a symbolizer session (symbolizer/sym.h) with the modules loaded
 * in this process now, from dl_iterate_phdr: path (the executable's from /proc/self/exe),
 * address of the first PT_LOAD segment, span of the PT_LOAD segments, GNU build ID from the
 * PT_NOTE segments. Face: runtime/internal.h (rt_self_symbolizer).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sym.h"

/* One module as dl_iterate_phdr reports it, copied out: the symbolizer opens the files only
 * after the walk, since the walk holds the dynamic loader's lock, and a fork() meanwhile would
 * hand that lock, taken, to the child. */
struct module_copy {
    char path[PATH_MAX];
    uint64_t base, memsz;
    uint8_t build_id[64];
    size_t build_id_len;
    int is_exe;
};

struct add_ctx {
    struct module_copy *mods;
    size_t n, cap;
    int failed;
};

/* The GNU build ID among the object's notes, or 0 bytes. */
static size_t build_id_of(const struct dl_phdr_info *info, const uint8_t **id)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof(*n);
            const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
            if (desc + n->n_descsz > end)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                *id = desc;
                return n->n_descsz;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    return 0;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct add_ctx *ctx = data;
    char exe[PATH_MAX];
    const char *path = info->dlpi_name;
    if (!path || !*path) { /* the executable */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n <= 0)
            return 0;
        exe[n] = '\0';
        path = exe;
    }
    if (path[0] != '/')
        return 0; /* the vDSO: no file */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (ph->p_vaddr < lo)
            lo = ph->p_vaddr;
        if (ph->p_vaddr + ph->p_memsz > hi)
            hi = ph->p_vaddr + ph->p_memsz;
    }
    if (hi <= lo)
        return 0;
    if (ctx->n == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 32;
        struct module_copy *m = realloc(ctx->mods, cap * sizeof(*m));
        if (!m) {
            ctx->failed = 1;
            return 1;
        }
        ctx->mods = m, ctx->cap = cap;
    }
    struct module_copy *m = &ctx->mods[ctx->n++];
    snprintf(m->path, sizeof(m->path), "%s", path);
    m->base = info->dlpi_addr + lo, m->memsz = hi - lo, m->is_exe = path == exe;
    const uint8_t *id = NULL;
    m->build_id_len = build_id_of(info, &id);
    if (m->build_id_len > sizeof(m->build_id))
        m->build_id_len = 0;
    if (m->build_id_len)
        memcpy(m->build_id, id, m->build_id_len);
    return 0;
}

struct sym_session *rt_self_symbolizer(struct sym_module **exe)
{
    struct add_ctx ctx = {NULL, 0, 0, 0};
    struct sym_module *unused;
    if (!exe)
        exe = &unused;
    *exe = NULL;
    dl_iterate_phdr(add_module, &ctx);
    struct sym_session *s = ctx.failed ? NULL : sym_session_create();
    for (size_t i = 0; s && i < ctx.n; i++) {
        const struct module_copy *c = &ctx.mods[i];
        struct sym_module *m = sym_add_module(s, c->path, c->base, c->memsz,
                                              c->build_id_len ? c->build_id : NULL,
                                              c->build_id_len);
        if (!m) {
            sym_session_destroy(s);
            s = NULL;
        } else if (c->is_exe) {
            *exe = m;
        }
    }
    free(ctx.mods);
    if (!s)
        *exe = NULL;
    return s;
}
