/* SPDX-License-Identifier: MIT */
/*
 * no_perf CMD [ARGS...]: runs CMD where the kernel refuses perf events, like a container
 * with Docker's default seccomp profile: a seccomp filter makes perf_event_open fail with
 * EACCES, then CMD is exec'd. Used to test the sampler's automatic fallback to timer_create.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};

    if (argc < 2) {
        fprintf(stderr, "usage: no_perf CMD [ARGS...]\n");
        return 2;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        fprintf(stderr, "no_perf: cannot install the seccomp filter: %s\n", strerror(errno));
        return 1;
    }
    if (syscall(__NR_perf_event_open, NULL, 0, -1, -1, 0) != -1 || errno != EACCES) {
        fprintf(stderr, "no_perf: the filter does not refuse perf_event_open\n");
        return 1;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "no_perf: cannot run %s: %s\n", argv[1], strerror(errno));
    return 127;
}
