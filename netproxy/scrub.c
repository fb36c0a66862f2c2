/* SPDX-License-Identifier: MIT */
/*
 * Reflection: no secret goes back to the command in a response.
 *
 * An upstream may echo what it was sent (debug endpoints, error pages that
 * quote a header, a redirect that carries the query).  Every response the
 * proxy reads (forwarded, or inside an intercepted stream) is scanned for
 * each secret in the forms it can come back in:
 *
 *   - as it is, percent-encoded in any mix (%41 or A, either hex case),
 *     up to three levels deep for a secret without '%' (%252F: a URL
 *     that carried it, quoted in another's query), and with the escapes
 *     JSON allows for ASCII (\/, \\, \", \u0041); for a secret without
 *     '%' or '\', that writing written again the same ways (JSON quoted in
 *     JSON or in a URL, a URL in JSON or percent-encoded again);
 *   - inside base64 (Basic's user:password, a token wrapped by a client),
 *     in the standard and the URL-safe alphabet, at any of the three
 *     alignments: the characters of the encoding that depend on the secret
 *     alone are the same whatever surrounds it.
 *
 * The scan follows the response's framing, so a secret split by a chunk
 * header or between WebSocket frames is still seen: it runs over the
 * payload, and chunk extensions and trailers count as payload.  It streams,
 * holding back the same number of bytes whatever they are (scan.c says why):
 * the widest any needle can be, let go at each framing end.
 *
 * This file builds the needles (each secret in each form); scan.c matches
 * them in a stream and in a head.
 *
 * Each needle is matched with Knuth-Morris-Pratt over the decoded symbols;
 * each symbol remembers where its raw bytes began, which says how much to
 * hold and, in a head, which bytes to replace.  Hand-written: the one
 * library that matches many patterns in a stream (Hyperscan) does not
 * decode percent escapes or follow framing, and is far larger than this.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scrub.h"

static void set_pair(struct nx_scrub *s, unsigned char a, unsigned char b)
{
	unsigned k = (unsigned)a << 8 | b;

	s->pair[k >> 3] |= (uint8_t)(1u << (k & 7));
}

/* What a needle can begin with, as a byte and as a pair: its first byte
 * (in either base64 alphabet) followed by its second, or by the start of
 * an escape of it; an escape that may decode to anything. */
static void add_starts(struct nx_scrub *s, const struct needle *n)
{
	unsigned char f[2] = {(unsigned char)n->bytes[0], 0}, g[2] = {0, 0};
	size_t nf = 1, ng = 0;

	if (n->b64 && f[0] == '+')
		f[nf++] = '-';
	if (n->b64 && f[0] == '/')
		f[nf++] = '_';
	if (n->len > 1) {
		g[ng++] = (unsigned char)n->bytes[1];
		if (n->b64 && g[0] == '+')
			g[ng++] = '-';
		if (n->b64 && g[0] == '/')
			g[ng++] = '_';
	}
	for (size_t i = 0; i < nf; i++) {
		s->start[f[i]] = true;
		if (n->len == 1)
			for (unsigned b = 0; b < 256; b++)
				set_pair(s, f[i], (unsigned char)b);
		for (size_t j = 0; j < ng; j++)
			set_pair(s, f[i], g[j]);
		if (!n->raw) {
			set_pair(s, f[i], '%');
			set_pair(s, f[i], '\\');
		}
		/* a base64 line may end after its first character (scan.c,
		 * gap()) */
		for (const char *b = "\n\r"; n->b64 && *b; b++)
			set_pair(s, f[i], (unsigned char)*b);
	}
	if (!n->raw) {
		const char *hex = "0123456789abcdefABCDEF";
		s->start['%'] = true;
		s->start['\\'] = true;
		for (const char *h = hex; *h; h++)
			set_pair(s, '%', (unsigned char)*h);
		for (const char *e = "u/\\\""; *e; e++)
			set_pair(s, '\\', (unsigned char)*e);
		/* a '%' or '\\' of the first writing as it is, before a
		 * character written again (%%36, %\u0036, \%75) */
		set_pair(s, '%', '%');
		set_pair(s, '%', '\\');
		set_pair(s, '\\', '%');
	}
}

static int add_needle(struct nx_scrub *s, const char *p, size_t len, unsigned cred, bool b64,
		      bool raw)
{
	struct needle *n, *nn;
	size_t w;

	if (len == 0)
		return 0;
	nn = realloc(s->needles, (s->n + 1) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	s->needles = nn;
	n = &nn[s->n];
	*n = (struct needle){.len = (uint32_t)len,
			     .b64 = b64,
			     .raw = raw,
			     .rd = raw			  ? RD_RAW
				   : memchr(p, '%', len)  ? RD_ONE
				   : memchr(p, '\\', len) ? RD_NEST
							  : RD_DEEP,
			     .cred = cred};
	n->bytes = malloc(len);
	n->fail = calloc(len + 1, sizeof(uint32_t));
	if (!n->bytes || !n->fail) {
		free(n->bytes);
		free(n->fail);
		return -ENOMEM;
	}
	memcpy(n->bytes, p, len);
	if (b64)
		for (size_t i = 0; i < len; i++)
			n->bytes[i] = n->bytes[i] == '-'   ? '+'
				      : n->bytes[i] == '_' ? '/'
							   : n->bytes[i];
	/* fail[i]: the border of the first i symbols */
	for (uint32_t i = 1, k = 0; i < len; i++) {
		while (k > 0 && n->bytes[i] != n->bytes[k])
			k = n->fail[k];
		if (n->bytes[i] == n->bytes[k])
			k++;
		n->fail[i + 1] = k;
	}
	add_starts(s, n);
	s->syms += n->len;
	/* what every stream keeps back (scan.c): a partial match, at most
	 * LEN - 1 symbols and an escape under way, each up to nine raw bytes
	 * written twice (every character percent-encoded twice, %25%34%31;
	 * JSON's \u0026 in a URL, %5Cu0026, is eight), seven once (%25252F;
	 * \u0041 is six), and the CRLF that ends a chunk extension inside it.
	 * A wider writing (\u escapes of escapes, %2525XX percent-encoded
	 * again: up to 21 bytes) is still read, and cut when whole, but not
	 * held whole */
	w = n->rd == RD_RAW    ? 1
	    : n->rd == RD_DEEP ? 9
	    : n->rd == RD_NEST ? 1 + 2 * NX_PCT_DEPTH
			       : 6;
	if ((size_t)n->len * w + 1 > s->hold_max)
		s->hold_max = (size_t)n->len * w + 1;
	/* a wider needle is held only as far as this: a secret over ~170
	 * bytes may have its start go before the stream is cut */
	if (s->hold_max > NX_SCAN_HOLD_MAX)
		s->hold_max = NX_SCAN_HOLD_MAX;
	s->n++;
	return 0;
}

/* The needles grouped by how they are read (scrub.h): 0, or -ENOMEM. */
static int group(struct nx_scrub *s)
{
	uint32_t k = 0;

	s->order = malloc((s->n ? s->n : 1) * sizeof(*s->order));
	if (!s->order)
		return -ENOMEM;
	for (unsigned rd = 0; rd < NX_READERS; rd++) {
		s->from[rd] = k;
		for (size_t i = 0; i < s->n; i++)
			if (s->needles[i].rd == rd)
				s->order[k++] = (uint32_t)i;
	}
	s->from[NX_READERS] = k;
	return 0;
}

void nx_scrub_free(struct nx_scrub *s)
{
	if (!s || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n; i++) {
		explicit_bzero(s->needles[i].bytes, s->needles[i].len);
		free(s->needles[i].bytes);
		free(s->needles[i].fail);
	}
	free(s->needles);
	free(s->order);
	free(s);
}

/*
 * inject = basic:USER or basic-user: the proxy itself writes
 * Basic base64(USER:secret) (or base64(secret:)), so that exact text is a
 * needle, whatever the secret's length: the cores below leave out a
 * secret too short to have one of 12 characters, and an echo of the
 * request's head would hand it back whole.  Without its padding, which an
 * echo may drop.
 */
static int add_basic(struct nx_scrub *s, const struct nx_cred *cr, const char *secret, size_t len,
		     unsigned k)
{
	size_t ul, raw_len, en;
	char *raw, *enc;
	int r;

	if (cr->inject != POLICY_INJECT_BASIC_PASSWORD && cr->inject != POLICY_INJECT_BASIC_USER)
		return 0;
	ul = cr->inject == POLICY_INJECT_BASIC_PASSWORD && cr->inject_arg ? strlen(cr->inject_arg)
									  : 0;
	raw_len = ul + 1 + len;
	raw = malloc(raw_len);
	enc = malloc((raw_len + 2) / 3 * 4 + 1);
	if (!raw || !enc) {
		free(raw);
		free(enc);
		return -ENOMEM;
	}
	if (cr->inject == POLICY_INJECT_BASIC_PASSWORD) {
		memcpy(raw, cr->inject_arg, ul);
		raw[ul] = ':';
		memcpy(raw + ul + 1, secret, len);
	} else {
		memcpy(raw, secret, len);
		raw[len] = ':';
	}
	en = nx_base64_encode(raw, raw_len, enc);
	while (en > 0 && enc[en - 1] == '=')
		en--;
	r = add_needle(s, enc, en, k, true, false);
	explicit_bzero(raw, raw_len);
	explicit_bzero(enc, (raw_len + 2) / 3 * 4 + 1);
	free(raw);
	free(enc);
	return r;
}

/* Every needle of one secret of credential CR, the K-th. */
static int add_secret(struct nx_scrub *s, const struct nx_cred *cr, const char *secret, size_t len,
		      unsigned k, char *core)
{
	int r = add_needle(s, secret, len, k, false, false);

	/* a secret holding an escape character itself, as it is */
	if (r == 0 && (memchr(secret, '%', len) || memchr(secret, '\\', len)))
		r = add_needle(s, secret, len, k, false, true);
	/* base64: a core shorter than 12 characters would match text that
	 * never held the secret */
	for (unsigned a = 0; a < 3 && r == 0; a++) {
		size_t m = nx_base64_core(secret, len, a, false, core);
		if (m >= 12)
			r = add_needle(s, core, m, k, true, false);
	}
	if (r == 0)
		r = add_basic(s, cr, secret, len, k);
	return r;
}

int nx_scrub_new(const struct nx_cred *creds, size_t n, struct nx_scrub **ret)
{
	return nx_scrub_new_olds(creds, n, NULL, 0, ret);
}

int nx_scrub_new_olds(const struct nx_cred *creds, size_t n, const struct nx_old *olds,
		      size_t n_olds, struct nx_scrub **ret)
{
	struct nx_scrub *s = calloc(1, sizeof(*s));
	char *core = malloc(NX_B64_CORE_MAX);
	int r = 0;

	if (!s || !core) {
		free(s);
		free(core);
		return -ENOMEM;
	}
	s->refs = 1;
	s->creds = creds;
	s->n_creds = n;
	for (size_t k = 0; k < n && r == 0; k++)
		r = add_secret(s, &creds[k], creds[k].secret, creds[k].secret_len, (unsigned)k,
			       core);
	for (size_t i = 0; i < n_olds && r == 0; i++)
		if (olds[i].cred < n && olds[i].len)
			r = add_secret(s, &creds[olds[i].cred], olds[i].value, olds[i].len,
				       olds[i].cred, core);
	explicit_bzero(core, NX_B64_CORE_MAX);
	free(core);
	if (r == 0)
		r = group(s);
	if (r < 0) {
		nx_scrub_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct nx_scrub *nx_scrub_ref(const struct nx_scrub *s)
{
	((struct nx_scrub *)s)->refs++; /* released by nx_scrub_free() */
	return (struct nx_scrub *)s;
}

int nx_scrub_with(const struct nx_scrub *base, const struct nx_scrub_extra *extra, size_t n,
		  struct nx_scrub **ret)
{
	struct nx_scrub *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->refs = 1;
	s->creds = base->creds;
	s->n_creds = base->n_creds;
	for (size_t i = 0; i < base->n && r == 0; i++) {
		const struct needle *nd = &base->needles[i];
		r = add_needle(s, nd->bytes, nd->len, nd->cred, nd->b64, nd->raw);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t len = extra[i].len;
		while (len > 0 && extra[i].b64[len - 1] == '=')
			len--; /* an echo may drop the padding */
		size_t had = s->n;
		r = add_needle(s, extra[i].b64, len, extra[i].cred, true, false);
		if (r == 0 && s->n > had)
			s->needles[had].kept = true;
	}
	if (r == 0)
		r = group(s);
	if (r < 0) {
		nx_scrub_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

size_t nx_scrub_hold_max(const struct nx_scrub *s)
{
	return s->hold_max;
}
