/* SPDX-License-Identifier: MIT */
/*
 * Shared by the symbolizer test fixtures (C and C++): fix_capture() records a return address
 * that lies inside its caller, and fix_dump() prints what the test needs, from inside the
 * process: captured addresses, function addresses, the statedump-equivalent module list
 * (dl_iterate_phdr: baddr of the first PT_LOAD, memsz, build ID from the note, path) and the
 * executable lines of /proc/self/maps. Header-only so each fixture is a single program.
 */
#ifndef FIX_COMMON_H
#define FIX_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr */
#endif

#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FIX_SLOTS 8
static uintptr_t fix_slots[FIX_SLOTS];

/* Records the return address: the instruction after the call, inside the caller. */
__attribute__((noinline)) static void fix_capture(int slot) {
    fix_slots[slot] = (uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
}

static void fix_print_build_id(struct dl_phdr_info *info) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const unsigned char *name = p + sizeof(*n);
            const unsigned char *desc = name + ((n->n_namesz + 3) & ~3u);
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                for (unsigned j = 0; j < n->n_descsz; j++)
                    printf("%02x", desc[j]);
                return;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    printf("-");
}

static int fix_module_cb(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    int *index = (int *)data;
    char exe[4096];
    const char *path = info->dlpi_name;
    if ((*index)++ == 0 && (path == NULL || path[0] == '\0')) {
        ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[len > 0 ? len : 0] = '\0';
        path = exe;
    }
    uint64_t lo = UINT64_MAX, hi = 0, baddr = 0;
    int seen = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (!seen++)
            baddr = info->dlpi_addr + ph->p_vaddr;
        lo = ph->p_vaddr < lo ? ph->p_vaddr : lo;
        hi = ph->p_vaddr + ph->p_memsz > hi ? ph->p_vaddr + ph->p_memsz : hi;
    }
    if (!seen || path[0] == '\0')
        return 0;
    printf("mod %llx %llu ", (unsigned long long)baddr, (unsigned long long)(hi - lo));
    fix_print_build_id(info);
    printf(" %s\n", path);
    return 0;
}

/* Prints the executable mappings of /proc/self/maps as "map start end offset path". */
static void fix_print_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4352];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        unsigned long long start, end, offset;
        char perms[8], path[4096] = "";
        int fields =
            sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095s", &start, &end, perms, &offset, path);
        if (fields >= 4 && perms[2] == 'x' && path[0] == '/')
            printf("map %llx %llx %llx %s\n", start, end, offset, path);
    }
    if (f != NULL)
        fclose(f);
}

static void fix_dump(void) {
    for (int i = 0; i < FIX_SLOTS; i++) {
        if (fix_slots[i] != 0)
            printf("ra %d %llx\n", i, (unsigned long long)fix_slots[i]);
    }
    int index = 0;
    dl_iterate_phdr(fix_module_cb, &index);
    fix_print_maps();
    fflush(stdout);
}

#define FIX_PRINT_FN(name, fn) printf("fn %s %llx\n", name, (unsigned long long)(uintptr_t)(fn))

#endif
