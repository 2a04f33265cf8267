/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for ltprof_profile_write (linked with -lltprof): hold_blocks()
 * keeps 8 MiB in 1024 blocks of 8 KiB, the program writes the "heap" profile to the file
 * argv[1], frees the blocks, writes "allocs" to argv[2]; spawn_threads() creates 3 threads and
 * joins them, and "threadcreate" goes to argv[3]; then it checks the API's answers to bad
 * requests. Prints "api: <call>=<status>" lines and exits 0 when every answer was the
 * documented one (tests/integration/test_heap_inprocess.sh reads the files).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void expect(const char *what, int got, int want)
{
    printf("api: %s=%s\n", what, ltprof_status_string((enum ltprof_status)got));
    if (got != want) {
        printf("  want %s\n", ltprof_status_string((enum ltprof_status)want));
        failures++;
    }
}

static int write_to(const char *name, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    int rc = ltprof_profile_write(name, fd, 0);
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HEAP_FILE ALLOCS_FILE THREADCREATE_FILE\n", argv[0]);
        return 2;
    }
    hold_blocks();
    expect("heap", write_to("heap", argv[1]), LTPROF_OK);
    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);
    expect("allocs", write_to("allocs", argv[2]), LTPROF_OK);
    spawn_threads();
    expect("threadcreate", write_to("threadcreate", argv[3]), LTPROF_OK);

    int null_fd = open("/dev/null", O_WRONLY);
    expect("unknown_name", ltprof_profile_write("nosuch", null_fd, 0), LTPROF_ERR_NOT_FOUND);
    expect("null_name", ltprof_profile_write(NULL, null_fd, 0), LTPROF_ERR_INVALID);
    expect("mutex", ltprof_profile_write("mutex", null_fd, 0), LTPROF_OK);
    expect("goroutine", ltprof_profile_write("goroutine", null_fd, 0), LTPROF_ERR_UNSUPPORTED);
    expect("debug_1", ltprof_profile_write("heap", null_fd, 1), LTPROF_ERR_UNSUPPORTED);
    expect("debug_7", ltprof_profile_write("heap", null_fd, 7), LTPROF_ERR_INVALID);
    expect("negative_fd", ltprof_profile_write("heap", -1, 0), LTPROF_ERR_INVALID);
    int ro = open("/dev/null", O_RDONLY);
    expect("read_only_fd", ltprof_profile_write("heap", ro, 0), LTPROF_ERR_IO);
    close(ro);
    close(null_fd);
    return failures ? 1 : 0;
}
