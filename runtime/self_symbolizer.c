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
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sym.h"

struct add_ctx {
    struct sym_session *s;
    struct sym_module *exe;
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
    const uint8_t *id = NULL;
    size_t id_len = build_id_of(info, &id);
    struct sym_module *m = sym_add_module(ctx->s, path, info->dlpi_addr + lo, hi - lo, id, id_len);
    if (!m)
        ctx->failed = 1;
    else if (path == exe)
        ctx->exe = m;
    return 0;
}

struct sym_session *rt_self_symbolizer(struct sym_module **exe)
{
    struct add_ctx ctx = {sym_session_create(), NULL, 0};
    *exe = NULL;
    if (!ctx.s)
        return NULL;
    dl_iterate_phdr(add_module, &ctx);
    if (ctx.failed) {
        sym_session_destroy(ctx.s);
        return NULL;
    }
    *exe = ctx.exe;
    return ctx.s;
}
