/* SPDX-License-Identifier: MIT */
/*
 * Context switches from the kernel: one perf_event per thread (software dummy event with
 * context_switch = 1, CLOCK_MONOTONIC timestamps, no signal) whose ring receives a
 * PERF_RECORD_SWITCH each time the thread goes on or off a CPU. The thread itself drains its
 * ring into ltprof:sched_switches events before it emits anything else (waits.c, the SIGPROF
 * handler, thread exit), so its events stay in time order. An enabled perf event costs the
 * kernel at every switch of its thread, so each thread opens its event only while a session
 * records switches and closes it once it sees that none does (tr_sched_follow). Everything here
 * is ASYNC-SIGNAL-SAFE (system calls and the thread's own slot). Face: sampler-internal.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "ltprof_tp.h"
#include "sampler-internal.h"

#define DATA_PAGES 4           /* 16 KiB of records: 680 switches between two drains */
#define BATCH_SWITCHES 64      /* switches per ltprof:sched_switches event */
#define SWITCH_OUT 1u
#define SWITCH_PREEMPT 2u

/* What a record looks like with sample_type TIME | CPU and sample_id_all. */
struct switch_record {
    struct perf_event_header header;
    uint64_t time;
    uint32_t cpu, res;
};

struct lost_record {
    struct perf_event_header header;
    uint64_t id;
    uint64_t lost;
};

size_t tr_sched_ring_bytes(void)
{
    return (size_t)(1 + DATA_PAGES) * tr_samp.page_bytes;
}

int tr_sched_open(struct tr_thread_slot *s, int32_t tid)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_DUMMY;
    attr.sample_type = PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
    attr.sample_id_all = 1;
    attr.context_switch = 1;
    attr.use_clockid = 1;
    attr.clockid = CLOCK_MONOTONIC; /* LTTng-UST's clock */
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.watermark = 1; /* no wakeups: nobody polls this ring */
    attr.wakeup_watermark = (uint32_t)(DATA_PAGES * tr_samp.page_bytes);
    int fd = (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        return -errno;
    void *ring = mmap(NULL, tr_sched_ring_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) {
        int e = errno;
        close(fd);
        return -e;
    }
    s->sw_fd = fd;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    s->sw_ring = ring; /* last: the handler tests it */
    return 0;
}

void tr_sched_follow(struct tr_thread_slot *s, int32_t tid, int recording)
{
    if (tr_tls_draining || !atomic_load_explicit(&tr_samp.sched_on, memory_order_relaxed))
        return;
    if (recording == (s->sw_ring != NULL) || (recording && s->sw_failed))
        return;
    tr_tls_draining = 1; /* keeps a nested handler off the slot meanwhile */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (recording) {
        if (tr_sched_open(s, tid) < 0) {
            s->sw_failed = 1; /* not again this lifetime: EMFILE, a memlock limit */
            atomic_fetch_add_explicit(&tr_samp.sched_refused, 1, memory_order_relaxed);
        }
    } else {
        tr_sched_close(s);
    }
    tr_tls_sw_open = s->sw_ring != NULL;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tr_tls_draining = 0;
}

void tr_sched_close(struct tr_thread_slot *s)
{
    void *ring = s->sw_ring;
    s->sw_ring = NULL; /* first: the handler tests it */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (ring)
        munmap(ring, tr_sched_ring_bytes());
    if (s->sw_fd >= 0)
        close(s->sw_fd);
    s->sw_fd = -1;
}

/* Copies the record at ring offset `pos` (it may wrap) into `out` (at most `cap` bytes). */
static void copy_record(const uint8_t *data, uint64_t mask, uint64_t pos, void *out, size_t len)
{
    size_t first = (size_t)(mask + 1 - (pos & mask));
    if (first > len)
        first = len;
    memcpy(out, data + (pos & mask), first);
    memcpy((uint8_t *)out + first, data, len - first);
}

static void emit(int32_t tid, uint32_t *lost, const uint64_t *recs, size_t n)
{
    if (n == 0 && *lost == 0)
        return;
    lttng_ust_tracepoint(ltprof, sched_switches, (uint32_t)tid, *lost, recs, (uint16_t)n);
    *lost = 0;
}

void tr_sched_drain(struct tr_thread_slot *s, int32_t tid)
{
    tr_sched_drain_except(s, tid, 1, 0);
}

void tr_sched_drain_except(struct tr_thread_slot *s, int32_t tid, uint64_t from_ns, uint64_t to_ns)
{
    struct perf_event_mmap_page *mp = s->sw_ring;
    if (!mp || tr_tls_draining)
        return;
    uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = mp->data_tail;
    if (head == tail)
        return;
    tr_tls_draining = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);

    int enabled = lttng_ust_tracepoint_enabled(ltprof, sched_switches);
    const uint8_t *data = (const uint8_t *)mp + tr_samp.page_bytes;
    uint64_t mask = (uint64_t)DATA_PAGES * tr_samp.page_bytes - 1;
    uint64_t recs[2 * BATCH_SWITCHES];
    size_t n = 0;
    uint32_t lost = 0;
    while (enabled && tail + sizeof(struct perf_event_header) <= head) {
        struct perf_event_header h;
        copy_record(data, mask, tail, &h, sizeof(h));
        if (h.size < sizeof(h) || tail + h.size > head)
            break; /* cannot happen with a sane kernel; drop the rest */
        if (h.type == PERF_RECORD_SWITCH && h.size >= sizeof(struct switch_record)) {
            struct switch_record r;
            copy_record(data, mask, tail, &r, sizeof(r));
            if (r.time >= from_ns && r.time <= to_ns) {
                tail += h.size; /* inside a recorded wait or call: nothing new */
                continue;
            }
            uint64_t flags = (h.misc & PERF_RECORD_MISC_SWITCH_OUT) ? SWITCH_OUT : 0;
            if (h.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT)
                flags |= SWITCH_PREEMPT;
            recs[2 * n] = r.time;
            recs[2 * n + 1] = (uint64_t)r.cpu << 8 | flags;
            if (++n == BATCH_SWITCHES) {
                emit(tid, &lost, recs, 2 * n);
                n = 0;
            }
        } else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(struct lost_record)) {
            struct lost_record r;
            copy_record(data, mask, tail, &r, sizeof(r));
            lost += (uint32_t)r.lost;
            atomic_fetch_add_explicit(&tr_samp.sched_lost, r.lost, memory_order_relaxed);
        }
        tail += h.size;
    }
    if (enabled)
        emit(tid, &lost, recs, 2 * n);
    __atomic_store_n(&mp->data_tail, head, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tr_tls_draining = 0;
}
