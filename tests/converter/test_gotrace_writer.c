/* SPDX-License-Identifier: MIT */
/*
 * Tests of the Go execution trace encoder (converter/gotrace_writer.h). One program, one mode
 * per ctest case: `reference [FILE]` (the 516-byte trace of the format reference, §7.2),
 * `limits`, `rich FILE` and `many FILE [EVENTS]` (traces that test_gotrace_go.sh feeds to
 * `go tool trace`). A small decoder below re-reads the bytes to check what was written.
 */
#include "check.h"
#include "gotrace_writer.h"
#include "internal.h" /* cv_alloc_fail_countdown */
#include "ltprof/ltprof.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- output sinks ------------------------------------------------------------------------ */

struct membuf {
    uint8_t *data;
    size_t len, cap;
};

static int mem_write(void *ctx, const void *data, size_t size)
{
    struct membuf *m = ctx;
    if (m->len + size > m->cap) {
        m->cap = (m->len + size) * 2;
        m->data = realloc(m->data, m->cap);
        CHECK(m->data);
    }
    memcpy(m->data + m->len, data, size);
    m->len += size;
    return 0;
}

static int file_write(void *ctx, const void *data, size_t size)
{
    return fwrite(data, 1, size, ctx) == size ? 0 : LTPROF_ERR_IO;
}

/* ---- a minimal decoder of what the writer produced --------------------------------------- */

struct rec {
    int type;
    uint64_t v[16]; /* values after byte0 (for stacks: id, n, frames...) */
    size_t nv;
    size_t off, size;
    size_t payload_len; /* L of length-prefixed records */
    const uint8_t *str;
    size_t str_len; /* EvString bytes, UserLog message */
};

static uint64_t get_uv(const uint8_t *b, size_t len, size_t *pos)
{
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        CHECK(*pos < len && shift < 64);
        uint8_t c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
}

/* Decode the record at *pos; frames of a stack beyond v[] are skipped (use stack_frames). */
static void next_rec(const uint8_t *b, size_t len, size_t *pos, struct rec *r)
{
    memset(r, 0, sizeof(*r));
    r->off = *pos;
    int type = b[*pos] & 0x3f, k = b[*pos] >> 6;
    (*pos)++;
    r->type = type;
    if (type == 37) { /* EvString */
        r->v[0] = get_uv(b, len, pos);
        r->str_len = get_uv(b, len, pos);
        r->str = b + *pos;
        *pos += r->str_len;
        r->nv = 1;
    } else if (k < 3) {
        for (int i = 0; i <= k; i++)
            r->v[r->nv++] = get_uv(b, len, pos);
    } else {
        r->payload_len = get_uv(b, len, pos);
        size_t end = *pos + r->payload_len;
        CHECK(end <= len);
        while (*pos < end) {
            uint64_t v = get_uv(b, len, pos);
            if (r->nv < 16)
                r->v[r->nv++] = v;
        }
        if (type == 48) { /* UserLog: message after the length-covered part */
            r->str_len = get_uv(b, len, pos);
            r->str = b + *pos;
            *pos += r->str_len;
        }
    }
    r->size = *pos - r->off;
    CHECK(*pos <= len);
}

/* Frames of the EvStack record starting at `off`: fills pc/fn/file/line arrays, returns n. */
static size_t stack_frames(const uint8_t *b, size_t len, size_t off, uint64_t *id, uint64_t *pc,
                           uint64_t *fn, uint64_t *file, uint64_t *line)
{
    size_t pos = off + 1;
    get_uv(b, len, &pos); /* L */
    *id = get_uv(b, len, &pos);
    size_t n = get_uv(b, len, &pos);
    for (size_t i = 0; i < n; i++) {
        pc[i] = get_uv(b, len, &pos);
        fn[i] = get_uv(b, len, &pos);
        file[i] = get_uv(b, len, &pos);
        line[i] = get_uv(b, len, &pos);
    }
    return n;
}

/* ---- reference trace (§7.2 of go-trace-format.md) ---------------------------------------- */

static void build_reference(struct gotrace_writer *w)
{
    static const char *const strings[] = {
        "main", "/src/app.c", "worker", "pthread_mutex_lock", "libc", "pthread_create", "job",
        "phase", "status", "write", "pthread_mutex_unlock", "pthread_join", "pthread_exit"};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        CHECK(gotrace_string(w, strings[i]) == i + 1);
    const char *app = "/src/app.c";
    struct gotrace_frame s1[] = {{0x401000, "main", app, 10}};
    struct gotrace_frame s2[] = {{0x402000, "worker", app, 30}};
    struct gotrace_frame s3[] = {{0x7f0001000, "pthread_create", "libc", 0},
                                 {0x401010, "main", app, 12}};
    struct gotrace_frame s4[] = {{0x7f0002000, "pthread_mutex_lock", "libc", 0},
                                 {0x402010, "worker", app, 35}};
    struct gotrace_frame s5[] = {{0x7f0003000, "pthread_mutex_unlock", "libc", 0},
                                 {0x401020, "main", app, 20}};
    struct gotrace_frame s6[] = {{0x7f0004000, "write", "libc", 0}, {0x401030, "main", app, 22}};
    struct gotrace_frame s7[] = {{0x401040, "main", app, 15}};
    struct gotrace_frame s8[] = {{0x7f0005000, "pthread_join", "libc", 0},
                                 {0x401050, "main", app, 25}};
    struct gotrace_frame s9[] = {{0x7f0006000, "pthread_exit", "libc", 0},
                                 {0x402020, "worker", app, 40}};
    CHECK(gotrace_stack(w, s1, 1) == 1 && gotrace_stack(w, s2, 1) == 2);
    CHECK(gotrace_stack(w, s3, 2) == 3 && gotrace_stack(w, s4, 2) == 4);
    CHECK(gotrace_stack(w, s5, 2) == 5 && gotrace_stack(w, s6, 2) == 6);
    CHECK(gotrace_stack(w, s7, 1) == 7 && gotrace_stack(w, s8, 2) == 8);
    CHECK(gotrace_stack(w, s9, 2) == 9);
    CHECK(gotrace_stack(w, s1, 1) == 1); /* interned by content */

    CHECK(gotrace_proc_start(w, 0, 1000, 100) == 0);
    CHECK(gotrace_go_create(w, 0, 1000, 1, 1, 0) == 0);
    CHECK(gotrace_go_start(w, 0, 1000, 1, 1) == 0);
    CHECK(gotrace_gomaxprocs(w, 0, 1010, 2, 0) == 0);
    CHECK(gotrace_user_task_create(w, 0, 1100, 1, 0, 7, 7) == 0);
    CHECK(gotrace_go_create(w, 0, 1200, 2, 2, 3) == 0);
    CHECK(gotrace_user_region(w, 0, 1300, 1, 0, 8, 7) == 0);
    CHECK(gotrace_heap_alloc(w, 0, 1400, 1048576) == 0);
    CHECK(gotrace_heap_goal(w, 0, 1400, 4194304) == 0);
    CHECK(gotrace_go_syscall(w, 0, 1500, 6) == 0);
    CHECK(gotrace_go_sys_block(w, 0, 1600) == 0);
    CHECK(gotrace_go_sys_exit(w, 0, 2500, 1, 2, 0) == 0);
    CHECK(gotrace_go_start(w, 0, 2510, 1, 3) == 0);
    CHECK(gotrace_go_unblock(w, 0, 2600, 2, 2, 5) == 0);
    CHECK(gotrace_user_region(w, 0, 2700, 1, 1, 8, 7) == 0);
    CHECK(gotrace_user_task_end(w, 0, 2800, 1, 7) == 0);
    CHECK(gotrace_go_block(w, 0, 2900, 8) == 0);
    CHECK(gotrace_writer_flush_proc(w, 0) == 0);

    CHECK(gotrace_proc_start(w, 1, 1250, 101) == 0);
    CHECK(gotrace_go_start(w, 1, 1260, 2, 1) == 0);
    CHECK(gotrace_user_log(w, 1, 1270, 1, 9, 4, "worker started") == 0);
    CHECK(gotrace_go_block_sync(w, 1, 1300, 4) == 0);
    CHECK(gotrace_proc_stop(w, 1, 1350) == 0);
    CHECK(gotrace_writer_flush_proc(w, 1) == 0);
    CHECK(gotrace_proc_start(w, 1, 2650, 101) == 0);
    CHECK(gotrace_go_start(w, 1, 2700, 2, 3) == 0);
    CHECK(gotrace_heap_alloc(w, 1, 2800, 2097152) == 0);
    CHECK(gotrace_go_unblock(w, 1, 3000, 1, 4, 9) == 0);
    CHECK(gotrace_go_end(w, 1, 3100) == 0);
    CHECK(gotrace_proc_stop(w, 1, 3150) == 0);
    CHECK(gotrace_writer_flush_proc(w, 1) == 0);

    CHECK(gotrace_go_start(w, 0, 3200, 1, 5) == 0);
    CHECK(gotrace_go_end(w, 0, 3300) == 0);
    CHECK(gotrace_proc_stop(w, 0, 3400) == 0);
    CHECK(gotrace_cpu_sample(w, 1280, 1, 2, 4) == 0);
    CHECK(gotrace_cpu_sample(w, 2550, 0, 1, 6) == 0);
    CHECK(gotrace_writer_finish(w) == 0);
}

/* Bytes 0..409 as listed in §7.2 (strings spelled out from their listed contents). */
static size_t reference_prefix(uint8_t *out)
{
    static const char *const hex =
        "676f20312e313920747261636500000041 00e807 45 0064 cd0400010100 8e000101 840a0200"
        "ed055a01000707 cd0464020203 ef056401000807 6164808040 620080808002 5c6406 1e64"
        "dd0584070102 00 8e0a0103 d5045a020205 ef056401010807 ae640107 546408"
        "4101e209 450065 8e0a0201 f0040a0109040e 776f726b65722073746172746564 591e04 0632"
        "4101da14 450065 8e320203 616480808001 d505c801010409 0f64 0632"
        "41008019 8e000105 0f64 0664 4100c81a f10600800a010204 f10600f613000106"
        "028094ebdc03 4100c81a";
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        CHECK(sscanf(p, "%2x", &v) == 1);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    static const char *const strs[] = {
        "main", "/src/app.c", "worker", "pthread_mutex_lock", "libc", "pthread_create", "job",
        "phase", "status", "write", "pthread_mutex_unlock", "pthread_join", "pthread_exit"};
    for (size_t i = 0; i < 13; i++) {
        out[n++] = 0x25;
        out[n++] = (uint8_t)(i + 1);
        out[n++] = (uint8_t)strlen(strs[i]);
        memcpy(out + n, strs[i], strlen(strs[i]));
        n += strlen(strs[i]);
    }
    static const uint8_t stacks[] = {
        0xc3, 0x09, 0x01, 0x01, 0x80, 0xa0, 0x80, 0x02, 0x01, 0x02, 0x0a,
        0xc3, 0x09, 0x02, 0x01, 0x80, 0xc0, 0x80, 0x02, 0x03, 0x02, 0x1e,
        0xc3, 0x11, 0x03, 0x02, 0x80, 0xa0, 0x80, 0x80, 0x7f, 0x06, 0x05, 0x00,
        0x90, 0xa0, 0x80, 0x02, 0x01, 0x02, 0x0c};
    memcpy(out + n, stacks, sizeof(stacks));
    return n + sizeof(stacks);
}

static int test_reference(const char *path)
{
    struct membuf m = {0};
    struct gotrace_writer *w = gotrace_writer_create(mem_write, &m);
    CHECK(w);
    CHECK(m.len == 16);
    build_reference(w);

    uint8_t want[600];
    size_t n = reference_prefix(want);
    CHECK(n == 410);
    for (size_t i = 0; i < n; i++) {
        if (m.data[i] != want[i]) {
            fprintf(stderr, "byte %zu: got %02x, want %02x\n", i, m.data[i], want[i]);
            CHECK(m.data[i] == want[i]);
        }
    }
    CHECK(m.len == 516);
    /* the stacks the listing elides: offsets, sizes, ids, frame counts */
    static const size_t offs[] = {410, 429, 448, 467, 478, 497, 516};
    for (size_t i = 0; i < 6; i++) {
        size_t pos = offs[i];
        struct rec r;
        next_rec(m.data, m.len, &pos, &r);
        CHECK(r.type == 3 && pos == offs[i + 1] && r.v[0] == 4 + i);
        CHECK(r.v[1] == (i == 3 ? 1u : 2u));
    }
    struct gotrace_stats st;
    gotrace_writer_stats(w, &st);
    CHECK(st.bytes == 516 && st.strings == 13 && st.stacks == 9 && st.clamped == 0);
    CHECK(st.batches == 6 && st.fake_pcs == 0);
    gotrace_writer_destroy(w);
    if (path) {
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(m.data, 1, m.len, f) == m.len && fclose(f) == 0);
    }
    free(m.data);
    return 0;
}

/* ---- limits ------------------------------------------------------------------------------ */

/* Check every EvStack of the finished trace `m`: size, frame count, PC uniqueness. */
static void check_stack_table(const struct membuf *m, uint64_t stack_id, size_t *frames_out,
                              uint64_t *pcs_out)
{
    static uint64_t pc[1100], fn[1100], file[1100], line[1100];
    static uint64_t seen_pc[4096], seen_key[4096][3];
    size_t nseen = 0, pos = 16;
    while (pos < m->len) {
        struct rec r;
        next_rec(m->data, m->len, &pos, &r);
        if (r.type != 3)
            continue;
        CHECK(r.payload_len <= 2048);
        uint64_t id;
        size_t n = stack_frames(m->data, m->len, r.off, &id, pc, fn, file, line);
        CHECK(n >= 1 && n <= 128);
        for (size_t i = 0; i < n; i++) {
            CHECK(pc[i] != 0);
            size_t j;
            for (j = 0; j < nseen && seen_pc[j] != pc[i]; j++)
                ;
            if (j < nseen) { /* one PC, one (function, file, line) */
                CHECK(seen_key[j][0] == fn[i] && seen_key[j][1] == file[i]);
                CHECK(seen_key[j][2] == line[i]);
            } else if (nseen < 4096) {
                seen_pc[nseen] = pc[i];
                seen_key[nseen][0] = fn[i];
                seen_key[nseen][1] = file[i];
                seen_key[nseen][2] = line[i];
                nseen++;
            }
        }
        if (id == stack_id) {
            *frames_out = n;
            memcpy(pcs_out, pc, n * sizeof(*pc));
        }
    }
}

static void limits_stacks(void)
{
    struct membuf m = {0};
    struct gotrace_writer *w = gotrace_writer_create(mem_write, &m);
    CHECK(w);
    static struct gotrace_frame big[200];
    static char names[200][16];
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof(names[i]), "fn%d", i);
        big[i] = (struct gotrace_frame){0x401000 + 16 * (uint64_t)i, names[i], "a.c", 10};
    }
    uint64_t s_count = gotrace_stack(w, big, 200); /* small frames: the 128-frame cap applies */
    /* 10-byte PCs, 2-byte string ids, 3-byte lines: 17 bytes a frame, the byte cap applies */
    for (int i = 0; i < 200; i++)
        big[i] = (struct gotrace_frame){0xffffffff81000000ULL + 16 * (uint64_t)i, names[i],
                                        "kernel.c", 100000 + (uint64_t)i};
    for (int i = 0; i < 130; i++) /* push string ids above 127 */
        CHECK(gotrace_string(w, names[i]) != 0);
    char pad[16];
    for (int i = 0; i < 130; i++) {
        snprintf(pad, sizeof(pad), "pad%d", i);
        CHECK(gotrace_string(w, pad) != 0);
    }
    static char late[200][16];
    for (int i = 0; i < 200; i++) {
        snprintf(late[i], sizeof(late[i]), "late%d", i);
        big[i].function = late[i];
    }
    uint64_t s_bytes = gotrace_stack(w, big, 200);
    /* PC 0 twice for one frame, PC shared by two different frames */
    struct gotrace_frame z[] = {{0, "zero", "z.c", 1}, {0x5000, "f", "f.c", 2},
                                {0x5000, "g", "g.c", 3}, {0x5000, "f", "f.c", 2}};
    uint64_t s_zero = gotrace_stack(w, z, 4);
    struct gotrace_frame z2[] = {{0, "zero", "z.c", 1}};
    uint64_t s_zero2 = gotrace_stack(w, z2, 1);
    CHECK(gotrace_stack(w, z, 0) == 0);
    CHECK(s_count && s_bytes && s_zero && s_zero2);
    CHECK(s_count != s_bytes && s_zero != s_zero2);

    struct gotrace_stats st;
    gotrace_writer_stats(w, &st);
    CHECK(st.stacks_truncated == 2);
    CHECK(st.fake_pcs == 3); /* zero (twice) and g */
    CHECK(gotrace_proc_start(w, 0, 5, 1) == 0); /* at least one event batch */
    CHECK(gotrace_proc_stop(w, 0, 6) == 0);
    CHECK(gotrace_writer_finish(w) == 0);

    size_t n = 0;
    uint64_t pcs[130];
    check_stack_table(&m, s_count, &n, pcs);
    CHECK(n == 128);
    check_stack_table(&m, s_bytes, &n, pcs);
    printf("200-frame stack of 17-byte frames kept %zu frames\n", n);
    CHECK(n > 100 && n < 128);
    check_stack_table(&m, s_zero, &n, pcs);
    CHECK(n == 4);
    uint64_t zero_pc = pcs[0];
    CHECK(zero_pc >= 1ULL << 47 && zero_pc < 1ULL << 48);
    CHECK(pcs[1] == 0x5000 && pcs[3] == 0x5000);
    CHECK(pcs[2] >= 1ULL << 47 && pcs[2] != zero_pc); /* a fake PC, not the real 0x5000 */
    check_stack_table(&m, s_zero2, &n, pcs);
    CHECK(n == 1 && pcs[0] == zero_pc); /* the same frame gets the same fake PC */
    gotrace_writer_destroy(w);
    free(m.data);
}

static void limits_strings_and_clamps(void)
{
    struct membuf m = {0};
    struct gotrace_writer *w = gotrace_writer_create(mem_write, &m);
    CHECK(w);
    static char big[5001];
    for (int i = 0; i < 5000; i++)
        big[i] = (char)('a' + i % 26);
    uint64_t id = gotrace_string(w, big);
    CHECK(id == 1 && gotrace_string(w, big) == 1);
    CHECK(gotrace_string(w, "") == 0 && gotrace_string(w, NULL) == 0);
    CHECK(gotrace_proc_start(w, 0, 100, 7) == 0);
    CHECK(gotrace_heap_alloc(w, 0, 50, 1) == 0);   /* before the previous event: clamped */
    CHECK(gotrace_heap_alloc(w, 0, 150, 2) == 0);
    CHECK(gotrace_proc_stop(w, 0, 149) == 0);      /* clamped */
    CHECK(gotrace_proc_start(w, GOTRACE_MAX_P, 1, 1) == LTPROF_ERR_INVALID);
    CHECK(gotrace_user_region(w, 0, 200, 1, 2, id, 0) == LTPROF_ERR_INVALID);
    CHECK(gotrace_writer_error(w) == 0); /* argument errors are not sticky */
    struct gotrace_stats st;
    gotrace_writer_stats(w, &st);
    CHECK(st.clamped == 2 && st.strings_truncated == 1 && st.strings == 1);
    CHECK(gotrace_writer_finish(w) == 0);
    CHECK(gotrace_heap_alloc(w, 0, 300, 1) == LTPROF_ERR_INVALID); /* after finish */

    size_t pos = 16, strings = 0;
    uint64_t t = 0, times[8];
    size_t ntimes = 0;
    while (pos < m.len) {
        struct rec r;
        next_rec(m.data, m.len, &pos, &r);
        if (r.type == 37) {
            CHECK(r.str_len == 1024 && memcmp(r.str, big + 5000 - 1024, 1024) == 0);
            strings++;
        } else if (r.type == 1) {
            t = r.v[1];
        } else if (r.type == 5 || r.type == 6 || r.type == 33) {
            t += r.v[0];
            times[ntimes++] = t;
        }
    }
    CHECK(strings == 1 && ntimes == 4);
    CHECK(times[0] == 100 && times[1] == 100 && times[2] == 150 && times[3] == 150);
    gotrace_writer_destroy(w);
    free(m.data);
}

/* A small trace touching every allocation; returns the first error met, or 0. */
static int nomem_scenario(struct membuf *m)
{
    struct gotrace_writer *w = gotrace_writer_create(mem_write, m);
    if (!w)
        return LTPROF_ERR_NOMEM;
    int rc = 0;
    struct gotrace_frame f[] = {{0, "main", "m.c", 1}, {0x1000, "start", "s.c", 2}};
    uint64_t stk = gotrace_stack(w, f, 2);
    uint64_t name = gotrace_string(w, "task");
    for (uint64_t p = 0; p < 3 && rc == 0; p++) {
        rc = gotrace_proc_start(w, p, 10 + p, 100 + p);
        if (!rc)
            rc = gotrace_go_create(w, p, 10 + p, p + 1, stk, 0);
        if (!rc)
            rc = gotrace_go_start(w, p, 10 + p, p + 1, 1);
        if (!rc)
            rc = gotrace_user_task_create(w, p, 11 + p, p + 1, 0, name, stk);
        if (!rc)
            rc = gotrace_cpu_sample(w, 12 + p, p, p + 1, stk);
        if (!rc)
            rc = gotrace_go_end(w, p, 13 + p);
    }
    if (!rc)
        rc = gotrace_writer_finish(w);
    if (!rc && (!stk || !name))
        rc = -100; /* a table failure must have been reported */
    if (rc == 0 || rc == LTPROF_ERR_NOMEM)
        CHECK(gotrace_writer_error(w) == rc);
    gotrace_writer_destroy(w);
    return rc;
}

static void limits_nomem(void)
{
    int failures = 0;
    for (long k = 1;; k++) {
        struct membuf m = {0};
        cv_alloc_fail_countdown = k;
        int rc = nomem_scenario(&m);
        long left = cv_alloc_fail_countdown;
        cv_alloc_fail_countdown = 0;
        free(m.data);
        if (rc == 0) {
            CHECK(left > 0); /* success only once the failure point is past the last allocation */
            break;
        }
        CHECK(rc == LTPROF_ERR_NOMEM);
        failures++;
        CHECK(k < 10000);
    }
    printf("allocation failure injected at %d points, each returned LTPROF_ERR_NOMEM\n",
           failures);
    CHECK(failures >= 10);
}

static int failing_write(void *ctx, const void *data, size_t size)
{
    (void)data;
    (void)size;
    int *calls = ctx;
    return ++*calls >= 2 ? LTPROF_ERR_IO : 0;
}

/* Many reserved stacks, then a deduplicated one: the index must grow past all of them (it
 * once doubled only once and then probed a full table forever). */
static void limits_reserved_then_interned(void)
{
    struct membuf m = {0};
    struct gotrace_writer *w = gotrace_writer_create(mem_write, &m);
    CHECK(w);
    struct gotrace_frame f[] = {{0x401000, "first", "a.c", 1}};
    CHECK(gotrace_stack(w, f, 1) == 1);
    uint64_t reserved[6000];
    for (size_t i = 0; i < 6000; i++)
        CHECK((reserved[i] = gotrace_stack_reserve(w)) == i + 2);
    struct gotrace_frame g[] = {{0x402000, "late", "a.c", 2}};
    CHECK(gotrace_stack(w, g, 1) == 6002);
    CHECK(gotrace_stack(w, g, 1) == 6002); /* found again */
    CHECK(gotrace_stack(w, f, 1) == 1);
    for (size_t i = 0; i < 6000; i++)
        CHECK(gotrace_stack_fill(w, reserved[i], f, 1) == 0);
    CHECK(gotrace_proc_start(w, 0, 1, 1) == 0);
    CHECK(gotrace_writer_finish(w) == 0);
    gotrace_writer_destroy(w);
    free(m.data);
}

static int test_limits(void)
{
    limits_stacks();
    limits_reserved_then_interned();
    limits_strings_and_clamps();
    limits_nomem();
    /* a write error is sticky */
    int calls = 0;
    struct gotrace_writer *w = gotrace_writer_create(failing_write, &calls);
    CHECK(w);
    CHECK(gotrace_proc_start(w, 0, 1, 1) == 0);
    CHECK(gotrace_writer_finish(w) == LTPROF_ERR_IO);
    CHECK(gotrace_writer_error(w) == LTPROF_ERR_IO);
    CHECK(gotrace_proc_start(w, 1, 1, 1) == LTPROF_ERR_IO);
    gotrace_writer_destroy(w);
    gotrace_writer_destroy(NULL);
    return 0;
}

/* ---- rich trace for go tool trace -------------------------------------------------------- */

static uint64_t seq[16]; /* per-G sequence counters (§2.10) */

static uint64_t stack2(struct gotrace_writer *w, uint64_t pc, const char *fn, uint64_t caller_pc,
                       const char *caller, uint64_t line)
{
    struct gotrace_frame f[] = {{pc, fn, "libc.so.6", 0}, {caller_pc, caller, "/src/rich.c", line}};
    uint64_t id = gotrace_stack(w, f, 2);
    CHECK(id);
    return id;
}

/*
 * Main thread G1/P0 (tid 200) starts workers G2/P1 (tid 201) and G3/P2 (tid 202). G2 blocks on
 * a mutex held by main (1300-2600 sync), G3 sleeps (1300-1700), waits on a condition
 * (1800-2650) and on a socket (2900-3100); main does a blocking write (1500-2500: GoSysBlock
 * then ProcStop, ProcStart before GoSysExit, as the runtime does), then joins
 * G3. G2 and G3 exit; main is still running at the end (preempted, P stopped). Two clamps:
 * G2's first GoStart is stamped before its GoCreate, and a heap event on P1 goes back in time.
 * Calls follow causality, so the causal clamp is on.
 */
static int test_rich(const char *path)
{
    FILE *f = fopen(path, "wb");
    CHECK(f);
    struct gotrace_writer *w = gotrace_writer_create(file_write, f);
    CHECK(w);
    gotrace_writer_clamp_causality(w, true);
    struct gotrace_frame fm[] = {{0x401000, "main", "/src/rich.c", 10}};
    struct gotrace_frame fa[] = {{0x402000, "worker_a", "/src/rich.c", 50}};
    struct gotrace_frame fb[] = {{0x403000, "worker_b", "/src/rich.c", 80}};
    uint64_t s_main = gotrace_stack(w, fm, 1), s_a = gotrace_stack(w, fa, 1);
    uint64_t s_b = gotrace_stack(w, fb, 1);
    uint64_t s_create = stack2(w, 0x7f0001000, "pthread_create", 0x401010, "main", 12);
    /* Reserved now, named at the end (as the converter does for stacks whose modules may come
     * later): the sync profile below must still show pthread_mutex_lock. */
    uint64_t s_lock = gotrace_stack_reserve(w);
    CHECK(s_lock);
    uint64_t s_unlock = stack2(w, 0x7f0003000, "pthread_mutex_unlock", 0x401020, "main", 20);
    uint64_t s_write = stack2(w, 0x7f0004000, "write", 0x401030, "main", 22);
    uint64_t s_sleep = stack2(w, 0x7f0005000, "nanosleep", 0x403010, "worker_b", 82);
    uint64_t s_cond = stack2(w, 0x7f0006000, "pthread_cond_wait", 0x403020, "worker_b", 85);
    uint64_t s_signal = stack2(w, 0x7f0007000, "pthread_cond_signal", 0x401040, "main", 24);
    uint64_t s_read = stack2(w, 0x7f0008000, "recv", 0x403030, "worker_b", 88);
    uint64_t s_join = stack2(w, 0x7f0009000, "pthread_join", 0x401050, "main", 26);
    uint64_t s_exit = stack2(w, 0x7f000a000, "pthread_exit", 0x403040, "worker_b", 90);
    struct gotrace_frame fr[] = {{0x401060, "main", "/src/rich.c", 15}};
    uint64_t s_region = gotrace_stack(w, fr, 1);
    uint64_t n_task = gotrace_string(w, "request"), n_region = gotrace_string(w, "parse");
    uint64_t n_key = gotrace_string(w, "status");
    CHECK(s_main && s_a && s_b && s_region && n_task && n_region && n_key);

    CHECK(!gotrace_proc_start(w, 0, 1000, 200));
    /* Gomaxprocs first: Go 1.24 treats GoStarts before it as "running since trace start",
     * dated 0, which its UI takes for "never started" (panic at the G's first stop) */
    CHECK(!gotrace_gomaxprocs(w, 0, 1000, 3, 0));
    CHECK(!gotrace_go_create(w, 0, 1000, 1, s_main, 0));
    CHECK(!gotrace_go_start(w, 0, 1010, 1, ++seq[1]));
    CHECK(!gotrace_user_task_create(w, 0, 1100, 1, 0, n_task, s_region));
    CHECK(!gotrace_go_create(w, 0, 1200, 2, s_a, s_create));
    CHECK(!gotrace_proc_start(w, 1, 1190, 201));
    CHECK(!gotrace_go_start(w, 1, 1190, 2, ++seq[2])); /* before its create: clamped to 1200 */
    CHECK(!gotrace_user_log(w, 1, 1210, 1, n_key, s_a, "worker A started"));
    CHECK(!gotrace_go_create(w, 0, 1250, 3, s_b, s_create));
    CHECK(!gotrace_proc_start(w, 2, 1260, 202));
    CHECK(!gotrace_go_start(w, 2, 1260, 3, ++seq[3]));
    CHECK(!gotrace_user_region(w, 0, 1300, 1, 0, n_region, s_region));
    CHECK(!gotrace_go_block_sync(w, 1, 1300, s_lock));
    CHECK(!gotrace_go_sleep(w, 2, 1300, s_sleep));
    CHECK(!gotrace_heap_alloc(w, 0, 1400, 1 << 20));
    CHECK(!gotrace_heap_goal(w, 0, 1400, 4 << 20));
    CHECK(!gotrace_go_syscall(w, 0, 1500, s_write));
    CHECK(!gotrace_go_sys_block(w, 0, 1600));
    CHECK(!gotrace_proc_stop(w, 0, 1600)); /* the P is released, as the runtime does */
    CHECK(!gotrace_go_unblock(w, 2, 1700, 3, ++seq[3], 0)); /* sleep ends: g0 on idle P2 */
    CHECK(!gotrace_go_start(w, 2, 1700, 3, ++seq[3]));
    CHECK(!gotrace_cpu_sample(w, 1750, 2, 3, s_b));
    CHECK(!gotrace_go_block_cond(w, 2, 1800, s_cond));
    CHECK(!gotrace_proc_start(w, 0, 2500, 200));
    CHECK(!gotrace_go_sys_exit(w, 0, 2500, 1, ++seq[1], 0));
    CHECK(!gotrace_go_start(w, 0, 2510, 1, ++seq[1]));
    CHECK(!gotrace_cpu_sample(w, 2550, 0, 1, s_write));
    CHECK(!gotrace_go_unblock(w, 0, 2600, 2, ++seq[2], s_unlock));
    CHECK(!gotrace_go_unblock(w, 0, 2650, 3, ++seq[3], s_signal));
    CHECK(!gotrace_user_region(w, 0, 2700, 1, 1, n_region, s_region));
    CHECK(!gotrace_go_start(w, 1, 2700, 2, ++seq[2]));
    CHECK(!gotrace_go_start(w, 2, 2700, 3, ++seq[3]));
    CHECK(!gotrace_cpu_sample(w, 2750, 2, 3, s_b));
    CHECK(!gotrace_heap_alloc(w, 1, 2800, 2 << 20));
    CHECK(!gotrace_heap_alloc(w, 1, 2750, 3 << 20)); /* back in time on P1: clamped to 2800 */
    CHECK(!gotrace_user_task_end(w, 0, 2800, 1, s_region));
    CHECK(!gotrace_go_block(w, 0, 2900, s_join));
    CHECK(!gotrace_go_block_net(w, 2, 2900, s_read));
    CHECK(!gotrace_go_end(w, 1, 3000)); /* worker A exits */
    CHECK(!gotrace_proc_stop(w, 1, 3050));
    CHECK(!gotrace_writer_flush_proc(w, 1));
    CHECK(!gotrace_go_unblock(w, 2, 3100, 3, ++seq[3], 0)); /* data arrived */
    CHECK(!gotrace_go_start(w, 2, 3100, 3, ++seq[3]));
    CHECK(!gotrace_go_unblock(w, 2, 3200, 1, ++seq[1], s_exit)); /* wakes the joiner */
    CHECK(!gotrace_go_end(w, 2, 3250));
    CHECK(!gotrace_proc_stop(w, 2, 3260));
    CHECK(!gotrace_go_start(w, 0, 3300, 1, ++seq[1]));
    CHECK(!gotrace_go_preempt(w, 0, 3400, 0)); /* end of trace: main still alive */
    CHECK(!gotrace_proc_stop(w, 0, 3400));
    struct gotrace_stats st;
    gotrace_writer_stats(w, &st);
    CHECK(st.clamped == 2);
    struct gotrace_frame flock[] = {{0x7f0002000, "pthread_mutex_lock", "libc.so.6", 0},
                                    {0x402010, "worker_a", "/src/rich.c", 55}};
    CHECK(gotrace_stack_fill(w, s_lock, flock, 2) == 0);
    CHECK(gotrace_stack_fill(w, s_lock, flock, 2) == LTPROF_ERR_INVALID); /* once only */
    CHECK(gotrace_writer_finish(w) == 0);
    gotrace_writer_stats(w, &st);
    gotrace_writer_destroy(w);
    CHECK(fclose(f) == 0);
    printf("rich: %llu events, %llu bytes, %llu clamped\n", (unsigned long long)st.events,
           (unsigned long long)(st.bytes), (unsigned long long)st.clamped);
    return 0;
}

/* ---- many events --------------------------------------------------------------------------- */

/* 8 threads (G p+1 on P p) loop start → syscall → heap → block sync → unblock by g0. */
static int test_many(const char *path, long target)
{
    enum { NP = 8 };
    FILE *f = fopen(path, "wb");
    CHECK(f);
    static char fbuf[1 << 20];
    setvbuf(f, fbuf, _IOFBF, sizeof(fbuf));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct gotrace_writer *w = gotrace_writer_create(file_write, f);
    CHECK(w);
    uint64_t entry[NP], blk[NP], sys[NP], gseq[NP] = {0};
    for (int p = 0; p < NP; p++) {
        char name[32];
        snprintf(name, sizeof(name), "thread_%d", p);
        struct gotrace_frame e[] = {{0x400000 + 0x100 * (uint64_t)p, name, "/src/many.c", 1}};
        entry[p] = gotrace_stack(w, e, 1);
        blk[p] = stack2(w, 0x7f0000000, "pthread_mutex_lock", e[0].pc + 8, name, 2);
        sys[p] = stack2(w, 0x7f0001000, "write", e[0].pc + 16, name, 3);
        CHECK(!gotrace_proc_start(w, (uint64_t)p, 1000, 1000 + (uint64_t)p));
        CHECK(!gotrace_go_create(w, (uint64_t)p, 1000, (uint64_t)p + 1, entry[p], 0));
    }
    CHECK(!gotrace_gomaxprocs(w, 0, 1000, NP, 0));
    long iters = target / NP / 5;
    uint64_t ts = 1000;
    for (long i = 0; i < iters; i++) {
        for (uint64_t p = 0; p < NP; p++) {
            uint64_t g = p + 1, t = ts + p;
            CHECK(!gotrace_go_start(w, p, t, g, ++gseq[p]));
            CHECK(!gotrace_go_syscall(w, p, t + 10, sys[p]));
            CHECK(!gotrace_heap_alloc(w, p, t + 20, (uint64_t)i * 64));
            CHECK(!gotrace_go_block_sync(w, p, t + 30, blk[p]));
            CHECK(!gotrace_go_unblock(w, p, t + 50, g, ++gseq[p], 0));
        }
        ts += 100;
    }
    for (uint64_t p = 0; p < NP; p++) {
        CHECK(!gotrace_go_start(w, p, ts, p + 1, ++gseq[p]));
        CHECK(!gotrace_go_end(w, p, ts + 10));
        CHECK(!gotrace_proc_stop(w, p, ts + 20));
    }
    CHECK(gotrace_writer_finish(w) == 0);
    struct gotrace_stats st;
    gotrace_writer_stats(w, &st);
    gotrace_writer_destroy(w);
    CHECK(fclose(f) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(st.events >= (uint64_t)target * 9 / 10 && st.clamped == 0);
    CHECK(st.batches > 8); /* 64 KiB batches were cut */
    printf("many: %llu events, %llu bytes (%.2f bytes/event), %llu batches, %.3f s, "
           "%.1f M events/s\n",
           (unsigned long long)st.events, (unsigned long long)st.bytes,
           (double)st.bytes / (double)st.events, (unsigned long long)st.batches, secs,
           (double)st.events / secs / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "reference") == 0)
        return test_reference(argc >= 3 ? argv[2] : NULL);
    if (argc == 2 && strcmp(argv[1], "limits") == 0)
        return test_limits();
    if (argc == 3 && strcmp(argv[1], "rich") == 0)
        return test_rich(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "many") == 0)
        return test_many(argv[2], argc >= 4 ? atol(argv[3]) : 1000000);
    fprintf(stderr, "usage: %s reference [FILE] | limits | rich FILE | "
                    "many FILE [EVENTS]\n",
            argv[0]);
    return 2;
}
