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

#include "netproxy.h"
#include "netproxy_internal.h"
#include "loop.h"
#include "tls.h"

#define MAX_CONNS 4096
#define BUF_CAP (64 * 1024)
#define BUF_SMALL 4096 /* past the memory budget */
#define PIPE_CAP (1024 * 1024) /* asked for; the kernel may give less */
#define MAX_ADDRS 16

/* timeouts, milliseconds */
#define T_HEAD 30000	  /* a client that stalls mid-request */
#define T_KEEPALIVE 120000 /* idle between requests on a kept-alive connection */
#define T_CONNECT 10000	  /* DNS and TCP connect together */
#define T_RESPONSE 300000 /* waiting for an upstream's answer */
#define T_TUNNEL 3600000  /* an idle tunnel */

struct buf {
	char *d;
	size_t off, len; /* data is d[off..len) */
	size_t cap;	      /* BUF_CAP or BUF_SMALL, once allocated */
	struct nx_budget *bg; /* charged CAP while allocated, when set */
};

enum state {
	S_FIRST = 1,
	S_HTTP_HEAD,
	S_SOCKS_GREET,
	S_SOCKS_REQ,
	S_RESOLVE,
	S_CONNECT,
	S_FORWARD,
	S_TUNNEL,
	S_FLUSH_CLOSE, /* an answer is on its way, then close */
	S_SNIFF,       /* a tunnel is open upstream: the client's first bytes decide */
	S_TLS_CLIENT,  /* our handshake with the client (interception) */
	S_TLS_UPSTREAM, /* our handshake with the upstream */
	S_BUF_TUNNEL,  /* an upgraded stream inside TLS: copied, not spliced */
};

enum proto {
	P_CONNECT = 1,
	P_HTTP,
	P_SOCKS,
};

struct pipe_dir {
	int p[2];
	size_t in, cap; /* cap: charged to the budget while the pipe is open */
	bool eof, shut;
};

struct dns_req;

struct conn {
	struct nx_deferred defer; /* first: freed whole after the batch */
	struct netproxy *np;
	struct conn *prev, *next;
	struct nx_tag ct, ut; /* client, upstream; fd -1 when closed */
	enum state state;
	enum proto proto;
	bool dead;
	long deadline;

	struct buf cin, cout, uin, uout;

	/* target of the current request */
	char host[NX_HOST_MAX];
	enum nx_host_kind kind;
	uint8_t haddr[16];
	uint16_t port;
	struct nx_verdict v;
	struct {
		int family;
		uint8_t a[16];
	} addrs[MAX_ADDRS];
	int n_addrs, next_addr;
	char addr_text[INET6_ADDRSTRLEN];
	struct dns_req *dns;

	/* the upstream the connection holds (forward proxying reuses it) */
	char up_host[NX_HOST_MAX];
	uint16_t up_port;
	bool up_connected;

	/* forward proxying: one request/response at a time */
	char method[16];
	enum nx_body req_body, resp_body;
	uint64_t req_left, resp_left;
	struct nx_chunk req_chunk, resp_chunk;
	bool req_done, resp_head_done, resp_done, resp_close, is_head, keep_alive, upgrade;
	bool up_ended; /* the upstream ended; what it sent is still being passed on */

	/* tunnels: [0] client → upstream, [1] upstream → client */
	struct pipe_dir dir[2];
	uint64_t bytes_up, bytes_down;

	/* a stream carrying HTTP to one origin (a bound host): requests are
	 * read inside it, in TLS when the client spoke TLS */
	bool inner, secret_seen;
	char tun_host[NX_HOST_MAX];
	uint16_t tun_port;
	SSL *cssl, *ussl;
	bool ceof, ueof; /* buffered tunnel: a side ended */
	bool server_first; /* [network] server_first: the upstream may speak first */

	/* responses scanned for secrets (scrub.c) */
	struct nx_scan *scan;
	bool req_secret; /* the current request carried a secret */
	bool req_bound;	 /* the current request went to a host a secret may go to */
};

struct dns_req {
	struct conn *c; /* NULL once the connection is gone */
};

/* A socket of c-ares's; freed after the batch once c-ares closes it. */
struct dns_tag {
	struct nx_deferred defer; /* first: freed whole */
	struct nx_tag tag;
};

struct blocked {
	char what[NX_HOST_MAX + 8];
	char reason[160];
};

struct netproxy {
	const struct policy *p;
	struct netproxy_hooks hooks;
	struct nx_loop loop;
	struct nx_tag *listeners[4];
	bool verify[4];
	size_t n_listeners;
	bool listeners_paused;

	struct conn *conns;
	size_t n_conns;

	ares_channel ares;
	bool ares_ready;
	bool in_lookup; /* inside ares_getaddrinfo: its callback may run at once */
	struct dns_tag *dns_tags[ARES_GETSOCK_MAXNUM * 4];
	size_t n_dns_tags;

	struct {
		uint16_t port;
		long when;
	} expect[256];
	size_t n_expect;

	const struct netproxy_credential *creds;
	size_t n_creds;
	struct netproxy_tls *tls;
	struct nx_scrub *scrub;	/* the secrets' needles; NULL without credentials */
	char *scratch;		/* a scan's output: BUF_CAP + the most it holds */

	struct nx_budget budget; /* buffers and pipes, [network] memory_max */

	long last_sweep;
	unsigned long n_blocked;
	unsigned hints;		/* 1 << enum block_hint, for the summary */
	char hint_cred[64];	/* the credential of the first credential hint */
	struct blocked blocked[5];
	size_t n_blocked_kept;
	unsigned long n_refused_cap;
};

/* ---- buffers ------------------------------------------------------------ */

static size_t buf_used(const struct buf *b)
{
	return b->len - b->off;
}

/* What a buffer holds once allocated: full size while the sandbox's budget
 * has room, else small.  Nothing waits for memory: past the budget every
 * connection still moves data, through small buffers (and one-page pipes),
 * so the budget bounds what the command's connections hold without letting
 * its stalled ones starve the others. */
static size_t buf_next_cap(const struct buf *b)
{
	if (b->bg && b->bg->used + BUF_CAP > b->bg->max)
		return BUF_SMALL;
	return BUF_CAP;
}

static size_t buf_cap(const struct buf *b)
{
	return b->d ? b->cap : buf_next_cap(b);
}

static size_t buf_room(const struct buf *b)
{
	return buf_cap(b) - buf_used(b);
}

/* Allocates the buffer, charged to the budget.  FULL: a head that must fit
 * whole, only within the budget (-ENOBUFS past it, nothing allocated).
 * Otherwise full size while the budget has room, else the small floor,
 * which every connection gets (counted past the budget). */
static int buf_alloc(struct buf *b, bool full)
{
	size_t cap;

	if (b->d)
		return 0;
	cap = full ? BUF_CAP : buf_next_cap(b);
	if (b->bg && !nx_budget_take(b->bg, cap)) {
		if (full)
			return -ENOBUFS;
		b->bg->used += cap; /* the floor: counted all the same */
	}
	b->d = malloc(cap);
	if (!b->d) {
		if (b->bg)
			nx_budget_give(b->bg, cap);
		return -ENOMEM;
	}
	b->cap = cap;
	b->off = b->len = 0;
	return 0;
}

/* A small buffer grows to full size: a head (or a ClientHello) that did not
 * fit.  Only within the budget: past it the growth is refused (-ENOBUFS,
 * the small buffer kept as it is) and the caller answers the head at once,
 * so that connections stalled mid-head cost no more than the floor each. */
static int buf_grow(struct buf *b)
{
	char *d;

	if (!b->d)
		return buf_alloc(b, true);
	if (b->cap >= BUF_CAP)
		return 0;
	if (b->bg && !nx_budget_take(b->bg, BUF_CAP - b->cap))
		return -ENOBUFS;
	d = malloc(BUF_CAP);
	if (!d) {
		if (b->bg)
			nx_budget_give(b->bg, BUF_CAP - b->cap);
		return -ENOMEM;
	}
	memcpy(d, b->d + b->off, buf_used(b));
	b->len -= b->off;
	b->off = 0;
	explicit_bzero(b->d, b->cap);
	free(b->d);
	b->d = d;
	b->cap = BUF_CAP;
	return 0;
}

/* Full, and small: a head that did not fit grows it. */
static bool buf_full_small(const struct buf *b)
{
	return b->d && b->cap < BUF_CAP && buf_used(b) == b->cap;
}

static int buf_reserve(struct buf *b)
{
	if (!b->d && buf_alloc(b, false) < 0)
		return -ENOMEM;
	if (b->off > 0 && b->len == b->off) {
		b->off = b->len = 0;
	} else if (b->off > 0 && b->len == b->cap) {
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	return 0;
}

static void buf_free(struct buf *b)
{
	struct nx_budget *bg = b->bg;

	if (b->d && bg)
		nx_budget_give(bg, b->cap);
	free(b->d);
	*b = (struct buf){ .bg = bg };
}

/* -ENOBUFS: growing to hold it was refused (the budget is used up);
 * -E2BIG: it does not fit even a full buffer. */
static int buf_append(struct buf *b, const void *data, size_t n)
{
	int r;

	if (buf_reserve(b) < 0)
		return -ENOMEM;
	if (n > buf_room(b) && (r = buf_grow(b)) < 0)
		return r;
	if (n > buf_room(b))
		return -E2BIG;
	if (b->len + n > b->cap) {
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	memcpy(b->d + b->len, data, n);
	b->len += n;
	return 0;
}

static void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

/* Reads what fits: >0 bytes, 0 EOF, -EAGAIN, or -errno. */
static ssize_t buf_read(struct buf *b, int fd)
{
	ssize_t n;

	if (buf_reserve(b) < 0)
		return -ENOMEM;
	if (b->len == b->cap)
		return -EAGAIN; /* full: the caller waits for the other side */
	n = read(fd, b->d + b->len, b->cap - b->len);
	if (n < 0)
		return -errno;
	b->len += (size_t)n;
	return n;
}

/* Writes what the socket takes: bytes written, -EAGAIN, or -errno. */
static ssize_t buf_write(struct buf *b, int fd)
{
	ssize_t n;

	if (buf_used(b) == 0)
		return 0;
	n = send(fd, b->d + b->off, buf_used(b), MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	buf_consume(b, (size_t)n);
	return n;
}

/* ---- TLS on either side ------------------------------------------------
 *
 * An SSL reads from a memory BIO that the socket is read into (bytes the
 * sniffer already took from the socket go in first) and writes straight
 * to the socket.  The functions below behave like buf_read()/buf_write()
 * on a plain side.
 */

static int tls_attach(SSL *ssl, int fd, const void *pre, size_t n)
{
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new_socket(fd, BIO_NOCLOSE);

	if (!rb || !wb) {
		BIO_free(rb);
		BIO_free(wb);
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(rb, -1); /* empty: try again later */
	if (n && BIO_write(rb, pre, (int)n) != (int)n) {
		BIO_free(rb);
		BIO_free(wb);
		return -ENOMEM;
	}
	SSL_set_bio(ssl, rb, wb);
	return 0;
}

/* Moves what the socket has into the SSL's read BIO: >0, 0 at EOF, -errno. */
static ssize_t tls_feed(SSL *ssl, int fd)
{
	char tmp[17 * 1024];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0)
		return -errno;
	if (n == 0)
		BIO_set_mem_eof_return(SSL_get_rbio(ssl), 0);
	else if (BIO_write(SSL_get_rbio(ssl), tmp, (int)n) != (int)n)
		return -ENOMEM;
	return n;
}

static ssize_t io_read(struct conn *c, bool up, struct buf *b)
{
	SSL *ssl = up ? c->ussl : c->cssl;
	int fd = up ? c->ut.fd : c->ct.fd;

	if (!ssl)
		return buf_read(b, fd);
	if (buf_reserve(b) < 0)
		return -ENOMEM;
	if (b->len == b->cap)
		return -EAGAIN;
	for (;;) {
		int r = SSL_read(ssl, b->d + b->len, (int)(b->cap - b->len));
		if (r > 0) {
			b->len += (size_t)r;
			return r;
		}
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ: {
			ssize_t n = tls_feed(ssl, fd);
			if (n >= 0)
				continue; /* at EOF the next SSL_read says so */
			return n;
		}
		case SSL_ERROR_WANT_WRITE:
			return -EAGAIN;
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		default:
			ERR_clear_error();
			return -EPROTO;
		}
	}
}

static ssize_t io_write(struct conn *c, bool up, struct buf *b)
{
	SSL *ssl = up ? c->ussl : c->cssl;
	int fd = up ? c->ut.fd : c->ct.fd;
	int r;

	if (!ssl)
		return buf_write(b, fd);
	if (buf_used(b) == 0)
		return 0;
	r = SSL_write(ssl, b->d + b->off, (int)buf_used(b));
	if (r > 0) {
		buf_consume(b, (size_t)r);
		return r;
	}
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	default:
		ERR_clear_error();
		return -EPIPE;
	}
}

/* Drives a handshake: 1 done, 0 waiting, -errno failed (WHY says why). */
static int tls_handshake(SSL *ssl, int fd, char *why, size_t size)
{
	for (;;) {
		int r = SSL_do_handshake(ssl);
		unsigned long e;
		if (r == 1)
			return 1;
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ: {
			ssize_t n = tls_feed(ssl, fd);
			if (n > 0)
				continue;
			if (n == -EAGAIN)
				return 0;
			snprintf(why, size, "%s",
				 n == 0 ? "the peer closed the connection" : strerror((int)-n));
			return n == 0 ? -ECONNRESET : (int)n;
		}
		case SSL_ERROR_WANT_WRITE:
			return 0;
		default:
			e = ERR_get_error();
			if (e)
				ERR_error_string_n(e, why, size);
			else
				snprintf(why, size, "the peer closed the connection");
			ERR_clear_error();
			return -EPROTO;
		}
	}
}

/* ---- events and the summary ------------------------------------------------ */

static const char *proto_name(const struct conn *c)
{
	if (c->proto == P_HTTP && c->cssl)
		return "https";
	return c->proto == P_SOCKS ? "socks5" : c->proto == P_HTTP ? "http" : "connect";
}

static void emit_full(struct conn *c, const char *event, const char *reason, const char *addr,
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
		.method = c->proto == P_HTTP && c->method[0] ? c->method : NULL,
		.bytes_up = c->bytes_up,
		.bytes_down = c->bytes_down,
		.credential = credential,
		.where = where,
	};

	if (np->hooks.event)
		np->hooks.event(np->hooks.ud, &ev);
}

static void emit(struct conn *c, const char *event, const char *reason, const char *addr)
{
	emit_full(c, event, reason, addr, NULL, NULL);
}

/* What would have let a blocked connection through, named in the exit
 * summary by the policy key that holds it (only the kinds that happened). */
enum block_hint {
	HINT_NONE = 0,
	HINT_ALLOW,	/* a name not in [network] allow */
	HINT_CIDR,	/* an address asked for by number */
	HINT_DENY,	/* a [network] deny rule */
	HINT_PRIVATE,	/* a name that resolves to a private address */
	HINT_CRED_HOSTS, /* a placeholder on its way to a host it is not bound to */
	HINT_PLAINTEXT,	/* a secret on its way into plain HTTP */
	HINT_MEMORY,	/* a head larger than [network] memory_max leaves room for */
	_HINT_MAX,
};

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
	snprintf(what, sizeof(what), "%s:%u", c->host[0] ? c->host : "?", c->port);
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
					"; %lu refused over the limit of %d connections",
					np->n_refused_cap, MAX_CONNS);
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

/* ---- connections -------------------------------------------------------------- */

/* A connection's buffer; cleared first when a secret has passed through
 * the connection (only what goes upstream holds one, but a buffer is
 * reused across requests, so all of it). */
static void conn_buf_free(struct conn *c, struct buf *b)
{
	if (c->secret_seen && b->d)
		explicit_bzero(b->d, b->cap);
	buf_free(b);
}

/* The upstream side, with its TLS when it has one. */
static void close_upstream(struct conn *c)
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

static void conn_kill(struct conn *c)
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
	close_upstream(c);
	close_pipes(c);
	nx_scan_free(c->scan);
	c->scan = NULL;
	conn_buf_free(c, &c->cin);
	conn_buf_free(c, &c->cout);
	conn_buf_free(c, &c->uin);
	conn_buf_free(c, &c->uout);
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

static void set_deadline(struct conn *c, long ms)
{
	c->deadline = nx_deadline_in(ms);
}

static void answer_close(struct conn *c, const char *data, size_t n)
{
	(void)buf_alloc(&c->cout, false);
	(void)buf_append(&c->cout, data, n);
	close_upstream(c);
	c->state = S_FLUSH_CLOSE;
	set_deadline(c, T_HEAD);
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
	(void)buf_alloc(&c->cout, false);
	(void)buf_append(&c->cout, head, (size_t)hl);
	(void)buf_append(&c->cout, body, (size_t)bl);
	close_upstream(c);
	c->state = S_FLUSH_CLOSE;
	set_deadline(c, T_HEAD);
}

static void socks_reply(struct conn *c, enum nx_socks_reply code, bool then_close)
{
	uint8_t r[10] = { 5, (uint8_t)code, 0, 1, 0, 0, 0, 0, 0, 0 };

	if (then_close) {
		answer_close(c, (const char *)r, sizeof(r));
	} else {
		(void)buf_alloc(&c->cout, false);
		(void)buf_append(&c->cout, r, sizeof(r));
	}
}

static const char *status_title(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* Refuses the current request: log, count, answer in the client's protocol
 * (HINT, when given, tells the user what would allow it). */
static void refuse(struct conn *c, const char *reason, const char *addr, const char *hint,
		   enum block_hint kind)
{
	char text[1200];
	const struct policy_item *r = c->v.rule;

	emit(c, "net.deny", reason, addr);
	record_block(c, reason, kind);
	if (r && r->origin.file)
		snprintf(text, sizeof(text), "%s:%u blocked: %s (%s:%u)%s%s", c->host, c->port,
			 reason, r->origin.file, r->origin.line, hint ? "; " : "", hint ? hint : "");
	else
		snprintf(text, sizeof(text), "%s:%u blocked: %s%s%s", c->host, c->port, reason,
			 hint ? "; " : "", hint ? hint : "");
	if (c->proto == P_SOCKS)
		socks_reply(c, NX_SOCKS_NOT_ALLOWED, true);
	else
		http_error(c, 403, "Forbidden", text);
}

/* An upstream that could not be reached or answered badly. */
static void upstream_failed(struct conn *c, int status, enum nx_socks_reply code,
			    const char *why)
{
	char text[700];

	emit(c, "net.error", why, c->addr_text[0] ? c->addr_text : NULL);
	snprintf(text, sizeof(text), "%s:%u: %s", c->host, c->port, why);
	if (c->proto == P_SOCKS)
		socks_reply(c, code, true);
	else
		http_error(c, status, status_title(status), text);
}

static void malformed(struct conn *c, int status, const char *why)
{
	char text[300];

	emit(c, "net.error", why, NULL);
	snprintf(text, sizeof(text), "malformed request: %s", why);
	http_error(c, status, status_title(status), text);
}

/* Why a head that needs a full buffer is refused while the budget is used
 * up (WHAT: which head). */
static void budget_reason(const struct conn *c, const char *what, char *buf, size_t size)
{
	snprintf(buf, size,
		 "%s over %d bytes with the memory budget used up ([network] memory_max = %llu)",
		 what, BUF_SMALL, (unsigned long long)c->np->budget.max);
}

/* A client's head (request, SOCKS request, a tunnel's first bytes) that
 * cannot get a full buffer: answered at once in the client's protocol,
 * never allocated, so that connections stalled mid-head hold no more than
 * the small floor each. */
static void head_refuse(struct conn *c, const char *what)
{
	char reason[400], text[500];

	budget_reason(c, what, reason, sizeof(reason));
	emit(c, "net.deny", reason, c->addr_text[0] ? c->addr_text : NULL);
	record_block(c, reason, HINT_MEMORY);
	if (c->state == S_SNIFF) {
		conn_kill(c); /* a granted stream: nothing to answer in */
	} else if (c->proto == P_SOCKS) {
		socks_reply(c, NX_SOCKS_FAILURE, true);
	} else {
		snprintf(text, sizeof(text), "%s; a larger memory_max allows more", reason);
		http_error(c, 431, status_title(431), text);
	}
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
static void cred_refuse(struct conn *c, const struct nx_cred *cr, enum nx_cred_where where,
			bool unsafe);

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
			refuse(c, reason, a,
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
		upstream_failed(c, 502, NX_SOCKS_HOST_UNREACHABLE, why);
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
			cred_refuse(c, cr, NX_CRED_HOST, false);
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
		refuse(c, c->v.reason, NULL, hint, kind);
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
		upstream_failed(c, 502, NX_SOCKS_FAILURE, "the resolver could not start");
		return;
	}
	struct dns_req *req = calloc(1, sizeof(*req));
	if (!req) {
		upstream_failed(c, 502, NX_SOCKS_FAILURE, "out of memory");
		return;
	}
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC,
					     .ai_socktype = SOCK_STREAM,
					     .ai_flags = ARES_AI_NOSORT };
	req->c = c;
	c->dns = req;
	c->state = S_RESOLVE;
	set_deadline(c, T_CONNECT);
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
		set_deadline(c, T_CONNECT);
	}
	close_upstream(c);
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
		emit(c, "net.allow", c->v.reason, c->addr_text);
		return;
	}
	upstream_failed(c, 502, NX_SOCKS_REFUSED, "connection refused or unreachable");
}

/* ---- secrets in responses (scrub.c) ----------------------------------------------------
 *
 * With credentials, every response the proxy reads on its way to the client
 * is scanned: heads have a secret replaced by its placeholder, bodies and
 * upgraded streams are cut when one comes (their framing has gone out
 * already), and a compressed answer to a request that carried a secret,
 * which could hide one, is refused.
 */

/* A secret in a body or stream: the connection ends, nothing of it sent. */
static void reflect_cut(struct conn *c, int err)
{
	const struct nx_cred *cr = c->scan ? nx_scan_hit(c->scan) : NULL;
	char reason[NX_HOST_MAX + 300];

	if (cr) {
		snprintf(reason, sizeof(reason),
			 "the secret of credential %s came back from %s: the response is cut",
			 cr->name, c->host);
		emit_full(c, "cred.reflect", reason, c->addr_text[0] ? c->addr_text : NULL,
			  cr->name, "body");
	} else {
		snprintf(reason, sizeof(reason), "a response from %s that cannot be checked for "
						 "secrets (%s): cut",
			 c->host, err == -ENOMEM ? "out of memory" : "unreadable framing");
		emit(c, "net.error", reason, c->addr_text[0] ? c->addr_text : NULL);
	}
	record_block(c, reason, HINT_NONE);
	/* a reset, not a close: a body that lasts until the close (or a TLS
	 * stream's close_notify) must not look complete when it is cut */
	if (c->ct.fd >= 0)
		(void)setsockopt(c->ct.fd, SOL_SOCKET, SO_LINGER,
				 &(struct linger){ .l_onoff = 1, .l_linger = 0 }, sizeof(struct linger));
	conn_kill(c);
}

/* A body or stream of FRAME begins: 0, or -1 when the connection ended. */
static int scan_begin(struct conn *c, enum nx_frame frame)
{
	if (!c->np->scrub)
		return 0;
	if (!c->scan && nx_scan_new(c->np->scrub, &c->scan) < 0) {
		reflect_cut(c, -ENOMEM);
		return -1;
	}
	nx_scan_reset(c->scan, frame);
	return 0;
}

/* Room in cout for upstream bytes: what a scan may hold back must fit too. */
static size_t down_room(const struct conn *c)
{
	size_t room = buf_room(&c->cout), hold = c->scan ? nx_scrub_hold_max(c->np->scrub) : 0;

	return room > hold ? room - hold : 0;
}

/* Upstream bytes on their way to the client (cout reserved, N within
 * down_room()).  False when the connection ended. */
static bool to_client(struct conn *c, const char *p, size_t n)
{
	size_t out;
	int r;

	if (!c->scan) {
		(void)buf_append(&c->cout, p, n);
		return true;
	}
	r = nx_scan_feed(c->scan, p, n, c->np->scratch, &out);
	if (r < 0) {
		reflect_cut(c, r);
		return false;
	}
	(void)buf_append(&c->cout, c->np->scratch, out);
	return true;
}

/* The body or stream ended: what the scan held back goes out. */
static void scan_end(struct conn *c)
{
	if (c->scan && nx_scan_held(c->scan))
		(void)buf_append(&c->cout, c->np->scratch, nx_scan_flush(c->scan, c->np->scratch));
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

	if (buf_reserve(&c->cout) < 0)
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
				upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
				return -1;
			}
		int sr = nx_scrub_head(c->np->scrub, head, r->head_len, &clean, &len, &hits);
		if (sr < 0) {
			reflect_cut(c, sr);
			return -1;
		}
		if (sr == 0)
			len = r->head_len;
		else if (len > BUF_CAP) {
			free(clean);
			upstream_failed(c, 502, NX_SOCKS_FAILURE,
					"a response head too large once its secrets are replaced");
			return -1;
		}
	}
	if (buf_room(&c->cout) < len && buf_cap(&c->cout) < BUF_CAP &&
	    buf_grow(&c->cout) == -ENOBUFS && buf_used(&c->cout) == 0) {
		char reason[400];
		free(clean);
		budget_reason(c, "a response head", reason, sizeof(reason));
		upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
		return -1;
	}
	if (buf_room(&c->cout) < len) {
		free(clean);
		return 0; /* wait for the client to take what it has */
	}
	(void)buf_append(&c->cout, clean ? clean : head, len);
	for (size_t k = 0; hits && k < c->np->n_creds; k++)
		if (hits & (1u << k)) {
			char reason[NX_HOST_MAX + 200];
			snprintf(reason, sizeof(reason),
				 "the secret of credential %s came back from %s in a response head: "
				 "replaced by the placeholder",
				 c->np->creds[k].name, c->host);
			emit_full(c, "cred.reflect", reason, c->addr_text[0] ? c->addr_text : NULL,
				  c->np->creds[k].name, "head");
		}
	free(clean);
	buf_consume(&c->uin, r->head_len);
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

	if (!c->ueof && buf_room(&c->uin) > 0) {
		n = io_read(c, true, &c->uin);
		if (n == 0)
			c->ueof = true;
		else if (n < 0 && n != -EAGAIN && n != -ENOMEM)
			*dead = true;
		progress |= n >= 0;
	}
	if (buf_used(&c->uin) && buf_reserve(&c->cout) == 0) {
		size_t take = buf_used(&c->uin) < down_room(c) ? buf_used(&c->uin) : down_room(c);
		if (take) {
			if (!to_client(c, c->uin.d + c->uin.off, take))
				return false;
			buf_consume(&c->uin, take);
			progress = true;
		}
	}
	if (c->ueof && !buf_used(&c->uin))
		scan_end(c);
	n = io_write(c, false, &c->cout);
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
			if (bs[i]->d && buf_used(bs[i]) == 0)
				conn_buf_free(c, bs[i]);
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

/* A placeholder on its way to a host it is not bound to: the request is
 * refused, in the client's protocol, and logged as an exfiltration attempt. */
static void cred_refuse(struct conn *c, const struct nx_cred *cr, enum nx_cred_where where,
			bool unsafe)
{
	char reason[NX_HOST_MAX + 300], text[2 * NX_HOST_MAX + 700];

	if (unsafe)
		snprintf(reason, sizeof(reason),
			 "the secret of credential %s cannot stand in a URL as it is", cr->name);
	else if (where == NX_CRED_HOST)
		snprintf(reason, sizeof(reason),
			 "the placeholder of credential %s in a host name", cr->name);
	else
		snprintf(reason, sizeof(reason),
			 "the placeholder of credential %s sent to %s, which it is not bound to",
			 cr->name, c->host);
	emit_full(c, "cred.block", reason, NULL, cr->name, nx_cred_where_name(where));
	/* the summary's hint: only a host it is not bound to is a matter of
	 * [credential] hosts; a placeholder in a host name, or a secret that
	 * cannot stand in a URL, is no grant's to widen */
	if (!unsafe && where != NX_CRED_HOST)
		record_cred_hint(c->np, cr->name);
	record_block(c, reason, unsafe || where == NX_CRED_HOST ? HINT_NONE : HINT_CRED_HOSTS);
	snprintf(text, sizeof(text), "%s:%u blocked: %s; [credential %s] hosts = lists where it may go",
		 c->host, c->port, reason, cr->name);
	if (c->state == S_SNIFF)
		conn_kill(c); /* a granted stream: nothing to answer in */
	else if (c->proto == P_SOCKS)
		socks_reply(c, NX_SOCKS_NOT_ALLOWED, true);
	else
		http_error(c, 403, "Forbidden", text);
}

/* A secret on its way into plain HTTP without its section's consent. */
static void plain_refuse(struct conn *c, const struct nx_cred *cr)
{
	char reason[NX_HOST_MAX + 200], text[2 * NX_HOST_MAX + 600];

	snprintf(reason, sizeof(reason),
		 "the secret of credential %s would go to %s in plain HTTP", cr->name, c->host);
	emit_full(c, "cred.block", reason, NULL, cr->name, "plaintext");
	record_cred_hint(c->np, cr->name);
	record_block(c, reason, HINT_PLAINTEXT);
	snprintf(text, sizeof(text),
		 "%s:%u blocked: %s; use https://, or set plaintext = yes in [credential %s] "
		 "(for a loopback or internal host)",
		 c->host, c->port, reason, cr->name);
	http_error(c, 403, "Forbidden", text);
}

/* Reports what a request's rewrite put in. */
static void cred_report(struct conn *c, const struct nx_cred_ctx *x)
{
	for (int w = 0; w < _NX_CRED_WHERE_MAX; w++)
		for (size_t k = 0; k < x->n; k++)
			if (x->injected[w] & (1u << k))
				emit_full(c, "cred.inject", NULL, NULL, x->creds[k].name,
					  nx_cred_where_name((enum nx_cred_where)w));
}

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
	ret = buf_append(&c->uout, line, off);
	if (ret == 0 && c->req_secret) {
		c->secret_seen = true;
		cred_report(c, &x);
	}
out:
	explicit_bzero(line, off);
	if (field)
		explicit_bzero(field, ret < 0 ? cap : fmax); /* a refused rewrite may have begun */
	free(line);
	free(field);
	if (ret == -EACCES && plain_refused)
		plain_refuse(c, plain_refused);
	else if (ret == -EACCES)
		cred_refuse(c, x.blocked, x.blocked_where, x.unsafe);
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
		conn_kill(c);
		return;
	}
	if (c->inner)
		pr = nx_parse_origin_request(c->cin.d + c->cin.off, buf_used(&c->cin),
					     c->cssl ? 443 : 80, r, &status, &why);
	else
		pr = nx_parse_request(c->cin.d + c->cin.off, buf_used(&c->cin), r, &status, &why);
	if (pr == NX_PARSE_MORE) {
		free(r);
		return;
	}
	if (pr == NX_PARSE_ERROR) {
		free(r);
		c->proto = P_HTTP;
		malformed(c, status, why);
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
			refuse(c, reason, NULL, "send each host its own CONNECT", HINT_NONE);
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
		buf_consume(&c->cin, r->head_len);
		free(r);
		if (cr) {
			cred_refuse(c, cr, NX_CRED_HEADER, false);
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
	if (buf_reserve(&c->uout) < 0) {
		free(r);
		return; /* over the budget: the head waits in cin, tried again later */
	}
	br = build_upstream_head(c, r);
	if (br < 0) {
		free(r);
		if (br == -ENOBUFS)
			head_refuse(c, "a request head as forwarded");
		else if (br != -EACCES)
			malformed(c, 431, "request head too large to forward");
		return;
	}
	buf_consume(&c->cin, r->head_len);
	free(r);

	/* same upstream as the previous request on this connection: reuse it */
	if (c->up_connected && c->ut.fd >= 0 && strcmp(c->up_host, c->host) == 0 &&
	    c->up_port == c->port) {
		c->state = S_FORWARD;
		set_deadline(c, T_RESPONSE);
		return;
	}
	close_upstream(c);
	c->up_connected = false;
	decide_and_dial(c);
}

/* Moves request body bytes from cin to uout, as far as the framing goes. */
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
	size_t avail = buf_used(&c->cin), room = buf_room(&c->uout), take;
	long n;

	if (c->req_done || avail == 0 || room == 0 || buf_reserve(&c->uout) < 0)
		return false;
	n = body_take(c->req_body, &c->req_left, &c->req_chunk, c->cin.d + c->cin.off,
		      avail < room ? avail : room, &c->req_done);
	if (n < 0) {
		malformed(c, 400, "malformed chunked request body");
		return true;
	}
	take = (size_t)n;
	(void)buf_append(&c->uout, c->cin.d + c->cin.off, take);
	buf_consume(&c->cin, take);
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
		upstream_failed(c, 502, NX_SOCKS_FAILURE, "the upstream closed without an answer");
		return false;
	}
	if (c->resp_body == NX_BODY_CLOSE) {
		c->resp_done = true;
		c->keep_alive = false;
		scan_end(c); /* the end: a partial match held back is no match */
	} else if (!c->resp_done) {
		/* cut short: the client must not take it as whole */
		emit(c, "net.error", "the upstream closed mid-response", c->addr_text);
		answer_close(c, "", 0);
		return false;
	}
	return true;
}

static bool exchange_done(const struct conn *c)
{
	return c->req_done && buf_used(&c->uout) == 0 && c->resp_done &&
	       buf_used(&c->cout) == 0;
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
			if (buf_used(&c->uin) == 0)
				return progress;
			r = malloc(sizeof(*r));
			if (!r) {
				conn_kill(c);
				return true;
			}
			pr = nx_parse_response(c->uin.d + c->uin.off, buf_used(&c->uin), c->is_head, r,
					       &why);
			if (pr == NX_PARSE_MORE) {
				free(r);
				/* a head that does not fit a small buffer, which
				 * may grow only within the budget */
				if (buf_full_small(&c->uin)) {
					char reason[400];
					int gr = buf_grow(&c->uin);
					if (gr == 0)
						return true; /* read on */
					if (gr != -ENOBUFS)
						return progress;
					budget_reason(c, "a response head", reason, sizeof(reason));
					upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
					return true;
				}
				return progress;
			}
			if (pr == NX_PARSE_ERROR) {
				free(r);
				upstream_failed(c, 502, NX_SOCKS_FAILURE, why);
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
					upstream_failed(c, 502, NX_SOCKS_FAILURE,
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
		if (buf_used(&c->uin) && buf_reserve(&c->cout) < 0)
			return progress; /* over the budget: tried again later */
		size_t avail = buf_used(&c->uin), room = down_room(c), take;
		if (avail == 0 || room == 0)
			return progress;
		long n = body_take(c->resp_body, &c->resp_left, &c->resp_chunk,
				   c->uin.d + c->uin.off, avail < room ? avail : room, &c->resp_done);
		if (n < 0) {
			emit(c, "net.error", "malformed chunked response", c->addr_text);
			conn_kill(c);
			return true;
		}
		take = (size_t)n;
		if (!to_client(c, c->uin.d + c->uin.off, take))
			return true;
		buf_consume(&c->uin, take);
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
	set_deadline(c, T_TUNNEL);
	if (buf_used(&c->uin) > buf_room(&c->cout) || buf_used(&c->cin) > buf_room(&c->uout)) {
		(void)buf_grow(&c->cout);
		(void)buf_grow(&c->uout);
	}
	/* what is buffered goes first (early data, an upgraded stream's start);
	 * bytes that do not fit would be lost from the middle of a stream, so
	 * the connection ends instead */
	if ((buf_used(&c->cin) &&
	     buf_append(&c->uout, c->cin.d + c->cin.off, buf_used(&c->cin)) < 0) ||
	    (buf_used(&c->uin) && (c->state == S_BUF_TUNNEL && c->scan
					   ? buf_reserve(&c->cout) < 0 ||
						     buf_used(&c->uin) > down_room(c) ||
						     !to_client(c, c->uin.d + c->uin.off,
								buf_used(&c->uin))
					   : buf_append(&c->cout, c->uin.d + c->uin.off,
							buf_used(&c->uin)) < 0))) {
		if (c->dead)
			return; /* a secret in it: cut */
		emit(c, "net.error", "no room for the tunnel's first bytes", c->addr_text);
		conn_kill(c);
		return;
	}
	c->bytes_up += buf_used(&c->cin);
	c->bytes_down += buf_used(&c->uin);
	conn_buf_free(c, &c->cin);
	conn_buf_free(c, &c->uin);
}

/* One direction of a tunnel: pending bytes, then splice through a pipe.
 * Returns true on progress; sets *dead on an error that ends the tunnel. */
static bool pump_dir(struct conn *c, int d, bool *dead)
{
	struct pipe_dir *pd = &c->dir[d];
	int from = d == 0 ? c->ct.fd : c->ut.fd, to = d == 0 ? c->ut.fd : c->ct.fd;
	struct buf *pending = d == 0 ? &c->uout : &c->cout;
	uint64_t *count = d == 0 ? &c->bytes_up : &c->bytes_down;
	bool progress = false;
	ssize_t n;

	if (buf_used(pending)) {
		n = buf_write(pending, to);
		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			*dead = true;
			return true;
		}
		if (buf_used(pending))
			return n > 0;
		conn_buf_free(c, pending); /* a tunnel holds no buffer once drained */
		progress = true;
	}
	if (pd->p[0] < 0 && !pd->eof) {
		/* the pipe is made on first data: an idle tunnel holds none */
		char peek;
		n = recv(from, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0) {
			pd->eof = true;
		} else if (n < 0 && errno != EAGAIN) {
			*dead = true;
			return true;
		} else if (n < 0) {
			return progress;
		}
	}
	if (pd->p[0] < 0 && !pd->eof) {
		/* a larger pipe
		 * means fewer wake-ups per megabyte (its pages are only taken
		 * while data sits in it) */
		int r = nx_budget_pipe(&c->np->budget, PIPE_CAP, pd->p, &pd->cap);
		if (r == -ENOBUFS) {
			pd->p[0] = pd->p[1] = -1;
			return progress; /* over the budget: tried again when memory comes back */
		}
		if (r < 0) {
			pd->p[0] = pd->p[1] = -1;
			*dead = true;
			return true;
		}
	}
	for (;;) {
		bool moved = false;
		if (pd->p[0] < 0)
			break; /* EOF before any data */
		if (pd->in > 0) {
			n = splice(pd->p[0], NULL, to, NULL, pd->in, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				pd->in -= (size_t)n;
				*count += (uint64_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN) {
				*dead = true;
				return true;
			} else {
				break; /* the receiver is full: wait for EPOLLOUT */
			}
		}
		if (!pd->eof && pd->in < pd->cap) {
			n = splice(from, NULL, pd->p[1], NULL, pd->cap - pd->in,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				pd->in += (size_t)n;
				moved = true;
			} else if (n == 0) {
				pd->eof = true;
				moved = true;
			} else if (errno != EAGAIN) {
				*dead = true;
				return true;
			}
		}
		if (!moved)
			break;
		progress = true;
	}
	if (pd->eof && pd->in == 0 && !pd->shut) {
		shutdown(to, SHUT_WR);
		pd->shut = true;
		progress = true;
	}
	return progress;
}

/* ---- interception ----------------------------------------------------------------------------- */

static bool bound_host(const struct conn *c)
{
	for (size_t k = 0; k < c->np->n_creds; k++)
		if (nx_cred_bound(&c->np->creds[k], c->host, c->port))
			return true;
	return false;
}

/* A stream refused after the tunnel was granted: nothing to answer in. */
static void stream_refuse(struct conn *c, const char *reason)
{
	emit(c, "net.deny", reason, c->addr_text[0] ? c->addr_text : NULL);
	record_block(c, reason, HINT_NONE);
	conn_kill(c);
}

static void tls_failed(struct conn *c, const char *who, const char *why)
{
	char reason[600];

	snprintf(reason, sizeof(reason), "TLS handshake with the %s failed: %s", who, why);
	emit(c, "net.error", reason, c->addr_text[0] ? c->addr_text : NULL);
}

/* The client's side is ours: a certificate for the tunnel's host. */
static void start_intercept(struct conn *c)
{
	c->cssl = nx_tls_server(c->np->tls, c->host);
	if (!c->cssl ||
	    tls_attach(c->cssl, c->ct.fd, c->cin.d + c->cin.off, buf_used(&c->cin)) < 0) {
		tls_failed(c, "client", nx_tls_error(c->np->tls));
		conn_kill(c);
		return;
	}
	conn_buf_free(c, &c->cin);
	c->inner = true;
	snprintf(c->tun_host, sizeof(c->tun_host), "%s", c->host);
	c->tun_port = c->port;
	c->state = S_TLS_CLIENT;
	set_deadline(c, T_HEAD);
}

/* The upstream's side: verified against the system roots and upstream_ca. */
static void start_upstream_tls(struct conn *c)
{
	c->ussl = nx_tls_client(c->np->tls, c->tun_host);
	if (!c->ussl || tls_attach(c->ussl, c->ut.fd, NULL, 0) < 0) {
		upstream_failed(c, 502, NX_SOCKS_FAILURE, nx_tls_error(c->np->tls));
		return;
	}
	c->state = S_TLS_UPSTREAM;
	set_deadline(c, T_CONNECT);
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
	set_deadline(c, T_HEAD);
}

/* The client's first bytes are in cin: decide what the stream is, and act.
 * Returns false while more bytes are needed. */
static bool sniff(struct conn *c)
{
	const char *p = c->cin.d + c->cin.off;
	size_t n = buf_used(&c->cin);
	char sni[NX_HOST_MAX], reason[2 * NX_HOST_MAX + 160];
	enum nx_stream k = nx_first_bytes((const uint8_t *)p, n, n == BUF_CAP, sni);

	switch (k) {
	case NX_STREAM_MORE:
		return false;
	case NX_STREAM_TLS_BAD:
		stream_refuse(c, "a malformed TLS ClientHello");
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
				cred_refuse(c, cr, NX_CRED_STREAM, false);
				return true;
			}
		}
		/* fronting: a TLS name other than the host the tunnel was
		 * granted for is refused */
		if (sni[0] && (nx_host_normalize(sni, strlen(sni), norm, a, &why) == NX_HOST_INVALID ||
			       strcmp(norm, c->host) != 0)) {
			snprintf(reason, sizeof(reason), "TLS names %s inside a tunnel to %s", sni,
				 c->host);
			stream_refuse(c, reason);
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
			stream_refuse(c, reason);
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
		stream_refuse(c, reason);
		return true;
	}
	if (c->np->n_creds) {
		/* the first bytes of an opaque stream must not carry a placeholder */
		const struct nx_cred *cr = nx_cred_find(c->np->creds, c->np->n_creds, p, n);
		if (cr) {
			cred_refuse(c, cr, NX_CRED_STREAM, false);
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
		if (buf_room(&c->cout) > 0) {
			n = buf_read(&c->cout, c->ut.fd);
			if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM)) {
				emit(c, "net.error", "the upstream closed before the client spoke",
				     c->addr_text);
				conn_kill(c);
				return false;
			}
			if (n > 0) {
				c->bytes_down += (uint64_t)n;
				progress = true;
			}
		}
		n = buf_write(&c->cout, c->ct.fd);
		if (n < 0 && n != -EAGAIN) {
			conn_kill(c);
			return false;
		}
		progress |= n > 0;
	} else if (buf_used(&c->cout)) {
		return false; /* the 200 or SOCKS reply goes out first */
	}
	/* a ClientHello (or a first line) larger than a small buffer */
	if (buf_full_small(&c->cin) && buf_grow(&c->cin) == -ENOBUFS) {
		head_refuse(c, "a tunnel's first bytes");
		return false;
	}
	n = read_client(c);
	if (c->dead)
		return false;
	if (buf_used(&c->cin) == 0) {
		char peek;
		ssize_t u;
		if (c->server_first)
			return progress;
		/* what the upstream says waits in its socket; its end ends the
		 * tunnel, unjudged streams are never passed */
		u = recv(c->ut.fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (u == 0 || (u < 0 && errno != EAGAIN && errno != EINTR)) {
			emit(c, "net.error", u == 0 ? "the upstream closed before the client spoke"
						    : "the upstream failed before the client spoke",
			     c->addr_text);
			conn_kill(c);
		}
		return false;
	}
	return sniff(c) || n > 0 || progress;
}

/* An upgraded stream inside TLS: one direction copied through BUF. */
static bool copy_dir(struct conn *c, bool from_up, struct buf *b, bool *eof, bool *dead)
{
	bool progress = false;
	ssize_t n;

	if (!*eof) {
		n = io_read(c, from_up, b);
		if (n == 0)
			*eof = true;
		else if (n < 0 && n != -EAGAIN && n != -ENOMEM)
			*dead = true;
		progress |= n >= 0;
	}
	n = io_write(c, !from_up, b);
	if (n < 0 && n != -EAGAIN)
		*dead = true;
	if (n > 0) {
		*(from_up ? &c->bytes_down : &c->bytes_up) += (uint64_t)n;
		progress = true;
	}
	return progress;
}

/* ---- the pump ------------------------------------------------------------------------------- */

static ssize_t read_client(struct conn *c)
{
	ssize_t n = io_read(c, false, &c->cin);

	if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM))
		conn_kill(c);
	return n;
}

static bool step(struct conn *c)
{
	ssize_t n;

	switch (c->state) {
	case S_FIRST:
	case S_HTTP_HEAD:
	case S_SOCKS_GREET:
	case S_SOCKS_REQ:
		/* a head larger than a small buffer (the buffer is full, and
		 * what is in it was judged incomplete) */
		if (buf_full_small(&c->cin) && buf_grow(&c->cin) == -ENOBUFS) {
			head_refuse(c, c->proto == P_SOCKS ? "a SOCKS5 request" : "a request head");
			return true;
		}
		n = read_client(c);
		if (c->dead)
			return false;
		if (buf_used(&c->cin) == 0)
			return false;
		if (c->state == S_FIRST) {
			if ((uint8_t)c->cin.d[c->cin.off] == 5) {
				c->state = S_SOCKS_GREET;
				c->proto = P_SOCKS;
			} else if ((uint8_t)c->cin.d[c->cin.off] == 4) {
				emit(c, "net.error", "SOCKS4 is not supported (use socks5h://)", NULL);
				answer_close(c, "\0\x5b\0\0\0\0\0\0", 8);
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
						      buf_used(&c->cin), &noauth);
			if (used == 0)
				return n > 0;
			if (used < 0 || !noauth) {
				emit(c, "net.error",
				     used < 0 ? "malformed SOCKS5 greeting"
					      : "SOCKS5 client offers no method without a password",
				     NULL);
				answer_close(c, "\x05\xff", 2);
				return true;
			}
			buf_consume(&c->cin, (size_t)used);
			(void)buf_append(&c->cout, "\x05\x00", 2);
			c->state = S_SOCKS_REQ;
			return true;
		}
		/* S_SOCKS_REQ */
		{
			struct nx_socks_request sr;
			enum nx_socks_reply code;
			const char *why;
			long used = nx_socks_request((const uint8_t *)c->cin.d + c->cin.off,
						     buf_used(&c->cin), &sr, &code, &why);
			if (used == 0)
				return n > 0;
			if (used < 0) {
				snprintf(c->host, sizeof(c->host), "%s", sr.host);
				c->port = sr.port;
				emit(c, "net.error", why, NULL);
				socks_reply(c, code, true);
				return true;
			}
			buf_consume(&c->cin, (size_t)used);
			snprintf(c->host, sizeof(c->host), "%s", sr.host);
			c->kind = sr.kind;
			memcpy(c->haddr, sr.addr, 16);
			c->port = sr.port;
			decide_and_dial(c);
			return true;
		}
	case S_RESOLVE:
		return false;
	case S_CONNECT: {
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
			emit(c, "net.error", strerror(err), c->addr_text);
			start_connect(c); /* the next address, or give up */
			return true;
		}
		c->up_connected = true;
		snprintf(c->up_host, sizeof(c->up_host), "%s", c->host);
		c->up_port = c->port;
		if (c->proto == P_CONNECT || c->proto == P_SOCKS) {
			static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
			(void)buf_alloc(&c->cout, false);
			if (c->proto == P_CONNECT)
				(void)buf_append(&c->cout, ok, sizeof(ok) - 1);
			else
				socks_reply(c, NX_SOCKS_OK, false);
			/* the client's first bytes decide what the stream is */
			c->state = S_SNIFF;
			c->server_first =
				!bound_host(c) &&
				nx_list_match(&c->np->p->net.server_first, c->host, c->port);
			set_deadline(c, T_HEAD);
		} else if (c->inner && c->cssl) {
			/* an intercepted stream's upstream, dialled again */
			start_upstream_tls(c);
		} else {
			c->state = S_FORWARD;
			set_deadline(c, T_RESPONSE);
		}
		return true;
	}
	case S_FORWARD: {
		bool progress = false, fr;
		ssize_t w;
		/* client → upstream */
		if (!c->req_done && buf_room(&c->uout) > 0 && buf_used(&c->cin) == 0) {
			n = read_client(c);
			if (c->dead)
				return false;
			progress |= n > 0;
		}
		progress |= forward_request_body(c);
		if (c->state != S_FORWARD || c->dead)
			return true;
		w = c->ut.fd >= 0 ? io_write(c, true, &c->uout) : 0;
		if (w < 0 && w != -EAGAIN) {
			/* an answer may already wait in the socket (a 413 sent
			 * before the upstream hung up): read it before deciding */
			if (!c->resp_head_done && buf_used(&c->uin) == 0)
				(void)io_read(c, true, &c->uin);
			if (!c->resp_head_done && buf_used(&c->uin) == 0) {
				upstream_failed(c, 502, NX_SOCKS_FAILURE,
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
		if (!c->resp_head_done && buf_full_small(&c->uin))
			(void)buf_grow(&c->uin); /* a head larger than a small buffer */
		if (c->ut.fd >= 0 && buf_room(&c->uin) > 0) {
			n = io_read(c, true, &c->uin);
			if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM)) {
				/* what it sent before its end is passed on first */
				close_upstream(c);
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
		if (c->up_ended && (buf_used(&c->uin) == 0 || (!fr && buf_used(&c->cout) == 0)) &&
		    !upstream_end(c))
			return true;
		w = io_write(c, false, &c->cout);
		if (w < 0 && w != -EAGAIN) {
			conn_kill(c);
			return false;
		}
		progress |= w > 0;
		if (progress)
			set_deadline(c, T_RESPONSE);
		if (c->resp_done && c->ut.fd < 0 && (!c->req_done || buf_used(&c->uout))) {
			/* answered early and closed (a 413, say): the rest of the
			 * body has nowhere to go, so the connection ends */
			c->uout.off = c->uout.len = 0;
			c->req_done = true;
			c->keep_alive = false;
		}
		if (exchange_done(c)) {
			/* one exchange done: the next request, or the end */
			if (!c->keep_alive) {
				conn_kill(c);
				return false;
			}
			if (c->resp_close || !c->up_connected || buf_used(&c->uin)) {
				/* bytes past the response's end belong to no
				 * request of ours: that upstream is out of step */
				close_upstream(c);
				c->up_connected = false;
			}
			c->state = S_HTTP_HEAD;
			c->method[0] = '\0';
			set_deadline(c, T_KEEPALIVE);
			conn_buf_free(c, &c->uin);
			if (buf_used(&c->cin))
				http_request(c);
			return true;
		}
		return progress;
	}
	case S_SNIFF:
		return sniff_step(c);
	case S_TLS_CLIENT: {
		char why[256];
		int r = tls_handshake(c->cssl, c->ct.fd, why, sizeof(why));
		if (r == 0)
			return false;
		if (r < 0) {
			char hint[400];
			snprintf(hint, sizeof(hint), "%s (a client that refuses the certificate does "
						     "not trust the CA bundle in SSL_CERT_FILE)", why);
			tls_failed(c, "client", hint);
			conn_kill(c);
			return false;
		}
		start_upstream_tls(c);
		return true;
	}
	case S_TLS_UPSTREAM: {
		char why[256], reason[400];
		int r = tls_handshake(c->ussl, c->ut.fd, why, sizeof(why));
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
			upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
			return true;
		}
		c->up_connected = true;
		snprintf(c->up_host, sizeof(c->up_host), "%s", c->tun_host);
		c->up_port = c->tun_port;
		if (c->proto == P_HTTP && c->method[0]) {
			/* dialled again for a request that is waiting */
			c->state = S_FORWARD;
			set_deadline(c, T_RESPONSE);
		} else {
			c->state = S_HTTP_HEAD;
			set_deadline(c, T_HEAD);
		}
		return true;
	}
	case S_BUF_TUNNEL: {
		bool dead = false, progress;
		progress = copy_dir(c, false, &c->uout, &c->ceof, &dead);
		if (!dead)
			progress |= c->scan ? copy_down_scanned(c, &dead)
					    : copy_dir(c, true, &c->cout, &c->ueof, &dead);
		if (c->dead)
			return false;
		if (dead || (c->ceof && !buf_used(&c->uout)) || (c->ueof && !buf_used(&c->cout))) {
			emit(c, "net.close", NULL, c->addr_text);
			conn_kill(c);
			return false;
		}
		if (progress)
			set_deadline(c, T_TUNNEL);
		return progress;
	}
	case S_TUNNEL: {
		bool dead = false, progress;
		progress = pump_dir(c, 0, &dead);
		if (!dead)
			progress |= pump_dir(c, 1, &dead);
		if (dead || (c->dir[0].shut && c->dir[1].shut)) {
			emit(c, "net.close", NULL, c->addr_text);
			conn_kill(c);
			return false;
		}
		if (progress)
			set_deadline(c, T_TUNNEL);
		return progress;
	}
	case S_FLUSH_CLOSE: {
		ssize_t w = io_write(c, false, &c->cout);
		if (buf_used(&c->cout) == 0 || (w < 0 && w != -EAGAIN)) {
			/* let the client read the answer before the close */
			if (c->cssl && w >= 0)
				(void)SSL_shutdown(c->cssl);
			shutdown(c->ct.fd, SHUT_WR);
			conn_kill(c);
			return false;
		}
		return w > 0;
	}
	default:
		conn_kill(c);
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
		    buf_used(&c->cout)) {
			ssize_t w = io_write(c, false, &c->cout);
			if (w < 0 && w != -EAGAIN) {
				conn_kill(c);
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
			emit(&tmp, "net.deny", "a connection to the proxy not made for the sandbox",
			     NULL);
			close(fd);
			continue;
		}
		if (np->n_conns >= MAX_CONNS) {
			np->n_refused_cap++;
			if (np->n_refused_cap == 1) {
				struct conn tmp = { .np = np, .proto = P_CONNECT };
				emit(&tmp, "net.error", "too many connections: refusing new ones",
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
		set_deadline(c, T_HEAD);
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
			upstream_failed(c, 504, NX_SOCKS_TTL_EXPIRED, "timed out connecting");
			conn_pump(c);
			break;
		case S_FORWARD:
			if (!c->resp_head_done) {
				upstream_failed(c, 504, NX_SOCKS_FAILURE,
						"timed out waiting for the upstream's answer");
				conn_pump(c);
				break;
			}
			emit(c, "net.error", "idle timeout", c->addr_text);
			conn_kill(c);
			break;
		case S_SNIFF:
			/* never passed unjudged: the client did not say (all of)
			 * what the stream is in time */
			stream_refuse(c, buf_used(&c->cin)
						 ? "the tunnel's first bytes could not be judged in time"
						 : "the client sent nothing into the tunnel in time");
			break;
		case S_TLS_CLIENT:
			tls_failed(c, "client", "timed out");
			conn_kill(c);
			break;
		case S_TLS_UPSTREAM:
			upstream_failed(c, 504, NX_SOCKS_FAILURE, "timed out in TLS to the upstream");
			conn_pump(c);
			break;
		case S_HTTP_HEAD:
		case S_FIRST:
		case S_SOCKS_GREET:
		case S_SOCKS_REQ:
			if (buf_used(&c->cin))
				emit(c, "net.error", "the client stalled mid-request", NULL);
			conn_kill(c);
			break;
		case S_TUNNEL:
		case S_BUF_TUNNEL:
		case S_FLUSH_CLOSE:
		default:
			conn_kill(c);
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
			emit(np->conns, "net.close", NULL,
			     np->conns->addr_text[0] ? np->conns->addr_text : NULL);
		conn_kill(np->conns);
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
