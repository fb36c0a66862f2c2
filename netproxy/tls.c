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
 *
 * The ClientHello reader below is by hand: OpenSSL parses a ClientHello
 * only inside a handshake it is running, and an opaque tunnel's is never
 * ours to answer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netproxy_internal.h"
#include "ossl.h"
#include "resume.h"
#include "tls.h"

#define LEAF_CACHE     64
#define TRUST_MAX      32
#define TRUST_FILE_MAX (64 * 1024 * 1024)
/* certificates read from one trusted directory for the bundle */
#define TRUST_DIR_ENTRIES 4096
#define CERT_DAYS	  30

struct leaf {
	char host[NX_HOST_MAX];
	X509 *cert;
	unsigned long used;
};

struct netproxy_tls {
	EVP_PKEY *ca_key, *leaf_key;
	X509 *ca;
	char *ca_pem;
	char *upstream_ca;	/* the file, for the bundle */
	STACK_OF(X509) * extra; /* its certificates, and the caller's files'
				   (parsed on first use: trust_loaded) */
	bool trust_loaded;
	/* the caller's CA files and directories (netproxy_tls_add_trust); a
	 * file's bytes as read at start-up (trust_pem, freed once parsed):
	 * one the sandbox can write must not change what the proxy trusts */
	char *trust[TRUST_MAX];
	bool trust_dir[TRUST_MAX];
	char *trust_pem[TRUST_MAX];
	size_t trust_len[TRUST_MAX];
	struct stat trust_st[TRUST_MAX];
	size_t n_trust;
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

/* Version 3, a random serial, valid from an hour ago (clocks differ) for
 * CERT_DAYS. */
static X509 *cert_base(EVP_PKEY *key)
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
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) ||
	    !X509_set_pubkey(x, key))
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

static int make_ca(struct netproxy_tls *t, const struct policy *p,
		   const struct netproxy_credential *creds, size_t n, char *err, size_t err_size)
{
	X509_NAME *name;
	char cn[64], *nc = NULL;
	size_t nc_len = 0, nc_cap = 0;
	BIO *mem;
	BUF_MEM *bm;

	t->ca_key = EVP_EC_gen("P-256");
	if (!t->ca_key)
		return errf(err, err_size, "generating the interception CA's key"), -EIO;
	t->ca = cert_base(t->ca_key);
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

	/* permitted: each credential's names, and those of the method and
	 * path rules (their requests are read too); excluded: every IP address */
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
		return snprintf(err, err_size, "no host to intercept"), -EINVAL;
	snprintf(nc + nc_len, nc_cap - nc_len, "excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::");
	{
		char *full = malloc(strlen(nc) + 16);
		int r;
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

static bool hashed_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 10 || name[8] != '.')
		return false;
	for (size_t i = 0; i < 8; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	for (size_t i = 9; i < n; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/*
 * The system's roots, always (the caller's $SSL_CERT_FILE and $SSL_CERT_DIR
 * are added to them by netproxy_tls_add_trust, not put in their place):
 * the hashed directory, whose certificates are read only when a chain
 * needs one (the bundle file takes ~20 ms to parse); else the file.  Then
 * the caller's directories.
 */
static int load_roots(const struct netproxy_tls *t, SSL_CTX *ctx)
{
	const char *dir = X509_get_default_cert_dir();
	bool hashed = false;
	DIR *d;
	int r = -1;

	/* Debian's ca-certificates keeps a hash link (HHHHHHHH.0) per root */
	d = opendir(dir);
	for (struct dirent *e; d && !hashed && (e = readdir(d));)
		hashed = hashed_name(e->d_name);
	if (d)
		closedir(d);
	if (hashed && SSL_CTX_load_verify_dir(ctx, dir) == 1)
		r = 0;
	else if (SSL_CTX_load_verify_file(ctx, X509_get_default_cert_file()) == 1)
		r = 0;
	ERR_clear_error();
	for (size_t i = 0; i < t->n_trust; i++)
		if (t->trust_dir[i] && SSL_CTX_load_verify_dir(ctx, t->trust[i]) == 1)
			r = 0;
	ERR_clear_error();
	/* no system roots but the caller's files: those are the roots */
	return r == 0 || (t->extra && sk_X509_num(t->extra) > 0) ? 0 : -1;
}

/* The certificates of the caller's CA files, parsed here, on first use,
 * not at start-up: the usual one is the system's whole bundle (~150
 * certificates, ~20 ms to parse), and a run that never intercepts never
 * needs them.  Parsed from the bytes read at start-up, which
 * netproxy_tls_add_trust() checked hold a certificate: the file itself
 * may be the sandbox's to write by now. */
static int load_trust_files(struct netproxy_tls *t)
{
	if (t->trust_loaded)
		return 0;
	t->trust_loaded = true;
	for (size_t i = 0; i < t->n_trust; i++) {
		BIO *in;
		X509 *x;
		if (t->trust_dir[i] || !t->trust_pem[i])
			continue;
		if (!t->extra)
			t->extra = sk_X509_new_null();
		if (!t->extra)
			return -ENOMEM;
		in = BIO_new(BIO_s_mem());
		if (in &&
		    BIO_write(in, t->trust_pem[i], (int)t->trust_len[i]) != (int)t->trust_len[i]) {
			BIO_free(in);
			in = NULL;
		}
		while (in && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)))
			if (!sk_X509_push(t->extra, x))
				X509_free(x);
		BIO_free(in);
		ERR_clear_error();
		free(t->trust_pem[i]);
		t->trust_pem[i] = NULL;
	}
	return 0;
}

/* The TLS contexts are made on first use: a run that never intercepts
 * pays nothing for them. */
static int contexts(struct netproxy_tls *t)
{
	long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
		    SSL_MODE_RELEASE_BUFFERS;
	long opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF;
	X509_STORE *store;

	if (t->server && t->client)
		return 0;
	if (t->failed[0])
		return -EIO;
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
	if (load_trust_files(t) < 0)
		goto fail;
	if (SSL_CTX_set_alpn_protos(t->client, (const unsigned char *)"\x08http/1.1", 9) != 0 ||
	    nx_resume_setup(t->client, &t->resume) < 0 || load_roots(t, t->client) < 0)
		goto fail;
	store = SSL_CTX_get_cert_store(t->client);
	for (int i = 0; t->extra && i < sk_X509_num(t->extra); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(t->extra, i)) != 1)
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

int netproxy_tls_new(const struct policy *p, const struct netproxy_credential *creds, size_t n,
		     struct netproxy_tls **ret, char *err, size_t err_size)
{
	struct netproxy_tls *t;
	int r;

	/* the first use of OpenSSL in a run: loaded only now (ossl.h) */
	r = nx_ossl_load(err, err_size);
	if (r < 0)
		return r;
	/* the system's openssl.cnf is not read: the rules here are ours */
	if (!OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		return errf(err, err_size, "starting OpenSSL"), -EIO;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	r = make_ca(t, p, creds, n, err, err_size);
	if (r < 0)
		goto fail;

	if (p->net.upstream_ca) {
		/* read now, so a bad file refuses to start */
		BIO *in = BIO_new_file(p->net.upstream_ca, "r");
		X509 *x;
		if (!in) {
			snprintf(err, err_size, "[network] upstream_ca %s: %s", p->net.upstream_ca,
				 strerror(errno ? errno : EIO));
			ERR_clear_error();
			r = -EINVAL;
			goto fail;
		}
		t->extra = sk_X509_new_null();
		while (t->extra && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)))
			if (!sk_X509_push(t->extra, x))
				X509_free(x);
		BIO_free(in);
		ERR_clear_error();
		if (!t->extra || sk_X509_num(t->extra) == 0) {
			snprintf(err, err_size,
				 "[network] upstream_ca %s: not a PEM file of certificates",
				 p->net.upstream_ca);
			r = -EINVAL;
			goto fail;
		}
		t->upstream_ca = strdup(p->net.upstream_ca);
		if (!t->upstream_ca) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*ret = t;
	return 0;
fail:
	netproxy_tls_free(t);
	return r;
}

/*
 * The file at PATH, read whole into *RET (its size in *RET_LEN, its
 * identity in *RET_ST) when it holds a PEM certificate, by its header and
 * end lines alone (what PEM_read_bio_X509 reads: "CERTIFICATE" or "X509
 * CERTIFICATE"): the certificates are parsed on first use
 * (load_trust_files); a file that holds none is said at start-up, as
 * before.  -ENOENT when it cannot be read, -EINVAL when it holds no
 * certificate.
 */
/* Whether each certificate block of BUF is base64 that could hold one: a
 * parse would take OpenSSL at start-up (~1.5 ms to load, ~20 ms for the
 * system's bundle); this is a pass over the bytes. */
static bool pem_blocks_whole(const char *buf, size_t n)
{
	static const char begin[] = "-----BEGIN", end[] = "-----END";
	const char *p = buf, *stop = buf + n;

	while (p < stop) {
		const char *b = memmem(p, (size_t)(stop - p), begin, sizeof(begin) - 1);
		const char *body = b ? memchr(b, '\n', (size_t)(stop - b)) : NULL;
		const char *e =
		    body ? memmem(body, (size_t)(stop - body), end, sizeof(end) - 1) : NULL;
		size_t chars = 0;
		if (!b)
			return true;
		if (!e)
			return false;
		for (const char *c = body; c < e; c++) {
			if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			    (*c >= '0' && *c <= '9') || *c == '+' || *c == '/' || *c == '=')
				chars++;
			else if (*c != '\n' && *c != '\r' && *c != ' ' && *c != '\t')
				return false;
		}
		if (chars < 4 || chars % 4)
			return false;
		p = e + sizeof(end) - 1;
	}
	return true;
}

static int read_trust_file(const char *path, char **ret, size_t *ret_len, struct stat *ret_st)
{
	static const char *const heads[] = {"-----BEGIN CERTIFICATE-----",
					    "-----BEGIN X509 CERTIFICATE-----"};
	static const char *const tails[] = {"-----END CERTIFICATE-----",
					    "-----END X509 CERTIFICATE-----"};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	bool found = false;
	size_t got = 0;
	char *b;

	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TRUST_FILE_MAX) {
		close(fd);
		return -ENOENT;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	/* a header and, after it, its end line (a file cut short has none) */
	for (size_t i = 0; !found && i < sizeof(heads) / sizeof(heads[0]); i++) {
		const char *h = memmem(b, got, heads[i], strlen(heads[i]));
		found = h && memmem(h, got - (size_t)(h - b), tails[i], strlen(tails[i]));
	}
	/* and every certificate in it base64 (one damaged block makes
	 * OpenSSL's PEM loader refuse the whole bundle it goes into) */
	if (found && !pem_blocks_whole(b, got))
		found = false;
	if (!found) {
		free(b);
		return -EINVAL;
	}
	*ret = b;
	*ret_len = got;
	*ret_st = st;
	return 0;
}

int netproxy_tls_add_trust(struct netproxy_tls *t, const char *path, bool dir)
{
	for (size_t i = 0; i < t->n_trust; i++)
		if (strcmp(t->trust[i], path) == 0)
			return 0;
	if (t->n_trust == TRUST_MAX)
		return -E2BIG;
	t->trust_pem[t->n_trust] = NULL;
	if (!dir) {
		int r = read_trust_file(path, &t->trust_pem[t->n_trust], &t->trust_len[t->n_trust],
					&t->trust_st[t->n_trust]);
		if (r < 0)
			return r;
	}
	t->trust[t->n_trust] = strdup(path);
	if (!t->trust[t->n_trust]) {
		free(t->trust_pem[t->n_trust]);
		t->trust_pem[t->n_trust] = NULL;
		return -ENOMEM;
	}
	t->trust_dir[t->n_trust++] = dir;
	return 0;
}

/* The files already in a bundle, by identity, and its certificates: the
 * caller's variables usually all name the system's bundle (SSL_CERT_FILE,
 * CURL_CA_BUNDLE, ... = /etc/ssl/certs/ca-certificates.crt) and
 * SSL_CERT_DIR holds its roots once more, one file each: without this the
 * same certificates went in 3-4 times, a file of ~1 MB to write at every
 * start for nothing. */
struct appended {
	struct stat *v;
	size_t n;
	struct pem_block {
		uint64_t hash;
		size_t off, len;
	} * blocks;
	size_t n_blocks;
};

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/*
 * Drops from BUF[START, *LEN) each certificate that is, byte for byte, one
 * already in the bundle: the same certificate twice trusts nothing more,
 * and SSL_CERT_DIR's files are the system bundle's roots again, one by
 * one.  Everything else (other certificates, CRLs, comments) stays.
 */
static int drop_repeated_certs(char *buf, size_t start, size_t *len, struct appended *seen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----",
			  end[] = "-----END CERTIFICATE-----";
	size_t r = start, w = start;

	while (r < *len) {
		char *b = memmem(buf + r, *len - r, begin, sizeof(begin) - 1);
		char *e = b ? memmem(b, *len - (size_t)(b - buf), end, sizeof(end) - 1) : NULL;
		if (!e) {
			memmove(buf + w, buf + r, *len - r);
			w += *len - r;
			break;
		}
		size_t off = (size_t)(b - buf), blen = (size_t)(e - b) + sizeof(end) - 1;
		/* the block's last 64 bytes (the end of the signature and the
		 * END line) and its length tell certificates apart; memcmp()
		 * decides.  Hashing whole blocks (~500 KB with SSL_CERT_DIR's
		 * files) cost ~0.5 ms */
		size_t tail = blen < 64 ? blen : 64;
		uint64_t h = fnv1a(b + blen - tail, tail) ^ blen;
		bool dup = false;
		for (size_t i = 0; !dup && i < seen->n_blocks; i++)
			dup = seen->blocks[i].hash == h && seen->blocks[i].len == blen &&
			      memcmp(buf + seen->blocks[i].off, b, blen) == 0;
		memmove(buf + w, buf + r, off - r); /* what comes before it */
		w += off - r;
		r = off + blen;
		if (dup) {
			if (r < *len && buf[r] == '\n')
				r++;
			continue;
		}
		struct pem_block *v = realloc(seen->blocks, (seen->n_blocks + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		seen->blocks = v;
		v[seen->n_blocks++] = (struct pem_block){h, w, blen};
		memmove(buf + w, buf + off, blen);
		w += blen;
	}
	*len = w;
	return 0;
}

static bool seen_file(const struct appended *seen, const struct stat *st)
{
	for (size_t i = 0; i < seen->n; i++)
		if (seen->v[i].st_dev == st->st_dev && seen->v[i].st_ino == st->st_ino)
			return true;
	return false;
}

/* Appends LEN bytes of a file read before (identity ST) to *buf unless
 * it is in SEEN already. */
static int append_bytes(const char *bytes, size_t n, const struct stat *st, char **buf, size_t *len,
			struct appended *seen)
{
	char *b;

	if (seen_file(seen, st))
		return 0;
	struct stat *sv = realloc(seen->v, (seen->n + 1) * sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	seen->v = sv;
	sv[seen->n++] = *st;
	b = realloc(*buf, *len + n + 2);
	if (!b)
		return -ENOMEM;
	*buf = b;
	memcpy(b + *len, bytes, n);
	size_t start = *len;
	*len += n;
	if (*len && b[*len - 1] != '\n')
		b[(*len)++] = '\n';
	return drop_repeated_certs(b, start, len, seen);
}

/* Appends the file at PATH to *buf unless it is in SEEN already; a missing
 * file appends nothing. */
static int append_file(const char *path, char **buf, size_t *len, bool must, struct appended *seen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *b;

	if (fd < 0)
		return must ? -errno : 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TRUST_FILE_MAX) {
		close(fd);
		return must ? -EINVAL : 0;
	}
	if (seen_file(seen, &st)) {
		close(fd);
		return 0;
	}
	struct stat *sv = realloc(seen->v, (seen->n + 1) * sizeof(*sv));
	if (!sv) {
		close(fd);
		return -ENOMEM;
	}
	seen->v = sv;
	sv[seen->n++] = st;
	b = realloc(*buf, *len + (size_t)st.st_size + 2);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	*buf = b;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + *len + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	size_t start = *len;
	*len += got;
	if (*len && b[*len - 1] != '\n')
		b[(*len)++] = '\n';
	return drop_repeated_certs(b, start, len, seen);
}

int netproxy_tls_bundle(const struct netproxy_tls *t, char **pem, size_t *len, char *err,
			size_t err_size)
{
	char *buf = NULL;
	size_t n = 0;
	struct appended done = {0};
	int r;

	/* the system's bundle, then what the caller's clients trusted besides
	 * ($SSL_CERT_FILE, $NODE_EXTRA_CA_CERTS, ..., $SSL_CERT_DIR): a client
	 * pointed at the bundle trusts all of it */
	r = append_file(X509_get_default_cert_file(), &buf, &n, false, &done);
	if (r == 0 && n == 0)
		r = append_file("/etc/ssl/certs/ca-certificates.crt", &buf, &n, false, &done);
	for (size_t i = 0; r == 0 && i < t->n_trust; i++) {
		if (!t->trust_dir[i]) {
			/* the bytes the proxy's own verification will trust */
			if (t->trust_pem[i])
				r = append_bytes(t->trust_pem[i], t->trust_len[i], &t->trust_st[i],
						 &buf, &n, &done);
			continue;
		}
		DIR *d = opendir(t->trust[i]);
		size_t seen = 0;
		for (struct dirent *e; r == 0 && d && seen < TRUST_DIR_ENTRIES && (e = readdir(d));
		     seen++) {
			size_t l = strlen(e->d_name);
			char path[4096];
			/* the hashed names are links to the .pem/.crt beside
			 * them: one copy of each is enough */
			if (!(l > 4 && (strcmp(e->d_name + l - 4, ".pem") == 0 ||
					strcmp(e->d_name + l - 4, ".crt") == 0)) &&
			    !(hashed_name(e->d_name) && e->d_type == DT_REG))
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->trust[i], e->d_name) <
			    sizeof(path))
				r = append_file(path, &buf, &n, false, &done);
		}
		if (d)
			closedir(d);
	}
	if (r == 0 && t->upstream_ca)
		r = append_file(t->upstream_ca, &buf, &n, true, &done);
	free(done.v);
	free(done.blocks);
	if (r == 0) {
		size_t l = strlen(t->ca_pem);
		char *b = realloc(buf, n + l + 1);
		if (!b) {
			r = -ENOMEM;
		} else {
			buf = b;
			memcpy(buf + n, t->ca_pem, l + 1);
			n += l;
		}
	}
	if (r < 0) {
		snprintf(err, err_size, "building the CA bundle: %s", strerror(-r));
		free(buf);
		return r;
	}
	*pem = buf;
	*len = n;
	return 0;
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
	sk_X509_pop_free(t->extra, X509_free);
	/* EVP_PKEY_free clears the private key as it frees it */
	EVP_PKEY_free(t->ca_key);
	EVP_PKEY_free(t->leaf_key);
	X509_free(t->ca);
	free(t->ca_pem);
	free(t->upstream_ca);
	for (size_t i = 0; i < t->n_trust; i++) {
		free(t->trust[i]);
		free(t->trust_pem[i]);
	}
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
	x = t->leaf_key ? cert_base(t->leaf_key) : NULL;
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

/* ---- the ClientHello ------------------------------------------------------------------ */

/* Long: the ClientHello's fields read in wire order. */
enum nx_hello nx_client_hello(const uint8_t *p, size_t n, char sni[NX_HOST_MAX])
{
	uint8_t hs[65536];
	size_t hn = 0, off = 0, need = 0;

	sni[0] = '\0';
	if (n == 0)
		return NX_HELLO_MORE;
	if (p[0] != 0x16)
		return NX_HELLO_NOT_TLS;
	/* gather the handshake message from as many records as it spans */
	for (;;) {
		size_t rl;
		if (n - off < 5)
			return NX_HELLO_MORE;
		if (p[off] != 0x16 || p[off + 1] != 3)
			return NX_HELLO_BAD;
		rl = (size_t)p[off + 3] << 8 | p[off + 4];
		if (rl == 0 || rl > 16384 + 256)
			return NX_HELLO_BAD;
		if (n - off - 5 < rl)
			return NX_HELLO_MORE;
		if (hn + rl > sizeof(hs))
			return NX_HELLO_BAD;
		memcpy(hs + hn, p + off + 5, rl);
		hn += rl;
		off += 5 + rl;
		if (hn >= 4) {
			if (hs[0] != 1)
				return NX_HELLO_BAD; /* not a ClientHello */
			need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			if (need > sizeof(hs))
				return NX_HELLO_BAD;
			if (hn >= need)
				break;
		}
	}
	/* version(2) random(32) session_id cipher_suites compression extensions */
	size_t i = 4 + 2 + 32, end = need;
#define NEED(k)                                                                                    \
	do {                                                                                       \
		if (i + (k) > end)                                                                 \
			return NX_HELLO_BAD;                                                       \
	} while (0)
	NEED(1);
	i += 1 + hs[i];
	NEED(2);
	i += 2 + ((size_t)hs[i] << 8 | hs[i + 1]);
	NEED(1);
	i += 1 + hs[i];
	if (i == end)
		return NX_HELLO_OK; /* no extensions */
	NEED(2);
	size_t ext_end = i + 2 + ((size_t)hs[i] << 8 | hs[i + 1]);
	i += 2;
	if (ext_end > end)
		return NX_HELLO_BAD;
	end = ext_end;
	while (i < end) {
		NEED(4);
		unsigned type = (unsigned)hs[i] << 8 | hs[i + 1];
		size_t len = (size_t)hs[i + 2] << 8 | hs[i + 3];
		i += 4;
		NEED(len);
		if (type == 0) {
			/* server_name: list(2) { type(1)=0 len(2) name } */
			size_t j = i, lend = i + len, l;
			if (len < 2 || j + 2 + ((size_t)hs[j] << 8 | hs[j + 1]) != lend)
				return NX_HELLO_BAD;
			j += 2;
			if (j + 3 > lend || hs[j] != 0)
				return NX_HELLO_BAD;
			l = (size_t)hs[j + 1] << 8 | hs[j + 2];
			j += 3;
			if (l == 0 || l >= NX_HOST_MAX || j + l > lend)
				return NX_HELLO_BAD;
			for (size_t k = 0; k < l; k++) {
				uint8_t ch = hs[j + k];
				if (ch <= 0x20 || ch >= 0x7f)
					return NX_HELLO_BAD;
				sni[k] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
			}
			sni[l] = '\0';
		}
		i += len;
	}
#undef NEED
	return NX_HELLO_OK;
}

const char *nx_tls_error(const struct netproxy_tls *t)
{
	return t->failed[0] ? t->failed : "out of memory";
}
