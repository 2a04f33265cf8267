/* SPDX-License-Identifier: MIT */
/*
 * The unwinder's module table (face: unwind.h, internals: unwind-internal.h): one entry per
 * executable segment of every loaded object, pointing at the object's .eh_frame_hdr.
 * tr_modules_refresh() runs in normal context, serialised by a mutex; it builds a new table in
 * mmap'ed memory and publishes it with a release store. Old tables are never freed, so a signal
 * handler still walking one stays safe. Lookups are lock-free and async-signal-safe.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "unwind-internal.h"
#include "unwind.h"

#define DW_EH_PE_omit 0xff
#define DW_EH_PE_absptr 0x00
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_datarel 0x30

/* Spare entries so objects loaded between the counting and the filling pass usually fit. */
#define TABLE_SLACK 32

static const struct tr_module_table *g_table; /* accessed with __atomic builtins */
static pthread_mutex_t g_refresh_lock = PTHREAD_MUTEX_INITIALIZER;

struct fill_ctx {
    struct tr_module_table *table;
    size_t capacity;
    size_t needed; /* entries seen, may exceed capacity */
};

/* Reads one pointer of .eh_frame_hdr at *p (bounded by end); 0 on success. */
static int read_hdr_ptr(const uint8_t **p, const uint8_t *end, uint8_t enc, uintptr_t hdr,
                        uint64_t *out)
{
    const uint8_t *at = *p;
    uint64_t v;
    size_t size;

    switch (enc & 0x0f) {
    case DW_EH_PE_absptr: case DW_EH_PE_udata8: case DW_EH_PE_sdata8: size = 8; break;
    case DW_EH_PE_udata4: case DW_EH_PE_sdata4: size = 4; break;
    default: return -1;
    }
    if ((size_t)(end - at) < size)
        return -1;
    if (size == 8) {
        memcpy(&v, at, 8);
    } else if ((enc & 0x0f) == DW_EH_PE_sdata4) {
        int32_t s;
        memcpy(&s, at, 4);
        v = (uint64_t)(int64_t)s;
    } else {
        uint32_t u;
        memcpy(&u, at, 4);
        v = u;
    }
    switch (enc & 0x70) {
    case 0: break;
    case DW_EH_PE_pcrel: v += (uintptr_t)at; break;
    case DW_EH_PE_datarel: v += hdr; break;
    default: return -1;
    }
    *p = at + size;
    *out = v;
    return 0;
}

/* The readable PT_LOAD segment holding runtime address addr, as [*lo, *hi); 0 if found. */
static int find_load(const struct dl_phdr_info *info, uintptr_t addr, uintptr_t *lo,
                     uintptr_t *hi)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t s = info->dlpi_addr + ph->p_vaddr;

        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && addr >= s &&
            addr < s + ph->p_memsz) {
            *lo = s;
            *hi = s + ph->p_memsz;
            return 0;
        }
    }
    return -1;
}

/* Fills the FDE-lookup fields of m from the object's PT_GNU_EH_FRAME; leaves them 0 if unusable. */
static void parse_eh_frame_hdr(const struct dl_phdr_info *info, struct tr_module *m)
{
    uintptr_t hdr = 0, lo, hi, lo2, hi2;
    uint64_t eh_frame, count;

    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
            hdr = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
    if (hdr == 0 || find_load(info, hdr, &lo, &hi) != 0 || hi - hdr < 4)
        return;
    const uint8_t *p = (const uint8_t *)hdr, *end = (const uint8_t *)hi;
    uint8_t version = p[0], frame_enc = p[1], count_enc = p[2], table_enc = p[3];
    p += 4;
    if (version != 1 || frame_enc == DW_EH_PE_omit ||
        read_hdr_ptr(&p, end, frame_enc, hdr, &eh_frame) != 0)
        return;
    /* .eh_frame normally follows the header in the same segment; else take the hull of both. */
    if (eh_frame < lo || eh_frame >= hi) {
        if (find_load(info, eh_frame, &lo2, &hi2) != 0)
            return;
        lo = lo < lo2 ? lo : lo2;
        hi = hi > hi2 ? hi : hi2;
    }
    m->hdr = hdr;
    m->eh_lo = lo;
    m->eh_hi = hi;
    if (count_enc == DW_EH_PE_omit || table_enc == DW_EH_PE_omit ||
        read_hdr_ptr(&p, end, count_enc, hdr, &count) != 0)
        return;
    uint8_t fmt = table_enc & 0x0f;
    size_t entry = (fmt == DW_EH_PE_udata8 || fmt == DW_EH_PE_sdata8) ? 16 : 8;
    if ((table_enc & 0x70) != DW_EH_PE_datarel ||
        (fmt != DW_EH_PE_udata4 && fmt != DW_EH_PE_sdata4 && entry != 16) ||
        count > (uint64_t)(end - p) / entry)
        return;
    m->table = (uintptr_t)p;
    m->fde_count = (size_t)count;
    m->table_enc = table_enc;
}

static int collect_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct fill_ctx *ctx = data;
    struct tr_module proto = { .bias = info->dlpi_addr };

    (void)size;
    parse_eh_frame_hdr(info, &proto);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || ph->p_memsz == 0)
            continue;
        if (ctx->table != NULL && ctx->needed < ctx->capacity) {
            struct tr_module *m = &ctx->table->mod[ctx->needed];
            *m = proto;
            m->text_lo = info->dlpi_addr + ph->p_vaddr;
            m->text_hi = m->text_lo + ph->p_memsz;
        }
        ctx->needed++;
    }
    return 0;
}

static void sort_modules(struct tr_module_table *t)
{
    for (size_t i = 1; i < t->count; i++) {
        struct tr_module key = t->mod[i];
        size_t j = i;

        for (; j > 0 && t->mod[j - 1].text_lo > key.text_lo; j--)
            t->mod[j] = t->mod[j - 1];
        t->mod[j] = key;
    }
}

int tr_modules_refresh(void)
{
    struct fill_ctx ctx = { 0 };
    size_t bytes = 0;
    int ret = -EAGAIN;

    pthread_mutex_lock(&g_refresh_lock);
    dl_iterate_phdr(collect_cb, &ctx);
    for (int attempt = 0; attempt < 4; attempt++) {
        ctx.capacity = ctx.needed + TABLE_SLACK;
        bytes = sizeof(struct tr_module_table) + ctx.capacity * sizeof(struct tr_module);
        void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            ret = -ENOMEM;
            goto end;
        }
        ctx.table = mem;
        ctx.needed = 0;
        dl_iterate_phdr(collect_cb, &ctx);
        if (ctx.needed <= ctx.capacity)
            break;
        munmap(mem, bytes); /* never published: safe to free */
        ctx.table = NULL;
    }
    if (ctx.table == NULL)
        goto end;
    ctx.table->count = ctx.needed;
    sort_modules(ctx.table);
    mprotect(ctx.table, bytes, PROT_READ);
    /* The previous table is leaked on purpose: a signal handler may still be reading it. */
    __atomic_store_n(&g_table, ctx.table, __ATOMIC_RELEASE);
    ret = 0;
end:
    pthread_mutex_unlock(&g_refresh_lock);
    return ret;
}

const struct tr_module_table *tr_modules_current(void)
{
    return __atomic_load_n(&g_table, __ATOMIC_ACQUIRE);
}

const struct tr_module *tr_modules_find(const struct tr_module_table *table, uintptr_t pc)
{
    size_t lo = 0, hi;

    if (table == NULL)
        return NULL;
    hi = table->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct tr_module *m = &table->mod[mid];

        if (pc < m->text_lo)
            hi = mid;
        else if (pc >= m->text_hi)
            lo = mid + 1;
        else
            return m;
    }
    return NULL;
}
