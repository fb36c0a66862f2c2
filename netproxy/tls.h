/* SPDX-License-Identifier: MIT */
/*
 * netproxy/ — the TLS pieces the engine uses (OpenSSL types); nothing
 * outside netproxy/ includes this file.
 */
#ifndef RINGFENCE_NETPROXY_TLS_H
#define RINGFENCE_NETPROXY_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "netproxy.h"

/* A server-side SSL presenting a certificate for HOST signed by the run's
 * CA; *fresh when the certificate was made for this call (not cached). */
SSL *nx_tls_server(struct netproxy_tls *t, const char *host, bool *fresh);
/* A client-side SSL for HOST: SNI, hostname verification, a cached
 * session when there is one. */
SSL *nx_tls_client(struct netproxy_tls *t, const char *host);
/* Keeps the upstream's session for HOST, for the next connection. */
void nx_tls_keep_session(struct netproxy_tls *t, const char *host, SSL *ssl);

#endif
