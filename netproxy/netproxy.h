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
	const char *event;  /* "net.allow", "net.deny", "net.error" */
	const char *proto;  /* "connect", "http", "socks5" */
	const char *host;   /* as the client named it (normalised) */
	uint16_t port;
	const char *addr;   /* the address dialled or refused, or NULL */
	const char *reason;
	const struct policy_item *rule; /* the deciding policy line, or NULL */
	const char *method; /* HTTP forward: the method, else NULL */
	uint64_t bytes_up, bytes_down; /* net.close */
};

struct netproxy_hooks {
	void (*event)(void *ud, const struct netproxy_event *ev);
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

/* One line on what was blocked, or false when nothing was. */
bool netproxy_summary(const struct netproxy *np, char *buf, size_t size);

void netproxy_free(struct netproxy *np);

/* True when [network] allow_cidr reaches the host's loopback (127.0.0.1 or
 * ::1): NO_PROXY must not send such requests around the proxy then. */
bool netproxy_allows_loopback(const struct policy *p);

/* A listening TCP socket on 127.0.0.1:PORT (0: any), non-blocking. */
int netproxy_listen_socket(uint16_t port, uint16_t *ret_port);

#endif
