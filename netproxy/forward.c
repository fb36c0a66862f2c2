/* SPDX-License-Identifier: MIT */
/*
 * Forwarding: one HTTP exchange at a time, the request head rebuilt
 * (credentials put in for bound hosts), bodies followed through their
 * framing, the response passed back.
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
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "ossl.h"

/* The rebuilt head's buffers (I: the head, the field), kept for the
 * proxy's life: allocated per request, two 64 KiB blocks went back to the
 * system each time (the heap's top trimmed) and came back as fresh pages to
 * fault in.  What a request wrote in them is cleared after it. */
static char *head_scratch(struct netproxy *np, int i)
{
	if (!np->head_scratch[i])
		np->head_scratch[i] = malloc(NX_HEAD_MAX * 4);
	return np->head_scratch[i];
}

/* Builds the upstream's request head from the client's (origin-form target,
 * Host from the URL, hop-by-hop headers dropped) into c->uout, putting
 * secrets in place of the placeholders of credentials bound to the host.
 * -EACCES: refused (answered here); -E2BIG: too large.
 * Long: one pass writes the head and rewrites each field as it goes; in
 * pieces, the rewrite context and the bounds would pass through each.
 */
static int build_upstream_head(struct conn *c, const struct nx_request *r)
{
	const size_t cap = NX_HEAD_MAX * 4;
	/* the field buffer only when there is something to rewrite */
	char *line = head_scratch(c->np, 0),
	     *field = c->np->n_creds ? head_scratch(c->np, 1) : NULL;
	size_t off = 0, flen, fmax = 0;
	struct nx_cred_ctx x;
	const struct nx_cred *plain_refused = NULL, *missing = NULL, *unavailable = NULL;
	const char *why_unavailable = NULL;
	int n, ret = 0;
	uint16_t defport = c->client.ssl ? 443 : 80;

	if (!line || (c->np->n_creds && !field))
		return -ENOMEM;
	nx_cred_ctx_init(&x, c->np->creds, c->np->n_creds, r->host, r->port);
	c->fwd.req_secret = false;
	c->fwd.req_bound = x.bound != 0;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		n = snprintf(line + off, cap - off, __VA_ARGS__);                                  \
		if (n < 0 || (size_t)n >= cap - off) {                                             \
			ret = -E2BIG;                                                              \
			goto out;                                                                  \
		}                                                                                  \
		off += (size_t)n;                                                                  \
	} while (0)
/* a field as it is, or rewritten */
#define FIELD(where, p, len)                                                                       \
	do {                                                                                       \
		int fr = c->np->n_creds                                                            \
			     ? nx_cred_field(&x, (where), (p), (len), field, cap, &flen)           \
			     : 0;                                                                  \
		if (fr < 0) {                                                                      \
			ret = fr;                                                                  \
			goto out;                                                                  \
		}                                                                                  \
		if (fr > 0) {                                                                      \
			fmax = flen > fmax ? flen : fmax;                                          \
			PUT("%.*s", (int)flen, field);                                             \
		} else                                                                             \
			PUT("%.*s", (int)(len), (p));                                              \
	} while (0)

	PUT("%.*s ", (int)r->method_len, r->method);
	if (r->path_is_root_default)
		PUT("/");
	FIELD(NX_CRED_TARGET, r->path, r->path_len);
	PUT(" HTTP/1.1\r\n");
	if (r->host_kind == NX_HOST_V6)
		PUT("Host: [%s]", r->host);
	else
		PUT("Host: %s", r->host);
	if (r->port != defport)
		PUT(":%u", r->port);
	PUT("\r\n");
	for (size_t i = 0; i < r->n_headers; i++) {
		const struct nx_header *h = &r->headers[i];
		if (nx_header_is_hop(r, h))
			continue;
		/* to a host a secret may go to, the answer must be one the
		 * proxy can read for it (scrub.c), whether or not this request
		 * carries the secret (an earlier one may have stored it there):
		 * no compression, and the whole body, never a range of it (a
		 * secret read back in pieces shorter than itself matches
		 * nothing) */
		if (x.bound && (nx_header_is(h, "accept-encoding") ||
				nx_header_is(h, "sec-websocket-extensions") ||
				nx_header_is(h, "range") || nx_header_is(h, "if-range")))
			continue;
		PUT("%.*s: ", (int)h->name_len, h->name);
		x.field_name = h->name;
		x.field_name_len = h->name_len;
		FIELD(h->name_len == 13 && strncasecmp(h->name, "authorization", 13) == 0
			  ? NX_CRED_HEADER_AUTH
			  : NX_CRED_HEADER,
		      h->value, h->value_len);
		PUT("\r\n");
	}
	if (x.bound)
		PUT("Accept-Encoding: identity\r\n");
	if (r->upgrade)
		PUT("Connection: Upgrade\r\n");
	else if (c->fwd.one_shot)
		PUT("Connection: close\r\n");
	PUT("\r\n");
#undef FIELD
#undef PUT
	if (x.n) {
		/* the whole head, not only what is rewritten: a placeholder in
		 * the method or a header's name would go out as it is */
		const struct nx_cred *f = nx_cred_foreign(&x, r->method, r->method_len);
		enum nx_cred_where w = NX_CRED_METHOD;
		unsigned any = 0;
		if (!f) {
			/* any placeholder in a host name, bound or not: it would
			 * leave by DNS */
			f = nx_cred_find(x.creds, x.n, r->host, strlen(r->host));
			w = NX_CRED_HOST;
		}
		if (!f) {
			f = nx_cred_foreign(&x, c->cin.d + c->cin.off, r->head_len);
			w = NX_CRED_HEADER;
		}
		if (f) {
			x.blocked = f;
			x.blocked_where = w;
			ret = -EACCES;
			goto out;
		}
		/* require = yes: a request without the placeholder would
		 * reach the API unauthenticated */
		missing = nx_cred_missing(&x);
		if (missing) {
			ret = -EACCES;
			goto out;
		}
		for (int i = 0; i < _NX_CRED_WHERE_MAX; i++)
			any |= x.injected[i];
		/* a secret fetched by a command: never written once expired */
		unavailable = nx_cred_unavailable(c->np, any, &why_unavailable);
		if (unavailable) {
			ret = -EACCES;
			goto out;
		}
		/* a secret goes into plain HTTP only where its section says so */
		for (size_t k = 0; !c->client.ssl && k < x.n; k++)
			if ((any & (1u << k)) && !x.creds[k].plaintext) {
				ret = -EACCES;
				plain_refused = &x.creds[k];
				goto out;
			}
		c->fwd.req_secret = any != 0;
	}
	ret = nx_buf_append(&c->uout, line, off);
	if (ret == 0 && c->fwd.req_secret) {
		c->secret_seen = true;
		nx_cred_report(c, &x);
	}
out:
	explicit_bzero(line, ret < 0 ? cap : off); /* a PUT cut short wrote past OFF */
	if (field)
		explicit_bzero(field, ret < 0 ? cap : fmax); /* a refused rewrite may have begun */
	if (ret == -EACCES && unavailable)
		nx_cred_unavailable_refuse(c, unavailable, why_unavailable);
	else if (ret == -EACCES && missing)
		nx_cred_missing_refuse(c, missing);
	else if (ret == -EACCES && plain_refused)
		nx_plain_refuse(c, plain_refused);
	else if (ret == -EACCES)
		nx_cred_refuse(c, x.blocked, x.blocked_where, x.unsafe);
	return ret;
}

/* A request's host and port (judged by the caller). */
static void set_target(struct conn *c, const char *host, enum nx_host_kind kind,
		       const uint8_t addr[16], uint16_t port)
{
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->kind = kind;
	memcpy(c->haddr, addr, 16);
	c->port = port;
}

/* Method and path rules ([network] allow = GET https://HOST/PATH): every
 * request to a host they name is judged here, whatever carried it (a
 * forwarded request, plain HTTP in a tunnel, intercepted TLS; each of a
 * kept-alive connection's, pipelined or not).  True when it was refused
 * (answered). */
static bool judge_request(struct conn *c, const struct nx_request *r)
{
	struct nx_decider d = nx_decider_of(c->np);
	struct nx_req_verdict *rv;
	const struct policy_item *granted = c->v.rule;
	const char *path = r->path_len ? r->path : "/";
	size_t plen = r->path_len ? r->path_len : 1;
	const char *q = memchr(path, '?', plen);

	snprintf(c->fwd.path, sizeof(c->fwd.path), "%s%.*s", path[0] == '?' ? "/" : "",
		 (int)(q ? (size_t)(q - path) : plen), path);
	if (!d.p->net.allow_http.n && !d.p->net.deny_http.n)
		return false; /* no rule reads paths */
	rv = malloc(sizeof(*rv));
	if (!rv) {
		nx_conn_kill(c);
		return true;
	}
	nx_decide_request(&d, c->host, c->port, c->client.ssl != NULL, r->method, r->method_len,
			  r->path, r->path_len, r->headers, r->n_headers, rv);
	if (!rv->ruled) {
		free(rv);
		return false;
	}
	c->v.rule = rv->rule;
	if (rv->allow) {
		nx_emit(c, "net.allow", rv->reason, NULL);
		c->v.rule = granted;
		free(rv);
		return false;
	}
	nx_refuse(c, rv->reason, NULL, rv->hint, rv->rule ? HINT_DENY : HINT_REQUEST);
	free(rv);
	return true;
}

/*
 * A request with a body to a host whose requests are judged one by one
 * (method and path rules) or that a secret may go to: its upstream
 * connection carries it alone.  The proxy frames the body and the upstream
 * may frame it otherwise: a body it never reads (a GET's, or any of a
 * handler that ignores it), or stops reading after an early answer.  On a
 * reused connection those bytes are read as the next request, which no
 * rule judged (a request smuggled in a body, a CL.0 desync), or a request
 * left open in them swallows the next one's head with the secret just
 * written into it.  With Connection: close and the connection closed at
 * the exchange's end, bytes the upstream did not take as we framed them
 * reach nothing.  A request without a body (no Content-Length, no
 * Transfer-Encoding) ends at its head for every server, so it keeps the
 * connection: bytes past a response's end already close it (see
 * nx_forward_step()).
 */
static bool rules_or_bound(const struct conn *c)
{
	struct nx_decider d = nx_decider_of(c->np);

	return nx_decide_ruled(&d, c->host, c->port) || nx_decide_bound(&d, c->host, c->port);
}

/* A request head is complete in c->cin: judge it and start it.
 * Long: the order of its checks (the parse, an inner stream's Host, a
 * CONNECT's placeholders, the head rebuilt, the upstream reused) is the
 * security argument, kept in one place.
 */
void nx_http_request(struct conn *c)
{
	struct nx_request *r = malloc(sizeof(*r));
	int status, br;
	const char *why;
	enum nx_parse pr;

	if (!r) {
		nx_conn_kill(c);
		return;
	}
	if (c->inner.on)
		pr = nx_parse_origin_request(c->cin.d + c->cin.off, nx_buf_used(&c->cin),
					     c->client.ssl ? 443 : 80, r, &status, &why);
	else
		pr =
		    nx_parse_request(c->cin.d + c->cin.off, nx_buf_used(&c->cin), r, &status, &why);
	if (pr == NX_PARSE_MORE) {
		free(r);
		return;
	}
	if (pr == NX_PARSE_ERROR) {
		free(r);
		c->proto = P_HTTP;
		nx_malformed(c, status, why);
		return;
	}
	snprintf(c->fwd.method, sizeof(c->fwd.method), "%.*s",
		 (int)(r->method_len < sizeof(c->fwd.method) ? r->method_len
							     : sizeof(c->fwd.method) - 1),
		 r->method);
	if (c->inner.on) {
		/* the stream goes to one origin: a Host naming another (a
		 * fronted request) would take a secret somewhere else */
		c->proto = P_HTTP;
		if (strcmp(r->host, c->inner.host) != 0) {
			char reason[2 * NX_HOST_MAX + 64];
			snprintf(reason, sizeof(reason), "Host names %s inside a tunnel to %s",
				 r->host, c->inner.host);
			free(r);
			c->v.rule = NULL;
			nx_refuse(c, reason, NULL, "send each host its own CONNECT", HINT_NONE);
			return;
		}
		r->port = c->inner.port;
	}
	set_target(c, r->host, r->host_kind, r->addr, r->port);
	if (r->is_connect) {
		const struct nx_cred *cr = c->np->n_creds
					       ? nx_cred_find(c->np->creds, c->np->n_creds,
							      c->cin.d + c->cin.off, r->head_len)
					       : NULL;
		c->proto = P_CONNECT;
		nx_buf_consume(&c->cin, r->head_len);
		free(r);
		if (cr) {
			nx_cred_refuse(c, cr, NX_CRED_HEADER, false);
			return;
		}
		nx_decide_and_dial(c);
		return;
	}
	c->proto = P_HTTP;
	if (judge_request(c, r)) {
		free(r);
		return;
	}
	c->fwd.one_shot = r->body != NX_BODY_NONE && rules_or_bound(c);
	if (c->fwd.one_shot &&
	    (r->upgrade || (r->method_len == 3 && strncasecmp(r->method, "GET", 3) == 0) ||
	     (r->method_len == 4 && strncasecmp(r->method, "HEAD", 4) == 0))) {
		/* a body most servers never read, to a host whose requests
		 * are judged: it could only hide a second request.  An
		 * upgrade's too (a WebSocket handshake is a GET without
		 * one): its upstream connection is kept for the 101, not
		 * ended with the request (Connection: Upgrade, not close) */
		char reason[200];
		snprintf(reason, sizeof(reason),
			 "%.*s%s with a body (servers that do not read it take it for the next "
			 "request) to a host with method and path rules or a credential",
			 (int)r->method_len, r->method, r->upgrade ? " asking for an upgrade" : "");
		free(r);
		c->v.rule = NULL;
		nx_refuse(c, reason, NULL, "send it without a body", HINT_NONE);
		return;
	}
	if (c->np->hooks.head)
		c->np->hooks.head(c->np->hooks.ud, r->host, r->port, c->inner.on,
				  c->cin.d + c->cin.off, r->head_len);
	c->fwd.req_body = r->body;
	c->fwd.req_left = r->length;
	c->fwd.req_chunk = (struct nx_chunk){0};
	c->fwd.req_done = r->body == NX_BODY_NONE;
	c->fwd.resp_head_done = c->fwd.resp_done = c->fwd.resp_close = c->fwd.up_ended =
	    c->fwd.early = false;
	c->fwd.is_head = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
	c->fwd.keep_alive = r->keep_alive;
	c->fwd.upgrade = r->upgrade;
	c->uout.off = c->uout.len = 0;
	if (nx_buf_reserve(&c->uout) < 0) {
		free(r);
		return; /* over the budget: the head waits in cin, tried again later */
	}
	br = build_upstream_head(c, r);
	if (br < 0) {
		free(r);
		if (br == -ENOBUFS)
			nx_head_refuse(c, "a request head as forwarded");
		else if (br != -EACCES)
			nx_malformed(c, 431, "request head too large to forward");
		return;
	}
	nx_buf_consume(&c->cin, r->head_len);
	free(r);

	/* same upstream as the previous request on this connection: reuse it
	 * (one_shot: it ended in step, or was never used, as intercepted TLS
	 * dials it before the first request; this exchange's end closes it) */
	if (c->up_connected && c->up.tag.fd >= 0 && strcmp(c->up_host, c->host) == 0 &&
	    c->up_port == c->port) {
		c->state = S_FORWARD;
		nx_set_deadline(c, T_RESPONSE);
		return;
	}
	nx_close_upstream(c);
	c->up_connected = false;
	nx_decide_and_dial(c);
}

/* How many of the N bytes at P belong to a body framed as KIND (LEFT and
 * CH follow it from call to call); *done at its end; -1 when malformed.
 * A body that lasts until the close never ends here. */
static long body_take(enum nx_body kind, uint64_t *left, struct nx_chunk *ch, const char *p,
		      size_t n, bool *done)
{
	if (kind == NX_BODY_LENGTH) {
		if (n > *left)
			n = (size_t)*left;
		*left -= n;
		*done = *left == 0;
		return (long)n;
	}
	if (kind == NX_BODY_CHUNKED)
		return nx_chunk_feed(ch, p, n, done);
	return (long)n;
}

static bool forward_request_body(struct conn *c)
{
	size_t avail = nx_buf_used(&c->cin), room = nx_buf_room(&c->uout), take;
	long n;

	if (c->fwd.req_done || avail == 0 || room == 0 || nx_buf_reserve(&c->uout) < 0)
		return false;
	n = body_take(c->fwd.req_body, &c->fwd.req_left, &c->fwd.req_chunk, c->cin.d + c->cin.off,
		      avail < room ? avail : room, &c->fwd.req_done);
	if (n < 0) {
		nx_malformed(c, 400, "malformed chunked request body");
		return true;
	}
	take = (size_t)n;
	(void)nx_buf_append(&c->uout, c->cin.d + c->cin.off, take);
	nx_buf_consume(&c->cin, take);
	c->bytes_up += take;
	return take > 0 || c->fwd.req_done;
}

/*
 * An exchange on a forwarded connection ends only when every byte of the
 * request has gone upstream (not merely been taken from the client: an
 * upstream that answers before reading the whole body still has bytes of it
 * on their way) and the whole response has reached the client.  Ending it
 * sooner would put the next request, with the secret just written into its
 * head, where the upstream still expects the previous body.  An upstream
 * that answered early keeps receiving the body; one that stops reading is
 * closed, never reused.
 */
/* The upstream ended and all it sent has been passed on: false when that
 * ends the connection (answered here). */
static bool upstream_end(struct conn *c)
{
	c->fwd.up_ended = false;
	if (!c->fwd.resp_head_done) {
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE,
				   "the upstream closed without an answer");
		return false;
	}
	if (c->fwd.resp_body == NX_BODY_CLOSE) {
		c->fwd.resp_done = true;
		c->fwd.keep_alive = false;
		nx_scan_end(c); /* the end: a partial match held back is no match */
	} else if (!c->fwd.resp_done) {
		/* cut short: the client must not take it as whole */
		nx_emit(c, "net.error", "the upstream closed mid-response", c->addr_text);
		nx_answer_close(c, "", 0);
		return false;
	}
	return true;
}

static bool exchange_done(const struct conn *c)
{
	return c->fwd.req_done && nx_buf_used(&c->uout) == 0 && c->fwd.resp_done &&
	       nx_buf_used(&c->cout) == 0 && c->tun.dir[1].in == 0;
}

/* Parses the response head in uin and moves response bytes to cout.
 * Long: a head's cases (too large, malformed, 101, interim) and the
 * body's copy share the loop that ends with the response.
 */
static bool forward_response(struct conn *c)
{
	bool progress = false;

	while (!c->fwd.resp_done) {
		if (!c->fwd.resp_head_done) {
			struct nx_response *r;
			const char *why;
			enum nx_parse pr;
			if (nx_buf_used(&c->uin) == 0)
				return progress;
			r = malloc(sizeof(*r));
			if (!r) {
				nx_conn_kill(c);
				return true;
			}
			pr = nx_parse_response(c->uin.d + c->uin.off, nx_buf_used(&c->uin),
					       c->fwd.is_head, r, &why);
			if (pr == NX_PARSE_MORE) {
				free(r);
				/* a head that does not fit a small buffer, which
				 * may grow only within the budget */
				if (nx_buf_full_small(&c->uin)) {
					char reason[400];
					int gr = nx_buf_grow(&c->uin);
					if (gr == 0)
						return true; /* read on */
					if (gr != -ENOBUFS)
						return progress;
					nx_budget_reason(c, "a response head", reason,
							 sizeof(reason));
					nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
					return true;
				}
				return progress;
			}
			if (pr == NX_PARSE_ERROR) {
				free(r);
				nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, why);
				return true;
			}
			int hr = nx_head_to_client(c, r);
			if (hr <= 0) {
				free(r);
				return hr < 0 || progress;
			}
			progress = true;
			if (r->status == 101) {
				enum nx_frame f = nx_upgrade_frame(r);
				free(r);
				if (!c->fwd.upgrade) {
					nx_upstream_failed(
					    c, 502, NX_SOCKS_FAILURE,
					    "101 Switching Protocols without an Upgrade request");
					return true;
				}
				if (nx_scan_begin(c, f) < 0)
					return true;
				nx_enter_tunnel(c);
				return true;
			}
			if (r->status >= 100 && r->status < 200) {
				free(r);
				continue; /* an interim answer; the real one follows */
			}
			c->fwd.resp_head_done = true;
			c->fwd.resp_body = r->body;
			c->fwd.resp_left = r->length;
			c->fwd.resp_chunk = (struct nx_chunk){0};
			c->fwd.resp_close = r->close;
			c->fwd.resp_done = r->body == NX_BODY_NONE;
			free(r);
			if (nx_scan_begin(c, c->fwd.resp_body == NX_BODY_CHUNKED
						 ? NX_FRAME_CHUNKED
						 : NX_FRAME_PLAIN) < 0)
				return true;
			continue;
		}
		if (nx_buf_used(&c->uin) && nx_buf_reserve(&c->cout) < 0)
			return progress; /* over the budget: tried again later */
		size_t avail = nx_buf_used(&c->uin), room = nx_down_room(c), take;
		if (avail == 0 || room == 0)
			return progress;
		long n = body_take(c->fwd.resp_body, &c->fwd.resp_left, &c->fwd.resp_chunk,
				   c->uin.d + c->uin.off, avail < room ? avail : room,
				   &c->fwd.resp_done);
		if (n < 0) {
			nx_emit(c, "net.error", "malformed chunked response", c->addr_text);
			nx_conn_kill(c);
			return true;
		}
		take = (size_t)n;
		if (!nx_to_client(c, c->uin.d + c->uin.off, take))
			return true;
		nx_buf_consume(&c->uin, take);
		c->bytes_down += take;
		if (c->fwd.resp_done)
			nx_scan_end(c);
		progress = true;
	}
	return progress;
}

/* S_FORWARD: one HTTP exchange, both directions.
 * Long: both directions, in the order that keeps an exchange whole (see
 * upstream_end()); moved whole from the old step().
 */
bool nx_forward_step(struct conn *c)
{
	ssize_t n;
	bool progress = false, fr;
	ssize_t w;
	int sp;
	/* client → upstream */
	if (!c->fwd.req_done && nx_buf_room(&c->uout) > 0 && nx_buf_used(&c->cin) == 0) {
		n = nx_read_client(c);
		if (c->dead)
			return false;
		progress |= n > 0;
	}
	progress |= forward_request_body(c);
	if (c->state != S_FORWARD || c->dead)
		return true;
	w = c->up.tag.fd >= 0 ? nx_side_write(&c->up, &c->uout) : 0;
	if (w < 0 && w != -EAGAIN) {
		/* an answer may already wait in the socket (a 413 sent
		 * before the upstream hung up): read it before deciding,
		 * whatever the events handled so far say (its own may be
		 * next in the batch) */
		c->up.rd_empty = false;
		if (!c->fwd.resp_head_done && nx_buf_used(&c->uin) == 0)
			(void)nx_side_read(&c->up, &c->uin);
		if (!c->fwd.resp_head_done && nx_buf_used(&c->uin) == 0) {
			nx_upstream_failed(c, 502, NX_SOCKS_FAILURE,
					   "the upstream closed the connection");
			return true;
		}
		/* it stopped reading, maybe after answering (a 413):
		 * pass the answer on, then end the connection */
		c->uout.off = c->uout.len = 0;
		c->fwd.req_done = true;
		c->fwd.keep_alive = false;
		c->fwd.early = true;
		w = 0;
	}
	progress |= w > 0;
	/* upstream → client: a body nothing reads is spliced (spliced.c) */
	sp = nx_splice_down(c);
	if (c->dead)
		return false;
	if (!c->fwd.resp_head_done && nx_buf_full_small(&c->uin))
		(void)nx_buf_grow(&c->uin); /* a head larger than a small buffer */
	if (sp < 0 && c->up.tag.fd >= 0 && nx_buf_room(&c->uin) > 0) {
		n = nx_side_read(&c->up, &c->uin);
		if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM)) {
			/* what it sent before its end is passed on first */
			nx_close_upstream(c);
			c->up_connected = false;
			c->fwd.up_ended = true;
		}
		progress |= n > 0;
	}
	fr = sp < 0 ? forward_response(c) : sp > 0;
	progress |= fr;
	if (c->state != S_FORWARD || c->dead)
		return true;
	/* decided once what it sent is passed on, or can never be (an
	 * unfinished head, with nothing left waiting for the client) */
	if (c->fwd.up_ended && (nx_buf_used(&c->uin) == 0 || (!fr && nx_buf_used(&c->cout) == 0)) &&
	    !upstream_end(c))
		return true;
	w = nx_side_write(&c->client, &c->cout);
	if (w < 0 && w != -EAGAIN) {
		nx_conn_kill(c);
		return false;
	}
	progress |= w > 0;
	if (progress)
		nx_set_deadline(c, T_RESPONSE);
	if (c->fwd.resp_done && c->up.tag.fd < 0 && (!c->fwd.req_done || nx_buf_used(&c->uout))) {
		/* answered early and closed (a 413, say): the rest of the
		 * body has nowhere to go, so the connection ends */
		c->uout.off = c->uout.len = 0;
		c->fwd.req_done = true;
		c->fwd.keep_alive = false;
		c->fwd.early = true;
	}
	if (exchange_done(c)) {
		/* one exchange done: the next request, or the end (lingering
		 * when the client may still be sending the body answered
		 * early, so that it reads the answer: front.c) */
		if (!c->fwd.keep_alive && c->fwd.early) {
			nx_linger(c);
			return true;
		}
		if (!c->fwd.keep_alive) {
			nx_conn_kill(c);
			return false;
		}
		if (nx_splice_end(c) || c->fwd.resp_close || c->fwd.one_shot || !c->up_connected ||
		    nx_buf_used(&c->uin)) {
			/* bytes past the response's end belong to no
			 * request of ours: that upstream is out of step
			 * (one_shot: it is not trusted to be in step) */
			nx_close_upstream(c);
			c->up_connected = false;
		}
		c->state = S_HTTP_HEAD;
		c->fwd.method[0] = c->fwd.path[0] = '\0';
		nx_set_deadline(c, T_KEEPALIVE);
		nx_conn_buf_free(c, &c->uin);
		if (nx_buf_used(&c->cin))
			nx_http_request(c);
		return true;
	}
	return progress;
}
