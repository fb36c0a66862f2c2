/* SPDX-License-Identifier: MIT */
/*
 * netproxy/loop — the proxy's event loop: one epoll set, edge-triggered
 * sockets named by tags, monotonic deadlines, and objects freed only after
 * the batch of events that ended them (a connection is never freed inside
 * its own callback: an event for it may still wait in the batch).
 * Nothing here knows what a connection is.
 */
#ifndef RINGFENCE_NETPROXY_LOOP_H
#define RINGFENCE_NETPROXY_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

enum nx_tag_kind {
	NX_TAG_LISTEN = 1,
	NX_TAG_CLIENT,
	NX_TAG_UPSTREAM,
	NX_TAG_DNS,
	NX_TAG_NS_UDP, /* the sandbox's nameserver (nameserver.c) */
	NX_TAG_NS_LISTEN,
	NX_TAG_NS_CONN,
	NX_TAG_SECRET, /* the secret source (refresh.c) */
	_NX_TAG_MAX,
};

/* What an event is about: the fd (-1 once closed) and its owner (PTR). */
struct nx_tag {
	enum nx_tag_kind kind;
	int fd;
	void *ptr;
};

/* An object whose free waits for the end of the batch.  It must be the
 * first member of a malloc'd object: nx_loop_bury() frees it as a whole. */
struct nx_deferred {
	struct nx_deferred *next;
};

struct nx_loop {
	int epfd;
	struct nx_deferred *graveyard;
};

/* The events one dispatch handles at most. */
#define NX_LOOP_BATCH 64

int nx_loop_init(struct nx_loop *l);
/* Frees what was deferred, closes the epoll set.  Accepts a loop whose
 * init failed (epfd -1). */
void nx_loop_done(struct nx_loop *l);
/* Adds T's fd with EVENTS: 0 or -errno. */
int nx_loop_watch(struct nx_loop *l, struct nx_tag *t, uint32_t events);
/* Changes the events of a watched T. */
void nx_loop_modify(struct nx_loop *l, struct nx_tag *t, uint32_t events);
/* Drops FD from the set without closing it (its owner closes it). */
void nx_loop_forget(struct nx_loop *l, int fd);
/* Drops T's fd from the set and closes it; T's fd becomes -1. */
void nx_loop_close(struct nx_loop *l, struct nx_tag *t);
/* The events ready now, without waiting (the supervisor's poll waits on
 * nx_loop's fd): how many went to EVS (at most NX_LOOP_BATCH), 0 on error. */
int nx_loop_ready(struct nx_loop *l, struct epoll_event evs[NX_LOOP_BATCH]);
/* Parks D until nx_loop_bury(). */
void nx_loop_defer(struct nx_loop *l, struct nx_deferred *d);
/* Frees everything parked: call after a batch is handled. */
void nx_loop_bury(struct nx_loop *l);

/* The monotonic clock, in milliseconds. */
long nx_now_ms(void);
/* The deadline MS milliseconds from now. */
long nx_deadline_in(long ms);

#endif
