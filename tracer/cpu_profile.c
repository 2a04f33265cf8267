/* SPDX-License-Identifier: MIT */
/*
 * The in-process CPU profile (tracer.h: tr_cpu_profile_*), like Go's pprof.StartCPUProfile:
 * while it runs, the SIGPROF handler copies each sample's stack into a ring of its thread's
 * slot (one writer, the handler; one reader, the collector: no lock), and a collector thread of
 * ltprof's drains the rings every 20 ms into a stack-bucket table per (stack, thread). A
 * sample that finds no ring yet (a thread armed since the last drain) or a full ring is
 * counted as lost, and the count goes into the profile.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "guard.h"
#include "sampler-internal.h"
#include "stack_buckets.h"

#define RING_BYTES (32u * 1024u) /* 2 s of 100 Hz samples of 20 frames, drained every 20 ms */
#define HEADER 16u               /* u32 tid, u16 frames, u16 label set, u64 weight in ns */

struct ring {
    _Atomic uint32_t head; /* bytes written (the handler) */
    _Atomic uint32_t tail; /* bytes read (the collector) */
    uint8_t data[RING_BYTES];
};

struct thread_name {
    uint32_t tid;
    char name[16];
};

_Atomic int tr_cpu_profile_on;
static struct ring *_Atomic rings[TR_MAX_THREADS];
static _Atomic uint64_t lost;
static _Atomic int stopping;
static pthread_t collector_thread;
static struct tr_buckets table = TR_BUCKETS_INIT; /* collector only, then the stopper */
static struct thread_name *names;
static size_t n_names, cap_names;
static uint64_t samples;

/* ---- the handler's side (ASYNC-SIGNAL-SAFE) ------------------------------------------------- */

static void put(struct ring *r, uint32_t at, const void *src, size_t len)
{
    const uint8_t *p = src;
    for (size_t i = 0; i < len; i++) /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): */
        r->data[(at + i) % RING_BYTES] = p[i]; /* the unwinder wrote pcs[0..n) */
}

void tr_cpu_profile_push(const struct tr_thread_slot *slot, uint32_t tid, uint64_t weight_ns,
                         const uint64_t *pcs, size_t n)
{
    struct ring *r = atomic_load_explicit(&rings[slot - tr_samp.slots], memory_order_acquire);
    uint32_t need = HEADER + 8u * (uint32_t)n;
    if (!r) {
        atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
        return;
    }
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (RING_BYTES - (head - tail) < need) {
        atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
        return;
    }
    uint32_t hdr[2] = {tid, (uint32_t)n | tr_tls_labels << 16}; /* the interrupted thread's */
    put(r, head, hdr, sizeof(hdr));
    put(r, head + 8, &weight_ns, sizeof(weight_ns));
    put(r, head + HEADER, pcs, 8 * n);
    atomic_store_explicit(&r->head, head + need, memory_order_release);
}

/* ---- the collector ---------------------------------------------------------------------------- */

static void get(const struct ring *r, uint32_t at, void *dst, size_t len)
{
    uint8_t *p = dst;
    for (size_t i = 0; i < len; i++)
        p[i] = r->data[(at + i) % RING_BYTES];
}

/* Rings for every slot in use (a thread armed since the last pass gets one now). */
static void ensure_rings(void)
{
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_acquire);
    for (uint32_t i = 0; i < used && i < TR_MAX_THREADS; i++) {
        if (atomic_load_explicit(&rings[i], memory_order_relaxed))
            continue;
        struct ring *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (r != MAP_FAILED)
            atomic_store_explicit(&rings[i], r, memory_order_release);
    }
}

/* Keeps the name the thread `tid` of slot `i` has now, the first time the tid is seen. */
static void note_name(uint32_t i, uint32_t tid)
{
    for (size_t k = n_names; k-- > 0;)
        if (names[k].tid == tid)
            return;
    if (n_names == cap_names) {
        size_t cap = cap_names ? cap_names * 2 : 64;
        struct thread_name *t = mmap(NULL, cap * sizeof(*t), PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (t == MAP_FAILED)
            return;
        if (names) {
            memcpy(t, names, n_names * sizeof(*t));
            munmap(names, cap_names * sizeof(*names));
        }
        names = t, cap_names = cap;
    }
    struct thread_name *e = &names[n_names++];
    e->tid = tid;
    memset(e->name, 0, sizeof(e->name));
    if ((uint32_t)atomic_load_explicit(&tr_samp.slots[i].tid, memory_order_acquire) == tid)
        memcpy(e->name, tr_samp.slots[i].name, sizeof(e->name) - 1);
}

static void drain(void)
{
    for (uint32_t i = 0; i < TR_MAX_THREADS; i++) {
        struct ring *r = atomic_load_explicit(&rings[i], memory_order_acquire);
        if (!r)
            continue;
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        while (tail != head) {
            uint32_t hdr[2];
            uint64_t weight, pcs[TR_UNWIND_MAX_FRAMES];
            get(r, tail, hdr, sizeof(hdr));
            get(r, tail + 8, &weight, sizeof(weight));
            uint32_t frames = hdr[1] & 0xffff, labels = hdr[1] >> 16;
            size_t n = frames < TR_UNWIND_MAX_FRAMES ? frames : TR_UNWIND_MAX_FRAMES;
            get(r, tail + HEADER, pcs, 8 * n);
            tail += HEADER + 8u * frames;
            uint64_t key = hdr[0] | (uint64_t)labels << 32;
            struct tr_bucket *b = tr_buckets_at(&table, tr_buckets_for(&table, pcs, n, key));
            if (b) {
                b->v[0]++;
                b->v[1] += weight;
            }
            samples++;
            note_name(i, hdr[0]);
        }
        atomic_store_explicit(&r->tail, tail, memory_order_release);
    }
}

static void *collect(void *arg)
{
    (void)arg;
    tr_guard_enter(); /* ltprof's own thread: its locks and allocations are not recorded */
    while (!atomic_load_explicit(&stopping, memory_order_acquire)) {
        ensure_rings();
        drain();
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    drain();
    tr_guard_leave();
    return NULL;
}

static void fork_child(void)
{
    /* The collector did not come along: the child's samples would only fill the rings. */
    atomic_store_explicit(&tr_cpu_profile_on, 0, memory_order_relaxed);
}

static pthread_mutex_t control = PTHREAD_MUTEX_INITIALIZER; /* start and stop */
static int running;

int tr_cpu_profile_start(void)
{
    tr_guard_enter(); /* our own lock, allocations and thread are not the program's */
    pthread_mutex_lock(&control);
    int rc = 0;
    if (running)
        rc = LTPROF_ERR_BUSY;
    else if (atomic_load_explicit(&tr_samp.engine, memory_order_acquire) == TR_ENGINE_NONE)
        rc = LTPROF_ERR_UNSUPPORTED;
    if (rc == 0) {
        for (uint32_t i = 0; i < TR_MAX_THREADS; i++) { /* what an earlier profile left */
            struct ring *r = atomic_load_explicit(&rings[i], memory_order_relaxed);
            if (r)
                atomic_store_explicit(&r->tail, atomic_load_explicit(&r->head,
                                                                     memory_order_acquire),
                                      memory_order_relaxed);
        }
        tr_buckets_reset(&table);
        n_names = 0, samples = 0;
        atomic_store_explicit(&lost, 0, memory_order_relaxed);
        atomic_store_explicit(&stopping, 0, memory_order_relaxed);
        ensure_rings();
        if (pthread_create(&collector_thread, NULL, collect, NULL) != 0)
            rc = LTPROF_ERR_NOMEM;
    }
    if (rc == 0) {
        static int atfork_done;
        if (!atfork_done && pthread_atfork(NULL, NULL, fork_child) == 0)
            atfork_done = 1;
        running = 1;
        atomic_store_explicit(&tr_cpu_profile_on, 1, memory_order_release);
    }
    pthread_mutex_unlock(&control);
    tr_guard_leave();
    return rc;
}

int tr_cpu_profile_stop(struct tr_cpu_profile_result *out)
{
    memset(out, 0, sizeof(*out));
    tr_guard_enter();
    pthread_mutex_lock(&control);
    int rc = running ? 0 : LTPROF_ERR_NOT_FOUND;
    if (rc == 0) {
        atomic_store_explicit(&tr_cpu_profile_on, 0, memory_order_release);
        atomic_store_explicit(&stopping, 1, memory_order_release);
        pthread_join(collector_thread, NULL); /* it drains the rings once more */
        running = 0;
        if (tr_buckets_copy(&table, &out->snap) != 0)
            rc = LTPROF_ERR_NOMEM;
        out->names = malloc((n_names ? n_names : 1) * sizeof(*out->names));
        if (!out->names)
            rc = LTPROF_ERR_NOMEM;
        for (size_t i = 0; rc == 0 && i < n_names; i++) {
            out->names[i].tid = names[i].tid;
            memcpy(out->names[i].name, names[i].name, sizeof(names[i].name));
        }
        out->n_names = rc == 0 ? n_names : 0;
        out->samples = samples;
        out->lost = atomic_load_explicit(&lost, memory_order_relaxed);
        out->period_ns = tr_samp.period_ns;
    }
    pthread_mutex_unlock(&control);
    tr_guard_leave();
    if (rc != 0 && rc != LTPROF_ERR_NOT_FOUND)
        tr_cpu_profile_result_free(out);
    return rc;
}

void tr_cpu_profile_result_free(struct tr_cpu_profile_result *r)
{
    tr_bucket_snapshot_free(&r->snap);
    free(r->names);
    memset(r, 0, sizeof(*r));
}
