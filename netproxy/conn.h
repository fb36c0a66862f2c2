/* SPDX-License-Identifier: MIT */
/*
 * netproxy/conn.h — the engine's own header: a connection, the proxy that
 * holds them, and the functions its files share.  The files are rooms of
 * one engine:
 *
 *   loop.c       epoll, deadlines, deferred free (loop.h)
 *   buf.c side.c the transport: bounded buffers; plain, TLS and spliced sides
 *   decide.c     the pure decision: target -> verdict and hint, addresses,
 *                a tunnel's first bytes (no I/O)
 *   answer.c     HTTP errors, SOCKS5 replies, audit events, the summary
 *   front.c      the first bytes, the HTTP head, SOCKS5
 *   dial.c       resolve (c-ares), check every address, connect
 *   forward.c    one HTTP exchange; reflect.c secrets in its responses
 *   tunnel.c     sniff, then splice
 *   intercept.c  TLS on both sides, then forward
 *   proxy.c      connections' lives, the pump, accepting, timeouts, the API
 *
 * Nothing outside netproxy/ includes this file.
 */
#ifndef RINGFENCE_NETPROXY_CONN_H
#define RINGFENCE_NETPROXY_CONN_H

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "netproxy.h"
#include "netproxy_internal.h"
#include "ossl.h"
#include "tls.h"

/* connections at once: at most this, and fewer when the descriptor limit
 * is lower (two sockets each; an idle tunnel gives its pipes back):
 * np->max_conns */
#define MAX_CONNS	    16384
#define NX_FD_RESERVE	    256
#define NX_STRANGERS_SAY_MS 5000
#define BUF_CAP		    (64 * 1024)
#define BUF_SMALL	    4096	  /* past the memory budget */
#define PIPE_CAP	    (1024 * 1024) /* asked for; the kernel may give less */
#define MAX_ADDRS	    16

/* timeouts, milliseconds; those a policy may shorten ([network]
 * first_bytes_timeout, client_timeout, connect_timeout) are the proxy's
 * (T_FIRST_BYTES(c) ...) */
#define T_FIRST_BYTES(c) ((c)->np->timer[POLICY_TIMER_FIRST_BYTES]) /* a tunnel's, to judge */
#define T_HEAD(c)	 ((c)->np->timer[POLICY_TIMER_CLIENT]) /* a client that stalls mid-request */
#define T_CONNECT(c)	 ((c)->np->timer[POLICY_TIMER_CONNECT]) /* DNS and TCP connect together */
#define T_KEEPALIVE	 120000		    /* idle between requests on a kept-alive connection */
#define T_RESPONSE	 300000		    /* waiting for an upstream's answer */
#define T_TUNNEL	 3600000	    /* an idle tunnel */
#define T_LINGER	 5000		    /* a lingering close (S_LINGER), all told */
#define LINGER_MAX	 (16 * 1024 * 1024) /* bytes a lingering close reads and drops */

struct buf {
	char *d;
	size_t off, len;      /* data is d[off..len) */
	size_t cap;	      /* BUF_CAP or BUF_SMALL, once allocated */
	size_t hw;	      /* the most of d ever written: what a clear must cover */
	struct nx_budget *bg; /* charged CAP while allocated, when set */
};

/* One side of a connection (side.c): its socket, named by the tag its
 * events carry, and its TLS when the proxy terminates it (intercept.c). */
struct nx_side {
	struct nx_tag tag; /* fd -1 when closed; ptr: the connection */
	SSL *ssl;
	/* Events are edge-triggered: a read that found the socket empty is
	 * not tried again before the next event that says there is more
	 * (EPOLLIN, EPOLLRDHUP, EPOLLHUP, EPOLLERR), set in
	 * netproxy_dispatch().  Empty: it said EAGAIN, or gave less than was
	 * asked (a TCP read takes all that is queued; what arrives during or
	 * after it is an event of its own), which saves a read per arrival.
	 * But TCP also stops a read at the urgent mark, with more queued and
	 * no event to come for it: so once an event has said urgent data
	 * (EPOLLPRI: URGENT, for the rest of the side's life), only EAGAIN
	 * says empty.  An urgent byte that arrives after the event a read
	 * follows is an event of its own, which says EPOLLPRI.  Only
	 * nx_side_read() goes by it; a full buffer (back-pressure) reads
	 * nothing and leaves it as it was.  ENDED: the peer's end or an error
	 * was announced: a short read then does not count as empty either, so
	 * that the end (a read of 0) is still seen.  SHORT: taken for empty on
	 * a short read, not on EAGAIN.  An urgent pointer that comes before
	 * its byte does not say EPOLLPRI (TCP_URG_NOTYET) yet stops a read at
	 * the mark; a peer that crafts its segments so (the byte held out of
	 * order, the pointer in an earlier one) would strand the rest of its
	 * own stream, so the sweep (proxy.c) reads such a side once more when
	 * no event has come for it since: a stall of a sweep's period at
	 * most, one read more per side at most.  SPLICED: bytes were spliced
	 * from it since the last sweep, which then asks the kernel whether it
	 * stopped at such a mark (SIOCATMARK, side.c nx_at_urgent_mark()). */
	bool rd_empty, rd_ended, urgent, rd_short, spliced;
};

/* What a side's socket is watched for. */
#define NX_SIDE_EVENTS (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP | EPOLLET)

/* A connection's state, and the machine (file) whose step runs it. */
enum state {
	S_FIRST = 1,	/* front.c: the first byte tells HTTP from SOCKS5 */
	S_HTTP_HEAD,	/* front.c: a request head (also inside a tunnel) */
	S_SOCKS_GREET,	/* front.c */
	S_SOCKS_REQ,	/* front.c */
	S_RESOLVE,	/* dial.c: c-ares is asked; its callback goes on */
	S_CONNECT,	/* dial.c */
	S_FORWARD,	/* forward.c: one HTTP exchange */
	S_TUNNEL,	/* tunnel.c: spliced */
	S_FLUSH_CLOSE,	/* front.c: an answer is on its way, then close */
	S_SNIFF,	/* tunnel.c: open upstream; the client's first bytes decide */
	S_TLS_CLIENT,	/* intercept.c: our handshake with the client */
	S_TLS_UPSTREAM, /* intercept.c: our handshake with the upstream */
	S_BUF_TUNNEL,	/* tunnel.c: an upgraded stream inside TLS: copied, not spliced */
	S_LINGER,	/* front.c: answered and shut for writing; what the client still
			   sends is read and dropped until its end, then closed */
};

enum proto {
	P_CONNECT = 1,
	P_HTTP,
	P_SOCKS,
	P_CAPTURE, /* a connect(2) of the sandbox, taken to the proxy (capture.c) */
	P_DNS,	   /* only in events: the sandbox's nameserver */
};

struct pipe_dir {
	int p[2];
	size_t in, cap; /* cap: charged to the budget while the pipe is open */
	bool eof, shut;
};

struct dns_req;

/* Forwarding's state: one exchange at a time (forward.c, reflect.c). */
struct fwd_state {
	char method[16];
	char path[512]; /* the current request's, as sent, without the query (for the log) */
	enum nx_body req_body, resp_body;
	uint64_t req_left, resp_left;
	struct nx_chunk req_chunk, resp_chunk;
	bool req_done, resp_head_done, resp_done, resp_close, is_head, keep_alive, upgrade;
	bool up_ended;	 /* the upstream ended; what it sent is still being passed on */
	bool req_secret; /* the current request carried a secret */
	bool req_bound;	 /* the current request went to a host a secret may go to */
	bool one_shot;	 /* its upstream connection ends with this request (rules_or_bound()) */
	bool spliced;	 /* some of the response's body went through the pipe (spliced.c) */
	bool early;	 /* answered before the request's body was all read: the
			    connection ends lingering (front.c) */
};

/* A tunnel's state (tunnel.c): [0] client → upstream, [1] upstream → client. */
struct tunnel_state {
	struct pipe_dir dir[2];
	bool ceof, ueof;   /* buffered tunnel: a side ended */
	bool server_first; /* [network] server_first: the upstream may speak first */
};

/* A stream carrying HTTP to one origin (a granted tunnel read as HTTP, or
 * intercepted): requests are read inside it, in TLS when the client spoke
 * TLS, and their Host must be the tunnel's. */
struct inner_state {
	bool on;
	char host[NX_HOST_MAX];
	uint16_t port;
	/* the upstream's handshake, begun with the client's (intercept.c):
	 * 0 under way, 1 done, -errno failed (why, for the 502 that follows
	 * the client's) */
	int up_hs;
	char up_why[256];
};

#define NX_CONN_BASIC_KEEP 8
struct conn {
	struct nx_deferred defer; /* first: freed whole after the batch */
	struct netproxy *np;
	struct conn *prev, *next;
	struct nx_side client, up; /* the sides (side.c) */
	enum state state;
	enum proto proto;
	bool dead;
	long deadline;
	size_t linger_left; /* S_LINGER: what may still be read and dropped */

	struct buf cin, cout, uin, uout;

	/* target of the current request */
	char host[NX_HOST_MAX];
	enum nx_host_kind kind;
	uint8_t haddr[16];
	uint16_t port;
	struct nx_verdict v;
	struct nx_addr addrs[MAX_ADDRS];
	int n_addrs, next_addr;
	char addr_text[INET6_ADDRSTRLEN];
	struct dns_req *dns;

	/* the upstream the connection holds (forward proxying reuses it) */
	char up_host[NX_HOST_MAX];
	uint16_t up_port;
	bool up_connected;

	/* forward proxying: one request/response at a time (forward.c) */
	struct fwd_state fwd;

	/* a tunnel (tunnel.c) */
	struct tunnel_state tun;
	uint64_t bytes_up, bytes_down;

	/* a stream carrying HTTP to one origin (tunnel.c, intercept.c) */
	struct inner_state inner;
	bool secret_seen; /* a secret went through: buffers are wiped */

	/* responses scanned for secrets (scrub.c) */
	struct nx_scan *scan;
	/* Basic values re-encoded around a secret on this connection
	 * (inject = replace), the last NX_CONN_BASIC_KEEP, looked for in its
	 * responses through a scrub of its own made from the proxy's */
	struct nx_conn_basic {
		char *b64;
		size_t len;
		unsigned cred;
	} basic[NX_CONN_BASIC_KEEP];
	size_t n_basic, next_basic;
	struct nx_scrub *own_scrub; /* NULL until a Basic value is kept */
	struct nx_scrub *own_base;  /* the proxy's scrub it was made from (a reference) */
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
	/* What an idle proxy writes after init's fork, together near the
	 * top: each page of it written is a copy of its own per sandbox
	 * (sandbox/README.md).  The listeners, added when init hands them
	 * over (their tags here, not blocks of the heap made then, which
	 * land in any page with room), and the sweep's clock. */
	struct nx_tag *listeners[4];
	struct nx_tag listener_tags[4];
	bool verify[4];
	uint16_t listen_port[4]; /* each listener's, for the announcements */
	size_t n_listeners;
	bool listeners_paused;
	long last_sweep;
	/* the sandbox's nameserver sockets, handed over as the listeners */
	struct nx_tag *ns_socks[4];
	struct nx_tag ns_tags[4];
	size_t n_ns_socks;
	struct nx_tag *ns_listen_verified; /* the broker's: announced peers only */
	uint16_t ns_listen_port;

	struct conn *conns;
	size_t n_conns;

	ares_channel ares;
	bool ares_ready;
	bool in_lookup; /* inside ares_getaddrinfo: its callback may run at once */
	struct dns_tag *dns_tags[ARES_GETSOCK_MAXNUM * 4];
	size_t n_dns_tags;

	struct {
		uint16_t port, to_port; /* from 127.0.0.1:PORT to 127.0.0.1:TO_PORT */
		long when;
	} expect[256];
	size_t n_expect;

	/* the sandbox's DNS (names.c, nameserver.c) and its captured
	 * connects (capture.c) */
	struct nx_names names;
	struct nx_nsconn *ns_conns;
	size_t n_ns_conns;
	struct nx_ticket *tickets; /* NX_TICKETS_MAX, made when first needed */
	size_t n_tickets;

	const struct netproxy_credential *creds;
	size_t n_creds;
	/* a copy of the credentials when a secret is fetched again (refresh.c
	 * writes its length), else NULL and CREDS is the caller's */
	struct netproxy_credential *creds_rw;
	struct nx_refresh_state {
		long fetched, last_try; /* nx_now_ms() */
		bool pending, failed;
		char why[200]; /* the last failure */
		size_t n_old;  /* its earlier values in olds */
	} refresh[NETPROXY_CRED_MAX];
	/* every earlier value of a refreshed credential, still scanned for: a
	 * command that mints a token at each call leaves each valid for its
	 * own lifetime (NX_OLD_MAX a credential at most: past it, no new
	 * value is taken); each value is ours (freed, wiped) */
	struct nx_old *olds;
	size_t n_olds;
	struct nx_tag secret_tag; /* the secret source, when secret_msg */
	char *secret_msg;	  /* its answers are read here */
	struct netproxy_tls *tls;
	struct nx_scrub *scrub; /* the secrets' needles; NULL without credentials */
	char *scratch;		/* a scan's output: BUF_CAP + the most it holds */
	char *head_scratch[2];	/* a rebuilt request head, and a rewritten field (forward.c) */

	struct nx_budget budget; /* buffers and pipes, [network] memory_max */

	long timer[_POLICY_TIMER_MAX]; /* the policy's, or the defaults (ms) */
	long sweep_ms;		       /* how often deadlines are checked */
	unsigned long n_blocked;
	unsigned hints;	    /* 1 << enum block_hint, for the summary */
	char hint_cred[64]; /* the credential of the first credential hint */
	struct blocked blocked[5];
	size_t n_blocked_kept;
	unsigned long n_refused_cap;
	/* connections to a verified listener the broker did not make (another
	 * local process's): counted, said once every NX_STRANGERS_SAY_MS, so
	 * that a flood of them cannot spend the audit log's budget and hide
	 * what the sandbox does (accept.c) */
	unsigned long n_strangers, n_strangers_said;
	long strangers_said_ms;
	size_t max_conns; /* MAX_CONNS, or what the descriptor limit allows */
};

/* ---- proxy.c */
struct nx_decider nx_decider_of(const struct netproxy *np);
void nx_conn_buf_free(struct conn *c, struct buf *b);
void nx_close_upstream(struct conn *c);
void nx_conn_kill(struct conn *c);
void nx_set_deadline(struct conn *c, long ms);
void nx_conn_pump(struct conn *c);

/* The functions the engine's files share.  Ownership: a struct conn is
 * proxy.c's (made by nx_conn_adopt(), ended by nx_conn_kill(), freed after
 * the batch); its buffers, sockets, pipes and SSLs are the connection's.
 * Every *_step() is one step of its state: true when it made progress (the
 * pump runs the connection again), false when it waits for an event.  A
 * step may end the connection (c->dead), never free it. */

/* ---- buf.c */
size_t nx_buf_used(const struct buf *b);
size_t nx_buf_cap(const struct buf *b);
size_t nx_buf_room(const struct buf *b);
int nx_buf_alloc(struct buf *b, bool full);
int nx_buf_grow(struct buf *b);
bool nx_buf_full_small(const struct buf *b);
int nx_buf_reserve(struct buf *b);
void nx_buf_free(struct buf *b);
int nx_buf_append(struct buf *b, const void *data, size_t n);
void nx_buf_consume(struct buf *b, size_t n);
ssize_t nx_buf_read(struct buf *b, int fd);
/* As nx_buf_read(); *RET_EMPTY: the socket had no more than was read. */
ssize_t nx_buf_read_sock(struct buf *b, int fd, bool *ret_empty);
ssize_t nx_buf_write(struct buf *b, int fd);

/* ---- side.c */
int nx_tls_attach(SSL *ssl, int fd, const void *pre, size_t n);
ssize_t nx_side_read(struct nx_side *s, struct buf *b);
ssize_t nx_side_write(struct nx_side *s, struct buf *b);
int nx_tls_handshake(SSL *ssl, int fd, char *why, size_t size);
bool nx_at_urgent_mark(struct nx_side *s, int fd, ssize_t n);
bool nx_pump_dir(struct conn *c, int d, bool *dead);
bool nx_copy_dir(struct conn *c, bool from_up, struct buf *b, bool *eof, bool *dead);

/* ---- spliced.c */
int nx_splice_down(struct conn *c);
bool nx_splice_end(struct conn *c);

/* ---- answer.c */
void nx_emit_full(struct conn *c, const char *event, const char *reason, const char *addr,
		  const char *credential, const char *where);
void nx_emit(struct conn *c, const char *event, const char *reason, const char *addr);
void nx_answer_close(struct conn *c, const char *data, size_t n);
void nx_socks_reply(struct conn *c, enum nx_socks_reply code, bool then_close);
void nx_refuse(struct conn *c, const char *reason, const char *addr, const char *hint,
	       enum block_hint kind);
void nx_upstream_failed(struct conn *c, int status, enum nx_socks_reply code, const char *why);
void nx_malformed(struct conn *c, int status, const char *why);
void nx_budget_reason(const struct conn *c, const char *what, char *buf, size_t size);
void nx_head_refuse(struct conn *c, const char *what);
void nx_cred_refuse(struct conn *c, const struct nx_cred *cr, enum nx_cred_where where,
		    bool unsafe);
void nx_plain_refuse(struct conn *c, const struct nx_cred *cr);
void nx_cred_missing_refuse(struct conn *c, const struct nx_cred *cr);
void nx_cred_unavailable_refuse(struct conn *c, const struct nx_cred *cr, const char *why);

/* ---- refresh.c: secrets fetched again */
void nx_refresh_read(struct netproxy *np);
void nx_refresh_tick(struct netproxy *np);
long nx_refresh_next(const struct netproxy *np); /* ms until a refresh is due, or -1 */
/* A credential in USED whose secret may not be written now (expired, its
 * command failing), with why; a new try starts.  NULL when all may. */
const struct nx_cred *nx_cred_unavailable(struct netproxy *np, unsigned used, const char **why);
void nx_refresh_free(struct netproxy *np);
void nx_cred_report(struct conn *c, const struct nx_cred_ctx *x);
void nx_stream_refuse(struct conn *c, const char *reason);
void nx_tls_failed(struct conn *c, const char *who, const char *why);
void nx_reflect_cut(struct conn *c, int err);

/* ---- dial.c */
void nx_decide_and_dial(struct conn *c);
bool nx_connect_step(struct conn *c);

/* ---- reflect.c */
int nx_scan_begin(struct conn *c, enum nx_frame frame);
size_t nx_down_room(const struct conn *c);
bool nx_to_client(struct conn *c, const char *p, size_t n);
void nx_scan_end(struct conn *c);
void nx_basic_keep(struct conn *c, const struct nx_cred_ctx *x);
void nx_basic_free(struct conn *c);
bool nx_header_is(const struct nx_header *h, const char *name);
int nx_head_to_client(struct conn *c, const struct nx_response *r);
enum nx_frame nx_upgrade_frame(const struct nx_response *r);
bool nx_copy_down_scanned(struct conn *c, bool *dead);

/* ---- forward.c */
void nx_http_request(struct conn *c);
bool nx_forward_step(struct conn *c);

/* ---- tunnel.c */
void nx_enter_tunnel(struct conn *c);
bool nx_sniff_step(struct conn *c);
bool nx_buf_tunnel_step(struct conn *c);
bool nx_tunnel_step(struct conn *c);

/* ---- intercept.c */
void nx_start_intercept(struct conn *c);
void nx_start_upstream_tls(struct conn *c);
bool nx_tls_client_step(struct conn *c);
bool nx_tls_upstream_step(struct conn *c);

/* ---- capture.c */
#define NX_TICKETS_MAX 256
struct nx_ticket {
	int family; /* the address the connection comes from (v4-mapped: 4) */
	uint8_t addr[16];
	uint16_t port;
	long when;
	struct netproxy_capture target;
};
bool nx_take_ticket(struct netproxy *np, const struct sockaddr_storage *ss,
		    struct netproxy_capture *ret);

/* ---- nameserver.c */
struct nx_nsconn;
void nx_ns_event(struct netproxy *np, struct nx_tag *t);
void nx_ns_sweep(struct netproxy *np, long now);
void nx_ns_free(struct netproxy *np);

/* ---- proxy.c (accepting) */
bool nx_expected(struct netproxy *np, const struct sockaddr_storage *ss, uint16_t to_port);
/* accept.c: listeners paused (the connection cap reached) or resumed; every
 * connection waiting on listener LI taken. */
void nx_pause_listeners(struct netproxy *np, bool pause);
/* accept.c: the connections not made for the sandbox not yet said, as one
 * event. */
void nx_say_strangers(struct netproxy *np);
void nx_accept_all(struct netproxy *np, size_t li);

/* ---- answer.c (the nameserver's and the broker's refusals) */
void nx_dns_refused(struct netproxy *np, const char *name, const char *qtype);
void nx_dns_error(struct netproxy *np, const char *name, const char *why);
void nx_capture_refused(struct conn *c, const char *reason, const char *hint, enum block_hint kind);

/* ---- front.c */
ssize_t nx_read_client(struct conn *c);
bool nx_front_step(struct conn *c);
bool nx_flush_close_step(struct conn *c);
/* The answer is out: the connection ends with a lingering close (S_LINGER). */
void nx_linger(struct conn *c);
bool nx_linger_step(struct conn *c);

#endif
