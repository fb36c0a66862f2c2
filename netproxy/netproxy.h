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
 * timeout, and calls netproxy_dispatch() whenever either fires.
 */
#ifndef RINGFENCE_NETPROXY_H
#define RINGFENCE_NETPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../policy/policy.h"

/* The port the proxy listens on inside a private network namespace. */
#define NETPROXY_NS_PORT 3128

struct netproxy;

struct netproxy_event {
	const char *event;  /* "net.allow", "net.deny", "net.error", "net.close",
			       "cred.inject", "cred.block", "cred.reflect",
			       "tls.error" */
	const char *proto;  /* "connect", "http", "socks5" */
	const char *host;   /* as the client named it (normalised) */
	uint16_t port;
	const char *addr;   /* the address dialled or refused, or NULL */
	const char *reason;
	const struct policy_item *rule; /* the deciding policy line, or NULL */
	const char *method; /* HTTP forward: the method, else NULL */
	uint64_t bytes_up, bytes_down; /* net.close */
	const char *credential; /* cred.*: the credential's name */
	const char *where;	/* cred.*: "header", "target", "basic", "host", "stream";
				   cred.reflect: "head", "body" */
};

/* SECRET is in the N bytes at P as it is, or base64-encoded (Basic's
 * user:password) in either alphabet. */
bool netproxy_text_carries(const char *p, size_t n, const char *secret);

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
int netproxy_new(const struct policy *p, const struct netproxy_hooks *hooks,
		 struct netproxy **ret);

/* Serves a listening socket (taken over).  VERIFY_PEERS: accept only
 * connections announced with netproxy_expect() (the connect broker's). */
int netproxy_add_listener(struct netproxy *np, int fd, bool verify_peers);

/* The broker made a connection to the listener from LOCAL_PORT. */
void netproxy_expect(struct netproxy *np, uint16_t local_port);

int netproxy_fd(const struct netproxy *np);
int netproxy_timeout(const struct netproxy *np); /* ms, or -1 */
void netproxy_dispatch(struct netproxy *np);

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
};

/* TLS interception for the credentials' hosts: a CA made in memory for
 * this run (ECDSA P-256; its key never leaves this process), constrained
 * to the credentials' names, and the trust for upstream servers (the
 * system roots and [network] upstream_ca).  -errno with one line in ERR. */
struct netproxy_tls;
int netproxy_tls_new(const struct policy *p, const struct netproxy_credential *creds, size_t n,
		     struct netproxy_tls **ret, char *err, size_t err_size);
/* Trust the caller's clients had, carried over: a CA file (certificates
 * read now; a file with none is skipped, -ENOENT/-EINVAL) or, with DIR, a
 * directory of them (hashed or not).  Both verify upstream servers and go
 * into the bundle.  PATH is copied. */
int netproxy_tls_add_trust(struct netproxy_tls *t, const char *path, bool dir);
/* What the sandbox trusts: the system roots, the caller's CA files and
 * directories, upstream_ca and the CA, PEM. */
int netproxy_tls_bundle(const struct netproxy_tls *t, char **pem, size_t *len, char *err,
			size_t err_size);
/* Frees it; the keys are cleared (also what a forked child must do with
 * its copy). */
void netproxy_tls_free(struct netproxy_tls *t);

/* The proxy rewrites placeholders, intercepts the credentials' hosts and
 * scans responses for the secrets from now on (TLS borrowed, may be NULL
 * when no credential exists).  -ENOMEM. */
int netproxy_set_credentials(struct netproxy *np, const struct netproxy_credential *creds,
			      size_t n, struct netproxy_tls *tls);

/* One line on what was blocked, or false when nothing was. */
bool netproxy_summary(const struct netproxy *np, char *buf, size_t size);

void netproxy_free(struct netproxy *np);

/* True when [network] allow_cidr reaches the host's loopback (127.0.0.1 or
 * ::1): NO_PROXY must not send such requests around the proxy then. */
bool netproxy_allows_loopback(const struct policy *p);

/* A listening TCP socket on 127.0.0.1:PORT (0: any), non-blocking. */
int netproxy_listen_socket(uint16_t port, uint16_t *ret_port);

#endif
