/* SPDX-License-Identifier: MIT */
/*
 * The event loop (loop.h).  Hand-written: a dozen lines over epoll, which
 * the supervisor's own poll() waits on, where an event library would bring
 * a second loop to reconcile with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

int nx_loop_init(struct nx_loop *l)
{
	*l = (struct nx_loop){.epfd = epoll_create1(EPOLL_CLOEXEC)};
	return l->epfd < 0 ? -errno : 0;
}

void nx_loop_done(struct nx_loop *l)
{
	nx_loop_bury(l);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int nx_loop_watch(struct nx_loop *l, struct nx_tag *t, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = t};

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, t->fd, &ev) < 0 ? -errno : 0;
}

void nx_loop_modify(struct nx_loop *l, struct nx_tag *t, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = t};

	epoll_ctl(l->epfd, EPOLL_CTL_MOD, t->fd, &ev);
}

void nx_loop_forget(struct nx_loop *l, int fd)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void nx_loop_close(struct nx_loop *l, struct nx_tag *t)
{
	if (t->fd >= 0) {
		nx_loop_forget(l, t->fd);
		close(t->fd);
		t->fd = -1;
	}
}

int nx_loop_ready(struct nx_loop *l, struct epoll_event evs[NX_LOOP_BATCH])
{
	int n = epoll_wait(l->epfd, evs, NX_LOOP_BATCH, 0);

	return n < 0 ? 0 : n;
}

void nx_loop_defer(struct nx_loop *l, struct nx_deferred *d)
{
	d->next = l->graveyard;
	l->graveyard = d;
}

void nx_loop_bury(struct nx_loop *l)
{
	while (l->graveyard) {
		struct nx_deferred *d = l->graveyard;
		l->graveyard = d->next;
		free(d);
	}
}

long nx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long nx_deadline_in(long ms)
{
	return nx_now_ms() + ms;
}
