/* SPDX-License-Identifier: MIT */
/*
 * What the policy says about a host and an address.  Everything here is pure
 * (no I/O), so the unit tests drive it directly.
 *
 * Matching follows DESIGN.md: case-insensitive, trailing dot ignored,
 * `example.com` is that host only, `*.example.com` any subdomain and not the
 * apex, `:PORT` one port, no port 80 and 443 (for deny: every port, so a
 * deny rule is never narrower than it reads).  IP literals match only
 * allow_cidr.  Deny wins.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/macros.h"
#include "netproxy.h"
#include "netproxy_internal.h"

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* A last label that looks numeric ("1", "0x7f") makes the whole name an
 * IPv4 address to a URL parser (WHATWG "ends in a number"), never a name. */
static bool ends_in_number(const char *s, size_t n)
{
	const char *last = s;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' && i + 1 < n)
			last = s + i + 1;
	size_t ln = n - (size_t)(last - s);
	if (ln > 0 && last[ln - 1] == '.')
		ln--;
	if (all_digits(last, ln))
		return true;
	if (ln >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
		for (size_t i = 2; i < ln; i++)
			if (!isxdigit((unsigned char)last[i]))
				return false;
		return true;
	}
	return false;
}

/* Long: every form of host refused, in order, in one place. */
enum nx_host_kind nx_host_normalize(const char *in, size_t len, char out[NX_HOST_MAX],
				    uint8_t addr[16], const char **why)
{
	char tmp[NX_HOST_MAX];

	*why = NULL;
	memset(addr, 0, 16);
	if (len == 0) {
		*why = "empty host";
		return NX_HOST_INVALID;
	}
	if (len >= NX_HOST_MAX + 1) {
		*why = "host name too long";
		return NX_HOST_INVALID;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x80) {
			*why = "non-ASCII host names are refused (use the xn-- form)";
			return NX_HOST_INVALID;
		}
		if (c == '\0' || c <= 0x20 || c == 0x7f) {
			*why = "control character or space in host";
			return NX_HOST_INVALID;
		}
	}
	/* IPv6 literal (brackets already removed by the caller) */
	if (memchr(in, ':', len)) {
		struct in6_addr a6;
		if (len >= sizeof(tmp) || memchr(in, '%', len)) {
			*why = "not an IPv6 address";
			return NX_HOST_INVALID;
		}
		memcpy(tmp, in, len);
		tmp[len] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1) {
			*why = "not an IPv6 address";
			return NX_HOST_INVALID;
		}
		memcpy(addr, &a6, 16);
		inet_ntop(AF_INET6, &a6, out, NX_HOST_MAX);
		return NX_HOST_V6;
	}
	if (ends_in_number(in, len)) {
		struct in_addr a4;
		if (len >= sizeof(tmp)) {
			*why = "not an IPv4 address";
			return NX_HOST_INVALID;
		}
		memcpy(tmp, in, len);
		tmp[len] = '\0';
		if (len > 1 && tmp[len - 1] == '.')
			tmp[len - 1] = '\0';
		/* inet_aton takes 127.1, 0x7f.0.0.1, 2130706433, 0177.0.0.1 */
		if (inet_aton(tmp, &a4) == 0) {
			*why = "not an IPv4 address";
			return NX_HOST_INVALID;
		}
		memcpy(addr, &a4, 4);
		inet_ntop(AF_INET, &a4, out, NX_HOST_MAX);
		return NX_HOST_V4;
	}
	if (len > 1 && in[len - 1] == '.')
		len--;
	if (len > 253) {
		*why = "host name too long";
		return NX_HOST_INVALID;
	}
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)in[i]);
		if (c == '.') {
			if (label == 0) {
				*why = "empty label in host name";
				return NX_HOST_INVALID;
			}
			label = 0;
		} else if (isalnum((unsigned char)c) || c == '-' || c == '_') {
			if (++label > 63) {
				*why = "host name label longer than 63";
				return NX_HOST_INVALID;
			}
		} else {
			*why = "invalid character in host name";
			return NX_HOST_INVALID;
		}
		out[i] = c;
	}
	if (label == 0) {
		*why = "empty label in host name";
		return NX_HOST_INVALID;
	}
	out[len] = '\0';
	return NX_HOST_NAME;
}

bool nx_rule_match(const char *rule, const char *host, uint16_t port, bool is_deny)
{
	const char *colon = strrchr(rule, ':');
	size_t rlen = colon ? (size_t)(colon - rule) : strlen(rule);
	size_t hlen = strlen(host);

	if (colon) {
		if ((unsigned long)port != strtoul(colon + 1, NULL, 10))
			return false;
	} else if (!is_deny && port != 80 && port != 443) {
		return false;
	}
	if (rlen > 2 && rule[0] == '*' && rule[1] == '.') {
		/* "*.example.com": a proper subdomain, never the apex */
		size_t slen = rlen - 1; /* ".example.com" */
		return hlen > slen && strncasecmp(host + hlen - slen, rule + 1, slen) == 0;
	}
	return hlen == rlen && strncasecmp(host, rule, rlen) == 0;
}

static int parse_any(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 6;
	return 0;
}

bool nx_cidr_match(const char *cidr, int family, const uint8_t addr[16])
{
	char tmp[64];
	uint8_t net[16];
	const char *slash = strchr(cidr, '/');
	size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	int fam;
	unsigned bits;

	if (alen >= sizeof(tmp))
		return false;
	memcpy(tmp, cidr, alen);
	tmp[alen] = '\0';
	fam = parse_any(tmp, net);
	if (fam != family)
		return false;
	bits = slash ? (unsigned)strtoul(slash + 1, NULL, 10) : (fam == 4 ? 32u : 128u);
	if (bits > (fam == 4 ? 32u : 128u))
		return false;
	for (unsigned i = 0; i < bits / 8; i++)
		if (net[i] != addr[i])
			return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
		if ((net[bits / 8] & mask) != (addr[bits / 8] & mask))
			return false;
	}
	return true;
}

struct range {
	char cidr[32], what[64]; /* arrays: supervisor.h's sc_entry says why */
};

/*
 * Cloud metadata and internal-service endpoints, as their providers
 * document them.  They come before the registries below so that the log
 * names them; several are not inside any private range at all (Azure's
 * WireServer is a public address), and with private = allow they are still
 * refused (only allow_cidr reaches them).  Each has a unit test naming it.
 */
STRING_TABLE_BEGIN
static const struct range v4_metadata[] = {
    /* AWS, Azure, GCP (metadata.google.internal), Oracle, DigitalOcean,
     * Hetzner, OpenStack, IBM Cloud, Huawei, Linode/Akamai, Vultr, Exoscale */
    {"169.254.169.254/32", "cloud metadata address (instance metadata service)"},
    {"169.254.169.253/32", "cloud internal service address (AWS DNS resolver)"},
    {"169.254.169.123/32", "cloud internal service address (AWS time sync)"},
    {"169.254.170.2/32", "cloud metadata address (AWS ECS task credentials)"},
    {"169.254.170.23/32", "cloud metadata address (AWS EKS pod identity)"},
    {"168.63.129.16/32", "cloud internal service address (Azure WireServer)"},
    {"100.100.100.200/32", "cloud metadata address (Alibaba Cloud)"},
    {"192.0.0.192/32", "cloud metadata address (Oracle Cloud)"},
    {"169.254.42.42/32", "cloud metadata address (Scaleway)"},
    {"169.254.0.23/32", "cloud metadata address (Tencent Cloud)"},
};

static const struct range v6_metadata[] = {
    {"fd00:ec2::254/128", "cloud metadata address (AWS instance metadata service)"},
    {"fd00:ec2::253/128", "cloud internal service address (AWS DNS resolver)"},
    {"fd00:ec2::123/128", "cloud internal service address (AWS time sync)"},
    {"fd00:ec2::23/128", "cloud metadata address (AWS EKS pod identity)"},
    {"fd20:ce::254/128", "cloud metadata address (GCP metadata server)"},
    {"fd00:a9fe:a9fe::1/128", "cloud metadata address (Linode/Akamai)"},
    {"fd00:42::42/128", "cloud metadata address (Scaleway)"},
    {"fe80::a9fe:a9fe/128", "cloud metadata address (OpenStack)"},
};

/* Every range a name must not resolve into when private = deny: RFC 6890
 * special-purpose registries. */
static const struct range v4_ranges[] = {
    {"0.0.0.0/8", "this-network address"},
    {"10.0.0.0/8", "private address (RFC 1918)"},
    {"100.64.0.0/10", "shared address space (carrier-grade NAT)"},
    {"127.0.0.0/8", "loopback address"},
    {"169.254.0.0/16", "link-local address"},
    {"172.16.0.0/12", "private address (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignment"},
    {"192.0.2.0/24", "documentation address"},
    {"192.88.99.0/24", "6to4 relay anycast"},
    {"192.168.0.0/16", "private address (RFC 1918)"},
    {"198.18.0.0/15", "benchmarking address"},
    {"198.51.100.0/24", "documentation address"},
    {"203.0.113.0/24", "documentation address"},
    {"224.0.0.0/4", "multicast address"},
    {"240.0.0.0/4", "reserved address"},
};

static const struct range v6_ranges[] = {
    {"::/128", "unspecified address"},
    {"::1/128", "loopback address"},
    {"::ffff:0:0/96", "IPv4-mapped address"},
    {"::/96", "IPv4-compatible address"},
    {"64:ff9b::/96", "NAT64 address"},
    {"64:ff9b:1::/48", "NAT64 address (local use)"},
    {"100::/64", "discard-only address"},
    {"2001::/23", "IETF protocol assignment (Teredo, ...)"},
    {"2001:db8::/32", "documentation address"},
    {"2002::/16", "6to4 address"},
    {"3fff::/20", "documentation address"},
    {"fc00::/7", "unique local address (private)"},
    {"fe80::/10", "link-local address"},
    {"fec0::/10", "site-local address"},
    {"ff00::/8", "multicast address"},
};
STRING_TABLE_END

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *range_find(const struct range *r, size_t n, int family, const uint8_t addr[16])
{
	for (size_t i = 0; i < n; i++)
		if (nx_cidr_match(r[i].cidr, family, addr))
			return r[i].what;
	return NULL;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* ::ffff:a.b.c.d */
static bool v4_mapped(const uint8_t a[16])
{
	return all_zero(a, 10) && a[10] == 0xff && a[11] == 0xff;
}

/*
 * Where RFC 6052 (section 2.2) puts the IPv4 address after a prefix of
 * length L, bits 64-71 (the "u" octet) skipped: the local-use prefix
 * 64:ff9b:1::/48 (RFC 8215) may be a /48, /56, /64 or /96 inside it, and
 * the gateway's choice is not in the address.  A /32 or /40 prefix is
 * shorter than the /48, so it cannot lie inside it.  When the /48 layout
 * alone was read, 64:ff9b:1::a9fe:a9fe (/96) and 64:ff9b:1:0:a9:fea9:fe00:0
 * (/64) reached 169.254.169.254 with private = allow.
 */
#define EMBEDDED_V4_MAX 4
static const uint8_t nat64_local_layouts[EMBEDDED_V4_MAX][4] = {
    {6, 7, 9, 10},    /* /48 */
    {7, 9, 10, 11},   /* /56 */
    {9, 10, 11, 12},  /* /64 */
    {12, 13, 14, 15}, /* /96 */
};

/*
 * The IPv4 addresses an IPv6 address carries to a v4 host: mapped and
 * compatible (::ffff:a.b.c.d, ::a.b.c.d), SIIT (::ffff:0:a.b.c.d), NAT64
 * (64:ff9b::/96, and 64:ff9b:1::/48 in each layout above), 6to4
 * (2002:AABB:CCDD::/48) and Teredo (2001::/32: the server, and the client
 * inverted).  A metadata endpoint reached through any of them is still
 * the metadata endpoint (a NAT64 gateway or the kernel's mapped sockets
 * deliver it there).  Returns how many were written to RET.
 *
 * The results only ever add refusals (nx_addr_metadata() refuses an
 * address when any of them is a metadata endpoint; nothing reads them to
 * allow one), so where the address does not say which form it is, every
 * candidate is returned, and the u octet is not required to be zero.
 */
static size_t embedded_v4(const uint8_t a[16], uint8_t ret[EMBEDDED_V4_MAX][16])
{
	static const uint8_t nat64[4] = {0x00, 0x64, 0xff, 0x9b};
	size_t n = 0;

	memset(ret, 0, EMBEDDED_V4_MAX * 16);
	if (v4_mapped(a) ||							    /* mapped */
	    (all_zero(a, 12) && !all_zero(a + 12, 3)) ||			    /* compatible */
	    (all_zero(a, 8) && a[8] == 0xff && a[9] == 0xff && !a[10] && !a[11]) || /* SIIT */
	    (memcmp(a, nat64, 4) == 0 && all_zero(a + 4, 8))) {			    /* NAT64 /96 */
		memcpy(ret[n++], a + 12, 4);
	} else if (memcmp(a, nat64, 4) == 0 && a[4] == 0x00 && a[5] == 0x01) { /* NAT64 local */
		for (; n < EMBEDDED_V4_MAX; n++)
			for (int i = 0; i < 4; i++)
				ret[n][i] = a[nat64_local_layouts[n][i]];
	} else if (a[0] == 0x20 && a[1] == 0x02) { /* 6to4 */
		memcpy(ret[n++], a + 2, 4);
	} else if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00) { /* Teredo */
		memcpy(ret[n++], a + 4, 4);
		for (int i = 0; i < 4; i++)
			ret[n][i] = (uint8_t)~a[12 + i];
		n++;
	}
	return n;
}

const char *nx_addr_metadata(int family, const uint8_t addr[16])
{
	uint8_t v4[EMBEDDED_V4_MAX][16];
	const char *m;

	if (family == 4)
		return range_find(v4_metadata, N_OF(v4_metadata), 4, addr);
	m = range_find(v6_metadata, N_OF(v6_metadata), 6, addr);
	for (size_t i = 0, n = embedded_v4(addr, v4); !m && i < n; i++)
		m = range_find(v4_metadata, N_OF(v4_metadata), 4, v4[i]);
	return m;
}

const char *nx_addr_class(int family, const uint8_t addr[16])
{
	const char *m = nx_addr_metadata(family, addr);

	if (m)
		return m;
	if (family == 4 && addr[0] == 255 && addr[1] == 255 && addr[2] == 255 && addr[3] == 255)
		return "broadcast address";
	return family == 4 ? range_find(v4_ranges, N_OF(v4_ranges), 4, addr)
			   : range_find(v6_ranges, N_OF(v6_ranges), 6, addr);
}

void nx_addr_format(int family, const uint8_t addr[16], char *buf, size_t size)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

/* Whether the IPv6 rule CIDR lies within ::ffff:0:0/96: written for
 * IPv4-mapped addresses. */
static bool names_mapped(const char *cidr)
{
	char tmp[64];
	uint8_t net[16];
	const char *slash = strchr(cidr, '/');
	size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);

	if (alen >= sizeof(tmp))
		return false;
	memcpy(tmp, cidr, alen);
	tmp[alen] = '\0';
	return parse_any(tmp, net) == 6 && v4_mapped(net) &&
	       (!slash || strtoul(slash + 1, NULL, 10) >= 96);
}

/* The allow_cidr rule ADDR is in, or NULL.  An IPv4-mapped address
 * (::ffff:a.b.c.d) is the IPv4 host the kernel delivers it to: judged by
 * the IPv4 rules, and by an IPv6 rule only where that rule is written
 * within ::ffff:0:0/96.  Else `allow_cidr = ::/0`, meant as every IPv6
 * address, granted every IPv4 one, the host's loopback too, which
 * 127.0.0.1 written as such is refused (outside review). */
static const struct policy_item *find_cidr(const struct policy *p, int family,
					   const uint8_t addr[16])
{
	bool mapped = family == 6 && v4_mapped(addr);
	/* a cloud metadata endpoint carried in another IPv6 form (NAT64,
	 * 6to4, ...: a gateway delivers it there) is reached only by a rule
	 * as long as that form's /96, never by `::/0` (a review) */
	bool carried = family == 6 && !mapped &&
		       !range_find(v6_metadata, N_OF(v6_metadata), 6, addr) &&
		       nx_addr_metadata(6, addr);
	uint8_t v4[16] = {0};

	/* no rule makes an upstream of the unspecified address (`::`,
	 * 0.0.0.0/8), which the kernel connects to this host itself: ::/0
	 * reached a service on the proxy's own loopback so (a review) */
	if ((family == 6 && all_zero(addr, 16)) || (family == 4 && addr[0] == 0) ||
	    (mapped && addr[12] == 0))
		return NULL;
	if (mapped)
		memcpy(v4, addr + 12, 4);
	for (size_t i = 0; i < p->net.allow_cidr.n; i++) {
		const char *rule = p->net.allow_cidr.items[i].value;
		const char *slash = strchr(rule, '/');
		if (carried && slash && strtoul(slash + 1, NULL, 10) < 96)
			continue;
		if (mapped ? nx_cidr_match(rule, 4, v4) ||
				 (names_mapped(rule) && nx_cidr_match(rule, 6, addr))
			   : nx_cidr_match(rule, family, addr))
			return &p->net.allow_cidr.items[i];
	}
	return NULL;
}

void nx_decide_host(const struct policy *p, enum nx_host_kind kind, const char *host,
		    const uint8_t addr[16], uint16_t port, struct nx_verdict *v)
{
	*v = (struct nx_verdict){0};
	if (port == 0) {
		v->reason = "port 0";
		v->key = "network.allow";
		return;
	}
	if (kind == NX_HOST_V4 || kind == NX_HOST_V6) {
		v->rule = find_cidr(p, kind == NX_HOST_V4 ? 4 : 6, addr);
		v->key = "network.allow_cidr";
		if (!v->rule) {
			v->reason = "IP addresses are allowed only by [network] allow_cidr";
			return;
		}
		v->allow = true;
		v->reason = "address in allow_cidr";
		v->have_static = true;
		v->family = kind == NX_HOST_V4 ? 4 : 6;
		memcpy(v->addr, addr, 16);
		return;
	}
	if (kind != NX_HOST_NAME) {
		v->reason = "invalid host";
		v->key = "network.allow";
		return;
	}
	for (size_t i = 0; i < p->net.deny.n; i++)
		if (nx_rule_match(p->net.deny.items[i].value, host, port, true)) {
			v->rule = &p->net.deny.items[i];
			v->key = "network.deny";
			v->reason = "denied by [network] deny";
			return;
		}
	for (size_t i = 0; i < p->net.allow.n; i++)
		if (nx_rule_match(p->net.allow.items[i].value, host, port, false)) {
			v->rule = &p->net.allow.items[i];
			v->key = "network.allow";
			v->reason = "allowed by [network] allow";
			v->allow = true;
			break;
		}
	if (!v->allow && p->net.allow_any) {
		/* learning: the name is allowed and its net.allow event is
		 * what the learned policy's allow line comes from */
		v->key = "network.allow";
		v->reason = NETPROXY_REASON_LEARNING;
		v->allow = true;
	}
	if (!v->allow) {
		v->key = "network.allow";
		v->reason = "not in [network] allow";
		return;
	}
	nx_static_address(p, host, v);
}

void nx_static_address(const struct policy *p, const char *host, struct nx_verdict *v)
{
	for (size_t i = 0; i < p->net.hosts.n; i++) {
		const char *kv = p->net.hosts.items[i].value;
		const char *eq = strchr(kv, '=');
		if (!eq || (size_t)(eq - kv) != strlen(host) ||
		    strncmp(kv, host, strlen(host)) != 0)
			continue;
		v->family = parse_any(eq + 1, v->addr);
		v->have_static = v->family != 0;
		break;
	}
}

const char *nx_check_address(const struct policy *p, int family, const uint8_t addr[16],
			     const struct policy_item **rule)
{
	const char *cls;

	*rule = NULL;
	cls = nx_addr_class(family, addr);
	if (!cls)
		return NULL;
	*rule = find_cidr(p, family, addr);
	if (*rule)
		return NULL;
	if (!p->net.private_deny) {
		/* private = allow still refuses what is never an upstream,
		 * and the cloud's own services (credentials live there) */
		if (nx_addr_metadata(family, addr))
			return cls;
		if (family == 4 && (addr[0] == 0 || addr[0] >= 224))
			return cls;
		if (family == 6 && (addr[0] == 0xff || nx_cidr_match("::/128", 6, addr)))
			return cls;
		return NULL;
	}
	return cls;
}

const struct policy_item *nx_list_match(const struct policy_list *list, const char *host,
					uint16_t port)
{
	for (size_t i = 0; i < list->n; i++)
		if (nx_rule_match(list->items[i].value, host, port, false))
			return &list->items[i];
	return NULL;
}

bool nx_web_grant(const struct nx_verdict *v)
{
	return v->allow && v->rule && v->key && strcmp(v->key, "network.allow") == 0 &&
	       !strchr(v->rule->value, ':');
}

bool netproxy_allows_loopback(const struct policy *p)
{
	static const uint8_t v4[16] = {127, 0, 0, 1};
	static const uint8_t v6[16] = {[15] = 1};

	return find_cidr(p, 4, v4) || find_cidr(p, 6, v6);
}
