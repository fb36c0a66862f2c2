/* SPDX-License-Identifier: MIT */
/*
 * The proxy's protocol machines, driven over a socketpair(2) client and a
 * loopback upstream (tests/fuzz/conv.h): the front (first bytes, the HTTP
 * head, SOCKS5), forwarding one HTTP exchange, a tunnel judged by its first
 * bytes then spliced, and interception (TLS on both sides, then forward).  Each test is one
 * conversation: what the client and the upstream send, and what each must receive.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../fuzz/conv.h"

#define MS 3000

struct front_case {
	const char *name;
	const char *send;
	size_t send_len;
	const char *answer; /* what the client gets first (a prefix) */
	size_t answer_len;
	const char *text;  /* a part of the rest of the answer, or NULL */
	const char *event; /* a part of the audit log */
};

/* The front answers in the client's own protocol, then closes. */
static void test_front_answers(void **state)
{
	/* BYTES(s): a literal and its length, NULs included */
#define BYTES(s) s, sizeof(s) - 1
	static const struct front_case cases[] = {
	    {"SOCKS4 is refused", BYTES("\x04\x01\x00\x50\x7f\x00\x00\x01"), BYTES("\0\x5b"), NULL,
	     "net.error SOCKS4 is not supported"},
	    {"SOCKS5 without no-auth", BYTES("\x05\x01\x02"), BYTES("\x05\xff"), NULL,
	     "net.error SOCKS5 client offers no method without a password"},
	    {"SOCKS5 to a name not allowed",
	     BYTES("\x05\x01\x00\x05\x01\x00\x03\x09"
		   "evil.test\x01\xbb"),
	     BYTES("\x05\x00\x05\x02"), NULL, "net.deny"},
	    {"SOCKS5 BIND", BYTES("\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50"),
	     BYTES("\x05\x00\x05\x07"), NULL, "net.error"},
	    {"a malformed request line", BYTES("GET\r\n\r\n"), BYTES("HTTP/1.1 400 "),
	     "malformed request", "net.error"},
	    {"CONNECT to a name not allowed", BYTES("CONNECT evil.test:443 HTTP/1.1\r\n\r\n"),
	     BYTES("HTTP/1.1 403 Forbidden"), "add evil.test to [network] allow to allow it",
	     "net.deny"},
	    {"CONNECT to another port of an allowed name", NULL, 0, BYTES("HTTP/1.1 403 Forbidden"),
	     ":1 to [network] allow", "net.deny"},
	    {"forwarding to an address asked for by number",
	     BYTES("GET http://10.9.9.9/ HTTP/1.1\r\n\r\n"), BYTES("HTTP/1.1 403 Forbidden"),
	     "connect by name", "net.deny"},
	};
#undef BYTES
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct front_case *k = &cases[i];
		struct conv cv;
		char buf[4096], line[128];
		const char *send = k->send;
		size_t send_len = k->send_len, n;
		bool eof;
		assert_int_equal(conv_open(&cv, NULL), 0);
		if (!send) { /* the allowed name, on a port the policy does not name */
			snprintf(line, sizeof(line), "CONNECT up.test:1 HTTP/1.1\r\n\r\n");
			send = line;
			send_len = strlen(line);
		}
		assert_int_equal(conv_send(&cv, cv.client, send, send_len, MS), send_len);
		n = conv_recv(&cv, cv.client, buf, sizeof(buf), sizeof(buf), MS, &eof);
		if (n < k->answer_len || memcmp(buf, k->answer, k->answer_len) != 0)
			fail_msg("%s: answered %zu bytes: %.*s", k->name, n, (int)n, buf);
		if (!eof)
			fail_msg("%s: the connection stayed open", k->name);
		if (k->text && !strstr(buf, k->text))
			fail_msg("%s: '%s' not in %s", k->name, k->text, buf);
		if (!strstr(cv.events, k->event))
			fail_msg("%s: '%s' not in the events:\n%s", k->name, k->event, cv.events);
		assert_int_equal(cv.up, -1); /* refused before any dial */
		conv_close(&cv);
	}
}

/* One HTTP exchange forwarded: the head rebuilt in origin form, the
 * response passed back, the connection kept for the next request. */
static void test_forward_exchange(void **state)
{
	struct conv cv;
	char req[256], buf[4096];
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	size_t n;
	bool eof;
	(void)state;

	assert_int_equal(conv_open(&cv, NULL), 0);
	snprintf(req, sizeof(req),
		 "GET http://up.test:%u/x?y=1 HTTP/1.1\r\nHost: up.test:%u\r\n"
		 "Proxy-Connection: keep-alive\r\nX-A: b\r\n\r\n",
		 cv.port, cv.port);
	assert_int_equal(conv_send(&cv, cv.client, req, strlen(req), MS), strlen(req));
	assert_true(conv_upstream(&cv, MS) >= 0);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 1, MS, &eof);
	while (n > 0 && !strstr(buf, "\r\n\r\n"))
		n += conv_recv(&cv, cv.up, buf + n, sizeof(buf) - n, 1, MS, &eof);
	if (strncmp(buf, "GET /x?y=1 HTTP/1.1\r\n", 21) != 0)
		fail_msg("upstream got: %s", buf);
	assert_non_null(strstr(buf, "\r\nX-A: b\r\n"));
	assert_null(strstr(buf, "Proxy-Connection")); /* hop-by-hop */
	assert_int_equal(conv_send(&cv, cv.up, resp, sizeof(resp) - 1, MS), sizeof(resp) - 1);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), sizeof(resp) - 1, MS, &eof);
	assert_int_equal(n, sizeof(resp) - 1);
	assert_memory_equal(buf, resp, n);
	assert_false(eof); /* kept alive */
	assert_non_null(strstr(cv.events, "net.allow"));
	conv_close(&cv);
}

/* Two requests pipelined on one forwarded connection to a host with
 * method and path rules: each is judged when its turn comes, and the
 * refused one never reaches the upstream, already connected as it is. */
static void test_forward_pipelined_judged(void **state)
{
	struct conv cv;
	char req[512], buf[4096];
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	size_t n;
	bool eof;
	(void)state;

	assert_int_equal(conv_open(&cv, "deny = POST http://up.test/private/**\n"), 0);
	snprintf(req, sizeof(req),
		 "GET http://up.test:%u/private/a HTTP/1.1\r\nHost: up.test\r\n\r\n"
		 "POST http://up.test:%u/private/b HTTP/1.1\r\nHost: up.test\r\n"
		 "Content-Length: 0\r\n\r\n",
		 cv.port, cv.port);
	assert_int_equal(conv_send(&cv, cv.client, req, strlen(req), MS), strlen(req));
	assert_true(conv_upstream(&cv, MS) >= 0);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 1, MS, &eof);
	while (n > 0 && !strstr(buf, "\r\n\r\n"))
		n += conv_recv(&cv, cv.up, buf + n, sizeof(buf) - n, 1, MS, &eof);
	if (strncmp(buf, "GET /private/a HTTP/1.1\r\n", 25) != 0)
		fail_msg("upstream got: %s", buf);
	assert_int_equal(conv_send(&cv, cv.up, resp, sizeof(resp) - 1, MS), sizeof(resp) - 1);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf) - 1, sizeof(buf) - 1, MS, &eof);
	buf[n] = '\0';
	assert_true(eof); /* the refusal closes */
	if (strncmp(buf, resp, sizeof(resp) - 1) != 0 ||
	    !strstr(buf + sizeof(resp) - 1, "HTTP/1.1 403 Forbidden\r\n") ||
	    !strstr(buf, "POST /private/b denied by [network] deny POST http://up.test/private/**"))
		fail_msg("client got: %s", buf);
	/* nothing more reached the upstream */
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 1, 200, &eof);
	assert_int_equal(n, 0);
	assert_non_null(strstr(cv.events, "net.deny POST /private/b denied"));
	conv_close(&cv);
}

/* An upstream that ends mid-response: the client must not take the cut
 * body as whole, so its connection ends too. */
static void test_forward_cut_response(void **state)
{
	struct conv cv;
	char req[256], buf[4096];
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
	bool eof;
	(void)state;

	assert_int_equal(conv_open(&cv, NULL), 0);
	snprintf(req, sizeof(req), "GET http://up.test:%u/ HTTP/1.1\r\nHost: up.test\r\n\r\n",
		 cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	assert_true(conv_upstream(&cv, MS) >= 0);
	conv_recv(&cv, cv.up, buf, sizeof(buf), 1, MS, &eof);
	conv_send(&cv, cv.up, resp, sizeof(resp) - 1, MS);
	close(cv.up);
	cv.up = -2; /* dialled and gone */
	conv_recv(&cv, cv.client, buf, sizeof(buf), sizeof(buf), MS, &eof);
	assert_true(eof);
	assert_non_null(strstr(cv.events, "the upstream closed mid-response"));
	conv_close(&cv);
}

/* A tunnel on a port allowed by number: nothing passes before the client's
 * first bytes, then both directions are spliced, and both ends close. */
static void test_tunnel_splice(void **state)
{
	struct conv cv;
	char req[128], buf[4096];
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	bool eof;
	size_t n;
	(void)state;

	assert_int_equal(conv_open(&cv, NULL), 0);
	snprintf(req, sizeof(req), "CONNECT up.test:%u HTTP/1.1\r\n\r\n", cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), sizeof(ok) - 1, MS, &eof);
	assert_int_equal(n, sizeof(ok) - 1);
	assert_string_equal(buf, ok);
	assert_true(conv_upstream(&cv, MS) >= 0);
	/* the upstream speaks first: held until the client has spoken */
	conv_send(&cv, cv.up, "banner\n", 7, MS);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), 1, 200, &eof);
	assert_int_equal(n, 0);
	conv_send(&cv, cv.client, "\x01\x02hello", 7, MS);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 7, MS, &eof);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "\x01\x02hello", 7);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), 7, MS, &eof);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "banner\n", 7);
	shutdown(cv.client, SHUT_WR);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 1, MS, &eof);
	assert_true(eof);
	close(cv.up);
	cv.up = -2; /* dialled and gone */
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), 1, MS, &eof);
	assert_true(eof);
	assert_non_null(strstr(cv.events, "net.close"));
	conv_close(&cv);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* A tunnel that carried data holds a pipe each way; idle past a sweep it
 * gives them back (four descriptors), and makes them again on the next
 * data.  The sweep runs as often as the shortest timer (500 ms here). */
static void test_idle_tunnel_gives_its_pipes_back(void **state)
{
	struct conv cv;
	char req[128], buf[4096];
	bool eof;
	size_t n;
	int busy, idle;
	(void)state;

	assert_int_equal(conv_open(&cv, "client_timeout = 500ms\n"), 0);
	snprintf(req, sizeof(req), "CONNECT up.test:%u HTTP/1.1\r\n\r\n", cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	conv_recv(&cv, cv.client, buf, sizeof(buf), 39, MS, &eof);
	assert_true(conv_upstream(&cv, MS) >= 0);
	conv_send(&cv, cv.client, "\x01hello", 6, MS);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 6, MS, &eof);
	assert_int_equal(n, 6);
	conv_send(&cv, cv.up, "back", 4, MS);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), 4, MS, &eof);
	assert_int_equal(n, 4);
	/* the first bytes went by a buffer: this goes by the pipe */
	conv_send(&cv, cv.client, "twice", 5, MS);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 5, MS, &eof);
	assert_int_equal(n, 5);
	busy = open_fds();
	conv_run(&cv, 1300, -1);
	idle = open_fds();
	assert_int_equal(busy - idle, 4);
	/* and it still carries both ways */
	conv_send(&cv, cv.client, "again", 5, MS);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 5, MS, &eof);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "again", 5);
	conv_send(&cv, cv.up, "more", 4, MS);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), 4, MS, &eof);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "more", 4);
	assert_null(strstr(cv.events, "net.close"));
	conv_close(&cv);
}

/* A placeholder in an opaque stream's first bytes: the tunnel is closed
 * before anything reaches the upstream. */
static void test_tunnel_placeholder(void **state)
{
	static struct policy_item items[] = {{.value = "bound.test"}};
	static struct policy_list hosts = {items, 1, 1};
	static const struct netproxy_credential cr[] = {
	    {"k", "ringfence_k_AAAAAAAAAAAAAAAAAAAA", 32, "s3cret", 6, &hosts, false,
	     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
	};
	struct conv cv;
	char req[128], buf[4096];
	bool eof;
	size_t n;
	(void)state;

	assert_int_equal(conv_open(&cv, NULL), 0);
	assert_int_equal(netproxy_set_credentials(cv.np, cr, 1, NULL), 0);
	snprintf(req, sizeof(req), "CONNECT up.test:%u HTTP/1.1\r\n\r\n", cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	conv_recv(&cv, cv.client, buf, sizeof(buf), 39, MS, &eof);
	assert_true(conv_upstream(&cv, MS) >= 0);
	conv_send(&cv, cv.client, "AUTH ringfence_k_AAAAAAAAAAAAAAAAAAAA\r\n", 39, MS);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), 1, MS, &eof);
	assert_true(eof);
	assert_int_equal(n, 0);
	n = conv_recv(&cv, cv.up, buf, sizeof(buf), 1, MS, &eof);
	assert_int_equal(n, 0); /* nothing of it went upstream */
	assert_non_null(strstr(cv.events, "cred.block"));
	conv_close(&cv);
}

/* A tunnel whose client goes away before its first bytes could be judged
 * (half a ClientHello): nothing was relayed, and the upstream is closed. */
static void test_tunnel_unjudged(void **state)
{
	struct conv cv;
	char req[128], buf[4096];
	bool eof;
	(void)state;

	assert_int_equal(conv_open(&cv, NULL), 0);
	snprintf(req, sizeof(req), "CONNECT up.test:%u HTTP/1.1\r\n\r\n", cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	conv_recv(&cv, cv.client, buf, sizeof(buf), 39, MS, &eof);
	assert_true(conv_upstream(&cv, MS) >= 0);
	conv_send(&cv, cv.client, "\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03", 11, MS);
	conv_recv(&cv, cv.client, buf, sizeof(buf), 1, 300, &eof);
	assert_false(eof); /* the start of a ClientHello: the rest is waited for */
	close(cv.client);
	cv.client = -1;
	assert_int_equal(conv_recv(&cv, cv.up, buf, sizeof(buf), 1, MS, &eof), 0);
	assert_true(eof);
	conv_close(&cv);
}

/* The policy's timers, not the defaults (30 s each): a tunnel whose first
 * bytes cannot be judged in time and a client that stalls mid-request are
 * each closed after their own setting, and the loop wakes often enough to
 * see a deadline under a second.  Each clock starts a moment after the
 * proxy set the deadline, hence the lower bounds' margin. */
static void test_timers_from_the_policy(void **state)
{
	struct conv cv;
	char req[128], buf[4096];
	bool eof;
	long t0, took;
	(void)state;

	assert_int_equal(conv_open(&cv, "first_bytes_timeout = 500ms\nclient_timeout = 30s\n"), 0);
	assert_true(netproxy_timeout(cv.np) > 0 && netproxy_timeout(cv.np) <= 500);
	snprintf(req, sizeof(req), "CONNECT up.test:%u HTTP/1.1\r\n\r\n", cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	conv_recv(&cv, cv.client, buf, sizeof(buf), 39, MS, &eof);
	assert_true(conv_upstream(&cv, MS) >= 0);
	t0 = conv_now();
	conv_send(&cv, cv.client, "\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03", 11, MS);
	conv_recv(&cv, cv.client, buf, sizeof(buf), sizeof(buf), 5000, &eof);
	took = conv_now() - t0;
	assert_true(eof);
	assert_true(took >= 400 && took < 5000);
	assert_non_null(strstr(cv.events, "the tunnel's first bytes could not be judged in time"));
	conv_close(&cv);

	assert_int_equal(conv_open(&cv, "client_timeout = 500ms\n"), 0);
	t0 = conv_now();
	snprintf(req, sizeof(req), "GET http://up.test:%u/ HTTP/1.1\r\nHost: up", cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	conv_recv(&cv, cv.client, buf, sizeof(buf), sizeof(buf), 5000, &eof);
	took = conv_now() - t0;
	assert_true(eof);
	assert_true(took >= 400 && took < 5000);
	assert_non_null(strstr(cv.events, "the client stalled mid-request"));
	conv_close(&cv);
}

/* ---- interception ---------------------------------------------------------- */

/* A CA and a leaf for up.test signed by it, made with openssl(1) in DIR;
 * skips the test with the reason when that fails. */
static bool make_upstream_certs(const char *dir)
{
	char cmd[2048];

	snprintf(
	    cmd, sizeof(cmd),
	    "cd %s && printf 'subjectAltName=DNS:up.test\\n' > ext && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout ca.key -out ca.pem -days 2 -subj /CN=conv-ca 2>/dev/null && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout up.key "
	    "-out up.csr -subj /CN=up.test 2>/dev/null && "
	    "openssl x509 -req -in up.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out up.pem "
	    "-days 2 -extfile ext 2>/dev/null",
	    dir);
	return system(cmd) == 0;
}

/* One non-blocking handshake step: 1 done, 0 again, -1 failed. */
static int hs_step(SSL *ssl)
{
	int r = SSL_do_handshake(ssl);

	if (r == 1)
		return 1;
	r = SSL_get_error(ssl, r);
	return r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Reads through SSL until WANT bytes or MS: how many, NUL-terminated. */
static size_t ssl_recv(struct conv *cv, SSL *ssl, char *buf, size_t cap, size_t want, int ms)
{
	size_t off = 0;
	long end = conv_now() + ms;

	while (off < want && off + 1 < cap && conv_now() < end) {
		int r = SSL_read(ssl, buf + off, (int)(cap - 1 - off));
		if (r > 0)
			off += (size_t)r;
		else if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
			break;
		else
			conv_run(cv, 5, -1);
	}
	buf[off] = '\0';
	return off;
}

/* A CONNECT to a host a credential is bound to: the client's TLS ends at
 * the proxy (a leaf from the run's CA), the upstream's is verified against
 * upstream_ca, and the request inside is forwarded with the secret in
 * place of the placeholder. */
static void test_intercept(void **state)
{
	static char rule[32];
	static struct policy_item items[] = {{.value = rule}};
	static struct policy_list hosts = {items, 1, 1};
	static const struct netproxy_credential cr[] = {
	    {"k", "ringfence_k_AAAAAAAAAAAAAAAAAAAA", 32, "s3cret-k", 8, &hosts, false,
	     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
	};
	char dir[] = "/tmp/rf-conv.XXXXXX", path[128], extra[200], req[256], buf[8192], msg[256];
	struct netproxy_tls *tls = NULL;
	SSL_CTX *cctx, *sctx;
	SSL *cssl, *sssl = NULL;
	struct conv cv;
	size_t n;
	int cdone = 0, sdone = 0;
	bool eof;
	BIO *bio;
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	(void)state;

	assert_non_null(mkdtemp(dir));
	if (!make_upstream_certs(dir)) {
		fprintf(stderr, "skipped: openssl(1) could not make the upstream's certificates\n");
		skip();
	}
	snprintf(extra, sizeof(extra), "upstream_ca = %s/ca.pem\n", dir);
	assert_int_equal(conv_open(&cv, extra), 0);
	snprintf(rule, sizeof(rule), "up.test:%u", cv.port);
	assert_int_equal(netproxy_tls_new(cv.p, cr, 1, &tls, msg, sizeof(msg)), 0);
	assert_int_equal(netproxy_set_credentials(cv.np, cr, 1, tls), 0);

	/* the client trusts what the sandbox would: the bundle */
	FILE *pem = tmpfile();
	assert_non_null(pem);
	assert_int_equal(netproxy_tls_write_bundle(tls, fileno(pem), msg, sizeof(msg)), 0);
	rewind(pem);
	cctx = SSL_CTX_new(TLS_client_method());
	bio = BIO_new_fp(pem, BIO_CLOSE);
	for (X509 *x; (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)); X509_free(x))
		X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), x);
	ERR_clear_error();
	BIO_free(bio);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	cssl = SSL_new(cctx);
	SSL_set_tlsext_host_name(cssl, "up.test");
	SSL_set1_host(cssl, "up.test");
	SSL_set_connect_state(cssl);
	SSL_set_fd(cssl, cv.client);

	sctx = SSL_CTX_new(TLS_server_method());
	snprintf(path, sizeof(path), "%s/up.pem", dir);
	assert_int_equal(SSL_CTX_use_certificate_file(sctx, path, SSL_FILETYPE_PEM), 1);
	snprintf(path, sizeof(path), "%s/up.key", dir);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(sctx, path, SSL_FILETYPE_PEM), 1);

	snprintf(req, sizeof(req), "CONNECT up.test:%u HTTP/1.1\r\n\r\n", cv.port);
	conv_send(&cv, cv.client, req, strlen(req), MS);
	n = conv_recv(&cv, cv.client, buf, sizeof(buf), 39, MS, &eof);
	assert_int_equal(n, 39);
	assert_true(conv_upstream(&cv, MS) >= 0);
	sssl = SSL_new(sctx);
	SSL_set_accept_state(sssl);
	SSL_set_fd(sssl, cv.up);
	for (long end = conv_now() + MS; (cdone < 1 || sdone < 1) && conv_now() < end;) {
		if (cdone == 0)
			cdone = hs_step(cssl);
		if (sdone == 0)
			sdone = hs_step(sssl);
		if (cdone < 0 || sdone < 0)
			break;
		conv_run(&cv, 2, -1);
	}
	if (cdone != 1 || sdone != 1)
		fail_msg("handshakes: client %d upstream %d; events:\n%s", cdone, sdone, cv.events);

	snprintf(req, sizeof(req),
		 "GET /x HTTP/1.1\r\nHost: up.test:%u\r\nAuthorization: Bearer %s\r\n\r\n", cv.port,
		 cr[0].placeholder);
	assert_int_equal(SSL_write(cssl, req, (int)strlen(req)), (int)strlen(req));
	n = ssl_recv(&cv, sssl, buf, sizeof(buf), 1, MS);
	while (n > 0 && !strstr(buf, "\r\n\r\n"))
		n += ssl_recv(&cv, sssl, buf + n, sizeof(buf) - n, 1, MS);
	if (!strstr(buf, "\r\nAuthorization: Bearer s3cret-k\r\n") || strstr(buf, "ringfence_k_"))
		fail_msg("the upstream got: %s", buf);
	assert_int_equal(SSL_write(sssl, resp, (int)sizeof(resp) - 1), (int)sizeof(resp) - 1);
	n = ssl_recv(&cv, cssl, buf, sizeof(buf), sizeof(resp) - 1, MS);
	assert_int_equal(n, sizeof(resp) - 1);
	assert_memory_equal(buf, resp, n);
	assert_non_null(strstr(cv.events, "cred.inject"));

	SSL_free(cssl);
	SSL_free(sssl);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	conv_close(&cv);
	netproxy_tls_free(tls); /* after the proxy that borrowed it */
	snprintf(req, sizeof(req), "rm -rf %s", dir);
	assert_int_equal(system(req), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_front_answers),
	    cmocka_unit_test(test_forward_exchange),
	    cmocka_unit_test(test_forward_pipelined_judged),
	    cmocka_unit_test(test_forward_cut_response),
	    cmocka_unit_test(test_tunnel_splice),
	    cmocka_unit_test(test_idle_tunnel_gives_its_pipes_back),
	    cmocka_unit_test(test_tunnel_placeholder),
	    cmocka_unit_test(test_tunnel_unjudged),
	    cmocka_unit_test(test_timers_from_the_policy),
	    cmocka_unit_test(test_intercept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
