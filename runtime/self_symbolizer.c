/* SPDX-License-Identifier: MIT */
/*
 * The in-process symbolizer: a symbolizer session (symbolizer/sym.h) with the modules loaded
 * in this process now, from dl_iterate_phdr: path (the executable's from /proc/self/exe),
 * address of the first PT_LOAD segment, span of the PT_LOAD segments, GNU build ID from the
 * PT_NOTE segments, kept from one call to the next while the modules stay the same. Face:
 * runtime/internal.h (rt_self_symbolizer).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
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

/* The session of the last call and the modules it was made from: made again only when the
 * modules change (libdw reads and decompresses debug information when it opens a module,
 * tens of ms for libc's). One user at a time: sessions are not thread-safe. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sym_session *cached;
static struct sym_module *cached_exe;
static struct add_ctx cached_mods;

static int same_modules(const struct add_ctx *a, const struct add_ctx *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->mods[i].base != b->mods[i].base || a->mods[i].memsz != b->mods[i].memsz ||
            strcmp(a->mods[i].path, b->mods[i].path) != 0)
            return 0;
    return 1;
}

TR_HOLD_ACROSS_FORK(cache_lock)

struct sym_session *rt_self_symbolizer(struct sym_module **exe)
{
    struct add_ctx ctx = {NULL, 0, 0, 0};
    struct sym_module *unused;
    if (!exe)
        exe = &unused;
    *exe = NULL;
    dl_iterate_phdr(add_module, &ctx);
    pthread_mutex_lock(&cache_lock);
    if (!ctx.failed && cached && same_modules(&ctx, &cached_mods)) {
        free(ctx.mods);
        *exe = cached_exe;
        return cached;
    }
    sym_session_destroy(cached);
    free(cached_mods.mods);
    cached = NULL, cached_exe = NULL, cached_mods = (struct add_ctx){NULL, 0, 0, 0};
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
    if (!s) {
        free(ctx.mods);
        *exe = NULL;
        pthread_mutex_unlock(&cache_lock);
        return NULL;
    }
    cached = s, cached_exe = *exe, cached_mods = ctx;
    return s;
}

void rt_self_symbolizer_release(struct sym_session *s)
{
    if (s)
        pthread_mutex_unlock(&cache_lock);
}
