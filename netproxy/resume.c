/* SPDX-License-Identifier: MIT */
/*
 * Upstream TLS sessions kept for resumption, by host name.
 *
 * A new intercepted connection opens a TLS connection of the proxy's own to
 * the upstream; a full handshake verifies the upstream's chain and its
 * signature each time (the larger part of what interception adds to a new
 * connection).  The session tickets an upstream sends after a verified
 * handshake are kept here, one per host, and offered by the next
 * connection to that host: only the server that issued a ticket can take
 * it, and one that does not answers with a full handshake, verified as
 * before.  A session is only ever offered to the name it was verified for
 * (the SNI and the name SSL_set1_host() checks are that same name), never
 * to another: the key is the whole host name.
 */
#include <string.h>

#include "resume.h"

/* The proxy's cache, found from an SSL in the callback. */
static int resume_index = 0; /* SSL_CTX ex_data slot 0: the context is ours alone */

static struct nx_resume_entry *find(struct nx_resume *r, const char *host, bool take)
{
	struct nx_resume_entry *victim = &r->e[0];

	for (size_t i = 0; i < NX_RESUME_MAX; i++) {
		if (r->e[i].s && strcmp(r->e[i].host, host) == 0)
			return &r->e[i];
		if (r->e[i].used < victim->used)
			victim = &r->e[i];
	}
	return take ? victim : NULL;
}

/* OpenSSL's new-session callback: a ticket arrived on a verified
 * connection (after the handshake, whose verification failing ends it). */
static int new_session(SSL *ssl, SSL_SESSION *s)
{
	struct nx_resume *r = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), resume_index);
	const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct nx_resume_entry *e;

	if (!r || !host || strlen(host) >= sizeof(((struct nx_resume_entry *)0)->host) ||
	    !SSL_SESSION_is_resumable(s) || SSL_get_verify_result(ssl) != X509_V_OK)
		return 0; /* not kept: OpenSSL frees it */
	e = find(r, host, true);
	if (e->s)
		SSL_SESSION_free(e->s);
	/* a copy: OpenSSL marks a connection's own session unusable when the
	 * connection ends without a close_notify, as the proxy's often do */
	e->s = SSL_SESSION_dup(s);
	e->used = ++r->tick;
	memcpy(e->host, host, strlen(host) + 1);
	if (!e->s)
		*e = (struct nx_resume_entry){0};
	return 0; /* the connection's own stays OpenSSL's */
}

int nx_resume_setup(SSL_CTX *client, struct nx_resume *r)
{
	/* the client side keeps no cache of its own: this one, by name */
	SSL_CTX_set_session_cache_mode(client,
				       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(client, new_session);
	return SSL_CTX_set_ex_data(client, resume_index, r) == 1 ? 0 : -1;
}

void nx_resume_offer(struct nx_resume *r, SSL *ssl, const char *host)
{
	struct nx_resume_entry *e = find(r, host, false);
	SSL_SESSION *d;

	if (!e)
		return;
	/* a copy again, so that the kept one is never attached to a
	 * connection whose end could mark it unusable */
	d = SSL_SESSION_dup(e->s);
	if (d && SSL_set_session(ssl, d) == 1)
		e->used = ++r->tick;
	if (d)
		SSL_SESSION_free(d); /* the connection holds its own reference */
	ERR_clear_error();
}

void nx_resume_free(struct nx_resume *r)
{
	for (size_t i = 0; i < NX_RESUME_MAX; i++) {
		if (r->e[i].s)
			SSL_SESSION_free(r->e[i].s);
		r->e[i] = (struct nx_resume_entry){0};
	}
}
