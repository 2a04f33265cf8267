/* SPDX-License-Identifier: MIT */
/*
 * Tests of the symbolizer (symbolizer/sym.h). Each case runs a fixture program from
 * data/ in "dump" mode, which prints from inside its process the runtime addresses of some
 * of its code and its modules as a statedump would give them; the case feeds those to a
 * session and checks names, demangling, files, lines, inline chains and exec ranges against
 * data/fix_lines.h and /proc/<pid>/maps. Usage: test_sym <case>.
 */
#define _GNU_SOURCE
#include "sym.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/fix_lines.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *got_ = (got), *want_ = (want);                                                 \
        if (got_ == NULL || strcmp(got_, want_) != 0) {                                            \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #got,    \
                    got_ ? got_ : "(null)", want_);                                                \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_ITEMS 32

struct fix_module {
    uint64_t baddr, memsz;
    uint8_t build_id[64];
    size_t build_id_len;
    char path[4096];
};

struct fix_map {
    uint64_t start, end, offset;
    char path[4096];
};

/* What a fixture printed. */
struct fix_run {
    uint64_t ra[8];
    struct {
        char name[64];
        uint64_t addr;
    } fns[MAX_ITEMS];
    size_t nfns;
    struct fix_module mods[MAX_ITEMS];
    size_t nmods;
    struct fix_map maps[MAX_ITEMS];
    size_t nmaps;
};

static size_t parse_hex_bytes(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    unsigned byte;
    while (n < cap && sscanf(hex + 2 * n, "%2x", &byte) == 1)
        out[n++] = (uint8_t)byte;
    return n;
}

static void parse_line(struct fix_run *r, const char *line) {
    char word[4096], hex[256];
    unsigned long long a, b, c;
    int slot;
    if (sscanf(line, "ra %d %llx", &slot, &a) == 2 && slot >= 0 && slot < 8) {
        r->ra[slot] = a;
    } else if (sscanf(line, "fn %63s %llx", r->fns[r->nfns].name, &a) == 2 &&
               r->nfns < MAX_ITEMS - 1) {
        r->fns[r->nfns++].addr = a;
    } else if (sscanf(line, "mod %llx %llu %255s %4095s", &a, &b, hex, word) == 4 &&
               r->nmods < MAX_ITEMS) {
        struct fix_module *m = &r->mods[r->nmods++];
        m->baddr = a;
        m->memsz = b;
        m->build_id_len = strcmp(hex, "-") ? parse_hex_bytes(hex, m->build_id, 64) : 0;
        snprintf(m->path, sizeof(m->path), "%s", word);
    } else if (sscanf(line, "map %llx %llx %llx %4095s", &a, &b, &c, word) == 4 &&
               r->nmaps < MAX_ITEMS) {
        struct fix_map *m = &r->maps[r->nmaps++];
        m->start = a;
        m->end = b;
        m->offset = c;
        snprintf(m->path, sizeof(m->path), "%s", word);
    }
}

static void run_fixture(const char *exe, struct fix_run *r) {
    char cmd[4200], line[8192];
    memset(r, 0, sizeof(*r));
    snprintf(cmd, sizeof(cmd), "'%s' dump", exe);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    while (fgets(line, sizeof(line), p) != NULL)
        parse_line(r, line);
    pclose(p);
    CHECK(r->nmods >= 2);
    CHECK(r->nmaps >= 2);
}

static uint64_t fn_addr(const struct fix_run *r, const char *name) {
    for (size_t i = 0; i < r->nfns; i++) {
        if (strcmp(r->fns[i].name, name) == 0)
            return r->fns[i].addr;
    }
    fprintf(stderr, "fixture printed no address for %s\n", name);
    exit(1);
}

/* The fixture's module whose path ends with `suffix`. */
static const struct fix_module *fix_find(const struct fix_run *r, const char *suffix) {
    for (size_t i = 0; i < r->nmods; i++) {
        size_t len = strlen(r->mods[i].path), slen = strlen(suffix);
        if (len >= slen && strcmp(r->mods[i].path + len - slen, suffix) == 0)
            return &r->mods[i];
    }
    fprintf(stderr, "fixture printed no module %s\n", suffix);
    exit(1);
}

static struct sym_session *session_for(const struct fix_run *r) {
    struct sym_session *s = sym_session_create();
    CHECK(s != NULL);
    for (size_t i = 0; i < r->nmods; i++) {
        const struct fix_module *m = &r->mods[i];
        CHECK(sym_add_module(s, m->path, m->baddr, m->memsz, m->build_id, m->build_id_len));
    }
    return s;
}

static const char *base_name(const char *path) {
    if (path == NULL)
        return NULL;
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The exec range of the module must equal its executable line in /proc/<pid>/maps. */
static void check_exec_range(struct sym_session *s, const struct fix_run *r,
                             const struct fix_module *fm) {
    struct sym_module *m = sym_find_module(s, fm->baddr);
    CHECK(m != NULL);
    const struct sym_module_info *info = sym_module_info(m);
    CHECK_STR(info->path, fm->path);
    CHECK(info->file_found && info->build_id_matches);
    const struct fix_map *map = NULL;
    for (size_t i = 0; i < r->nmaps; i++) {
        if (r->maps[i].start >= fm->baddr && r->maps[i].start < fm->baddr + fm->memsz)
            map = &r->maps[i];
    }
    CHECK(map != NULL);
    if (info->exec_start != map->start || info->exec_limit != map->end ||
        info->exec_file_offset != map->offset) {
        fprintf(stderr,
                "%s: exec %" PRIx64 "-%" PRIx64 " @%" PRIx64 ", maps %" PRIx64 "-%" PRIx64
                " @%" PRIx64 "\n",
                fm->path, info->exec_start, info->exec_limit, info->exec_file_offset, map->start,
                map->end, map->offset);
        exit(1);
    }
}

static void check_frame(const struct sym_frame *f, const char *function, const char *system_name,
                        const char *file, int line) {
    CHECK_STR(f->function, function);
    if (system_name == NULL)
        CHECK(f->system_name == NULL);
    else
        CHECK_STR(f->system_name, system_name);
    if (file == NULL)
        CHECK(f->file == NULL);
    else
        CHECK_STR(base_name(f->file), file);
    CHECK(f->line == line);
}

/* (a) PIE, -O2 -g: the return address inside the forced-inline inner_step() gives the chain
 * inner_step (capture line) -> outer_fn (call line). */
static void sym_pie_inline_chain(void) {
    struct fix_run r;
    run_fixture(FIX_INLINE_EXE, &r);
    struct sym_session *s = session_for(&r);
    const struct fix_module *exe = fix_find(&r, "/fix_sym_inline");
    struct sym_module *m = sym_find_module(s, r.ra[0] - 1);
    CHECK(m != NULL);
    const struct sym_module_info *info = sym_module_info(m);
    CHECK(info->file_found && info->build_id_matches && info->has_dwarf);
    CHECK(strlen(info->build_id_hex) == 2 * exe->build_id_len);

    struct sym_frame f[8];
    size_t n = sym_lookup(s, NULL, r.ra[0] - 1, f, 8);
    CHECK(n == 2);
    check_frame(&f[0], "inner_step", NULL, "fix_inline.c", FIX_INLINE_LINE_CAPTURE);
    check_frame(&f[1], "outer_fn", NULL, "fix_inline.c", FIX_INLINE_LINE_CALL);

    n = sym_lookup(s, m, fn_addr(&r, "outer_fn"), f, 8);
    CHECK(n == 1);
    CHECK_STR(f[0].function, "outer_fn");
    CHECK_STR(base_name(f[0].file), "fix_inline.c");
    CHECK(f[0].line > 0 && f[0].line < FIX_INLINE_LINE_CALL);
    check_exec_range(s, &r, exe);
    sym_session_destroy(s);
}

/* libc (separate debug info or .dynsym): qsort's address names qsort. */
static void sym_libc_symbolizes(void) {
    struct fix_run r;
    run_fixture(FIX_INLINE_EXE, &r);
    struct sym_session *s = session_for(&r);
    uint64_t qsort_addr = fn_addr(&r, "qsort");
    struct sym_module *m = sym_find_module(s, qsort_addr);
    CHECK(m != NULL);
    CHECK(strstr(sym_module_info(m)->path, "libc.so") != NULL);
    struct sym_frame f[8];
    size_t n = sym_lookup(s, NULL, qsort_addr, f, 8);
    CHECK(n >= 1);
    CHECK_STR(f[n - 1].function, "qsort");
    CHECK(f[n - 1].system_name == NULL);
    check_exec_range(s, &r, fix_find(&r, "/libc.so.6"));
    /* The vDSO's "path" is no file: kept, but unsymbolized. */
    const struct fix_module *vdso = fix_find(&r, "linux-vdso.so.1");
    m = sym_find_module(s, vdso->baddr);
    CHECK(m != NULL && !sym_module_info(m)->file_found);
    CHECK(sym_lookup(s, m, vdso->baddr, f, 8) == 0);
    sym_session_destroy(s);
}

/* (b) C++: demangled names with the mangled system name, file and line. */
static void sym_cxx_demangles(void) {
    struct fix_run r;
    run_fixture(FIX_CXX_EXE, &r);
    struct sym_session *s = session_for(&r);
    struct sym_frame f[8];
    CHECK(sym_lookup(s, NULL, r.ra[1] - 1, f, 8) == 1);
    check_frame(&f[0], "ns::Widget::frob(int)", "_ZN2ns6Widget4frobEi", "fix_cxx.cpp",
                FIX_CXX_LINE_FROB);
    CHECK(sym_lookup(s, NULL, r.ra[2] - 1, f, 8) == 1);
    check_frame(&f[0], "ns::twice<int>(int)", "_ZN2ns5twiceIiEET_S1_", "fix_cxx.cpp",
                FIX_CXX_LINE_TWICE);
    CHECK(sym_lookup(s, NULL, fn_addr(&r, "twice_int"), f, 8) == 1);
    CHECK_STR(f[0].function, "ns::twice<int>(int)");
    check_exec_range(s, &r, fix_find(&r, "/fix_sym_cxx"));
    sym_session_destroy(s);
}

/* (c) non-PIE (ET_EXEC, bias 0). */
static void sym_nopie_exec(void) {
    struct fix_run r;
    run_fixture(FIX_NOPIE_EXE, &r);
    struct sym_session *s = session_for(&r);
    const struct fix_module *exe = fix_find(&r, "/fix_sym_nopie");
    CHECK(exe->baddr == 0x400000); /* the default ET_EXEC address on x86-64 */
    struct sym_frame f[8];
    CHECK(sym_lookup(s, NULL, r.ra[3] - 1, f, 8) == 1);
    check_frame(&f[0], "nopie_work", NULL, "fix_nopie.c", FIX_NOPIE_LINE_CAPTURE);
    CHECK(sym_lookup(s, NULL, fn_addr(&r, "nopie_work"), f, 8) == 1);
    CHECK_STR(f[0].function, "nopie_work");
    check_exec_range(s, &r, exe);
    sym_session_destroy(s);
}

/* Without DWARF (objcopy --strip-debug copy, same build ID): names from .symtab. */
static void sym_symtab_fallback(void) {
    struct fix_run r;
    run_fixture(FIX_INLINE_EXE, &r);
    const struct fix_module *exe = fix_find(&r, "/fix_sym_inline");
    struct sym_session *s = sym_session_create();
    CHECK(s != NULL);
    struct sym_module *m = sym_add_module(s, FIX_NODEBUG_EXE, exe->baddr, exe->memsz, exe->build_id,
                                          exe->build_id_len);
    CHECK(m != NULL);
    const struct sym_module_info *info = sym_module_info(m);
    CHECK(info->file_found && info->build_id_matches && !info->has_dwarf);
    struct sym_frame f[8];
    CHECK(sym_lookup(s, NULL, r.ra[0] - 1, f, 8) == 1);
    check_frame(&f[0], "outer_fn", NULL, NULL, 0);
    sym_session_destroy(s);
}

/* A wrong build ID keeps the module (addresses map to it) but gives no frames. */
static void sym_build_id_mismatch(void) {
    struct fix_run r;
    run_fixture(FIX_INLINE_EXE, &r);
    const struct fix_module *exe = fix_find(&r, "/fix_sym_inline");
    uint8_t wrong[64];
    memcpy(wrong, exe->build_id, exe->build_id_len);
    wrong[0] ^= 0xff;
    struct sym_session *s = sym_session_create();
    CHECK(s != NULL);
    struct sym_module *m =
        sym_add_module(s, exe->path, exe->baddr, exe->memsz, wrong, exe->build_id_len);
    CHECK(m != NULL && sym_find_module(s, r.ra[0] - 1) == m);
    const struct sym_module_info *info = sym_module_info(m);
    CHECK(info->file_found && !info->build_id_matches && !info->has_dwarf);
    CHECK(info->exec_start == exe->baddr && info->exec_limit == exe->baddr + exe->memsz);
    CHECK(info->exec_file_offset == 0);
    struct sym_frame f[8];
    CHECK(sym_lookup(s, NULL, r.ra[0] - 1, f, 8) == 0);
    CHECK(sym_lookup(s, m, fn_addr(&r, "outer_fn"), f, 8) == 0);
    sym_session_destroy(s);
}

/* A missing file is kept; an address outside every module has no module and no frames. */
static void sym_missing_file_and_outside(void) {
    struct sym_session *s = sym_session_create();
    CHECK(s != NULL);
    const uint8_t id[4] = {0xde, 0xad, 0xbe, 0xef};
    struct sym_module *m =
        sym_add_module(s, "/nonexistent/libltprof-missing.so", 0x10000000, 0x3000, id, 4);
    CHECK(m != NULL);
    const struct sym_module_info *info = sym_module_info(m);
    CHECK(!info->file_found && !info->has_dwarf);
    CHECK_STR(info->build_id_hex, "deadbeef");
    CHECK(info->exec_start == 0x10000000 && info->exec_limit == 0x10003000);
    CHECK(sym_find_module(s, 0x10000000) == m && sym_find_module(s, 0x10002fff) == m);
    CHECK(sym_find_module(s, 0x10003000) == NULL && sym_find_module(s, 0xfffffff) == NULL);
    struct sym_frame f[8];
    CHECK(sym_lookup(s, NULL, 0x10000010, f, 8) == 0);
    CHECK(sym_find_module(s, 0x10) == NULL);
    CHECK(sym_lookup(s, NULL, 0x10, f, 8) == 0);
    CHECK(sym_lookup(s, NULL, UINT64_MAX - 5, f, 8) == 0);
    CHECK(sym_lookup(s, m, 0x20000000, f, 8) == 0); /* outside the module given */
    /* The same module reported again (a second statedump) is the same module. */
    CHECK(sym_add_module(s, "/nonexistent/libltprof-missing.so", 0x10000000, 0x3000, id, 4) == m);
    sym_session_destroy(s);
    sym_session_destroy(NULL);
}

/* Cached answers equal fresh ones; `max` truncates to the innermost frames. */
static void sym_cache_consistent(void) {
    struct fix_run r;
    run_fixture(FIX_INLINE_EXE, &r);
    struct sym_session *s = session_for(&r);
    struct sym_frame a[8], b[8];
    size_t n = sym_lookup(s, NULL, r.ra[0] - 1, a, 8);
    CHECK(n == 2);
    CHECK(sym_lookup(s, NULL, r.ra[0] - 1, b, 8) == n);
    CHECK(memcmp(a, b, n * sizeof(a[0])) == 0); /* interned: the same pointers */
    CHECK(sym_lookup(s, NULL, r.ra[0] - 1, b, 1) == 1);
    CHECK_STR(b[0].function, "inner_step");
    CHECK(sym_lookup(s, NULL, r.ra[0] - 1, NULL, 0) == 0);
    sym_session_destroy(s);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Speed over libc's code (DWARF from /usr/lib/debug when installed): cold, then cached.
 * Checks that cached answers equal cold ones and that most addresses got a name. */
static void sym_lookup_speed(void) {
    enum { NADDR = 20000 };
    struct fix_run r;
    run_fixture(FIX_INLINE_EXE, &r);
    double t_add = now_s();
    struct sym_session *s = session_for(&r);
    t_add = now_s() - t_add;
    const struct fix_module *libc = fix_find(&r, "/libc.so.6");
    double t_dwarf = now_s();
    const struct sym_module_info *info = sym_module_info(sym_find_module(s, libc->baddr));
    t_dwarf = now_s() - t_dwarf; /* sym_module_info() loads the debug info on first call */
    uint64_t span = info->exec_limit - info->exec_start, step = span / NADDR;
    static const char *first_names[NADDR];
    struct sym_frame f[16];
    size_t named = 0, total_frames = 0;
    double t0 = now_s();
    for (size_t i = 0; i < NADDR; i++) {
        size_t n = sym_lookup(s, NULL, info->exec_start + i * step, f, 16);
        first_names[i] = n ? f[0].function : NULL;
        named += n && f[0].function != NULL;
        total_frames += n;
    }
    double t1 = now_s();
    for (int rep = 0; rep < 10; rep++) {
        for (size_t i = 0; i < NADDR; i++) {
            size_t n = sym_lookup(s, NULL, info->exec_start + i * step, f, 16);
            CHECK((n ? f[0].function : NULL) == first_names[i]);
        }
    }
    double t2 = now_s();
    printf("adding %zu modules: %.1f ms, loading libc's debug info: %.1f ms\n", r.nmods,
           t_add * 1e3, t_dwarf * 1e3);
    printf("libc has_dwarf=%d: %d addresses, %zu named, %zu frames\n", info->has_dwarf, NADDR,
           named, total_frames);
    printf("cold lookups: %.0f/s, cached lookups: %.0f/s\n", NADDR / (t1 - t0),
           10.0 * NADDR / (t2 - t1));
    CHECK(named > NADDR * 9 / 10);
    sym_session_destroy(s);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"sym_pie_inline_chain", sym_pie_inline_chain},
    {"sym_libc_symbolizes", sym_libc_symbolizes},
    {"sym_cxx_demangles", sym_cxx_demangles},
    {"sym_nopie_exec", sym_nopie_exec},
    {"sym_symtab_fallback", sym_symtab_fallback},
    {"sym_build_id_mismatch", sym_build_id_mismatch},
    {"sym_missing_file_and_outside", sym_missing_file_and_outside},
    {"sym_cache_consistent", sym_cache_consistent},
    {"sym_lookup_speed", sym_lookup_speed},
};

int main(int argc, char **argv) {
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            printf("ok %s\n", cases[i].name);
            if (argc >= 2)
                return 0;
        }
    }
    if (argc >= 2) {
        fprintf(stderr, "unknown case %s\n", argv[1]);
        return 2;
    }
    return 0;
}
