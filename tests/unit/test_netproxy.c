/* SPDX-License-Identifier: MIT */
/* The proxy's pure parts: names, rules, addresses, HTTP heads, chunked
 * bodies, SOCKS5 messages.  Table-driven. */
#include <arpa/inet.h>
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../netproxy/netproxy_internal.h"

/* ---- host names ------------------------------------------------------------ */

static void test_host_normalize(void **state)
{
	static const struct {
		const char *in;
		enum nx_host_kind kind;
		const char *out;
	} cases[] = {
	    {"Example.COM", NX_HOST_NAME, "example.com"},
	    {"example.com.", NX_HOST_NAME, "example.com"},
	    {"a_b.example", NX_HOST_NAME, "a_b.example"},
	    {"127.0.0.1", NX_HOST_V4, "127.0.0.1"},
	    {"127.1", NX_HOST_V4, "127.0.0.1"},
	    {"2130706433", NX_HOST_V4, "127.0.0.1"},
	    {"0x7f.0.0.1", NX_HOST_V4, "127.0.0.1"},
	    {"0177.0.0.1", NX_HOST_V4, "127.0.0.1"},
	    {"1.2.3.4.", NX_HOST_V4, "1.2.3.4"},
	    {"::1", NX_HOST_V6, "::1"},
	    {"::ffff:127.0.0.1", NX_HOST_V6, "::ffff:127.0.0.1"},
	    {"foo.123", NX_HOST_INVALID, NULL}, /* ends in a number, not an address */
	    {"256.0.0.1", NX_HOST_INVALID, NULL},
	    {"", NX_HOST_INVALID, NULL},
	    {".", NX_HOST_INVALID, NULL},
	    {"a..b", NX_HOST_INVALID, NULL},
	    {".a", NX_HOST_INVALID, NULL},
	    {"a b", NX_HOST_INVALID, NULL},
	    {"a/b", NX_HOST_INVALID, NULL},
	    {"a%00b", NX_HOST_INVALID, NULL},
	    {"ex\xc3\xa4mple.com", NX_HOST_INVALID, NULL},
	    {"fe80::1%eth0", NX_HOST_INVALID, NULL},
	    {"[::1]", NX_HOST_INVALID, NULL},
	    {"*.example.com", NX_HOST_INVALID, NULL},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	     NX_HOST_INVALID, NULL}, /* a 64-character label */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[NX_HOST_MAX];
		uint8_t addr[16];
		const char *why;
		enum nx_host_kind k =
		    nx_host_normalize(cases[i].in, strlen(cases[i].in), out, addr, &why);
		if (k != cases[i].kind)
			fail_msg("'%s': kind %d, expected %d", cases[i].in, k, cases[i].kind);
		if (cases[i].out)
			assert_string_equal(out, cases[i].out);
		else
			assert_non_null(why);
	}
	/* an embedded NUL is part of the length, never a terminator */
	{
		char out[NX_HOST_MAX];
		uint8_t addr[16];
		const char *why;
		assert_int_equal(nx_host_normalize("evil.com\0.example.com", 21, out, addr, &why),
				 NX_HOST_INVALID);
	}
}

/* ---- rules: table, then a differential check against a plain reference ---- */

static void test_rule_match_table(void **state)
{
	static const struct {
		const char *rule, *host;
		unsigned port;
		bool deny, match;
	} cases[] = {
	    {"example.com", "example.com", 443, false, true},
	    {"example.com", "example.com", 80, false, true},
	    {"example.com", "example.com", 8443, false, false},
	    {"example.com", "example.com", 8443, true, true}, /* deny: every port */
	    {"example.com", "www.example.com", 443, false, false},
	    {"example.com", "notexample.com", 443, false, false},
	    {"example.com", "example.com.evil", 443, false, false},
	    {"*.example.com", "example.com", 443, false, false},
	    {"*.example.com", "a.example.com", 443, false, true},
	    {"*.example.com", "a.b.example.com", 443, false, true},
	    {"*.example.com", "aexample.com", 443, false, false},
	    {"*.example.com", ".example.com", 443, false, false}, /* no label before */
	    {"example.com:8443", "example.com", 8443, false, true},
	    {"example.com:8443", "example.com", 443, false, false},
	    {"*.example.com:22", "git.example.com", 22, false, true},
	    {"*.example.com:22", "git.example.com", 443, true, false},
	    {"EXAMPLE.com", "example.com", 443, false, true},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (nx_rule_match(cases[i].rule, cases[i].host, (uint16_t)cases[i].port,
				  cases[i].deny) != cases[i].match)
			fail_msg("rule '%s' host '%s' port %u deny %d: expected %d", cases[i].rule,
				 cases[i].host, cases[i].port, cases[i].deny, cases[i].match);
}

/* The reference: the rule read the slow, obvious way. */
static bool reference_match(const char *rule, const char *host, unsigned port, bool deny)
{
	char r[300];
	unsigned rport = 0;
	char *colon;

	snprintf(r, sizeof(r), "%s", rule);
	colon = strchr(r, ':');
	if (colon) {
		rport = (unsigned)atoi(colon + 1);
		*colon = '\0';
	}
	if (rport ? port != rport : !deny && port != 80 && port != 443)
		return false;
	for (char *s = r; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	if (r[0] == '*') {
		/* host = LABELS "." suffix, with at least one label before */
		const char *suffix = r + 2;
		size_t hl = strlen(host), sl = strlen(suffix);
		if (hl < sl + 2)
			return false;
		return strcmp(host + hl - sl, suffix) == 0 && host[hl - sl - 1] == '.';
	}
	return strcmp(r, host) == 0;
}

static void test_rule_match_differential(void **state)
{
	static const char *const labels[] = {"a", "b", "ab", "example", "com", "x-y", "0"};
	static const unsigned ports[] = {80, 443, 22, 8080};
	unsigned seed = 12345;
	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		char host[128] = "", rule[140] = "";
		int nh = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 3;
		int nr = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 3;
		for (int i = 0; i < nh; i++) {
			strcat(host, labels[((seed = seed * 1103515245 + 12345) >> 16) % 7]);
			if (i + 1 < nh)
				strcat(host, ".");
		}
		if (((seed = seed * 1103515245 + 12345) >> 16) % 3 == 0)
			strcat(rule, "*.");
		for (int i = 0; i < nr; i++) {
			strcat(rule, labels[((seed = seed * 1103515245 + 12345) >> 16) % 7]);
			if (i + 1 < nr)
				strcat(rule, ".");
		}
		/* half the time, a rule that is a suffix of the host */
		if (iter % 2 && strlen(host) > 2) {
			const char *dot = strchr(host, '.');
			snprintf(rule, sizeof(rule), "%s%s", iter % 4 == 1 ? "*." : "",
				 dot ? dot + 1 : host);
		}
		if (((seed = seed * 1103515245 + 12345) >> 16) % 4 == 0)
			snprintf(rule + strlen(rule), sizeof(rule) - strlen(rule), ":%u",
				 ports[((seed = seed * 1103515245 + 12345) >> 16) % 4]);
		unsigned port = ports[((seed = seed * 1103515245 + 12345) >> 16) % 4];
		bool deny = iter % 3 == 0;
		if (nx_rule_match(rule, host, (uint16_t)port, deny) !=
		    reference_match(rule, host, port, deny))
			fail_msg("rule '%s' host '%s' port %u deny %d disagree", rule, host, port,
				 deny);
	}
}

/* ---- addresses -------------------------------------------------------------------- */

static void test_addr_class(void **state)
{
	static const struct {
		const char *addr;
		bool private;
	} cases[] = {
	    {"8.8.8.8", false},
	    {"1.1.1.1", false},
	    {"93.184.215.14", false},
	    {"127.0.0.1", true},
	    {"127.255.255.254", true},
	    {"10.1.2.3", true},
	    {"172.16.0.1", true},
	    {"172.31.255.255", true},
	    {"172.32.0.1", false},
	    {"192.168.1.1", true},
	    {"169.254.169.254", true},
	    {"169.254.1.1", true},
	    {"100.64.0.1", true},
	    {"100.128.0.1", false},
	    {"0.0.0.0", true},
	    {"0.1.2.3", true},
	    {"224.0.0.1", true},
	    {"255.255.255.255", true},
	    {"240.0.0.1", true},
	    {"198.18.0.1", true},
	    {"192.0.2.1", true},
	    {"::1", true},
	    {"::", true},
	    {"::ffff:8.8.8.8", true},
	    {"::ffff:127.0.0.1", true},
	    {"::127.0.0.1", true},
	    {"64:ff9b::a00:1", true},
	    {"64:ff9b:1::1", true},
	    {"fe80::1", true},
	    {"fc00::1", true},
	    {"fd00:ec2::254", true},
	    {"ff02::1", true},
	    {"2001:db8::1", true},
	    {"2002:7f00:1::", true},
	    {"2001:0::1", true},
	    {"fec0::1", true},
	    {"2606:4700::1111", false},
	    {"2a00:1450::1", false},
	    {"2001:4860::8888", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[16] = {0};
		int fam = strchr(cases[i].addr, ':') ? 6 : 4;
		assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, cases[i].addr, a), 1);
		if ((nx_addr_class(fam, a) != NULL) != cases[i].private)
			fail_msg("%s: expected %s", cases[i].addr,
				 cases[i].private ? "private" : "public");
	}
}

static void test_cidr_match(void **state)
{
	uint8_t a[16] = {0};
	(void)state;
	inet_pton(AF_INET, "10.20.3.4", a);
	assert_true(nx_cidr_match("10.20.0.0/16", 4, a));
	assert_true(nx_cidr_match("10.20.3.4", 4, a));
	assert_true(nx_cidr_match("0.0.0.0/0", 4, a));
	assert_false(nx_cidr_match("10.21.0.0/16", 4, a));
	assert_true(nx_cidr_match("10.20.2.0/23", 4, a));
	assert_false(nx_cidr_match("10.20.3.5/32", 4, a));
	assert_false(nx_cidr_match("::/0", 4, a)); /* families never mix */
	inet_pton(AF_INET6, "fd00::5", a);
	assert_true(nx_cidr_match("fd00::/8", 6, a));
	assert_true(nx_cidr_match("fd00::5/128", 6, a));
	assert_false(nx_cidr_match("fd01::/16", 6, a));
}

static struct policy *load(const char *text)
{
	struct policy *p = NULL;
	struct policy_error err = {0};
	if (policy_load_string("t.ini", text, NULL, &p, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	return p;
}

static void test_decide(void **state)
{
	struct policy *p =
	    load("[network]\nmode = proxy\nallow = *.github.com github.com api.x.test:8443\n"
		 "deny = gist.github.com\nallow_cidr = 10.20.0.0/16\n"
		 "hosts = api.x.test=10.20.0.5\n");
	struct nx_verdict v;
	uint8_t a[16] = {0};
	const struct policy_item *rule;
	(void)state;

	nx_decide_host(p, NX_HOST_NAME, "api.github.com", a, 443, &v);
	assert_true(v.allow);
	assert_int_equal(v.rule->origin.line, 3);
	nx_decide_host(p, NX_HOST_NAME, "gist.github.com", a, 443, &v);
	assert_false(v.allow); /* deny wins */
	assert_string_equal(v.key, "network.deny");
	assert_int_equal(v.rule->origin.line, 4);
	nx_decide_host(p, NX_HOST_NAME, "gist.github.com", a, 22, &v);
	assert_false(v.allow);
	nx_decide_host(p, NX_HOST_NAME, "github.com", a, 22, &v);
	assert_false(v.allow); /* no port: 80 and 443 only */
	nx_decide_host(p, NX_HOST_NAME, "evil.test", a, 443, &v);
	assert_false(v.allow);
	assert_null(v.rule);
	nx_decide_host(p, NX_HOST_NAME, "api.x.test", a, 8443, &v);
	assert_true(v.allow);
	assert_true(v.have_static);
	assert_int_equal(v.family, 4);
	assert_int_equal(v.addr[0], 10);
	/* literals: only allow_cidr */
	inet_pton(AF_INET, "10.20.0.9", a);
	nx_decide_host(p, NX_HOST_V4, "10.20.0.9", a, 5432, &v);
	assert_true(v.allow);
	inet_pton(AF_INET, "8.8.8.8", a);
	nx_decide_host(p, NX_HOST_V4, "8.8.8.8", a, 443, &v);
	assert_false(v.allow);
	/* addresses: private = deny by default, allow_cidr excepts */
	assert_null(nx_check_address(p, 4, a, &rule));
	inet_pton(AF_INET, "10.20.0.5", a);
	assert_null(nx_check_address(p, 4, a, &rule));
	assert_non_null(rule);
	inet_pton(AF_INET, "10.30.0.5", a);
	assert_non_null(nx_check_address(p, 4, a, &rule));
	inet_pton(AF_INET, "169.254.169.254", a);
	assert_non_null(nx_check_address(p, 4, a, &rule));
	policy_free(p);

	p = load("[network]\nmode = proxy\nprivate = allow\n");
	inet_pton(AF_INET, "10.30.0.5", a);
	assert_null(nx_check_address(p, 4, a, &rule));
	inet_pton(AF_INET, "0.0.0.0", a);
	assert_non_null(nx_check_address(p, 4, a, &rule)); /* never an upstream */
	policy_free(p);
}

/* Every cloud metadata and internal-service endpoint the providers document
 * is named as such, refused under private = deny and private = allow alike,
 * and reachable only through allow_cidr. */
static void test_cloud_metadata_addresses(void **state)
{
	static const struct {
		const char *provider, *addr, *word;
	} cases[] = {
	    {"AWS instance metadata", "169.254.169.254", "metadata"},
	    {"AWS instance metadata (IPv6)", "fd00:ec2::254", "AWS"},
	    {"AWS DNS resolver", "169.254.169.253", "AWS DNS"},
	    {"AWS DNS resolver (IPv6)", "fd00:ec2::253", "AWS DNS"},
	    {"AWS time sync", "169.254.169.123", "AWS time"},
	    {"AWS time sync (IPv6)", "fd00:ec2::123", "AWS time"},
	    {"AWS ECS task credentials", "169.254.170.2", "ECS"},
	    {"AWS EKS pod identity", "169.254.170.23", "EKS"},
	    {"AWS EKS pod identity (IPv6)", "fd00:ec2::23", "EKS"},
	    {"Azure instance metadata", "169.254.169.254", "metadata"},
	    {"Azure WireServer", "168.63.129.16", "Azure WireServer"},
	    {"GCP metadata.google.internal", "169.254.169.254", "metadata"},
	    {"GCP metadata server (IPv6)", "fd20:ce::254", "GCP"},
	    {"Alibaba Cloud metadata", "100.100.100.200", "Alibaba"},
	    {"Oracle Cloud metadata", "192.0.0.192", "Oracle"},
	    {"Oracle Cloud IMDS", "169.254.169.254", "metadata"},
	    {"DigitalOcean metadata", "169.254.169.254", "metadata"},
	    {"Hetzner metadata", "169.254.169.254", "metadata"},
	    {"OpenStack metadata", "169.254.169.254", "metadata"},
	    {"OpenStack metadata (IPv6)", "fe80::a9fe:a9fe", "OpenStack"},
	    {"Linode/Akamai metadata (IPv6)", "fd00:a9fe:a9fe::1", "Akamai"},
	    {"Scaleway metadata", "169.254.42.42", "Scaleway"},
	    {"Scaleway metadata (IPv6)", "fd00:42::42", "Scaleway"},
	    {"Tencent Cloud metadata", "169.254.0.23", "Tencent"},
	};
	struct policy *deny = load("[network]\nmode = proxy\n");
	struct policy *allow = load("[network]\nmode = proxy\nprivate = allow\n");
	struct policy *cidr = load("[network]\nmode = proxy\nprivate = allow\n"
				   "allow_cidr = 168.63.129.16/32 fd20:ce::254/128\n");
	const struct policy_item *rule;
	uint8_t a[16];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fam = strchr(cases[i].addr, ':') ? 6 : 4;
		const char *m, *c;
		memset(a, 0, sizeof(a));
		assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, cases[i].addr, a), 1);
		m = nx_addr_metadata(fam, a);
		c = nx_addr_class(fam, a);
		if (!m || !c || strcmp(m, c) != 0 || !strstr(m, cases[i].word))
			fail_msg("%s (%s): classified as %s", cases[i].provider, cases[i].addr,
				 c ? c : "public");
		if (!nx_check_address(deny, fam, a, &rule))
			fail_msg("%s: allowed under private = deny", cases[i].provider);
		if (!nx_check_address(allow, fam, a, &rule))
			fail_msg("%s: allowed under private = allow", cases[i].provider);
	}
	/* the same endpoints through IPv6 forms that carry an IPv4 address: a
	 * mapped socket, a NAT64 gateway or a tunnel delivers them there */
	static const char *const carried[] = {
	    "::ffff:169.254.169.254",
	    "::ffff:168.63.129.16",
	    "::169.254.169.254",
	    "::ffff:0:169.254.169.254",
	    "64:ff9b::a9fe:a9fe",
	    "64:ff9b::168.63.129.16",
	    "64:ff9b:1:a9fe:a9:fe00::",
	    "2002:a9fe:a9fe::1",
	    "2001:0:a9fe:a9fe::1",
	    "2001:0:4136:e378:8000:63bf:5601:5601", /* Teredo client 169.254.169.254, inverted */
	    "::ffff:100.100.100.200",
	};
	for (size_t i = 0; i < sizeof(carried) / sizeof(carried[0]); i++) {
		memset(a, 0, sizeof(a));
		assert_int_equal(inet_pton(AF_INET6, carried[i], a), 1);
		if (!nx_addr_metadata(6, a))
			fail_msg("%s: not classified as a metadata address", carried[i]);
		if (!nx_check_address(allow, 6, a, &rule))
			fail_msg("%s: allowed under private = allow", carried[i]);
	}
	/* ...and their public neighbours are not */
	inet_pton(AF_INET6, "::ffff:93.184.215.14", a);
	assert_null(nx_addr_metadata(6, a));
	inet_pton(AF_INET6, "64:ff9b::5db8:d70e", a);
	assert_null(nx_addr_metadata(6, a));
	/* allow_cidr is the one way to them */
	inet_pton(AF_INET, "168.63.129.16", a);
	assert_null(nx_check_address(cidr, 4, a, &rule));
	assert_non_null(rule);
	inet_pton(AF_INET6, "fd20:ce::254", a);
	assert_null(nx_check_address(cidr, 6, a, &rule));
	/* the neighbours of a single-address entry are not metadata */
	inet_pton(AF_INET, "168.63.129.17", a);
	assert_null(nx_addr_class(4, a));
	policy_free(deny);
	policy_free(allow);
	policy_free(cidr);
}

/* A NAT64 local-use prefix (64:ff9b:1::/48, RFC 8215) may be a /48, /56, /64
 * or /96 inside it, and RFC 6052 puts the IPv4 address in a different place
 * for each (skipping bits 64-71).  Which one a gateway uses is not in the
 * address, so a metadata endpoint in any of the layouts is refused under
 * private = allow.  Only the /48 layout was read before: the /56, /64 and
 * /96 forms of 169.254.169.254 were dialled.  A public address in each
 * layout stays allowed. */
static void test_nat64_local_use_layouts(void **state)
{
	static const struct {
		const char *addr, *layout;
		bool metadata;
	} cases[] = {
	    {"64:ff9b:1:a9fe:a9:fe00::", "/48 169.254.169.254", true},
	    {"64:ff9b:1:a9fe:a9:fe12:3456:789a", "/48 169.254.169.254, suffix", true},
	    {"64:ff9b:1:a9:fe:a9fe::", "/56 169.254.169.254", true},
	    {"64:ff9b:1:12a9:fe:a9fe:3456:789a", "/56 169.254.169.254, subnet, suffix", true},
	    {"64:ff9b:1:0:a9:fea9:fe00:0", "/64 169.254.169.254", true},
	    {"64:ff9b:1:2345:a9:fea9:fe67:89ab", "/64 169.254.169.254, subnet, suffix", true},
	    {"64:ff9b:1::a9fe:a9fe", "/96 169.254.169.254", true},
	    {"64:ff9b:1::169.254.169.254", "/96 169.254.169.254, dotted", true},
	    {"64:ff9b:1:2345:67:89ab:a9fe:a9fe", "/96 169.254.169.254, subnet", true},
	    {"64:ff9b:1:0:a8:3f81:1000:0", "/64 168.63.129.16 (Azure)", true},
	    {"64:ff9b:1::a83f:8110", "/96 168.63.129.16 (Azure)", true},
	    {"64:ff9b:1::6464:64c8", "/96 100.100.100.200 (Alibaba)", true},
	    {"64:ff9b:1:5db8:d7:e00::", "/48 93.184.215.14", false},
	    {"64:ff9b:1:5d:b8:d70e::", "/56 93.184.215.14", false},
	    {"64:ff9b:1:0:5d:b8d7:e00:0", "/64 93.184.215.14", false},
	    {"64:ff9b:1::5db8:d70e", "/96 93.184.215.14", false},
	    {"64:ff9b:1::808:808", "/96 8.8.8.8", false},
	};
	struct policy *deny = load("[network]\nmode = proxy\n");
	struct policy *allow = load("[network]\nmode = proxy\nprivate = allow\n");
	struct policy *cidr = load("[network]\nmode = proxy\nprivate = allow\n"
				   "allow_cidr = 64:ff9b:1::a9fe:a9fe/128\n");
	const struct policy_item *rule;
	uint8_t a[16];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *m, *c;
		memset(a, 0, sizeof(a));
		assert_int_equal(inet_pton(AF_INET6, cases[i].addr, a), 1);
		m = nx_addr_metadata(6, a);
		c = nx_addr_class(6, a);
		if ((m != NULL) != cases[i].metadata)
			fail_msg("%s (%s): %s", cases[i].addr, cases[i].layout,
				 m ? m : "not a metadata address");
		/* private = deny refuses the whole prefix, named for what it carries */
		if (!c || strcmp(c, m ? m : "NAT64 address (local use)") != 0)
			fail_msg("%s (%s): classified as %s", cases[i].addr, cases[i].layout,
				 c ? c : "public");
		if (!nx_check_address(deny, 6, a, &rule))
			fail_msg("%s (%s): allowed under private = deny", cases[i].addr,
				 cases[i].layout);
		if ((nx_check_address(allow, 6, a, &rule) != NULL) != cases[i].metadata)
			fail_msg("%s (%s): %s under private = allow", cases[i].addr,
				 cases[i].layout, cases[i].metadata ? "allowed" : "refused");
	}
	/* allow_cidr is still the one way to them */
	inet_pton(AF_INET6, "64:ff9b:1::a9fe:a9fe", a);
	assert_null(nx_check_address(cidr, 6, a, &rule));
	assert_non_null(rule);
	inet_pton(AF_INET6, "64:ff9b:1:0:a9:fea9:fe00:0", a);
	assert_non_null(nx_check_address(cidr, 6, a, &rule));
	policy_free(deny);
	policy_free(allow);
	policy_free(cidr);
}

/* ---- HTTP request heads ---------------------------------------------------------- */

static void test_request_ok(void **state)
{
	struct nx_request r;
	int status;
	const char *why;
	const char *h = "GET http://Example.COM:8080/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n"
			"Connection: keep-alive, X-Drop\r\nX-Drop: 1\r\nProxy-Authorization: x\r\n"
			"Accept: */*\r\n\r\nNEXT";
	(void)state;
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_string_equal(r.host, "example.com");
	assert_int_equal(r.port, 8080);
	assert_int_equal(r.path_len, strlen("/a/b?c=d"));
	assert_int_equal(r.head_len, strlen(h) - 4);
	assert_true(r.keep_alive);
	assert_int_equal(r.body, NX_BODY_NONE);
	/* hop-by-hop: Connection, what it names, Proxy-*, and Host (rewritten) */
	int kept = 0;
	for (size_t i = 0; i < r.n_headers; i++)
		kept += !nx_header_is_hop(&r, &r.headers[i]);
	assert_int_equal(kept, 1); /* Accept */

	/* an underscore in a name the proxy does not read is a name */
	h = "GET http://x.test/ HTTP/1.1\r\nX_Custom_Key: 1\r\nContent_Type: a\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_int_equal(r.n_headers, 2);

	h = "CONNECT [2606:4700::1111]:443 HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_true(r.is_connect);
	assert_int_equal(r.host_kind, NX_HOST_V6);
	assert_int_equal(r.port, 443);

	h = "POST http://x.test HTTP/1.0\r\nContent-Length: 5\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_true(r.path_is_root_default);
	assert_int_equal(r.port, 80);
	assert_false(r.keep_alive);
	assert_int_equal(r.body, NX_BODY_LENGTH);
	assert_int_equal(r.length, 5);

	h = "GET http://x.test/ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_true(r.upgrade);
	h = "GET http://x.test/ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade:  WebSocket \r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_true(r.upgrade);
	/* h2c would carry HTTP/2 requests for any :authority past the Host
	 * checks: not an upgrade, and its header is dropped as hop-by-hop */
	h = "GET http://x.test/ HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
	    "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_false(r.upgrade);
	for (size_t i = 0; i < r.n_headers; i++)
		if (r.headers[i].name_len == 7 && strncasecmp(r.headers[i].name, "upgrade", 7) == 0)
			assert_true(nx_header_is_hop(&r, &r.headers[i]));
	h = "GET http://x.test/ HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket, h2c\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_false(r.upgrade);
	h = "GET http://x.test/ HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Upgrade: h2c\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_false(r.upgrade);

	h = "PUT http://x.test/ HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_OK);
	assert_int_equal(r.body, NX_BODY_CHUNKED);

	h = "GET http://x.test/ HTTP/1.1\r\nHost: x";
	assert_int_equal(nx_parse_request(h, strlen(h), &r, &status, &why), NX_PARSE_MORE);
}

static void test_request_malformed(void **state)
{
	static const struct {
		const char *head;
		int status;
	} cases[] = {
	    {"GET http://x.test/ HTTP/1.1\nHost: x\r\n\r\n", 400}, /* bare LF */
	    {"GET http://x.test/ HTTP/1.1\r\nHost: x\n\r\n", 400},
	    {"GET http://x.test/ HTTP/1.1\r\nA: b\rc\r\n\r\n", 400},	/* bare CR */
	    {"GET http://x.test/ HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400}, /* obs-fold */
	    {"GET http://x.test/ HTTP/1.1\r\nA : b\r\n\r\n", 400},	/* space before colon */
	    {"GET http://x.test/ HTTP/1.1\r\n: b\r\n\r\n", 400},
	    {"GET http://x.test/ HTTP/1.1\r\nnocolon\r\n\r\n", 400},
	    {"GET http://x.test/ HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},
	    {"POST http://x.test/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: "
	     "chunked\r\n\r\n",
	     400},
	    {"POST http://x.test/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 400},
	    {"POST http://x.test/ HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", 400},
	    {"POST http://x.test/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
	    {"POST http://x.test/ HTTP/1.1\r\nContent-Length: +3\r\n\r\n", 400},
	    {"POST http://x.test/ HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
	    {"POST http://x.test/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400},
	    {"POST http://x.test/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
	     "chunked\r\n\r\n",
	     400},
	    {"POST http://x.test/ HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", 400},
	    /* another spelling of a name that frames the message */
	    {"GET http://x.test/ HTTP/1.1\r\nContent_Length: 40\r\n\r\n", 400},
	    {"GET http://x.test/ HTTP/1.1\r\ntransfer_encoding: chunked\r\n\r\n", 400},
	    {"GET http://x.test/ HTTP/1.1\r\nTransfer.Encoding: chunked\r\n\r\n", 400},
	    {"GET http://x.test/ HTTP/1.1\r\nAccept_Encoding: gzip\r\n\r\n", 400},
	    {"GET http://x.test/ HTTP/1.1\r\nSec_WebSocket_Extensions: x\r\n\r\n", 400},
	    {"GET /local HTTP/1.1\r\nHost: x\r\n\r\n", 400}, /* origin-form */
	    {"GET https://x.test/ HTTP/1.1\r\n\r\n", 400},
	    {"GET ftp://x.test/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http://user:pw@x.test/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http:///x HTTP/1.1\r\n\r\n", 400},
	    {"GET http://x.test/#frag HTTP/1.1\r\n\r\n", 400},
	    {"GET http://x.test:0/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http://x.test:65536/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http://x.test:80a/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http://::1/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http://[x.test]/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http://[::1/ HTTP/1.1\r\n\r\n", 400},
	    {"GET  http://x.test/ HTTP/1.1\r\n\r\n", 400}, /* two spaces */
	    {"GET http://x.test/ HTTP/1.1 \r\n\r\n", 505},
	    {"GET http://x.test/ HTTP/2.0\r\n\r\n", 505},
	    {"GET http://x.test/ http/1.1\r\n\r\n", 505},
	    {"G(T http://x.test/ HTTP/1.1\r\n\r\n", 400},
	    {"GET http://x.test/\x7f HTTP/1.1\r\n\r\n", 400},
	    {"CONNECT x.test HTTP/1.1\r\n\r\n", 400}, /* no port */
	    {"CONNECT x.test:443 HTTP/1.1\r\nContent-Length: 1\r\n\r\n", 400},
	    {"TRACE http://x.test/ HTTP/1.1\r\n\r\n", 405},
	    {"\r\n\r\n", 400},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_request r;
		int status = 0;
		const char *why = NULL;
		enum nx_parse pr =
		    nx_parse_request(cases[i].head, strlen(cases[i].head), &r, &status, &why);
		if (pr != NX_PARSE_ERROR || status != cases[i].status)
			fail_msg("case %zu (%s): result %d status %d", i, cases[i].head, pr,
				 status);
		assert_non_null(why);
	}
}

static void test_request_nul(void **state)
{
	static const char h[] = "CONNECT evil.test\0.ok.test:443 HTTP/1.1\r\n\r\n";
	struct nx_request r;
	int status;
	const char *why;
	(void)state;
	assert_int_equal(nx_parse_request(h, sizeof(h) - 1, &r, &status, &why), NX_PARSE_ERROR);
	static const char h2[] = "GET http://ok.test/ HTTP/1.1\r\nA: b\0c\r\n\r\n";
	assert_int_equal(nx_parse_request(h2, sizeof(h2) - 1, &r, &status, &why), NX_PARSE_ERROR);
}

static void test_request_too_large(void **state)
{
	char *big = malloc(NX_HEAD_MAX + 100);
	struct nx_request r;
	int status;
	const char *why;
	(void)state;
	memset(big, 'a', NX_HEAD_MAX + 100);
	memcpy(big, "GET http://x.test/ HTTP/1.1\r\nX: ", 32);
	assert_int_equal(nx_parse_request(big, NX_HEAD_MAX + 100, &r, &status, &why),
			 NX_PARSE_ERROR);
	assert_int_equal(status, 431);
	/* too many header lines */
	size_t off = (size_t)sprintf(big, "GET http://x.test/ HTTP/1.1\r\n");
	for (int i = 0; i < NX_MAX_HEADERS + 1; i++)
		off += (size_t)sprintf(big + off, "A: b\r\n");
	off += (size_t)sprintf(big + off, "\r\n");
	assert_int_equal(nx_parse_request(big, off, &r, &status, &why), NX_PARSE_ERROR);
	free(big);
}

static void test_response(void **state)
{
	struct nx_response r;
	const char *why;
	const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	(void)state;
	assert_int_equal(nx_parse_response(h, strlen(h), false, &r, &why), NX_PARSE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body, NX_BODY_LENGTH);
	assert_false(r.close);
	assert_int_equal(nx_parse_response(h, strlen(h), true, &r, &why), NX_PARSE_OK);
	assert_int_equal(r.body, NX_BODY_NONE); /* HEAD */
	h = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
	assert_int_equal(nx_parse_response(h, strlen(h), false, &r, &why), NX_PARSE_OK);
	assert_int_equal(r.body, NX_BODY_NONE);
	h = "HTTP/1.0 200 OK\r\n\r\n";
	assert_int_equal(nx_parse_response(h, strlen(h), false, &r, &why), NX_PARSE_OK);
	assert_int_equal(r.body, NX_BODY_CLOSE);
	assert_true(r.close);
	h = "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n";
	assert_int_equal(nx_parse_response(h, strlen(h), false, &r, &why), NX_PARSE_OK);
	assert_int_equal(r.body, NX_BODY_CHUNKED);
	h = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
	assert_int_equal(nx_parse_response(h, strlen(h), false, &r, &why), NX_PARSE_OK);
	assert_int_equal(r.status, 101);
	static const char *const bad[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "HTTP/1.1 20 OK\r\n\r\n",
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\nA: b\r\n\r\n",
	    "ICY 200 OK\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nx_parse_response(bad[i], strlen(bad[i]), false, &r, &why) != NX_PARSE_ERROR)
			fail_msg("accepted: %s", bad[i]);
}

/* ---- chunked bodies ------------------------------------------------------------------ */

static void test_chunked(void **state)
{
	static const struct {
		const char *body;
		long consumed; /* -1: malformed; else bytes that belong to the body */
		bool done;
	} cases[] = {
	    {"5\r\nhello\r\n0\r\n\r\nNEXT", 15, true},
	    {"5;ext=1\r\nhello\r\n0\r\n\r\n", 21, true},
	    {"A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", 32, true},
	    {"5\r\nhel", 6, false},
	    {"0\r\n\r\n", 5, true},
	    {"5\r\nhelloX\r\n", -1, false},
	    {"g\r\n", -1, false},
	    {"\r\n", -1, false},
	    {"5\nhello\r\n", -1, false},
	    {"ffffffffffffffff\r\n", -1, false},
	    {"0\r\n folded\r\n\r\n", -1, false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_chunk c = {0};
		bool done = false;
		long n = nx_chunk_feed(&c, cases[i].body, strlen(cases[i].body), &done);
		if (n != cases[i].consumed || (n >= 0 && done != cases[i].done))
			fail_msg("case %zu: consumed %ld done %d", i, n, done);
	}
	/* byte by byte gives the same answer */
	const char *b = "4\r\nwiki\r\n5\r\npedia\r\n0\r\nX: y\r\n\r\n";
	struct nx_chunk c = {0};
	bool done = false;
	size_t i;
	for (i = 0; i < strlen(b) && !done; i++)
		assert_int_equal(nx_chunk_feed(&c, b + i, 1, &done), 1);
	assert_true(done);
	assert_int_equal(i, strlen(b));
}

/* ---- SOCKS5 ---------------------------------------------------------------------------- */

static void test_socks(void **state)
{
	bool noauth;
	struct nx_socks_request r;
	enum nx_socks_reply code;
	const char *why;
	(void)state;

	assert_int_equal(nx_socks_greeting((const uint8_t *)"\x05\x01\x00", 3, &noauth), 3);
	assert_true(noauth);
	assert_int_equal(nx_socks_greeting((const uint8_t *)"\x05\x02\x02\x00", 4, &noauth), 4);
	assert_true(noauth);
	assert_int_equal(nx_socks_greeting((const uint8_t *)"\x05\x01\x02", 3, &noauth), 3);
	assert_false(noauth);
	assert_int_equal(nx_socks_greeting((const uint8_t *)"\x05\x02\x00", 3, &noauth), 0);
	assert_int_equal(nx_socks_greeting((const uint8_t *)"\x05\x00", 2, &noauth), -1);
	assert_int_equal(nx_socks_greeting((const uint8_t *)"\x04\x01\x00", 3, &noauth), -1);

	const uint8_t dom[] = {5, 1, 0, 3, 8, 'x', '.', 'T', 'e', 's', 't', '.', 'a', 0x01, 0xbb};
	assert_int_equal(nx_socks_request(dom, sizeof(dom), &r, &code, &why), (long)sizeof(dom));
	assert_string_equal(r.host, "x.test.a");
	assert_int_equal(r.port, 443);
	assert_int_equal(r.kind, NX_HOST_NAME);
	assert_int_equal(nx_socks_request(dom, sizeof(dom) - 1, &r, &code, &why), 0);

	const uint8_t v4[] = {5, 1, 0, 1, 127, 0, 0, 1, 0, 80};
	assert_int_equal(nx_socks_request(v4, sizeof(v4), &r, &code, &why), 10);
	assert_int_equal(r.kind, NX_HOST_V4);
	assert_string_equal(r.host, "127.0.0.1");

	uint8_t v6[22] = {5, 1, 0, 4};
	v6[19] = 1;
	v6[21] = 22;
	assert_int_equal(nx_socks_request(v6, sizeof(v6), &r, &code, &why), 22);
	assert_string_equal(r.host, "::1");

	static const struct {
		uint8_t msg[16];
		size_t len;
		enum nx_socks_reply code;
	} bad[] = {
	    {{5, 2, 0, 1, 1, 2, 3, 4, 0, 80}, 10, NX_SOCKS_BAD_COMMAND}, /* BIND */
	    {{5, 3, 0, 1, 1, 2, 3, 4, 0, 80}, 10, NX_SOCKS_BAD_COMMAND}, /* UDP */
	    {{5, 9, 0, 1, 1, 2, 3, 4, 0, 80}, 10, NX_SOCKS_BAD_COMMAND},
	    {{5, 1, 0, 2, 1, 2, 3, 4, 0, 80}, 10, NX_SOCKS_BAD_ADDRESS},
	    {{5, 1, 0, 3, 0, 0, 80}, 7, NX_SOCKS_BAD_ADDRESS},		     /* empty name */
	    {{5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80}, 10, NX_SOCKS_BAD_ADDRESS}, /* NUL */
	    {{5, 1, 0, 3, 3, 'a', ':', 'b', 0, 80}, 10, NX_SOCKS_BAD_ADDRESS},
	    {{5, 1, 0, 1, 1, 2, 3, 4, 0, 0}, 10, NX_SOCKS_NOT_ALLOWED}, /* port 0 */
	    {{5, 1, 1, 1, 1, 2, 3, 4, 0, 80}, 10, NX_SOCKS_FAILURE},	/* reserved */
	    {{4, 1, 0, 1, 1, 2, 3, 4, 0, 80}, 10, NX_SOCKS_FAILURE},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long n = nx_socks_request(bad[i].msg, bad[i].len, &r, &code, &why);
		if (n != -1 || code != bad[i].code)
			fail_msg("bad case %zu: %ld code %d", i, n, code);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_normalize),
	    cmocka_unit_test(test_rule_match_table),
	    cmocka_unit_test(test_rule_match_differential),
	    cmocka_unit_test(test_addr_class),
	    cmocka_unit_test(test_cloud_metadata_addresses),
	    cmocka_unit_test(test_nat64_local_use_layouts),
	    cmocka_unit_test(test_cidr_match),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_request_ok),
	    cmocka_unit_test(test_request_malformed),
	    cmocka_unit_test(test_request_nul),
	    cmocka_unit_test(test_request_too_large),
	    cmocka_unit_test(test_response),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_socks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
