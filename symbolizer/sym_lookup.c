/* SPDX-License-Identifier: MIT */
/*
 * Address lookups of the symbolizer (face: sym.h): the inline chain from DWARF scopes (as
 * `eu-addr2line -i` does), the ELF symbol table when there is no DWARF, C++ demangling with
 * libstdc++'s __cxa_demangle, a per-session cache keyed by address and the string interning
 * that owns every returned string. Not thread-safe: one session per thread.
 */
#include "sym_internal.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_BYTES 65536

static uint64_t hash_bytes(const char *p, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static uint64_t hash_addr(uint64_t a) {
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdull;
    a ^= a >> 33;
    return a;
}

static char *arena_alloc(struct sym_session *s, size_t size) {
    struct sym_arena_block *b = s->arena;
    if (b == NULL || b->cap - b->used < size) {
        size_t cap = size > ARENA_BLOCK_BYTES ? size : ARENA_BLOCK_BYTES;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->next = s->arena;
        b->used = 0;
        b->cap = cap;
        s->arena = b;
    }
    char *p = b->data + b->used;
    b->used += size;
    return p;
}

/* Doubles the interning set; false when out of memory (the old set stays valid). */
static bool strings_grow(struct sym_session *s) {
    size_t cap = s->strings_cap ? 2 * s->strings_cap : 1024;
    const char **set = calloc(cap, sizeof(*set));
    if (set == NULL)
        return false;
    for (size_t i = 0; i < s->strings_cap; i++) {
        const char *str = s->strings[i];
        if (str == NULL)
            continue;
        size_t j = hash_bytes(str, strlen(str)) & (cap - 1);
        while (set[j] != NULL)
            j = (j + 1) & (cap - 1);
        set[j] = str;
    }
    free(s->strings);
    s->strings = set;
    s->strings_cap = cap;
    return true;
}

const char *sym_intern(struct sym_session *s, const char *str, size_t len) {
    if (2 * (s->strings_used + 1) > s->strings_cap && !strings_grow(s))
        return NULL;
    size_t mask = s->strings_cap - 1;
    size_t j = hash_bytes(str, len) & mask;
    for (; s->strings[j] != NULL; j = (j + 1) & mask) {
        if (strncmp(s->strings[j], str, len) == 0 && s->strings[j][len] == '\0')
            return s->strings[j];
    }
    char *copy = arena_alloc(s, len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, str, len);
    copy[len] = '\0';
    s->strings[j] = copy;
    s->strings_used++;
    return copy;
}

static const char *intern_str(struct sym_session *s, const char *str) {
    return str != NULL ? sym_intern(s, str, strlen(str)) : NULL;
}

/* Sets frame->function (demangled) and frame->system_name (mangled, or NULL for C names).
 * Returns false when out of memory. */
static bool set_name(struct sym_session *s, struct sym_frame *frame, const char *name) {
    frame->function = NULL;
    frame->system_name = NULL;
    if (name == NULL)
        return true;
    char *demangled = sym_demangle(name);
    if (demangled != NULL) {
        frame->function = intern_str(s, demangled);
        frame->system_name = intern_str(s, name);
        free(demangled);
        return frame->function != NULL && frame->system_name != NULL;
    }
    frame->function = intern_str(s, name);
    return frame->function != NULL;
}

/* The name of a function DIE, following DW_AT_abstract_origin and DW_AT_specification: the
 * linkage name when it is a mangled C++ name, else the plain name (C functions may carry an
 * asm alias as linkage name, e.g. glibc's __GI_qsort for qsort). */
static const char *die_function_name(Dwarf_Die *die) {
    Dwarf_Attribute attr;
    const char *linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (linkage == NULL)
        linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (linkage != NULL && linkage[0] == '_' && linkage[1] == 'Z')
        return linkage;
    const char *name = dwarf_diename(die);
    return name != NULL ? name : linkage;
}

/* The ELF symbol containing addr, or NULL. */
static const char *symtab_name(Dwfl_Module *mod, uint64_t addr) {
    GElf_Off off;
    GElf_Sym sym;
    return dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
}

/* File and line of addr from the line table; leaves the frame unchanged when unknown. */
static bool set_src(struct sym_session *s, struct sym_frame *frame, Dwfl_Module *mod,
                    uint64_t addr) {
    Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
    int lineno = 0;
    const char *file = line != NULL ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file == NULL)
        return true;
    frame->file = intern_str(s, file);
    frame->line = lineno;
    return frame->file != NULL;
}

/* The call site of an inlined_subroutine DIE, stored as the position in its caller. */
static bool set_call_site(struct sym_session *s, struct sym_frame *frame, Dwarf_Die *inlined) {
    Dwarf_Attribute attr;
    Dwarf_Word val;
    Dwarf_Die cu;
    Dwarf_Files *files;
    frame->file = NULL;
    frame->line = 0;
    if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &val) == 0)
        frame->line = (int)val;
    if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &val) == 0 &&
        dwarf_diecu(inlined, &cu, NULL, NULL) != NULL &&
        dwarf_getsrcfiles(&cu, &files, NULL) == 0) {
        const char *file = dwarf_filesrc(files, val, NULL, NULL);
        if (file != NULL && (frame->file = intern_str(s, file)) == NULL)
            return false;
    }
    return true;
}

/* The function DIEs (subprogram, inlined_subroutine) containing one address, outermost
 * first, found by descending only into the DIEs that contain it. */
struct scope_walk {
    Dwarf_Addr pc;
    int n;
    Dwarf_Die funcs[2 * SYM_MAX_CHAIN];
};

/* Descends into the children of `parent`; returns true when a code DIE containing w->pc was
 * found there. One pruned walk instead of dwarf_getscopes + dwarf_getscopes_die (the latter
 * walks the whole CU), which made cold lookups about 3x slower. */
static bool walk_scopes(struct scope_walk *w, Dwarf_Die *parent, int depth) {
    Dwarf_Die child;
    Dwarf_Attribute attr;
    if (depth >= 2 * SYM_MAX_CHAIN || dwarf_child(parent, &child) != 0)
        return false;
    do {
        int tag = dwarf_tag(&child);
        switch (tag) {
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine:
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
            if (dwarf_haspc(&child, w->pc) != 1)
                break;
            if (tag != DW_TAG_lexical_block && tag != DW_TAG_try_block &&
                tag != DW_TAG_catch_block && w->n < 2 * SYM_MAX_CHAIN)
                w->funcs[w->n++] = child;
            walk_scopes(w, &child, depth + 1);
            return true;
        case DW_TAG_namespace:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
        case DW_TAG_module:
            if (walk_scopes(w, &child, depth + 1))
                return true;
            break;
        case DW_TAG_imported_unit: { /* dwz-compressed debug info */
            Dwarf_Die unit;
            if (dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &attr), &unit) != NULL &&
                walk_scopes(w, &unit, depth + 1))
                return true;
            break;
        }
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

/* Fills frames from the DWARF scopes at addr: innermost function first, the out-of-line
 * subprogram last (as `eu-addr2line -i`). Returns the frame count (0 = no function scope),
 * or -1 when out of memory. Chains deeper than `max` keep their innermost frames. */
static int dwarf_chain(struct sym_session *s, Dwfl_Module *mod, uint64_t addr,
                       struct sym_frame *out, int max) {
    Dwarf_Addr bias;
    Dwarf_Die *cudie = dwfl_module_addrdie(mod, addr, &bias);
    if (cudie == NULL)
        return 0;
    struct scope_walk w = {.pc = addr - bias, .n = 0};
    walk_scopes(&w, cudie, 0);
    int n = 0;
    Dwarf_Die *prev = NULL;
    for (int i = w.n - 1; i >= 0 && n < max; i--) {
        Dwarf_Die *die = &w.funcs[i];
        int tag = dwarf_tag(die);
        struct sym_frame *f = &out[n];
        memset(f, 0, sizeof(*f));
        const char *name = die_function_name(die);
        if (tag == DW_TAG_subprogram && (name == NULL || name[0] != '_' || name[1] != 'Z')) {
            /* C++ functions with internal linkage carry no linkage name in DWARF, only their
             * plain name; the symbol table still has the mangled, qualified one. */
            const char *sym = symtab_name(mod, addr);
            if (name == NULL || (sym != NULL && sym[0] == '_' && sym[1] == 'Z'))
                name = sym;
        }
        bool ok = set_name(s, f, name) &&
                  (prev == NULL ? set_src(s, f, mod, addr) : set_call_site(s, f, prev));
        if (!ok)
            return -1;
        n++;
        if (tag == DW_TAG_subprogram)
            break; /* a nested function's container is not its caller */
        prev = die;
    }
    return n;
}

/* Symbolizes addr in m without the cache. Returns the frame count, or -1 when out of memory. */
static int resolve(struct sym_session *s, struct sym_module *m, uint64_t addr,
                   struct sym_frame *out, int max) {
    if (m->dwmod == NULL)
        return 0;
    int n = dwarf_chain(s, m->dwmod, addr, out, max);
    if (n != 0)
        return n;
    const char *name = symtab_name(m->dwmod, addr);
    if (name == NULL)
        return 0;
    memset(out, 0, sizeof(*out));
    if (!set_name(s, out, name) || !set_src(s, out, m->dwmod, addr))
        return -1;
    return 1;
}

/* The slot holding addr, or the empty slot where it belongs. The table must exist. */
static struct sym_cache_slot *cache_slot(struct sym_session *s, uint64_t addr) {
    size_t mask = s->cache_cap - 1;
    size_t j = hash_addr(addr) & mask;
    while (s->cache[j].used && s->cache[j].addr != addr)
        j = (j + 1) & mask;
    return &s->cache[j];
}

static bool cache_grow(struct sym_session *s) {
    size_t cap = s->cache_cap ? 2 * s->cache_cap : 4096;
    struct sym_cache_slot *old = s->cache;
    size_t old_cap = s->cache_cap;
    s->cache = calloc(cap, sizeof(*s->cache));
    if (s->cache == NULL) {
        s->cache = old;
        return false;
    }
    s->cache_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].used)
            *cache_slot(s, old[i].addr) = old[i];
    }
    free(old);
    return true;
}

/* Remembers the n frames of addr. Failing to cache (out of memory) only costs speed. */
static void cache_store(struct sym_session *s, uint64_t addr, const struct sym_frame *f, int n) {
    if (2 * (s->cache_used + 1) > s->cache_cap && !cache_grow(s))
        return;
    if (s->nframes + (size_t)n > s->cap_frames) {
        size_t cap = s->cap_frames ? 2 * s->cap_frames : 4096;
        struct sym_frame *frames = realloc(s->frames, cap * sizeof(*frames));
        if (frames == NULL)
            return;
        s->frames = frames;
        s->cap_frames = cap;
    }
    struct sym_cache_slot *slot = cache_slot(s, addr);
    if (n > 0)
        memcpy(&s->frames[s->nframes], f, (size_t)n * sizeof(*f));
    *slot = (struct sym_cache_slot){
        .addr = addr, .first = (uint32_t)s->nframes, .n = (uint16_t)n, .used = true};
    s->nframes += (size_t)n;
    s->cache_used++;
}

size_t sym_lookup(struct sym_session *s, struct sym_module *m, uint64_t addr,
                  struct sym_frame *frames, size_t max) {
    if (s == NULL || (frames == NULL && max > 0))
        return 0;
    if (m != NULL && addr - m->base >= m->memsz)
        return 0; /* not cached: the answer depends on the caller's wrong module */
    struct sym_frame tmp[SYM_MAX_CHAIN];
    const struct sym_frame *src = tmp;
    int n;
    struct sym_cache_slot *slot = s->cache_cap ? cache_slot(s, addr) : NULL;
    if (slot != NULL && slot->used) {
        n = slot->n;
        if (n > 0) /* an address known to have no frame may come before any frame is kept */
            src = &s->frames[slot->first];
    } else {
        if (m == NULL)
            m = sym_find_module(s, addr);
        n = m != NULL ? resolve(s, m, addr, tmp, SYM_MAX_CHAIN) : 0;
        if (n < 0)
            return 0;
        cache_store(s, addr, tmp, n);
    }
    size_t count = (size_t)n < max ? (size_t)n : max;
    if (count > 0)
        memcpy(frames, src, count * sizeof(*frames));
    return count;
}

uint64_t sym_symbol_offset(struct sym_session *s, uint64_t addr) {
    struct sym_module *m = s != NULL ? sym_find_module(s, addr) : NULL;
    GElf_Off off = 0;
    GElf_Sym sym;
    if (m == NULL || m->dwmod == NULL ||
        dwfl_module_addrinfo(m->dwmod, addr, &off, &sym, NULL, NULL, NULL) == NULL)
        return 0;
    return off;
}

void sym_lookup_fini(struct sym_session *s) {
    free(s->cache);
    free(s->frames);
    free(s->strings);
    while (s->arena != NULL) {
        struct sym_arena_block *next = s->arena->next;
        free(s->arena);
        s->arena = next;
    }
}
