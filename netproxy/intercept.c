/* SPDX-License-Identifier: MIT */
/*
 * Interception: a stream to a host a credential is bound to, or one that
 * method and path rules name, is ours in TLS on both sides, and its
 * requests are judged and forwarded like proxied ones.
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

#include "conn.h"
#include "ossl.h"

/* The client's side is ours: a certificate for the tunnel's host. */
void nx_start_intercept(struct conn *c)
{
	c->client.ssl = nx_tls_server(c->np->tls, c->host);
	if (!c->client.ssl || nx_tls_attach(c->client.ssl, c->client.tag.fd, c->cin.d + c->cin.off,
					    nx_buf_used(&c->cin)) < 0) {
		nx_tls_failed(c, "client", nx_tls_error(c->np->tls));
		nx_conn_kill(c);
		return;
	}
	nx_conn_buf_free(c, &c->cin);
	c->inner.on = true;
	snprintf(c->inner.host, sizeof(c->inner.host), "%s", c->host);
	c->inner.port = c->port;
	c->state = S_TLS_CLIENT;
	nx_set_deadline(c, T_HEAD(c));
	/* the upstream's handshake begins now, beside the client's, so that
	 * their round trips overlap (its TCP connection is open already);
	 * nothing is forwarded before both are done.  Without an SSL here, it
	 * begins after the client's, as a redial's does. */
	c->inner.up_hs = 0;
	c->up.ssl = c->up.tag.fd >= 0 ? nx_tls_client(c->np->tls, c->inner.host) : NULL;
	if (c->up.ssl && nx_tls_attach(c->up.ssl, c->up.tag.fd, NULL, 0) < 0) {
		SSL_free(c->up.ssl);
		c->up.ssl = NULL;
	}
}

/* The upstream's handshake begun early, driven until it ends. */
static void early_upstream(struct conn *c)
{
	if (!c->up.ssl || c->inner.up_hs != 0)
		return;
	c->inner.up_hs =
	    nx_tls_handshake(c->up.ssl, c->up.tag.fd, c->inner.up_why, sizeof(c->inner.up_why));
}

/* The upstream's side: verified against the system roots and upstream_ca. */
void nx_start_upstream_tls(struct conn *c)
{
	c->up.ssl = nx_tls_client(c->np->tls, c->inner.host);
	if (!c->up.ssl || nx_tls_attach(c->up.ssl, c->up.tag.fd, NULL, 0) < 0) {
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, nx_tls_error(c->np->tls));
		return;
	}
	c->state = S_TLS_UPSTREAM;
	nx_set_deadline(c, T_CONNECT(c));
}

/* S_TLS_CLIENT: our handshake with the client (and the upstream's, when
 * it began beside it). */
bool nx_tls_client_step(struct conn *c)
{
	char why[256];
	int r;

	early_upstream(c);
	r = nx_tls_handshake(c->client.ssl, c->client.tag.fd, why, sizeof(why));
	if (r == 0)
		return false;
	if (r < 0) {
		char hint[400];
		snprintf(hint, sizeof(hint),
			 "%s (a client that refuses the certificate does "
			 "not trust the CA bundle in SSL_CERT_FILE)",
			 why);
		nx_tls_failed(c, "client", hint);
		nx_conn_kill(c);
		return false;
	}
	if (!c->up.ssl) {
		nx_start_upstream_tls(c);
		return true;
	}
	c->state = S_TLS_UPSTREAM; /* its handshake goes on, or has ended */
	nx_set_deadline(c, T_CONNECT(c));
	return true;
}

/* S_TLS_UPSTREAM: our handshake with the upstream. */
bool nx_tls_upstream_step(struct conn *c)
{
	char why[256], reason[400];
	int r = c->inner.up_hs < 0 ? c->inner.up_hs
				   : nx_tls_handshake(c->up.ssl, c->up.tag.fd, why, sizeof(why));
	long vr;
	if (r == 0)
		return false;
	if (c->inner.up_hs < 0)
		snprintf(why, sizeof(why), "%s", c->inner.up_why); /* it failed early */
	c->inner.up_hs = 0;
	if (r < 0) {
		vr = SSL_get_verify_result(c->up.ssl);
		if (vr != X509_V_OK)
			snprintf(reason, sizeof(reason),
				 "the upstream's certificate is refused: %s",
				 X509_verify_cert_error_string(vr));
		else
			snprintf(reason, sizeof(reason), "TLS to the upstream failed: %s", why);
		nx_upstream_failed(c, 502, NX_SOCKS_FAILURE, reason);
		return true;
	}
	c->up_connected = true;
	snprintf(c->up_host, sizeof(c->up_host), "%s", c->inner.host);
	c->up_port = c->inner.port;
	if (c->proto == P_HTTP && c->fwd.method[0]) {
		/* dialled again for a request that is waiting */
		c->state = S_FORWARD;
		nx_set_deadline(c, T_RESPONSE);
	} else {
		c->state = S_HTTP_HEAD;
		nx_set_deadline(c, T_HEAD(c));
	}
	return true;
}
