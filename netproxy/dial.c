/* SPDX-License-Identifier: MIT */
/*
 * Dialling: the decision applied (decide.c), c-ares on the same loop,
 * every resolved address checked, connect without a second lookup.
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

static void start_connect(struct conn *c);

static void dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct netproxy *np = data;
	struct dns_tag *t = NULL;
	size_t i;

	for (i = 0; i < np->n_dns_tags; i++)
		if (np->dns_tags[i]->tag.fd == fd) {
			t = np->dns_tags[i];
			break;
		}
	if (!readable && !writable) {
		if (t) {
			/* c-ares closes every socket when its last query ends, which
			 * happens inside ares_process_fd() for another socket: an
			 * event for this one may still wait in the batch being
			 * dispatched.  It is skipped (fd -1) and the tag freed after
			 * the batch. */
			nx_loop_forget(&np->loop, fd);
			np->dns_tags[i] = np->dns_tags[--np->n_dns_tags];
			t->tag.fd = -1;
			nx_loop_defer(&np->loop, &t->defer);
		}
		return;
	}
	uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
	if (t) {
		nx_loop_modify(&np->loop, &t->tag, events);
		return;
	}
	if (np->n_dns_tags == sizeof(np->dns_tags) / sizeof(np->dns_tags[0]))
		return; /* c-ares times the query out */
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->tag = (struct nx_tag){.kind = NX_TAG_DNS, .fd = fd};
	if (nx_loop_watch(&np->loop, &t->tag, events) < 0) {
		free(t);
		return;
	}
	np->dns_tags[np->n_dns_tags++] = t;
}

static int dns_ready(struct netproxy *np)
{
	struct ares_options o = {0};
	int r;

	if (np->ares_ready)
		return 0;
	r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r != ARES_SUCCESS)
		return -ENOMEM;
	o.sock_state_cb = dns_sock_state;
	o.sock_state_cb_data = np;
	o.timeout = (int)np->timer[POLICY_TIMER_DNS];
	o.tries = 2;
	/* the name as judged, never it with the host's search domains after
	 * it (an outside review: `nope.good.test` under `*.good.test`, absent,
	 * was looked up as nope.good.test.corp.test, a name no rule allows,
	 * and dialled) */
	o.flags = ARES_FLAG_NOSEARCH;
	/* (which ares_getaddrinfo() of c-ares 1.18 does not read: an empty
	 * search list set here keeps resolv.conf's and LOCALDOMAIN's out) */
	o.domains = NULL;
	o.ndomains = 0;
	r = ares_init_options(&np->ares, &o,
			      ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
				  ARES_OPT_FLAGS | ARES_OPT_DOMAINS);
	if (r != ARES_SUCCESS)
		return -EIO;
	np->ares_ready = true;
	return 0;
}

/* Every address is checked (decide.c): false when one refused the name
 * (answered here). */
static bool check_addresses(struct conn *c)
{
	struct nx_decider d = nx_decider_of(c->np);
	char reason[200], a[INET6_ADDRSTRLEN];

	if (nx_decide_addresses(&d, c->addrs, c->n_addrs, reason, sizeof(reason), a) < 0)
		return true;
	c->v.rule = NULL;
	nx_refuse(c, reason, a, NX_PRIVATE_HINT, HINT_PRIVATE);
	return false;
}

static void dns_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_req *req = arg;
	struct conn *c = req->c;

	(void)timeouts;
	free(req);
	if (!c) {
		if (res)
			ares_freeaddrinfo(res);
		return;
	}
	c->dns = NULL;
	c->n_addrs = 0;
	if (status == ARES_SUCCESS && res) {
		/* IPv4 first: hosts without an IPv6 route are the common case */
		for (int pass = 0; pass < 2; pass++)
			for (struct ares_addrinfo_node *n = res->nodes; n; n = n->ai_next) {
				if (c->n_addrs == MAX_ADDRS)
					break;
				if (pass == 0 && n->ai_family == AF_INET) {
					const struct sockaddr_in *s = (const void *)n->ai_addr;
					c->addrs[c->n_addrs].family = 4;
					memcpy(c->addrs[c->n_addrs++].a, &s->sin_addr, 4);
				} else if (pass == 1 && n->ai_family == AF_INET6) {
					const struct sockaddr_in6 *s = (const void *)n->ai_addr;
					c->addrs[c->n_addrs].family = 6;
					memcpy(c->addrs[c->n_addrs++].a, &s->sin6_addr, 16);
				}
			}
	}
	if (res)
		ares_freeaddrinfo(res);
	if (c->n_addrs == 0) {
		char why[NX_HOST_MAX + 128];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host,
			 status == ARES_SUCCESS ? "no address" : ares_strerror(status));
		nx_upstream_failed(c, 502, NX_SOCKS_HOST_UNREACHABLE, why);
	} else if (check_addresses(c)) {
		start_connect(c);
	}
	/* answered at once (/etc/hosts, a cached failure): the caller's pump
	 * goes on from here */
	if (!c->np->in_lookup)
		nx_conn_pump(c);
}

/* The request's target is in c->host/kind/haddr/port: judge it, and dial
 * when allowed.  A refused name is never resolved. */
void nx_decide_and_dial(struct conn *c)
{
	struct nx_decider d = nx_decider_of(c->np);
	struct nx_target t;

	nx_decide_target(&d, c->kind, c->host, c->haddr, c->port, &t);
	if (t.cred) {
		nx_cred_refuse(c, t.cred, NX_CRED_HOST, false);
		return;
	}
	c->v = t.v;
	c->addr_text[0] = '\0';
	if (!c->v.allow) {
		nx_refuse(c, c->v.reason, NULL, t.hint, t.hint_kind);
		return;
	}
	if (c->v.have_static) {
		c->n_addrs = 1;
		c->addrs[0].family = c->v.family;
		memcpy(c->addrs[0].a, c->v.addr, 16);
		if (check_addresses(c))
			start_connect(c);
		return;
	}
	if (dns_ready(c->np) < 0) {
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, "the resolver could not start");
		return;
	}
	struct dns_req *req = calloc(1, sizeof(*req));
	if (!req) {
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, "out of memory");
		return;
	}
	struct ares_addrinfo_hints hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = ARES_AI_NOSORT};
	req->c = c;
	c->dns = req;
	c->state = S_RESOLVE;
	nx_set_deadline(c, T_CONNECT(c));
	c->np->in_lookup = true;
	ares_getaddrinfo(c->np->ares, c->host, NULL, &hints, dns_done, req);
	c->np->in_lookup = false;
}

/* Tries the next resolved address. */
static void start_connect(struct conn *c)
{
	struct netproxy *np = c->np;

	if (c->state != S_CONNECT) {
		c->state = S_CONNECT;
		c->next_addr = 0;
		nx_set_deadline(c, T_CONNECT(c));
	}
	nx_close_upstream(c);
	c->up_connected = false;
	while (c->next_addr < c->n_addrs) {
		struct sockaddr_storage ss = {0};
		socklen_t len;
		int fam = c->addrs[c->next_addr].family;
		const uint8_t *a = c->addrs[c->next_addr].a;
		int fd;

		c->next_addr++;
		nx_addr_format(fam, a, c->addr_text, sizeof(c->addr_text));
		if (fam == 4) {
			struct sockaddr_in *s = (void *)&ss;
			s->sin_family = AF_INET;
			s->sin_port = htons(c->port);
			memcpy(&s->sin_addr, a, 4);
			len = sizeof(*s);
		} else {
			struct sockaddr_in6 *s = (void *)&ss;
			s->sin6_family = AF_INET6;
			s->sin6_port = htons(c->port);
			memcpy(&s->sin6_addr, a, 16);
			len = sizeof(*s);
		}
		fd = socket(fam == 4 ? AF_INET : AF_INET6,
			    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
		if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		c->up.tag = (struct nx_tag){.kind = NX_TAG_UPSTREAM, .fd = fd, .ptr = c};
		/* nothing to read before the upstream answers: adding the
		 * socket to the set reports what it may already hold */
		c->up.rd_empty = true;
		c->up.rd_ended = false;
		if (nx_loop_watch(&np->loop, &c->up.tag, NX_SIDE_EVENTS) < 0) {
			close(fd);
			c->up.tag.fd = -1;
			continue;
		}
		nx_emit(c, "net.allow", c->v.reason, c->addr_text);
		return;
	}
	nx_upstream_failed(c, 502, NX_SOCKS_REFUSED, "connection refused or unreachable");
}

/* S_CONNECT: the socket to the upstream is connected, or the next
 * address is tried. */
bool nx_connect_step(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (c->up.tag.fd < 0)
		return false;
	/* a peer: connected (one call in the usual case); none: still under
	 * way, or failed, which only SO_ERROR tells */
	if (getpeername(c->up.tag.fd, (struct sockaddr *)&ss, &sl) < 0) {
		if (errno != ENOTCONN)
			err = errno;
		else if (getsockopt(c->up.tag.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		else if (err == 0)
			return false;
	}
	if (err) {
		nx_emit(c, "net.error", strerror(err), c->addr_text);
		start_connect(c); /* the next address, or give up */
		return true;
	}
	c->up_connected = true;
	snprintf(c->up_host, sizeof(c->up_host), "%s", c->host);
	c->up_port = c->port;
	if (c->proto == P_CONNECT || c->proto == P_SOCKS || c->proto == P_CAPTURE) {
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
		if (c->proto != P_CAPTURE)
			(void)nx_buf_alloc(&c->cout, false);
		if (c->proto == P_CONNECT)
			(void)nx_buf_append(&c->cout, ok, sizeof(ok) - 1);
		else if (c->proto == P_SOCKS)
			nx_socks_reply(c, NX_SOCKS_OK, false);
		/* the client's first bytes decide what the stream is */
		c->state = S_SNIFF;
		struct nx_decider d = nx_decider_of(c->np);
		c->tun.server_first = nx_decide_server_first(&d, c->host, c->port);
		nx_set_deadline(c, T_FIRST_BYTES(c));
	} else if (c->inner.on && c->client.ssl) {
		/* an intercepted stream's upstream, dialled again */
		nx_start_upstream_tls(c);
	} else {
		c->state = S_FORWARD;
		nx_set_deadline(c, T_RESPONSE);
	}
	return true;
}
