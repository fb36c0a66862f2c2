/* SPDX-License-Identifier: MIT */
/*
 * netproxy/resume — upstream TLS sessions kept for resumption (resume.c).
 */
#ifndef RINGFENCE_NETPROXY_RESUME_H
#define RINGFENCE_NETPROXY_RESUME_H

#include <stdbool.h>

#include "ossl.h"

#define NX_RESUME_MAX 64

struct nx_resume_entry {
	char host[254]; /* NX_HOST_MAX */
	SSL_SESSION *s;
	unsigned long used;
};

struct nx_resume {
	struct nx_resume_entry e[NX_RESUME_MAX];
	unsigned long tick;
};

/* Makes CLIENT keep its upstreams' sessions in R: 0 or -1. */
int nx_resume_setup(SSL_CTX *client, struct nx_resume *r);
/* Offers SSL (a client for HOST, before its handshake) the session kept for
 * HOST, if any. */
void nx_resume_offer(struct nx_resume *r, SSL *ssl, const char *host);
void nx_resume_free(struct nx_resume *r);

#endif
