/* SPDX-License-Identifier: MIT */
/*
 * Answers: the audit events, the exit summary, and what a refused or
 * failed request is told in its own protocol (an HTTP error page, a SOCKS5
 * reply, a reset).
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

static const char *proto_name(const struct conn *c)
{
	if (c->proto == P_HTTP && c->client.ssl)
		return "https";
	switch (c->proto) {
	case P_SOCKS:
		return "socks5";
	case P_HTTP:
		return "http";
	case P_CAPTURE:
		return "capture";
	case P_DNS:
		return "dns";
	case P_CONNECT:
	default:
		return "connect";
	}
}

void nx_emit_full(struct conn *c, const char *event, const char *reason, const char *addr,
		  const char *credential, const char *where)
{
	struct netproxy *np = c->np;
	struct netproxy_event ev = {
	    .event = event,
	    .proto = proto_name(c),
	    .host = c->host[0] ? c->host : NULL,
	    .port = c->port,
	    .addr = addr,
	    .reason = reason,
	    .rule = c->v.rule,
	    .method = c->proto == P_HTTP && c->fwd.method[0] ? c->fwd.method : NULL,
	    .path = c->proto == P_HTTP && c->fwd.method[0] && c->fwd.path[0] ? c->fwd.path : NULL,
	    .bytes_up = c->bytes_up,
	    .bytes_down = c->bytes_down,
	    .credential = credential,
	    .where = where,
	};

	if (np->hooks.event)
		np->hooks.event(np->hooks.ud, &ev);
}

void nx_emit(struct conn *c, const char *event, const char *reason, const char *addr)
{
	nx_emit_full(c, event, reason, addr, NULL, NULL);
}

static const char *const block_hint_text[_HINT_MAX] = {
    [HINT_ALLOW] = "a name goes in [network] allow",
    [HINT_CIDR] = "an address in [network] allow_cidr",
    [HINT_DENY] = "a [network] deny rule refused some",
    [HINT_PRIVATE] = "a name resolving to a private address needs [network] allow_cidr",
    [HINT_CRED_HOSTS] = "a credential's placeholder goes only to the hosts in its "
			"[credential NAME] hosts",
    [HINT_PLAINTEXT] = "a secret goes into plain HTTP only with plaintext = yes in its "
		       "[credential NAME]",
    [HINT_MEMORY] = "a larger [network] memory_max allows larger requests",
    [HINT_REQUEST] = "a request goes in [network] allow as METHOD https://HOST/PATH",
};

/* Names CRED in the summary's hints, unless another was refused too. */
static void record_cred_hint(struct netproxy *np, const char *cred)
{
	if (strlen(cred) >= sizeof(np->hint_cred) ||
	    (np->hint_cred[0] != '\0' && strcmp(np->hint_cred, cred) != 0))
		snprintf(np->hint_cred, sizeof(np->hint_cred), "%s", "");
	else if (!(np->hints & (1u << HINT_CRED_HOSTS | 1u << HINT_PLAINTEXT)))
		snprintf(np->hint_cred, sizeof(np->hint_cred), "%s", cred);
}

static void record_block(struct conn *c, const char *reason, enum block_hint hint)
{
	struct netproxy *np = c->np;
	char what[sizeof(np->blocked[0].what)];

	np->n_blocked++;
	if (hint > HINT_NONE && hint < _HINT_MAX)
		np->hints |= 1u << hint;
	if (c->port)
		snprintf(what, sizeof(what), "%s:%u", c->host[0] ? c->host : "?", c->port);
	else /* a name the sandbox's DNS refused */
		snprintf(what, sizeof(what), "%s", c->host[0] ? c->host : "?");
	for (size_t i = 0; i < np->n_blocked_kept; i++)
		if (strcmp(np->blocked[i].what, what) == 0)
			return;
	if (np->n_blocked_kept == sizeof(np->blocked) / sizeof(np->blocked[0]))
		return;
	snprintf(np->blocked[np->n_blocked_kept].what, sizeof(what), "%s", what);
	snprintf(np->blocked[np->n_blocked_kept].reason, sizeof(np->blocked[0].reason), "%s",
		 reason);
	np->n_blocked_kept++;
}

bool netproxy_summary(const struct netproxy *np, char *buf, size_t size)
{
	size_t off;

	if (np->n_blocked == 0 && np->n_refused_cap == 0)
		return false;
	off = (size_t)snprintf(buf, size, "the network proxy blocked %lu connection%s",
			       np->n_blocked, np->n_blocked == 1 ? "" : "s");
	for (size_t i = 0; i < np->n_blocked_kept && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s %s (%s)", i ? "," : ":",
					np->blocked[i].what, np->blocked[i].reason);
	if (np->n_blocked > np->n_blocked_kept && off < size)
		off += (size_t)snprintf(buf + off, size - off, ", ...");
	if (np->n_refused_cap && off < size)
		off += (size_t)snprintf(buf + off, size - off,
					"; %lu refused over the limit of %zu connections",
					np->n_refused_cap, np->max_conns);
	for (int h = HINT_NONE + 1; h < _HINT_MAX && off < size; h++) {
		const char *text = block_hint_text[h], *mark = strstr(text, "NAME");
		if (!(np->hints & (1u << h)))
			continue;
		if (mark && np->hint_cred[0]) /* the credential, when only one was refused */
			off += (size_t)snprintf(buf + off, size - off, "; %.*s%s%s",
						(int)(mark - text), text, np->hint_cred, mark + 4);
		else
			off += (size_t)snprintf(buf + off, size - off, "; %s", text);
	}
	return true;
}

void nx_answer_close(struct conn *c, const char *data, size_t n)
{
	(void)nx_buf_alloc(&c->cout, false);
	(void)nx_buf_append(&c->cout, data, n);
	nx_close_upstream(c);
	c->state = S_FLUSH_CLOSE;
	nx_set_deadline(c, T_HEAD(c));
}

static void http_error(struct conn *c, int status, const char *title, const char *text)
{
	char body[1024], head[512];
	int bl, hl;

	bl = snprintf(body, sizeof(body), "ringfence: %s\n", text);
	if (bl < 0 || (size_t)bl >= sizeof(body))
		bl = (int)sizeof(body) - 1;
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		      "Content-Length: %d\r\nConnection: close\r\nCache-Control: no-store\r\n"
		      "X-Ringfence: blocked\r\n\r\n",
		      status, title, bl);
	c->cout.off = c->cout.len = 0; /* nothing half-sent is kept */
	(void)nx_buf_alloc(&c->cout, false);
	(void)nx_buf_append(&c->cout, head, (size_t)hl);
	(void)nx_buf_append(&c->cout, body, (size_t)bl);
	nx_close_upstream(c);
	c->state = S_FLUSH_CLOSE;
	nx_set_deadline(c, T_HEAD(c));
}

/* A captured connection refused or failed: the sandbox's client sees a
 * reset, as from a port nothing listens on (it asked no proxy, so there
 * is no protocol to answer in). */
static void reset(struct conn *c)
{
	if (c->client.tag.fd >= 0)
		(void)setsockopt(c->client.tag.fd, SOL_SOCKET, SO_LINGER,
				 &(struct linger){.l_onoff = 1, .l_linger = 0},
				 sizeof(struct linger));
	nx_conn_kill(c);
}

void nx_socks_reply(struct conn *c, enum nx_socks_reply code, bool then_close)
{
	uint8_t r[10] = {5, (uint8_t)code, 0, 1, 0, 0, 0, 0, 0, 0};

	if (then_close) {
		nx_answer_close(c, (const char *)r, sizeof(r));
	} else {
		(void)nx_buf_alloc(&c->cout, false);
		(void)nx_buf_append(&c->cout, r, sizeof(r));
	}
}

static const char *status_title(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* Refuses the current request: log, count, answer in the client's protocol
 * (HINT, when given, tells the user what would allow it). */
void nx_refuse(struct conn *c, const char *reason, const char *addr, const char *hint,
	       enum block_hint kind)
{
	char text[1200];
	const struct policy_item *r = c->v.rule;

	nx_emit(c, "net.deny", reason, addr);
	record_block(c, reason, kind);
	if (r && r->origin.file)
		snprintf(text, sizeof(text), "%s:%u blocked: %s (%s:%u)%s%s", c->host, c->port,
			 reason, r->origin.file, r->origin.line, hint ? "; " : "",
			 hint ? hint : "");
	else
		snprintf(text, sizeof(text), "%s:%u blocked: %s%s%s", c->host, c->port, reason,
			 hint ? "; " : "", hint ? hint : "");
	if (c->proto == P_CAPTURE)
		reset(c);
	else if (c->proto == P_SOCKS)
		nx_socks_reply(c, NX_SOCKS_NOT_ALLOWED, true);
	else
		http_error(c, 403, "Forbidden", text);
}

/* An upstream that could not be reached or answered badly. */
void nx_upstream_failed(struct conn *c, int status, enum nx_socks_reply code, const char *why)
{
	char text[700];

	nx_emit(c, "net.error", why, c->addr_text[0] ? c->addr_text : NULL);
	snprintf(text, sizeof(text), "%s:%u: %s", c->host, c->port, why);
	if (c->proto == P_CAPTURE)
		reset(c);
	else if (c->proto == P_SOCKS)
		nx_socks_reply(c, code, true);
	else
		http_error(c, status, status_title(status), text);
}

void nx_malformed(struct conn *c, int status, const char *why)
{
	char text[300];

	nx_emit(c, "net.error", why, NULL);
	snprintf(text, sizeof(text), "malformed request: %s", why);
	http_error(c, status, status_title(status), text);
}

/* Why a head that needs a full buffer is refused while the budget is used
 * up (WHAT: which head). */
void nx_budget_reason(const struct conn *c, const char *what, char *buf, size_t size)
{
	snprintf(buf, size,
		 "%s over %d bytes with the memory budget used up ([network] memory_max = %llu)",
		 what, BUF_SMALL, (unsigned long long)c->np->budget.max);
}

/* A client's head (request, SOCKS request, a tunnel's first bytes) that
 * cannot get a full buffer: answered at once in the client's protocol,
 * never allocated, so that connections stalled mid-head hold no more than
 * the small floor each. */
void nx_head_refuse(struct conn *c, const char *what)
{
	char reason[400], text[500];

	nx_budget_reason(c, what, reason, sizeof(reason));
	nx_emit(c, "net.deny", reason, c->addr_text[0] ? c->addr_text : NULL);
	record_block(c, reason, HINT_MEMORY);
	if (c->state == S_SNIFF) {
		nx_conn_kill(c); /* a granted stream: nothing to answer in */
	} else if (c->proto == P_SOCKS) {
		nx_socks_reply(c, NX_SOCKS_FAILURE, true);
	} else {
		snprintf(text, sizeof(text), "%s; a larger memory_max allows more", reason);
		http_error(c, 431, status_title(431), text);
	}
}

/* A placeholder on its way to a host it is not bound to: the request is
 * refused, in the client's protocol, and logged as an exfiltration attempt. */
void nx_cred_refuse(struct conn *c, const struct nx_cred *cr, enum nx_cred_where where, bool unsafe)
{
	char reason[NX_HOST_MAX + 300], text[2 * NX_HOST_MAX + 700], place[300];
	bool misplaced = false;

	if (unsafe)
		snprintf(reason, sizeof(reason),
			 "the secret of credential %s cannot stand in a URL as it is", cr->name);
	else if (where == NX_CRED_HOST)
		snprintf(reason, sizeof(reason), "the placeholder of credential %s in a host name",
			 cr->name);
	else if (cr->inject != POLICY_INJECT_REPLACE && nx_cred_bound(cr, c->host, c->port))
		misplaced = true;
	else
		snprintf(reason, sizeof(reason),
			 "the placeholder of credential %s sent to %s, which it is not bound to",
			 cr->name, c->host);
	if (misplaced) {
		/* its own host, outside its one place: a path or header the API
		 * may echo or log is not where the policy put the secret */
		nx_cred_place(cr, place, sizeof(place));
		snprintf(reason, sizeof(reason),
			 "the placeholder of credential %s outside %s (its inject =), where alone "
			 "its secret goes",
			 cr->name, place);
		nx_emit_full(c, "cred.block", reason, NULL, cr->name, nx_cred_where_name(where));
		record_block(c, reason, HINT_NONE);
		snprintf(text, sizeof(text), "%s:%u blocked: %s", c->host, c->port, reason);
		http_error(c, 403, "Forbidden", text);
		return;
	}
	nx_emit_full(c, "cred.block", reason, NULL, cr->name, nx_cred_where_name(where));
	/* the summary's hint: only a host it is not bound to is a matter of
	 * [credential] hosts; a placeholder in a host name, or a secret that
	 * cannot stand in a URL, is no grant's to widen */
	if (!unsafe && where != NX_CRED_HOST)
		record_cred_hint(c->np, cr->name);
	record_block(c, reason, unsafe || where == NX_CRED_HOST ? HINT_NONE : HINT_CRED_HOSTS);
	snprintf(text, sizeof(text),
		 "%s:%u blocked: %s; [credential %s] hosts = lists where it may go", c->host,
		 c->port, reason, cr->name);
	if (c->state == S_SNIFF)
		nx_conn_kill(c); /* a granted stream: nothing to answer in */
	else if (c->proto == P_CAPTURE)
		reset(c);
	else if (c->proto == P_SOCKS)
		nx_socks_reply(c, NX_SOCKS_NOT_ALLOWED, true);
	else
		http_error(c, 403, "Forbidden", text);
}

/* A secret on its way into plain HTTP without its section's consent. */
void nx_plain_refuse(struct conn *c, const struct nx_cred *cr)
{
	char reason[NX_HOST_MAX + 200], text[2 * NX_HOST_MAX + 600];

	snprintf(reason, sizeof(reason), "the secret of credential %s would go to %s in plain HTTP",
		 cr->name, c->host);
	nx_emit_full(c, "cred.block", reason, NULL, cr->name, "plaintext");
	record_cred_hint(c->np, cr->name);
	record_block(c, reason, HINT_PLAINTEXT);
	snprintf(text, sizeof(text),
		 "%s:%u blocked: %s; use https://, or set plaintext = yes in [credential %s] "
		 "(for a loopback or internal host)",
		 c->host, c->port, reason, cr->name);
	http_error(c, 403, "Forbidden", text);
}

/* require = yes, and the request to a bound host carried no placeholder
 * of the credential (where its inject = puts it): refused, so that a
 * client that lost its token fails here instead of calling the API
 * unauthenticated. */
void nx_cred_missing_refuse(struct conn *c, const struct nx_cred *cr)
{
	char reason[NX_HOST_MAX + 400], text[2 * NX_HOST_MAX + 700], place[300];

	nx_cred_place(cr, place, sizeof(place));
	snprintf(reason, sizeof(reason),
		 "the request to %s does not carry the placeholder of credential %s in %s", c->host,
		 cr->name, place);
	nx_emit_full(c, "cred.block", reason, NULL, cr->name, "missing");
	record_block(c, reason, HINT_NONE);
	snprintf(text, sizeof(text),
		 "%s:%u blocked: %s; [credential %s] require = yes refuses a request without it "
		 "(the command finds the placeholder in its variable)",
		 c->host, c->port, reason, cr->name);
	http_error(c, 403, "Forbidden", text);
}

/* A secret whose command failed or has not answered since it expired:
 * never written stale; the request is a 502 that names the credential. */
void nx_cred_unavailable_refuse(struct conn *c, const struct nx_cred *cr, const char *why)
{
	char reason[600], text[NX_HOST_MAX + 800];

	snprintf(reason, sizeof(reason), "the secret of credential %s is not available: %s",
		 cr->name, why);
	nx_emit_full(c, "cred.error", reason, NULL, cr->name, "source");
	snprintf(text, sizeof(text), "%s:%u: %s ([credential %s] source = cmd:)", c->host, c->port,
		 reason, cr->name);
	http_error(c, 502, status_title(502), text);
}

/* Reports what a request's rewrite put in (and keeps a Basic value it
 * re-encoded, for the response scan). */
void nx_cred_report(struct conn *c, const struct nx_cred_ctx *x)
{
	nx_basic_keep(c, x);
	for (int w = 0; w < _NX_CRED_WHERE_MAX; w++)
		for (size_t k = 0; k < x->n; k++)
			if (x->injected[w] & (1u << k))
				nx_emit_full(c, "cred.inject", NULL, NULL, x->creds[k].name,
					     nx_cred_where_name((enum nx_cred_where)w));
}

/* A stream refused after the tunnel was granted: nothing to answer in. */
void nx_stream_refuse(struct conn *c, const char *reason)
{
	nx_emit(c, "net.deny", reason, c->addr_text[0] ? c->addr_text : NULL);
	record_block(c, reason, HINT_NONE);
	nx_conn_kill(c);
}

void nx_tls_failed(struct conn *c, const char *who, const char *why)
{
	char reason[600];

	snprintf(reason, sizeof(reason), "TLS handshake with the %s failed: %s", who, why);
	nx_emit(c, "net.error", reason, c->addr_text[0] ? c->addr_text : NULL);
}

/* A secret in a body or stream: the connection ends, nothing of it sent. */
void nx_reflect_cut(struct conn *c, int err)
{
	/* (a secret seen is -EACCES; any other stop of a scan is no match) */
	const struct nx_cred *cr = c->scan && err == -EACCES ? nx_scan_hit(c->scan) : NULL;
	char reason[NX_HOST_MAX + 300];

	if (cr) {
		snprintf(reason, sizeof(reason),
			 "the secret of credential %s came back from %s: the response is cut",
			 cr->name, c->host);
		nx_emit_full(c, "cred.reflect", reason, c->addr_text[0] ? c->addr_text : NULL,
			     cr->name, "body");
	} else {
		snprintf(reason, sizeof(reason),
			 "a response from %s that cannot be checked for "
			 "secrets (%s): cut",
			 c->host,
			 err == -ENOMEM ? "out of memory"
			 : err == -ELOOP
			     ? "more beginnings of a secret open at once than the scan follows"
			     : "unreadable framing");
		nx_emit(c, "net.error", reason, c->addr_text[0] ? c->addr_text : NULL);
	}
	record_block(c, reason, HINT_NONE);
	/* a reset, not a close: a body that lasts until the close (or a TLS
	 * stream's close_notify) must not look complete when it is cut */
	if (c->client.tag.fd >= 0)
		(void)setsockopt(c->client.tag.fd, SOL_SOCKET, SO_LINGER,
				 &(struct linger){.l_onoff = 1, .l_linger = 0},
				 sizeof(struct linger));
	nx_conn_kill(c);
}

/* ---- the broker's and the nameserver's refusals ------------------------------------------------
 */

/* A connect(2) of the sandbox the policy refuses (capture.c): logged and
 * counted; the broker answers the call itself. */
void nx_capture_refused(struct conn *c, const char *reason, const char *hint, enum block_hint kind)
{
	char text[700];

	if (hint && *hint) {
		snprintf(text, sizeof(text), "%s; %s", reason, hint);
		reason = text;
	}
	nx_emit(c, "net.deny", reason, NULL);
	record_block(c, reason, kind);
}

/* A name the policy does not allow, asked of the sandbox's DNS: told
 * NXDOMAIN, never looked up. */
void nx_dns_refused(struct netproxy *np, const char *name, const char *qtype)
{
	struct conn tmp = {.np = np, .proto = P_DNS};
	char reason[64];

	snprintf(tmp.host, sizeof(tmp.host), "%s", name);
	snprintf(reason, sizeof(reason), "not in [network] allow (DNS %s, answered NXDOMAIN)",
		 qtype);
	nx_emit(&tmp, "net.deny", reason, NULL);
	record_block(&tmp, "a name not in [network] allow", HINT_ALLOW);
}

void nx_dns_error(struct netproxy *np, const char *name, const char *why)
{
	struct conn tmp = {.np = np, .proto = P_DNS};

	if (name)
		snprintf(tmp.host, sizeof(tmp.host), "%s", name);
	nx_emit(&tmp, "net.error", why, NULL);
}
