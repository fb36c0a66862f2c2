/* SPDX-License-Identifier: MIT */
/* netproxy/decide.c: a request's target, the addresses it resolved to, and
 * what a granted tunnel's first bytes make it.  Table-driven: each row is
 * one thing a client may ask or send, and the verdict it must get. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../netproxy/netproxy_internal.h"

#define PH_GH "ringfence_github_AAAAAAAAAAAAAAAAAAAAAAAA"
#define PH_OTHER "ringfence_other_BBBBBBBBBBBBBBBBBBBBBBBB"

static struct policy_item gh_items[] = { { .value = "api.github.com" } };
static struct policy_item other_items[] = { { .value = "other.example" } };
static struct policy_list gh_hosts = { gh_items, 1, 1 };
static struct policy_list other_hosts = { other_items, 1, 1 };
static const struct nx_cred creds[] = {
	{ "github", PH_GH, sizeof(PH_GH) - 1, "ghp_s3cret", 10, &gh_hosts, false, POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0 },
	{ "other", PH_OTHER, sizeof(PH_OTHER) - 1, "other_s3cret", 12, &other_hosts, false, POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0 },
};

static const char policy_text[] =
	"[network]\nmode = proxy\n"
	"allow = *.github.com github.com db.example:5432 nosni.example mail.example:25\n"
	"deny = gist.github.com\n"
	"allow_cidr = 10.20.0.0/16 192.0.2.7\n"
	"allow_no_sni = nosni.example\n"
	"server_first = mail.example:25\n";

static struct policy *load(const char *text)
{
	struct policy *p = NULL;
	struct policy_error err = { 0 };

	if (policy_load_string("t.ini", text, NULL, &p, &err) < 0)
		fail_msg("%s", err.msg);
	return p;
}

/* ---- the target ------------------------------------------------------------ */

static void test_target(void **state)
{
	static const struct {
		const char *host;
		enum nx_host_kind kind;
		const char *addr; /* literals */
		uint16_t port;
		bool allow;
		enum block_hint hint_kind;
		const char *hint; /* a part of it */
		int cred;	  /* the credential refused for a placeholder in the name, or -1 */
	} cases[] = {
		{ "api.github.com", NX_HOST_NAME, NULL, 443, true, HINT_NONE, "", -1 },
		{ "github.com", NX_HOST_NAME, NULL, 80, true, HINT_NONE, "", -1 },
		{ "github.com", NX_HOST_NAME, NULL, 22, false, HINT_ALLOW,
		  "add github.com:22 to [network] allow", -1 },
		{ "evil.test", NX_HOST_NAME, NULL, 443, false, HINT_ALLOW,
		  "add evil.test to [network] allow", -1 },
		{ "gist.github.com", NX_HOST_NAME, NULL, 443, false, HINT_DENY,
		  "remove the deny rule", -1 },
		{ "db.example", NX_HOST_NAME, NULL, 5432, true, HINT_NONE, "", -1 },
		{ "db.example", NX_HOST_NAME, NULL, 443, false, HINT_ALLOW, "add db.example to", -1 },
		{ "10.20.3.4", NX_HOST_V4, "10.20.3.4", 443, true, HINT_NONE, "", -1 },
		{ "10.21.3.4", NX_HOST_V4, "10.21.3.4", 443, false, HINT_CIDR, "connect by name", -1 },
		{ "::1", NX_HOST_V6, "::1", 443, false, HINT_CIDR, "allow_cidr", -1 },
		/* a placeholder in a name would leave by DNS, bound host or not */
		{ PH_GH ".github.com", NX_HOST_NAME, NULL, 443, false, HINT_NONE, "", 0 },
		{ "x" PH_OTHER ".evil.test", NX_HOST_NAME, NULL, 443, false, HINT_NONE, "", 1 },
	};
	struct policy *p = load(policy_text);
	struct nx_decider d = { .p = p, .creds = creds, .n_creds = 2 };
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_target t;
		uint8_t a[16] = { 0 };
		bool allowed;
		if (cases[i].addr)
			inet_pton(cases[i].kind == NX_HOST_V4 ? AF_INET : AF_INET6, cases[i].addr, a);
		nx_decide_target(&d, cases[i].kind, cases[i].host, a, cases[i].port, &t);
		allowed = !t.cred && t.v.allow;
		if (allowed != cases[i].allow)
			fail_msg("%s:%u: allowed %d", cases[i].host, cases[i].port, allowed);
		if (cases[i].cred >= 0) {
			assert_ptr_equal(t.cred, &creds[cases[i].cred]);
			continue;
		}
		assert_null(t.cred);
		if (!allowed) {
			assert_int_equal(t.hint_kind, cases[i].hint_kind);
			if (!strstr(t.hint, cases[i].hint))
				fail_msg("%s:%u: hint '%s'", cases[i].host, cases[i].port, t.hint);
		}
	}
	/* without credentials, a name with a placeholder's shape is only a name */
	d.n_creds = 0;
	{
		struct nx_target t;
		uint8_t a[16] = { 0 };
		nx_decide_target(&d, NX_HOST_NAME, PH_GH ".github.com", a, 443, &t);
		assert_null(t.cred);
		assert_true(t.v.allow);
	}
	policy_free(p);
}

/* ---- the addresses ---------------------------------------------------------- */

static void test_addresses(void **state)
{
	static const struct {
		const char *addrs[3];
		int refused; /* index, or -1 */
		const char *reason;
	} cases[] = {
		{ { "93.184.216.34", NULL }, -1, NULL },
		{ { "93.184.216.34", "2606:2800:220:1::1", NULL }, -1, NULL },
		{ { "127.0.0.1", NULL }, 0, "resolves to 127.0.0.1, a " },
		/* a rebinding answer: public first, then inside */
		{ { "93.184.216.34", "10.0.0.1", NULL }, 1, "resolves to 10.0.0.1" },
		{ { "93.184.216.34", "::ffff:127.0.0.1", NULL }, 1, "resolves to ::ffff:127.0.0.1" },
		{ { "169.254.169.254", NULL }, 0, "resolves to 169.254.169.254" },
		/* allow_cidr makes the exception */
		{ { "10.20.1.1", "192.0.2.7", NULL }, -1, NULL },
		{ { "10.20.1.1", "192.0.2.8", NULL }, 1, "resolves to 192.0.2.8" },
	};
	struct policy *p = load(policy_text);
	struct nx_decider d = { .p = p };
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_addr addrs[3];
		char reason[200] = "", text[INET6_ADDRSTRLEN] = "";
		int n = 0, r;
		for (; n < 3 && cases[i].addrs[n]; n++) {
			const char *s = cases[i].addrs[n];
			addrs[n].family = strchr(s, ':') ? 6 : 4;
			memset(addrs[n].a, 0, 16);
			inet_pton(addrs[n].family == 4 ? AF_INET : AF_INET6, s, addrs[n].a);
		}
		r = nx_decide_addresses(&d, addrs, n, reason, sizeof(reason), text);
		if (r != cases[i].refused)
			fail_msg("case %zu: %d (%s)", i, r, reason);
		if (r >= 0) {
			assert_string_equal(text, cases[i].addrs[r]);
			if (strncmp(reason, cases[i].reason, strlen(cases[i].reason)) != 0)
				fail_msg("case %zu: '%s'", i, reason);
		}
	}
	policy_free(p);
}

/* ---- a tunnel's first bytes ------------------------------------------------- */

/* A minimal ClientHello with server name NAME (or none), in one record;
 * EXTRA is put in an ALPN extension when given. */
static size_t hello(uint8_t *out, const char *name, const char *extra)
{
	uint8_t hs[1024];
	size_t n = 0, ext_at, o = 0;

	hs[n++] = 1;
	n += 3;
	hs[n++] = 3, hs[n++] = 3;
	memset(hs + n, 0x11, 32);
	n += 32;
	hs[n++] = 0;
	hs[n++] = 0, hs[n++] = 2, hs[n++] = 0x13, hs[n++] = 0x01;
	hs[n++] = 1, hs[n++] = 0;
	ext_at = n;
	n += 2;
	if (name) {
		size_t l = strlen(name);
		hs[n++] = 0, hs[n++] = 0;
		hs[n++] = 0, hs[n++] = (uint8_t)(l + 5);
		hs[n++] = 0, hs[n++] = (uint8_t)(l + 3);
		hs[n++] = 0;
		hs[n++] = 0, hs[n++] = (uint8_t)l;
		memcpy(hs + n, name, l);
		n += l;
	}
	if (extra) {
		size_t l = strlen(extra);
		hs[n++] = 0, hs[n++] = 16; /* application_layer_protocol_negotiation */
		hs[n++] = 0, hs[n++] = (uint8_t)(l + 3);
		hs[n++] = 0, hs[n++] = (uint8_t)(l + 1);
		hs[n++] = (uint8_t)l;
		memcpy(hs + n, extra, l);
		n += l;
	}
	hs[n++] = 0, hs[n++] = 0x2b, hs[n++] = 0, hs[n++] = 3, hs[n++] = 2, hs[n++] = 3, hs[n++] = 4;
	hs[ext_at] = (uint8_t)((n - ext_at - 2) >> 8);
	hs[ext_at + 1] = (uint8_t)(n - ext_at - 2);
	hs[1] = 0, hs[2] = (uint8_t)((n - 4) >> 8), hs[3] = (uint8_t)(n - 4);
	out[o++] = 0x16, out[o++] = 3, out[o++] = 1;
	out[o++] = (uint8_t)(n >> 8), out[o++] = (uint8_t)n;
	memcpy(out + o, hs, n);
	return o + n;
}

enum first { F_TEXT = 0, F_HELLO, F_HELLO_NOSNI, F_HELLO_ALPN_PH, F_HELLO_CUT };

static void test_stream(void **state)
{
	static const struct {
		const char *host;
		uint16_t port;
		bool intercept; /* TLS interception set up */
		enum first kind;
		const char *bytes; /* the text, or the server name */
		enum nx_stream_act act;
		const char *reason; /* a part of it */
		int cred;
	} cases[] = {
		/* TLS naming the tunnel's host: passed on, or ours when bound */
		{ "www.github.com", 443, true, F_HELLO, "www.github.com", NX_ACT_TUNNEL, NULL, -1 },
		{ "www.github.com", 443, true, F_HELLO, "WWW.GitHub.com.", NX_ACT_TUNNEL, NULL, -1 },
		{ "api.github.com", 443, true, F_HELLO, "api.github.com", NX_ACT_INTERCEPT, NULL, -1 },
		{ "api.github.com", 443, false, F_HELLO, "api.github.com", NX_ACT_TUNNEL, NULL, -1 },
		/* fronting: another name inside the tunnel */
		{ "www.github.com", 443, true, F_HELLO, "evil.test", NX_ACT_REFUSE,
		  "TLS names evil.test inside a tunnel to www.github.com", -1 },
		{ "www.github.com", 443, true, F_HELLO, "bad_name!", NX_ACT_REFUSE, "TLS names", -1 },
		/* no name: only where allow_no_sni says so */
		{ "www.github.com", 443, true, F_HELLO_NOSNI, NULL, NX_ACT_REFUSE,
		  "without a server name", -1 },
		{ "nosni.example", 443, true, F_HELLO_NOSNI, NULL, NX_ACT_TUNNEL, NULL, -1 },
		/* a placeholder riding in the ClientHello to a host it is not bound to */
		{ "www.github.com", 443, true, F_HELLO_ALPN_PH, "www.github.com", NX_ACT_CRED, NULL, 0 },
		{ "www.github.com", 443, true, F_HELLO_CUT, "www.github.com", NX_ACT_MORE, NULL, -1 },
		/* plain HTTP is read request by request */
		{ "www.github.com", 80, true, F_TEXT, "GET / HTTP/1.1\r\nHost: www.github.com\r\n",
		  NX_ACT_HTTP, NULL, -1 },
		{ "www.github.com", 80, true, F_TEXT, "GET / HTT", NX_ACT_MORE, NULL, -1 },
		/* other bytes: only on a port allowed by number */
		{ "www.github.com", 443, true, F_TEXT, "SSH-2.0-OpenSSH_9.2\r\n", NX_ACT_REFUSE,
		  "neither TLS nor HTTP to port 443", -1 },
		{ "db.example", 5432, true, F_TEXT, "\x00\x00\x00\x08\x04\xd2\x16\x2f", NX_ACT_TUNNEL,
		  NULL, -1 },
		{ "db.example", 5432, true, F_TEXT, "\x01 " PH_OTHER, NX_ACT_CRED, NULL, 1 },
		{ "db.example", 5432, true, F_TEXT, "\x01 " PH_GH, NX_ACT_CRED, NULL, 0 },
		{ "www.github.com", 443, true, F_TEXT, "\x16\x02\x01\x01\x01\x02", /* not TLS 1.x */
		  NX_ACT_REFUSE, "a malformed TLS ClientHello", -1 },
	};
	struct policy *p = load(policy_text);
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_decider d = { .p = p, .creds = creds, .n_creds = 2,
					.can_intercept = cases[i].intercept };
		struct nx_verdict v;
		struct nx_stream_verdict sv;
		uint8_t buf[2048], a[16] = { 0 };
		size_t n;
		switch (cases[i].kind) {
		case F_HELLO:
		case F_HELLO_CUT:
			n = hello(buf, cases[i].bytes, NULL);
			if (cases[i].kind == F_HELLO_CUT)
				n -= 3;
			break;
		case F_HELLO_NOSNI:
			n = hello(buf, NULL, NULL);
			break;
		case F_HELLO_ALPN_PH:
			n = hello(buf, cases[i].bytes, PH_GH);
			break;
		case F_TEXT:
		default:
			n = strlen(cases[i].bytes);
			if (n == 0) /* starts with a NUL: the row's length is its own */
				n = 8;
			memcpy(buf, cases[i].bytes, n);
			break;
		}
		nx_decide_host(p, NX_HOST_NAME, cases[i].host, a, cases[i].port, &v);
		assert_true(v.allow);
		nx_decide_stream(&d, cases[i].host, NX_HOST_NAME, cases[i].port, &v, buf, n, false, &sv);
		if (sv.act != cases[i].act)
			fail_msg("case %zu (%s:%u): act %d, expected %d (%s)", i, cases[i].host,
				 cases[i].port, sv.act, cases[i].act, sv.reason);
		if (cases[i].reason && !strstr(sv.reason, cases[i].reason))
			fail_msg("case %zu: reason '%s'", i, sv.reason);
		if (cases[i].cred >= 0)
			assert_ptr_equal(sv.cred, &creds[cases[i].cred]);
	}
	policy_free(p);
}

/* A partial head that fills the buffer is judged, never waited on. */
static void test_stream_final(void **state)
{
	struct policy *p = load(policy_text);
	struct nx_decider d = { .p = p };
	struct nx_verdict v;
	struct nx_stream_verdict sv;
	uint8_t a[16] = { 0 };
	(void)state;

	nx_decide_host(p, NX_HOST_NAME, "www.github.com", a, 80, &v);
	nx_decide_stream(&d, "www.github.com", NX_HOST_NAME, 80, &v, (const uint8_t *)"GET / HTT",
			 9, false, &sv);
	assert_int_equal(sv.act, NX_ACT_MORE);
	nx_decide_stream(&d, "www.github.com", NX_HOST_NAME, 80, &v, (const uint8_t *)"GET / HTT",
			 9, true, &sv);
	assert_int_not_equal(sv.act, NX_ACT_MORE);
	policy_free(p);
}

/* Bound hosts and server_first. */
static void test_bound_server_first(void **state)
{
	struct policy *p = load(policy_text);
	struct nx_decider d = { .p = p, .creds = creds, .n_creds = 2 };
	(void)state;

	assert_true(nx_decide_bound(&d, "api.github.com", 443));
	assert_false(nx_decide_bound(&d, "www.github.com", 443));
	assert_true(nx_decide_server_first(&d, "mail.example", 25));
	assert_false(nx_decide_server_first(&d, "mail.example", 587));
	assert_false(nx_decide_server_first(&d, "db.example", 5432));
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_stream_final),
		cmocka_unit_test(test_bound_server_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
