/* SPDX-License-Identifier: MIT */
/*
 * The floor of a [credential] section's start on this machine, for
 * bench/startup.sh: what a process pays for the least OpenSSL work a run's
 * own CA takes, and nothing of ringfence's (no bundle, no sandbox).  It
 * loads libcrypto (the dynamic loader, at exec), starts it without the
 * system's openssl.cnf, makes a P-256 key (OpenSSL 3's first fetch fills
 * its provider and name tables) and a self-signed CA certificate with the
 * extensions netproxy/tls.c's make_ca() gives, signed, in PEM.
 *
 *   ca_floor            (prints nothing; exit status 0 when all went well)
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

int main(void)
{
	EVP_PKEY *key;
	X509 *ca;
	X509_NAME *name;
	BIO *mem;

	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL))
		return 1;
	key = EVP_EC_gen("P-256");
	ca = X509_new();
	if (!key || !ca || !X509_set_version(ca, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(ca), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(ca), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(ca), 86400) || !X509_set_pubkey(ca, key))
		return 1;
	name = X509_get_subject_name(ca);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"floor",
					-1, -1, 0) ||
	    !X509_set_issuer_name(ca, name) ||
	    !add_ext(ca, NID_name_constraints, "critical,permitted;DNS:example.test") ||
	    !add_ext(ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(ca, NID_subject_key_identifier, "hash") || !X509_sign(ca, key, EVP_sha256()))
		return 1;
	mem = BIO_new(BIO_s_mem());
	return mem && PEM_write_bio_X509(mem, ca) ? 0 : 1;
}
