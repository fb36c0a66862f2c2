/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's DNS, pure: which names it answers, the addresses it gives
 * them, and the answer to one query (tests/unit/test_names.c, and the DNS
 * fuzzer).  The sockets are nameserver.c's.
 *
 * Written here rather than with c-ares: the c-ares Debian ships parses
 * answers, not queries, and builds none; what is needed is small (one
 * question, no compression in it, one A record out) and every byte of it
 * is checked below.
 *
 * An allowed name gets one A record from 198.18.0.0/15 (nx_names); AAAA,
 * HTTPS, SRV, MX and every other type get an empty answer (NOERROR, no
 * record: the client falls back to A, and the captured connect is judged
 * by the proxy on the name).  A name the policy does not allow gets
 * NXDOMAIN: it is never looked up anywhere.  localhost answers loopback,
 * the sandbox's own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netproxy_internal.h"

/* 198.18.0.0/15: index I is 198.18.0.0 + I + 1 (the first is skipped) */
#define SYN_BASE ((198u << 24) | (18u << 16))
#define SYN_SIZE (1u << 17)

void nx_names_addr(uint32_t i, uint8_t ret[4])
{
	uint32_t a = SYN_BASE + i + 1;

	ret[0] = (uint8_t)(a >> 24);
	ret[1] = (uint8_t)(a >> 16);
	ret[2] = (uint8_t)(a >> 8);
	ret[3] = (uint8_t)a;
}

static uint32_t v4_of(int family, const uint8_t addr[16], bool *ok)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	*ok = true;
	if (family == 6 && memcmp(addr, mapped, sizeof(mapped)) == 0)
		addr += 12; /* ::ffff:198.18.x.y, as a v6 socket names it */
	else if (family != 4) {
		*ok = false;
		return 0;
	}
	return (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
}

bool nx_names_is_synthetic(int family, const uint8_t addr[16])
{
	bool ok;
	uint32_t a = v4_of(family, addr, &ok);

	return ok && (a & ~(SYN_SIZE - 1)) == SYN_BASE;
}

const char *nx_names_lookup(const struct nx_names *t, int family, const uint8_t addr[16])
{
	bool ok;
	uint32_t a = v4_of(family, addr, &ok);

	if (!ok || (a & ~(SYN_SIZE - 1)) != SYN_BASE || a == SYN_BASE)
		return NULL;
	a -= SYN_BASE + 1;
	return a < t->n ? t->name[a] : NULL;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int grow_slots(struct nx_names *t)
{
	uint32_t n = t->n_slots ? t->n_slots * 2 : 64;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t h = hash(t->name[i]) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = i + 1;
	}
	free(t->slot);
	t->slot = s;
	t->n_slots = n;
	return 0;
}

int nx_names_add(struct nx_names *t, const char *host, uint32_t *ret)
{
	uint32_t h;
	char *copy;

	if (t->n_slots) {
		for (h = hash(host) & (t->n_slots - 1); t->slot[h]; h = (h + 1) & (t->n_slots - 1))
			if (strcmp(t->name[t->slot[h] - 1], host) == 0) {
				*ret = t->slot[h] - 1;
				return 0;
			}
	}
	if (t->n >= NX_NAMES_MAX)
		return -ENOSPC;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 32;
		char **nn = realloc(t->name, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		t->name = nn;
		t->cap = cap;
	}
	/* at most half full */
	if ((t->n + 1) * 2 > t->n_slots && grow_slots(t) < 0)
		return -ENOMEM;
	copy = strdup(host);
	if (!copy)
		return -ENOMEM;
	t->name[t->n] = copy;
	for (h = hash(host) & (t->n_slots - 1); t->slot[h]; h = (h + 1) & (t->n_slots - 1))
		;
	t->slot[h] = t->n + 1;
	*ret = t->n++;
	return 0;
}

void nx_names_free(struct nx_names *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		free(t->name[i]);
	free(t->name);
	free(t->slot);
	*t = (struct nx_names){0};
}

/* ---- one query ----------------------------------------------------------------------------------
 */

enum {
	RC_OK = 0,
	RC_FORMERR = 1,
	RC_SERVFAIL = 2,
	RC_NXDOMAIN = 3,
	RC_NOTIMP = 4,
	RC_REFUSED = 5,
};

enum {
	T_A = 1,
	T_AAAA = 28,
	T_ANY = 255,
	C_IN = 1,
	C_ANY = 255,
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The header of an answer to Q: its id and RD, QR, RA, RCODE. */
static void header(uint8_t *out, const uint8_t *q, int rcode, uint16_t qd, uint16_t an)
{
	memset(out, 0, 12);
	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(0x80 | 0x04 | (q[2] & 0x01)); /* QR, AA, RD as asked */
	out[3] = (uint8_t)(0x80 | rcode);		 /* RA */
	put16(out + 4, qd);
	put16(out + 6, an);
}

/* The question's name as text (lowercase, dotted, no final dot): the
 * offset past it, or 0 when it is malformed.  A label holding a byte that
 * no host name holds makes TEXT empty (answered NXDOMAIN). */
static size_t read_name(const uint8_t *q, size_t n, char text[NX_HOST_MAX])
{
	size_t off = 12, len = 0;
	bool bad = false;

	for (;;) {
		if (off >= n)
			return 0;
		uint8_t l = q[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > n)
			return 0; /* a compression pointer, or past the end */
		if (len + l + 1 >= NX_HOST_MAX)
			return 0; /* over 253 characters */
		if (len)
			text[len++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			uint8_t ch = q[off + i];
			if (ch >= 'A' && ch <= 'Z')
				ch = (uint8_t)(ch - 'A' + 'a');
			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			      ch == '_'))
				bad = true;
			text[len++] = (char)ch;
		}
		off += l;
	}
	text[bad ? 0 : len] = '\0';
	return off;
}

static bool is_localhost(const char *name)
{
	size_t n = strlen(name);

	return strcmp(name, "localhost") == 0 ||
	       (n > 10 && strcmp(name + n - 10, ".localhost") == 0);
}

size_t nx_dns_answer(const struct nx_decider *d, struct nx_names *t, const uint8_t *q, size_t n,
		     uint8_t *out, size_t size, struct nx_dns_result *res)
{
	char norm[NX_HOST_MAX];
	uint8_t a[16], rdata[16];
	uint16_t rdlen = 0, qtype, qclass;
	size_t end, qlen;
	const char *why;
	uint32_t idx;

	*res = (struct nx_dns_result){0};
	if (n < 12 || size < 512 || (q[2] & 0x80))
		return 0; /* too short to answer, or itself an answer */
	if (((q[2] >> 3) & 0x0f) != 0) {
		res->why = "not a standard query";
		res->rcode = RC_NOTIMP;
		header(out, q, RC_NOTIMP, 0, 0);
		return 12;
	}
	end = get16(q + 4) == 1 ? read_name(q, n, res->name) : 0;
	if (!end || end + 4 > n) {
		res->why = "not one well-formed question";
		res->name[0] = '\0';
		res->rcode = RC_FORMERR;
		header(out, q, RC_FORMERR, 0, 0);
		return 12;
	}
	qtype = get16(q + end);
	qclass = get16(q + end + 2);
	res->qtype = qtype;
	qlen = end + 4 - 12;
	if (12 + qlen + 28 > size) {
		res->rcode = RC_SERVFAIL;
		header(out, q, RC_SERVFAIL, 0, 0);
		return 12;
	}

	if (qclass != C_IN && qclass != C_ANY) {
		res->rcode = RC_REFUSED;
	} else if (res->name[0] && is_localhost(res->name)) {
		/* the sandbox's own loopback */
		if (qtype == T_A || qtype == T_ANY) {
			static const uint8_t lo4[4] = {127, 0, 0, 1};
			memcpy(rdata, lo4, 4);
			rdlen = 4;
		} else if (qtype == T_AAAA) {
			memset(rdata, 0, 16);
			rdata[15] = 1;
			rdlen = 16;
		}
	} else if (!res->name[0] ||
		   nx_host_normalize(res->name, strlen(res->name), norm, a, &why) != NX_HOST_NAME ||
		   !nx_decide_name(d, norm)) {
		res->refused = true;
		res->rcode = RC_NXDOMAIN;
	} else if (qtype == T_A || qtype == T_ANY) {
		int r = nx_names_add(t, norm, &idx);
		if (r < 0) {
			res->why = r == -ENOSPC ? "no synthetic address left" : "out of memory";
			res->rcode = RC_SERVFAIL;
		} else {
			nx_names_addr(idx, rdata);
			rdlen = 4;
		}
	}
	/* else: an allowed name, a type other than A: no record */

	header(out, q, res->rcode, 1, rdlen ? 1 : 0);
	memcpy(out + 12, q + 12, qlen);
	size_t off = 12 + qlen;
	if (rdlen) {
		put16(out + off, 0xc00c); /* the question's name */
		put16(out + off + 2, rdlen == 4 ? T_A : T_AAAA);
		put16(out + off + 4, C_IN);
		out[off + 6] = out[off + 7] = 0;
		put16(out + off + 8, NX_DNS_TTL);
		put16(out + off + 10, rdlen);
		memcpy(out + off + 12, rdata, rdlen);
		off += 12 + rdlen;
	}
	return off;
}
