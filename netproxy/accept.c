/* SPDX-License-Identifier: MIT */
/*
 * Taking connections in: the listeners (their descriptor budget), accepting
 * (paused while the connection cap is reached), a connection the broker or
 * the namespace's relay hands over, and the loopback connections the
 * supervisor announced it would make (nx_expected).  proxy.c runs what is
 * taken.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

/* The connections not made for the sandbox since the last time they were
 * said, as one event. */
void nx_say_strangers(struct netproxy *np)
{
	struct conn tmp = {.np = np, .proto = P_CONNECT};
	unsigned long n = np->n_strangers - np->n_strangers_said;
	char why[128];

	if (n == 0)
		return;
	if (n == 1)
		snprintf(why, sizeof(why), "a connection to the proxy not made for the sandbox");
	else
		snprintf(why, sizeof(why),
			 "%lu connections to the proxy not made for the sandbox (since the last "
			 "such event)",
			 n);
	nx_emit(&tmp, "net.deny", why, NULL);
	np->n_strangers_said = np->n_strangers;
	np->strangers_said_ms = nx_now_ms();
}

/* ---- accepting ---------------------------------------------------------------------------------
 */

bool nx_expected(struct netproxy *np, const struct sockaddr_storage *ss, uint16_t to_port)
{
	const struct sockaddr_in *s = (const void *)ss;
	long now = nx_now_ms();

	if (ss->ss_family != AF_INET || s->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return false;
	/* by both ports: the DNS's listener and the proxy's are both on
	 * 127.0.0.1, and a source port in use toward one may be taken
	 * toward the other */
	for (size_t i = 0; i < np->n_expect; i++) {
		if (np->expect[i].port == ntohs(s->sin_port) && np->expect[i].to_port == to_port &&
		    now - np->expect[i].when < 30000) {
			np->expect[i] = np->expect[--np->n_expect];
			return true;
		}
	}
	return false;
}

void netproxy_expect(struct netproxy *np, uint16_t local_port, uint16_t to_port)
{
	long now = nx_now_ms();

	/* forget announcements never accepted */
	for (size_t i = 0; i < np->n_expect;)
		if (now - np->expect[i].when >= 30000)
			np->expect[i] = np->expect[--np->n_expect];
		else
			i++;
	if (np->n_expect == sizeof(np->expect) / sizeof(np->expect[0])) {
		/* full: the oldest goes (removals reorder the table) */
		size_t old = 0;
		for (size_t i = 1; i < np->n_expect; i++)
			if (np->expect[i].when < np->expect[old].when)
				old = i;
		np->expect[old] = np->expect[--np->n_expect];
	}
	np->expect[np->n_expect].port = local_port;
	np->expect[np->n_expect].to_port = to_port;
	np->expect[np->n_expect++].when = now;
}

void nx_pause_listeners(struct netproxy *np, bool pause)
{
	for (size_t i = 0; i < np->n_listeners; i++) {
		nx_loop_modify(&np->loop, np->listeners[i], pause ? 0 : EPOLLIN);
	}
	np->listeners_paused = pause;
}

/* A connection from a listener; CAP: a captured connect's target, or NULL.
 * NODELAY: the socket has TCP_NODELAY already (accepted sockets inherit it
 * from their listener, netproxy_add_listener()).  PUMP: its first step is
 * taken now; else it is not read before its first event (adding it to the
 * set reports what it holds and that it is writable): so for every
 * connection accepted, whose client has seldom written yet (and never one
 * the broker has just made), no read that finds nothing. */
static int conn_adopt(struct netproxy *np, int fd, const struct netproxy_capture *cap, bool nodelay,
		      bool pump)
{
	struct conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->np = np;
	c->client.tag = (struct nx_tag){.kind = NX_TAG_CLIENT, .fd = fd, .ptr = c};
	c->up.tag = (struct nx_tag){.kind = NX_TAG_UPSTREAM, .fd = -1, .ptr = c};
	c->tun.dir[0] = c->tun.dir[1] = (struct pipe_dir){.p = {-1, -1}};
	c->cin.bg = c->cout.bg = c->uin.bg = c->uout.bg = &np->budget;
	c->state = S_FIRST;
	c->proto = P_CONNECT;
	nx_set_deadline(c, T_HEAD(c));
	c->client.rd_empty = !pump;
	r = nx_loop_watch(&np->loop, &c->client.tag, NX_SIDE_EVENTS);
	if (r < 0) {
		close(fd);
		free(c);
		return r;
	}
	if (!nodelay)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	c->next = np->conns;
	if (np->conns)
		np->conns->prev = c;
	np->conns = c;
	np->n_conns++;
	if (cap) {
		/* as if it had asked CONNECT host:port, without the answer */
		c->proto = P_CAPTURE;
		snprintf(c->host, sizeof(c->host), "%s", cap->host);
		c->kind = (enum nx_host_kind)cap->kind;
		memcpy(c->haddr, cap->addr, 16);
		c->port = cap->port;
		nx_decide_and_dial(c);
		if (c->dead)
			return 0;
	}
	if (pump)
		nx_conn_pump(c);
	return 0;
}

int nx_conn_adopt(struct netproxy *np, int fd)
{
	return conn_adopt(np, fd, NULL, false, true);
}

/* One connection from listener LI: false when there is none to take now
 * (or taking more must wait). */
static bool accept_one(struct netproxy *np, size_t li)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(np->listeners[li]->fd, (struct sockaddr *)&ss, &sl,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			nx_pause_listeners(np, true); /* the sweep resumes them */
		return false;
	}
	struct netproxy_capture cap;
	bool captured = nx_take_ticket(np, &ss, &cap);
	if (np->verify[li] && !captured && !nx_expected(np, &ss, np->listen_port[li])) {
		/* only connections the broker made for the sandbox */
		close(fd);
		np->n_strangers++;
		/* the first at once; then a count at most every
		 * NX_STRANGERS_SAY_MS (here, or by the sweep) */
		if (nx_now_ms() - np->strangers_said_ms >= NX_STRANGERS_SAY_MS)
			nx_say_strangers(np);
		return true;
	}
	if (np->n_conns >= np->max_conns) {
		np->n_refused_cap++;
		if (np->n_refused_cap == 1) {
			struct conn tmp = {.np = np, .proto = P_CONNECT};
			nx_emit(&tmp, "net.error", "too many connections: refusing new ones", NULL);
		}
		close(fd);
		return true;
	}
	return conn_adopt(np, fd, captured ? &cap : NULL, true, false) != -ENOMEM;
}

void nx_accept_all(struct netproxy *np, size_t li)
{
	for (int i = 0; i < 256 && accept_one(np, li); i++)
		;
}

void netproxy_accept_now(struct netproxy *np, uint16_t port)
{
	/* the listener is level-triggered: one left queued (a stranger's
	 * taken first) still wakes the loop */
	for (size_t li = 0; li < np->n_listeners; li++)
		if (np->listen_port[li] == port && !np->listeners_paused) {
			(void)accept_one(np, li);
			return;
		}
}

int netproxy_add_listener(struct netproxy *np, int fd, bool verify_peers)
{
	struct nx_tag *t;
	struct rlimit rl;
	int r;

	if (np->n_listeners == sizeof(np->listeners) / sizeof(np->listeners[0]))
		return -ENOSPC;
	t = &np->listener_tags[np->n_listeners];
	*t = (struct nx_tag){.kind = NX_TAG_LISTEN, .fd = fd};
	r = nx_loop_watch(&np->loop, t, EPOLLIN);
	if (r < 0)
		return r;
	np->verify[np->n_listeners] = verify_peers;
	/* inherited by every accepted socket: one call here, none per
	 * connection */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	{
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		np->listen_port[np->n_listeners] =
		    getsockname(fd, (struct sockaddr *)&me, &ml) == 0 && me.sin_family == AF_INET
			? ntohs(me.sin_port)
			: 0;
	}
	np->listeners[np->n_listeners++] = t;
	/* a tunnel holds two sockets and, while data moves, four pipe ends
	 * (an idle one gives them back): as many connections as half the
	 * descriptors allow, less a reserve for the supervisor's own, the
	 * resolver's and the pipes (a pipe that cannot be made waits, as
	 * over the memory budget) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max < 8 * MAX_CONNS ? rl.rlim_max : 8 * MAX_CONNS;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		rlim_t fit =
		    rl.rlim_cur > 4 * NX_FD_RESERVE ? (rl.rlim_cur - NX_FD_RESERVE) / 2 : 64;
		np->max_conns = fit < MAX_CONNS ? (size_t)fit : MAX_CONNS;
	}
	return 0;
}

int netproxy_listen_socket(uint16_t port, uint16_t *ret_port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t sl = sizeof(sin);
	int fd, e;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	if (ret_port)
		*ret_port = ntohs(sin.sin_port);
	return fd;
}
