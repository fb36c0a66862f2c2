/* SPDX-License-Identifier: MIT */
/*
 * netproxy/ — the pieces the engine is made of, exposed for the unit tests.
 * Nothing outside netproxy/ and tests/ includes this file.
 */
#ifndef RINGFENCE_NETPROXY_INTERNAL_H
#define RINGFENCE_NETPROXY_INTERNAL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/macros.h"
#include "../policy/policy.h"
#include "netproxy.h"

/* ---- rules.c: names, addresses, the policy's decision ------------------- */

enum nx_host_kind {
	NX_HOST_INVALID = 0,
	NX_HOST_NAME,
	NX_HOST_V4,
	NX_HOST_V6,
};

#define NX_HOST_MAX 254 /* 253 characters and a NUL */

/* Normalises a host as a client wrote it (no brackets, no port): lowercase,
 * one trailing dot dropped, IPv4 in any form inet_aton() takes (the forms a
 * URL parser may hand on) turned into an address.  OUT gets the canonical
 * text (dotted quad for IPv4).  Returns the kind; *why says what is wrong. */
enum nx_host_kind nx_host_normalize(const char *in, size_t len, char out[NX_HOST_MAX],
				    uint8_t addr[16], const char **why);

/* One allow/deny rule ("name", "*.suffix", optionally ":PORT") against a
 * normalised name.  Without a port an allow rule means 80 and 443, a deny
 * rule every port. */
bool nx_rule_match(const char *rule, const char *host, uint16_t port, bool is_deny);

/* "ADDR" or "ADDR/BITS" against an address of FAMILY (4 or 6). */
bool nx_cidr_match(const char *cidr, int family, const uint8_t addr[16]);

/* Why an address is not public (loopback, private, link-local, metadata,
 * IPv4-mapped, NAT64, ...), or NULL when it is. */
const char *nx_addr_class(int family, const uint8_t addr[16]);

/* The cloud metadata or internal-service endpoint ADDR is (named), or NULL.
 * Refused even with private = allow, unless allow_cidr names it. */
const char *nx_addr_metadata(int family, const uint8_t addr[16]);

/* Formats an address (and optionally a port) for logs. */
void nx_addr_format(int family, const uint8_t addr[16], char *buf, size_t size);

struct nx_verdict {
	bool allow;
	const char *reason;		/* for the log and the error page */
	const char *key;		/* the policy key that decided or would allow */
	const struct policy_item *rule; /* the deciding line, or NULL */
	bool have_static;		/* hosts = gave the address */
	int family;			/* static address */
	uint8_t addr[16];
};

/* The name-level decision: deny list, allow list, allow_cidr for literals,
 * hosts = overrides.  Addresses are checked later with nx_check_address(). */
void nx_decide_host(const struct policy *p, enum nx_host_kind kind, const char *host,
		    const uint8_t addr[16], uint16_t port, struct nx_verdict *v);

/* hosts = for an allowed HOST: V's static address, when it names one. */
void nx_static_address(const struct policy *p, const char *host, struct nx_verdict *v);

/* The address-level decision for a resolved (or static) address: with
 * private = deny a non-public address needs allow_cidr.  Returns NULL when
 * allowed, else the reason; *rule is the allow_cidr line that allowed it. */
const char *nx_check_address(const struct policy *p, int family, const uint8_t addr[16],
			     const struct policy_item **rule);

/* ---- http.c: request and response heads ---------------------------------- */

#define NX_HEAD_MAX	 (16 * 1024)
#define NX_RESP_HEAD_MAX (64 * 1024)
#define NX_MAX_HEADERS	 128

struct nx_header {
	const char *name, *value;
	size_t name_len, value_len;
};

enum nx_body {
	NX_BODY_NONE = 0,
	NX_BODY_LENGTH,
	NX_BODY_CHUNKED,
	NX_BODY_CLOSE, /* responses only: until the upstream closes */
};

struct nx_request {
	const char *method;
	size_t method_len;
	bool is_connect;
	/* the target, split */
	char host[NX_HOST_MAX];
	enum nx_host_kind host_kind;
	uint8_t addr[16];
	uint16_t port;
	const char *path; /* origin-form for forwarding; "/" when empty */
	size_t path_len;
	bool path_is_root_default;
	int minor; /* HTTP/1.minor */
	struct nx_header headers[NX_MAX_HEADERS];
	size_t n_headers;
	enum nx_body body;
	uint64_t length;
	bool keep_alive;
	bool upgrade;
	size_t head_len; /* bytes of the head, CRLFCRLF included */
};

struct nx_response {
	int status;
	int minor;
	struct nx_header headers[NX_MAX_HEADERS];
	size_t n_headers;
	enum nx_body body;
	uint64_t length;
	bool close;
	size_t head_len;
};

enum nx_parse {
	NX_PARSE_OK = 0,
	NX_PARSE_MORE,	/* the head is not complete yet */
	NX_PARSE_ERROR, /* *status and *why say what to answer */
};

/* Parses a request head at BUF (not NUL-terminated).  On NX_PARSE_ERROR,
 * *status is the HTTP status to answer (400, 405, 414, 431, 501) and *why
 * one line of explanation. */
enum nx_parse nx_parse_request(const char *buf, size_t len, struct nx_request *r, int *status,
			       const char **why);
/* The same for a request inside a stream to one origin (an intercepted
 * or plain tunnel): origin-form target, the host from Host (DEFPORT when
 * it names no port); CONNECT and absolute URIs are refused. */
enum nx_parse nx_parse_origin_request(const char *buf, size_t len, uint16_t defport,
				      struct nx_request *r, int *status, const char **why);
/* Parses a response head; IS_HEAD: the request was HEAD (no body). */
enum nx_parse nx_parse_response(const char *buf, size_t len, bool is_head, struct nx_response *r,
				const char **why);

/* True when the header NAME (case-insensitive) is hop-by-hop for this
 * request and must not be forwarded. */
bool nx_header_is_hop(const struct nx_request *r, const struct nx_header *h);

/* Follows a chunked body as it passes through.  nx_chunk_feed returns how
 * many of the N bytes belong to the body (all of them until the end);
 * *done when the last chunk and the trailers ended; -1 on a malformed body. */
struct nx_chunk {
	int state;
	uint64_t left;
	unsigned digits;
	unsigned line;
};
long nx_chunk_feed(struct nx_chunk *c, const char *p, size_t n, bool *done);
uint64_t nx_chunk_data_left(const struct nx_chunk *c);
void nx_chunk_skip(struct nx_chunk *c, uint64_t n);

/* ---- socks.c: SOCKS5 --------------------------------------------------------- */

enum nx_socks_reply {
	NX_SOCKS_OK = 0x00,
	NX_SOCKS_FAILURE = 0x01,
	NX_SOCKS_NOT_ALLOWED = 0x02,
	NX_SOCKS_NET_UNREACHABLE = 0x03,
	NX_SOCKS_HOST_UNREACHABLE = 0x04,
	NX_SOCKS_REFUSED = 0x05,
	NX_SOCKS_TTL_EXPIRED = 0x06,
	NX_SOCKS_BAD_COMMAND = 0x07,
	NX_SOCKS_BAD_ADDRESS = 0x08,
};

/* The greeting: 05 N METHODS...  Returns bytes used (>0), 0 for more, -1
 * when malformed.  *noauth: the client offers "no authentication". */
long nx_socks_greeting(const uint8_t *p, size_t n, bool *noauth);

struct nx_socks_request {
	char host[NX_HOST_MAX];
	enum nx_host_kind kind;
	uint8_t addr[16];
	uint16_t port;
};

/* The request: 05 CMD 00 ATYP ADDR PORT.  Returns bytes used (>0), 0 for
 * more, or -1 with *reply set to the error to send. */
long nx_socks_request(const uint8_t *p, size_t n, struct nx_socks_request *r,
		      enum nx_socks_reply *reply, const char **why);

/* ---- cred.c, cred_detect.c: placeholders in request heads ----------------------- */

#define nx_cred	    netproxy_credential
#define NX_CRED_MAX NETPROXY_CRED_MAX

enum nx_cred_where {
	NX_CRED_TARGET = 0,  /* the request target (path and query) */
	NX_CRED_HEADER,	     /* a header value */
	NX_CRED_HEADER_AUTH, /* Authorization's value: Basic is looked into */
	NX_CRED_BASIC,	     /* inside Authorization: Basic */
	NX_CRED_HOST,	     /* the host name asked for */
	NX_CRED_STREAM,	     /* the first bytes of an opaque stream */
	NX_CRED_METHOD,	     /* the request method */
	_NX_CRED_WHERE_MAX,
};

/* One request's rewrite: which credentials are bound to its host, what was
 * put in, and what refused it. */
#define NX_CRED_BASIC_KEEP 1024
struct nx_cred_ctx {
	const struct nx_cred *creds;
	size_t n;
	unsigned bound;			       /* bit k: creds[k] may go to this host */
	unsigned injected[_NX_CRED_WHERE_MAX]; /* bit k: creds[k] was put in there */
	const struct nx_cred *blocked;	       /* a placeholder on its way elsewhere */
	enum nx_cred_where blocked_where;
	bool unsafe; /* the secret cannot stand in a URL as it is */
	/* the header whose value the next nx_cred_field() call is given */
	const char *field_name;
	size_t field_name_len;
	/* the Basic value a replace credential was re-encoded into (the
	 * response scan looks for it: a short secret has no base64 core of
	 * its own); 0 when none, or longer than NX_CRED_BASIC_KEEP */
	char basic[NX_CRED_BASIC_KEEP];
	size_t basic_len;
	unsigned basic_cred;
};

bool nx_cred_bound(const struct nx_cred *cr, const char *host, uint16_t port);
void nx_cred_ctx_init(struct nx_cred_ctx *x, const struct nx_cred *creds, size_t n,
		      const char *host, uint16_t port);
/* Any credential's placeholder in P (case-insensitive, also percent-decoded). */
const struct nx_cred *nx_cred_find(const struct nx_cred *creds, size_t n, const char *p,
				   size_t len);
/* Any placeholder of a credential NOT bound to X's host in P, by the wide
 * detection (every letter case, percent-decoded, inside base64). */
const struct nx_cred *nx_cred_foreign(const struct nx_cred_ctx *x, const char *p, size_t n);
/* Rewrites one field into OUT (CAP bytes): 1 when something was replaced
 * (*out_len bytes in OUT), 0 when the field goes out as it is, -EACCES when
 * a placeholder is on its way to a host it is not bound to (x->blocked),
 * -E2BIG when OUT is too small. */
int nx_cred_field(struct nx_cred_ctx *x, enum nx_cred_where where, const char *in, size_t n,
		  char *out, size_t cap, size_t *out_len);
const char *nx_cred_where_name(enum nx_cred_where w);
/* A credential bound to X's host with require = yes that the request did
 * not carry (nothing was put in for it), or NULL. */
const struct nx_cred *nx_cred_missing(const struct nx_cred_ctx *x);
/* Where CR's secret goes, in words ("the X-Api-Key header"). */
void nx_cred_place(const struct nx_cred *cr, char *buf, size_t size);
/* A secret percent-encoded for a query parameter's value (all but
 * A-Z a-z 0-9 - . _ ~): OUT gets at most 3 * N bytes; returns its length. */
size_t nx_pct_encode(const char *in, size_t n, char *out);

/* Strict base64 (RFC 4648, padding optional): bytes decoded, or -1. */
long nx_base64_decode(const char *in, size_t n, char *out, size_t cap);
size_t nx_base64_encode(const char *in, size_t n, char *out); /* (n+2)/3*4 bytes */
/* The base64 characters that depend on IN alone when IN is encoded after
 * ALIGN (0-2) other bytes and before any others: what every base64 text
 * holding IN contains.  URL: the URL-safe alphabet.  Returns its length
 * (0 when IN is too long for NX_B64_CORE_MAX). */
#define NX_B64_CORE_MAX 12000
size_t nx_base64_core(const char *in, size_t n, unsigned align, bool url, char *out);

/* ---- scrub.c: secrets in responses -------------------------------------------- */

/* The needles for a set of credentials (borrowed: they must outlive it). */
struct nx_scrub;
int nx_scrub_new(const struct nx_cred *creds, size_t n, struct nx_scrub **ret);
/* An earlier value of credential CRED, looked for as its current one is;
 * a refreshed credential keeps at most NX_OLD_MAX of them (refresh.c). */
#define NX_OLD_MAX 64
struct nx_old {
	unsigned cred;
	const char *value;
	size_t len;
};
/* The needles for CREDS and every one of OLDS (N_OLDS of them). */
int nx_scrub_new_olds(const struct nx_cred *creds, size_t n, const struct nx_old *olds,
		      size_t n_olds, struct nx_scrub **ret);
/* BASE's needles and, for each of EXTRA, that exact base64 text (a Basic
 * value the proxy re-encoded around a secret, inject = replace), whatever
 * the secret's length. */
struct nx_scrub_extra {
	const char *b64;
	size_t len;
	unsigned cred;
};
int nx_scrub_with(const struct nx_scrub *base, const struct nx_scrub_extra *extra, size_t n,
		  struct nx_scrub **ret);
/* Another reference to S, dropped by nx_scrub_free(). */
struct nx_scrub *nx_scrub_ref(const struct nx_scrub *s);
/* Drops the owner's reference: freed once no scan holds it either. */
void nx_scrub_free(struct nx_scrub *s);
/* The most a stream scan may hold back (it fits a small buffer twice). */
#define NX_SCAN_HOLD_MAX 2048
size_t nx_scrub_hold_max(const struct nx_scrub *s);

/* A response head with every secret, in every form, replaced by its
 * credential's placeholder: 1 with a new head in *RET (malloc'd) and the
 * credentials found as bits in *HITS, 0 when there is none, -ENOMEM,
 * -ELOOP when more beginnings of a secret are open at once than the scan
 * could follow (scan.c: more than the widest match allows, so never in
 * practice; refused, never let through unread). */
int nx_scrub_head(const struct nx_scrub *s, const char *in, size_t n, char **ret, size_t *ret_len,
		  unsigned *hits);

/* A body or stream, scanned through its framing as it passes. */
enum nx_frame {
	NX_FRAME_PLAIN = 0, /* fixed length, until the close, an opaque stream */
	NX_FRAME_CHUNKED,
	NX_FRAME_WEBSOCKET, /* the server's frames */
};
struct nx_scan;
int nx_scan_new(const struct nx_scrub *s, struct nx_scan **ret);
void nx_scan_reset(struct nx_scan *sc, enum nx_frame f);
void nx_scan_free(struct nx_scan *sc);
/* Scans the next N bytes.  OUT (room for nx_scan_held() + N) gets all but
 * the last nx_scan_hold_max() bytes (fewer: those since the last framing
 * end), whatever they are; those stay held.  0; -EACCES when a secret is
 * there (nx_scan_hit() names it; nothing of this call is in OUT); -EPROTO
 * when the stream cannot be checked (a compressed WebSocket frame);
 * -ELOOP as for nx_scrub_head(), -ENOMEM when there was no memory to
 * follow every beginning (cut all the same). */
int nx_scan_feed(struct nx_scan *sc, const char *in, size_t n, char *out, size_t *out_len);
/* The anchored parses' slots a scan has made (the larger set's): what a
 * text made it follow at once, at most twice over (tests). */
unsigned nx_scan_anchor_slots(const struct nx_scan *sc);
/* The scan goes on with S's needles (the secrets were fetched again): what
 * it holds stays held, and a partial match of a needle S has too goes on.
 * 0 or -ENOMEM (the scan unchanged). */
int nx_scan_rebase(struct nx_scan *sc, const struct nx_scrub *s);
/* The stream ended: the held bytes, into OUT.  Returns their number. */
size_t nx_scan_flush(struct nx_scan *sc, char *out);
size_t nx_scan_held(const struct nx_scan *sc);
/* The needles it was made with, and the most it holds back. */
const struct nx_scrub *nx_scan_scrub(const struct nx_scan *sc);
size_t nx_scan_hold_max(const struct nx_scan *sc);
const struct nx_cred *nx_scan_hit(const struct nx_scan *sc);

/* ---- budget.c: the proxy's memory ------------------------------------------- */

#define NX_BUDGET_DEFAULT (16ULL << 20) /* [network] memory_max when unset */
#define NX_PIPE_DEFAULT	  (64 * 1024)	/* the kernel's pipe size */
#define NX_PIPE_MIN	  4096		/* one page: the smallest pipe */

struct nx_budget {
	uint64_t max, used, peak;
	size_t pipes, pipes_max; /* open now; at most (one page each) */
	unsigned long refused;	 /* reservations that did not fit */
	bool waiting;		 /* a pipe was refused since the last retry */
	bool freed;		 /* memory came back since the last retry */
};

/* MAX: [network] memory_max (0: the default); PIPES_MAX: the most pipes
 * open at once, whatever their size. */
void nx_budget_init(struct nx_budget *b, uint64_t max, size_t pipes_max);
/* Charges N bytes: false (and nothing charged) when they do not fit. */
bool nx_budget_take(struct nx_budget *b, size_t n);
void nx_budget_give(struct nx_budget *b, size_t n);
/* The size a new pipe gets for WANT: WANT while the budget is less than
 * half used, then the kernel's default, then one page (past the budget
 * too); 0 only when PIPES_MAX are open. */
size_t nx_budget_pipe_size(const struct nx_budget *b, size_t want);
/* A pipe (non-blocking, close-on-exec) charged at the size the kernel
 * gave it: -ENOBUFS when PIPES_MAX are open. */
int nx_budget_pipe(struct nx_budget *b, size_t want, int p[2], size_t *ret_size);
void nx_budget_pipe_close(struct nx_budget *b, int p[2], size_t size);

/* ---- tls.c: the ClientHello, interception ---------------------------------------- */

enum nx_hello {
	NX_HELLO_MORE = 0, /* not all of it yet */
	NX_HELLO_OK,	   /* a ClientHello; *sni set (empty when none) */
	NX_HELLO_NOT_TLS,  /* the stream does not start with a TLS handshake */
	NX_HELLO_BAD,	   /* starts like TLS but is malformed */
};

/* Reads the server name from the ClientHello at the start of a stream (it
 * may span records).  SNI gets the name as sent, lowercased. */
enum nx_hello nx_client_hello(const uint8_t *p, size_t n, char sni[NX_HOST_MAX]);

/* ---- sniff.c: what a tunnel's first bytes are ----------------------------------- */

enum nx_stream {
	NX_STREAM_MORE = 0, /* not enough to tell yet */
	NX_STREAM_TLS,	    /* a whole ClientHello; *sni set (empty when none) */
	NX_STREAM_TLS_BAD,  /* starts as TLS but is malformed (or never ends) */
	NX_STREAM_HTTP,	    /* an HTTP/1 request line */
	NX_STREAM_OTHER,    /* neither: a binary protocol, or a text line without HTTP/ */
	NX_STREAM_UNENDED,  /* text whose first line does not end in the buffer (refused) */
};

/* Judges the first N bytes a client sent into a tunnel.  FINAL: no more
 * will be waited for (the buffer is full), so MORE is never the answer. */
enum nx_stream nx_first_bytes(const uint8_t *p, size_t n, bool final, char sni[NX_HOST_MAX]);

/* The item of LIST (allow-style rules: "name", "*.suffix", ":PORT") that
 * matches HOST:PORT, or NULL. */
const struct policy_item *nx_list_match(const struct policy_list *list, const char *host,
					uint16_t port);

/* True when V allowed its port only as a web port: an allow rule without a
 * port (80 and 443).  Such a tunnel must carry TLS or HTTP. */
bool nx_web_grant(const struct nx_verdict *v);

/* ---- proxy.c: a connection from a socket --------------------------------------- */

/* Serves FD (connected, non-blocking, close-on-exec; owned from here on:
 * closed on failure) as an accepted client, with no check of where it came
 * from: the listeners' checks come first.  The machines' tests and the
 * conversation fuzzer hand it one end of a socketpair.  0, or -errno. */
struct netproxy;
int nx_conn_adopt(struct netproxy *np, int fd);

/* ---- decide.c: the decisions, without I/O ---------------------------------------- */

/* What would have let a blocked connection through, named in the exit
 * summary by the policy key that holds it (only the kinds that happened). */
enum block_hint {
	HINT_NONE = 0,
	HINT_ALLOW,	 /* a name not in [network] allow */
	HINT_CIDR,	 /* an address asked for by number */
	HINT_DENY,	 /* a [network] deny rule */
	HINT_PRIVATE,	 /* a name that resolves to a private address */
	HINT_CRED_HOSTS, /* a placeholder on its way to a host it is not bound to */
	HINT_PLAINTEXT,	 /* a secret on its way into plain HTTP */
	HINT_MEMORY,	 /* a head larger than [network] memory_max leaves room for */
	HINT_REQUEST,	 /* a method and path not in [network] allow */
	_HINT_MAX,
};

/* What the decisions read (borrowed): the policy, the credentials, and
 * whether TLS interception is set up. */
struct nx_decider {
	const struct policy *p;
	const struct nx_cred *creds;
	size_t n_creds;
	bool can_intercept;
};

/* A request's target judged.  Allowed when CRED is NULL and V.allow. */
struct nx_target {
	const struct nx_cred *cred; /* a placeholder in the host name (V unset) */
	struct nx_verdict v;
	enum block_hint hint_kind;    /* when refused */
	char hint[NX_HOST_MAX + 128]; /* what would allow it, when refused */
};

/* Judges HOST (of KIND, ADDR for literals) and PORT: a placeholder in a
 * name first (a name is looked up, so one would leave by DNS), then the
 * deny list, the allow list, allow_cidr, hosts =. */
void nx_decide_target(const struct nx_decider *d, enum nx_host_kind kind, const char *host,
		      const uint8_t addr[16], uint16_t port, struct nx_target *ret);

struct nx_addr {
	int family; /* 4 or 6 */
	uint8_t a[16];
};

/* The hint given when an address is refused. */
#define NX_PRIVATE_HINT "[network] private = deny refuses it; allow_cidr can make an exception"

/* Every address a name resolved to is checked: one that points inside
 * refuses the name (a rebinding answer mixes public and private).  The
 * index of the first refused, its text in ADDR_TEXT and the reason in
 * REASON; -1 when every one may be dialled. */
int nx_decide_addresses(const struct nx_decider *d, const struct nx_addr *addrs, int n,
			char *reason, size_t size, char addr_text[INET6_ADDRSTRLEN]);

/* True when a credential may go to HOST:PORT (its stream is intercepted). */
bool nx_decide_bound(const struct nx_decider *d, const char *host, uint16_t port);

/* True when the upstream of a tunnel to HOST:PORT may speak first
 * ([network] server_first; never for a host a credential is bound to). */
bool nx_decide_server_first(const struct nx_decider *d, const char *host, uint16_t port);

/* ---- method and path rules ([network] allow = GET https://HOST/PATH) ---- */

#define NX_PATH_MAX 4096 /* a request's path (and query) in normal form, at most */

/* '*' any run of bytes (within a segment: the caller splits). */
bool nx_glob_chars(const char *p, size_t pn, const char *s, size_t sn, bool icase);
/* A rule's path (normal form: '*' within a segment, '**' whole segments,
 * any number of them) against a request's, both starting with '/'. */
bool nx_path_glob(const char *pat, size_t pn, const char *path, size_t sn, bool icase);
/* True when method and path rules name HOST:PORT: its requests are read
 * (HTTPS intercepted) and judged one by one. */
bool nx_decide_ruled(const struct nx_decider *d, const char *host, uint16_t port);
/* The first allow rule with a method or path that names HOST:PORT, or NULL. */
const struct policy_item *nx_http_rule_host(const struct policy *p, const char *host,
					    uint16_t port);
/* The first rule of L (allow_http or deny_http: DENY matches every port of
 * a rule without one, and method and path in any letter case) that
 * matches; PATH and QUERY in normal form, QUERY NULL when there is none. */
const struct policy_item *nx_http_rule_match(const struct policy_list *l, bool deny,
					     const char *host, uint16_t port, const char *method,
					     size_t mlen, const char *path, size_t plen,
					     const char *query, size_t qlen);

struct nx_req_verdict {
	bool ruled; /* the host has method and path rules (else ALLOW, nothing more) */
	bool allow;
	const struct policy_item *rule; /* that allowed or denied it, or NULL */
	char reason[NX_HOST_MAX + 600];
	char hint[NX_HOST_MAX + 900]; /* when refused: what would allow it */
};

/* A request (METHOD, TARGET as sent: origin-form, or what follows an
 * absolute URI's authority; its headers HS) to HOST:PORT, in TLS or not.
 * A header that overrides the method or path (X-HTTP-Method-Override,
 * X-Original-URL, ...) refuses it. */
void nx_decide_request(const struct nx_decider *d, const char *host, uint16_t port, bool tls,
		       const char *method, size_t mlen, const char *target, size_t tlen,
		       const struct nx_header *hs, size_t n_hs, struct nx_req_verdict *ret);

/* What a granted tunnel's first bytes make it. */
enum nx_stream_act {
	NX_ACT_MORE = 0,  /* not enough bytes to tell yet */
	NX_ACT_REFUSE,	  /* closed: REASON */
	NX_ACT_CRED,	  /* closed: a placeholder (CRED) in it */
	NX_ACT_INTERCEPT, /* TLS to a host a credential is bound to: ours */
	NX_ACT_HTTP,	  /* plain HTTP: read request by request */
	NX_ACT_TUNNEL,	  /* passed on as it is */
	_NX_ACT_MAX,
};

struct nx_stream_verdict {
	enum nx_stream_act act;
	const struct nx_cred *cred;
	char reason[2 * NX_HOST_MAX + 160];
};

/* The tunnel granted to HOST (of KIND) :PORT by V; its client's first N
 * bytes at BUF.  FINAL: no more will come (the buffer is full). */
void nx_decide_stream(const struct nx_decider *d, const char *host, enum nx_host_kind kind,
		      uint16_t port, const struct nx_verdict *v, const uint8_t *buf, size_t n,
		      bool final, struct nx_stream_verdict *ret);

/* True when the sandbox's DNS gives HOST an address: some [network] allow
 * rule names it (on any port), no deny rule refuses it on every port, and
 * no placeholder stands in it. */
bool nx_decide_name(const struct nx_decider *d, const char *host);

/* ---- the sandbox's DNS (names.c) ----------------------------------------------------- */

/*
 * Names the sandbox's DNS answered, each with an address of its own from
 * 198.18.0.0/15 (RFC 2544's benchmarking range: never a real upstream),
 * given in the order asked and never reused during a run, so that a
 * captured connect to one names its host again.
 */
#define NX_NAMES_MAX 16384 /* a few MB at most, outside memory_max */
#define NX_DNS_TTL   10	   /* seconds: short, though an address never changes */

struct nx_names {
	char **name;	 /* by index */
	uint32_t n, cap; /* names, room in NAME */
	uint32_t *slot;	 /* open addressing: index + 1, 0 empty */
	uint32_t n_slots;
};

/* The index of HOST (normalised), added when new: 0 or -ENOMEM / -ENOSPC. */
int nx_names_add(struct nx_names *t, const char *host, uint32_t *ret);
/* The name behind a synthetic address, or NULL (not one, or never given). */
const char *nx_names_lookup(const struct nx_names *t, int family, const uint8_t addr[16]);
/* The synthetic IPv4 address of index I. */
void nx_names_addr(uint32_t i, uint8_t ret[4]);
/* True when ADDR lies in the synthetic range. */
bool nx_names_is_synthetic(int family, const uint8_t addr[16]);
void nx_names_free(struct nx_names *t);

/* What a DNS query asked and what it was told (for the audit log). */
struct nx_dns_result {
	char name[NX_HOST_MAX]; /* normalised, when it was a name */
	uint16_t qtype;
	int rcode;	 /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	bool refused;	 /* a name the policy does not allow */
	const char *why; /* a malformed query, or NULL */
};

/* Answers the DNS query Q (N bytes) into OUT (SIZE at least 512): the
 * answer's length, or 0 when nothing is to be sent (not a query). */
size_t nx_dns_answer(const struct nx_decider *d, struct nx_names *t, const uint8_t *q, size_t n,
		     uint8_t *out, size_t size, struct nx_dns_result *res);

#endif
