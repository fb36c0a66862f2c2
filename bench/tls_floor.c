/* SPDX-License-Identifier: MIT */
/*
 * The floor of an intercepting proxy for small HTTPS exchanges on this
 * machine, for bench/tls.sh section 1: a process that answers a CONNECT
 * with "200", ends the client's TLS with a fixed certificate (what
 * a leaf from ringfence's cache is), opens TLS to one fixed origin
 * (verified against CAFILE for NAME, resuming the last session, as
 * ringfence does), and moves the plaintext both ways, many connections at
 * once on one epoll loop, with the fewest calls such a relay can make
 * (read-ahead: one read per arrival; level-triggered events, so no read
 * that finds nothing; one write per record).  It parses no HTTP, swaps no
 * credential and scans nothing: what two TLS sessions and a third process
 * on the path cost, and no more.  Handshakes are made in place, one after
 * the other (the loop waits for them): the bench's few long connections do
 * not notice, but this is no floor for a new connection's latency.
 *
 *   tls_floor LISTEN_PORT TARGET_PORT CERT KEY CAFILE NAME   (127.0.0.1)
 *
 * Prints nothing once listening; runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536

/* per descriptor: its TLS session and the other side's descriptor */
static SSL *tls[MAX_FD];
static int peer[MAX_FD];
static SSL_SESSION *last; /* the origin's latest session, to resume */

static int new_session(SSL *s, SSL_SESSION *sess)
{
	(void)s;
	if (last)
		SSL_SESSION_free(last);
	/* a copy: a connection that ends without close_notify (every one
	 * here) makes its own session unusable */
	last = SSL_SESSION_dup(sess);
	return 0; /* the connection's own stays OpenSSL's */
}

/* Waits for what a non-blocking TLS call that returned R on FD wants;
 * false when it failed for good. */
static bool want(SSL *s, int fd, int r)
{
	struct pollfd p = {.fd = fd};

	switch (SSL_get_error(s, r)) {
	case SSL_ERROR_WANT_READ:
		p.events = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		p.events = POLLOUT;
		break;
	default:
		return false;
	}
	return poll(&p, 1, 5000) == 1;
}

static void drop(int ep, int fd)
{
	int fds[2] = {fd, peer[fd]};

	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
		SSL_free(tls[fds[i]]);
		tls[fds[i]] = NULL;
		peer[fds[i]] = -1;
		close(fds[i]);
	}
}

/* The CONNECT head, answered; then both handshakes.  C is non-blocking. */
static bool open_pair(int c, int *up, SSL_CTX *srv, SSL_CTX *cli, const struct sockaddr_in *to,
		      const char *name)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	char head[4096];
	size_t got = 0;
	SSL *a, *b;
	int u, r, one = 1;

	while (!memmem(head, got, "\r\n\r\n", 4)) {
		struct pollfd p = {.fd = c, .events = POLLIN};
		ssize_t n;
		if (got == sizeof(head) || poll(&p, 1, 5000) != 1)
			return false;
		n = read(c, head + got, sizeof(head) - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	if (write(c, ok, sizeof(ok) - 1) != (ssize_t)sizeof(ok) - 1)
		return false;
	a = SSL_new(srv);
	if (!a || !SSL_set_fd(a, c)) {
		SSL_free(a);
		return false;
	}
	tls[c] = a;
	while ((r = SSL_accept(a)) != 1)
		if (!want(a, c, r))
			return false;
	u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u < 0 || u >= MAX_FD || connect(u, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		if (u >= 0)
			close(u);
		return false;
	}
	setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(u, F_SETFL, O_NONBLOCK);
	b = SSL_new(cli);
	if (!b || !SSL_set_fd(b, u)) {
		SSL_free(b);
		close(u);
		return false;
	}
	tls[u] = b;
	peer[c] = u;
	peer[u] = c;
	SSL_set_tlsext_host_name(b, name);
	SSL_set1_host(b, name);
	if (last)
		SSL_set_session(b, last);
	while ((r = SSL_connect(b)) != 1)
		if (!want(b, u, r))
			return false;
	*up = u;
	return true;
}

/* One arrival on FD: its records, written to the other side.  false when
 * the pair is done. */
static bool relay(int fd)
{
	static char buf[16384];
	SSL *from = tls[fd], *to = tls[peer[fd]];

	do {
		int n = SSL_read(from, buf, sizeof(buf)), w;
		if (n <= 0)
			return SSL_get_error(from, n) == SSL_ERROR_WANT_READ;
		while ((w = SSL_write(to, buf, n)) <= 0)
			if (!want(to, peer[fd], w))
				return false;
	} while (SSL_has_pending(from));
	return true;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in to = sin;
	struct epoll_event ev = {.events = EPOLLIN}, evs[64];
	SSL_CTX *srv, *cli;
	int one = 1, ls, ep;

	if (argc != 7)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	srv = SSL_CTX_new(TLS_server_method());
	cli = SSL_CTX_new(TLS_client_method());
	if (!srv || !cli || SSL_CTX_use_certificate_chain_file(srv, argv[3]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(srv, argv[4], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(cli, argv[5], NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_read_ahead(srv, 1);
	SSL_CTX_set_read_ahead(cli, 1);
	SSL_CTX_set_verify(cli, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(cli,
				       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cli, new_session);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = ls;
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(ls, 4096) < 0 || ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) {
		perror("tls_floor");
		return 1;
	}
	memset(peer, -1, sizeof(peer));
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c, u = -1;
			if (fd != ls) {
				if (tls[fd] && !relay(fd))
					drop(ep, fd);
				continue;
			}
			c = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (c < 0)
				continue;
			if (c >= MAX_FD) {
				close(c);
				continue;
			}
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (!open_pair(c, &u, srv, cli, &to, argv[6])) {
				drop(ep, c);
				continue;
			}
			ev.data.fd = c;
			epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
			ev.data.fd = u;
			epoll_ctl(ep, EPOLL_CTL_ADD, u, &ev);
			/* a handshake's last read may have taken what followed
			 * it: no event will say so */
			if ((SSL_has_pending(tls[c]) && !relay(c)) ||
			    (tls[u] && SSL_has_pending(tls[u]) && !relay(u)))
				drop(ep, c);
		}
	}
}
