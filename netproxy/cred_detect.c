/* SPDX-License-Identifier: MIT */
/*
 * Detection of a placeholder, or of a secret, however a text writes it
 * (cred.c has the picture): in every letter case, percent-decoded, inside
 * base64 in either alphabet and any alignment, under JSON's escapes; and
 * the base64 codec the rest of the proxy uses.  Pure: nothing here knows
 * which host a request is for.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netproxy_internal.h"

static const char *find_case(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0 || n < m)
		return NULL;
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

/* Percent-decodes IN into OUT (at most as long as IN); returns the length. */
static size_t pct_decode(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '%' && i + 2 < n && hex_value((unsigned char)in[i + 1]) >= 0 &&
		    hex_value((unsigned char)in[i + 2]) >= 0) {
			out[o++] = (char)(hex_value((unsigned char)in[i + 1]) * 16 +
					  hex_value((unsigned char)in[i + 2]));
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

long nx_base64_decode(const char *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	size_t pad = 0;

	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	while (n > 0 && in[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* leftover bits must be zero padding: a strict decoder's answer */
	if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

size_t nx_base64_encode(const char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		unsigned v = ((unsigned)(uint8_t)in[i] << 16) |
			     ((unsigned)(uint8_t)in[i + 1] << 8) | (uint8_t)in[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)(uint8_t)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)(uint8_t)in[i + 1] << 8;
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

size_t nx_base64_core(const char *in, size_t n, unsigned align, bool url, char *out)
{
	/* IN after ALIGN zero bytes, encoded group by group straight into
	 * OUT: IN (it may be a secret: scrub.c's needles) and its encoding
	 * are never copied into a buffer on the stack that a later fork
	 * would inherit, and no buffer the size of the largest secret is
	 * cleared at each call (the build zeroes every local): per request,
	 * for every placeholder in three alignments and two alphabets */
	size_t total = n + align, from = (align * 8 + 5) / 6, to = total * 8 / 6, o = 0;

	/* (at most NX_B64_CORE_MAX characters: 9,000 bytes of input) */
	if (total > NX_B64_CORE_MAX / 4 * 3 || to <= from)
		return 0;
	/* the characters FROM..TO-1 depend on IN's bits alone */
	for (size_t g = from / 4; g * 4 < to; g++) {
		unsigned v = 0;
		for (size_t k = g * 3; k < g * 3 + 3; k++)
			v = v << 8 | (k >= align && k < total ? (uint8_t)in[k - align] : 0u);
		for (size_t q = 0; q < 4; q++) {
			size_t i = g * 4 + q;
			char ch = b64chars[(v >> (18 - 6 * q)) & 63];
			if (i < from || i >= to)
				continue;
			if (url && ch == '+')
				ch = '-';
			else if (url && ch == '/')
				ch = '_';
			out[o++] = ch;
		}
	}
	return o;
}

/* A placeholder inside base64 of anything (Basic's user:password, a
 * token a client wraps): its core in any of the three alignments, in the
 * standard and the URL alphabet. */
static bool find_base64(const char *p, size_t len, const struct nx_cred *cr)
{
	/* run for every field of every request: a buffer the policy's
	 * placeholders fit in, not one of NX_B64_CORE_MAX that the build
	 * would clear at each call (a longer one, made elsewhere: the heap) */
	char small[(POLICY_PLACEHOLDER_MAX + 2) / 3 * 4 + 4], *core = small;
	size_t need = (cr->placeholder_len + 2) / 3 * 4 + 4;
	bool hit = false;

	if (need > sizeof(small) && !(core = malloc(need)))
		return true; /* cannot look: assume the worst */
	for (unsigned a = 0; a < 3 && !hit; a++)
		for (int url = 0; url < 2 && !hit; url++) {
			size_t m =
			    nx_base64_core(cr->placeholder, cr->placeholder_len, a, url, core);
			hit = m >= 16 && memmem(p, len, core, m);
		}
	if (core != small)
		free(core);
	return hit;
}

/* JSON's escapes of one byte: \/ \\ \" and \u00XX; the rest as it is. */
static size_t json_unescape(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\\' && i + 1 < n && in[i + 1] && strchr("/\\\"", in[i + 1])) {
			out[o++] = in[++i];
		} else if (in[i] == '\\' && i + 5 < n && in[i + 1] == 'u' && in[i + 2] == '0' &&
			   in[i + 3] == '0' && hex_value((unsigned char)in[i + 4]) >= 0 &&
			   hex_value((unsigned char)in[i + 5]) >= 0) {
			out[o++] = (char)(hex_value((unsigned char)in[i + 4]) * 16 +
					  hex_value((unsigned char)in[i + 5]));
			i += 5;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static bool carries_as_is(const char *p, size_t len, const char *secret, size_t n)
{
	char core[NX_B64_CORE_MAX];
	bool hit = memmem(p, len, secret, n) != NULL;

	for (unsigned a = 0; a < 3 && !hit; a++)
		for (int url = 0; url < 2 && !hit; url++) {
			size_t m = nx_base64_core(secret, n, a, url, core);
			hit = m >= 16 && memmem(p, len, core, m);
		}
	/* the secret's encoding: not left for a later fork to inherit */
	explicit_bzero(core, sizeof(core));
	return hit;
}

/* As it is, in base64, and under the escapes a value's own syntax gives
 * it: percent-encoding (a URL's, up to three times over) and JSON's, in
 * any order.  Wider than the response scan (scan.c), which reads two
 * writings stacked (one for a secret holding '%' or '\\'), not three:
 * this is not the reading fuzz_scan holds the scan to. */
bool netproxy_text_carries(const char *p, size_t len, const char *secret)
{
	return netproxy_text_carries_n(p, len, secret, strlen(secret));
}

bool netproxy_text_carries_n(const char *p, size_t len, const char *secret, size_t n)
{
	size_t cap = len ? len : 1;
	char *a, *b;
	bool hit = false;

	if (!n)
		return false;
	if (n > NX_B64_CORE_MAX / 2)
		return memmem(p, len, secret, n) != NULL;
	if (carries_as_is(p, len, secret, n))
		return true;
	if (!memchr(p, '%', len) && !memchr(p, '\\', len))
		return false;
	a = malloc(cap);
	b = malloc(cap);
	if (!a || !b) {
		free(a);
		free(b);
		return true; /* cannot look: assume the worst */
	}
	memcpy(a, p, len);
	for (int round = 0; round < 3 && !hit; round++) {
		size_t m = pct_decode(a, len, b);
		hit = carries_as_is(b, m, secret, n);
		len = json_unescape(b, m, a);
		hit = hit || carries_as_is(a, len, secret, n);
	}
	/* the decoded text may be the secret */
	explicit_bzero(a, cap);
	explicit_bzero(b, cap);
	free(a);
	free(b);
	return hit;
}

const struct nx_cred *nx_cred_find(const struct nx_cred *creds, size_t n, const char *p, size_t len)
{
	char *dec;
	const struct nx_cred *hit = NULL;

	for (size_t i = 0; i < n; i++)
		if (find_case(p, len, creds[i].placeholder, creds[i].placeholder_len) ||
		    find_base64(p, len, &creds[i]))
			return &creds[i];
	if (!memchr(p, '%', len))
		return NULL;
	dec = malloc(len ? len : 1);
	if (!dec)
		return &creds[0]; /* cannot look: assume the worst */
	len = pct_decode(p, len, dec);
	for (size_t i = 0; i < n && !hit; i++)
		if (find_case(dec, len, creds[i].placeholder, creds[i].placeholder_len))
			hit = &creds[i];
	free(dec);
	return hit;
}
