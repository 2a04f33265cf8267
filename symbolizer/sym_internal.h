/* SPDX-License-Identifier: MIT */
/*
 * Internal to the symbolizer: the session and module structures shared by sym.c (modules,
 * ELF inspection, session life cycle) and sym_lookup.c (address cache, string interning,
 * DWARF and symbol-table lookups). Never included outside symbolizer/.
 */
#ifndef LTPROF_SYM_INTERNAL_H
#define LTPROF_SYM_INTERNAL_H

#include "sym.h"

#include <elfutils/libdwfl.h>

/* Longest inline chain kept per address; deeper chains keep their innermost frames. */
#define SYM_MAX_CHAIN 32

/* One module. `dwfl` is NULL when the module cannot symbolize (file missing, wrong build ID). */
struct sym_module {
    struct sym_module_info info;
    uint64_t base;      /* statedump baddr */
    uint64_t memsz;     /* span of the PT_LOAD segments */
    uint64_t bias;      /* runtime address - ELF virtual address */
    Dwfl *dwfl;         /* one Dwfl per module: modules never interfere with each other */
    Dwfl_Module *dwmod; /* the module inside `dwfl` */
    bool dwarf_checked; /* info.has_dwarf is known (loading DWARF is deferred: it costs ms) */
};

/* A cached lookup: `n` frames starting at `first` in the session's frame store. */
struct sym_cache_slot {
    uint64_t addr;
    uint32_t first;
    uint16_t n;
    bool used;
};

/* A block of interned string bytes; blocks form a list freed with the session. */
struct sym_arena_block {
    struct sym_arena_block *next;
    size_t used;
    size_t cap;
    char data[];
};

struct sym_session {
    struct sym_module **modules; /* sorted by base */
    size_t nmodules;
    size_t cap_modules;

    struct sym_cache_slot *cache; /* open addressing, power-of-two size */
    size_t cache_cap;
    size_t cache_used;
    struct sym_frame *frames; /* frame store of the cache */
    size_t nframes;
    size_t cap_frames;

    const char **strings; /* interning set, open addressing, power-of-two size */
    size_t strings_cap;
    size_t strings_used;
    struct sym_arena_block *arena;
};

/* Interns `len` bytes of `str`; the copy lives until the session is destroyed. NULL on NOMEM. */
const char *sym_intern(struct sym_session *s, const char *str, size_t len);

/* Frees the cache, frame store, strings and arena of `s` (not the modules). */
void sym_lookup_fini(struct sym_session *s);

/* ---- sym_demangle.c ---- */
/* The demangled form of a mangled C++ name ("_Z..."), without a template's return type, in a
 * malloc'd string the caller frees; NULL when `mangled` is not a C++ name or fails to demangle. */
char *sym_demangle(const char *mangled);
/* Where the qualified name starts in a demangled name (after a return type), 0 if none. */
size_t sym_cxx_name_start(const char *demangled);

#endif
