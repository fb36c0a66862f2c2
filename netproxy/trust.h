/* SPDX-License-Identifier: MIT */
/*
 * netproxy/ — what the upstream side trusts besides the system's roots, and
 * the bundle the sandbox's clients get (trust.c).
 */
#ifndef RINGFENCE_NETPROXY_TRUST_H
#define RINGFENCE_NETPROXY_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "ossl.h"

#define TRUST_MAX      32
#define TRUST_FILE_MAX (64 * 1024 * 1024)

struct nx_trust {
	char *upstream_ca;	/* [network] upstream_ca, for the bundle */
	STACK_OF(X509) * extra; /* its certificates, and the caller's files'
				   (parsed on first use: loaded) */
	bool loaded;
	/* the caller's CA files and directories (nx_trust_add); a file's
	 * bytes as read at start-up (pem, freed once parsed): one the
	 * sandbox can write must not change what the proxy trusts */
	char *path[TRUST_MAX];
	bool dir[TRUST_MAX];
	char *pem[TRUST_MAX];
	size_t len[TRUST_MAX];
	struct stat st[TRUST_MAX];
	size_t n;
};

/* [network] upstream_ca at PATH, read and parsed now; -EINVAL with ERR. */
int nx_trust_upstream(struct nx_trust *t, const char *path, char *err, size_t err_size);
/* A CA file (read now: -ENOENT, -EINVAL when it holds no certificate) or
 * directory the caller's clients trusted; -E2BIG past TRUST_MAX. */
int nx_trust_add(struct nx_trust *t, const char *path, bool dir);
/* CTX's roots: the system's, the caller's files (parsed now, once) and
 * directories, upstream_ca; -EIO. */
int nx_trust_roots(struct nx_trust *t, SSL_CTX *ctx);
/* The bundle, written to FD: the system's, the caller's, upstream_ca, then
 * CA_PEM; -errno with ERR. */
int nx_trust_write_bundle(const struct nx_trust *t, const char *ca_pem, int fd, char *err,
			  size_t err_size);
void nx_trust_free(struct nx_trust *t);

#endif
