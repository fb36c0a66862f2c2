/* SPDX-License-Identifier: MIT */
/*
 * Transparent capture: a connect(2) of the sandbox that does not go to the
 * proxy's address is judged here (the supervisor's broker asks, from the
 * seccomp notification), and when the policy allows its target the
 * supervisor connects the socket to one of the proxy's listeners and
 * leaves a ticket: the connection that arrives from that port is taken on
 * as if it had asked CONNECT host:port, without the answer (proxy.c).
 *
 * The target is the name behind a synthetic address the sandbox's DNS gave
 * (names.c), or the address itself, judged like a CONNECT to it
 * (allow_cidr).  A ticket grants nothing the policy does not: whoever
 * presents it gets a connection the policy allows anyway, still checked
 * again by the proxy (the name's addresses, the TLS server name, the HTTP
 * Host, credentials).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

#define TICKET_MS 30000 /* a ticket never taken is forgotten */

int netproxy_capture_judge(struct netproxy *np, const struct sockaddr *sa, size_t len,
			   struct netproxy_capture *ret)
{
	struct nx_decider d = nx_decider_of(np);
	struct nx_target t;
	struct conn tmp = {.np = np, .proto = P_CAPTURE};
	const char *name;
	int family;
	uint8_t a[16] = {0};

	*ret = (struct netproxy_capture){0};
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)sa;
		family = 4;
		memcpy(a, &s->sin_addr, 4);
		ret->port = ntohs(s->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)sa;
		static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
		ret->port = ntohs(s->sin6_port);
		if (memcmp(&s->sin6_addr, mapped, sizeof(mapped)) == 0) {
			family = 4;
			memcpy(a, (const uint8_t *)&s->sin6_addr + 12, 4);
		} else {
			family = 6;
			memcpy(a, &s->sin6_addr, 16);
		}
	} else {
		return -EAFNOSUPPORT;
	}

	name = nx_names_lookup(&np->names, family, a);
	if (name) {
		snprintf(ret->host, sizeof(ret->host), "%s", name);
		ret->kind = NX_HOST_NAME;
	} else {
		nx_addr_format(family, a, ret->host, sizeof(ret->host));
		ret->kind = family == 4 ? NX_HOST_V4 : NX_HOST_V6;
		memcpy(ret->addr, a, 16);
	}
	snprintf(tmp.host, sizeof(tmp.host), "%s", ret->host);
	tmp.port = ret->port;
	if (!name && nx_names_is_synthetic(family, a)) {
		nx_capture_refused(&tmp, "an address the sandbox's DNS never gave", NULL,
				   HINT_NONE);
		return -EACCES;
	}
	nx_decide_target(&d, (enum nx_host_kind)ret->kind, ret->host, ret->addr, ret->port, &t);
	tmp.v = t.v;
	if (t.cred) {
		char reason[NX_HOST_MAX + 100];
		snprintf(reason, sizeof(reason), "the placeholder of credential %s in a host name",
			 t.cred->name);
		nx_capture_refused(&tmp, reason, NULL, HINT_NONE);
		return -EACCES;
	}
	if (!t.v.allow) {
		nx_capture_refused(&tmp, t.v.reason, t.hint, t.hint_kind);
		return -EACCES;
	}
	return 0;
}

/* ADDR as a ticket holds it: a v4-mapped address as IPv4.  False when
 * not an inet address. */
static bool ticket_addr(const struct sockaddr *sa, size_t len, int *family, uint8_t a[16],
			uint16_t *port)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	memset(a, 0, 16);
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)sa;
		*family = 4;
		memcpy(a, &s->sin_addr, 4);
		*port = ntohs(s->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)sa;
		*port = ntohs(s->sin6_port);
		if (memcmp(&s->sin6_addr, mapped, sizeof(mapped)) == 0) {
			*family = 4;
			memcpy(a, (const uint8_t *)&s->sin6_addr + 12, 4);
		} else {
			*family = 6;
			memcpy(a, &s->sin6_addr, 16);
		}
		return true;
	}
	return false;
}

void netproxy_expect_capture(struct netproxy *np, const struct sockaddr *from, size_t len,
			     const struct netproxy_capture *t)
{
	long now = nx_now_ms();
	struct nx_ticket k = {.when = now, .target = *t};
	size_t oldest = 0;

	if (!ticket_addr(from, len, &k.family, k.addr, &k.port))
		return; /* the connection arrives unannounced: refused or a plain client */
	if (!np->tickets) {
		np->tickets = calloc(NX_TICKETS_MAX, sizeof(*np->tickets));
		if (!np->tickets)
			return;
	}
	for (size_t i = 0; i < np->n_tickets;)
		if (now - np->tickets[i].when >= TICKET_MS)
			np->tickets[i] = np->tickets[--np->n_tickets];
		else
			i++;
	if (np->n_tickets == NX_TICKETS_MAX) {
		/* full of live ones: the oldest goes */
		for (size_t i = 1; i < np->n_tickets; i++)
			if (np->tickets[i].when < np->tickets[oldest].when)
				oldest = i;
		np->tickets[oldest] = np->tickets[--np->n_tickets];
	}
	np->tickets[np->n_tickets++] = k;
}

bool nx_take_ticket(struct netproxy *np, const struct sockaddr_storage *ss,
		    struct netproxy_capture *ret)
{
	long now = nx_now_ms();
	int family;
	uint8_t a[16];
	uint16_t port;

	if (!np->n_tickets ||
	    !ticket_addr((const struct sockaddr *)ss, sizeof(*ss), &family, a, &port))
		return false;
	for (size_t i = 0; i < np->n_tickets; i++) {
		struct nx_ticket *k = &np->tickets[i];
		if (k->port == port && k->family == family && memcmp(k->addr, a, 16) == 0 &&
		    now - k->when < TICKET_MS) {
			*ret = k->target;
			*k = np->tickets[--np->n_tickets];
			return true;
		}
	}
	return false;
}
