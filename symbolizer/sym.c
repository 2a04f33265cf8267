/* SPDX-License-Identifier: MIT */
/*
 * Symbolizer sessions and modules (face: sym.h): opens each module's ELF file with libelf,
 * checks its GNU build ID, computes the load bias and the executable segment's range, and
 * reports it to its own libdwfl session (separate debug info found the standard way).
 * Lookups live in sym_lookup.c. Not thread-safe: one session per thread.
 */
#include "sym_internal.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the ELF file says about itself. */
struct elf_facts {
    bool found;           /* the file was opened as an ELF file */
    bool have_load;       /* at least one PT_LOAD */
    uint64_t first_vaddr; /* p_vaddr of the first PT_LOAD */
    bool have_exec;       /* an executable PT_LOAD exists */
    uint64_t exec_vaddr;  /* its p_vaddr, p_memsz and p_offset */
    uint64_t exec_memsz;
    uint64_t exec_offset;
    uint8_t build_id[64];
    size_t build_id_len; /* 0 when the file has no GNU build ID note */
};

/* Offline-style callbacks: the file is opened by path, debug info found by build ID or
 * .gnu_debuglink under the default path ":.debug:/usr/lib/debug". */
static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = NULL,
};

struct sym_session *sym_session_create(void) {
    if (elf_version(EV_CURRENT) == EV_NONE)
        return NULL;
    return calloc(1, sizeof(struct sym_session));
}

/* Scans one PT_NOTE segment for the GNU build ID. Bounds are checked by libelf. */
static void read_build_id_note(Elf *elf, const GElf_Phdr *ph, struct elf_facts *f) {
    Elf_Data *data = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
    if (data == NULL)
        return;
    size_t off = 0, name_off, desc_off;
    GElf_Nhdr nhdr;
    while (off < data->d_size && (off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
        if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
            memcmp((char *)data->d_buf + name_off, "GNU", 4) == 0 && nhdr.n_descsz > 0 &&
            nhdr.n_descsz <= sizeof(f->build_id)) {
            memcpy(f->build_id, (char *)data->d_buf + desc_off, nhdr.n_descsz);
            f->build_id_len = nhdr.n_descsz;
            return;
        }
    }
}

/* Reads the program headers and build ID of `path`. f->found stays false on any failure. */
static void inspect_elf(const char *path, struct elf_facts *f) {
    memset(f, 0, sizeof(*f));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t phnum;
    if (elf == NULL || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &phnum) != 0)
        goto end;
    f->found = true;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr mem, *ph = gelf_getphdr(elf, (int)i, &mem);
        if (ph == NULL)
            continue;
        if (ph->p_type == PT_LOAD && !f->have_load) {
            f->have_load = true;
            f->first_vaddr = ph->p_vaddr;
        }
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && !f->have_exec) {
            f->have_exec = true;
            f->exec_vaddr = ph->p_vaddr;
            f->exec_memsz = ph->p_memsz;
            f->exec_offset = ph->p_offset;
        }
        if (ph->p_type == PT_NOTE && f->build_id_len == 0)
            read_build_id_note(elf, ph, f);
    }
end:
    if (elf != NULL)
        elf_end(elf);
    close(fd);
}

static void hex_encode(const uint8_t *bytes, size_t len, char *out, size_t out_size) {
    static const char digits[] = "0123456789abcdef";
    size_t i = 0;
    for (; i < len && 2 * i + 2 < out_size; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * i] = '\0';
}

/* Fills the exec range: the PF_X segment's pages as the loader maps them (as in
 * /proc/<pid>/maps), or the whole module when the file is unusable. */
static void set_exec_range(struct sym_module *m, const struct elf_facts *f, bool usable) {
    if (!usable || !f->have_exec) {
        m->info.exec_start = m->base;
        m->info.exec_limit = m->base + m->memsz;
        m->info.exec_file_offset = 0;
        return;
    }
    long page = sysconf(_SC_PAGESIZE);
    uint64_t mask = (uint64_t)(page > 0 ? page : 4096) - 1;
    m->info.exec_start = (m->bias + f->exec_vaddr) & ~mask;
    m->info.exec_limit = (m->bias + f->exec_vaddr + f->exec_memsz + mask) & ~mask;
    m->info.exec_file_offset = f->exec_offset & ~mask;
}

/* Reports the module's file to a Dwfl of its own. Leaves m->dwfl NULL when libdwfl refuses. */
static void report_to_dwfl(struct sym_module *m) {
    Dwfl *dwfl = dwfl_begin(&dwfl_callbacks);
    if (dwfl == NULL)
        return;
    dwfl_report_begin(dwfl);
    /* add_p_vaddr: the module starts at bias + first p_vaddr (page-aligned), which is the
     * same for PIE, shared objects (p_vaddr 0) and ET_EXEC (bias 0). */
    Dwfl_Module *mod = dwfl_report_elf(dwfl, m->info.path, m->info.path, -1, m->bias, true);
    if (mod == NULL || dwfl_report_end(dwfl, NULL, NULL) != 0) {
        dwfl_end(dwfl);
        return;
    }
    m->dwfl = dwfl;
    m->dwmod = mod;
}

/* Builds a module; returns NULL only when out of memory. */
static struct sym_module *module_create(const char *path, uint64_t base, uint64_t memsz,
                                        const uint8_t *build_id, size_t build_id_len) {
    size_t path_len = strlen(path);
    struct sym_module *m = calloc(1, sizeof(*m) + path_len + 1);
    if (m == NULL)
        return NULL;
    char *path_copy = (char *)(m + 1);
    memcpy(path_copy, path, path_len + 1);
    m->info.path = path_copy;
    m->base = base;
    m->memsz = memsz;
    if (build_id != NULL)
        hex_encode(build_id, build_id_len, m->info.build_id_hex, sizeof(m->info.build_id_hex));

    struct elf_facts f;
    inspect_elf(path, &f);
    m->info.file_found = f.found;
    m->info.build_id_matches =
        build_id == NULL || build_id_len == 0 ||
        (f.build_id_len == build_id_len && memcmp(f.build_id, build_id, build_id_len) == 0);
    bool usable = f.found && f.have_load && m->info.build_id_matches && base >= f.first_vaddr;
    if (usable) {
        m->bias = base - f.first_vaddr;
        report_to_dwfl(m);
    }
    set_exec_range(m, &f, usable);
    return m;
}

/* Index of the first module whose base is > addr. */
static size_t upper_bound(const struct sym_session *s, uint64_t addr) {
    size_t lo = 0, hi = s->nmodules;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->modules[mid]->base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct sym_module *sym_add_module(struct sym_session *s, const char *path, uint64_t base,
                                  uint64_t memsz, const uint8_t *build_id, size_t build_id_len) {
    if (s == NULL || path == NULL)
        return NULL;
    size_t pos = upper_bound(s, base);
    /* A statedump may be emitted again (new session, regenerate): reuse the same module. */
    for (size_t i = pos; i > 0 && s->modules[i - 1]->base == base; i--) {
        struct sym_module *old = s->modules[i - 1];
        if (old->memsz == memsz && strcmp(old->info.path, path) == 0)
            return old;
    }
    if (s->nmodules == s->cap_modules) {
        size_t cap = s->cap_modules ? 2 * s->cap_modules : 16;
        struct sym_module **mods = realloc(s->modules, cap * sizeof(*mods));
        if (mods == NULL)
            return NULL;
        s->modules = mods;
        s->cap_modules = cap;
    }
    struct sym_module *m = module_create(path, base, memsz, build_id, build_id_len);
    if (m == NULL)
        return NULL;
    memmove(&s->modules[pos + 1], &s->modules[pos], (s->nmodules - pos) * sizeof(*s->modules));
    s->modules[pos] = m;
    s->nmodules++;
    return m;
}

struct sym_module *sym_find_module(struct sym_session *s, uint64_t addr) {
    if (s == NULL)
        return NULL;
    size_t pos = upper_bound(s, addr);
    if (pos == 0)
        return NULL;
    struct sym_module *m = s->modules[pos - 1];
    return addr - m->base < m->memsz ? m : NULL;
}

const struct sym_module_info *sym_module_info(const struct sym_module *m) {
    if (m == NULL)
        return NULL;
    if (!m->dwarf_checked) {
        /* Deferred until asked: finding and opening separate debug info takes milliseconds
         * per library, and most libraries of a process never get a sample. The module was
         * allocated non-const by the session, so updating it here is well defined. */
        struct sym_module *mutable_m = (struct sym_module *)m;
        Dwarf_Addr dwbias;
        mutable_m->info.has_dwarf =
            m->dwmod != NULL && dwfl_module_getdwarf(m->dwmod, &dwbias) != NULL;
        mutable_m->dwarf_checked = true;
    }
    return &m->info;
}

void sym_session_destroy(struct sym_session *s) {
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nmodules; i++) {
        if (s->modules[i]->dwfl != NULL)
            dwfl_end(s->modules[i]->dwfl);
        free(s->modules[i]);
    }
    free(s->modules);
    sym_lookup_fini(s);
    free(s);
}
