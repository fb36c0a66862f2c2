/* SPDX-License-Identifier: MIT */
/*
 * The engine: one epoll loop (loop.c), connections as small state machines,
 * one file per protocol: FIRST, the HTTP head and SOCKS5 in front.c; the
 * decision in decide.c, resolving and connecting in dial.c; FORWARD in
 * forward.c (its responses scanned in reflect.c); SNIFF and TUNNEL in
 * tunnel.c; TLS_CLIENT and TLS_UPSTREAM in intercept.c.  This file holds
 * what every connection shares: its life, the pump, timeouts; accept.c takes
 * them in.
 *
 *   accept ─► FIRST ─┬─ 0x05 ─► SOCKS greeting ─► SOCKS request ─┐
 *                    └─ else ─► HTTP head ─────────────────────────┤
 *                                                                  ▼
 *            decide (deny list, allow list, allow_cidr, hosts =)  ─► refused: 403 / SOCKS 02
 *                                                                  ▼
 *            resolve (c-ares; never for a refused name) ─► check every address
 *                                                                  ▼
 *            connect (the checked address, no second lookup) ─► FORWARD (HTTP, parsed)
 *                                                                  ▼ CONNECT, SOCKS
 *            SNIFF the client's first bytes, nothing relayed before (none in
 *            time: closed): a TLS ClientHello must name the tunnel's host
 *                 ├─ host bound to a credential, TLS ─► TLS_CLIENT (our leaf)
 *                 │     ─► TLS_UPSTREAM (verified) ─► HTTP inside, rewritten
 *                 ├─ plain HTTP ─► HTTP inside, every Host checked
 *                 │     (rewritten when bound)
 *                 ├─ TLS to another host ─► TUNNEL (splice, opaque)
 *                 └─ other bytes: on a port allowed by number ─► TUNNEL
 *
 * Sockets are edge-triggered and registered once for reading and writing;
 * a connection's pump runs every step that can make progress until none
 * can, so an event only says "look again" (but a read that found its
 * socket empty waits for that socket's next event: side.c, struct
 * nx_side).  Buffers are bounded: a side is
 * read only while the other side's buffer has room (back-pressure).
 * Connections are freed after the batch of events that closed them.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/util.h"
#include "conn.h"
#include "ossl.h"

/* ---- connections -------------------------------------------------------------- */

/* What decide.c reads of the proxy. */
struct nx_decider nx_decider_of(const struct netproxy *np)
{
	return (struct nx_decider){.p = np->p,
				   .creds = np->creds,
				   .n_creds = np->n_creds,
				   .can_intercept = np->tls != NULL};
}

/* A connection's buffer; cleared first when a secret has passed through
 * the connection (only what goes upstream holds one, but a buffer is
 * reused across requests, so all it ever held: up to its high-water mark,
 * not its whole 64 KiB after every small request). */
void nx_conn_buf_free(struct conn *c, struct buf *b)
{
	if (c->secret_seen && b->d)
		explicit_bzero(b->d, b->hw);
	nx_buf_free(b);
}

/* The upstream side, with its TLS when it has one. */
void nx_close_upstream(struct conn *c)
{
	if (c->up.ssl) {
		SSL_free(c->up.ssl);
		c->up.ssl = NULL;
	}
	nx_loop_close(&c->np->loop, &c->up.tag);
}

static void close_pipes(struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		nx_budget_pipe_close(&c->np->budget, c->tun.dir[i].p, c->tun.dir[i].cap);
		c->tun.dir[i] = (struct pipe_dir){.p = {-1, -1}};
	}
}

void nx_conn_kill(struct conn *c)
{
	struct netproxy *np = c->np;

	if (c->dead)
		return;
	c->dead = true;
	if (c->dns)
		c->dns->c = NULL;
	c->dns = NULL;
	if (c->client.ssl) {
		SSL_free(c->client.ssl);
		c->client.ssl = NULL;
	}
	nx_loop_close(&np->loop, &c->client.tag);
	nx_close_upstream(c);
	close_pipes(c);
	nx_scan_free(c->scan);
	c->scan = NULL;
	nx_basic_free(c);
	nx_conn_buf_free(c, &c->cin);
	nx_conn_buf_free(c, &c->cout);
	nx_conn_buf_free(c, &c->uin);
	nx_conn_buf_free(c, &c->uout);
	/* unlink from the live list, park until the batch is done */
	if (c->prev)
		c->prev->next = c->next;
	else
		np->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	np->n_conns--;
	c->next = c->prev = NULL;
	nx_loop_defer(&np->loop, &c->defer);
}

void nx_set_deadline(struct conn *c, long ms)
{
	c->deadline = nx_deadline_in(ms);
}

/* ---- the memory budget (budget.c) ---------------------------------------------------------- */

/* After a pump: the empty buffers of a connection that waits for its
 * client (between requests, a tunnel) go back to the budget, and when the
 * budget is tight, everyone's, and the empty pipes of tunnels too (made
 * again on the next data).  An exchange under way keeps its buffers: a
 * download freeing and faulting in 64 KiB at every wake-up is slower. */
static void conn_trim(struct conn *c)
{
	struct buf *bs[] = {&c->cin, &c->cout, &c->uin, &c->uout};
	struct nx_budget *bg = &c->np->budget;
	bool tight = bg->used > bg->max / 2;

	if (tight || c->state == S_HTTP_HEAD || c->state == S_TUNNEL || c->state == S_SNIFF)
		for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++)
			if (bs[i]->d && nx_buf_used(bs[i]) == 0)
				nx_conn_buf_free(c, bs[i]);
	if (c->state == S_TUNNEL && tight)
		for (int d = 0; d < 2; d++) {
			struct pipe_dir *pd = &c->tun.dir[d];
			if (pd->p[0] >= 0 && pd->in == 0 && !pd->eof) {
				nx_budget_pipe_close(bg, pd->p, pd->cap);
				pd->cap = 0;
			}
		}
}

/* ---- the pump ------------------------------------------------------------------------------- */

/* One step of the connection's state machine: true when it made progress. */
static bool step(struct conn *c)
{
	switch (c->state) {
	case S_FIRST:
	case S_HTTP_HEAD:
	case S_SOCKS_GREET:
	case S_SOCKS_REQ:
		return nx_front_step(c);
	case S_RESOLVE:
		return false;
	case S_CONNECT:
		return nx_connect_step(c);
	case S_FORWARD:
		return nx_forward_step(c);
	case S_SNIFF:
		return nx_sniff_step(c);
	case S_TLS_CLIENT:
		return nx_tls_client_step(c);
	case S_TLS_UPSTREAM:
		return nx_tls_upstream_step(c);
	case S_BUF_TUNNEL:
		return nx_buf_tunnel_step(c);
	case S_TUNNEL:
		return nx_tunnel_step(c);
	case S_FLUSH_CLOSE:
		return nx_flush_close_step(c);
	case S_LINGER:
		return nx_linger_step(c);
	default:
		nx_conn_kill(c);
		return false;
	}
}

static void conn_pump_steps(struct conn *c);

void nx_conn_pump(struct conn *c)
{
	conn_pump_steps(c);
	if (!c->dead)
		conn_trim(c);
}

static void conn_pump_steps(struct conn *c)
{
	/* writes queued by a state change reach the client first */
	for (int i = 0; i < 10000 && !c->dead; i++) {
		bool progress;
		if (c->state != S_TUNNEL && c->state != S_FORWARD && c->state != S_FLUSH_CLOSE &&
		    c->state != S_BUF_TUNNEL && c->state != S_TLS_CLIENT && nx_buf_used(&c->cout)) {
			ssize_t w = nx_side_write(&c->client, &c->cout);
			if (w < 0 && w != -EAGAIN) {
				nx_conn_kill(c);
				return;
			}
		}
		progress = step(c);
		if (!progress)
			return;
	}
}

/* ---- timeouts -----------------------------------------------------------------------------------
 */

static void sweep(struct netproxy *np)
{
	long now = nx_now_ms();
	struct conn *c, *next;

	np->last_sweep = now;
	if (np->listeners_paused)
		nx_pause_listeners(np, false);
	/* strangers counted since the last such event, said even when no more
	 * come (a burst, then quiet: not only at exit) */
	if (np->n_strangers != np->n_strangers_said &&
	    now - np->strangers_said_ms >= NX_STRANGERS_SAY_MS)
		nx_say_strangers(np);
	nx_ns_sweep(np, now);
	if (np->budget.waiting)
		np->budget.freed = true; /* descriptors come back unannounced */
	for (c = np->conns; c; c = next) {
		next = c->next;
		/* a side taken for empty on a short read with no event since:
		 * read once more (conn.h), the short read maybe stopped at an
		 * urgent mark that no event said */
		if (!c->dead &&
		    (c->client.rd_short || c->up.rd_short || c->client.spliced || c->up.spliced)) {
			bool again = false;
			for (int k = 0; k < 2; k++) {
				struct nx_side *sd = k ? &c->up : &c->client;
				if (sd->rd_short) {
					sd->rd_empty = sd->rd_short = false;
					again = true;
				}
				/* a splice stopped at a mark no event said */
				if (sd->spliced && sd->tag.fd >= 0 && !sd->urgent &&
				    nx_at_urgent_mark(sd, sd->tag.fd, 0)) {
					sd->rd_empty = false;
					again = true;
				}
				sd->spliced = false;
			}
			if (again)
				nx_conn_pump(c);
			if (c->dead)
				continue;
		}
		/* a tunnel idle since the last sweep gives its empty pipes
		 * back (four descriptors each: with the sockets, an idle
		 * tunnel holds two), made again on its next data */
		if (c->state == S_TUNNEL && now - (c->deadline - T_TUNNEL) >= np->sweep_ms)
			for (int d = 0; d < 2; d++) {
				struct pipe_dir *pd = &c->tun.dir[d];
				if (pd->p[0] >= 0 && pd->in == 0 && !pd->eof) {
					nx_budget_pipe_close(&np->budget, pd->p, pd->cap);
					pd->cap = 0;
				}
			}
		if (now < c->deadline)
			continue;
		switch (c->state) {
		case S_RESOLVE:
		case S_CONNECT:
			nx_upstream_failed(c, 504, NX_SOCKS_TTL_EXPIRED, "timed out connecting");
			nx_conn_pump(c);
			break;
		case S_FORWARD:
			if (!c->fwd.resp_head_done) {
				nx_upstream_failed(c, 504, NX_SOCKS_FAILURE,
						   "timed out waiting for the upstream's answer");
				nx_conn_pump(c);
				break;
			}
			nx_emit(c, "net.error", "idle timeout", c->addr_text);
			nx_conn_kill(c);
			break;
		case S_SNIFF:
			/* never passed unjudged: the client did not say (all of)
			 * what the stream is in time */
			nx_stream_refuse(
			    c, nx_buf_used(&c->cin)
				   ? "the tunnel's first bytes could not be judged in time"
				   : "the client sent nothing into the tunnel in time");
			break;
		case S_TLS_CLIENT:
			nx_tls_failed(c, "client", "timed out");
			nx_conn_kill(c);
			break;
		case S_TLS_UPSTREAM:
			nx_upstream_failed(c, 504, NX_SOCKS_FAILURE,
					   "timed out in TLS to the upstream");
			nx_conn_pump(c);
			break;
		case S_HTTP_HEAD:
		case S_FIRST:
		case S_SOCKS_GREET:
		case S_SOCKS_REQ:
			if (nx_buf_used(&c->cin))
				nx_emit(c, "net.error", "the client stalled mid-request", NULL);
			nx_conn_kill(c);
			break;
		case S_TUNNEL:
		case S_BUF_TUNNEL:
		case S_FLUSH_CLOSE:
		case S_LINGER:
		default:
			nx_conn_kill(c);
			break;
		}
	}
}

/* ---- the loop
 * ------------------------------------------------------------------------------------- */

static void dispatch(struct netproxy *np, bool events)
{
	struct epoll_event evs[NX_LOOP_BATCH];
	int n;

	n = events ? nx_loop_ready(&np->loop, evs) : 0;
	for (int i = 0; i < n; i++) {
		struct nx_tag *t = evs[i].data.ptr;
		switch (t->kind) {
		case NX_TAG_LISTEN:
			for (size_t li = 0; li < np->n_listeners; li++)
				if (np->listeners[li] == t)
					nx_accept_all(np, li);
			break;
		case NX_TAG_CLIENT:
		case NX_TAG_UPSTREAM: {
			struct conn *c = t->ptr;
			struct nx_side *sd = t->kind == NX_TAG_CLIENT ? &c->client : &c->up;
			if (evs[i].events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				sd->rd_empty = sd->rd_short = false;
			if (evs[i].events & EPOLLPRI)
				sd->urgent = true;
			if (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				sd->rd_ended = true;
			if (!c->dead)
				nx_conn_pump(c);
			break;
		}
		case NX_TAG_SECRET:
			if (t->fd >= 0)
				nx_refresh_read(np);
			break;
		case NX_TAG_DNS:
			if (t->fd < 0)
				break; /* closed by c-ares earlier in this batch */
			ares_process_fd(np->ares,
					evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)
					    ? t->fd
					    : ARES_SOCKET_BAD,
					evs[i].events & EPOLLOUT ? t->fd : ARES_SOCKET_BAD);
			break;
		case NX_TAG_NS_UDP:
		case NX_TAG_NS_LISTEN:
		case NX_TAG_NS_CONN:
			nx_ns_event(np, t);
			break;
		case _NX_TAG_MAX:
		default:
			break;
		}
	}
	if (np->ares_ready)
		ares_process_fd(np->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
	if (np->secret_msg)
		nx_refresh_tick(np);
	if (nx_now_ms() - np->last_sweep >= np->sweep_ms)
		sweep(np);
	if (np->budget.waiting && np->budget.freed) {
		/* a tunnel found every pipe in use, and one came back: whoever
		 * waited tries again (their sockets will not say so: events are
		 * edge-triggered) */
		struct conn *c, *next;
		np->budget.waiting = np->budget.freed = false;
		for (c = np->conns; c; c = next) {
			next = c->next;
			if (!c->dead)
				nx_conn_pump(c);
		}
	}
	nx_loop_bury(&np->loop);
}

void netproxy_dispatch(struct netproxy *np)
{
	dispatch(np, true);
}

void netproxy_dispatch_timers(struct netproxy *np)
{
	dispatch(np, false);
}

int netproxy_timeout(const struct netproxy *np)
{
	long t = -1;

	if (np->n_conns || np->listeners_paused || np->n_ns_conns ||
	    np->n_strangers != np->n_strangers_said)
		t = np->sweep_ms;
	if (np->ares_ready) {
		struct timeval tv, *tvp = ares_timeout(np->ares, NULL, &tv);
		if (tvp) {
			long a = tvp->tv_sec * 1000 + tvp->tv_usec / 1000 + 1;
			if (t < 0 || a < t)
				t = a;
		}
	}
	if (np->secret_msg) {
		long r = nx_refresh_next(np);
		if (r >= 0 && (t < 0 || r < t))
			t = r;
	}
	return (int)t;
}

int netproxy_fd(const struct netproxy *np)
{
	return np->loop.epfd;
}

int netproxy_new(const struct policy *p, const struct netproxy_hooks *hooks, struct netproxy **ret)
{
	/* (written while idle: apart from the heap init shares) */
	struct netproxy *np = own_map(sizeof(*np));

	if (!np)
		return -ENOMEM;
	np->p = p;
	if (hooks)
		np->hooks = *hooks;
	int r = nx_loop_init(&np->loop);
	if (r < 0) {
		own_unmap(np);
		return r;
	}
	/* deadlines are checked once a second, or as often as the shortest
	 * timer: a shortened timer must not wait a whole second longer */
	np->sweep_ms = 1000;
	for (int t = 0; t < _POLICY_TIMER_MAX; t++) {
		np->timer[t] = policy_timer_ms(p, (enum policy_net_timer)t);
		if (np->timer[t] < np->sweep_ms)
			np->sweep_ms = np->timer[t];
	}
	np->last_sweep = nx_now_ms();
	nx_budget_init(&np->budget, p ? p->net.memory_max : 0, 2 * MAX_CONNS);
	np->max_conns = MAX_CONNS;
	/* a connection's 64 KiB buffers, freed at its end, took the heap's top
	 * back to the system (brk) and came back as fresh pages at the next
	 * connection's, zeroed and faulted in; what the heap keeps is bounded */
	(void)mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	*ret = np;
	return 0;
}

int netproxy_set_credentials(struct netproxy *np, const struct netproxy_credential *creds, size_t n,
			     struct netproxy_tls *tls)
{
	/* none (the usual proxy run): nothing written, after init's fork, to
	 * the pages of NP that init shares (sandbox/README.md) */
	if (n == 0 && !tls && !np->creds && !np->n_creds && !np->tls)
		return 0;
	np->creds = creds;
	np->n_creds = n < NETPROXY_CRED_MAX ? n : NETPROXY_CRED_MAX;
	np->tls = tls;
	for (size_t k = 0; k < np->n_creds && !np->creds_rw; k++)
		if (creds[k].slot) {
			/* refresh.c changes a secret's length: its own copy */
			np->creds_rw = malloc(np->n_creds * sizeof(*creds));
			if (!np->creds_rw)
				return -ENOMEM;
			memcpy(np->creds_rw, creds, np->n_creds * sizeof(*creds));
			np->creds = np->creds_rw;
		}
	if (np->n_creds && !np->scrub) {
		int r = nx_scrub_new(np->creds, np->n_creds, &np->scrub);
		if (r < 0)
			return r;
		/* the most any scan holds: a refreshed secret's may differ */
		np->scratch = malloc(BUF_CAP + NX_SCAN_HOLD_MAX);
		if (!np->scratch)
			return -ENOMEM;
	}
	return 0;
}

void netproxy_free(struct netproxy *np)
{
	if (!np)
		return;
	nx_say_strangers(np);
	while (np->conns) {
		/* a tunnel the sandbox's end cut short is logged like any */
		if (np->conns->state == S_TUNNEL || np->conns->state == S_BUF_TUNNEL)
			nx_emit(np->conns, "net.close", NULL,
				np->conns->addr_text[0] ? np->conns->addr_text : NULL);
		nx_conn_kill(np->conns);
	}
	nx_loop_bury(&np->loop);
	if (np->ares_ready) {
		ares_destroy(np->ares);
		ares_library_cleanup();
	}
	for (size_t i = 0; i < np->n_dns_tags; i++)
		free(np->dns_tags[i]);
	nx_loop_bury(&np->loop);
	for (size_t i = 0; i < np->n_listeners; i++)
		close(np->listeners[i]->fd);
	nx_ns_free(np);
	nx_loop_bury(&np->loop);
	free(np->tickets);
	nx_loop_done(&np->loop);
	nx_scrub_free(np->scrub);
	if (np->scratch) {
		explicit_bzero(np->scratch, BUF_CAP + 1);
		free(np->scratch);
	}
	free(np->head_scratch[0]); /* cleared after each use */
	free(np->head_scratch[1]);
	nx_refresh_free(np);
	own_unmap(np);
}
