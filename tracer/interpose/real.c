/* SPDX-License-Identifier: MIT */
/*
 * Fills the table of real libc functions behind the interposers (real.h). Runs once, from the
 * first wrapper called or from the library constructor, whichever comes first; two threads
 * racing here store the same values.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

struct tr_real_table tr_real;
_Atomic int tr_real_ready;
struct tr_code_range tr_lttng_code[TR_MAX_FOREIGN];
int tr_lttng_code_n;

/* dl_iterate_phdr callback: the executable segments of liblttng-ust*.so. */
static int find_lttng(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "liblttng-ust"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && tr_lttng_code_n < TR_MAX_FOREIGN; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        tr_lttng_code[tr_lttng_code_n++] = (struct tr_code_range){lo, lo + ph->p_memsz};
    }
    return 0;
}

/* The next definition of `name`: libc's. pthread_cond_wait, _timedwait, _signal and
 * _broadcast exist in two versions; ask for the current one, as a program linked today would.
 * (Only for those: a failed dlvsym allocates its error message, and the malloc that runs may
 * be another allocator that is initializing and takes a mutex, which comes back here.) */
static void *lookup(const char *name)
{
    void *fn = NULL;
    if (strncmp(name, "pthread_cond_", 13) == 0 && strcmp(name, "pthread_cond_clockwait") != 0)
        fn = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
    if (!fn)
        fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        /* Not through write(): that is one of ours, and the table is not ready. */
        static const char msg[] = "ltprof: cannot find the real libc function ";
        syscall(SYS_write, STDERR_FILENO, msg, sizeof(msg) - 1);
        syscall(SYS_write, STDERR_FILENO, name, strlen(name));
        syscall(SYS_write, STDERR_FILENO, "\n", 1);
        abort();
    }
    return fn;
}

void tr_real_init(void)
{
#define TR_REAL_LOOKUP(ret, name, params) tr_real.name = (ret(*) params)lookup(#name);
    TR_REAL_FUNCTIONS(TR_REAL_LOOKUP)
#undef TR_REAL_LOOKUP
    if (tr_lttng_code_n == 0)
        dl_iterate_phdr(find_lttng, NULL);
    atomic_store_explicit(&tr_real_ready, 1, memory_order_release);
}

__attribute__((constructor)) static void real_init_at_load(void)
{
    if (!atomic_load_explicit(&tr_real_ready, memory_order_acquire))
        tr_real_init();
}
