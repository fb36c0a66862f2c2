/* SPDX-License-Identifier: MIT */
/*
 * Bounded buffers charged to the memory budget: the plain side of the transport.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "ossl.h"

size_t nx_buf_used(const struct buf *b)
{
	return b->len - b->off;
}

/* What a buffer holds once allocated: full size while the sandbox's budget
 * has room, else small.  Nothing waits for memory: past the budget every
 * connection still moves data, through small buffers (and one-page pipes),
 * so the budget bounds what the command's connections hold without letting
 * its stalled ones starve the others. */
static size_t buf_next_cap(const struct buf *b)
{
	if (b->bg && b->bg->used + BUF_CAP > b->bg->max)
		return BUF_SMALL;
	return BUF_CAP;
}

size_t nx_buf_cap(const struct buf *b)
{
	return b->d ? b->cap : buf_next_cap(b);
}

size_t nx_buf_room(const struct buf *b)
{
	return nx_buf_cap(b) - nx_buf_used(b);
}

/* Allocates the buffer, charged to the budget.  FULL: a head that must fit
 * whole, only within the budget (-ENOBUFS past it, nothing allocated).
 * Otherwise full size while the budget has room, else the small floor,
 * which every connection gets (counted past the budget). */
int nx_buf_alloc(struct buf *b, bool full)
{
	size_t cap;

	if (b->d)
		return 0;
	cap = full ? BUF_CAP : buf_next_cap(b);
	if (b->bg && !nx_budget_take(b->bg, cap)) {
		if (full)
			return -ENOBUFS;
		b->bg->used += cap; /* the floor: counted all the same */
	}
	b->d = malloc(cap);
	if (!b->d) {
		if (b->bg)
			nx_budget_give(b->bg, cap);
		return -ENOMEM;
	}
	b->cap = cap;
	b->off = b->len = b->hw = 0;
	return 0;
}

/* A small buffer grows to full size: a head (or a ClientHello) that did not
 * fit.  Only within the budget: past it the growth is refused (-ENOBUFS,
 * the small buffer kept as it is) and the caller answers the head at once,
 * so that connections stalled mid-head cost no more than the floor each. */
int nx_buf_grow(struct buf *b)
{
	char *d;

	if (!b->d)
		return nx_buf_alloc(b, true);
	if (b->cap >= BUF_CAP)
		return 0;
	if (b->bg && !nx_budget_take(b->bg, BUF_CAP - b->cap))
		return -ENOBUFS;
	d = malloc(BUF_CAP);
	if (!d) {
		if (b->bg)
			nx_budget_give(b->bg, BUF_CAP - b->cap);
		return -ENOMEM;
	}
	memcpy(d, b->d + b->off, nx_buf_used(b));
	b->len -= b->off;
	b->off = 0;
	explicit_bzero(b->d, b->cap);
	free(b->d);
	b->d = d;
	b->cap = BUF_CAP;
	b->hw = b->len;
	return 0;
}

/* Full, and small: a head that did not fit grows it. */
bool nx_buf_full_small(const struct buf *b)
{
	return b->d && b->cap < BUF_CAP && nx_buf_used(b) == b->cap;
}

int nx_buf_reserve(struct buf *b)
{
	if (!b->d && nx_buf_alloc(b, false) < 0)
		return -ENOMEM;
	if (b->off > 0 && b->len == b->off) {
		b->off = b->len = 0;
	} else if (b->off > 0 && b->len == b->cap) {
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	return 0;
}

void nx_buf_free(struct buf *b)
{
	struct nx_budget *bg = b->bg;

	if (b->d && bg)
		nx_budget_give(bg, b->cap);
	free(b->d);
	*b = (struct buf){.bg = bg};
}

/* -ENOBUFS: growing to hold it was refused (the budget is used up);
 * -E2BIG: it does not fit even a full buffer. */
int nx_buf_append(struct buf *b, const void *data, size_t n)
{
	int r;

	if (nx_buf_reserve(b) < 0)
		return -ENOMEM;
	if (n > nx_buf_room(b) && (r = nx_buf_grow(b)) < 0)
		return r;
	if (n > nx_buf_room(b))
		return -E2BIG;
	if (b->len + n > b->cap) {
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	memcpy(b->d + b->len, data, n);
	b->len += n;
	if (b->len > b->hw)
		b->hw = b->len;
	return 0;
}

void nx_buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

ssize_t nx_buf_read_sock(struct buf *b, int fd, bool *ret_empty)
{
	size_t want;
	ssize_t n;

	if (nx_buf_reserve(b) < 0)
		return -ENOMEM;
	if (b->len == b->cap)
		return -EAGAIN; /* full: the caller waits for the other side */
	want = b->cap - b->len;
	n = read(fd, b->d + b->len, want);
	if (n < 0) {
		if (errno == EAGAIN && ret_empty)
			*ret_empty = true;
		return -errno;
	}
	/* less than asked: the socket had no more (the side's events are
	 * edge-triggered, so what comes next is an event of its own); one
	 * read per arrival instead of a second that finds it empty */
	if (ret_empty && n > 0 && (size_t)n < want)
		*ret_empty = true;
	b->len += (size_t)n;
	if (b->len > b->hw)
		b->hw = b->len;
	return n;
}

/* Reads what fits: >0 bytes, 0 EOF, -EAGAIN, or -errno. */
ssize_t nx_buf_read(struct buf *b, int fd)
{
	return nx_buf_read_sock(b, fd, NULL);
}

/* Writes what the socket takes: bytes written, -EAGAIN, or -errno. */
ssize_t nx_buf_write(struct buf *b, int fd)
{
	ssize_t n;

	if (nx_buf_used(b) == 0)
		return 0;
	n = send(fd, b->d + b->off, nx_buf_used(b), MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	nx_buf_consume(b, (size_t)n);
	return n;
}
