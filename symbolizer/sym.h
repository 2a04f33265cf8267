/* SPDX-License-Identifier: MIT */
/*
 * The symbolizer, shared by the converter (offline, modules from LTTng statedump events) and
 * the runtime (in-process, modules from dl_iterate_phdr). Given the modules of one process and
 * their load addresses, it turns addresses into frames: function (demangled C++), mangled
 * name, file, line, and the chain of inlined calls, using libdwfl (elfutils). It also gives
 * the executable range of each module in pprof's terms. Not thread-safe: one session per thread.
 */
#ifndef LTPROF_SYM_H
#define LTPROF_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sym_session;
struct sym_module;

/* One frame of a lookup, innermost first. Strings belong to the session. */
struct sym_frame {
    const char *function;    /* demangled; NULL when unknown */
    const char *system_name; /* mangled linkage name; NULL when the same as function */
    const char *file;        /* NULL when unknown */
    int line;                /* 0 when unknown */
};

/* What is known about a module after it was added. */
struct sym_module_info {
    const char *path;          /* as given */
    bool file_found;           /* the file was opened */
    bool build_id_matches;     /* the file's build ID equals the expected one (or none expected) */
    bool has_dwarf;            /* DWARF line/inline information is available */
    uint64_t exec_start;       /* runtime address range of the executable segment */
    uint64_t exec_limit;
    uint64_t exec_file_offset; /* file offset of exec_start */
    char build_id_hex[129];    /* lowercase hex of the expected build ID, or "" */
};

/* Creates a session. Returns NULL when out of memory. */
struct sym_session *sym_session_create(void);

/*
 * Adds a module loaded in the process: `path` on disk, `base` = the address of its first
 * PT_LOAD segment (LTTng statedump baddr; dlpi_addr + p_vaddr of the first PT_LOAD), `memsz`
 * the span of its PT_LOAD segments, `build_id` the expected GNU build ID (may be NULL).
 * A module whose file is missing or whose build ID differs is kept (so addresses still map to
 * it) but does not symbolize. Returns the module (owned by the session) or NULL when out of
 * memory.
 */
struct sym_module *sym_add_module(struct sym_session *s, const char *path, uint64_t base,
                                  uint64_t memsz, const uint8_t *build_id, size_t build_id_len);

/* The module containing `addr`, or NULL. */
struct sym_module *sym_find_module(struct sym_session *s, uint64_t addr);

/* Information about a module. The pointer lives as long as the session. */
const struct sym_module_info *sym_module_info(const struct sym_module *m);

/* Looks up `addr` (already adjusted: return addresses minus 1) in module `m` (NULL = find it).
 * Fills at most `max` frames, innermost first; returns how many (0 = unknown). */
size_t sym_lookup(struct sym_session *s, struct sym_module *m, uint64_t addr,
                  struct sym_frame *frames, size_t max);

/* The offset of `addr` from the start of the ELF symbol holding it (for Go's text profiles'
 * func+0x<offset>), 0 when unknown. */
uint64_t sym_symbol_offset(struct sym_session *s, uint64_t addr);

/* Frees the session and everything it owns. Accepts NULL. */
void sym_session_destroy(struct sym_session *s);

#endif
