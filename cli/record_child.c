/* SPDX-License-Identifier: MIT */
/*
 * The recorded process of `ltprof record` (cli/record.h): forked early, held on a pipe until
 * the session tracks its pid, then exec'd with libltprof.so prepended to LD_PRELOAD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record.h"

int rec_find_library(char *path, size_t size)
{
    const char *env = getenv("LTPROF_LIBRARY");
    char exe[PATH_MAX];
    if (env && *env) {
        if (access(env, R_OK) == 0 && (size_t)snprintf(path, size, "%s", env) < size)
            return 0;
        fprintf(stderr, "ltprof record: LTPROF_LIBRARY=\"%s\" is not a readable file\n", env);
        return -1;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        fprintf(stderr, "ltprof record: cannot find my own executable: %s\n", strerror(errno));
        return -1;
    }
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    /* The build tree (bin/ → lib/) and the installed layout (bin/ → LIBDIR/). */
    const char *candidates[] = {"../lib/libltprof.so", "../" LTPROF_INSTALL_LIBDIR "/libltprof.so"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        char p[PATH_MAX + 64], resolved[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", exe, candidates[i]);
        if (access(p, R_OK) == 0 && realpath(p, resolved) &&
            (size_t)snprintf(path, size, "%s", resolved) < size)
            return 0;
    }
    fprintf(stderr, "ltprof record: libltprof.so not found beside %s (set LTPROF_LIBRARY)\n", exe);
    return -1;
}

static void child_main(int go_fd, int exec_fd, const struct rec_options *o, const char *lib)
{
    char c, preload[PATH_MAX * 2];
    if (read(go_fd, &c, 1) != 1)
        _exit(127); /* the parent gave up */
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    if (o->hz)
        setenv("LTPROF_CPU_HZ", o->hz, 1);
    if (o->engine)
        setenv("LTPROF_CPU_ENGINE", o->engine, 1);
    execvp(o->cmd[0], o->cmd);
    int e = errno;
    ssize_t w = write(exec_fd, &e, sizeof(e));
    (void)w;
    _exit(127);
}

int rec_child_spawn(struct rec_child *c, const struct rec_options *o, const char *lib)
{
    int go[2], ex[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(ex, O_CLOEXEC) != 0) {
        fprintf(stderr, "ltprof record: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ltprof record: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(go[1]);
        close(ex[0]);
        child_main(go[0], ex[1], o, lib);
    }
    close(go[0]);
    close(ex[1]);
    *c = (struct rec_child){pid, go[1], ex[0]};
    return 0;
}

int rec_child_run(struct rec_child *c)
{
    int e = 0, status;
    ssize_t w = write(c->go_fd, "g", 1);
    (void)w;
    close(c->go_fd);
    ssize_t n = read(c->exec_fd, &e, sizeof(e));
    close(c->exec_fd);
    while (waitpid(c->pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "ltprof record: waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    if (n == (ssize_t)sizeof(e)) {
        fprintf(stderr, "ltprof record: cannot run the command: %s\n", strerror(e));
        return -1;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

void rec_child_abort(struct rec_child *c)
{
    close(c->go_fd);
    close(c->exec_fd);
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
}
