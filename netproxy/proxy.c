/* SPDX-License-Identifier: MIT */
/*
 * The engine: one epoll loop, connections as small state machines.
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
 * can, so an event only says "look again".  Buffers are bounded: a side is
 * read only while the other side's buffer has room (back-pressure).
 * Connections are freed after the batch of events that closed them.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <errno.h>
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

#include "conn.h"

/* ---- connections -------------------------------------------------------------- */

/* A connection's buffer; cleared first when a secret has passed through
 * the connection (only what goes upstream holds one, but a buffer is
 * reused across requests, so all of it). */
void nx_conn_buf_free(struct conn *c, struct buf *b)
{
	if (c->secret_seen && b->d)
		explicit_bzero(b->d, b->cap);
	nx_buf_free(b);
}

/* The upstream side, with its TLS when it has one. */
void nx_close_upstream(struct conn *c)
{
	if (c->ussl) {
		SSL_free(c->ussl);
		c->ussl = NULL;
	}
	nx_loop_close(&c->np->loop, &c->ut);
}

static void close_pipes(struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		nx_budget_pipe_close(&c->np->budget, c->dir[i].p, c->dir[i].cap);
		c->dir[i] = (struct pipe_dir){ .p = { -1, -1 } };
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
	if (c->cssl) {
		SSL_free(c->cssl);
		c->cssl = NULL;
	}
	nx_loop_close(&np->loop, &c->ct);
	nx_close_upstream(c);
	close_pipes(c);
	nx_scan_free(c->scan);
	c->scan = NULL;
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

/* ---- DNS (c-ares on the same loop) ------------------------------------------------ */

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
	t->tag = (struct nx_tag){ .kind = NX_TAG_DNS, .fd = fd };
	if (nx_loop_watch(&np->loop, &t->tag, events) < 0) {
		free(t);
		return;
	}
	np->dns_tags[np->n_dns_tags++] = t;
}

static int dns_ready(struct netproxy *np)
{
	struct ares_options o = { 0 };
	int r;

	if (np->ares_ready)
		return 0;
	r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r != ARES_SUCCESS)
		return -ENOMEM;
	o.sock_state_cb = dns_sock_state;
	o.sock_state_cb_data = np;
	o.timeout = 3000;
	o.tries = 2;
	r = ares_init_options(&np->ares, &o,
			      ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS)
		return -EIO;
	np->ares_ready = true;
	return 0;
}

static void conn_pump(struct conn *c);
static void start_connect(struct conn *c);

/* Every address a name resolved to is checked: one that points inside
 * refuses the name (a rebinding answer mixes public and private). */
static bool check_addresses(struct conn *c)
{
	for (int i = 0; i < c->n_addrs; i++) {
		const struct policy_item *rule;
		const char *why = nx_check_address(c->np->p, c->addrs[i].family, c->addrs[i].a,
						   &rule);
		if (why) {
			char reason[200], a[INET6_ADDRSTRLEN];
			nx_addr_format(c->addrs[i].family, c->addrs[i].a, a, sizeof(a));
			snprintf(reason, sizeof(reason), "resolves to %s, a %s", a, why);
			c->v.rule = NULL;
			nx_refuse(c, reason, a,
			       "[network] private = deny refuses it; allow_cidr can make an exception",
			       HINT_PRIVATE);
			return false;
		}
	}
	return true;
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
		conn_pump(c);
}

/* ---- deciding and dialling ----------------------------------------------------------- */

/* The request's target is in c->host/kind/haddr/port: judge it, and dial
 * when allowed.  A refused name is never resolved. */
static void decide_and_dial(struct conn *c)
{
	if (c->np->n_creds) {
		/* a name is looked up, so a placeholder in one leaves by DNS */
		const struct nx_cred *cr =
			nx_cred_find(c->np->creds, c->np->n_creds, c->host, strlen(c->host));
		if (cr) {
			nx_cred_refuse(c, cr, NX_CRED_HOST, false);
			return;
		}
	}
	nx_decide_host(c->np->p, c->kind, c->host, c->haddr, c->port, &c->v);
	c->addr_text[0] = '\0';
	if (!c->v.allow) {
		char hint[NX_HOST_MAX + 128];
		enum block_hint kind = c->v.rule		  ? HINT_DENY
				       : c->kind == NX_HOST_NAME ? HINT_ALLOW
								 : HINT_CIDR;
		if (c->v.rule) {
			snprintf(hint, sizeof(hint), "remove the deny rule to allow it");
		} else if (c->kind == NX_HOST_NAME) {
			if (c->port == 80 || c->port == 443)
				snprintf(hint, sizeof(hint), "add %s to [network] allow to allow it",
					 c->host);
			else
				snprintf(hint, sizeof(hint), "add %s:%u to [network] allow to allow it",
					 c->host, c->port);
		} else {
			snprintf(hint, sizeof(hint), "connect by name, or add the address to "
						     "[network] allow_cidr");
		}
		nx_refuse(c, c->v.reason, NULL, hint, kind);
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
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC,
					     .ai_socktype = SOCK_STREAM,
					     .ai_flags = ARES_AI_NOSORT };
	req->c = c;
	c->dns = req;
	c->state = S_RESOLVE;
	nx_set_deadline(c, T_CONNECT);
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
		nx_set_deadline(c, T_CONNECT);
	}
	nx_close_upstream(c);
	c->up_connected = false;
	while (c->next_addr < c->n_addrs) {
		struct sockaddr_storage ss = { 0 };
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
		fd = socket(fam == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		c->ut = (struct nx_tag){ .kind = NX_TAG_UPSTREAM, .fd = fd, .ptr = c };
		if (nx_loop_watch(&np->loop, &c->ut, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
			close(fd);
			c->ut.fd = -1;
			continue;
		}
		nx_emit(c, "net.allow", c->v.reason, c->addr_text);
		return;
	}
	nx_upstream_failed(c, 502, NX_SOCKS_REFUSED, "connection refused or unreachable");
}

/* ---- secrets in responses (scrub.c) ----------------------------------------------------
 *
 * With credentials, every response the proxy reads on its way to the client
 * is scanned: heads have a secret replaced by its placeholder, bodies and
 * upgraded streams are cut when one comes (their framing has gone out
 * already), and a compressed answer to a request that carried a secret,
 * which could hide one, is refused.
 */

/* A body or stream of FRAME begins: 0, or -1 when the connection ended. */
static int scan_begin(struct conn *c, enum nx_frame frame)
{
	if (!c->np->scrub)
		return 0;
	if (!c->scan && nx_scan_new(c->np->scrub, &c->scan) < 0) {
		nx_reflect_cut(c, -ENOMEM);
		return -1;
	}
	nx_scan_reset(c->scan, frame);
	return 0;
}

/* Room in cout for upstream bytes: what a scan may hold back must fit too. */
static size_t down_room(const struct conn *c)
{
	size_t room = nx_buf_room(&c->cout), hold = c->scan ? nx_scrub_hold_max(c->np->scrub) : 0;

	return room > hold ? room - hold : 0;
}

/* Upstream bytes on their way to the client (cout reserved, N within
static  * down_room()).  False when the connection ended. */
static bool to_client(struct conn *c, const char *p, size_t n)
{
	size_t out;
	int r;

	if (!c->scan) {
		(void)nx_buf_append(&c->cout, p, n);
		return true;
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
static void scan_end(struct conn *c)
{
	if (c->scan && nx_scan_held(c->scan))
		(void)nx_buf_append(&c->cout, c->np->scratch, nx_scan_flush(c->scan, c->np->scratch));
}

static bool header_is(const struct nx_header *h, const char *name)
{
	return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* A response head from uin to cout, secrets replaced.  1 moved, 0 wait
 * for room, -1 the connection was answered or ended. */
static int head_to_client(struct conn *c, const struct nx_response *r)
{
	const char *head = c->uin.d + c->uin.off;
	char *clean = NULL;
	size_t len = r->head_len;
	unsigned hits = 0;

	if (nx_buf_reserve(&c->cout) < 0)
		return 0;
	if (c->np->scrub) {
		/* a bound host was asked for identity: a compressed answer could
		 * hide a secret it holds (one stored by an earlier request), so
		 * it is refused whether or not this request carried the secret;
		 * only a response without a body has nothing to hide */
		if (c->req_bound && r->body != NX_BODY_NONE &&
		    !(r->body == NX_BODY_LENGTH && r->length == 0))
			for (size_t i = 0; i < r->n_headers; i++) {
				const struct nx_header *h = &r->headers[i];
				char reason[NX_HOST_MAX + 300];
				if (!header_is(h, "content-encoding") ||
				    (h->value_len == 8 && strncasecmp(h->value, "identity", 8) == 0))
					continue;
				snprintf(reason, sizeof(reason),
					 "%s, a host a credential is bound to, answered with "
					 "Content-Encoding %.*s, asked for identity: a compressed body "
					 "cannot be checked for secrets",
					 c->host, (int)(h->value_len > 40 ? 40 : h->value_len), h->value);
				nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
				return -1;
			}
		int sr = nx_scrub_head(c->np->scrub, head, r->head_len, &clean, &len, &hits);
		if (sr < 0) {
			nx_reflect_cut(c, sr);
			return -1;
		}
		if (sr == 0)
			len = r->head_len;
		else if (len > BUF_CAP) {
			free(clean);
			nx_upstream_failed(c, 502, NX_SOCKS_FAILURE,
					"a response head too large once its secrets are replaced");
			return -1;
		}
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
			snprintf(reason, sizeof(reason),
				 "the secret of credential %s came back from %s in a response head: "
				 "replaced by the placeholder",
				 c->np->creds[k].name, c->host);
			nx_emit_full(c, "cred.reflect", reason, c->addr_text[0] ? c->addr_text : NULL,
				  c->np->creds[k].name, "head");
		}
	free(clean);
	nx_buf_consume(&c->uin, r->head_len);
	return 1;
}

/* The framing of an upgraded stream, from the 101's Upgrade header. */
static enum nx_frame upgrade_frame(const struct nx_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (header_is(&r->headers[i], "upgrade") && r->headers[i].value_len == 9 &&
		    strncasecmp(r->headers[i].value, "websocket", 9) == 0)
			return NX_FRAME_WEBSOCKET;
	return NX_FRAME_PLAIN;
}

/* An upgraded stream, upstream to client, through the scan. */
static bool copy_down_scanned(struct conn *c, bool *dead)
{
	bool progress = false;
	ssize_t n;

	if (!c->ueof && nx_buf_room(&c->uin) > 0) {
		n = nx_io_read(c, true, &c->uin);
		if (n == 0)
			c->ueof = true;
		else if (n < 0 && n != -EAGAIN && n != -ENOMEM)
			*dead = true;
		progress |= n >= 0;
	}
	if (nx_buf_used(&c->uin) && nx_buf_reserve(&c->cout) == 0) {
		size_t take = nx_buf_used(&c->uin) < down_room(c) ? nx_buf_used(&c->uin) : down_room(c);
		if (take) {
			if (!to_client(c, c->uin.d + c->uin.off, take))
				return false;
			nx_buf_consume(&c->uin, take);
			progress = true;
		}
	}
	if (c->ueof && !nx_buf_used(&c->uin))
		scan_end(c);
	n = nx_io_write(c, false, &c->cout);
	if (n < 0 && n != -EAGAIN)
		*dead = true;
	if (n > 0) {
		c->bytes_down += (uint64_t)n;
		progress = true;
	}
	return progress;
}

/* ---- the memory budget (budget.c) ---------------------------------------------------------- */

/* After a pump: the empty buffers of a connection that waits for its
 * client (between requests, a tunnel) go back to the budget, and when the
 * budget is tight, everyone's, and the empty pipes of tunnels too (made
 * again on the next data).  An exchange under way keeps its buffers: a
 * download freeing and faulting in 64 KiB at every wake-up is slower. */
static void conn_trim(struct conn *c)
{
	struct buf *bs[] = { &c->cin, &c->cout, &c->uin, &c->uout };
	struct nx_budget *bg = &c->np->budget;
	bool tight = bg->used > bg->max / 2;

	if (tight || c->state == S_HTTP_HEAD || c->state == S_TUNNEL || c->state == S_SNIFF)
		for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++)
			if (bs[i]->d && nx_buf_used(bs[i]) == 0)
				nx_conn_buf_free(c, bs[i]);
	if (c->state == S_TUNNEL && tight)
		for (int d = 0; d < 2; d++) {
			struct pipe_dir *pd = &c->dir[d];
			if (pd->p[0] >= 0 && pd->in == 0 && !pd->eof) {
				nx_budget_pipe_close(bg, pd->p, pd->cap);
				pd->cap = 0;
			}
		}
}

/* ---- HTTP forwarding ------------------------------------------------------------------ */

/* Builds the upstream's request head from the client's (origin-form target,
 * Host from the URL, hop-by-hop headers dropped) into c->uout, putting
 * secrets in place of the placeholders of credentials bound to the host.
 * -EACCES: refused (answered here); -E2BIG: too large. */
static int build_upstream_head(struct conn *c, const struct nx_request *r)
{
	const size_t cap = NX_HEAD_MAX * 4;
	/* the field buffer only when there is something to rewrite */
	char *line = malloc(cap), *field = c->np->n_creds ? malloc(cap) : NULL;
	size_t off = 0, flen, fmax = 0;
	struct nx_cred_ctx x;
	const struct nx_cred *plain_refused = NULL;
	int n, ret = 0;
	uint16_t defport = c->cssl ? 443 : 80;

	if (!line || (c->np->n_creds && !field)) {
		free(line);
		free(field);
		return -ENOMEM;
	}
	nx_cred_ctx_init(&x, c->np->creds, c->np->n_creds, r->host, r->port);
	c->req_secret = false;
	c->req_bound = x.bound != 0;

#define PUT(...)                                                                       \
	do {                                                                           \
		n = snprintf(line + off, cap - off, __VA_ARGS__);                      \
		if (n < 0 || (size_t)n >= cap - off) {                                 \
			ret = -E2BIG;                                                  \
			goto out;                                                      \
		}                                                                      \
		off += (size_t)n;                                                      \
	} while (0)
/* a field as it is, or rewritten */
#define FIELD(where, p, len)                                                           \
	do {                                                                           \
		int fr = c->np->n_creds ? nx_cred_field(&x, (where), (p), (len), field, cap, &flen) \
					: 0;                                           \
		if (fr < 0) {                                                          \
			ret = fr;                                                      \
			goto out;                                                      \
		}                                                                      \
		if (fr > 0) {                                                          \
			fmax = flen > fmax ? flen : fmax;                              \
			PUT("%.*s", (int)flen, field);                                 \
		}                                                                      \
		else                                                                   \
			PUT("%.*s", (int)(len), (p));                                  \
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
		if (x.bound && (header_is(h, "accept-encoding") ||
				header_is(h, "sec-websocket-extensions") || header_is(h, "range") ||
				header_is(h, "if-range")))
			continue;
		PUT("%.*s: ", (int)h->name_len, h->name);
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
		for (int i = 0; i < _NX_CRED_WHERE_MAX; i++)
			any |= x.injected[i];
		/* a secret goes into plain HTTP only where its section says so */
		for (size_t k = 0; !c->cssl && k < x.n; k++)
			if ((any & (1u << k)) && !x.creds[k].plaintext) {
				ret = -EACCES;
				plain_refused = &x.creds[k];
				goto out;
			}
		c->req_secret = any != 0;
	}
	ret = nx_buf_append(&c->uout, line, off);
	if (ret == 0 && c->req_secret) {
		c->secret_seen = true;
		nx_cred_report(c, &x);
	}
out:
	explicit_bzero(line, off);
	if (field)
		explicit_bzero(field, ret < 0 ? cap : fmax); /* a refused rewrite may have begun */
	free(line);
	free(field);
	if (ret == -EACCES && plain_refused)
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

/* A request head is complete in c->cin: judge it and start it. */
static void http_request(struct conn *c)
{
	struct nx_request *r = malloc(sizeof(*r));
	int status, br;
	const char *why;
	enum nx_parse pr;

	if (!r) {
		nx_conn_kill(c);
		return;
	}
	if (c->inner)
		pr = nx_parse_origin_request(c->cin.d + c->cin.off, nx_buf_used(&c->cin),
					     c->cssl ? 443 : 80, r, &status, &why);
	else
		pr = nx_parse_request(c->cin.d + c->cin.off, nx_buf_used(&c->cin), r, &status, &why);
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
	snprintf(c->method, sizeof(c->method), "%.*s",
		 (int)(r->method_len < sizeof(c->method) ? r->method_len : sizeof(c->method) - 1),
		 r->method);
	if (c->inner) {
		/* the stream goes to one origin: a Host naming another (a
		 * fronted request) would take a secret somewhere else */
		c->proto = P_HTTP;
		if (strcmp(r->host, c->tun_host) != 0) {
			char reason[2 * NX_HOST_MAX + 64];
			snprintf(reason, sizeof(reason), "Host names %s inside a tunnel to %s", r->host,
				 c->tun_host);
			free(r);
			c->v.rule = NULL;
			nx_refuse(c, reason, NULL, "send each host its own CONNECT", HINT_NONE);
			return;
		}
		r->port = c->tun_port;
	}
	set_target(c, r->host, r->host_kind, r->addr, r->port);
	if (r->is_connect) {
		const struct nx_cred *cr =
			c->np->n_creds ? nx_cred_find(c->np->creds, c->np->n_creds,
						      c->cin.d + c->cin.off, r->head_len)
				       : NULL;
		c->proto = P_CONNECT;
		nx_buf_consume(&c->cin, r->head_len);
		free(r);
		if (cr) {
			nx_cred_refuse(c, cr, NX_CRED_HEADER, false);
			return;
		}
		decide_and_dial(c);
		return;
	}
	c->proto = P_HTTP;
	c->req_body = r->body;
	c->req_left = r->length;
	c->req_chunk = (struct nx_chunk){ 0 };
	c->req_done = r->body == NX_BODY_NONE;
	c->resp_head_done = c->resp_done = c->resp_close = c->up_ended = false;
	c->is_head = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
	c->keep_alive = r->keep_alive;
	c->upgrade = r->upgrade;
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

	/* same upstream as the previous request on this connection: reuse it */
	if (c->up_connected && c->ut.fd >= 0 && strcmp(c->up_host, c->host) == 0 &&
	    c->up_port == c->port) {
		c->state = S_FORWARD;
		nx_set_deadline(c, T_RESPONSE);
		return;
	}
	nx_close_upstream(c);
	c->up_connected = false;
	decide_and_dial(c);
}

/* Moves request body bytes from cin to uout, as far as the framing goes. */
/* How many of the N bytes at P belong to a body framed as KIND (LEFT and
 * CH follow it from call to call); *done at its end; -1 when nx_malformed.
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

	if (c->req_done || avail == 0 || room == 0 || nx_buf_reserve(&c->uout) < 0)
		return false;
	n = body_take(c->req_body, &c->req_left, &c->req_chunk, c->cin.d + c->cin.off,
		      avail < room ? avail : room, &c->req_done);
	if (n < 0) {
		nx_malformed(c, 400, "nx_malformed chunked request body");
		return true;
	}
	take = (size_t)n;
	(void)nx_buf_append(&c->uout, c->cin.d + c->cin.off, take);
	nx_buf_consume(&c->cin, take);
	c->bytes_up += take;
	return take > 0 || c->req_done;
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
	c->up_ended = false;
	if (!c->resp_head_done) {
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, "the upstream closed without an answer");
		return false;
	}
	if (c->resp_body == NX_BODY_CLOSE) {
		c->resp_done = true;
		c->keep_alive = false;
		scan_end(c); /* the end: a partial match held back is no match */
	} else if (!c->resp_done) {
		/* cut short: the client must not take it as whole */
		nx_emit(c, "net.error", "the upstream closed mid-response", c->addr_text);
		nx_answer_close(c, "", 0);
		return false;
	}
	return true;
}

static bool exchange_done(const struct conn *c)
{
	return c->req_done && nx_buf_used(&c->uout) == 0 && c->resp_done &&
	       nx_buf_used(&c->cout) == 0;
}

static void enter_tunnel(struct conn *c);

/* Parses the response head in uin and moves response bytes to cout. */
static bool forward_response(struct conn *c)
{
	bool progress = false;

	while (!c->resp_done) {
		if (!c->resp_head_done) {
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
			pr = nx_parse_response(c->uin.d + c->uin.off, nx_buf_used(&c->uin), c->is_head, r,
					       &why);
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
					nx_budget_reason(c, "a response head", reason, sizeof(reason));
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
			int hr = head_to_client(c, r);
			if (hr <= 0) {
				free(r);
				return hr < 0 || progress;
			}
			progress = true;
			if (r->status == 101) {
				enum nx_frame f = upgrade_frame(r);
				free(r);
				if (!c->upgrade) {
					nx_upstream_failed(c, 502, NX_SOCKS_FAILURE,
							"101 Switching Protocols without an Upgrade request");
					return true;
				}
				if (scan_begin(c, f) < 0)
					return true;
				enter_tunnel(c);
				return true;
			}
			if (r->status >= 100 && r->status < 200) {
				free(r);
				continue; /* an interim answer; the real one follows */
			}
			c->resp_head_done = true;
			c->resp_body = r->body;
			c->resp_left = r->length;
			c->resp_chunk = (struct nx_chunk){ 0 };
			c->resp_close = r->close;
			c->resp_done = r->body == NX_BODY_NONE;
			free(r);
			if (scan_begin(c, c->resp_body == NX_BODY_CHUNKED ? NX_FRAME_CHUNKED
									 : NX_FRAME_PLAIN) < 0)
				return true;
			continue;
		}
		if (nx_buf_used(&c->uin) && nx_buf_reserve(&c->cout) < 0)
			return progress; /* over the budget: tried again later */
		size_t avail = nx_buf_used(&c->uin), room = down_room(c), take;
		if (avail == 0 || room == 0)
			return progress;
		long n = body_take(c->resp_body, &c->resp_left, &c->resp_chunk,
				   c->uin.d + c->uin.off, avail < room ? avail : room, &c->resp_done);
		if (n < 0) {
			nx_emit(c, "net.error", "nx_malformed chunked response", c->addr_text);
			nx_conn_kill(c);
			return true;
		}
		take = (size_t)n;
		if (!to_client(c, c->uin.d + c->uin.off, take))
			return true;
		nx_buf_consume(&c->uin, take);
		c->bytes_down += take;
		if (c->resp_done)
			scan_end(c);
		progress = true;
	}
	return progress;
}

/* ---- tunnels ----------------------------------------------------------------------------- */

static void enter_tunnel(struct conn *c)
{
	/* inside TLS the bytes are ours to copy, and an upgraded stream that is
	 * scanned for secrets is read: no splice */
	c->state = c->cssl || (c->scan && c->proto == P_HTTP) ? S_BUF_TUNNEL : S_TUNNEL;
	nx_set_deadline(c, T_TUNNEL);
	if (nx_buf_used(&c->uin) > nx_buf_room(&c->cout) || nx_buf_used(&c->cin) > nx_buf_room(&c->uout)) {
		(void)nx_buf_grow(&c->cout);
		(void)nx_buf_grow(&c->uout);
	}
	/* what is buffered goes first (early data, an upgraded stream's start);
	 * bytes that do not fit would be lost from the middle of a stream, so
	 * the connection ends instead */
	if ((nx_buf_used(&c->cin) &&
	     nx_buf_append(&c->uout, c->cin.d + c->cin.off, nx_buf_used(&c->cin)) < 0) ||
	    (nx_buf_used(&c->uin) && (c->state == S_BUF_TUNNEL && c->scan
					   ? nx_buf_reserve(&c->cout) < 0 ||
						     nx_buf_used(&c->uin) > down_room(c) ||
						     !to_client(c, c->uin.d + c->uin.off,
								nx_buf_used(&c->uin))
					   : nx_buf_append(&c->cout, c->uin.d + c->uin.off,
							nx_buf_used(&c->uin)) < 0))) {
		if (c->dead)
			return; /* a secret in it: cut */
		nx_emit(c, "net.error", "no room for the tunnel's first bytes", c->addr_text);
		nx_conn_kill(c);
		return;
	}
	c->bytes_up += nx_buf_used(&c->cin);
	c->bytes_down += nx_buf_used(&c->uin);
	nx_conn_buf_free(c, &c->cin);
	nx_conn_buf_free(c, &c->uin);
}

/* ---- interception ----------------------------------------------------------------------------- */

static bool bound_host(const struct conn *c)
{
	for (size_t k = 0; k < c->np->n_creds; k++)
		if (nx_cred_bound(&c->np->creds[k], c->host, c->port))
			return true;
	return false;
}

/* The client's side is ours: a certificate for the tunnel's host. */
static void start_intercept(struct conn *c)
{
	c->cssl = nx_tls_server(c->np->tls, c->host);
	if (!c->cssl ||
	    nx_tls_attach(c->cssl, c->ct.fd, c->cin.d + c->cin.off, nx_buf_used(&c->cin)) < 0) {
		nx_tls_failed(c, "client", nx_tls_error(c->np->tls));
		nx_conn_kill(c);
		return;
	}
	nx_conn_buf_free(c, &c->cin);
	c->inner = true;
	snprintf(c->tun_host, sizeof(c->tun_host), "%s", c->host);
	c->tun_port = c->port;
	c->state = S_TLS_CLIENT;
	nx_set_deadline(c, T_HEAD);
}

/* The upstream's side: verified against the system roots and upstream_ca. */
static void start_upstream_tls(struct conn *c)
{
	c->ussl = nx_tls_client(c->np->tls, c->tun_host);
	if (!c->ussl || nx_tls_attach(c->ussl, c->ut.fd, NULL, 0) < 0) {
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, nx_tls_error(c->np->tls));
		return;
	}
	c->state = S_TLS_UPSTREAM;
	nx_set_deadline(c, T_CONNECT);
}

/* ---- judging a tunnel's first bytes ------------------------------------------------------
 *
 * A granted tunnel carries nothing until the client's first bytes have been
 * judged: the upstream's bytes wait in its socket (unless the policy names
 * the tunnel server_first), and a stream that cannot be judged in time, or
 * whose upstream ends first, is closed, never passed on opaque.
 */

/* The tunnel's stream is HTTP: every request in it is read, its Host must
 * be the tunnel's host, and it is forwarded like a proxied request. */
static void judge_as_http(struct conn *c)
{
	c->inner = true;
	snprintf(c->tun_host, sizeof(c->tun_host), "%s", c->host);
	c->tun_port = c->port;
	c->state = S_HTTP_HEAD;
	nx_set_deadline(c, T_HEAD);
}

/* The client's first bytes are in cin: decide what the stream is, and act.
 * Returns false while more bytes are needed. */
static bool sniff(struct conn *c)
{
	const char *p = c->cin.d + c->cin.off;
	size_t n = nx_buf_used(&c->cin);
	char sni[NX_HOST_MAX], reason[2 * NX_HOST_MAX + 160];
	enum nx_stream k = nx_first_bytes((const uint8_t *)p, n, n == BUF_CAP, sni);

	switch (k) {
	case NX_STREAM_MORE:
		return false;
	case NX_STREAM_TLS_BAD:
		nx_stream_refuse(c, "a nx_malformed TLS ClientHello");
		return true;
	case NX_STREAM_TLS: {
		char norm[NX_HOST_MAX];
		uint8_t a[16];
		const char *why;
		if (c->np->n_creds) {
			/* the ClientHello goes out as it is to a host that is not
			 * intercepted: a placeholder of a credential not bound
			 * here must not ride in it (as the ALPN protocol, the
			 * server name, a session ticket) */
			struct nx_cred_ctx x;
			const struct nx_cred *cr;
			nx_cred_ctx_init(&x, c->np->creds, c->np->n_creds, c->host, c->port);
			cr = nx_cred_foreign(&x, p, n);
			if (cr) {
				nx_cred_refuse(c, cr, NX_CRED_STREAM, false);
				return true;
			}
		}
		/* fronting: a TLS name other than the host the tunnel was
		 * granted for is refused */
		if (sni[0] && (nx_host_normalize(sni, strlen(sni), norm, a, &why) == NX_HOST_INVALID ||
			       strcmp(norm, c->host) != 0)) {
			snprintf(reason, sizeof(reason), "TLS names %s inside a tunnel to %s", sni,
				 c->host);
			nx_stream_refuse(c, reason);
			return true;
		}
		if (c->np->tls && bound_host(c)) {
			start_intercept(c); /* requests are read inside, Host checked */
			return true;
		}
		/* no name at all, to a grant made by name: the upstream picks
		 * whatever site it serves by default */
		if (!sni[0] && c->kind == NX_HOST_NAME &&
		    !nx_list_match(&c->np->p->net.allow_no_sni, c->host, c->port)) {
			snprintf(reason, sizeof(reason),
				 "TLS without a server name inside a tunnel to %s "
				 "([network] allow_no_sni lets it pass)", c->host);
			nx_stream_refuse(c, reason);
			return true;
		}
		enter_tunnel(c);
		return true;
	}
	case NX_STREAM_HTTP:
		judge_as_http(c);
		return true;
	case NX_STREAM_OTHER:
	default:
		break;
	}
	/* neither TLS nor HTTP */
	if (nx_web_grant(&c->v)) {
		snprintf(reason, sizeof(reason),
			 "neither TLS nor HTTP to port %u, allowed only as a web port "
			 "(allow %s:%u lets other protocols through)", c->port, c->host, c->port);
		nx_stream_refuse(c, reason);
		return true;
	}
	if (c->np->n_creds) {
		/* the first bytes of an opaque stream must not carry a placeholder */
		const struct nx_cred *cr = nx_cred_find(c->np->creds, c->np->n_creds, p, n);
		if (cr) {
			nx_cred_refuse(c, cr, NX_CRED_STREAM, false);
			return true;
		}
	}
	enter_tunnel(c);
	return true;
}

static ssize_t read_client(struct conn *c);

/* S_SNIFF: the tunnel is open upstream; nothing passes until the client's
 * first bytes are judged. */
static bool sniff_step(struct conn *c)
{
	bool progress = false;
	ssize_t n;

	if (c->server_first) {
		/* the policy lets this upstream speak first (SMTP, FTP, ...):
		 * its bytes go to the client while its first are awaited */
		if (nx_buf_room(&c->cout) > 0) {
			n = nx_buf_read(&c->cout, c->ut.fd);
			if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM)) {
				nx_emit(c, "net.error", "the upstream closed before the client spoke",
				     c->addr_text);
				nx_conn_kill(c);
				return false;
			}
			if (n > 0) {
				c->bytes_down += (uint64_t)n;
				progress = true;
			}
		}
		n = nx_buf_write(&c->cout, c->ct.fd);
		if (n < 0 && n != -EAGAIN) {
			nx_conn_kill(c);
			return false;
		}
		progress |= n > 0;
	} else if (nx_buf_used(&c->cout)) {
		return false; /* the 200 or SOCKS reply goes out first */
	}
	/* a ClientHello (or a first line) larger than a small buffer */
	if (nx_buf_full_small(&c->cin) && nx_buf_grow(&c->cin) == -ENOBUFS) {
		nx_head_refuse(c, "a tunnel's first bytes");
		return false;
	}
	n = read_client(c);
	if (c->dead)
		return false;
	if (nx_buf_used(&c->cin) == 0) {
		char peek;
		ssize_t u;
		if (c->server_first)
			return progress;
		/* what the upstream says waits in its socket; its end ends the
		 * tunnel, unjudged streams are never passed */
		u = recv(c->ut.fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (u == 0 || (u < 0 && errno != EAGAIN && errno != EINTR)) {
			nx_emit(c, "net.error", u == 0 ? "the upstream closed before the client spoke"
						    : "the upstream failed before the client spoke",
			     c->addr_text);
			nx_conn_kill(c);
		}
		return false;
	}
	return sniff(c) || n > 0 || progress;
}

/* ---- the pump ------------------------------------------------------------------------------- */

static ssize_t read_client(struct conn *c)
{
	ssize_t n = nx_io_read(c, false, &c->cin);

	if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM))
		nx_conn_kill(c);
	return n;
}

/* The client speaks first: the first byte tells HTTP from SOCKS5, then
 * the head or the SOCKS5 messages are read and the target decided. */
static bool front_step(struct conn *c)
{
	ssize_t n;

	/* a head larger than a small buffer (the buffer is full, and
	 * what is in it was judged incomplete) */
	if (nx_buf_full_small(&c->cin) && nx_buf_grow(&c->cin) == -ENOBUFS) {
		nx_head_refuse(c, c->proto == P_SOCKS ? "a SOCKS5 request" : "a request head");
		return true;
	}
	n = read_client(c);
	if (c->dead)
		return false;
	if (nx_buf_used(&c->cin) == 0)
		return false;
	if (c->state == S_FIRST) {
		if ((uint8_t)c->cin.d[c->cin.off] == 5) {
			c->state = S_SOCKS_GREET;
			c->proto = P_SOCKS;
		} else if ((uint8_t)c->cin.d[c->cin.off] == 4) {
			nx_emit(c, "net.error", "SOCKS4 is not supported (use socks5h://)", NULL);
			nx_answer_close(c, "\0\x5b\0\0\0\0\0\0", 8);
			return true;
		} else {
			c->state = S_HTTP_HEAD;
		}
	}
	if (c->state == S_HTTP_HEAD) {
		enum state before = c->state;
		http_request(c);
		return c->state != before || c->dead || n > 0;
	}
	if (c->state == S_SOCKS_GREET) {
		bool noauth;
		long used = nx_socks_greeting((const uint8_t *)c->cin.d + c->cin.off,
					      nx_buf_used(&c->cin), &noauth);
		if (used == 0)
			return n > 0;
		if (used < 0 || !noauth) {
			nx_emit(c, "net.error",
			     used < 0 ? "nx_malformed SOCKS5 greeting"
				      : "SOCKS5 client offers no method without a password",
			     NULL);
			nx_answer_close(c, "\x05\xff", 2);
			return true;
		}
		nx_buf_consume(&c->cin, (size_t)used);
		(void)nx_buf_append(&c->cout, "\x05\x00", 2);
		c->state = S_SOCKS_REQ;
		return true;
	}
	/* S_SOCKS_REQ */
	{
		struct nx_socks_request sr;
		enum nx_socks_reply code;
		const char *why;
		long used = nx_socks_request((const uint8_t *)c->cin.d + c->cin.off,
					     nx_buf_used(&c->cin), &sr, &code, &why);
		if (used == 0)
			return n > 0;
		if (used < 0) {
			snprintf(c->host, sizeof(c->host), "%s", sr.host);
			c->port = sr.port;
			nx_emit(c, "net.error", why, NULL);
			nx_socks_reply(c, code, true);
			return true;
		}
		nx_buf_consume(&c->cin, (size_t)used);
		snprintf(c->host, sizeof(c->host), "%s", sr.host);
		c->kind = sr.kind;
		memcpy(c->haddr, sr.addr, 16);
		c->port = sr.port;
		decide_and_dial(c);
		return true;
	}
}

/* S_CONNECT: the socket to the upstream is connected, or the next
 * address is tried. */
static bool connect_step(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (c->ut.fd < 0)
		return false;
	if (getsockopt(c->ut.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		/* connected only once the socket is writable */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getpeername(c->ut.fd, (struct sockaddr *)&ss, &sl) < 0) {
			if (errno == ENOTCONN)
				return false;
			err = errno;
		}
	}
	if (err) {
		nx_emit(c, "net.error", strerror(err), c->addr_text);
		start_connect(c); /* the next address, or give up */
		return true;
	}
	c->up_connected = true;
	snprintf(c->up_host, sizeof(c->up_host), "%s", c->host);
	c->up_port = c->port;
	if (c->proto == P_CONNECT || c->proto == P_SOCKS) {
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
		(void)nx_buf_alloc(&c->cout, false);
		if (c->proto == P_CONNECT)
			(void)nx_buf_append(&c->cout, ok, sizeof(ok) - 1);
		else
			nx_socks_reply(c, NX_SOCKS_OK, false);
		/* the client's first bytes decide what the stream is */
		c->state = S_SNIFF;
		c->server_first =
			!bound_host(c) &&
			nx_list_match(&c->np->p->net.server_first, c->host, c->port);
		nx_set_deadline(c, T_HEAD);
	} else if (c->inner && c->cssl) {
		/* an intercepted stream's upstream, dialled again */
		start_upstream_tls(c);
	} else {
		c->state = S_FORWARD;
		nx_set_deadline(c, T_RESPONSE);
	}
	return true;
}

/* S_FORWARD: one HTTP exchange, both directions. */
static bool forward_step(struct conn *c)
{
	ssize_t n;
	bool progress = false, fr;
	ssize_t w;
	/* client → upstream */
	if (!c->req_done && nx_buf_room(&c->uout) > 0 && nx_buf_used(&c->cin) == 0) {
		n = read_client(c);
		if (c->dead)
			return false;
		progress |= n > 0;
	}
	progress |= forward_request_body(c);
	if (c->state != S_FORWARD || c->dead)
		return true;
	w = c->ut.fd >= 0 ? nx_io_write(c, true, &c->uout) : 0;
	if (w < 0 && w != -EAGAIN) {
		/* an answer may already wait in the socket (a 413 sent
		 * before the upstream hung up): read it before deciding */
		if (!c->resp_head_done && nx_buf_used(&c->uin) == 0)
			(void)nx_io_read(c, true, &c->uin);
		if (!c->resp_head_done && nx_buf_used(&c->uin) == 0) {
			nx_upstream_failed(c, 502, NX_SOCKS_FAILURE,
					"the upstream closed the connection");
			return true;
		}
		/* it stopped reading, maybe after answering (a 413):
		 * pass the answer on, then end the connection */
		c->uout.off = c->uout.len = 0;
		c->req_done = true;
		c->keep_alive = false;
		w = 0;
	}
	progress |= w > 0;
	/* upstream → client */
	if (!c->resp_head_done && nx_buf_full_small(&c->uin))
		(void)nx_buf_grow(&c->uin); /* a head larger than a small buffer */
	if (c->ut.fd >= 0 && nx_buf_room(&c->uin) > 0) {
		n = nx_io_read(c, true, &c->uin);
		if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM)) {
			/* what it sent before its end is passed on first */
			nx_close_upstream(c);
			c->up_connected = false;
			c->up_ended = true;
		}
		progress |= n > 0;
	}
	fr = forward_response(c);
	progress |= fr;
	if (c->state != S_FORWARD || c->dead)
		return true;
	/* decided once what it sent is passed on, or can never be (an
	 * unfinished head, with nothing left waiting for the client) */
	if (c->up_ended && (nx_buf_used(&c->uin) == 0 || (!fr && nx_buf_used(&c->cout) == 0)) &&
	    !upstream_end(c))
		return true;
	w = nx_io_write(c, false, &c->cout);
	if (w < 0 && w != -EAGAIN) {
		nx_conn_kill(c);
		return false;
	}
	progress |= w > 0;
	if (progress)
		nx_set_deadline(c, T_RESPONSE);
	if (c->resp_done && c->ut.fd < 0 && (!c->req_done || nx_buf_used(&c->uout))) {
		/* answered early and closed (a 413, say): the rest of the
		 * body has nowhere to go, so the connection ends */
		c->uout.off = c->uout.len = 0;
		c->req_done = true;
		c->keep_alive = false;
	}
	if (exchange_done(c)) {
		/* one exchange done: the next request, or the end */
		if (!c->keep_alive) {
			nx_conn_kill(c);
			return false;
		}
		if (c->resp_close || !c->up_connected || nx_buf_used(&c->uin)) {
			/* bytes past the response's end belong to no
			 * request of ours: that upstream is out of step */
			nx_close_upstream(c);
			c->up_connected = false;
		}
		c->state = S_HTTP_HEAD;
		c->method[0] = '\0';
		nx_set_deadline(c, T_KEEPALIVE);
		nx_conn_buf_free(c, &c->uin);
		if (nx_buf_used(&c->cin))
			http_request(c);
		return true;
	}
	return progress;
}

/* S_TLS_CLIENT: our handshake with the client. */
static bool tls_client_step(struct conn *c)
{
	char why[256];
	int r = nx_tls_handshake(c->cssl, c->ct.fd, why, sizeof(why));
	if (r == 0)
		return false;
	if (r < 0) {
		char hint[400];
		snprintf(hint, sizeof(hint), "%s (a client that refuses the certificate does "
					     "not trust the CA bundle in SSL_CERT_FILE)", why);
		nx_tls_failed(c, "client", hint);
		nx_conn_kill(c);
		return false;
	}
	start_upstream_tls(c);
	return true;
}

/* S_TLS_UPSTREAM: our handshake with the upstream. */
static bool tls_upstream_step(struct conn *c)
{
	char why[256], reason[400];
	int r = nx_tls_handshake(c->ussl, c->ut.fd, why, sizeof(why));
	long vr;
	if (r == 0)
		return false;
	if (r < 0) {
		vr = SSL_get_verify_result(c->ussl);
		if (vr != X509_V_OK)
			snprintf(reason, sizeof(reason), "the upstream's certificate is refused: %s",
				 X509_verify_cert_error_string(vr));
		else
			snprintf(reason, sizeof(reason), "TLS to the upstream failed: %s", why);
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
		return true;
	}
	c->up_connected = true;
	snprintf(c->up_host, sizeof(c->up_host), "%s", c->tun_host);
	c->up_port = c->tun_port;
	if (c->proto == P_HTTP && c->method[0]) {
		/* dialled again for a request that is waiting */
		c->state = S_FORWARD;
		nx_set_deadline(c, T_RESPONSE);
	} else {
		c->state = S_HTTP_HEAD;
		nx_set_deadline(c, T_HEAD);
	}
	return true;
}

/* S_BUF_TUNNEL: an upgraded stream, copied (TLS, or scanned). */
static bool buf_tunnel_step(struct conn *c)
{
	bool dead = false, progress;
	progress = nx_copy_dir(c, false, &c->uout, &c->ceof, &dead);
	if (!dead)
		progress |= c->scan ? copy_down_scanned(c, &dead)
				    : nx_copy_dir(c, true, &c->cout, &c->ueof, &dead);
	if (c->dead)
		return false;
	if (dead || (c->ceof && !nx_buf_used(&c->uout)) || (c->ueof && !nx_buf_used(&c->cout))) {
		nx_emit(c, "net.close", NULL, c->addr_text);
		nx_conn_kill(c);
		return false;
	}
	if (progress)
		nx_set_deadline(c, T_TUNNEL);
	return progress;
}

/* S_TUNNEL: both directions spliced. */
static bool tunnel_step(struct conn *c)
{
	bool dead = false, progress;
	progress = nx_pump_dir(c, 0, &dead);
	if (!dead)
		progress |= nx_pump_dir(c, 1, &dead);
	if (dead || (c->dir[0].shut && c->dir[1].shut)) {
		nx_emit(c, "net.close", NULL, c->addr_text);
		nx_conn_kill(c);
		return false;
	}
	if (progress)
		nx_set_deadline(c, T_TUNNEL);
	return progress;
}

/* S_FLUSH_CLOSE: the answer goes out, then the connection ends. */
static bool flush_close_step(struct conn *c)
{
	ssize_t w = nx_io_write(c, false, &c->cout);
	if (nx_buf_used(&c->cout) == 0 || (w < 0 && w != -EAGAIN)) {
		/* let the client read the answer before the close */
		if (c->cssl && w >= 0)
			(void)SSL_shutdown(c->cssl);
		shutdown(c->ct.fd, SHUT_WR);
		nx_conn_kill(c);
		return false;
	}
	return w > 0;
}

static bool step(struct conn *c)
{
	switch (c->state) {
	case S_FIRST:
	case S_HTTP_HEAD:
	case S_SOCKS_GREET:
	case S_SOCKS_REQ:
		return front_step(c);
	case S_RESOLVE:
		return false;
	case S_CONNECT:
		return connect_step(c);
	case S_FORWARD:
		return forward_step(c);
	case S_SNIFF:
		return sniff_step(c);
	case S_TLS_CLIENT:
		return tls_client_step(c);
	case S_TLS_UPSTREAM:
		return tls_upstream_step(c);
	case S_BUF_TUNNEL:
		return buf_tunnel_step(c);
	case S_TUNNEL:
		return tunnel_step(c);
	case S_FLUSH_CLOSE:
		return flush_close_step(c);
	default:
		nx_conn_kill(c);
		return false;
	}
}

static void conn_pump_steps(struct conn *c);

static void conn_pump(struct conn *c)
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
		    c->state != S_BUF_TUNNEL && c->state != S_TLS_CLIENT &&
		    nx_buf_used(&c->cout)) {
			ssize_t w = nx_io_write(c, false, &c->cout);
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

/* ---- accepting --------------------------------------------------------------------------------- */

static bool expected(struct netproxy *np, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s = (const void *)ss;
	long now = nx_now_ms();

	if (ss->ss_family != AF_INET || s->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return false;
	for (size_t i = 0; i < np->n_expect; i++) {
		if (np->expect[i].port == ntohs(s->sin_port) && now - np->expect[i].when < 30000) {
			np->expect[i] = np->expect[--np->n_expect];
			return true;
		}
	}
	return false;
}

void netproxy_expect(struct netproxy *np, uint16_t local_port)
{
	long now = nx_now_ms();

	/* forget announcements never accepted */
	for (size_t i = 0; i < np->n_expect;)
		if (now - np->expect[i].when >= 30000)
			np->expect[i] = np->expect[--np->n_expect];
		else
			i++;
	if (np->n_expect == sizeof(np->expect) / sizeof(np->expect[0]))
		np->expect[0] = np->expect[--np->n_expect];
	np->expect[np->n_expect].port = local_port;
	np->expect[np->n_expect++].when = now;
}

static void pause_listeners(struct netproxy *np, bool pause)
{
	for (size_t i = 0; i < np->n_listeners; i++) {
		nx_loop_modify(&np->loop, np->listeners[i], pause ? 0 : EPOLLIN);
	}
	np->listeners_paused = pause;
}

static void accept_all(struct netproxy *np, size_t li)
{
	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(np->listeners[li]->fd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_listeners(np, true); /* the sweep resumes them */
			return;
		}
		if (np->verify[li] && !expected(np, &ss)) {
			/* only connections the broker made for the sandbox */
			struct conn tmp = { .np = np, .proto = P_CONNECT };
			nx_emit(&tmp, "net.deny", "a connection to the proxy not made for the sandbox",
			     NULL);
			close(fd);
			continue;
		}
		if (np->n_conns >= MAX_CONNS) {
			np->n_refused_cap++;
			if (np->n_refused_cap == 1) {
				struct conn tmp = { .np = np, .proto = P_CONNECT };
				nx_emit(&tmp, "net.error", "too many connections: refusing new ones",
				     NULL);
			}
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->np = np;
		c->ct = (struct nx_tag){ .kind = NX_TAG_CLIENT, .fd = fd, .ptr = c };
		c->ut = (struct nx_tag){ .kind = NX_TAG_UPSTREAM, .fd = -1, .ptr = c };
		c->dir[0] = c->dir[1] = (struct pipe_dir){ .p = { -1, -1 } };
		c->cin.bg = c->cout.bg = c->uin.bg = c->uout.bg = &np->budget;
		c->state = S_FIRST;
		c->proto = P_CONNECT;
		nx_set_deadline(c, T_HEAD);
		if (nx_loop_watch(&np->loop, &c->ct, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
			close(fd);
			free(c);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		c->next = np->conns;
		if (np->conns)
			np->conns->prev = c;
		np->conns = c;
		np->n_conns++;
		conn_pump(c);
	}
}

/* ---- timeouts ----------------------------------------------------------------------------------- */

static void sweep(struct netproxy *np)
{
	long now = nx_now_ms();
	struct conn *c, *next;

	np->last_sweep = now;
	if (np->listeners_paused)
		pause_listeners(np, false);
	for (c = np->conns; c; c = next) {
		next = c->next;
		if (now < c->deadline)
			continue;
		switch (c->state) {
		case S_RESOLVE:
		case S_CONNECT:
			nx_upstream_failed(c, 504, NX_SOCKS_TTL_EXPIRED, "timed out connecting");
			conn_pump(c);
			break;
		case S_FORWARD:
			if (!c->resp_head_done) {
				nx_upstream_failed(c, 504, NX_SOCKS_FAILURE,
						"timed out waiting for the upstream's answer");
				conn_pump(c);
				break;
			}
			nx_emit(c, "net.error", "idle timeout", c->addr_text);
			nx_conn_kill(c);
			break;
		case S_SNIFF:
			/* never passed unjudged: the client did not say (all of)
			 * what the stream is in time */
			nx_stream_refuse(c, nx_buf_used(&c->cin)
						 ? "the tunnel's first bytes could not be judged in time"
						 : "the client sent nothing into the tunnel in time");
			break;
		case S_TLS_CLIENT:
			nx_tls_failed(c, "client", "timed out");
			nx_conn_kill(c);
			break;
		case S_TLS_UPSTREAM:
			nx_upstream_failed(c, 504, NX_SOCKS_FAILURE, "timed out in TLS to the upstream");
			conn_pump(c);
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
		default:
			nx_conn_kill(c);
			break;
		}
	}
}

/* ---- the loop ------------------------------------------------------------------------------------- */

void netproxy_dispatch(struct netproxy *np)
{
	struct epoll_event evs[NX_LOOP_BATCH];
	int n;

	n = nx_loop_ready(&np->loop, evs);
	for (int i = 0; i < n; i++) {
		struct nx_tag *t = evs[i].data.ptr;
		switch (t->kind) {
		case NX_TAG_LISTEN:
			for (size_t li = 0; li < np->n_listeners; li++)
				if (np->listeners[li] == t)
					accept_all(np, li);
			break;
		case NX_TAG_CLIENT:
		case NX_TAG_UPSTREAM: {
			struct conn *c = t->ptr;
			if (!c->dead)
				conn_pump(c);
			break;
		}
		case NX_TAG_DNS:
			if (t->fd < 0)
				break; /* closed by c-ares earlier in this batch */
			ares_process_fd(np->ares, evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)
							 ? t->fd
							 : ARES_SOCKET_BAD,
					evs[i].events & EPOLLOUT ? t->fd : ARES_SOCKET_BAD);
			break;
		case _NX_TAG_MAX:
		default:
			break;
		}
	}
	if (np->ares_ready)
		ares_process_fd(np->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
	if (nx_now_ms() - np->last_sweep >= 1000)
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
				conn_pump(c);
		}
	}
	nx_loop_bury(&np->loop);
}

int netproxy_timeout(const struct netproxy *np)
{
	long t = -1;

	if (np->n_conns || np->listeners_paused)
		t = 1000;
	if (np->ares_ready) {
		struct timeval tv, *tvp = ares_timeout(np->ares, NULL, &tv);
		if (tvp) {
			long a = tvp->tv_sec * 1000 + tvp->tv_usec / 1000 + 1;
			if (t < 0 || a < t)
				t = a;
		}
	}
	return (int)t;
}

int netproxy_fd(const struct netproxy *np)
{
	return np->loop.epfd;
}

int netproxy_new(const struct policy *p, const struct netproxy_hooks *hooks,
		 struct netproxy **ret)
{
	struct netproxy *np = calloc(1, sizeof(*np));

	if (!np)
		return -ENOMEM;
	np->p = p;
	if (hooks)
		np->hooks = *hooks;
	int r = nx_loop_init(&np->loop);
	if (r < 0) {
		free(np);
		return r;
	}
	np->last_sweep = nx_now_ms();
	nx_budget_init(&np->budget, p ? p->net.memory_max : 0, 2 * MAX_CONNS);
	*ret = np;
	return 0;
}

int netproxy_set_credentials(struct netproxy *np, const struct netproxy_credential *creds,
			     size_t n, struct netproxy_tls *tls)
{
	np->creds = creds;
	np->n_creds = n < NETPROXY_CRED_MAX ? n : NETPROXY_CRED_MAX;
	np->tls = tls;
	if (np->n_creds && !np->scrub) {
		int r = nx_scrub_new(np->creds, np->n_creds, &np->scrub);
		if (r < 0)
			return r;
		np->scratch = malloc(BUF_CAP + nx_scrub_hold_max(np->scrub));
		if (!np->scratch)
			return -ENOMEM;
	}
	return 0;
}

int netproxy_add_listener(struct netproxy *np, int fd, bool verify_peers)
{
	struct nx_tag *t;
	struct rlimit rl;
	int r;

	if (np->n_listeners == sizeof(np->listeners) / sizeof(np->listeners[0]))
		return -ENOSPC;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct nx_tag){ .kind = NX_TAG_LISTEN, .fd = fd };
	r = nx_loop_watch(&np->loop, t, EPOLLIN);
	if (r < 0) {
		free(t);
		return r;
	}
	np->verify[np->n_listeners] = verify_peers;
	np->listeners[np->n_listeners++] = t;
	/* a tunnel holds two sockets and up to four pipe ends */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 8 * MAX_CONNS ? rl.rlim_max : 8 * MAX_CONNS;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
}

int netproxy_listen_socket(uint16_t port, uint16_t *ret_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t sl = sizeof(sin);
	int fd, e;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
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

void netproxy_free(struct netproxy *np)
{
	if (!np)
		return;
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
	for (size_t i = 0; i < np->n_listeners; i++) {
		close(np->listeners[i]->fd);
		free(np->listeners[i]);
	}
	nx_loop_done(&np->loop);
	nx_scrub_free(np->scrub);
	if (np->scratch) {
		explicit_bzero(np->scratch, BUF_CAP + 1);
		free(np->scratch);
	}
	free(np);
}
