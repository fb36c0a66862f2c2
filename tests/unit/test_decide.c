/* SPDX-License-Identifier: MIT */
/* netproxy/decide.c: a request's target, the addresses it resolved to, and
 * what a granted tunnel's first bytes make it.  Table-driven: each row is
 * one thing a client may ask or send, and the verdict it must get. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../netproxy/netproxy_internal.h"

#define PH_GH	 "ringfence_github_AAAAAAAAAAAAAAAAAAAAAAAA"
#define PH_OTHER "ringfence_other_BBBBBBBBBBBBBBBBBBBBBBBB"

static struct policy_item gh_items[] = {{.value = "api.github.com"}};
static struct policy_item other_items[] = {{.value = "other.example"}};
static struct policy_list gh_hosts = {gh_items, 1, 1};
static struct policy_list other_hosts = {other_items, 1, 1};
static const struct nx_cred creds[] = {
    {"github", PH_GH, sizeof(PH_GH) - 1, "ghp_s3cret", 10, &gh_hosts, false, POLICY_INJECT_REPLACE,
     NULL, false, NULL, 0, 0},
    {"other", PH_OTHER, sizeof(PH_OTHER) - 1, "other_s3cret", 12, &other_hosts, false,
     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
};

static const char policy_text[] =
    "[network]\nmode = proxy\n"
    "allow = *.github.com github.com db.example:5432 nosni.example mail.example:25\n"
    "allow = other.example:80 other.example:8080 other.example:22\n"
    "deny = gist.github.com\n"
    "allow_cidr = 10.20.0.0/16 192.0.2.7\n"
    "allow_no_sni = nosni.example\n"
    "server_first = mail.example:25\n";

static struct policy *load(const char *text)
{
	struct policy *p = NULL;
	struct policy_error err = {0};

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
	    {"api.github.com", NX_HOST_NAME, NULL, 443, true, HINT_NONE, "", -1},
	    {"github.com", NX_HOST_NAME, NULL, 80, true, HINT_NONE, "", -1},
	    {"github.com", NX_HOST_NAME, NULL, 22, false, HINT_ALLOW,
	     "add github.com:22 to [network] allow", -1},
	    {"evil.test", NX_HOST_NAME, NULL, 443, false, HINT_ALLOW,
	     "add evil.test to [network] allow", -1},
	    {"gist.github.com", NX_HOST_NAME, NULL, 443, false, HINT_DENY, "remove the deny rule",
	     -1},
	    {"db.example", NX_HOST_NAME, NULL, 5432, true, HINT_NONE, "", -1},
	    {"db.example", NX_HOST_NAME, NULL, 443, false, HINT_ALLOW, "add db.example to", -1},
	    {"10.20.3.4", NX_HOST_V4, "10.20.3.4", 443, true, HINT_NONE, "", -1},
	    {"10.21.3.4", NX_HOST_V4, "10.21.3.4", 443, false, HINT_CIDR, "connect by name", -1},
	    {"::1", NX_HOST_V6, "::1", 443, false, HINT_CIDR, "allow_cidr", -1},
	    /* a placeholder in a name would leave by DNS, bound host or not */
	    {PH_GH ".github.com", NX_HOST_NAME, NULL, 443, false, HINT_NONE, "", 0},
	    {"x" PH_OTHER ".evil.test", NX_HOST_NAME, NULL, 443, false, HINT_NONE, "", 1},
	};
	struct policy *p = load(policy_text);
	struct nx_decider d = {.p = p, .creds = creds, .n_creds = 2};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_target t;
		uint8_t a[16] = {0};
		bool allowed;
		if (cases[i].addr)
			inet_pton(cases[i].kind == NX_HOST_V4 ? AF_INET : AF_INET6, cases[i].addr,
				  a);
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
		uint8_t a[16] = {0};
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
	    {{"93.184.216.34", NULL}, -1, NULL},
	    {{"93.184.216.34", "2606:2800:220:1::1", NULL}, -1, NULL},
	    {{"127.0.0.1", NULL}, 0, "resolves to 127.0.0.1, a "},
	    /* a rebinding answer: public first, then inside */
	    {{"93.184.216.34", "10.0.0.1", NULL}, 1, "resolves to 10.0.0.1"},
	    {{"93.184.216.34", "::ffff:127.0.0.1", NULL}, 1, "resolves to ::ffff:127.0.0.1"},
	    {{"169.254.169.254", NULL}, 0, "resolves to 169.254.169.254"},
	    /* allow_cidr makes the exception */
	    {{"10.20.1.1", "192.0.2.7", NULL}, -1, NULL},
	    {{"10.20.1.1", "192.0.2.8", NULL}, 1, "resolves to 192.0.2.8"},
	};
	struct policy *p = load(policy_text);
	struct nx_decider d = {.p = p};
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

/* An IPv4-mapped address is the IPv4 host it maps to: an IPv6 rule that
 * covers ::ffff:0:0/96 without naming it (`::/0`) grants no IPv4 address
 * (the host's loopback was reached so, an outside review found); an IPv4
 * rule, or an IPv6 one written within ::ffff:0:0/96, does. */
static void test_mapped_addresses(void **state)
{
	static const struct {
		const char *addr;
		bool allow;
	} cases[] = {
	    {"::ffff:127.0.0.1", false},
	    {"::ffff:10.77.0.1", false},
	    {"::ffff:169.254.169.254", false},
	    {"::ffff:10.20.3.4", true}, /* 10.20.0.0/16 */
	    {"::ffff:192.0.2.9", true}, /* ::ffff:192.0.2.0/120 */
	    {"2001:db8::1", true},	/* ::/0, the control */
	    {"::1", true},		/* ::/0 names it */
	    /* NAT64: a public address is IPv6 to ::/0, the metadata endpoint not */
	    {"64:ff9b::5db8:d822", true},
	    {"64:ff9b::a9fe:a9fe", false},
	    {"2002:a9fe:a9fe::1", false}, /* 6to4 */
	    /* the unspecified address is this host: no rule makes it an upstream */
	    {"::", false},
	    {"::ffff:0.0.0.0", false},
	};
	struct policy *p = load("[network]\nmode = proxy\n"
				"allow_cidr = ::/0 10.20.0.0/16 ::ffff:192.0.2.0/120\n");
	struct nx_decider d = {.p = p};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_target t;
		struct nx_addr a = {.family = 6};
		char reason[200] = "", text[INET6_ADDRSTRLEN] = "";
		assert_int_equal(inet_pton(AF_INET6, cases[i].addr, a.a), 1);
		nx_decide_target(&d, NX_HOST_V6, cases[i].addr, a.a, 443, &t);
		if (t.v.allow != cases[i].allow)
			fail_msg("%s: allowed %d", cases[i].addr, t.v.allow);
		/* a name resolving to it: the same (private = deny) */
		int r = nx_decide_addresses(&d, &a, 1, reason, sizeof(reason), text);
		if ((r < 0) != cases[i].allow)
			fail_msg("%s by name: %d (%s)", cases[i].addr, r, reason);
	}
	policy_free(p);
	/* and 0.0.0.0 under 0.0.0.0/0, beside a public address (the control) */
	p = load("[network]\nmode = proxy\nallow_cidr = 0.0.0.0/0\n");
	d.p = p;
	static const char *const v4[] = {"0.0.0.0", "0.1.2.3", "93.184.216.34"};
	for (size_t i = 0; i < 3; i++) {
		struct nx_target t;
		uint8_t a[16] = {0};
		assert_int_equal(inet_pton(AF_INET, v4[i], a), 1);
		nx_decide_target(&d, NX_HOST_V4, v4[i], a, 443, &t);
		if (t.v.allow != (i == 2))
			fail_msg("%s: allowed %d", v4[i], t.v.allow);
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
	hs[n++] = 0, hs[n++] = 0x2b, hs[n++] = 0, hs[n++] = 3, hs[n++] = 2, hs[n++] = 3,
	hs[n++] = 4;
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
	    {"www.github.com", 443, true, F_HELLO, "www.github.com", NX_ACT_TUNNEL, NULL, -1},
	    {"www.github.com", 443, true, F_HELLO, "WWW.GitHub.com.", NX_ACT_TUNNEL, NULL, -1},
	    {"api.github.com", 443, true, F_HELLO, "api.github.com", NX_ACT_INTERCEPT, NULL, -1},
	    {"api.github.com", 443, false, F_HELLO, "api.github.com", NX_ACT_TUNNEL, NULL, -1},
	    /* fronting: another name inside the tunnel */
	    {"www.github.com", 443, true, F_HELLO, "evil.test", NX_ACT_REFUSE,
	     "TLS names evil.test inside a tunnel to www.github.com", -1},
	    {"www.github.com", 443, true, F_HELLO, "bad_name!", NX_ACT_REFUSE, "TLS names", -1},
	    /* no name: only where allow_no_sni says so */
	    {"www.github.com", 443, true, F_HELLO_NOSNI, NULL, NX_ACT_REFUSE,
	     "without a server name", -1},
	    {"nosni.example", 443, true, F_HELLO_NOSNI, NULL, NX_ACT_TUNNEL, NULL, -1},
	    /* a placeholder riding in the ClientHello to a host it is not bound to */
	    {"www.github.com", 443, true, F_HELLO_ALPN_PH, "www.github.com", NX_ACT_CRED, NULL, 0},
	    {"www.github.com", 443, true, F_HELLO_CUT, "www.github.com", NX_ACT_MORE, NULL, -1},
	    /* plain HTTP is read request by request */
	    {"www.github.com", 80, true, F_TEXT, "GET / HTTP/1.1\r\nHost: www.github.com\r\n",
	     NX_ACT_HTTP, NULL, -1},
	    {"www.github.com", 80, true, F_TEXT, "GET / HTT", NX_ACT_MORE, NULL, -1},
	    /* other bytes: only on a port allowed by number */
	    {"www.github.com", 443, true, F_TEXT, "SSH-2.0-OpenSSH_9.2\r\n", NX_ACT_REFUSE,
	     "neither TLS nor HTTP to port 443", -1},
	    {"db.example", 5432, true, F_TEXT, "\x00\x00\x00\x08\x04\xd2\x16\x2f", NX_ACT_TUNNEL,
	     NULL, -1},
	    {"db.example", 5432, true, F_TEXT, "\x01 " PH_OTHER, NX_ACT_CRED, NULL, 1},
	    {"db.example", 5432, true, F_TEXT, "\x01 " PH_GH, NX_ACT_CRED, NULL, 0},
	    /* ...but not to a host a credential is bound to: its responses
	     * are scanned (HTTP/0.9 reading back a secret stored there) */
	    {"other.example", 80, true, F_TEXT, "GET /notes\r\n\r\n", NX_ACT_REFUSE,
	     "to which a credential is bound", -1},
	    {"other.example", 80, false, F_TEXT, "\x00\x00\x00\x08\x04\xd2\x16\x2f", NX_ACT_REFUSE,
	     "to which a credential is bound", -1},
	    {"other.example", 80, true, F_TEXT, "GET /notes HTTP/1.0\r\n", NX_ACT_HTTP, NULL, -1},
	    /* the same name on a port it is not bound to: the same storage */
	    {"other.example", 8080, true, F_TEXT, "GET /notes\r\n\r\n", NX_ACT_REFUSE,
	     "to which a credential is bound", -1},
	    {"other.example", 8080, true, F_TEXT, "\r\nget  /notes \r\n", NX_ACT_REFUSE,
	     "to which a credential is bound", -1},
	    /* ...but SSH to a port allowed by number goes on (git over SSH
	     * beside a token bound to the same host for its API) */
	    {"other.example", 22, true, F_TEXT, "SSH-2.0-OpenSSH_9.6\r\n", NX_ACT_TUNNEL, NULL, -1},
	    {"other.example", 8080, true, F_TEXT, "\x00\x00\x00\x08\x04\xd2\x16\x2f", NX_ACT_TUNNEL,
	     NULL, -1},
	    {"www.github.com", 443, true, F_TEXT, "\x16\x02\x01\x01\x01\x02", /* not TLS 1.x */
	     NX_ACT_REFUSE, "a malformed TLS ClientHello", -1},
	};
	struct policy *p = load(policy_text);
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_decider d = {
		    .p = p, .creds = creds, .n_creds = 2, .can_intercept = cases[i].intercept};
		struct nx_verdict v;
		struct nx_stream_verdict sv;
		uint8_t buf[2048], a[16] = {0};
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
		nx_decide_stream(&d, cases[i].host, NX_HOST_NAME, cases[i].port, &v, buf, n, false,
				 &sv);
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
	struct nx_decider d = {.p = p};
	struct nx_verdict v;
	struct nx_stream_verdict sv;
	uint8_t a[16] = {0};
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
	struct nx_decider d = {.p = p, .creds = creds, .n_creds = 2};
	(void)state;

	assert_true(nx_decide_bound(&d, "api.github.com", 443));
	assert_false(nx_decide_bound(&d, "www.github.com", 443));
	assert_true(nx_decide_server_first(&d, "mail.example", 25));
	assert_false(nx_decide_server_first(&d, "mail.example", 587));
	assert_false(nx_decide_server_first(&d, "db.example", 5432));
	policy_free(p);
}

/* ---- method and path rules ------------------------------------------------- */

static const char rules_text[] = "[network]\nmode = proxy\n"
				 "allow = GET,HEAD https://api.example.com/repos/**\n"
				 "allow = POST https://api.example.com/repos/*/issues\n"
				 "allow = GET https://api.example.com/search?q=*\n"
				 "allow = PUT http://plain.example/upload/*.txt\n"
				 "allow = GET https://ws.example/socket\n"
				 "allow = open.example\n"
				 "deny = DELETE https://open.example/**\n"
				 "deny = GET https://api.example.com/repos/secret/**\n"
				 "deny = https://open.example/admin/**\n"
				 "deny = GET https://open.example/exact\n"
				 "deny = PUT https://open.example/slash/\n"
				 "deny = GET https://open.example/file.v2\n"
				 "deny = GET https://open.example/backup-*-full\n"
				 "deny = GET https://open.example/search?debug=1\n"
				 "allow = GET https://api.example.com/act?action=read&id=*\n"
				 "deny = GET https://open.example/find?de_bug=1\n"
				 "deny = GET https://open.example/find?admin=*\n";

/* A request: its verdict and the rule (line) that gave it. */
static void test_request(void **state)
{
	static const struct {
		const char *host;
		uint16_t port;
		bool tls;
		const char *method, *target;
		bool allow;
		unsigned line;	   /* the rule's line, 0: none */
		const char *words; /* a part of the reason or hint */
	} cases[] = {
	    {"api.example.com", 443, true, "GET", "/repos/a/b", true, 3, "allowed by"},
	    {"api.example.com", 443, true, "HEAD", "/repos", true, 3, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/", true, 3, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/a?x=1", true, 3, NULL},
	    {"api.example.com", 443, true, "POST", "/repos/a/b", false, 0,
	     "add POST https://api.example.com/repos/a/b to [network] allow"},
	    {"api.example.com", 443, true, "POST", "/repos/a/issues", true, 4, NULL},
	    {"api.example.com", 443, true, "POST", "/repos/a/b/issues", false, 0, NULL},
	    /* methods are case-sensitive for allow */
	    {"api.example.com", 443, true, "get", "/repos/a", false, 0, "add get https://"},
	    {"api.example.com", 443, true, "GET", "/user", false, 0,
	     "add GET https://api.example.com/user to"},
	    {"api.example.com", 443, true, "GET", "/Repos/a", false, 0, NULL},
	    {"api.example.com", 443, true, "GET", "/reposx", false, 0, NULL},
	    /* deny wins, in every letter case of method and path */
	    {"api.example.com", 443, true, "GET", "/repos/secret/x", false, 10, "remove the deny"},
	    {"api.example.com", 443, true, "GET", "/repos/SECRET/x", false, 10, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/%73ecret/x", false, 10, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/secret", false, 10, NULL},
	    /* a deny rule meets the forms routers serve as its path: one
	     * trailing '/', a segment's trailing dots and spaces */
	    {"api.example.com", 443, true, "GET", "/repos/secret/", false, 10, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/secret.", false, 10, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/secret%20", false, 10, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/secret.%20./x", false, 10, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/SECRET./x/", false, 10, NULL},
	    {"open.example", 443, true, "GET", "/admin/", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/admin.", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/admin%20/x", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/x/", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/adminx", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/admin-x.json", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/admin%20x", true, 8, NULL},
	    /* and a format suffix on the last segment (Rails' (.:format),
	     * Spring MVC's suffix patterns before 5.3): cut at the first dot,
	     * the last, and the one after the rule's own */
	    {"open.example", 443, true, "GET", "/admin.x", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/admin.json", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/ADMIN.JSON", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/admin%2Ejson", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/admin.json/", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/exact.json", false, 12, NULL},
	    {"open.example", 443, true, "GET", "/exact.tar.gz", false, 12, NULL},
	    {"open.example", 443, true, "GET", "/exact.json?x=1", false, 12, NULL},
	    {"open.example", 443, true, "GET", "/exact.a.b.c.d", false, 12, NULL},
	    {"open.example", 443, true, "GET", "/file.v2.json", false, 14, NULL},
	    {"open.example", 443, true, "GET", "/file.v2.a.b", false, 14, NULL},
	    {"open.example", 443, true, "GET", "/file.v3.json", true, 8, NULL},
	    /* a '*' of the rule standing for dots, before a suffix of dots */
	    {"open.example", 443, true, "GET", "/backup-2024.01.01-full.tar.gz", false, 15, NULL},
	    {"open.example", 443, true, "GET", "/backup-x-full.tar.gz", false, 15, NULL},
	    {"open.example", 443, true, "GET", "/backup-x-fully.tar.gz", true, 8, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/secret.json", false, 10, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/secret/x.json", false, 10, NULL},
	    /* the last segment only, and never down to nothing */
	    {"api.example.com", 443, true, "GET", "/repos/secret.json/x", true, 3, NULL},
	    {"open.example", 443, true, "GET", "/exactly.json", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/x/exact.json", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/.exact", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/exact.", false, 12, NULL},
	    {"open.example", 443, true, "GET", "/exact", false, 12, NULL},
	    {"open.example", 443, true, "GET", "/exact//", false, 0, "empty segment"},
	    {"open.example", 443, true, "GET", "/exactly", true, 8, NULL},
	    /* a rule written with a trailing '/' meets the path without it */
	    {"open.example", 443, true, "PUT", "/slash", false, 13, NULL},
	    {"open.example", 443, true, "PUT", "/slash/", false, 13, NULL},
	    {"open.example", 443, true, "GET", "/slash", true, 8, NULL},
	    /* only the allow rule's own forms: the allow list is exact */
	    {"api.example.com", 443, true, "GET", "/search.?q=abc", false, 0, NULL},
	    /* a deny rule that lists GET also denies HEAD (frameworks run the
	     * GET handler for it); an allow rule takes HEAD only if it lists it */
	    {"api.example.com", 443, true, "HEAD", "/repos/secret/x", false, 10, NULL},
	    {"api.example.com", 443, true, "head", "/repos/secret/x", false, 10, NULL},
	    {"open.example", 443, true, "HEAD", "/exact", false, 12, NULL},
	    {"open.example", 443, true, "HEAD", "/slash", true, 8, NULL}, /* PUT only */
	    {"api.example.com", 443, true, "HEAD", "/search?q=abc", false, 0, NULL},
	    /* overlong UTF-8 forms of '.' and '/' */
	    {"api.example.com", 443, true, "GET", "/repos/%C0%AE%C0%AE/x", false, 0, "overlong"},
	    {"api.example.com", 443, true, "GET", "/repos/a%C0%AFb", false, 0, "overlong"},
	    {"api.example.com", 443, true, "GET", "/repos/%c1%9c", false, 0, "overlong"},
	    {"api.example.com", 443, true, "GET", "/repos/%E0%80%AE", false, 0, "overlong"},
	    {"api.example.com", 443, true, "GET", "/repos/%F0%80%80%AE", false, 0, "overlong"},
	    {"api.example.com", 443, true, "GET", "/repos/%C3%A9", true, 3, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/%E0%A4%85", true, 3, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/%F0%90%80%80", true, 3, NULL},
	    /* the query: ignored unless the rule names one */
	    {"api.example.com", 443, true, "GET", "/search?q=abc", true, 5, NULL},
	    {"api.example.com", 443, true, "GET", "/search", false, 0, NULL},
	    {"api.example.com", 443, true, "GET", "/search?x=abc", false, 0, NULL},
	    /* parameter by parameter, in any order (an outside review: one
	     * string to the glob missed these) */
	    {"open.example", 443, true, "GET", "/search?debug=1", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?x=1&debug=1", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?debug=1&", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?&debug=1", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?x=1;debug=1", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?DEBUG=1", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?deb%75g=1", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?debug=0&debug=1", false, 16, NULL},
	    {"open.example", 443, true, "GET", "/search?debug=2", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/search?xdebug=1", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/search", true, 8, NULL},
	    {"api.example.com", 443, true, "GET", "/act?action=read&id=1", true, 17, NULL},
	    {"api.example.com", 443, true, "GET", "/act?id=1&action=read", true, 17, NULL},
	    {"api.example.com", 443, true, "GET", "/act?action=read&id=1&action=delete", false, 0,
	     NULL},
	    {"api.example.com", 443, true, "GET", "/act?action=read&id=1;x=2", false, 0, NULL},
	    {"api.example.com", 443, true, "GET", "/act?action=read", false, 0, NULL},
	    {"api.example.com", 443, true, "GET", "/search?q=abc&x=1", false, 0, NULL},
	    /* the names PHP reads as de_bug (and a bare name as present) */
	    {"open.example", 443, true, "GET", "/find?de.bug=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?de+bug=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?de%20bug=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?de[bug=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?+de_bug=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?%20de_bug=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?de_bug%00x=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?de_bug[]=1", false, 18, NULL},
	    {"open.example", 443, true, "GET", "/find?admin", false, 19, NULL},
	    {"open.example", 443, true, "GET", "/find?admin=1", false, 19, NULL},
	    {"open.example", 443, true, "GET", "/find?debu=1", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/find?de_bugx=1", true, 8, NULL},
	    {"open.example", 443, true, "GET", "/find?de_bug=2", true, 8, NULL},
	    /* what servers read differently: refused, never guessed */
	    {"api.example.com", 443, true, "GET", "/repos/../admin", false, 0, "'..'"},
	    {"api.example.com", 443, true, "GET", "/repos/%2e%2e/admin", false, 0, "'..'"},
	    {"api.example.com", 443, true, "GET", "/repos/.%2E/admin", false, 0, "'..'"},
	    {"api.example.com", 443, true, "GET", "/repos/./a", false, 0, "'.'"},
	    /* ".." to IIS, which drops a segment's trailing dots and spaces */
	    {"api.example.com", 443, true, "GET", "/repos/..%20/admin", false, 0,
	     "dots and spaces"},
	    {"api.example.com", 443, true, "GET", "/repos/.../admin", false, 0, "dots and spaces"},
	    {"api.example.com", 443, true, "GET", "/repos/%2e%2e%2e/admin", false, 0,
	     "dots and spaces"},
	    {"api.example.com", 443, true, "GET", "/repos/.%20./admin", false, 0,
	     "dots and spaces"},
	    {"api.example.com", 443, true, "GET", "/repos/a.../x", true, 3, NULL},
	    {"api.example.com", 443, true, "GET", "/repos/a%2Fb", false, 0, "%2F"},
	    {"api.example.com", 443, true, "GET", "/repos/a%2fb", false, 0, "%2F"},
	    {"api.example.com", 443, true, "GET", "/repos//a", false, 0, "empty segment"},
	    {"api.example.com", 443, true, "GET", "//repos/a", false, 0, "empty segment"},
	    {"api.example.com", 443, true, "GET", "/repos/a;/../x", false, 0, "';'"},
	    {"api.example.com", 443, true, "GET", "/repos/a%3b", false, 0, "';'"},
	    {"api.example.com", 443, true, "GET", "/repos/a\\b", false, 0, "backslash"},
	    {"api.example.com", 443, true, "GET", "/repos/a%5Cb", false, 0, "backslash"},
	    {"api.example.com", 443, true, "GET", "/repos/a%00", false, 0, "control"},
	    {"api.example.com", 443, true, "GET", "/repos/a%zz", false, 0, "hex"},
	    {"api.example.com", 443, true, "GET", "/repos/a%252Fb", false, 0, "%25XX"},
	    {"api.example.com", 443, true, "GET", "/repos/a%4", false, 0, "hex"},
	    {"api.example.com", 443, true, "OPTIONS", "*", false, 0, "asterisk"},
	    /* encodings of the same byte are one path */
	    {"api.example.com", 443, true, "GET", "/%72epos/a", true, 3, NULL},
	    {"api.example.com", 443, true, "POST", "/repos/%2A/issues", true, 4, NULL},
	    /* an allow rule's port is the scheme's (a deny rule's every port: port 80
	     * is read, and no allow rule names it) */
	    {"api.example.com", 80, false, "GET", "/repos/a", false, 0,
	     "add GET http://api.example.com/repos/a"},
	    {"plain.example", 443, true, "GET", "/../x", true, 0, NULL}, /* not ruled */
	    {"plain.example", 80, false, "PUT", "/upload/a.txt", true, 6, NULL},
	    {"plain.example", 80, false, "PUT", "/upload/a.txt/b", false, 0,
	     "add PUT http://plain.example/upload/a.txt/b"},
	    {"plain.example", 80, false, "PUT", "/upload/a.bin", false, 0, NULL},
	    /* a forwarded request's target after the authority */
	    {"plain.example", 80, false, "PUT", "", false, 0, "PUT http://plain.example/ "},
	    {"plain.example", 80, false, "PUT", "?x", false, 0, NULL},
	    /* a host allowed whole: only the deny rules read paths */
	    {"open.example", 443, true, "GET", "/x", true, 8, NULL},
	    {"open.example", 443, true, "delete", "/x", false, 9, NULL},
	    {"open.example", 80, false, "DELETE", "/x", false, 9, NULL}, /* a deny: every port */
	    {"open.example", 443, true, "GET", "/Admin/x", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/admin", false, 11, NULL},
	    {"open.example", 443, true, "GET", "/administrator", true, 8, NULL},
	    /* not a host with rules: not judged here */
	    {"other.example", 443, true, "DELETE", "/../x", true, 0, NULL},
	};
	struct policy *p = load(rules_text);
	struct nx_decider d = {.p = p};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_req_verdict v;
		nx_decide_request(&d, cases[i].host, cases[i].port, cases[i].tls, cases[i].method,
				  strlen(cases[i].method), cases[i].target, strlen(cases[i].target),
				  NULL, 0, &v);
		if (v.allow != cases[i].allow)
			fail_msg("case %zu (%s %s): allow %d (%s; %s)", i, cases[i].method,
				 cases[i].target, v.allow, v.reason, v.hint);
		if (cases[i].line && (!v.rule || v.rule->origin.line != cases[i].line))
			fail_msg("case %zu (%s %s): rule at line %u, expected %u (%s)", i,
				 cases[i].method, cases[i].target, v.rule ? v.rule->origin.line : 0,
				 cases[i].line, v.reason);
		if (!cases[i].line && !cases[i].allow && v.rule)
			fail_msg("case %zu: a rule refused it", i);
		if (cases[i].words && !strstr(v.reason, cases[i].words) &&
		    !strstr(v.hint, cases[i].words))
			fail_msg("case %zu (%s %s): '%s' not in '%s' / '%s'", i, cases[i].method,
				 cases[i].target, cases[i].words, v.reason, v.hint);
	}
	policy_free(p);
}

/* A header some servers take for the method or the path refuses the
 * request to a host with rules (only there). */
static void test_request_override_headers(void **state)
{
	/* and each with '_' for '-', which CGI, PHP and WSGI servers pass on
	 * alike (outside review) */
	static const char *const names[] = {"X-HTTP-Method-Override", "x-http-method",
					    "X-Method-Override",      "X-Original-URL",
					    "X-Rewrite-URL",	      "X-Original-Method",
					    "X_HTTP_METHOD_OVERRIDE", "x_http-method-override",
					    "X_Original_URL",	      "X.HTTP.Method.Override"};
	struct policy *p = load(rules_text);
	struct nx_decider d = {.p = p};
	struct nx_req_verdict v;
	(void)state;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct nx_header h[2] = {{"Accept", "*", 6, 1},
					 {names[i], "DELETE", strlen(names[i]), 6}};
		nx_decide_request(&d, "api.example.com", 443, true, "GET", 3, "/repos/a", 8, h, 2,
				  &v);
		if (v.allow || !strstr(v.reason, "taken for the method or path"))
			fail_msg("%s: allowed or '%s'", names[i], v.reason);
		nx_decide_request(&d, "other.example", 443, true, "GET", 3, "/repos/a", 8, h, 2,
				  &v);
		assert_true(v.allow && !v.ruled);
	}
	/* the control: without it, allowed */
	nx_decide_request(&d, "api.example.com", 443, true, "GET", 3, "/repos/a", 8,
			  (struct nx_header[]){{"X-HTTP-Method-Overrid", "x", 21, 1}}, 1, &v);
	assert_true(v.allow);
	/* a _method parameter in the query (Symfony's and Laravel's), however
	 * written; another parameter that holds the word is none */
	static const char *const queries[] = {
	    "/repos/a?_method=DELETE", "/repos/a?x=1&_METHOD=put", "/repos/a?%5Fmethod=delete",
	    "/repos/a?_method", "/repos/a?_m%65thod=DELETE",
	    /* as PHP reads a name (a review of the first form) */
	    "/repos/a?.method=DELETE", "/repos/a?%2Emethod=DELETE", "/repos/a?+_method=DELETE",
	    "/repos/a?%20_method=DELETE", "/repos/a?x=1;_method=DELETE",
	    "/repos/a?_method[]=DELETE", "/repos/a?_method%5B0%5D=DELETE"};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		nx_decide_request(&d, "api.example.com", 443, true, "GET", 3, queries[i],
				  strlen(queries[i]), NULL, 0, &v);
		if (v.allow || !strstr(v.reason, "_method parameter"))
			fail_msg("%s: allowed or '%s'", queries[i], v.reason);
	}
	static const char *const fine[] = {"/repos/a?x_method=1", "/repos/a?q=_method",
					   "/repos/a?_methods=1"};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		nx_decide_request(&d, "api.example.com", 443, true, "GET", 3, fine[i],
				  strlen(fine[i]), NULL, 0, &v);
		if (strstr(v.reason, "_method parameter"))
			fail_msg("%s: '%s'", fine[i], v.reason);
	}
	policy_free(p);
}

/* A host with rules is reached, its HTTPS intercepted, its other bytes refused. */
static void test_request_streams(void **state)
{
	struct policy *p = load(rules_text);
	struct nx_target t;
	struct nx_stream_verdict sv;
	uint8_t a[16] = {0}, buf[2048];
	size_t n = hello(buf, "api.example.com", NULL);
	struct nx_decider d = {.p = p, .can_intercept = true};
	(void)state;

	nx_decide_target(&d, NX_HOST_NAME, "api.example.com", a, 443, &t);
	assert_true(t.v.allow);
	assert_int_equal(t.v.rule->origin.line, 3);
	nx_decide_target(&d, NX_HOST_NAME, "api.example.com", a, 8443, &t);
	assert_false(t.v.allow);
	assert_true(nx_decide_ruled(&d, "api.example.com", 443));
	assert_true(nx_decide_ruled(&d, "api.example.com", 80)); /* the deny rule */
	assert_false(nx_decide_ruled(&d, "plain.example", 443));
	assert_true(nx_decide_ruled(&d, "open.example", 22)); /* deny: every port */
	nx_decide_stream(&d, "api.example.com", NX_HOST_NAME, 443, &t.v, buf, n, false, &sv);
	assert_int_equal(sv.act, NX_ACT_INTERCEPT);
	n = hello(buf, NULL, NULL); /* no name: the tunnel's is known */
	nx_decide_stream(&d, "api.example.com", NX_HOST_NAME, 443, &t.v, buf, n, false, &sv);
	assert_int_equal(sv.act, NX_ACT_INTERCEPT);
	d.can_intercept = false; /* fail closed: never passed unread */
	nx_decide_stream(&d, "api.example.com", NX_HOST_NAME, 443, &t.v, buf, n, false, &sv);
	assert_int_equal(sv.act, NX_ACT_REFUSE);
	nx_decide_stream(&d, "api.example.com", NX_HOST_NAME, 443, &t.v,
			 (const uint8_t *)"SSH-2.0-x\r\n", 11, false, &sv);
	assert_int_equal(sv.act, NX_ACT_REFUSE);
	nx_decide_stream(&d, "api.example.com", NX_HOST_NAME, 443, &t.v,
			 (const uint8_t *)"GET / HTTP/1.1\r\n", 16, false, &sv);
	assert_int_equal(sv.act, NX_ACT_HTTP);
	assert_true(netproxy_rules_need_tls(p));
	policy_free(p);
	p = load("[network]\nallow = GET http://plain.example/x\n");
	assert_false(netproxy_rules_need_tls(p));
	policy_free(p);
	p = load("[network]\nallow = plain.example\ndeny = POST http://plain.example/x\n");
	assert_true(netproxy_rules_need_tls(p)); /* a deny without a port: every port */
	policy_free(p);
}

/* The globs against a reference written the obvious way: recursive, over
 * segments split in advance. */
static bool ref_chars(const char *p, size_t pn, const char *s, size_t sn)
{
	if (pn == 0)
		return sn == 0;
	if (p[0] == '*')
		return ref_chars(p + 1, pn - 1, s, sn) || (sn && ref_chars(p, pn, s + 1, sn - 1));
	return sn && p[0] == s[0] && ref_chars(p + 1, pn - 1, s + 1, sn - 1);
}

static size_t split(const char *s, const char *seg[], size_t len[])
{
	size_t n = 0;
	const char *q = s + 1; /* after the leading '/' */
	for (;;) {
		const char *e = strchr(q, '/');
		seg[n] = q;
		len[n++] = e ? (size_t)(e - q) : strlen(q);
		if (!e)
			return n;
		q = e + 1;
	}
}

static bool ref_segs(const char **ps, const size_t *pl, size_t pn, const char **ss,
		     const size_t *sl, size_t sn)
{
	if (pn == 0)
		return sn == 0;
	if (pl[0] == 2 && ps[0][0] == '*' && ps[0][1] == '*')
		return ref_segs(ps + 1, pl + 1, pn - 1, ss, sl, sn) ||
		       (sn && ref_segs(ps, pl, pn, ss + 1, sl + 1, sn - 1));
	return sn && ref_chars(ps[0], pl[0], ss[0], sl[0]) &&
	       ref_segs(ps + 1, pl + 1, pn - 1, ss + 1, sl + 1, sn - 1);
}

static bool ref_glob(const char *pat, const char *path)
{
	const char *ps[32], *ss[32];
	size_t pl[32], sl[32];
	size_t pn = split(pat, ps, pl), sn = split(path, ss, sl);
	return ref_segs(ps, pl, pn, ss, sl, sn);
}

static void gen(char *out, size_t segs, bool pattern, unsigned *seed)
{
	static const char *const pieces[] = {"a", "b", "ab", "", "ba", "aa"};
	static const char *const globs[] = {"*", "**", "a*", "*b", "*a*", "a"};
	size_t o = 0;
	for (size_t i = 0; i < segs; i++) {
		unsigned r = (unsigned)rand_r(seed);
		const char *piece = pattern && r % 2 ? globs[(r >> 4) % 6] : pieces[(r >> 4) % 6];
		if (pattern && !piece[0])
			piece = "b";
		o += (size_t)sprintf(out + o, "/%s", piece);
	}
	if (segs == 0)
		o += (size_t)sprintf(out + o, "/");
	out[o] = '\0';
}

static void test_glob_differential(void **state)
{
	unsigned seed = 20261201;
	char pat[128], path[128];
	unsigned matched = 0;
	(void)state;

	for (int i = 0; i < 200000; i++) {
		gen(pat, (size_t)rand_r(&seed) % 5, true, &seed);
		gen(path, (size_t)rand_r(&seed) % 6, false, &seed);
		bool want = ref_glob(pat, path);
		bool got = nx_path_glob(pat, strlen(pat), path, strlen(path), false);
		if (want != got)
			fail_msg("'%s' against '%s': %d, the reference says %d", pat, path, got,
				 want);
		matched += want;
	}
	/* both answers were given many times */
	assert_true(matched > 10000 && matched < 190000);
}

/* The normal form: every encoding of a byte the same, '*' a literal in a request. */
static void test_path_canon(void **state)
{
	static const struct {
		const char *in;
		bool pattern;
		const char *out; /* NULL: refused */
	} cases[] = {
	    {"/a%3Ab", false, "/a:b"},
	    {"/a%3ab", false, "/a:b"},
	    {"/a:b", false, "/a:b"},
	    {"/%7Euser", false, "/~user"},
	    {"/a b", false, NULL},
	    {"/a%20b", false, "/a%20b"},
	    {"/a\"b", false, "/a%22b"},
	    {"/a%22b", false, "/a%22b"},
	    {"/a*b", false, "/a%2Ab"},
	    {"/a*b", true, "/a*b"},
	    {"/a%2Ab", true, "/a%2Ab"},
	    {"/a%25b", false, "/a%25b"},
	    {"/a%252Fb", false, NULL}, /* '/' to a server that decodes twice */
	    {"/a%25%32%46b", false, NULL},
	    {"/a%25%32zz", false, "/a%252zz"},
	    {"/a%25zz", false, "/a%25zz"},
	    {"/a%25", false, "/a%25"},
	    {"/", false, "/"},
	    {"/a/", false, "/a/"},
	    {"/...", false, NULL}, /* IIS drops its dots: refused with "..%20" */
	    {"/..%20", false, NULL},
	    {"/a...", false, "/a..."},
	    {"/.a", false, "/.a"},
	    {"/%C3%A9", false, "/%C3%A9"},
	    /* overlong UTF-8: a lenient decoder's '.', '/' and others */
	    {"/%C0%AE", false, NULL},
	    {"/%c0%af", false, NULL},
	    {"/%C1%BF", false, NULL},
	    {"/%E0%80%AE", false, NULL},
	    {"/%E0%9F%BF", false, NULL},
	    {"/%F0%80%80%AF", false, NULL},
	    {"/%F0%8F%BF%BF", false, NULL},
	    {"/%E0%A0%80", false, "/%E0%A0%80"},
	    {"/%F0%90%80%80", false, "/%F0%90%80%80"},
	    {"/%E0/%80", false, "/%E0/%80"},
	    {"/%C0%AE", true, NULL},
	    {"a", false, NULL},
	    {"", false, NULL},
	    {"/a/%2e", false, NULL},
	    {"/a?b", false, NULL},
	    {"/a#b", false, NULL},
	    {"/**/a/**", true, "/**/a/**"},
	    {"/a**", true, NULL},
	};
	char out[256];
	const char *why;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = policy_http_path_canon(cases[i].in, strlen(cases[i].in), cases[i].pattern,
					       out, sizeof(out), &why);
		if (!cases[i].out && r >= 0)
			fail_msg("'%s' became '%s', expected a refusal", cases[i].in, out);
		if (cases[i].out && (r < 0 || strcmp(out, cases[i].out) != 0))
			fail_msg("'%s': %s, expected '%s'", cases[i].in, r < 0 ? why : out,
				 cases[i].out);
	}
	assert_int_equal(policy_http_path_canon("/aaaa", 5, false, out, 4, &why), -E2BIG);
}

/* One normal form: what it makes, made again, is itself (for paths and
 * queries, over many generated inputs of the bytes that matter). */
static void test_canon_is_a_fixed_point(void **state)
{
	/* pieces, not bytes: escapes of the bytes that matter come whole */
	static const char *const pieces[] = {"/", "%25", "%32", "%46", "%2e", "%2F", "%2A", "a",
					     "F", "9",	 ".",	";",   "*",   "%",   "?",   "#",
					     " ", "%7e", "%41", "%00", "%zz", "\\",  "\"",  ":"};
	unsigned seed = 7, ok = 0;
	char in[64], once[512], twice[512];
	const char *why;
	(void)state;

	for (int i = 0; i < 300000; i++) {
		size_t n = 1, m = (size_t)rand_r(&seed) % 8;
		in[0] = '/';
		for (size_t k = 0; k < m; k++) {
			const char *piece =
			    pieces[(size_t)rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(in + n, piece, strlen(piece));
			n += strlen(piece);
		}
		for (int query = 0; query < 2; query++) {
			int a =
			    query ? policy_http_query_canon(in, n, false, once, sizeof(once), &why)
				  : policy_http_path_canon(in, n, false, once, sizeof(once), &why);
			if (a < 0)
				continue;
			ok++;
			int b = query ? policy_http_query_canon(once, (size_t)a, false, twice,
								sizeof(twice), &why)
				      : policy_http_path_canon(once, (size_t)a, false, twice,
							       sizeof(twice), &why);
			if (b != a || memcmp(once, twice, (size_t)a) != 0)
				fail_msg("%s '%.*s' -> '%s' -> %s", query ? "query" : "path",
					 (int)n, in, once, b < 0 ? why : twice);
		}
	}
	assert_true(ok > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_target),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_mapped_addresses),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_stream_final),
	    cmocka_unit_test(test_bound_server_first),
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_request_override_headers),
	    cmocka_unit_test(test_request_streams),
	    cmocka_unit_test(test_glob_differential),
	    cmocka_unit_test(test_path_canon),
	    cmocka_unit_test(test_canon_is_a_fixed_point),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
