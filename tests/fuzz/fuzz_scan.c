/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the response scan (scan.c, scrub.c) against a reference
 * reading of the forms README's "Nothing comes back" names, written
 * apart: from every position of the text, does a form of a secret begin
 * there (the secret, or a base64 core of it in either alphabet, each
 * byte as it is, %XX in either case, %25XX and %2525XX for a secret
 * without '%', \/ \\ \" or \u00XX; a secret holding '%' or '\\' also as
 * it is, byte for byte; one without either also written twice: each
 * character of such a writing as it is, %XX, \/ \\ \" or \u00XX, so
 * JSON in JSON, JSON in a URL, a URL in JSON or in a URL; a '\\' kept as
 * it is is not followed by a \u escape of the second writing; inside a
 * base64 core, a line break, written as a byte is, JSON's \n and \r
 * among its writings).  Slow (every
 * start, backtracking), and so independent of the scan's one pass.
 * Whatever bytes an echo holds:
 *  - a head the reference finds a secret in is scrubbed, and the
 *    scrubbed head holds none (its placeholders blanked: public, and one's
 *    last characters with what follows may spell a secret the text did
 *    not hold);
 *  - a stream scanned in pieces of any size is cut, or lets through
 *    exactly what came, holding none.
 * An input is [1 byte: the pieces' size] [the bytes].  The secrets begin
 * with hex digits (an escape's first characters before one must not hide
 * it), hold '/', '+' and '=' (which echoes encode), '%', or are a token
 * with a public prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netproxy/netproxy_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy_item hosts_items[] = {{.value = "good.test"}};
static struct policy_list hosts = {hosts_items, 1, 1};
static const struct nx_cred creds[] = {
    {"hex", "ringfence_hex_AAAAAAAAAAAAAAAA", 30, "d3adbeef0123456789abcdef", 24, &hosts},
    {"b64", "ringfence_b64_BBBBBBBBBBBBBBBB", 30, "4f/Ab+cd=EF0123456789xy", 23, &hosts},
    {"tok", "ringfence_tok_CCCCCCCCCCCCCCCC", 30, "AIzaSyFake0123456789", 20, &hosts},
    {"pct", "ringfence_pct_DDDDDDDDDDDDDDDD", 30, "5e%cret\\with-escapes", 20, &hosts},
};
#define N_CREDS (sizeof(creds) / sizeof(creds[0]))

/* A form of a secret: its bytes, and how they may be written. */
struct form {
	char b[64];
	size_t len;
	bool b64;  /* '-' and '_' stand for '+' and '/' */
	bool raw;  /* byte for byte only */
	bool nest; /* %25XX and %2525XX too */
	bool deep; /* written twice too */
};
static struct form forms[N_CREDS * 5];
static size_t n_forms;

/* What at() found for one form over one text, by start, byte and the line
 * breaks read just before (0 not yet, 1 no, 2 yes): without it, a text of
 * many open writings takes the backtracking minutes. */
static uint8_t *memo;
static size_t memo_w;

static int hex(unsigned char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static bool same(const struct form *f, char c, size_t j)
{
	if (f->b64)
		c = c == '-' ? '+' : c == '_' ? '/' : c;
	return f->b[j] == c;
}

static bool read_once(const struct form *f, const char *t, size_t n, size_t r, size_t j,
		      unsigned k);
static bool read_twice(const struct form *f, const char *t, size_t n, size_t r, size_t j,
		       unsigned k);

/* A character a base64 form passes over inside it, one or two in a row
 * (CRLF): a line break (raw, or JSON's \n \r decoded). */
static bool is_gap(char c)
{
	return c == '\n' || c == '\r';
}

static char json_escape(char c)
{
	return c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : 0;
}

/* Whether F's bytes from J on are written at T[R..N), after K line breaks:
 * once, or, for a form of a secret without '%' or '\\', once or twice. */
static bool atk(const struct form *f, const char *t, size_t n, size_t r, size_t j, unsigned k)
{
	uint8_t *m;

	if (j == f->len)
		return true;
	if (r >= n)
		return false;
	m = &memo[(r * memo_w + j) * 3 + k];
	if (!*m)
		*m = (f->deep ? read_twice(f, t, n, r, j, k) : read_once(f, t, n, r, j, k)) ? 2 : 1;
	return *m == 2;
}

static bool at(const struct form *f, const char *t, size_t n, size_t r, size_t j)
{
	return atk(f, t, n, r, j, 0);
}

static bool read_once(const struct form *f, const char *t, size_t n, size_t r, size_t j, unsigned k)
{
	if (f->raw)
		return same(f, t[r], j) && at(f, t, n, r + 1, j + 1);
	/* a gap inside a base64 form, written once */
	if (f->b64 && j > 0 && k < 2) {
		if (is_gap(t[r]) && atk(f, t, n, r + 1, j, k + 1))
			return true;
		if (t[r] == '%' && r + 2 < n && hex(t[r + 1]) >= 0 && hex(t[r + 2]) >= 0 &&
		    is_gap((char)(hex(t[r + 1]) * 16 + hex(t[r + 2]))) &&
		    atk(f, t, n, r + 3, j, k + 1))
			return true;
		if (t[r] == '\\' && r + 1 < n && json_escape(t[r + 1]) &&
		    is_gap(json_escape(t[r + 1])) && atk(f, t, n, r + 2, j, k + 1))
			return true;
		if (t[r] == '\\' && r + 5 < n && t[r + 1] == 'u' && hex(t[r + 2]) == 0 &&
		    hex(t[r + 3]) == 0 && hex(t[r + 4]) >= 0 && hex(t[r + 5]) >= 0 &&
		    is_gap((char)(hex(t[r + 4]) * 16 + hex(t[r + 5]))) &&
		    atk(f, t, n, r + 6, j, k + 1))
			return true;
	}
	if (t[r] != '%' && t[r] != '\\' && same(f, t[r], j) && at(f, t, n, r + 1, j + 1))
		return true;
	if (t[r] == '%')
		for (size_t p = r + 1, level = 0; p + 1 < n && hex(t[p]) >= 0 && hex(t[p + 1]) >= 0;
		     p += 2, level++) {
			char v = (char)(hex(t[p]) * 16 + hex(t[p + 1]));
			if (same(f, v, j) && at(f, t, n, p + 2, j + 1))
				return true;
			if (v != '%' || !f->nest || level == 2)
				break;
		}
	if (t[r] == '\\' && r + 1 < n) {
		char c = t[r + 1];
		if ((c == '/' || c == '\\' || c == '"') && same(f, c, j) &&
		    at(f, t, n, r + 2, j + 1))
			return true;
		if (c == 'u' && r + 5 < n && hex(t[r + 2]) == 0 && hex(t[r + 3]) == 0 &&
		    hex(t[r + 4]) >= 0 && hex(t[r + 5]) >= 0 &&
		    same(f, (char)(hex(t[r + 4]) * 16 + hex(t[r + 5])), j) &&
		    at(f, t, n, r + 6, j + 1))
			return true;
	}
	return false;
}

/* One writing of a byte, once: its characters, and which are an escape's
 * hex digits (either case). */
struct once {
	char c[8];
	bool hex[8];
	size_t len;
};

static size_t put(struct once *w, const char *pre, char v, bool hex_digits)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t k = 0;

	for (; pre[k]; k++) {
		w->c[k] = pre[k];
		w->hex[k] = false;
	}
	if (hex_digits) {
		w->c[k] = digits[(unsigned char)v >> 4];
		w->hex[k++] = true;
		w->c[k] = digits[(unsigned char)v & 15];
		w->hex[k++] = true;
	} else {
		w->c[k] = v;
		w->hex[k++] = false;
	}
	w->len = k;
	return 1;
}

/* Every writing once of V (a form's nested percent escapes too): the
 * count, into W. */
static size_t onces(char v, bool nest, struct once *w)
{
	size_t n = 0;

	if (v != '%' && v != '\\')
		n += put(&w[n], "", v, false);
	n += put(&w[n], "%", v, true);
	if (nest) {
		n += put(&w[n], "%25", v, true);
		n += put(&w[n], "%2525", v, true);
	}
	if (v == '/' || v == '\\' || v == '"')
		n += put(&w[n], "\\", v, false);
	if (v == '\n' || v == '\r' || v == '\t')
		n += put(&w[n], "\\", v == '\n' ? 'n' : v == '\r' ? 'r' : 't', false);
	n += put(&w[n], "\\u00", v, true);
	return n;
}

/* Whether W's characters from K on are written (a second time) at
 * T[R..N), and F's bytes from J + 1 on after them. */
static bool written_again(const struct form *f, const char *t, size_t n, size_t r, size_t j,
			  unsigned nk, const struct once *w, size_t k)
{
	if (k == w->len)
		return atk(f, t, n, r, j, nk);
	if (r >= n)
		return false;
	char x = w->c[k];
	bool ci = w->hex[k];
#define IS(c) ((c) == x || (ci && hex(c) >= 0 && hex(c) == hex(x)))
	/* (a '\\' of the first writing as it is, not before a \u escape of
	 * the second: the scan reads "\\\\u" as an escaped '\\' and a 'u') */
	if (IS(t[r]) && !(x == '\\' && r + 2 < n && t[r + 1] == '\\' && t[r + 2] == 'u') &&
	    written_again(f, t, n, r + 1, j, nk, w, k + 1))
		return true;
	if (t[r] == '%' && r + 2 < n && hex(t[r + 1]) >= 0 && hex(t[r + 2]) >= 0 &&
	    IS((char)(hex(t[r + 1]) * 16 + hex(t[r + 2]))) &&
	    written_again(f, t, n, r + 3, j, nk, w, k + 1))
		return true;
	if (t[r] == '\\' && r + 1 < n && (t[r + 1] == '/' || t[r + 1] == '\\' || t[r + 1] == '"') &&
	    t[r + 1] == x && written_again(f, t, n, r + 2, j, nk, w, k + 1))
		return true;
	if (t[r] == '\\' && r + 1 < n && json_escape(t[r + 1]) && json_escape(t[r + 1]) == x &&
	    written_again(f, t, n, r + 2, j, nk, w, k + 1))
		return true;
	if (t[r] == '\\' && r + 5 < n && t[r + 1] == 'u' && hex(t[r + 2]) == 0 &&
	    hex(t[r + 3]) == 0 && hex(t[r + 4]) >= 0 && hex(t[r + 5]) >= 0 &&
	    IS((char)(hex(t[r + 4]) * 16 + hex(t[r + 5]))) &&
	    written_again(f, t, n, r + 6, j, nk, w, k + 1))
		return true;
#undef IS
	return false;
}

static bool read_twice(const struct form *f, const char *t, size_t n, size_t r, size_t j,
		       unsigned bk)
{
	char alt[2] = {f->b[j], 0};
	struct once w[8];

	if (f->b64 && alt[0] == '+')
		alt[1] = '-';
	if (f->b64 && alt[0] == '/')
		alt[1] = '_';
	for (size_t a = 0; a < 2 && alt[a]; a++) {
		size_t nw = onces(alt[a], f->nest, w);
		for (size_t i = 0; i < nw; i++)
			if (written_again(f, t, n, r, j + 1, 0, &w[i], 0))
				return true;
	}
	/* a gap inside a base64 form, written twice */
	for (const char *g = "\n\r"; f->b64 && j > 0 && bk < 2 && *g; g++) {
		size_t nw = onces(*g, f->nest, w);
		for (size_t i = 0; i < nw; i++)
			if (written_again(f, t, n, r, j, bk + 1, &w[i], 0))
				return true;
	}
	return false;
}

static bool carries(const char *t, size_t n)
{
	bool hit = false;

	for (size_t i = 0; i < n_forms && !hit; i++) {
		memo_w = forms[i].len + 1;
		memo = calloc((n + 1) * memo_w * 3, 1);
		if (!memo)
			abort();
		for (size_t r = 0; r < n && !hit; r++)
			hit = at(&forms[i], t, n, r, 0);
		free(memo);
	}
	return hit;
}

static void add(const char *b, size_t len, bool b64, bool raw, bool nest)
{
	struct form *f = &forms[n_forms++];

	f->deep = !raw && !memchr(b, '%', len) && !memchr(b, '\\', len);
	memcpy(f->b, b, len);
	f->len = len;
	f->b64 = b64;
	f->raw = raw;
	f->nest = nest;
}

/* The forms scrub.c looks for, from the secrets (not from its needles). */
static void make_forms(void)
{
	for (size_t k = 0; k < N_CREDS; k++) {
		const char *sec = creds[k].secret;
		size_t n = creds[k].secret_len;
		bool esc = memchr(sec, '%', n) || memchr(sec, '\\', n);
		add(sec, n, false, false, !memchr(sec, '%', n));
		if (esc)
			add(sec, n, false, true, false);
		/* base64: the characters that depend on the secret alone,
		 * after 0, 1 or 2 other bytes (12 at least) */
		for (unsigned a = 0; a < 3; a++) {
			char src[40] = {0}, enc[64];
			memcpy(src + a, sec, n);
			size_t e = nx_base64_encode(src, a + n, enc), from = (a * 8 + 5) / 6,
			       to = (a + n) * 8 / 6;
			(void)e;
			if (to - from >= 12)
				add(enc + from, to - from, true, false, true);
		}
	}
}

/* The scrubbed head, each placeholder put in blanked. */
static bool carries_besides_placeholders(char *p, size_t n)
{
	for (size_t k = 0; k < N_CREDS; k++) {
		const char *ph = creds[k].placeholder;
		size_t pl = creds[k].placeholder_len;
		for (char *at_ = p; (at_ = memmem(at_, n - (size_t)(at_ - p), ph, pl)); at_ += pl)
			memset(at_, 1, pl);
	}
	return carries(p, n);
}

/* IN (exactly SIZE bytes) as a head and as a stream in pieces of STEP. */
static void check(struct nx_scrub *s, const char *in, size_t size, size_t step)
{
	struct nx_scan *sc;
	char *out, *clean = NULL;
	size_t len = 0, got, clean_len;
	unsigned hits;
	int r = 0;

	out = malloc(size ? size : 1); /* what a stream lets through is at most what came */
	if (!out)
		abort();
	int hr = nx_scrub_head(s, in, size, &clean, &clean_len, &hits);
	if (hr == 1 && carries_besides_placeholders(clean, clean_len))
		abort(); /* scrubbed, and a secret left */
	if (hr == 0 && carries(in, size))
		abort(); /* a secret not seen */
	free(clean);

	if (nx_scan_new(s, &sc) < 0)
		abort();
	nx_scan_reset(sc, NX_FRAME_PLAIN);
	for (size_t i = 0; i < size && r == 0; i += step) {
		size_t k = size - i < step ? size - i : step;
		r = nx_scan_feed(sc, in + i, k, out + len, &got);
		if (r == 0)
			len += got;
	}
	if (r == 0)
		len += nx_scan_flush(sc, out + len);
	if (r == 0 && (len != size || memcmp(out, in, size) != 0))
		abort(); /* let through, but not as it came */
	if (r == 0 && carries(out, len))
		abort(); /* let through with a secret */
	nx_scan_free(sc);
	free(out);
}

/* The next choice byte of D[*I..N), 0 past its end. */
static unsigned pick(const uint8_t *d, size_t n, size_t *i)
{
	return *i < n ? d[(*i)++] : 0;
}

static char *hex2(char *o, unsigned char v, bool lower)
{
	*o++ = (lower ? "0123456789abcdef" : "0123456789ABCDEF")[v >> 4];
	*o++ = (lower ? "0123456789abcdef" : "0123456789ABCDEF")[v & 15];
	return o;
}

/*
 * A text that holds a form of a secret, written as the choice bytes say:
 * D = [form] [prefix length] [prefix] then, for each byte of the form,
 * [its first writing, and the case of its hex digits] [two bytes: how the
 * second writing writes each of that one's characters] [their hex case],
 * then the rest as it is.  So the forms the reference reads are made
 * directly, not waited for: what the scan must see, and does not,
 * aborts in check().  Into OUT; its length.
 */
static size_t compose(const uint8_t *d, size_t n, char *out)
{
	size_t i = 0, pre;
	const struct form *f = &forms[pick(d, n, &i) % n_forms];
	char *o = out;
	struct once w[8];

	pre = pick(d, n, &i) % 16;
	for (size_t k = 0; k < pre; k++)
		*o++ = (char)pick(d, n, &i);
	for (size_t j = 0; j < f->len; j++) {
		unsigned first = pick(d, n, &i), second = pick(d, n, &i) | pick(d, n, &i) << 8,
			 hcase = pick(d, n, &i);
		if (f->raw) {
			*o++ = f->b[j];
			continue;
		}
		const struct once *one = &w[(first & 15) % onces(f->b[j], f->nest, w)];
		for (size_t k = 0; k < one->len; k++) {
			char x = one->c[k];
			if (one->hex[k] && (first >> 4 & 1 << (k & 3)))
				x = (char)(x | 0x20); /* a hex digit in lower case */
			switch (f->deep ? second >> (2 * (k & 7)) & 3 : 0) {
			case 0:
				*o++ = x;
				break;
			case 1:
				*o++ = '%';
				o = hex2(o, (unsigned char)x, hcase >> (k & 7) & 1);
				break;
			case 2:
				if (x == '/' || x == '\\' || x == '"') {
					*o++ = '\\';
					*o++ = x;
					break;
				}
				/* fall through */
			default:
				memcpy(o, "\\u00", 4);
				o = hex2(o + 4, (unsigned char)x, hcase >> (k & 7) & 1);
				break;
			}
		}
	}
	while (i < n)
		*o++ = (char)d[i++];
	return (size_t)(o - out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nx_scrub *s;
	char *in;
	size_t step, len;

	if (size < 1)
		return 0;
	if (!s) {
		if (nx_scrub_new(creds, N_CREDS, &s) < 0)
			abort();
		make_forms();
	}
	/* [0] and the pieces' size: a text made of choices; else [the
	 * pieces' size] and the text */
	if (data[0] == 0 && size >= 2) {
		char *text = malloc(size * 48 + 64);
		if (!text)
			abort();
		step = data[1] ? data[1] : 1;
		len = compose(data + 2, size - 2, text);
		in = malloc(len ? len : 1); /* exactly LEN bytes, so ASan sees any read past */
		if (!in)
			abort();
		memcpy(in, text, len);
		free(text);
	} else {
		step = data[0] ? data[0] : 1;
		len = size - 1;
		in = malloc(len ? len : 1);
		if (!in)
			abort();
		memcpy(in, data + 1, len);
	}
	check(s, in, len, step);
	free(in);
	return 0;
}
