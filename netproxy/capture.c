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
	struct conn tmp = { .np = np, .proto = P_CAPTURE };
	const char *name;
	int family;
	uint8_t a[16] = { 0 };

	*ret = (struct netproxy_capture){ 0 };
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)sa;
		family = 4;
		memcpy(a, &s->sin_addr, 4);
		ret->port = ntohs(s->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)sa;
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
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
		nx_capture_refused(&tmp, "an address the sandbox's DNS never gave", NULL, HINT_NONE);
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

void netproxy_expect_capture(struct netproxy *np, uint16_t local_port,
			     const struct netproxy_capture *t)
{
	long now = nx_now_ms();

	if (!np->tickets) {
		np->tickets = calloc(NX_TICKETS_MAX, sizeof(*np->tickets));
		if (!np->tickets)
			return; /* the connection arrives unannounced: refused */
	}
	for (size_t i = 0; i < np->n_tickets;)
		if (now - np->tickets[i].when >= TICKET_MS)
			np->tickets[i] = np->tickets[--np->n_tickets];
		else
			i++;
	if (np->n_tickets == NX_TICKETS_MAX)
		np->tickets[0] = np->tickets[--np->n_tickets];
	np->tickets[np->n_tickets++] =
		(struct nx_ticket){ .local_port = local_port, .when = now, .target = *t };
}

bool nx_take_ticket(struct netproxy *np, const struct sockaddr_storage *ss,
		    struct netproxy_capture *ret)
{
	const struct sockaddr_in *s = (const void *)ss;
	long now = nx_now_ms();

	if (!np->n_tickets || ss->ss_family != AF_INET ||
	    s->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return false;
	for (size_t i = 0; i < np->n_tickets; i++) {
		if (np->tickets[i].local_port == ntohs(s->sin_port) &&
		    now - np->tickets[i].when < TICKET_MS) {
			*ret = np->tickets[i].target;
			np->tickets[i] = np->tickets[--np->n_tickets];
			return true;
		}
	}
	return false;
}
