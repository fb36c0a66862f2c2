/* SPDX-License-Identifier: MIT */
/*
 * Forwarded response bodies that nothing reads on their way: spliced from
 * the upstream's socket to the client's through a pipe (splice(2)), never
 * copied through the proxy's memory.
 *
 * Only where no byte of the body needs reading:
 *   - no credential in the policy: with one, every response is scanned for
 *     its secret (reflect.c, scrub.c), whatever host it comes from, so
 *     nothing is spliced at all;
 *   - neither side in TLS (intercepted bytes are decrypted by the proxy);
 *   - framing known ahead: the rest of a Content-Length body, the data of
 *     a chunk whose size line was read (the framing lines themselves are
 *     read through the buffers, as before), or a body that lasts until the
 *     upstream closes.
 * The head always goes through the buffers (parsed, judged), and so do the
 * body bytes read with it.  At most the body's remaining bytes are taken
 * from the upstream's socket: the next response's stay there, and bytes
 * past the end are found at the exchange's end (nx_splice_end()).  The pipe
 * is charged to the memory budget like a tunnel's, and only taken while the
 * budget gives full-size pipes; otherwise the buffers carry the body.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

/* Shorter bodies are not worth a pipe's two descriptors. */
#define SPLICE_MIN (16 * 1024)

/* How many of the response's next bytes may pass unread: 0 for none. */
static uint64_t splice_allowance(const struct conn *c)
{
	if (!c->fwd.resp_head_done || c->fwd.resp_done || c->fwd.up_ended || c->np->scrub ||
	    c->scan || c->client.ssl || c->up.ssl || c->up.tag.fd < 0)
		return 0;
	switch (c->fwd.resp_body) {
	case NX_BODY_LENGTH:
		return c->fwd.resp_left;
	case NX_BODY_CHUNKED:
		return nx_chunk_data_left(&c->fwd.resp_chunk);
	case NX_BODY_CLOSE:
		return UINT64_MAX;
	case NX_BODY_NONE:
	default:
		return 0;
	}
}

/* N bytes of the body went into the pipe: its framing follows them. */
static void splice_took(struct conn *c, size_t n)
{
	c->fwd.spliced = true;
	if (c->fwd.resp_body == NX_BODY_LENGTH) {
		c->fwd.resp_left -= n;
		c->fwd.resp_done = c->fwd.resp_left == 0;
	} else if (c->fwd.resp_body == NX_BODY_CHUNKED) {
		nx_chunk_skip(&c->fwd.resp_chunk, n);
	}
}

static void pipe_give_back(struct conn *c)
{
	struct pipe_dir *pd = &c->tun.dir[1];

	nx_budget_pipe_close(&c->np->budget, pd->p, pd->cap);
	*pd = (struct pipe_dir){.p = {-1, -1}};
}

/* Whether this step splices: the pipe holds bytes (nothing else may reach
 * the client before them), or a body may pass unread and nothing of the
 * response waits in the buffers. */
static bool splicing(struct conn *c)
{
	struct pipe_dir *pd = &c->tun.dir[1];

	if (pd->in > 0)
		return true;
	/* a body past an urgent mark is read: a splice never goes past one */
	if (splice_allowance(c) < SPLICE_MIN || nx_buf_used(&c->uin) || nx_buf_used(&c->cout) ||
	    c->up.urgent) {
		if (pd->p[0] >= 0)
			pipe_give_back(c);
		return false;
	}
	if (pd->p[0] >= 0)
		return true;
	/* a full-size pipe or none: a tight budget is left to the buffers */
	if (nx_budget_pipe_size(&c->np->budget, PIPE_CAP) <= NX_PIPE_DEFAULT / 2)
		return false;
	if (nx_budget_pipe(&c->np->budget, PIPE_CAP, pd->p, &pd->cap) < 0) {
		*pd = (struct pipe_dir){.p = {-1, -1}};
		return false;
	}
	return true;
}

/* The upstream ended (or failed) while its body was spliced: as a read of
 * its end in forward.c, what it sent is passed on first. */
static void splice_up_ended(struct conn *c)
{
	nx_close_upstream(c);
	c->up_connected = false;
	c->fwd.up_ended = true;
}

/*
 * S_FORWARD, upstream to client, when the body may pass unread: -1 when
 * not (the buffers carry it), else whether bytes moved.  Kills the
 * connection on a client error (c->dead).
 */
int nx_splice_down(struct conn *c)
{
	struct pipe_dir *pd = &c->tun.dir[1];
	bool progress = false;

	if (!splicing(c))
		return -1;
	for (;;) {
		bool moved = false;
		uint64_t allow;
		ssize_t n;
		if (pd->in > 0) {
			n = splice(pd->p[0], NULL, c->client.tag.fd, NULL, pd->in,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				pd->in -= (size_t)n;
				c->bytes_down += (uint64_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN) {
				nx_conn_kill(c);
				return 1;
			} else {
				break; /* the client is full: its EPOLLOUT comes back here */
			}
		}
		allow = splice_allowance(c);
		if (allow > 0 && pd->in < pd->cap) {
			size_t want = pd->cap - pd->in;
			if (allow < want)
				want = (size_t)allow;
			n = splice(c->up.tag.fd, NULL, pd->p[1], NULL, want,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				pd->in += (size_t)n;
				splice_took(c, (size_t)n);
				moved = true;
				c->up.spliced = true;
			} else if ((n == 0 || errno == EAGAIN) &&
				   nx_at_urgent_mark(&c->up, c->up.tag.fd, n)) {
				/* stopped at an urgent mark (side.c): the
				 * buffers carry the rest (splicing() says so
				 * from now on), their read goes past it; what
				 * the pipe holds goes first */
				c->up.rd_empty = false;
				if (pd->in == 0) {
					pipe_give_back(c);
					return -1;
				}
				progress |= moved;
				break;
			} else if (n == 0 || errno != EAGAIN) {
				splice_up_ended(c);
				moved = true;
			}
		}
		if (!moved)
			break;
		progress = true;
	}
	if (pd->in == 0 && splice_allowance(c) == 0)
		pipe_give_back(c); /* framing, the end, or the upstream's end next */
	return progress;
}

/*
 * An exchange ended: the pipe goes back to the budget, and the upstream of
 * a spliced response is looked at once more.  Bytes already waiting past
 * the response's end (or its close) mean it is out of step, as bytes left
 * in uin do for a response read through the buffers: true, and the caller
 * closes it rather than reading them as the next request's answer.
 */
bool nx_splice_end(struct conn *c)
{
	char b;
	bool spliced = c->fwd.spliced;

	c->fwd.spliced = false;
	if (c->tun.dir[1].p[0] >= 0)
		pipe_give_back(c);
	if (!spliced || c->up.tag.fd < 0)
		return false;
	return recv(c->up.tag.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 || errno != EAGAIN;
}
