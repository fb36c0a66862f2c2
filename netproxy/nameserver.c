/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's nameserver: the sockets its resolver reaches (UDP and TCP
 * on 127.0.0.1:53 of its own network namespace, made there by init; or,
 * with the connect broker, a TCP listener the broker connects it to), on
 * the proxy's loop.  What each query is told is names.c's.  Nothing here
 * ever sends a query anywhere: a name is looked up by the proxy only when
 * a connection to it is made, and only when the policy allows it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

#define NS_TCP_MAX 64	 /* TCP clients at once; more are closed */
#define NS_MSG_MAX 1024	 /* a query: one name, and EDNS options */
#define NS_IDLE_MS 10000 /* a TCP client that sends nothing more */

struct nx_nsconn {
	struct nx_deferred defer; /* first: freed whole after the batch */
	struct nx_tag tag;
	struct nx_nsconn *prev, *next;
	long last;
	size_t got;
	uint8_t in[2 + NS_MSG_MAX];
};

static const char *type_name(uint16_t t, char *buf, size_t size)
{
	switch (t) {
	case 1:
		return "A";
	case 28:
		return "AAAA";
	case 65:
		return "HTTPS";
	case 33:
		return "SRV";
	case 15:
		return "MX";
	case 255:
		return "ANY";
	default:
		snprintf(buf, size, "TYPE%u", t);
		return buf;
	}
}

/* Answers one query: the answer's length in OUT, or 0. */
static size_t answer(struct netproxy *np, const uint8_t *q, size_t n, uint8_t *out, size_t size)
{
	struct nx_decider d = nx_decider_of(np);
	struct nx_dns_result res;
	size_t len = nx_dns_answer(&d, &np->names, q, n, out, size, &res);
	char tb[16];

	if (res.refused)
		nx_dns_refused(np, res.name[0] ? res.name : "?",
			       type_name(res.qtype, tb, sizeof(tb)));
	else if (res.why)
		nx_dns_error(np, res.name[0] ? res.name : NULL, res.why);
	return len;
}

/* Level-triggered sockets, and a bounded amount of work per event: a
 * client that keeps asking (pipelined over TCP, or a flood of datagrams)
 * gets its turn in the loop like everyone else, never the whole loop. */
#define NS_UDP_PER_EVENT 32

static void serve_udp(struct netproxy *np, int fd)
{
	uint8_t q[NS_MSG_MAX], out[NS_MSG_MAX];

	for (int i = 0; i < NS_UDP_PER_EVENT; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error of an earlier answer */
		if ((size_t)n > sizeof(q))
			continue; /* truncated: no query of one name is that long */
		size_t len = answer(np, q, (size_t)n, out, sizeof(out));
		if (len)
			(void)sendto(fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL,
				     (struct sockaddr *)&from, fl);
	}
}

static void ns_close(struct netproxy *np, struct nx_nsconn *k)
{
	if (k->tag.fd < 0)
		return;
	nx_loop_close(&np->loop, &k->tag);
	if (k->prev)
		k->prev->next = k->next;
	else
		np->ns_conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	np->n_ns_conns--;
	nx_loop_defer(&np->loop, &k->defer);
}

/* One read per event, and the whole messages it completed (at most a
 * buffer's worth): what is left waits in the socket for the next turn. */
static void serve_tcp(struct netproxy *np, struct nx_nsconn *k)
{
	uint8_t out[2 + NS_MSG_MAX];

	{
		ssize_t n = read(k->tag.fd, k->in + k->got, sizeof(k->in) - k->got);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			ns_close(np, k);
			return;
		}
		if (n < 0)
			return;
		k->got += (size_t)n;
		k->last = nx_now_ms();
		/* every whole message in the buffer */
		while (k->got >= 2) {
			size_t m = (size_t)(k->in[0] << 8 | k->in[1]);
			if (m > NS_MSG_MAX) {
				ns_close(np, k);
				return;
			}
			if (k->got < 2 + m)
				break;
			size_t len = answer(np, k->in + 2, m, out + 2, sizeof(out) - 2);
			if (len) {
				out[0] = (uint8_t)(len >> 8);
				out[1] = (uint8_t)len;
				/* a few hundred bytes into an empty socket buffer:
				 * a client that does not read them is dropped */
				if (write(k->tag.fd, out, len + 2) != (ssize_t)(len + 2)) {
					ns_close(np, k);
					return;
				}
			}
			memmove(k->in, k->in + 2 + m, k->got - 2 - m);
			k->got -= 2 + m;
		}
	}
}

static void accept_tcp(struct netproxy *np, struct nx_tag *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if ((l == np->ns_listen_verified && !nx_expected(np, &ss, np->ns_listen_port)) ||
		    np->n_ns_conns >= NS_TCP_MAX) {
			close(fd);
			continue;
		}
		struct nx_nsconn *k = calloc(1, sizeof(*k));
		if (!k) {
			close(fd);
			return;
		}
		k->tag = (struct nx_tag){.kind = NX_TAG_NS_CONN, .fd = fd, .ptr = k};
		if (nx_loop_watch(&np->loop, &k->tag, EPOLLIN | EPOLLRDHUP) < 0) {
			close(fd);
			free(k);
			continue;
		}
		k->last = nx_now_ms();
		k->next = np->ns_conns;
		if (k->next)
			k->next->prev = k;
		np->ns_conns = k;
		np->n_ns_conns++;
		serve_tcp(np, k);
	}
}

void nx_ns_event(struct netproxy *np, struct nx_tag *t)
{
	if (t->fd < 0)
		return;
	if (t->kind == NX_TAG_NS_UDP)
		serve_udp(np, t->fd);
	else if (t->kind == NX_TAG_NS_LISTEN)
		accept_tcp(np, t);
	else if (t->kind == NX_TAG_NS_CONN)
		serve_tcp(np, t->ptr);
}

void nx_ns_sweep(struct netproxy *np, long now)
{
	struct nx_nsconn *k, *next;

	for (k = np->ns_conns; k; k = next) {
		next = k->next;
		if (now - k->last >= NS_IDLE_MS)
			ns_close(np, k);
	}
}

int netproxy_add_nameserver(struct netproxy *np, int fd, bool stream, bool verify_peers)
{
	struct nx_tag *t;
	int r;

	if (np->n_ns_socks == sizeof(np->ns_socks) / sizeof(np->ns_socks[0])) {
		close(fd);
		return -ENOSPC;
	}
	t = &np->ns_tags[np->n_ns_socks];
	*t = (struct nx_tag){.kind = stream ? NX_TAG_NS_LISTEN : NX_TAG_NS_UDP, .fd = fd};
	r = nx_loop_watch(&np->loop, t, EPOLLIN);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (stream && verify_peers) {
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		np->ns_listen_verified = t;
		if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0)
			np->ns_listen_port = ntohs(me.sin_port);
	}
	np->ns_socks[np->n_ns_socks++] = t;
	return 0;
}

void nx_ns_free(struct netproxy *np)
{
	while (np->ns_conns)
		ns_close(np, np->ns_conns);
	for (size_t i = 0; i < np->n_ns_socks; i++)
		close(np->ns_socks[i]->fd);
	np->n_ns_socks = 0;
	nx_names_free(&np->names);
}
