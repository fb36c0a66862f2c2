/* SPDX-License-Identifier: MIT */
/*
 * netproxy/ — the TLS pieces the engine uses (OpenSSL types); nothing
 * outside netproxy/ includes this file.
 */
#ifndef RINGFENCE_NETPROXY_TLS_H
#define RINGFENCE_NETPROXY_TLS_H

#include <stdbool.h>

#include "netproxy.h"
#include "ossl.h"

/* A server-side SSL presenting a certificate for HOST signed by the run's
 * CA (cached per host). */
SSL *nx_tls_server(struct netproxy_tls *t, const char *host);
/* A client-side SSL for HOST: SNI and hostname verification. */
SSL *nx_tls_client(struct netproxy_tls *t, const char *host);
/* Why the last two returned NULL. */
const char *nx_tls_error(const struct netproxy_tls *t);

#endif
