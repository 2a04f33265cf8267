/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for ltprof_profile_write (linked with -lltprof), writing into the
 * folder argv[1]: hold_blocks() keeps 8 MiB in 1024 blocks of 8 KiB, the program writes
 * heap.pb.gz and heap.txt (debug=1), frees the blocks, writes allocs.pb.gz; spawn_threads()
 * creates 3 threads and joins them: threadcreate.pb.gz and .txt; a user-defined profile
 * "connections" gets 3 values from open_a and 2 from open_b, loses one of open_a's:
 * connections.pb.gz and .txt; ltprof_start_cpu_profile around burn_cpu() (0.3 s of CPU) and,
 * under the label request=checkout, burn_labeled() (0.2 s), which also keeps 1 MiB
 * (hold_labeled, 128 blocks): cpu.pb.gz and heap-labels.pb.gz; then it checks the API's
 * answers to bad requests. Prints "api: <call>=<status>" lines and exits 0 when every answer was the
 * documented one (tests/integration/test_heap_inprocess.sh reads the files).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ltprof/ltprof.h>

#define NOINLINE __attribute__((noipa))
#define BLOCKS 1024

static void *blocks[BLOCKS];
static int failures;

NOINLINE void hold_blocks(void)
{
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(8192);
        memset(blocks[i], 7, 8192);
    }
}

static void *idle(void *arg)
{
    return arg;
}

NOINLINE void spawn_threads(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        if (pthread_create(&t[i], NULL, idle, NULL) != 0)
            exit(1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
}

static int conns[5];

NOINLINE void open_a(ltprof_profile *p, int i)
{
    if (ltprof_profile_add(p, &conns[i], 0) != LTPROF_OK)
        exit(1);
}

NOINLINE void open_b(ltprof_profile *p, int i)
{
    if (ltprof_profile_add(p, &conns[i], 0) != LTPROF_OK)
        exit(1);
}

static volatile uint64_t burn_sink;

NOINLINE static void burn_for(long ns);

/* The burners keep their frames (no tail call into burn_for). */
NOINLINE void burn_cpu(void)
{
    burn_for(300000000L);
    __asm__ volatile("" ::: "memory");
}

static void *labeled_blocks[128];

NOINLINE void hold_labeled(void)
{
    for (int i = 0; i < 128; i++) {
        labeled_blocks[i] = malloc(8192);
        memset(labeled_blocks[i], 3, 8192);
    }
}

NOINLINE void burn_labeled(void)
{
    burn_for(200000000L);
    __asm__ volatile("" ::: "memory");
}

NOINLINE static void burn_for(long ns)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    uint64_t x = 1;
    do {
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < ns);
    burn_sink = x;
}

/* fork() while another thread adds to and removes from a user-defined profile: the child can
 * add and write profiles (no ltprof lock came over taken). The other thread does not write
 * profiles meanwhile: symbolizing walks the loaded modules under the dynamic loader's lock,
 * which fork() does not take, and LTTng-UST's rebuild in the child walks them too
 * (docs/design.md, known limits). */
static volatile int busy_stop;
static int busy_values[64];

static void *busy_profiles(void *arg)
{
    ltprof_profile *p = arg;
    for (unsigned i = 0; !busy_stop; i++) {
        ltprof_profile_add(p, &busy_values[i % 64], 0);
        ltprof_profile_remove(p, &busy_values[(i + 32) % 64]);
    }
    return NULL;
}

static int fork_while_busy(ltprof_profile *p)
{
    pthread_t t;
    if (pthread_create(&t, NULL, busy_profiles, p) != 0)
        return LTPROF_ERR_NOMEM;
    int rc = LTPROF_OK;
    for (int f = 0; f < 30 && rc == LTPROF_OK; f++) {
        struct timespec ts = {0, 3 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10); /* a lock that came over taken ends as SIGALRM */
            static int mine;
            int null_fd = open("/dev/null", O_WRONLY);
            _exit(ltprof_profile_add(p, &mine, 0) == LTPROF_OK &&
                          ltprof_profile_write("goroutine", null_fd, 0) == LTPROF_OK
                      ? 0
                      : 1);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            rc = LTPROF_ERR_BUSY;
    }
    busy_stop = 1;
    pthread_join(t, NULL);
    return rc;
}

static void expect(const char *what, int got, int want)
{
    printf("api: %s=%s\n", what, ltprof_status_string((enum ltprof_status)got));
    if (got != want) {
        printf("  want %s\n", ltprof_status_string((enum ltprof_status)want));
        failures++;
    }
}

static const char *out_dir;

/* Writes profile `name` (debug 0 or 1) to out_dir/<file>. */
static int write_file(const char *name, int debug, const char *file)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", out_dir, file);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    int rc = ltprof_profile_write(name, fd, debug);
    close(fd);
    return rc;
}

/* ... to out_dir/<name>.pb.gz or .txt. */
static int write_to(const char *name, int debug)
{
    char file[256];
    snprintf(file, sizeof(file), "%s.%s", name, debug ? "txt" : "pb.gz");
    return write_file(name, debug, file);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    hold_blocks();
    expect("heap", write_to("heap", 0), LTPROF_OK);
    expect("heap_text", write_to("heap", 1), LTPROF_OK);
    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);
    expect("allocs", write_to("allocs", 0), LTPROF_OK);
    spawn_threads();
    expect("threadcreate", write_to("threadcreate", 0), LTPROF_OK);
    expect("threadcreate_text", write_to("threadcreate", 1), LTPROF_OK);

    ltprof_profile *p = ltprof_profile_new("connections");
    expect("new", p ? LTPROF_OK : LTPROF_ERR_INVALID, LTPROF_OK);
    if (!p)
        return 1;
    expect("new_again", ltprof_profile_new("connections") ? LTPROF_OK : LTPROF_ERR_BUSY,
           LTPROF_ERR_BUSY);
    expect("new_heap", ltprof_profile_new("heap") ? LTPROF_OK : LTPROF_ERR_INVALID,
           LTPROF_ERR_INVALID);
    expect("new_empty", ltprof_profile_new("") ? LTPROF_OK : LTPROF_ERR_INVALID,
           LTPROF_ERR_INVALID);
    expect("lookup", ltprof_profile_lookup("connections") == p ? LTPROF_OK : LTPROF_ERR_NOT_FOUND,
           LTPROF_OK);
    for (int i = 0; i < 3; i++)
        open_a(p, i);
    open_b(p, 3);
    open_b(p, 4);
    expect("add_duplicate", ltprof_profile_add(p, &conns[0], 0), LTPROF_ERR_BUSY);
    expect("add_null", ltprof_profile_add(p, NULL, 0), LTPROF_ERR_INVALID);
    ltprof_profile_remove(p, &conns[1]);
    ltprof_profile_remove(p, &conns[1]); /* absent: nothing */
    expect("count_4", ltprof_profile_count(p) == 4 ? LTPROF_OK : LTPROF_ERR_INVALID, LTPROF_OK);
    const char *names[16];
    size_t n = ltprof_profiles(names, 16);
    printf("profiles:");
    for (size_t i = 0; i < n && i < 16; i++)
        printf(" %s", names[i]);
    printf("\n");
    expect("profiles_7", n == 7 && strcmp(names[1], "block") == 0 &&
                             strcmp(names[2], "connections") == 0 ? LTPROF_OK : LTPROF_ERR_INVALID,
           LTPROF_OK);
    expect("fork_while_busy", fork_while_busy(ltprof_profile_new("busy")), LTPROF_OK);
    expect("custom", write_to("connections", 0), LTPROF_OK);
    expect("custom_text", write_to("connections", 1), LTPROF_OK);

    char cpu_path[4096];
    snprintf(cpu_path, sizeof(cpu_path), "%s/cpu.pb.gz", out_dir);
    int cpu_fd = open(cpu_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    expect("cpu_stop_unstarted", ltprof_stop_cpu_profile(), LTPROF_ERR_NOT_FOUND);
    expect("cpu_start", ltprof_start_cpu_profile(cpu_fd), LTPROF_OK);
    expect("cpu_start_again", ltprof_start_cpu_profile(cpu_fd), LTPROF_ERR_BUSY);
    burn_cpu();
    expect("labels_push", ltprof_labels_push("request", "checkout"), LTPROF_OK);
    expect("labels_value", ltprof_label("request") && strcmp(ltprof_label("request"), "checkout") == 0
                               ? LTPROF_OK : LTPROF_ERR_NOT_FOUND, LTPROF_OK);
    expect("labels_empty_key", ltprof_labels_push("", "x"), LTPROF_ERR_INVALID);
    hold_labeled();
    burn_labeled();
    ltprof_labels_pop();
    expect("labels_popped", ltprof_label("request") ? LTPROF_ERR_BUSY : LTPROF_OK, LTPROF_OK);
    expect("cpu_stop", ltprof_stop_cpu_profile(), LTPROF_OK);
    expect("heap_labels", write_file("heap", 0, "heap-labels.pb.gz"), LTPROF_OK);
    close(cpu_fd);
    expect("cpu_start_negative_fd", ltprof_start_cpu_profile(-1), LTPROF_ERR_INVALID);

    int null_fd = open("/dev/null", O_WRONLY);
    expect("unknown_name", ltprof_profile_write("nosuch", null_fd, 0), LTPROF_ERR_NOT_FOUND);
    expect("null_name", ltprof_profile_write(NULL, null_fd, 0), LTPROF_ERR_INVALID);
    expect("mutex", ltprof_profile_write("mutex", null_fd, 0), LTPROF_OK);
    expect("goroutine", ltprof_profile_write("goroutine", null_fd, 0), LTPROF_OK);
    expect("goroutine_text", ltprof_profile_write("goroutine", null_fd, 1), LTPROF_OK);
    expect("debug_7", ltprof_profile_write("heap", null_fd, 7), LTPROF_ERR_INVALID);
    expect("negative_fd", ltprof_profile_write("heap", -1, 0), LTPROF_ERR_INVALID);
    int ro = open("/dev/null", O_RDONLY);
    expect("read_only_fd", ltprof_profile_write("heap", ro, 0), LTPROF_ERR_IO);
    close(ro);
    close(null_fd);
    return failures ? 1 : 0;
}
