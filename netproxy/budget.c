/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's memory in the proxy: one budget for every buffer the proxy
 * allocates and every pipe a tunnel splices through.
 *
 * The command decides how many connections it opens and how slowly it
 * reads; without a budget each stalled one holds the proxy's buffers
 * (64 KiB each side) and the pipes' pages (up to 1 MiB each way, which
 * root is not refused: pipe-user-pages-soft does not apply to it).  The
 * budget decides sizes: full-size buffers and pipes while it has room,
 * then small ones (a 4 KiB buffer, a one-page pipe), which are always
 * given, so that connections stalled by the command never starve its
 * others.  What the small ones add is bounded by the connection cap:
 * two pipes per tunnel, PIPES_MAX in all.  Everything is counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "netproxy_internal.h"

void nx_budget_init(struct nx_budget *b, uint64_t max, size_t pipes_max)
{
	*b = (struct nx_budget){.max = max ? max : NX_BUDGET_DEFAULT, .pipes_max = pipes_max};
}

bool nx_budget_take(struct nx_budget *b, size_t n)
{
	/* (what the floor charged may have taken USED past MAX) */
	if (b->used > b->max || n > b->max - b->used) {
		b->refused++;
		return false;
	}
	b->used += n;
	if (b->used > b->peak)
		b->peak = b->used;
	return true;
}

void nx_budget_give(struct nx_budget *b, size_t n)
{
	b->used = n > b->used ? 0 : b->used - n;
	if (n)
		b->freed = true;
}

size_t nx_budget_pipe_size(const struct nx_budget *b, size_t want)
{
	if (b->pipes >= b->pipes_max)
		return 0;
	if (want > NX_PIPE_DEFAULT && b->used + want <= b->max / 2)
		return want;
	if (b->used + NX_PIPE_DEFAULT <= b->max - b->max / 8)
		return NX_PIPE_DEFAULT;
	return NX_PIPE_MIN;
}

int nx_budget_pipe(struct nx_budget *b, size_t want, int p[2], size_t *ret_size)
{
	size_t size = nx_budget_pipe_size(b, want);
	int sz;

	if (size == 0) {
		b->refused++;
		b->waiting = true;
		return -ENOBUFS;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
		if (errno != EMFILE && errno != ENFILE)
			return -errno;
		/* out of descriptors: waits like a pipe over the budget, tried
		 * again when something is given back (or at the next sweep) */
		b->refused++;
		b->waiting = true;
		return -ENOBUFS;
	}
	/* the pipe's size is what it may hold: that is what is charged, the
	 * kernel's answer (it rounds up, and may refuse a change) */
	(void)fcntl(p[1], F_SETPIPE_SZ, (int)size);
	sz = fcntl(p[1], F_GETPIPE_SZ);
	if (sz <= 0) {
		close(p[0]);
		close(p[1]);
		p[0] = p[1] = -1;
		return -EIO;
	}
	if (!nx_budget_take(b, (size_t)sz))
		b->used += (size_t)sz; /* the floor: counted past the budget */
	b->pipes++;
	*ret_size = (size_t)sz;
	return 0;
}

void nx_budget_pipe_close(struct nx_budget *b, int p[2], size_t size)
{
	if (p[0] < 0)
		return;
	close(p[0]);
	close(p[1]);
	p[0] = p[1] = -1;
	nx_budget_give(b, size);
	if (b->pipes)
		b->pipes--;
}
