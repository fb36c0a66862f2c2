/* SPDX-License-Identifier: MIT */
/*
 * The decisions a connection's machines act on, as pure functions: a
 * request's target, the addresses it resolved to, and what a granted
 * tunnel's first bytes make it.  No I/O: the policy, the credentials and
 * the bytes in, a verdict out (tests/unit/test_decide.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netproxy_internal.h"

void nx_decide_target(const struct nx_decider *d, enum nx_host_kind kind, const char *host,
		      const uint8_t addr[16], uint16_t port, struct nx_target *ret)
{
	ret->cred = NULL;
	ret->hint_kind = HINT_NONE;
	ret->hint[0] = '\0';
	if (d->n_creds) {
		/* a name is looked up, so a placeholder in one leaves by DNS */
		ret->cred = nx_cred_find(d->creds, d->n_creds, host, strlen(host));
		if (ret->cred)
			return;
	}
	nx_decide_host(d->p, kind, host, addr, port, &ret->v);
	if (ret->v.allow)
		return;
	ret->hint_kind = ret->v.rule ? HINT_DENY : kind == NX_HOST_NAME ? HINT_ALLOW : HINT_CIDR;
	if (ret->v.rule) {
		snprintf(ret->hint, sizeof(ret->hint), "remove the deny rule to allow it");
	} else if (kind == NX_HOST_NAME) {
		if (port == 80 || port == 443)
			snprintf(ret->hint, sizeof(ret->hint), "add %s to [network] allow to allow it",
				 host);
		else
			snprintf(ret->hint, sizeof(ret->hint),
				 "add %s:%u to [network] allow to allow it", host, port);
	} else {
		snprintf(ret->hint, sizeof(ret->hint),
			 "connect by name, or add the address to [network] allow_cidr");
	}
}

bool nx_decide_name(const struct nx_decider *d, const char *host)
{
	const struct policy_list *allow = &d->p->net.allow, *deny = &d->p->net.deny;

	if (d->n_creds && nx_cred_find(d->creds, d->n_creds, host, strlen(host)))
		return false;
	for (size_t i = 0; i < deny->n; i++)
		if (!strchr(deny->items[i].value, ':') &&
		    nx_rule_match(deny->items[i].value, host, 1, true))
			return false; /* refused on every port */
	for (size_t i = 0; i < allow->n; i++) {
		const char *colon = strrchr(allow->items[i].value, ':');
		unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 443;
		if (port > 0 && port <= 65535 &&
		    nx_rule_match(allow->items[i].value, host, (uint16_t)port, false))
			return true;
	}
	return false;
}

int nx_decide_addresses(const struct nx_decider *d, const struct nx_addr *addrs, int n,
			char *reason, size_t size, char addr_text[INET6_ADDRSTRLEN])
{
	for (int i = 0; i < n; i++) {
		const struct policy_item *rule;
		const char *why = nx_check_address(d->p, addrs[i].family, addrs[i].a, &rule);
		if (why) {
			nx_addr_format(addrs[i].family, addrs[i].a, addr_text, INET6_ADDRSTRLEN);
			snprintf(reason, size, "resolves to %s, a %s", addr_text, why);
			return i;
		}
	}
	return -1;
}

bool nx_decide_bound(const struct nx_decider *d, const char *host, uint16_t port)
{
	for (size_t k = 0; k < d->n_creds; k++)
		if (nx_cred_bound(&d->creds[k], host, port))
			return true;
	return false;
}

bool nx_decide_server_first(const struct nx_decider *d, const char *host, uint16_t port)
{
	return !nx_decide_bound(d, host, port) && nx_list_match(&d->p->net.server_first, host, port);
}

static void act(struct nx_stream_verdict *ret, enum nx_stream_act a, const struct nx_cred *cr)
{
	ret->act = a;
	ret->cred = cr;
}

/* A ClientHello, whole: its server name must be the tunnel's. */
static void decide_tls(const struct nx_decider *d, const char *host, enum nx_host_kind kind,
		       uint16_t port, const uint8_t *buf, size_t n, const char *sni,
		       struct nx_stream_verdict *ret)
{
	char norm[NX_HOST_MAX];
	uint8_t a[16];
	const char *why;

	if (d->n_creds) {
		/* the ClientHello goes out as it is to a host that is not
		 * intercepted: a placeholder of a credential not bound
		 * here must not ride in it (as the ALPN protocol, the
		 * server name, a session ticket) */
		struct nx_cred_ctx x;
		const struct nx_cred *cr;
		nx_cred_ctx_init(&x, d->creds, d->n_creds, host, port);
		cr = nx_cred_foreign(&x, (const char *)buf, n);
		if (cr)
			return act(ret, NX_ACT_CRED, cr);
	}
	/* fronting: a TLS name other than the host the tunnel was
	 * granted for is refused */
	if (sni[0] && (nx_host_normalize(sni, strlen(sni), norm, a, &why) == NX_HOST_INVALID ||
		       strcmp(norm, host) != 0)) {
		snprintf(ret->reason, sizeof(ret->reason), "TLS names %s inside a tunnel to %s", sni,
			 host);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	if (d->can_intercept && nx_decide_bound(d, host, port))
		return act(ret, NX_ACT_INTERCEPT, NULL); /* requests are read inside, Host checked */
	/* no name at all, to a grant made by name: the upstream picks
	 * whatever site it serves by default */
	if (!sni[0] && kind == NX_HOST_NAME && !nx_list_match(&d->p->net.allow_no_sni, host, port)) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "TLS without a server name inside a tunnel to %s "
			 "([network] allow_no_sni lets it pass)",
			 host);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	act(ret, NX_ACT_TUNNEL, NULL);
}

void nx_decide_stream(const struct nx_decider *d, const char *host, enum nx_host_kind kind,
		      uint16_t port, const struct nx_verdict *v, const uint8_t *buf, size_t n,
		      bool final, struct nx_stream_verdict *ret)
{
	char sni[NX_HOST_MAX];
	enum nx_stream k = nx_first_bytes(buf, n, final, sni);

	ret->reason[0] = '\0';
	switch (k) {
	case NX_STREAM_MORE:
		return act(ret, NX_ACT_MORE, NULL);
	case NX_STREAM_TLS_BAD:
		snprintf(ret->reason, sizeof(ret->reason), "a malformed TLS ClientHello");
		return act(ret, NX_ACT_REFUSE, NULL);
	case NX_STREAM_TLS:
		return decide_tls(d, host, kind, port, buf, n, sni, ret);
	case NX_STREAM_HTTP:
		/* every request in it is read, its Host must be the tunnel's */
		return act(ret, NX_ACT_HTTP, NULL);
	case NX_STREAM_OTHER:
	default:
		break;
	}
	/* neither TLS nor HTTP */
	if (nx_web_grant(v)) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "neither TLS nor HTTP to port %u, allowed only as a web port "
			 "(allow %s:%u lets other protocols through)",
			 port, host, port);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	if (d->n_creds) {
		/* the first bytes of an opaque stream must not carry a placeholder */
		const struct nx_cred *cr = nx_cred_find(d->creds, d->n_creds, (const char *)buf, n);
		if (cr)
			return act(ret, NX_ACT_CRED, cr);
	}
	act(ret, NX_ACT_TUNNEL, NULL);
}
