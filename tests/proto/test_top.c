/* SPDX-License-Identifier: MIT */
/*
 * Tests of `ltprof top` (cli/top.c) on profiles built with the pprof builder. The binary is also
 * a driver: `test_top run [top args...]` behaves like `ltprof top`; the cases run it as a child
 * to capture stdout, stderr and the exit status. Usage: test_top <case> <tmpdir>.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "pprof_builder.h"
#include "test_util.h"

static char tmp[512];
static char out_text[1 << 16], err_text[4096];

/* Runs `test_top run ARGS` (a shell fragment); fills out_text/err_text; returns exit status. */
static int run_top(const char *args) {
    char cmd[2048], err_path[600];
    snprintf(err_path, sizeof(err_path), "%s/top_stderr_%d.txt", tmp, (int)getpid());
    snprintf(cmd, sizeof(cmd), "/proc/%d/exe run %s 2>'%s'", (int)getpid(), args, err_path);
    FILE *f = popen(cmd, "r");
    CHECK(f);
    size_t n = fread(out_text, 1, sizeof(out_text) - 1, f);
    out_text[n] = '\0';
    int st = pclose(f);
    f = fopen(err_path, "r");
    CHECK(f);
    n = fread(err_text, 1, sizeof(err_text) - 1, f);
    err_text[n] = '\0';
    fclose(f);
    unlink(err_path);
    printf("$ ltprof top %s  -> %d\n%s%s", args, WEXITSTATUS(st), out_text, err_text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* CPU profile with known totals (10 ms per sample, 100 ms in all):
 *   3 x [leaf_a inlined in mid] <- main        leaf_a flat 30 ms, only inlined
 *   1 x mid <- main                             mid flat 10 ms, cum 40 ms
 *   2 x rec <- rec <- main                      recursion: rec cum 20 ms, not 40
 *   4 x 0x7000 in libx.so (no lines) <- main   unsymbolized: flat 40 ms
 * With unsymbolized = 0 every frame is symbolized (for the comparison with go tool pprof). */
static void write_cpu_profile(const char *path, int unsymbolized) {
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup("cpu"), 10000000);
    CHECK(b);
    pprof_builder_set_time(b, 0, 1000000000);
    unsigned all = PPROF_HAS_FUNCTIONS | PPROF_HAS_FILENAMES | PPROF_HAS_LINE_NUMBERS;
    CHECK(pprof_builder_add_mapping(b, 0x1000, 0x5000, 0, "/opt/app", NULL, all) == 1);
    CHECK(pprof_builder_add_mapping(b, 0x7000, 0x8000, 0, "/lib/libx.so", NULL,
                                    unsymbolized ? 0 : all) == 2);
    struct pprof_line l_inl[] = {{"leaf_a", NULL, "a.c", 1}, {"mid", NULL, "a.c", 2}};
    struct pprof_line l_mid = {"mid", NULL, "a.c", 3}, l_main = {"main", NULL, "a.c", 4};
    struct pprof_line l_rec1 = {"rec", NULL, "a.c", 5}, l_rec2 = {"rec", NULL, "a.c", 6};
    struct pprof_line l_lib = {"lib_fn", NULL, "lib.c", 7};
    uint64_t inl = pprof_builder_add_location(b, 1, 0x1100, l_inl, 2);
    uint64_t mid = pprof_builder_add_location(b, 1, 0x1200, &l_mid, 1);
    uint64_t main_ = pprof_builder_add_location(b, 1, 0x1300, &l_main, 1);
    uint64_t rec1 = pprof_builder_add_location(b, 1, 0x1400, &l_rec1, 1);
    uint64_t rec2 = pprof_builder_add_location(b, 1, 0x1500, &l_rec2, 1);
    uint64_t lib = pprof_builder_add_location(b, 2, 0x7000, &l_lib, unsymbolized ? 0 : 1);
    uint64_t s1[] = {inl, main_}, s2[] = {mid, main_}, s3[] = {rec1, rec2, main_},
             s4[] = {lib, main_};
    int64_t one[] = {1, 10000000};
    for (int i = 0; i < 3; i++)
        CHECK(pprof_builder_add_sample(b, s1, 2, one, NULL, 0) == 0);
    CHECK(pprof_builder_add_sample(b, s2, 2, one, NULL, 0) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pprof_builder_add_sample(b, s3, 3, one, NULL, 0) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(pprof_builder_add_sample(b, s4, 2, one, NULL, 0) == 0);
    CHECK(pprof_builder_write_file(b, path) == 0);
    pprof_builder_destroy(b);
}

static int case_cpu_flat(void) {
    char path[600], args[700];
    snprintf(path, sizeof(path), "%s/top_cpu_%d.pb.gz", tmp, (int)getpid());
    write_cpu_profile(path, 1);
    snprintf(args, sizeof(args), "'%s'", path);
    CHECK(run_top(args) == 0);
    CHECK(err_text[0] == '\0');
    const char *want = "File: app\n"
                       "Type: cpu\n"
                       "Duration: 1s, Total samples = 100ms (10.00%)\n"
                       "Showing nodes accounting for 100ms, 100% of 100ms total\n"
                       "      flat  flat%   sum%        cum   cum%\n"
                       "      40ms 40.00% 40.00%       40ms 40.00%  0x7000 [libx.so]\n"
                       "      30ms 30.00% 70.00%       30ms 30.00%  leaf_a (inline)\n"
                       "      20ms 20.00% 90.00%       20ms 20.00%  rec\n"
                       "      10ms 10.00%   100%       40ms 40.00%  mid\n"
                       "         0     0%   100%      100ms   100%  main\n";
    CHECK(strcmp(out_text, want) == 0);

    snprintf(args, sizeof(args), "'%s' --cum -n 3", path);
    CHECK(run_top(args) == 0);
    CHECK(strstr(out_text, "Showing nodes accounting for 50ms, 50.00% of 100ms total\n"
                           "Showing top 3 nodes out of 5\n"));
    CHECK(strstr(out_text, "cum%\n"
                           "         0     0%     0%      100ms   100%  main\n"
                           "      40ms 40.00% 40.00%       40ms 40.00%  0x7000 [libx.so]\n"
                           "      10ms 10.00% 50.00%       40ms 40.00%  mid\n"));
    CHECK(!strstr(out_text, "leaf_a"));

    snprintf(args, sizeof(args), "--sample-index samples '%s'", path);
    CHECK(run_top(args) == 0);
    CHECK(strstr(out_text, "Type: samples\nDuration: 1s, Total samples = 10 \n"));
    CHECK(strstr(out_text, "         4 40.00% 40.00%          4 40.00%  0x7000 [libx.so]\n"));
    snprintf(args, sizeof(args), "--sample-index=0 '%s'", path);
    CHECK(run_top(args) == 0 && strstr(out_text, "Type: samples\n"));
    unlink(path);
    return 0;
}

static void write_heap_profile(const char *path, const char *kind) {
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup(kind), 524288);
    CHECK(b);
    struct pprof_line l1 = {"big_alloc", NULL, NULL, 0}, l2 = {"small_alloc", NULL, NULL, 0};
    uint64_t a = pprof_builder_add_location(b, 0, 0x10, &l1, 1);
    uint64_t c = pprof_builder_add_location(b, 0, 0x20, &l2, 1);
    int64_t v1[] = {2, 3 << 20, 1, 1536}, v2[] = {100, 6400, 50, 3200};
    CHECK(pprof_builder_add_sample(b, &a, 1, v1, NULL, 0) == 0);
    CHECK(pprof_builder_add_sample(b, &c, 1, v2, NULL, 0) == 0);
    CHECK(pprof_builder_write_file(b, path) == 0);
    pprof_builder_destroy(b);
}

static int case_heap_units(void) {
    char path[600], args[700];
    snprintf(path, sizeof(path), "%s/top_heap_%d.pb.gz", tmp, (int)getpid());
    write_heap_profile(path, "heap");
    snprintf(args, sizeof(args), "'%s'", path);
    CHECK(run_top(args) == 0);
    CHECK(strstr(out_text, "Type: inuse_space\n")); /* no default: the last column */
    CHECK(strstr(out_text, "    3.12kB 67.57% 67.57%     3.12kB 67.57%  small_alloc\n"));
    CHECK(strstr(out_text, "    1.50kB 32.43%   100%     1.50kB 32.43%  big_alloc\n"));
    CHECK(!strstr(out_text, "Duration"));
    write_heap_profile(path, "allocs");
    CHECK(run_top(args) == 0);
    CHECK(strstr(out_text, "Type: alloc_space\n")); /* default_sample_type */
    CHECK(strstr(out_text, "       3MB 99.80% 99.80%        3MB 99.80%  big_alloc\n"));
    CHECK(strstr(out_text, "Showing nodes accounting for 3MB, 99.80% of 3.01MB total\n"
                           "Dropped 1 node (cum <= 0.02MB)\n")); /* pprof's 0.5% cutoff */
    CHECK(!strstr(out_text, "small_alloc"));
    snprintf(args, sizeof(args), "'%s' --sample-index alloc_objects", path);
    CHECK(run_top(args) == 0);
    CHECK(strstr(out_text, "       100 98.04% 98.04%        100 98.04%  small_alloc\n"));
    unlink(path);
    return 0;
}

static int case_errors(void) {
    char path[600], args[700];
    snprintf(path, sizeof(path), "%s/top_bad_%d.pb.gz", tmp, (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f && fputs("this is not a profile", f) >= 0 && fclose(f) == 0);
    snprintf(args, sizeof(args), "'%s'", path);
    CHECK(run_top(args) == 1 && out_text[0] == '\0');
    char want[700];
    snprintf(want, sizeof(want), "ltprof top: %s: not a pprof profile", path);
    CHECK(strncmp(err_text, want, strlen(want)) == 0);
    CHECK(strchr(err_text, '\n') == err_text + strlen(err_text) - 1); /* one line */
    unlink(path);
    CHECK(run_top(args) == 1 && strstr(err_text, "No such file or directory\n"));
    CHECK(run_top("") == 2 && strstr(err_text, "missing profile file"));
    CHECK(run_top("a b") == 2 && strstr(err_text, "unexpected argument b"));
    CHECK(run_top("--bogus x") == 2 && strstr(err_text, "unknown option --bogus"));
    CHECK(run_top("x -n") == 2 && strstr(err_text, "needs a value"));
    CHECK(run_top("x -n -3") == 2 && strstr(err_text, "non-negative number"));
    CHECK(run_top("--help") == 0 && strstr(out_text, "usage: ltprof top") && !err_text[0]);
    write_cpu_profile(path, 1);
    snprintf(args, sizeof(args), "'%s' --sample-index nope", path);
    CHECK(run_top(args) == 2 && strstr(err_text, "no sample type \"nope\""));
    unlink(path);
    return 0;
}

/* Our rows must equal go tool pprof -top's for a fully symbolized profile. */
static int case_matches_go_tool_pprof(void) {
    if (system("go version >/dev/null 2>&1") != 0)
        return 77;
    char path[600], args[700], cmd[800];
    static char go_out[1 << 16];
    snprintf(path, sizeof(path), "%s/top_go_%d.pb.gz", tmp, (int)getpid());
    write_cpu_profile(path, 0);
    snprintf(cmd, sizeof(cmd), "go tool pprof -top '%s' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    CHECK(f);
    go_out[fread(go_out, 1, sizeof(go_out) - 1, f)] = '\0';
    CHECK(pclose(f) == 0);
    printf("go tool pprof -top:\n%s", go_out);
    snprintf(args, sizeof(args), "'%s'", path);
    CHECK(run_top(args) == 0);
    CHECK(strcmp(out_text, go_out) == 0);
    unlink(path);
    return 0;
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    snprintf(tmp, sizeof(tmp), "%s", argc > 2 ? argv[2] : "/tmp");
    if (strcmp(c, "run") == 0)
        return cli_top(argc - 1, argv + 1);
    if (strcmp(c, "cpu_flat") == 0)
        return case_cpu_flat();
    if (strcmp(c, "heap_units") == 0)
        return case_heap_units();
    if (strcmp(c, "errors") == 0)
        return case_errors();
    if (strcmp(c, "matches_go_tool_pprof") == 0)
        return case_matches_go_tool_pprof();
    fprintf(stderr, "unknown case \"%s\"\n", c);
    return 2;
}
