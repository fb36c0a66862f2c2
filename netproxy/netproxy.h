/* SPDX-License-Identifier: MIT */
/*
 * netproxy/ — the whole interface of the network proxy.
 *
 * One event loop (epoll, non-blocking everything) serving HTTP CONNECT,
 * absolute-URI HTTP forwarding and SOCKS5 on each listening socket it is
 * given, told apart by the first byte.  Every request is judged against the
 * policy's [network] section; allowed ones are dialled from the caller's
 * network namespace, on exactly the address that was checked.  DNS goes
 * through c-ares on the same loop.  Decisions are reported through a hook,
 * never written here.
 *
 * The caller polls netproxy_fd() for POLLIN, with netproxy_timeout() as the
 * timeout, and calls netproxy_dispatch() when the fd is readable, else
 * netproxy_dispatch_timers() whenever it wakes (timeouts are checked by
 * the clock, not by which poll fired; neither waits).
 */
#ifndef RINGFENCE_NETPROXY_H
#define RINGFENCE_NETPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../policy/policy.h"

/* The port the proxy listens on inside a private network namespace. */
#define NETPROXY_NS_PORT 3128

struct netproxy;

struct netproxy_event {
	const char *event; /* "net.allow", "net.deny", "net.error", "net.close",
			      "cred.inject", "cred.block", "cred.reflect",
			      "tls.error" */
	const char *proto; /* "connect", "http", "socks5" */
	const char *host;  /* as the client named it (normalised) */
	uint16_t port;
	const char *addr; /* the address dialled or refused, or NULL */
	const char *reason;
	const struct policy_item *rule; /* the deciding policy line, or NULL */
	const char *method;		/* HTTP forward: the method, else NULL */
	const char *path;		/* with METHOD: the path as sent, without the query */
	uint64_t bytes_up, bytes_down;	/* net.close */
	const char *credential;		/* cred.*: the credential's name */
	const char *where;		/* cred.*: "header", "target", "basic", "host", "stream";
					   cred.reflect: "head", "body" */
};

/* SECRET is in the N bytes at P as it is, or base64-encoded (Basic's
 * user:password) in either alphabet, or either under percent-encoding or
 * JSON's escapes. */
bool netproxy_text_carries(const char *p, size_t n, const char *secret);
/* The same for a SECRET of N bytes (not a string), also percent-encoded
 * (up to three times over) or JSON-escaped. */
bool netproxy_text_carries_n(const char *p, size_t len, const char *secret, size_t n);

/* net.allow's reason for a name only [network] allow_any (ringfence learn)
 * let through. */
#define NETPROXY_REASON_LEARNING "allowed while learning"

struct netproxy_hooks {
	void (*event)(void *ud, const struct netproxy_event *ev);
	/* each request head the proxy reads in the clear (plain HTTP, and
	 * HTTP inside a TLS tunnel it terminates), before it is judged or
	 * rewritten (IN_TLS: the second); may be NULL */
	void (*head)(void *ud, const char *host, uint16_t port, bool in_tls, const char *head,
		     size_t len);
	void *ud;
};

/* The policy is borrowed and must outlive the proxy. */
int netproxy_new(const struct policy *p, const struct netproxy_hooks *hooks, struct netproxy **ret);

/* Serves a listening socket (taken over).  VERIFY_PEERS: accept only
 * connections announced with netproxy_expect() (the connect broker's). */
int netproxy_add_listener(struct netproxy *np, int fd, bool verify_peers);

/* The broker made a connection to the listener from LOCAL_PORT. */
void netproxy_expect(struct netproxy *np, uint16_t local_port, uint16_t to_port);
/* Takes a connection from the listener on PORT now, as its event would
 * (checked the same way), so that one the broker has just made and
 * announced is served without a turn of the loop. */
void netproxy_accept_now(struct netproxy *np, uint16_t port);

/* ---- transparent capture and the sandbox's DNS ---------------------------------- */

/* Where a connect(2) of the sandbox meant to go. */
struct netproxy_capture {
	char host[254]; /* the name behind a synthetic address, or the address as text */
	int kind;	/* netproxy_internal.h's enum nx_host_kind */
	uint8_t addr[16];
	uint16_t port;
};

/* Judges a TCP connect(2) of the sandbox to SA (an address that is not the
 * proxy's own): 0 with the target in RET when the proxy takes it on, or
 * -EACCES when the policy refuses it (logged and counted here). */
int netproxy_capture_judge(struct netproxy *np, const struct sockaddr *sa, size_t len,
			   struct netproxy_capture *ret);
/* The supervisor connected a socket for T from the address FROM (its
 * local address, LEN bytes) to one of the proxy's listeners: the
 * connection from there goes to T's target. */
void netproxy_expect_capture(struct netproxy *np, const struct sockaddr *from, size_t len,
			     const struct netproxy_capture *t);
/* Serves the sandbox's DNS on FD (taken over): a UDP socket, or with
 * STREAM a TCP listener (VERIFY_PEERS as for netproxy_add_listener). */
int netproxy_add_nameserver(struct netproxy *np, int fd, bool stream, bool verify_peers);

/* SHA-256 (or SHA-1) of the N pieces IOV, in OUT (32 or 20 bytes), by
 * OpenSSL, loaded now if no run's TLS did (git's object names, githeads.c):
 * 0, or -errno when it cannot be had. */
struct iovec;
int netproxy_digest(bool sha256, const struct iovec *iov, size_t n, unsigned char *out);

int netproxy_fd(const struct netproxy *np);
int netproxy_timeout(const struct netproxy *np); /* ms, or -1 */
void netproxy_dispatch(struct netproxy *np);
/* The timers only: no event is read (the fd was not readable). */
void netproxy_dispatch_timers(struct netproxy *np);

/* ---- placeholder credentials ------------------------------------------------ */

#define NETPROXY_CRED_MAX 32

/* A secret the proxy writes into requests to HOSTS where the request says
 * PLACEHOLDER.  All borrowed; they must outlive the proxy. */
struct netproxy_credential {
	const char *name;
	const char *placeholder;
	size_t placeholder_len;
	const char *secret;
	size_t secret_len;
	const struct policy_list *hosts;
	bool plaintext; /* may be written into plain HTTP (else only inside TLS) */
	/* where the secret goes (policy.h): anywhere the placeholder stands,
	 * or only in one place, in one form; INJECT_ARG names it (borrowed) */
	enum policy_inject inject;
	const char *inject_arg;
	bool require; /* a request to HOSTS without the placeholder is refused */
	/* source = cmd: with a ttl: SECRET is fetched again through the
	 * secret source (netproxy_set_secret_source) into SLOT, which has
	 * room for NETPROXY_SECRET_MAX bytes and is SECRET itself; NULL for a
	 * secret read once */
	char *slot;
	uint32_t ttl_ms;
	uint32_t cmd_index; /* what the secret source is asked for */
};

/* ---- secrets fetched again while the proxy runs ---------------------------- */

#define NETPROXY_SECRET_MAX   8192
#define NETPROXY_SECRET_MAGIC 0x72667363u

/* Asked of the secret source (a SOCK_SEQPACKET socket): a uint32_t, the
 * credential's index.  Answered with one message: this, then LEN bytes of
 * secret when OK. */
struct netproxy_secret_reply {
	uint32_t magic;
	uint32_t index;
	uint32_t ok;
	uint32_t len;
	char why[200]; /* when not OK: what failed, never the output */
};

/* The secret source: a socket whose other end runs the credentials'
 * commands (taken over).  Refreshes start once the secret is half its ttl
 * old; the secret read at start is FETCHED_MS old (nx_now_ms() then). */
int netproxy_set_secret_source(struct netproxy *np, int fd, long fetched_ms);

/* TLS interception for the credentials' hosts and those of P's method and
 * path rules: a CA made in memory for this run (ECDSA P-256; its key never
 * leaves this process), constrained to those names, and the trust for
 * upstream servers (the system roots and [network] upstream_ca).  N may be
 * 0.  -errno with one line in ERR. */
struct netproxy_tls;
int netproxy_tls_new(const struct policy *p, const struct netproxy_credential *creds, size_t n,
		     struct netproxy_tls **ret, char *err, size_t err_size);
/* Trust the caller's clients had, carried over: a CA file (checked now
 * for a certificate, parsed at the first interception; a file with none
 * is skipped, -ENOENT/-EINVAL) or, with DIR, a
 * directory of them (hashed or not).  Both verify upstream servers and go
 * into the bundle.  PATH is copied. */
int netproxy_tls_add_trust(struct netproxy_tls *t, const char *path, bool dir);
/* What the sandbox trusts, written to FD: the system roots, the caller's
 * CA files and directories, upstream_ca and the CA, PEM; a file named
 * twice (or found again in a directory) goes in once, and a certificate
 * met again in another file too.  -errno with one line in ERR. */
int netproxy_tls_write_bundle(const struct netproxy_tls *t, int fd, char *err, size_t err_size);
/* Frees it; the keys are cleared (also what a forked child must do with
 * its copy). */
void netproxy_tls_free(struct netproxy_tls *t);

/* The proxy rewrites placeholders, intercepts the credentials' hosts (and
 * those of the method and path rules) and scans responses for the secrets
 * from now on (TLS borrowed; NULL when nothing is intercepted, and then a
 * stream whose requests the rules must read is refused).  -ENOMEM. */
int netproxy_set_credentials(struct netproxy *np, const struct netproxy_credential *creds, size_t n,
			     struct netproxy_tls *tls);

/* One line on what was blocked, or false when nothing was. */
bool netproxy_summary(const struct netproxy *np, char *buf, size_t size);

void netproxy_free(struct netproxy *np);

/* True when [network] allow_cidr reaches the host's loopback (127.0.0.1 or
 * ::1): NO_PROXY must not send such requests around the proxy then. */
bool netproxy_allows_loopback(const struct policy *p);

/* True when [network] method and path rules can meet HTTPS (a port other
 * than 80): the proxy needs its interception CA, and the sandbox the bundle
 * that trusts it, even without a credential. */
bool netproxy_rules_need_tls(const struct policy *p);

/* A listening TCP socket on 127.0.0.1:PORT (0: any), non-blocking. */
int netproxy_listen_socket(uint16_t port, uint16_t *ret_port);

#endif
