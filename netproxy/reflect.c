/* SPDX-License-Identifier: MIT */
/*
 * Secrets in responses (scrub.c) on a connection: heads rewritten,
 * bodies and upgraded streams scanned as they pass to the client.
 *
 * With credentials, every response the proxy reads on its way to the client
 * is scanned: heads have a secret replaced by its placeholder, bodies and
 * upgraded streams are cut when one comes (their framing has gone out
 * already), and a compressed answer to a request that carried a secret,
 * which could hide one, is refused.
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

#include "../common/macros.h"
#include "conn.h"
#include "ossl.h"

/* A Basic value the request's rewrite re-encoded around a secret
 * (inject = replace): the response scan looks for that exact text, which
 * holds a secret too short for a base64 core of its own. */
void nx_basic_keep(struct conn *c, const struct nx_cred_ctx *x)
{
	struct nx_conn_basic *b;

	if (!x->basic_len)
		return;
	b = &c->basic[c->next_basic];
	for (size_t i = 0; i < c->n_basic; i++)
		if (c->basic[i].len == x->basic_len &&
		    memcmp(c->basic[i].b64, x->basic, x->basic_len) == 0)
			return;
	if (b->b64) {
		explicit_bzero(b->b64, b->len);
		free(b->b64);
	}
	*b = (struct nx_conn_basic){
	    .b64 = malloc(x->basic_len), .len = x->basic_len, .cred = x->basic_cred};
	if (!b->b64) {
		b->len = 0; /* out of memory: the scrub is made without it, below */
		return;
	}
	memcpy(b->b64, x->basic, x->basic_len);
	c->next_basic = (c->next_basic + 1) % NX_CONN_BASIC_KEEP;
	if (c->n_basic < NX_CONN_BASIC_KEEP)
		c->n_basic++;
	nx_scrub_free(c->own_base); /* made again at the next response */
	c->own_base = NULL;
}

void nx_basic_free(struct conn *c)
{
	for (size_t i = 0; i < NX_CONN_BASIC_KEEP; i++) {
		if (c->basic[i].b64) {
			explicit_bzero(c->basic[i].b64, c->basic[i].len);
			free(c->basic[i].b64);
		}
		c->basic[i] = (struct nx_conn_basic){0};
	}
	c->n_basic = c->next_basic = 0;
	nx_scrub_free(c->own_scrub);
	c->own_scrub = NULL;
	nx_scrub_free(c->own_base);
	c->own_base = NULL;
}

/* The needles this connection's responses are scanned with: the proxy's,
 * and the Basic values kept for it.  NULL when out of memory. */
static const struct nx_scrub *scrub_of(struct conn *c)
{
	struct nx_scrub_extra extra[NX_CONN_BASIC_KEEP];
	size_t n = 0;

	if (!c->n_basic)
		return c->np->scrub;
	if (c->own_scrub && c->own_base == c->np->scrub)
		return c->own_scrub;
	for (size_t i = 0; i < c->n_basic; i++)
		if (c->basic[i].len)
			extra[n++] = (struct nx_scrub_extra){c->basic[i].b64, c->basic[i].len,
							     c->basic[i].cred};
	nx_scrub_free(c->own_scrub); /* a scan under way keeps its own */
	c->own_scrub = NULL;
	/* held, so that a refresh's new scrub is never taken for it by its
	 * address */
	nx_scrub_free(c->own_base);
	c->own_base = NULL;
	if (nx_scrub_with(c->np->scrub, extra, n, &c->own_scrub) < 0)
		return NULL;
	c->own_base = nx_scrub_ref(c->np->scrub);
	return c->own_scrub;
}

/* A body or stream of FRAME begins: 0, or -1 when the connection ended. */
int nx_scan_begin(struct conn *c, enum nx_frame frame)
{
	const struct nx_scrub *s;

	if (!c->np->scrub)
		return 0;
	s = scrub_of(c);
	if (!s) {
		nx_reflect_cut(c, -ENOMEM);
		return -1;
	}
	/* the secrets were fetched again since this connection's scan was
	 * made, or a Basic value was kept: the new needles from this
	 * response on */
	if (c->scan && nx_scan_scrub(c->scan) != s && nx_scan_rebase(c->scan, s) < 0) {
		nx_reflect_cut(c, -ENOMEM);
		return -1;
	}
	if (!c->scan && nx_scan_new(s, &c->scan) < 0) {
		nx_reflect_cut(c, -ENOMEM);
		return -1;
	}
	nx_scan_reset(c->scan, frame);
	return 0;
}

/* Room in cout for upstream bytes: what a scan may hold back must fit too. */
size_t nx_down_room(const struct conn *c)
{
	size_t room = nx_buf_room(&c->cout), hold = c->scan ? nx_scan_hold_max(c->scan) : 0;

	return room > hold ? room - hold : 0;
}

/* Upstream bytes on their way to the client (cout reserved, N within
 * nx_down_room()).  False when the connection ended. */
bool nx_to_client(struct conn *c, const char *p, size_t n)
{
	const struct nx_scrub *s;
	size_t out;
	int r;

	if (!c->scan) {
		(void)nx_buf_append(&c->cout, p, n);
		return true;
	}
	/* the secrets were fetched again while this body or stream lasts (a
	 * feed, a WebSocket): it goes on, scanned for the new secret from
	 * here, the previous one still, and what it holds stays held.  Not cut
	 * at each refresh: a stream that outlives half a ttl would never last */
	s = scrub_of(c);
	if (!s || (s != nx_scan_scrub(c->scan) && nx_scan_rebase(c->scan, s) < 0)) {
		nx_reflect_cut(c, -ENOMEM);
		return false;
	}
	r = nx_scan_feed(c->scan, p, n, c->np->scratch, &out);
	if (r < 0) {
		nx_reflect_cut(c, r);
		return false;
	}
	(void)nx_buf_append(&c->cout, c->np->scratch, out);
	return true;
}

/* The body or stream ended: what the scan held back goes out. */
void nx_scan_end(struct conn *c)
{
	if (c->scan && nx_scan_held(c->scan))
		(void)nx_buf_append(&c->cout, c->np->scratch,
				    nx_scan_flush(c->scan, c->np->scratch));
}

bool nx_header_is(const struct nx_header *h, const char *name)
{
	return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* The head's Connection fields dropped (the status line kept): a request
 * whose upstream connection ends with it (forward.c, one_shot) asked the
 * upstream to close, and the upstream's "Connection: close" answers the
 * proxy, not the client, whose connection is kept. */
static size_t drop_connection(char *h, size_t n)
{
	size_t o = 0, i = 0;

	while (i < n) {
		const char *eol = memmem(h + i, n - i, "\r\n", 2);
		size_t l = eol ? (size_t)(eol - (h + i)) + 2 : n - i;
		if (i == 0 || l < 11 || strncasecmp(h + i, "connection:", 11) != 0) {
			memmove(h + o, h + i, l);
			o += l;
		}
		i += l;
	}
	return o;
}

/* A bound host was asked for identity: a compressed answer could hide a
 * secret it holds (one stored by an earlier request), so it is refused
 * (answered 502; true) whether or not this request carried the secret;
 * only a response without a body has nothing to hide. */
static bool refused_encoding(struct conn *c, const struct nx_response *r)
{
	if (!c->fwd.req_bound || r->body == NX_BODY_NONE ||
	    (r->body == NX_BODY_LENGTH && r->length == 0))
		return false;
	for (size_t i = 0; i < r->n_headers; i++) {
		const struct nx_header *h = &r->headers[i];
		char reason[NX_HOST_MAX + 300];
		if (!nx_header_is(h, "content-encoding") ||
		    (h->value_len == 8 && strncasecmp(h->value, "identity", 8) == 0))
			continue;
		/* only a known coding's own name is said: the value is the
		 * upstream's, unscanned (a bound host that echoes a request
		 * header reflects the secret there) */
		static const char *const known[] = {"gzip", "x-gzip",	"deflate",
						    "br",   "compress", "zstd"};
		const char *named = "other than identity";
		for (size_t k = 0; k < ARRAY_SIZE(known); k++)
			if (h->value_len == strlen(known[k]) &&
			    strncasecmp(h->value, known[k], h->value_len) == 0)
				named = known[k];
		snprintf(reason, sizeof(reason),
			 "%s, a host a credential is bound to, answered with Content-Encoding "
			 "%s, asked for identity: a compressed body cannot be checked for secrets",
			 c->host, named);
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
		return true;
	}
	return false;
}

/* A response head from uin to cout, secrets replaced.  1 moved, 0 wait
 * for room, -1 the connection was answered or ended. */
int nx_head_to_client(struct conn *c, const struct nx_response *r)
{
	const char *head = c->uin.d + c->uin.off;
	char *clean = NULL;
	size_t len = r->head_len;
	unsigned hits = 0;

	if (nx_buf_reserve(&c->cout) < 0)
		return 0;
	if (c->np->scrub) {
		if (refused_encoding(c, r))
			return -1;
		const struct nx_scrub *s = scrub_of(c);
		int sr = s ? nx_scrub_head(s, head, r->head_len, &clean, &len, &hits) : -ENOMEM;
		if (sr < 0) {
			nx_reflect_cut(c, sr);
			return -1;
		}
		if (sr == 0)
			len = r->head_len;
		else if (len > BUF_CAP) {
			free(clean);
			nx_upstream_failed(
			    c, 502, NX_SOCKS_FAILURE,
			    "a response head too large once its secrets are replaced");
			return -1;
		}
	}
	if (c->fwd.one_shot && c->fwd.keep_alive && r->close && r->minor == 1 && r->status >= 200 &&
	    r->body != NX_BODY_CLOSE) {
		if (!clean) {
			clean = malloc(len);
			if (!clean) {
				nx_conn_kill(c);
				return -1;
			}
			memcpy(clean, head, len);
		}
		len = drop_connection(clean, len);
	}
	if (nx_buf_room(&c->cout) < len && nx_buf_cap(&c->cout) < BUF_CAP &&
	    nx_buf_grow(&c->cout) == -ENOBUFS && nx_buf_used(&c->cout) == 0) {
		char reason[400];
		free(clean);
		nx_budget_reason(c, "a response head", reason, sizeof(reason));
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
		return -1;
	}
	if (nx_buf_room(&c->cout) < len) {
		free(clean);
		return 0; /* wait for the client to take what it has */
	}
	(void)nx_buf_append(&c->cout, clean ? clean : head, len);
	for (size_t k = 0; hits && k < c->np->n_creds; k++)
		if (hits & (1u << k)) {
			char reason[NX_HOST_MAX + 200];
			snprintf(
			    reason, sizeof(reason),
			    "the secret of credential %s came back from %s in a response head: "
			    "replaced by the placeholder",
			    c->np->creds[k].name, c->host);
			nx_emit_full(c, "cred.reflect", reason,
				     c->addr_text[0] ? c->addr_text : NULL, c->np->creds[k].name,
				     "head");
		}
	free(clean);
	nx_buf_consume(&c->uin, r->head_len);
	return 1;
}

/* The framing of an upgraded stream, from the 101's Upgrade header. */
enum nx_frame nx_upgrade_frame(const struct nx_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (nx_header_is(&r->headers[i], "upgrade") && r->headers[i].value_len == 9 &&
		    strncasecmp(r->headers[i].value, "websocket", 9) == 0)
			return NX_FRAME_WEBSOCKET;
	return NX_FRAME_PLAIN;
}

/* An upgraded stream, upstream to client, through the scan. */
bool nx_copy_down_scanned(struct conn *c, bool *dead)
{
	bool progress = false;
	ssize_t n;

	if (!c->tun.ueof && nx_buf_room(&c->uin) > 0) {
		n = nx_side_read(&c->up, &c->uin);
		if (n == 0)
			c->tun.ueof = true;
		else if (n < 0 && n != -EAGAIN && n != -ENOMEM)
			*dead = true;
		progress |= n >= 0;
	}
	if (nx_buf_used(&c->uin) && nx_buf_reserve(&c->cout) == 0) {
		size_t take =
		    nx_buf_used(&c->uin) < nx_down_room(c) ? nx_buf_used(&c->uin) : nx_down_room(c);
		if (take) {
			if (!nx_to_client(c, c->uin.d + c->uin.off, take))
				return false;
			nx_buf_consume(&c->uin, take);
			progress = true;
		}
	}
	if (c->tun.ueof && !nx_buf_used(&c->uin))
		nx_scan_end(c);
	n = nx_side_write(&c->client, &c->cout);
	if (n < 0 && n != -EAGAIN)
		*dead = true;
	if (n > 0) {
		c->bytes_down += (uint64_t)n;
		progress = true;
	}
	return progress;
}
