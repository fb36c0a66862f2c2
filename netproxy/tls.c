/* SPDX-License-Identifier: MIT */
/*
 * TLS interception for the hosts a credential is bound to, with OpenSSL.
 *
 * The CA lives for one run: an ECDSA P-256 key made in memory at start-up,
 * a certificate that may sign only for the credentials' names (name
 * constraints; every IP address excluded) and no further CA (pathlen 0).
 * Leaf certificates share one key, made at the first interception, and are
 * signed on first use per host and cached.  Upstream servers are verified against the
 * system roots, the CA files and directories the caller's clients trusted
 * (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, ..., SSL_CERT_DIR) and [network]
 * upstream_ca: hostname, chain, expiry, TLS 1.2 at least.
 * What is trusted upstream besides the system's roots, and the bundle the
 * sandbox's clients get, are trust.c's; the ClientHello reader is
 * sniff.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "netproxy_internal.h"
#include "ossl.h"
#include "resume.h"
#include "tls.h"
#include "trust.h"

#define LEAF_CACHE 64
#define CERT_DAYS  30

struct leaf {
	char host[NX_HOST_MAX];
	X509 *cert;
	unsigned long used;
};

struct netproxy_tls {
	EVP_PKEY *ca_key, *leaf_key;
	X509 *ca;
	char *ca_pem;
	struct nx_trust trust;	  /* trust.c */
	SSL_CTX *server, *client; /* made on first use */
	char failed[256];	  /* why they could not be, for every later use */
	struct leaf cache[LEAF_CACHE];
	unsigned long tick;
	struct nx_resume resume; /* upstream sessions (resume.c) */
};

static void errf(char *err, size_t size, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, size, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/*
 * The CA's public key into its certificate as its SubjectPublicKeyInfo,
 * put together here: X509_set_pubkey() encodes the key through OpenSSL's
 * encoders and decodes the result back, and the first use builds the
 * tables of both (~1 ms of a credential's start).  The key is P-256: the
 * id-ecPublicKey algorithm, the named curve and the uncompressed point, the
 * encoding X509_set_pubkey() gives (test_cred checks both).  The
 * certificate then holds no decoded key (X509_get0_pubkey() is NULL):
 * only its PEM, its name and its key identifier are read.  A leaf, which a
 * handshake presents, is given its key by X509_set_pubkey().
 */
static int set_pubkey(X509 *x, EVP_PKEY *key)
{
	unsigned char pt[65], *enc;
	size_t len = 0;

	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) ||
	    len != sizeof(pt) || pt[0] != POINT_CONVERSION_UNCOMPRESSED)
		return 0;
	enc = OPENSSL_malloc(len);
	if (!enc)
		return 0;
	memcpy(enc, pt, len);
	/* ENC is the certificate's once this succeeds, ours if it fails */
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
				    V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), enc,
				    (int)len)) {
		OPENSSL_free(enc);
		return 0;
	}
	return 1;
}

/* A certificate's common part: version 3, a random serial, valid from an
 * hour ago (clocks differ) for CERT_DAYS, and KEY (put in by WITH_KEY). */
static X509 *cert_base(EVP_PKEY *key, int (*with_key)(X509 *, EVP_PKEY *))
{
	X509 *x = X509_new();
	unsigned char rnd[16];
	BIGNUM *bn = NULL;

	if (!x || !X509_set_version(x, 2) || RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto fail;
	rnd[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) || !with_key(x, key))
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* "name" or "*.suffix", maybe with ":port": the name a constraint takes. */
static void rule_name(const char *rule, char *out, size_t size)
{
	const char *colon = strrchr(rule, ':');
	size_t n = colon ? (size_t)(colon - rule) : strlen(rule);

	if (n >= 2 && rule[0] == '*' && rule[1] == '.') {
		/* subdomains only: OpenSSL reads a leading dot that way */
		rule++;
		n--;
	}
	snprintf(out, size, "%.*s", (int)n, rule);
}

/* Appends "permitted;DNS:NAME," for a host rule to NC; -ENOMEM. */
static int permit(char **nc, size_t *len, size_t *cap, const char *rule)
{
	char h[NX_HOST_MAX + 2];
	/* room for this one and the exclusions that end the list */
	size_t need;

	rule_name(rule, h, sizeof(h));
	need = *len + strlen(h) + 32 + 64;
	if (need > *cap) {
		char *m = realloc(*nc, need * 2);
		if (!m)
			return -ENOMEM;
		*nc = m;
		*cap = need * 2;
	}
	*len += (size_t)snprintf(*nc + *len, *cap - *len, "permitted;DNS:%s,", h);
	return 0;
}

/* The host of a method and path rule's text ("[METHODS ]SCHEME://HOST[:PORT]/PATH"),
 * as a host rule: what the CA may name when its requests are read. */
static void http_rule_host(const char *rule, char *out, size_t size)
{
	const char *sep = strstr(rule, "://"), *end;

	out[0] = '\0';
	if (!sep)
		return;
	sep += 3;
	end = sep + strcspn(sep, "/");
	snprintf(out, size, "%.*s", (int)(end - sep), sep);
}

/* The CA's name constraints into RET (NULL when no host is named):
 * permitted, each credential's names and those of the method and path
 * rules (their requests are read too); excluded, every IP address. */
static int permitted_names(const struct policy *p, const struct netproxy_credential *creds,
			   size_t n, char **ret)
{
	char *nc = NULL;
	size_t nc_len = 0, nc_cap = 0;

	*ret = NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < creds[i].hosts->n; j++)
			if (permit(&nc, &nc_len, &nc_cap, creds[i].hosts->items[j].value) < 0) {
				free(nc);
				return -ENOMEM;
			}
	for (int k = 0; k < 2; k++) {
		const struct policy_list *l = k ? &p->net.deny_http : &p->net.allow_http;
		for (size_t j = 0; j < l->n; j++) {
			char h[NX_HOST_MAX + 16];
			http_rule_host(l->items[j].value, h, sizeof(h));
			if (h[0] && permit(&nc, &nc_len, &nc_cap, h) < 0) {
				free(nc);
				return -ENOMEM;
			}
		}
	}
	if (!nc && p->net.intercept_all) {
		/* learn --intercept: every name is read, so that a key sent
		 * over HTTPS is seen; the CA lives for this one run and its key
		 * never leaves the supervisor */
		nc_cap = 128;
		nc = calloc(1, nc_cap);
		if (!nc)
			return -ENOMEM;
	}
	if (!nc)
		return 0;
	snprintf(nc + nc_len, nc_cap - nc_len, "excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::");
	*ret = nc;
	return 0;
}

static int make_ca(struct netproxy_tls *t, const struct policy *p,
		   const struct netproxy_credential *creds, size_t n, char *err, size_t err_size)
{
	X509_NAME *name;
	char cn[64], *nc = NULL;
	BIO *mem;
	BUF_MEM *bm;
	int r;

	t->ca_key = EVP_EC_gen("P-256");
	if (!t->ca_key)
		return errf(err, err_size, "generating the interception CA's key"), -EIO;
	t->ca = cert_base(t->ca_key, set_pubkey);
	if (!t->ca)
		return errf(err, err_size, "making the interception CA"), -EIO;
	name = X509_get_subject_name(t->ca);
	snprintf(cn, sizeof(cn), "ringfence interception CA (pid %d)", (int)getpid());
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ringfence",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
					0) ||
	    !X509_set_issuer_name(t->ca, name))
		return errf(err, err_size, "naming the interception CA"), -EIO;

	r = permitted_names(p, creds, n, &nc);
	if (r < 0)
		return r;
	if (!nc)
		return snprintf(err, err_size, "no host to intercept"), -EINVAL;
	{
		char *full = malloc(strlen(nc) + 16);
		if (!full) {
			free(nc);
			return -ENOMEM;
		}
		sprintf(full, "critical,%s", nc);
		r = add_ext(t->ca, t->ca, NID_name_constraints, full);
		free(full);
		free(nc);
		if (r < 0)
			return errf(err, err_size, "constraining the interception CA to its hosts"),
			       -EIO;
	}
	if (add_ext(t->ca, t->ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(t->ca, t->ca, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(t->ca, t->ca, NID_subject_key_identifier, "hash") < 0 ||
	    !X509_sign(t->ca, t->ca_key, EVP_sha256()))
		return errf(err, err_size, "signing the interception CA"), -EIO;

	mem = BIO_new(BIO_s_mem());
	if (!mem || !PEM_write_bio_X509(mem, t->ca)) {
		BIO_free(mem);
		return errf(err, err_size, "writing the interception CA"), -EIO;
	}
	BIO_get_mem_ptr(mem, &bm);
	t->ca_pem = strndup(bm->data, bm->length);
	BIO_free(mem);
	return t->ca_pem ? 0 : -ENOMEM;
}

/* Offers only HTTP/1.1: the proxy reads HTTP/1.1 inside. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned i = 0; i < inlen;) {
		unsigned l = in[i];
		if (i + 1 + l > inlen)
			break;
		if (l == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = 8;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + l;
	}
	return SSL_TLSEXT_ERR_NOACK; /* then HTTP/1.1 is what a client assumes */
}

/* The TLS contexts are made on first use: a run that never intercepts
 * pays nothing for them. */
static int contexts(struct netproxy_tls *t)
{
	long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
		    SSL_MODE_RELEASE_BUFFERS;
	long opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF;
	if (t->server && t->client)
		return 0;
	if (t->failed[0])
		return -EIO;
	if (!OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL))
		goto fail;
	t->server = SSL_CTX_new(TLS_server_method());
	t->client = SSL_CTX_new(TLS_client_method());
	if (!t->server || !t->client)
		goto fail;
	SSL_CTX_set_min_proto_version(t->server, TLS1_2_VERSION);
	SSL_CTX_set_min_proto_version(t->client, TLS1_2_VERSION);
	SSL_CTX_set_mode(t->server, mode);
	SSL_CTX_set_mode(t->client, mode);
	SSL_CTX_set_options(t->server, opts);
	SSL_CTX_set_options(t->client, opts);
	SSL_CTX_set_alpn_select_cb(t->server, alpn_select, NULL);
	SSL_CTX_set_session_id_context(t->server, (const unsigned char *)"ringfence", 9);
	SSL_CTX_set_verify(t->client, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_alpn_protos(t->client, (const unsigned char *)"\x08http/1.1", 9) != 0 ||
	    nx_resume_setup(t->client, &t->resume) < 0 || nx_trust_roots(&t->trust, t->client) < 0)
		goto fail;
	ERR_clear_error();
	return 0;
fail:
	errf(t->failed, sizeof(t->failed), "cannot set up TLS (the system's trusted roots?)");
	SSL_CTX_free(t->server);
	SSL_CTX_free(t->client);
	t->server = t->client = NULL;
	return -EIO;
}

int netproxy_digest(bool sha256, const struct iovec *iov, size_t n, unsigned char *out)
{
	char err[256];
	unsigned int len = 0;

	if (nx_ossl_load(err, sizeof(err)) < 0 ||
	    !OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL))
		return -ENOENT;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c && EVP_DigestInit_ex(c, sha256 ? EVP_sha256() : EVP_sha1(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, iov[i].iov_base, iov[i].iov_len);
	ok = ok && EVP_DigestFinal_ex(c, out, &len) && len == (sha256 ? 32u : 20u);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -EIO;
}

int netproxy_tls_new(const struct policy *p, const struct netproxy_credential *creds, size_t n,
		     struct netproxy_tls **ret, char *err, size_t err_size)
{
	struct netproxy_tls *t;
	int r;

	/* the first use of OpenSSL in a run: loaded only now (ossl.h) */
	r = nx_ossl_load(err, err_size);
	if (r < 0)
		return r;
	/* the system's openssl.cnf is not read: the rules here are ours.  No
	 * clean-up at exit: freeing every provider and table cost ~1-2 ms at
	 * the end of each run, for memory the exit frees anyway (the keys are
	 * cleared as they are freed, netproxy_tls_free).  libcrypto only: the
	 * CA needs no more, and libssl's own start (its ciphers' and digests'
	 * tables, ~0.4 ms) waits for the first connection (contexts()) */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL))
		return errf(err, err_size, "starting OpenSSL"), -EIO;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	r = make_ca(t, p, creds, n, err, err_size);
	if (r < 0)
		goto fail;

	if (p->net.upstream_ca) {
		r = nx_trust_upstream(&t->trust, p->net.upstream_ca, err, err_size);
		if (r < 0)
			goto fail;
	}
	*ret = t;
	return 0;
fail:
	netproxy_tls_free(t);
	return r;
}

int netproxy_tls_add_trust(struct netproxy_tls *t, const char *path, bool dir)
{
	return nx_trust_add(&t->trust, path, dir);
}

int netproxy_tls_write_bundle(const struct netproxy_tls *t, int fd, char *err, size_t err_size)
{
	return nx_trust_write_bundle(&t->trust, t->ca_pem, fd, err, err_size);
}

void netproxy_tls_free(struct netproxy_tls *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < LEAF_CACHE; i++) {
		X509_free(t->cache[i].cert);
	}
	SSL_CTX_free(t->server);
	SSL_CTX_free(t->client);
	nx_resume_free(&t->resume);
	/* EVP_PKEY_free clears the private key as it frees it */
	EVP_PKEY_free(t->ca_key);
	EVP_PKEY_free(t->leaf_key);
	X509_free(t->ca);
	free(t->ca_pem);
	nx_trust_free(&t->trust);
	free(t);
}

/* ---- per connection ---------------------------------------------------------------- */

/* Long: the cache, then one leaf built by a checked sequence of
 * OpenSSL calls. */
static struct leaf *leaf_for(struct netproxy_tls *t, const char *host)
{
	struct leaf *victim = &t->cache[0];
	char san[NX_HOST_MAX + 8];
	X509 *x;

	t->tick++;
	for (size_t i = 0; i < LEAF_CACHE; i++) {
		if (t->cache[i].cert && strcmp(t->cache[i].host, host) == 0) {
			t->cache[i].used = t->tick;
			return &t->cache[i];
		}
		if (t->cache[i].used < victim->used)
			victim = &t->cache[i];
	}
	/* one key for every leaf, made with the first */
	if (!t->leaf_key)
		t->leaf_key = EVP_EC_gen("P-256");
	x = t->leaf_key ? cert_base(t->leaf_key, X509_set_pubkey) : NULL;
	if (!x) {
		ERR_clear_error();
		return NULL;
	}
	snprintf(san, sizeof(san), "DNS:%s", host);
	if ((strlen(host) < 64 &&
	     !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					 (const unsigned char *)host, -1, -1, 0)) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(t->ca)) ||
	    add_ext(x, t->ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, t->ca, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, t->ca, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, t->ca, NID_subject_alt_name, san) < 0 ||
	    add_ext(x, t->ca, NID_authority_key_identifier, "keyid:always") < 0 ||
	    !X509_sign(x, t->ca_key, EVP_sha256())) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	X509_free(victim->cert);
	*victim = (struct leaf){.cert = x, .used = t->tick};
	snprintf(victim->host, sizeof(victim->host), "%s", host);
	return victim;
}

SSL *nx_tls_server(struct netproxy_tls *t, const char *host)
{
	struct leaf *l;
	SSL *ssl;

	if (contexts(t) < 0)
		return NULL;
	l = leaf_for(t, host);
	if (!l)
		return NULL;
	ssl = SSL_new(t->server);
	if (!ssl)
		return NULL;
	if (SSL_use_certificate(ssl, l->cert) != 1 || SSL_use_PrivateKey(ssl, t->leaf_key) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

SSL *nx_tls_client(struct netproxy_tls *t, const char *host)
{
	SSL *ssl;

	if (contexts(t) < 0)
		return NULL;
	ssl = SSL_new(t->client);
	if (!ssl)
		return NULL;
	if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	nx_resume_offer(&t->resume, ssl, host);
	SSL_set_connect_state(ssl);
	return ssl;
}

const char *nx_tls_error(const struct netproxy_tls *t)
{
	return t->failed[0] ? t->failed : "out of memory";
}
