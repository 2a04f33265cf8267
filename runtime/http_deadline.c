/* SPDX-License-Identifier: MIT */
/*
 * A deadline for each request of the server's connections: from its connect, or from the end
 * of its previous request, a connection has HTTP_REQUEST_DEADLINE_S seconds to deliver a whole
 * request (head and body). libmicrohttpd only has an idle timeout, which a slow client that
 * sends a byte every few seconds never reaches; 256 of them would hold every connection.
 *
 * A watcher thread looks at the open connections twice a second and shuts down the socket of
 * any that is late; libmicrohttpd then reads the end of file and closes it as usual. The table
 * and the shutdown share one lock with libmicrohttpd's "connection closed" notice, which comes
 * before it closes the descriptor, so a descriptor is never shut down after its reuse.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "guard.h"
#include "http.h"
#include "internal.h"

#define SLOTS (HTTP_CONNECTION_LIMIT + 16) /* + the ones libmicrohttpd is still closing */

struct slot {
    int used;
    int fd;
    uint64_t since_ns; /* when the awaited request began; 0: none awaited (one is served) */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running, stopping;
    struct slot slots[SLOTS];
    atomic_ulong cut; /* connections shut down for being late, since the start */
} dl = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&dl.lock);
    while (!dl.stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 500000000;
        if (until.tv_nsec >= 1000000000)
            until.tv_sec++, until.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&dl.wake, &dl.lock, &until);
        uint64_t late = now_ns() - (uint64_t)HTTP_REQUEST_DEADLINE_S * 1000000000u;
        unsigned cut = 0;
        for (int i = 0; i < SLOTS; i++) {
            struct slot *s = &dl.slots[i];
            if (s->used && s->since_ns && s->since_ns < late) {
                shutdown(s->fd, SHUT_RDWR);
                s->since_ns = 0; /* once is enough */
                cut++;
            }
        }
        if (cut) {
            atomic_fetch_add(&dl.cut, cut);
            pthread_mutex_unlock(&dl.lock);
            RT_LOG(RT_LOG_INFO, "http", "closed %u connection%s that took more than %d s to "
                   "send a request", cut, cut == 1 ? "" : "s", HTTP_REQUEST_DEADLINE_S);
            pthread_mutex_lock(&dl.lock);
        }
    }
    pthread_mutex_unlock(&dl.lock);
    return NULL;
}

int http_deadline_start(void)
{
    pthread_mutex_lock(&dl.lock);
    memset(dl.slots, 0, sizeof(dl.slots));
    dl.stopping = 0;
    tr_guard_enter(); /* the thread is ltprof's own */
    int rc = pthread_create(&dl.thread, NULL, watch, NULL);
    tr_guard_leave();
    dl.running = rc == 0;
    pthread_mutex_unlock(&dl.lock);
    return rc == 0 ? 0 : -1;
}

void http_deadline_stop(void)
{
    pthread_mutex_lock(&dl.lock);
    int running = dl.running;
    dl.stopping = 1;
    dl.running = 0;
    pthread_cond_signal(&dl.wake);
    pthread_mutex_unlock(&dl.lock);
    if (running)
        pthread_join(dl.thread, NULL);
}

void http_deadline_forget(void)
{
    /* In a forked child: the thread did not come along, nor did the connections. */
    pthread_mutex_init(&dl.lock, NULL);
    pthread_cond_init(&dl.wake, NULL);
    dl.running = 0;
    memset(dl.slots, 0, sizeof(dl.slots));
}

void http_deadline_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                                 enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    pthread_mutex_lock(&dl.lock);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = NULL;
        for (int i = 0; info && i < SLOTS; i++) {
            if (!dl.slots[i].used) {
                dl.slots[i] = (struct slot){.used = 1, .fd = info->connect_fd,
                                            .since_ns = now_ns()};
                *socket_context = &dl.slots[i];
                break;
            }
        }
    } else if (*socket_context) {
        ((struct slot *)*socket_context)->used = 0;
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&dl.lock);
}

static void set_since(struct MHD_Connection *c, uint64_t since_ns)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (!info || !info->socket_context)
        return;
    pthread_mutex_lock(&dl.lock);
    ((struct slot *)info->socket_context)->since_ns = since_ns;
    pthread_mutex_unlock(&dl.lock);
}

void http_deadline_request_arrived(struct MHD_Connection *c)
{
    set_since(c, 0);
}

void http_deadline_request_done(struct MHD_Connection *c)
{
    set_since(c, now_ns());
}

unsigned long http_deadline_cut(void)
{
    return atomic_load(&dl.cut);
}
