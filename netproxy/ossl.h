/* SPDX-License-Identifier: MIT */
/*
 * netproxy/ossl.h — OpenSSL, loaded when a run needs it.
 *
 * ringfence uses the distribution's libssl.so.3 (a security fix reaches the
 * proxy without a rebuild), but a run without TLS interception must not pay
 * for it: mapping and relocating libssl and libcrypto at every exec cost
 * ~0.6 ms of a ~4 ms start (bench/startup_ab.sh).  So the binary has no
 * DT_NEEDED on them: nx_ossl_load() dlopens libssl.so.3 (which brings its
 * libcrypto.so.3) the first time a run needs TLS, and resolves every function
 * the netproxy calls into one table, which is then made read-only (the
 * binary's own GOT is under full RELRO; the table is kept as hard to
 * overwrite).  Any name missing from the library refuses the run.
 *
 * Every netproxy file that calls OpenSSL includes this header instead of
 * <openssl/...>: the headers' types and macros are unchanged, and each
 * function below is a macro for its table entry.  Macros that are really
 * functions (SSL_CTX_set_min_proto_version -> SSL_CTX_ctrl, BIO_* ->
 * BIO_ctrl, sk_X509_* -> OPENSSL_sk_*) expand to a name below, which
 * expands again.  The build keeps the two lists below the same: a name in
 * NX_OSSL_FUNCS without its #define is called directly, and the binary,
 * linked without -lssl -lcrypto, fails to link; a #define without its
 * entry names a table field that does not exist.
 */
#ifndef RINGFENCE_NETPROXY_OSSL_H
#define RINGFENCE_NETPROXY_OSSL_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stddef.h>

/* The soname of the OpenSSL 3 ABI the headers above describe. */
#define NX_OSSL_LIBSSL "libssl.so.3"

/* Every OpenSSL function the netproxy calls, its prototype taken from the
 * headers (__typeof__), so the compiler checks each call as before. */
/* clang-format off */
#define NX_OSSL_FUNCS(X)                                                                           \
	X(BIO_ctrl) X(BIO_free) X(BIO_new) X(BIO_new_file) X(BIO_new_socket) X(BIO_s_mem)         \
	X(BIO_write) X(BN_bin2bn) X(BN_free) X(BN_to_ASN1_INTEGER) X(ERR_clear_error)             \
	X(ERR_error_string_n) X(ERR_get_error) X(EVP_PKEY_Q_keygen) X(EVP_PKEY_free)              \
	X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_DigestInit_ex) X(EVP_DigestUpdate)             \
	X(EVP_DigestFinal_ex) X(EVP_sha1) X(EVP_sha256) X(OPENSSL_init_ssl) X(OPENSSL_init_crypto) X(OPENSSL_sk_new_null)   \
	X(OPENSSL_sk_num)                                                                        \
	X(OPENSSL_sk_pop_free) X(OPENSSL_sk_push) X(OPENSSL_sk_value) X(PEM_read_bio_X509)        \
	X(PEM_write_bio_X509) X(RAND_bytes) X(SSL_CTX_ctrl) X(SSL_CTX_free)                       \
	X(SSL_CTX_get_cert_store) X(SSL_CTX_load_verify_dir) X(SSL_CTX_load_verify_file)          \
	X(SSL_CTX_new) X(SSL_CTX_set_alpn_protos) X(SSL_CTX_set_alpn_select_cb)                   \
	X(SSL_CTX_set_options) X(SSL_CTX_set_session_id_context) X(SSL_CTX_set_verify)            \
	X(SSL_ctrl) X(SSL_do_handshake) X(SSL_free) X(SSL_get_error) X(SSL_get_rbio)              \
	X(SSL_get_verify_result) X(SSL_new) X(SSL_read) X(SSL_set1_host) X(SSL_set_accept_state)  \
	X(SSL_set_bio) X(SSL_set_connect_state) X(SSL_shutdown) X(SSL_use_PrivateKey)             \
	X(SSL_use_certificate) X(SSL_write) X(TLS_client_method) X(TLS_server_method)             \
	X(X509V3_EXT_conf_nid) X(X509V3_set_ctx) X(X509_EXTENSION_free)                           \
	X(X509_NAME_add_entry_by_txt) X(X509_STORE_add_cert) X(X509_add_ext) X(X509_free)         \
	X(X509_get_default_cert_dir) X(X509_get_default_cert_file) X(X509_get_serialNumber)       \
	X(X509_get_subject_name) X(X509_getm_notAfter) X(X509_getm_notBefore) X(X509_gmtime_adj)  \
	X(X509_new) X(X509_set_issuer_name) X(X509_set_pubkey) X(X509_set_version) X(X509_sign)   \
	X(X509_verify_cert_error_string) X(SSL_CTX_sess_set_new_cb) X(SSL_CTX_set_ex_data)         \
	X(SSL_CTX_get_ex_data) X(SSL_get_SSL_CTX) X(SSL_get_servername) X(SSL_set_session)        \
	X(SSL_SESSION_free) X(SSL_SESSION_is_resumable) X(SSL_SESSION_dup)                      \
	X(CRYPTO_malloc) X(CRYPTO_free) X(OBJ_nid2obj) X(X509_PUBKEY_set0_param)                \
	X(X509_get_X509_PUBKEY) X(EVP_PKEY_get_octet_string_param)
/* clang-format on */

#define NX_OSSL_FIELD(f) __typeof__(f) *p_##f;
struct nx_ossl_funcs {
	NX_OSSL_FUNCS(NX_OSSL_FIELD)
};
#undef NX_OSSL_FIELD

/* A page of its own, read-only once filled. */
#define NX_OSSL_PAGE 4096
union nx_ossl_table {
	struct nx_ossl_funcs f;
	char page[NX_OSSL_PAGE];
};
_Static_assert(sizeof(struct nx_ossl_funcs) <= NX_OSSL_PAGE, "the table fits its page");
extern union nx_ossl_table nx_ossl;

/* Loads libssl.so.3 and fills the table, once; 0, or -errno with one line
 * in ERR (what could not be loaded or which function is missing). */
int nx_ossl_load(char *err, size_t err_size);
/* Whether the table is filled (a TLS object can exist only then). */
int nx_ossl_loaded(void);

#ifndef NX_OSSL_NO_REDIRECT
/* clang-format off */
#define BIO_ctrl (*nx_ossl.f.p_BIO_ctrl)
#define BIO_free (*nx_ossl.f.p_BIO_free)
#define BIO_new (*nx_ossl.f.p_BIO_new)
#define BIO_new_file (*nx_ossl.f.p_BIO_new_file)
#define BIO_new_socket (*nx_ossl.f.p_BIO_new_socket)
#define BIO_s_mem (*nx_ossl.f.p_BIO_s_mem)
#define BIO_write (*nx_ossl.f.p_BIO_write)
#define BN_bin2bn (*nx_ossl.f.p_BN_bin2bn)
#define BN_free (*nx_ossl.f.p_BN_free)
#define BN_to_ASN1_INTEGER (*nx_ossl.f.p_BN_to_ASN1_INTEGER)
#define ERR_clear_error (*nx_ossl.f.p_ERR_clear_error)
#define ERR_error_string_n (*nx_ossl.f.p_ERR_error_string_n)
#define ERR_get_error (*nx_ossl.f.p_ERR_get_error)
#define EVP_PKEY_Q_keygen (*nx_ossl.f.p_EVP_PKEY_Q_keygen)
#define EVP_PKEY_free (*nx_ossl.f.p_EVP_PKEY_free)
#define EVP_sha256 (*nx_ossl.f.p_EVP_sha256)
#define EVP_sha1 (*nx_ossl.f.p_EVP_sha1)
#define EVP_MD_CTX_new (*nx_ossl.f.p_EVP_MD_CTX_new)
#define EVP_MD_CTX_free (*nx_ossl.f.p_EVP_MD_CTX_free)
#define EVP_DigestInit_ex (*nx_ossl.f.p_EVP_DigestInit_ex)
#define EVP_DigestUpdate (*nx_ossl.f.p_EVP_DigestUpdate)
#define EVP_DigestFinal_ex (*nx_ossl.f.p_EVP_DigestFinal_ex)
#define OPENSSL_init_ssl (*nx_ossl.f.p_OPENSSL_init_ssl)
#define OPENSSL_init_crypto (*nx_ossl.f.p_OPENSSL_init_crypto)
#define OPENSSL_sk_new_null (*nx_ossl.f.p_OPENSSL_sk_new_null)
#define OPENSSL_sk_num (*nx_ossl.f.p_OPENSSL_sk_num)
#define OPENSSL_sk_pop_free (*nx_ossl.f.p_OPENSSL_sk_pop_free)
#define OPENSSL_sk_push (*nx_ossl.f.p_OPENSSL_sk_push)
#define OPENSSL_sk_value (*nx_ossl.f.p_OPENSSL_sk_value)
#define PEM_read_bio_X509 (*nx_ossl.f.p_PEM_read_bio_X509)
#define PEM_write_bio_X509 (*nx_ossl.f.p_PEM_write_bio_X509)
#define RAND_bytes (*nx_ossl.f.p_RAND_bytes)
#define SSL_CTX_ctrl (*nx_ossl.f.p_SSL_CTX_ctrl)
#define SSL_CTX_free (*nx_ossl.f.p_SSL_CTX_free)
#define SSL_CTX_get_cert_store (*nx_ossl.f.p_SSL_CTX_get_cert_store)
#define SSL_CTX_load_verify_dir (*nx_ossl.f.p_SSL_CTX_load_verify_dir)
#define SSL_CTX_load_verify_file (*nx_ossl.f.p_SSL_CTX_load_verify_file)
#define SSL_CTX_new (*nx_ossl.f.p_SSL_CTX_new)
#define SSL_CTX_set_alpn_protos (*nx_ossl.f.p_SSL_CTX_set_alpn_protos)
#define SSL_CTX_set_alpn_select_cb (*nx_ossl.f.p_SSL_CTX_set_alpn_select_cb)
#define SSL_CTX_set_options (*nx_ossl.f.p_SSL_CTX_set_options)
#define SSL_CTX_set_session_id_context (*nx_ossl.f.p_SSL_CTX_set_session_id_context)
#define SSL_CTX_set_verify (*nx_ossl.f.p_SSL_CTX_set_verify)
#define SSL_ctrl (*nx_ossl.f.p_SSL_ctrl)
#define SSL_do_handshake (*nx_ossl.f.p_SSL_do_handshake)
#define SSL_free (*nx_ossl.f.p_SSL_free)
#define SSL_get_error (*nx_ossl.f.p_SSL_get_error)
#define SSL_get_rbio (*nx_ossl.f.p_SSL_get_rbio)
#define SSL_get_verify_result (*nx_ossl.f.p_SSL_get_verify_result)
#define SSL_new (*nx_ossl.f.p_SSL_new)
#define SSL_read (*nx_ossl.f.p_SSL_read)
#define SSL_set1_host (*nx_ossl.f.p_SSL_set1_host)
#define SSL_set_accept_state (*nx_ossl.f.p_SSL_set_accept_state)
#define SSL_set_bio (*nx_ossl.f.p_SSL_set_bio)
#define SSL_set_connect_state (*nx_ossl.f.p_SSL_set_connect_state)
#define SSL_shutdown (*nx_ossl.f.p_SSL_shutdown)
#define SSL_use_PrivateKey (*nx_ossl.f.p_SSL_use_PrivateKey)
#define SSL_use_certificate (*nx_ossl.f.p_SSL_use_certificate)
#define SSL_write (*nx_ossl.f.p_SSL_write)
#define TLS_client_method (*nx_ossl.f.p_TLS_client_method)
#define TLS_server_method (*nx_ossl.f.p_TLS_server_method)
#define X509V3_EXT_conf_nid (*nx_ossl.f.p_X509V3_EXT_conf_nid)
#define X509V3_set_ctx (*nx_ossl.f.p_X509V3_set_ctx)
#define X509_EXTENSION_free (*nx_ossl.f.p_X509_EXTENSION_free)
#define X509_NAME_add_entry_by_txt (*nx_ossl.f.p_X509_NAME_add_entry_by_txt)
#define X509_STORE_add_cert (*nx_ossl.f.p_X509_STORE_add_cert)
#define X509_add_ext (*nx_ossl.f.p_X509_add_ext)
#define X509_free (*nx_ossl.f.p_X509_free)
#define X509_get_default_cert_dir (*nx_ossl.f.p_X509_get_default_cert_dir)
#define X509_get_default_cert_file (*nx_ossl.f.p_X509_get_default_cert_file)
#define X509_get_serialNumber (*nx_ossl.f.p_X509_get_serialNumber)
#define X509_get_subject_name (*nx_ossl.f.p_X509_get_subject_name)
#define X509_getm_notAfter (*nx_ossl.f.p_X509_getm_notAfter)
#define X509_getm_notBefore (*nx_ossl.f.p_X509_getm_notBefore)
#define X509_gmtime_adj (*nx_ossl.f.p_X509_gmtime_adj)
#define X509_new (*nx_ossl.f.p_X509_new)
#define X509_set_issuer_name (*nx_ossl.f.p_X509_set_issuer_name)
#define X509_set_pubkey (*nx_ossl.f.p_X509_set_pubkey)
#define X509_set_version (*nx_ossl.f.p_X509_set_version)
#define X509_sign (*nx_ossl.f.p_X509_sign)
#define X509_verify_cert_error_string (*nx_ossl.f.p_X509_verify_cert_error_string)
#define SSL_CTX_sess_set_new_cb (*nx_ossl.f.p_SSL_CTX_sess_set_new_cb)
#define SSL_CTX_set_ex_data (*nx_ossl.f.p_SSL_CTX_set_ex_data)
#define SSL_CTX_get_ex_data (*nx_ossl.f.p_SSL_CTX_get_ex_data)
#define SSL_get_SSL_CTX (*nx_ossl.f.p_SSL_get_SSL_CTX)
#define SSL_get_servername (*nx_ossl.f.p_SSL_get_servername)
#define SSL_set_session (*nx_ossl.f.p_SSL_set_session)
#define SSL_SESSION_free (*nx_ossl.f.p_SSL_SESSION_free)
#define SSL_SESSION_is_resumable (*nx_ossl.f.p_SSL_SESSION_is_resumable)
#define SSL_SESSION_dup (*nx_ossl.f.p_SSL_SESSION_dup)
#define CRYPTO_malloc (*nx_ossl.f.p_CRYPTO_malloc)
#define CRYPTO_free (*nx_ossl.f.p_CRYPTO_free)
#define OBJ_nid2obj (*nx_ossl.f.p_OBJ_nid2obj)
#define X509_PUBKEY_set0_param (*nx_ossl.f.p_X509_PUBKEY_set0_param)
#define X509_get_X509_PUBKEY (*nx_ossl.f.p_X509_get_X509_PUBKEY)
#define EVP_PKEY_get_octet_string_param (*nx_ossl.f.p_EVP_PKEY_get_octet_string_param)
/* clang-format on */
#endif

#endif
