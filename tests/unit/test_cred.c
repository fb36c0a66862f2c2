/* SPDX-License-Identifier: MIT */
/* Placeholder credentials in request heads, base64, the ClientHello reader,
 * and requests inside a stream to one origin. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "../../netproxy/netproxy_internal.h"

#define PH_GH	   "ringfence_github_AAAAAAAAAAAAAAAAAAAAAAAA"
#define PH_NPM	   "ringfence_npm_BBBBBBBBBBBBBBBBBBBBBBBB"
#define SECRET_GH  "ghp_s3cret"
#define SECRET_NPM "npm_other_secret_value"

static struct policy_item gh_items[] = {{.value = "api.github.com"},
					{.value = "*.githubusercontent.com"}};
static struct policy_item npm_items[] = {{.value = "registry.example.org"}};
static struct policy_list gh_hosts = {gh_items, 2, 2};
static struct policy_list npm_hosts = {npm_items, 1, 1};

static const struct nx_cred creds[] = {
    {"github", PH_GH, sizeof(PH_GH) - 1, SECRET_GH, sizeof(SECRET_GH) - 1, &gh_hosts, false,
     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
    {"npm", PH_NPM, sizeof(PH_NPM) - 1, SECRET_NPM, sizeof(SECRET_NPM) - 1, &npm_hosts, false,
     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
};

struct rw {
	int ret;
	char out[4096];
	struct nx_cred_ctx x;
};

static void rewrite(struct rw *w, const char *host, uint16_t port, enum nx_cred_where where,
		    const char *in)
{
	size_t n = 0;

	nx_cred_ctx_init(&w->x, creds, 2, host, port);
	w->ret = nx_cred_field(&w->x, where, in, strlen(in), w->out, sizeof(w->out) - 1, &n);
	w->out[w->ret > 0 ? n : 0] = '\0';
}

/* ---- trust carried over into the bundle ------------------------------- */

static struct netproxy_tls *new_tls(void)
{
	struct policy *p = NULL;
	struct policy_error err;
	struct netproxy_tls *t = NULL;
	char msg[256];

	assert_int_equal(policy_load_string("t.ini", "[network]\nmode = proxy\n", NULL, &p, &err),
			 0);
	assert_int_equal(netproxy_tls_new(p, creds, 2, &t, msg, sizeof(msg)), 0);
	policy_free(p);
	return t;
}

/* The bundle as written to a file, read back whole. */
static char *bundle_of(struct netproxy_tls *t)
{
	FILE *f = tmpfile();
	char msg[256], *pem;
	long n;

	assert_non_null(f);
	assert_int_equal(netproxy_tls_write_bundle(t, fileno(f), msg, sizeof(msg)), 0);
	n = lseek(fileno(f), 0, SEEK_CUR);
	assert_true(n > 0);
	pem = calloc(1, (size_t)n + 1);
	assert_non_null(pem);
	assert_int_equal(pread(fileno(f), pem, (size_t)n, 0), n);
	fclose(f);
	assert_int_equal(strlen(pem), (size_t)n);
	return pem;
}

/* The CA's public key, put into its certificate by hand (tls.c's
 * set_pubkey), is the one its signature verifies with, and is encoded as
 * OpenSSL's encoders encode it (named curve, uncompressed point). */
static void test_the_ca_names_the_key_that_signed_it(void **state)
{
	(void)state;
	struct netproxy_tls *t = new_tls();
	char *pem = bundle_of(t);
	char *ca = strstr(pem, "-----BEGIN CERTIFICATE-----"), *next;
	while ((next = strstr(ca + 1, "-----BEGIN CERTIFICATE-----")))
		ca = next;
	BIO *b = BIO_new_mem_buf(ca, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	assert_non_null(x);
	EVP_PKEY *k = X509_get0_pubkey(x);
	assert_non_null(k);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	assert_int_equal(X509_verify(x, k), 1);
	unsigned char *ours = NULL, *theirs = NULL;
	int n_ours = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &ours);
	int n_theirs = i2d_PUBKEY(k, &theirs);
	assert_int_equal(n_ours, 91); /* a P-256 SubjectPublicKeyInfo */
	assert_int_equal(n_ours, n_theirs);
	assert_memory_equal(ours, theirs, (size_t)n_ours);
	OPENSSL_free(ours);
	OPENSSL_free(theirs);
	X509_free(x);
	BIO_free(b);
	free(pem);
	netproxy_tls_free(t);
}

/* Count of NEEDLE in HAY. */
static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *h = hay; (h = strstr(h, needle)); h++)
		n++;
	return n;
}

/* A caller's CA file holding its private key beside the certificate (as
 * mitmproxy's -ca.pem does), a CRL and OpenSSL's TRUSTED CERTIFICATE form:
 * the certificates go into the bundle, which the command reads, nothing
 * else (the key was copied whole: an outside review). */
static void test_only_certificates_reach_the_bundle(void **state)
{
	(void)state;
	static const char one[] =
	    "-----BEGIN CERTIFICATE-----\nT05FT05F\n-----END CERTIFICATE-----",
			  two[] =
			      "-----BEGIN CERTIFICATE-----\nVFdPVFdP\n-----END CERTIFICATE-----";
	struct netproxy_tls *t = new_tls();
	char path[] = "/tmp/rf-keyed-XXXXXX", *after, want[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fprintf(f,
		"-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZ\n-----END PRIVATE KEY-----\n%s\n"
		"-----BEGIN EC PRIVATE KEY-----\nRUNLRVk=\n-----END EC PRIVATE KEY-----\n"
		"-----BEGIN X509 CRL-----\nQ1JM\n-----END X509 CRL-----\n"
		"-----BEGIN TRUSTED CERTIFICATE-----\nVFJVU1RFRA==\n-----END TRUSTED "
		"CERTIFICATE-----\n%s\n",
		one, two);
	fclose(f);
	assert_int_equal(netproxy_tls_add_trust(t, path, false), 0);
	after = bundle_of(t);
	snprintf(want, sizeof(want), "%s\n", one);
	assert_int_equal(occurrences(after, want), 1);
	snprintf(want, sizeof(want), "%s\n", two);
	assert_int_equal(occurrences(after, want), 1);
	assert_null(strstr(after, "PRIVATE"));
	assert_null(strstr(after, "U0VDUkVUS0VZ"));
	assert_null(strstr(after, "RUNLRVk="));
	assert_null(strstr(after, "CRL"));
	assert_null(strstr(after, "TRUSTED"));
	unlink(path);
	free(after);
	netproxy_tls_free(t);
}

/* A caller's CA file goes into the bundle once; a file without a
 * certificate, or none at all, is refused and left out. */
static void test_trust_files_reach_the_bundle(void **state)
{
	(void)state;
	struct netproxy_tls *a = new_tls(), *b = new_tls();
	char *pa = bundle_of(a), *pb;
	/* A's own CA is the last certificate of its bundle */
	char *ca = strstr(pa, "-----BEGIN CERTIFICATE-----"), *next;
	while ((next = strstr(ca + 1, "-----BEGIN CERTIFICATE-----")))
		ca = next;
	char dir[] = "/tmp/rf-trust-XXXXXX", file[64], junk[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/a.pem", dir);
	snprintf(junk, sizeof(junk), "%s/junk", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs(ca, f);
	fclose(f);
	f = fopen(junk, "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);

	pb = bundle_of(b);
	assert_null(strstr(pb, ca));
	free(pb);
	assert_int_equal(netproxy_tls_add_trust(b, file, false), 0);
	assert_int_equal(netproxy_tls_add_trust(b, file, false), 0); /* once */
	assert_int_equal(netproxy_tls_add_trust(b, junk, false), -EINVAL);
	assert_int_equal(netproxy_tls_add_trust(b, "/nonexistent/ca.pem", false), -ENOENT);
	pb = bundle_of(b);
	char *hit = strstr(pb, ca);
	assert_non_null(hit);
	assert_null(strstr(hit + 1, ca));
	assert_null(strstr(pb, "not a certificate"));
	free(pb);

	/* a directory: its .pem files */
	struct netproxy_tls *c = new_tls();
	assert_int_equal(netproxy_tls_add_trust(c, dir, true), 0);
	pb = bundle_of(c);
	assert_non_null(strstr(pb, ca));
	assert_null(strstr(pb, "not a certificate"));
	free(pb);

	unlink(file);
	unlink(junk);
	rmdir(dir);
	free(pa);
	netproxy_tls_free(a);
	netproxy_tls_free(b);
	netproxy_tls_free(c);
}

/* Dashes outside the blocks (a comment, a header with one dash more) do
 * not hide a block from the scan: the repeat of it is still left out. */
static void test_dashes_around_blocks(void **state)
{
	(void)state;
	static const char block[] =
	    "-----BEGIN CERTIFICATE-----\nQUJDRUZH\n-----END CERTIFICATE-----\n";
	struct netproxy_tls *t = new_tls();
	char path[] = "/tmp/rf-dashes-XXXXXX", *after, want[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fprintf(f, "# ---- not a block -----\n-%s%s", block, block);
	fclose(f);
	assert_int_equal(netproxy_tls_add_trust(t, path, false), 0);
	after = bundle_of(t);
	snprintf(want, sizeof(want), "%s", block);
	assert_int_equal(occurrences(after, want), 1);
	assert_int_equal(occurrences(after, "QUJDRUZH"), 1);
	assert_null(strstr(after, "not a block")); /* what is no certificate stays out */
	unlink(path);
	free(after);
	netproxy_tls_free(t);
}

/*
 * A directory of more files than one writev() takes pieces (IOV_MAX), each
 * a comment and a certificate of its own, half without a final newline,
 * then a file of two certificates met before: every file's certificate
 * goes in once, whole, none runs into the next, the comments and the
 * repeats not at all, and the CA last, after what the bundle held without
 * them.
 */
static void test_bundle_of_many_pieces(void **state)
{
	(void)state;
	enum { FILES = 1500 };
	struct netproxy_tls *t = new_tls();
	char dir[] = "/tmp/rf-pieces-XXXXXX", path[96], one[256];
	char *before = bundle_of(t), *after;
	size_t want = strlen(before);
	FILE *f;

	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < FILES; i++) {
		int n = snprintf(one, sizeof(one),
				 "# file %04d\n-----BEGIN CERTIFICATE-----\nQUJD%04dRUZH\n-----END "
				 "CERTIFICATE-----%s",
				 i, i, i % 2 ? "\n" : "");
		snprintf(path, sizeof(path), "%s/c%04d.pem", dir, i);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(one, f);
		fclose(f);
		/* the certificate and one newline: "# file NNNN\n" left out */
		want += (size_t)n - (i % 2 ? 1 : 0) + 1 - 12;
	}
	snprintf(path, sizeof(path), "%s-again.pem", dir); /* a file named after it */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\nQUJD0007RUZH\n-----END CERTIFICATE-----\n"
	      "-----BEGIN CERTIFICATE-----\nQUJD1234RUZH\n-----END CERTIFICATE-----",
	      f);
	fclose(f);

	assert_int_equal(netproxy_tls_add_trust(t, dir, true), 0);
	assert_int_equal(netproxy_tls_add_trust(t, path, false), 0);
	after = bundle_of(t);
	assert_int_equal(strlen(after), want);
	/* the CA, last before, is last still */
	const char *last = strstr(before, "-----BEGIN CERTIFICATE-----");
	for (const char *x; last && (x = strstr(last + 1, "-----BEGIN CERTIFICATE-----"));)
		last = x;
	assert_non_null(last);
	assert_string_equal(after + strlen(after) - strlen(last), last);
	for (int i = 0; i < FILES; i++) {
		snprintf(one, sizeof(one),
			 "-----BEGIN CERTIFICATE-----\nQUJD%04dRUZH\n-----END "
			 "CERTIFICATE-----\n",
			 i);
		assert_int_equal(occurrences(after, one), 1);
		snprintf(one, sizeof(one), "QUJD%04dRUZH", i);
		assert_int_equal(occurrences(after, one), 1);
		snprintf(path, sizeof(path), "%s/c%04d.pem", dir, i);
		unlink(path);
	}
	assert_null(strstr(after, "# file"));
	assert_null(strstr(after, "-----END CERTIFICATE----------BEGIN"));
	snprintf(path, sizeof(path), "%s-again.pem", dir);
	unlink(path);
	rmdir(dir);
	free(before);
	free(after);
	netproxy_tls_free(t);
}

static void test_binding(void **state)
{
	(void)state;
	assert_true(nx_cred_bound(&creds[0], "api.github.com", 443));
	assert_true(nx_cred_bound(&creds[0], "api.github.com", 80));
	assert_false(nx_cred_bound(&creds[0], "api.github.com", 8443));
	assert_true(nx_cred_bound(&creds[0], "raw.githubusercontent.com", 443));
	assert_false(nx_cred_bound(&creds[0], "githubusercontent.com", 443));
	assert_false(nx_cred_bound(&creds[0], "github.com", 443));
	assert_false(nx_cred_bound(&creds[0], "api.github.com.evil.test", 443));
	assert_false(nx_cred_bound(&creds[1], "api.github.com", 443));
}

static void test_rewrite_bound(void **state)
{
	struct rw w;

	(void)state;
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER, "Bearer " PH_GH);
	assert_int_equal(w.ret, 1);
	assert_string_equal(w.out, "Bearer " SECRET_GH);
	assert_int_equal(w.x.injected[NX_CRED_HEADER], 1);

	/* twice in one field, and in the target */
	rewrite(&w, "api.github.com", 443, NX_CRED_TARGET, "/x?a=" PH_GH "&b=" PH_GH);
	assert_int_equal(w.ret, 1);
	assert_string_equal(w.out, "/x?a=" SECRET_GH "&b=" SECRET_GH);
	assert_int_equal(w.x.injected[NX_CRED_TARGET], 1);

	/* nothing to do: the field goes out as it is */
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER, "text/plain");
	assert_int_equal(w.ret, 0);

	/* replacement is exact: another case is not the placeholder (and,
	 * going to a bound host, not refused either) */
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER,
		"ringfence_GITHUB_AAAAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(w.ret, 0);

	/* a placeholder split over two header lines is two fields: neither
	 * holds it, nothing is replaced or joined */
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER, "ringfence_github_AAAA");
	assert_int_equal(w.ret, 0);
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER, "AAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(w.ret, 0);
}

static void test_rewrite_basic(void **state)
{
	struct rw w;
	char enc[256], want[300];
	size_t n;

	(void)state;
	n = nx_base64_encode("x-access-token:" PH_GH, strlen("x-access-token:" PH_GH), enc);
	enc[n] = '\0';
	snprintf(want, sizeof(want), "Basic %s", enc);
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER_AUTH, want);
	assert_int_equal(w.ret, 1);
	n = nx_base64_encode("x-access-token:" SECRET_GH, strlen("x-access-token:" SECRET_GH), enc);
	enc[n] = '\0';
	snprintf(want, sizeof(want), "Basic %s", enc);
	assert_string_equal(w.out, want);
	assert_int_equal(w.x.injected[NX_CRED_BASIC], 1);
	assert_int_equal(w.x.injected[NX_CRED_HEADER], 0);

	/* the scheme in any case */
	n = nx_base64_encode(PH_GH ":", strlen(PH_GH ":"), enc);
	enc[n] = '\0';
	snprintf(want, sizeof(want), "bAsIc %s", enc);
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER_AUTH, want);
	assert_int_equal(w.ret, 1);
	assert_int_equal(strncmp(w.out, "bAsIc ", 6), 0);

	/* Bearer in Authorization: a plain field */
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER_AUTH, "Bearer " PH_GH);
	assert_int_equal(w.ret, 1);
	assert_string_equal(w.out, "Bearer " SECRET_GH);
	assert_int_equal(w.x.injected[NX_CRED_HEADER], 1);

	/* not base64 after all: as written */
	rewrite(&w, "api.github.com", 443, NX_CRED_HEADER_AUTH, "Basic !!!");
	assert_int_equal(w.ret, 0);
}

static void test_rewrite_refused(void **state)
{
	static const struct {
		const char *host;
		enum nx_cred_where where;
		const char *in;
		const char *blocked;
		enum nx_cred_where blocked_where;
	} cases[] = {
	    /* another host */
	    {"evil.test", NX_CRED_HEADER, "Bearer " PH_GH, "github", NX_CRED_HEADER},
	    {"evil.test", NX_CRED_TARGET, "/?t=" PH_GH, "github", NX_CRED_TARGET},
	    /* case changed, percent-encoded */
	    {"evil.test", NX_CRED_HEADER, "RINGFENCE_GITHUB_aaaaaaaaaaaaaaaaaaaaaaaa", "github",
	     NX_CRED_HEADER},
	    {"evil.test", NX_CRED_TARGET, "/?t=%72ingfence%5Fgithub_AAAAAAAAAAAAAAAAAAAAAAAA",
	     "github", NX_CRED_TARGET},
	    /* inside Basic */
	    {"evil.test", NX_CRED_HEADER_AUTH,
	     "Basic eDpyaW5nZmVuY2VfZ2l0aHViX0FBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==", "github",
	     NX_CRED_BASIC},
	    /* one credential's placeholder to another credential's host */
	    {"registry.example.org", NX_CRED_HEADER, "Bearer " PH_GH, "github", NX_CRED_HEADER},
	    {"api.github.com", NX_CRED_HEADER, "x " PH_GH " " PH_NPM, "npm", NX_CRED_HEADER},
	    /* the right host on the wrong port */
	    {"api.github.com:8443", NX_CRED_HEADER, PH_GH, "github", NX_CRED_HEADER},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rw w;
		char host[64];
		uint16_t port = 443;
		const char *colon = strchr(cases[i].host, ':');
		snprintf(host, sizeof(host), "%.*s",
			 (int)(colon ? (size_t)(colon - cases[i].host) : strlen(cases[i].host)),
			 cases[i].host);
		if (colon)
			port = (uint16_t)atoi(colon + 1);
		rewrite(&w, host, port, cases[i].where, cases[i].in);
		if (w.ret != -EACCES || !w.x.blocked ||
		    strcmp(w.x.blocked->name, cases[i].blocked) != 0 ||
		    w.x.blocked_where != cases[i].blocked_where)
			fail_msg("case %zu (%s): ret %d", i, cases[i].in, w.ret);
		/* nothing half-rewritten is handed back */
		assert_null(strstr(w.out, SECRET_GH));
	}
}

static void test_unsafe_secret_in_target(void **state)
{
	static const struct nx_cred spaced[] = {
	    {"sp", PH_GH, sizeof(PH_GH) - 1, "a b", 3, &gh_hosts, false, POLICY_INJECT_REPLACE,
	     NULL, false, NULL, 0, 0},
	};
	struct nx_cred_ctx x;
	char out[256];
	size_t n;

	(void)state;
	nx_cred_ctx_init(&x, spaced, 1, "api.github.com", 443);
	/* a space would end the request target: refused, not smuggled */
	assert_int_equal(nx_cred_field(&x, NX_CRED_TARGET, "/?t=" PH_GH, strlen("/?t=" PH_GH), out,
				       sizeof(out), &n),
			 -EACCES);
	assert_true(x.unsafe);
	nx_cred_ctx_init(&x, spaced, 1, "api.github.com", 443);
	assert_int_equal(
	    nx_cred_field(&x, NX_CRED_HEADER, PH_GH, strlen(PH_GH), out, sizeof(out), &n), 1);
}

static void test_find(void **state)
{
	(void)state;
	assert_ptr_equal(nx_cred_find(creds, 2, "x" PH_NPM "y", strlen("x" PH_NPM "y")), &creds[1]);
	assert_null(nx_cred_find(creds, 2, "nothing here", 12));
	assert_ptr_equal(nx_cred_find(creds, 2, "%52INGFENCE_npm_bbbbbbbbbbbbbbbbbbbbbbbb", 40),
			 &creds[1]);
	assert_null(nx_cred_find(creds, 2, "%", 1));

	/* inside base64, for a placeholder of the longest length the policy
	 * takes (its core in the stack buffer) and of a longer one (the
	 * heap), in every alignment; the control: one letter changed */
	static const size_t lens[] = {POLICY_PLACEHOLDER_MAX, 3 * POLICY_PLACEHOLDER_MAX};
	for (size_t l = 0; l < 2; l++)
		for (unsigned a = 0; a < 3; a++) {
			size_t n = lens[l];
			char *ph = malloc(n + 1), *raw = malloc(n + 8), *enc = malloc(2 * n + 16);
			struct nx_cred one = creds[0];
			assert_non_null(ph);
			assert_non_null(raw);
			assert_non_null(enc);
			for (size_t i = 0; i < n; i++)
				ph[i] = "ringfence_Z09"[i % 13];
			ph[n] = '\0';
			one.placeholder = ph;
			one.placeholder_len = n;
			memcpy(raw, "ab", a);
			memcpy(raw + a, ph, n);
			size_t e = nx_base64_encode(raw, a + n, enc);
			assert_ptr_equal(nx_cred_find(&one, 1, enc, e), &one);
			raw[a + n / 2] ^= 1;
			e = nx_base64_encode(raw, a + n, enc);
			assert_null(nx_cred_find(&one, 1, enc, e));
			free(ph);
			free(raw);
			free(enc);
		}
}

static void test_base64(void **state)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"",	      "Zg==",	  "Zm8=",    "Zm9v",
					  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		size_t n = nx_base64_encode(plain[i], strlen(plain[i]), buf);
		assert_int_equal(n, strlen(enc[i]));
		assert_memory_equal(buf, enc[i], n);
		assert_int_equal(nx_base64_decode(enc[i], strlen(enc[i]), buf, sizeof(buf)),
				 (long)strlen(plain[i]));
		assert_memory_equal(buf, plain[i], strlen(plain[i]));
	}
	assert_int_equal(nx_base64_decode("Zm9v!", 5, buf, sizeof(buf)), -1);
	assert_int_equal(nx_base64_decode("Zh==", 4, buf, sizeof(buf)), -1); /* non-zero pad bits */
	assert_int_equal(nx_base64_decode("Z", 1, buf, sizeof(buf)), -1);
	assert_int_equal(nx_base64_decode("Zm9vYmFy", 8, buf, 3), -1); /* no room */
	assert_int_equal(nx_base64_decode("Zm9v", 4, buf, sizeof(buf)), 3);
}

/* The core of IN in base64 after ALIGN bytes: the characters every
 * encoding of ANY ALIGN bytes, IN and anything after holds. */
static void test_base64_core(void **state)
{
	unsigned seed = 12345;
	char in[64], text[80], enc[128], core[128];

	(void)state;
	for (size_t n = 0; n <= 40; n++)
		for (unsigned align = 0; align < 3; align++)
			for (int url = 0; url < 2; url++)
				for (int round = 0; round < 8; round++) {
					size_t after = (size_t)round % 4, m, e;
					for (size_t i = 0; i < align + n + after; i++) {
						seed = seed * 1103515245u + 12345u;
						text[i] = (char)(seed >> 16);
					}
					memcpy(in, text + align, n);
					m = nx_base64_core(in, n, align, url, core);
					/* every character wholly inside IN, and no other */
					assert_int_equal(m, n == 0 ? 0
								   : (align + n) * 8 / 6 -
									 (align * 8 + 5) / 6);
					e = nx_base64_encode(text, align + n + after, enc);
					for (size_t i = 0; url && i < e; i++)
						enc[i] = enc[i] == '+'	 ? '-'
							 : enc[i] == '/' ? '_'
									 : enc[i];
					assert_memory_equal(core, enc + (align * 8 + 5) / 6, m);
				}
	/* NX_B64_CORE_MAX characters at most (an ASan build sees one more
	 * written): 9,000 bytes with their alignment, and nothing above */
	char *big = calloc(1, NX_B64_CORE_MAX), *out = malloc(NX_B64_CORE_MAX);
	assert_non_null(big);
	assert_non_null(out);
	assert_int_equal(nx_base64_core(big, 9000, 0, false, out), NX_B64_CORE_MAX);
	for (unsigned align = 0; align < 3; align++) {
		assert_true(nx_base64_core(big, 9000 - align, align, true, out) <= NX_B64_CORE_MAX);
		for (size_t n = 9001 - align; n <= 9004; n++)
			assert_int_equal(nx_base64_core(big, n, align, false, out), 0);
	}
	free(out);
	free(big);
}

/* ---- the ClientHello ---------------------------------------------------- */

/* Appends a server_name extension naming NAME (and TRAILING, a second
 * entry of the list, when given) at HS + N; the new N. */
static size_t sni_ext(uint8_t *hs, size_t n, const char *name, const char *trailing)
{
	size_t l = strlen(name), t = trailing ? strlen(trailing) + 3 : 0;

	hs[n++] = 0, hs[n++] = 0; /* server_name */
	hs[n++] = 0, hs[n++] = (uint8_t)(l + 5 + t);
	hs[n++] = 0, hs[n++] = (uint8_t)(l + 3 + t);
	hs[n++] = 0;
	hs[n++] = 0, hs[n++] = (uint8_t)l;
	memcpy(hs + n, name, l);
	n += l;
	if (trailing) {
		hs[n++] = 0;
		hs[n++] = 0, hs[n++] = (uint8_t)(t - 3);
		memcpy(hs + n, trailing, t - 3);
		n += t - 3;
	}
	return n;
}

/* A minimal ClientHello with SNI NAME (or none), split into records of at
 * most SPLIT handshake bytes; SECOND: a second server_name extension;
 * TRAILING: a second name in NAME's list. */
static size_t hello_with(uint8_t *out, const char *name, size_t split, const char *second,
			 const char *trailing)
{
	uint8_t hs[1024];
	size_t n = 0, ext_at, o = 0;

	hs[n++] = 1;
	n += 3; /* length, below */
	hs[n++] = 3;
	hs[n++] = 3;
	memset(hs + n, 0x11, 32);
	n += 32;
	hs[n++] = 0;		  /* session id */
	hs[n++] = 0, hs[n++] = 2; /* cipher suites */
	hs[n++] = 0x13, hs[n++] = 0x01;
	hs[n++] = 1, hs[n++] = 0; /* compression */
	ext_at = n;
	n += 2;
	if (name)
		n = sni_ext(hs, n, name, trailing);
	if (second)
		n = sni_ext(hs, n, second, NULL);
	hs[n++] = 0, hs[n++] = 0x2b, hs[n++] = 0, hs[n++] = 3, hs[n++] = 2, hs[n++] = 3,
	hs[n++] = 4; /* supported_versions */
	hs[ext_at] = (uint8_t)((n - ext_at - 2) >> 8);
	hs[ext_at + 1] = (uint8_t)(n - ext_at - 2);
	hs[1] = 0, hs[2] = (uint8_t)((n - 4) >> 8), hs[3] = (uint8_t)(n - 4);
	for (size_t i = 0; i < n; i += split) {
		size_t l = n - i < split ? n - i : split;
		out[o++] = 0x16, out[o++] = 3, out[o++] = 1;
		out[o++] = (uint8_t)(l >> 8), out[o++] = (uint8_t)l;
		memcpy(out + o, hs + i, l);
		o += l;
	}
	return o;
}

static size_t hello(uint8_t *out, const char *name, size_t split)
{
	return hello_with(out, name, split, NULL, NULL);
}

static void test_client_hello(void **state)
{
	uint8_t buf[4096];
	char sni[NX_HOST_MAX];
	size_t n;

	(void)state;
	n = hello(buf, "Good.Test", 4096);
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_OK);
	assert_string_equal(sni, "good.test");
	/* every prefix is "more", never a wrong answer */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(nx_client_hello(buf, i, sni), NX_HELLO_MORE);
	/* across records, as a large (post-quantum) hello comes */
	n = hello(buf, "split.test", 7);
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_OK);
	assert_string_equal(sni, "split.test");
	n = hello(buf, NULL, 4096);
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_OK);
	assert_string_equal(sni, "");
	assert_int_equal(nx_client_hello((const uint8_t *)"GET / HTTP/1.1\r\n", 16, sni),
			 NX_HELLO_NOT_TLS);
	/* malformed: a lying length, a second record of another type, a
	 * name with a space */
	n = hello(buf, "good.test", 4096);
	buf[5 + 4 + 2 + 32 + 1 + 1] = 0x40; /* cipher suite length */
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_BAD);
	n = hello(buf, "good.test", 20);
	buf[25] = 0x17;
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_BAD);
	n = hello(buf, "evil test", 4096);
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_BAD);
	/* two names for one hello: the proxy would judge one, a server may
	 * serve the other (a second server_name extension, which OpenSSL
	 * refuses as a duplicate; a second entry in the list) */
	n = hello_with(buf, "good.test", 4096, "evil.test", NULL);
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_BAD);
	n = hello_with(buf, "good.test", 4096, NULL, "evil.test");
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_BAD);
	/* the control: the same builder, one name */
	n = hello_with(buf, "good.test", 4096, NULL, NULL);
	assert_int_equal(nx_client_hello(buf, n, sni), NX_HELLO_OK);
	assert_string_equal(sni, "good.test");
}

/* ---- a tunnel's first bytes ---------------------------------------------- */

/* What a tunnel's first bytes are judged to be, for the streams clients
 * send and the ones an attacker would: nothing a server takes for an
 * HTTP/1 request is "other" (passed opaque), and a text line is judged
 * only whole. */
static void test_first_bytes(void **state)
{
	static const struct {
		const char *bytes;
		size_t len; /* 0: strlen */
		bool final;
		enum nx_stream want;
	} cases[] = {
	    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, false, NX_STREAM_HTTP},
	    {"POST /x HTTP/1.0\r\n", 0, false, NX_STREAM_HTTP},
	    {"\r\n\r\nGET / HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP}, /* empty lines first */
	    {"get / http/1.1\r\n", 0, false, NX_STREAM_HTTP},	      /* any case */
	    {"GET  /  HTTP/1.1\n", 0, false, NX_STREAM_HTTP},	      /* bare LF, spaces */
	    {"M-SEARCH * HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP},
	    {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, false, NX_STREAM_HTTP},
	    {"GET / HTTP/1.1", 0, false, NX_STREAM_MORE}, /* line not ended */
	    {"GET / HTTP/1.1", 0, true, NX_STREAM_HTTP},
	    {"GET", 0, false, NX_STREAM_MORE},
	    {"\r\n", 0, false, NX_STREAM_MORE},
	    {"", 0, false, NX_STREAM_MORE},
	    {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 0, false, NX_STREAM_OTHER},
	    {"SSH-2.0-OpenSSH_9.2p1", 0, false, NX_STREAM_MORE},
	    {"EHLO mail.example.com\r\n", 0, false, NX_STREAM_OTHER},
	    {"*1\r\n$4\r\nPING\r\n", 0, false, NX_STREAM_OTHER},
	    {"GET /\r\n", 0, false, NX_STREAM_OTHER}, /* HTTP/0.9: no headers, no Host */
	    {"\x00\x00\x00\x08\x04\xd2\x16\x2f", 8, false, NX_STREAM_OTHER}, /* binary */
	    /* whitespace a lenient server skips before the request line */
	    {" GET / HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP},
	    {"\tGET / HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP},
	    {"\x0b\x0c GET / HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP},
	    {" \r\n GET / HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP},
	    {" GET / HTTP/1.1", 0, false, NX_STREAM_MORE},
	    {" \x01\x02", 0, false, NX_STREAM_OTHER},	    /* binary after a blank */
	    {"\x16\x03\x01\x00", 0, false, NX_STREAM_MORE}, /* a ClientHello's start */
	    {"\x16\x03\x01\x00", 0, true, NX_STREAM_TLS_BAD},
	    {"\x16GET / HTTP/1.1\r\n", 0, false, NX_STREAM_TLS_BAD},
	    /* a full buffer whose first line has not ended ("HTTP/" may come
	     * after it), or of blank lines alone: refused (an outside review) */
	    {"GET /aaaaaaaa", 0, true, NX_STREAM_UNENDED},
	    {"\r\n\r\n", 0, true, NX_STREAM_UNENDED},
	    {"  \t", 0, true, NX_STREAM_UNENDED},
	    {"GET /aaaa\r\n", 0, true, NX_STREAM_OTHER}, /* ended: HTTP/0.9 */
	    /* what Python's str.split() skips as blanks, before a request */
	    {"\x1cGET / HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP},
	    {"\x1f\x85\xa0GET / HTTP/1.1\r\n", 0, false, NX_STREAM_HTTP},
	    {"\x1c\x01\x02", 0, false, NX_STREAM_OTHER},
	};
	uint8_t buf[4096];
	char sni[NX_HOST_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].bytes);
		enum nx_stream got =
		    nx_first_bytes((const uint8_t *)cases[i].bytes, len, cases[i].final, sni);
		if (got != cases[i].want)
			fail_msg("case %zu: %d, expected %d", i, got, cases[i].want);
	}
	n = hello(buf, "Good.Test", 4096);
	assert_int_equal(nx_first_bytes(buf, n, false, sni), NX_STREAM_TLS);
	assert_string_equal(sni, "good.test");
	for (size_t i = 1; i < n; i++) {
		assert_int_equal(nx_first_bytes(buf, i, false, sni), NX_STREAM_MORE);
		assert_int_equal(nx_first_bytes(buf, i, true, sni), NX_STREAM_TLS_BAD);
	}
	n = hello(buf, NULL, 4096);
	assert_int_equal(nx_first_bytes(buf, n, false, sni), NX_STREAM_TLS);
	assert_string_equal(sni, "");
}

/* ---- requests inside a stream to one origin ------------------------------ */

static void test_origin_request(void **state)
{
	struct nx_request *r = malloc(sizeof(*r));
	int status;
	const char *why;
	const char *h = "GET /a?b=c HTTP/1.1\r\nHost: Good.Test\r\nConnection: keep-alive\r\n\r\n";

	(void)state;
	memset(r, 0xff, sizeof(*r)); /* whatever malloc left is not read */
	assert_int_equal(nx_parse_origin_request(h, strlen(h), 443, r, &status, &why), NX_PARSE_OK);
	assert_string_equal(r->host, "good.test");
	assert_int_equal(r->port, 443);
	assert_int_equal(r->path_len, 6);
	assert_memory_equal(r->path, "/a?b=c", 6);
	assert_false(r->upgrade);
	assert_true(r->keep_alive);
	assert_int_equal(r->body, NX_BODY_NONE);

	h = "GET / HTTP/1.1\r\nHost: good.test:8443\r\n\r\n";
	assert_int_equal(nx_parse_origin_request(h, strlen(h), 443, r, &status, &why), NX_PARSE_OK);
	assert_int_equal(r->port, 8443);

	static const char *const bad[] = {
	    "GET / HTTP/1.1\r\n\r\n",			    /* no Host */
	    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", /* Host twice */
	    "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",    /* absolute */
	    "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",    /* CONNECT */
	    "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n",	    /* userinfo */
	    "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n",
	    "GET /#x HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nx_parse_origin_request(bad[i], strlen(bad[i]), 443, r, &status, &why) !=
		    NX_PARSE_ERROR)
			fail_msg("accepted: %s", bad[i]);
	/* the proxy's own parser is unchanged: origin-form is refused there */
	h = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), r, &status, &why), NX_PARSE_ERROR);
	free(r);
}

/* ---- inject = and require = -------------------------------------------- */

#define PH_M "ringfence_mode_CCCCCCCCCCCCCCCCCCCCCCCC"
static struct policy_item m_items[] = {{.value = "api.example.com"}};
static struct policy_list m_hosts = {m_items, 1, 1};

/* One credential of MODE (ARG) bound to api.example.com, secret "s e/c". */
static void mode_rewrite(struct rw *w, enum policy_inject mode, const char *arg, bool require,
			 enum nx_cred_where where, const char *name, const char *in)
{
	static struct nx_cred one[1];
	size_t n = 0;

	one[0] = (struct nx_cred){"mode", PH_M, sizeof(PH_M) - 1, "s e/c", 5, &m_hosts, false,
				  mode,	  arg,	require,	  NULL,	   0, 0};
	nx_cred_ctx_init(&w->x, one, 1, "api.example.com", 443);
	w->x.field_name = name;
	w->x.field_name_len = name ? strlen(name) : 0;
	w->ret = nx_cred_field(&w->x, where, in, strlen(in), w->out, sizeof(w->out) - 1, &n);
	w->out[w->ret > 0 ? n : 0] = '\0';
}

static void test_inject_modes_write_their_place(void **state)
{
	(void)state;
	struct rw w;
	static const struct {
		enum policy_inject mode;
		const char *arg, *name;
		enum nx_cred_where where;
		const char *in, *out;
	} t[] = {
	    {POLICY_INJECT_HEADER, "X-Api-Key", "x-api-key", NX_CRED_HEADER, PH_M, "s e/c"},
	    {POLICY_INJECT_HEADER, "X-Api-Key", "X-Api-Key", NX_CRED_HEADER, "Key " PH_M,
	     "Key s e/c"},
	    {POLICY_INJECT_BEARER, NULL, "Authorization", NX_CRED_HEADER_AUTH, "token " PH_M,
	     "Bearer s e/c"},
	    /* base64("u:" PH_M): the client's Basic, sent as Bearer */
	    {POLICY_INJECT_BEARER, NULL, "Authorization", NX_CRED_HEADER_AUTH,
	     "Basic dTpyaW5nZmVuY2VfbW9kZV9DQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0ND", "Bearer s e/c"},
	    /* base64("api:s e/c"), base64("s e/c:") */
	    {POLICY_INJECT_BASIC_PASSWORD, "api", "Authorization", NX_CRED_HEADER_AUTH,
	     "Bearer " PH_M, "Basic YXBpOnMgZS9j"},
	    {POLICY_INJECT_BASIC_USER, NULL, "Authorization", NX_CRED_HEADER_AUTH, PH_M,
	     "Basic cyBlL2M6"},
	    {POLICY_INJECT_QUERY, "key", NULL, NX_CRED_TARGET,
	     "/v1?a="
	     "1&key=" PH_M "&b=2",
	     "/v1?a=1&key=s%20e%2Fc&b=2"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mode_rewrite(&w, t[i].mode, t[i].arg, false, t[i].where, t[i].name, t[i].in);
		assert_int_equal(w.ret, 1);
		assert_string_equal(w.out, t[i].out);
		assert_null(nx_cred_missing(&w.x));
	}
}

static void test_inject_modes_refuse_other_places(void **state)
{
	(void)state;
	struct rw w;
	static const struct {
		enum policy_inject mode;
		const char *arg, *name;
		enum nx_cred_where where;
		const char *in;
	} t[] = {
	    {POLICY_INJECT_HEADER, "X-Api-Key", "X-Other", NX_CRED_HEADER, PH_M},
	    {POLICY_INJECT_HEADER, "X-Api-Key", NULL, NX_CRED_TARGET, "/?q=" PH_M},
	    {POLICY_INJECT_HEADER, "X-Api-Key", "Authorization", NX_CRED_HEADER_AUTH,
	     "Bearer " PH_M},
	    /* in its place, but not as written: another letter case */
	    {POLICY_INJECT_HEADER, "X-Api-Key", "X-Api-Key", NX_CRED_HEADER,
	     "RINGFENCE_MODE_CCCCCCCCCCCCCCCCCCCCCCCC"},
	    {POLICY_INJECT_BEARER, NULL, "X-Api-Key", NX_CRED_HEADER, PH_M},
	    {POLICY_INJECT_BEARER, NULL, NULL, NX_CRED_TARGET, "/" PH_M},
	    {POLICY_INJECT_QUERY, "key", NULL, NX_CRED_TARGET, "/" PH_M "?key=x"},
	    {POLICY_INJECT_QUERY, "key", NULL, NX_CRED_TARGET, "/?keys=" PH_M},
	    {POLICY_INJECT_QUERY, "key", NULL, NX_CRED_TARGET,
	     "/?key=x%72ingfence_mode_CCCCCCCCCCCCCCCCCCCCCCCC"},
	    {POLICY_INJECT_QUERY, "key", "X-Key", NX_CRED_HEADER, PH_M},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mode_rewrite(&w, t[i].mode, t[i].arg, false, t[i].where, t[i].name, t[i].in);
		assert_int_equal(w.ret, -EACCES);
		assert_non_null(w.x.blocked);
		assert_int_equal(w.x.injected[NX_CRED_HEADER] | w.x.injected[NX_CRED_TARGET] |
				     w.x.injected[NX_CRED_BASIC],
				 0);
	}
}

static void test_require_names_the_missing_credential(void **state)
{
	(void)state;
	struct rw w;

	mode_rewrite(&w, POLICY_INJECT_BEARER, NULL, true, NX_CRED_HEADER, "Accept", "*/*");
	assert_int_equal(w.ret, 0);
	assert_non_null(nx_cred_missing(&w.x));
	mode_rewrite(&w, POLICY_INJECT_BEARER, NULL, true, NX_CRED_HEADER_AUTH, "Authorization",
		     "Bearer " PH_M);
	assert_int_equal(w.ret, 1);
	assert_null(nx_cred_missing(&w.x));
	/* not bound here: nothing is required */
	nx_cred_ctx_init(&w.x, w.x.creds, 1, "other.example.com", 443);
	assert_null(nx_cred_missing(&w.x));
}

static void test_pct_encode(void **state)
{
	(void)state;
	char out[64];
	size_t n = nx_pct_encode("aZ9-._~ /?&=%+\x01", 15, out);
	out[n] = '\0';
	assert_string_equal(out, "aZ9-._~%20%2F%3F%26%3D%25%2B%01");
}

/* A variable holding the secret in any form the scan reads is found
 * (creds.c removes it from the command's environment). */
static void test_text_carries(void **state)
{
	static const char secret[] = "ghp_real/Secret+Value@0123456789abcdef";
	static const struct {
		const char *text;
		bool found;
	} cases[] = {
	    {"ghp_real/Secret+Value@0123456789abcdef", true},
	    {"https://x:ghp_real%2FSecret%2BValue%400123456789abcdef@h/", true},
	    {"https://x:ghp_real%252FSecret%252BValue%2540012345678%39abcdef@h/", true},
	    {"{\"t\":\"ghp_real\\/Secret+Value@0123456789abcdef\"}", true},
	    {"{\"t\":\"ghp_real\\u002fSecret+Value\\u00400123456789abcdef\"}", true},
	    /* base64 of "x:" + secret, as a Basic value */
	    {"Basic eDpnaHBfcmVhbC9TZWNyZXQrVmFsdWVAMDEyMzQ1Njc4OWFiY2RlZg==", true},
	    {"ghp_real/Secret+Value@0123456789abcdeX", false},
	    {"ghp_real%2FSecret%2BValue%400123456789abcde", false},
	    {"%%%\\\\u00", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = netproxy_text_carries_n(cases[i].text, strlen(cases[i].text), secret,
						   strlen(secret));
		if (got != cases[i].found)
			fail_msg("%s: %d", cases[i].text, got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_binding),
	    cmocka_unit_test(test_the_ca_names_the_key_that_signed_it),
	    cmocka_unit_test(test_trust_files_reach_the_bundle),
	    cmocka_unit_test(test_only_certificates_reach_the_bundle),
	    cmocka_unit_test(test_bundle_of_many_pieces),
	    cmocka_unit_test(test_dashes_around_blocks),
	    cmocka_unit_test(test_rewrite_bound),
	    cmocka_unit_test(test_rewrite_basic),
	    cmocka_unit_test(test_rewrite_refused),
	    cmocka_unit_test(test_unsafe_secret_in_target),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_base64_core),
	    cmocka_unit_test(test_client_hello),
	    cmocka_unit_test(test_first_bytes),
	    cmocka_unit_test(test_origin_request),
	    cmocka_unit_test(test_inject_modes_write_their_place),
	    cmocka_unit_test(test_inject_modes_refuse_other_places),
	    cmocka_unit_test(test_require_names_the_missing_credential),
	    cmocka_unit_test(test_pct_encode),
	    cmocka_unit_test(test_text_carries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
