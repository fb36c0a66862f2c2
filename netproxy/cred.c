/* SPDX-License-Identifier: MIT */
/*
 * Placeholder credentials: finding a placeholder in a request head and
 * putting the secret in its place, only for the hosts the secret is bound
 * to.
 *
 * Replacement is exact (the placeholder as the sandbox was given it).
 * Detection, which decides whether a request goes out at all, is wider:
 * case-insensitive, also after percent-decoding, also inside a Basic
 * authorization's base64.  A placeholder on its way to a host it is not
 * bound to refuses the whole request.  That refusal is a tripwire, not the
 * protection: the protection is that the secret is only ever written into
 * requests for its own hosts.  The detection is cred_detect.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netproxy_internal.h"

bool nx_cred_bound(const struct nx_cred *cr, const char *host, uint16_t port)
{
	for (size_t i = 0; i < cr->hosts->n; i++)
		if (nx_rule_match(cr->hosts->items[i].value, host, port, false))
			return true;
	return false;
}

static const char *find_exact(const char *hay, size_t n, const char *needle, size_t m)
{
	return m == 0 ? NULL : memmem(hay, n, needle, m);
}

/* An output buffer that refuses to overflow. */
struct out {
	char *d;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *p, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->d + o->len, p, n);
	o->len += n;
}

/* Copies IN to O with every exact placeholder of a credential in MASK
 * replaced.  Returns the credentials replaced, as bits. */
static unsigned replace_into(const struct nx_cred_ctx *x, unsigned mask, const char *in, size_t n,
			     struct out *o)
{
	unsigned used = 0;
	size_t i = 0;

	while (i < n) {
		const struct nx_cred *best = NULL;
		const char *at = NULL;
		for (size_t k = 0; k < x->n; k++) {
			const char *f;
			if (!(mask & (1u << k)))
				continue;
			f = find_exact(in + i, n - i, x->creds[k].placeholder,
				       x->creds[k].placeholder_len);
			if (f && (!at || f < at)) {
				at = f;
				best = &x->creds[k];
			}
		}
		if (!best) {
			put(o, in + i, n - i);
			break;
		}
		put(o, in + i, (size_t)(at - (in + i)));
		put(o, best->secret, best->secret_len);
		used |= 1u << (best - x->creds);
		i = (size_t)(at - in) + best->placeholder_len;
	}
	return used;
}

/* Any placeholder of a credential NOT bound here, by the wide detection. */
const struct nx_cred *nx_cred_foreign(const struct nx_cred_ctx *x, const char *p, size_t n)
{
	unsigned map[NX_CRED_MAX];
	size_t m = 0;

	for (size_t k = 0; k < x->n; k++)
		if (!(x->bound & (1u << k)))
			map[m++] = (unsigned)k;
	if (m == 0)
		return NULL; /* (the common case: every field of a request) */
	/* only now: the build clears the copies at their declaration */
	struct nx_cred tmp[NX_CRED_MAX];
	for (size_t i = 0; i < m; i++)
		tmp[i] = x->creds[map[i]];
	const struct nx_cred *hit = nx_cred_find(tmp, m, p, n);
	return hit ? &x->creds[map[hit - tmp]] : NULL;
}

void nx_cred_ctx_init(struct nx_cred_ctx *x, const struct nx_cred *creds, size_t n,
		      const char *host, uint16_t port)
{
	*x = (struct nx_cred_ctx){.creds = creds, .n = n};
	for (size_t k = 0; k < n && k < NX_CRED_MAX; k++)
		if (nx_cred_bound(&creds[k], host, port))
			x->bound |= 1u << k;
}

/* True when the secret may stand in a request target as it is. */
static bool target_safe(const struct nx_cred *cr)
{
	for (size_t i = 0; i < cr->secret_len; i++) {
		unsigned char ch = (unsigned char)cr->secret[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '#')
			return false;
	}
	return true;
}

size_t nx_pct_encode(const char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	return o;
}

/* True when CR, whose inject is not replace, may be written into this
 * field: its one place. */
static bool is_place(const struct nx_cred_ctx *x, const struct nx_cred *cr,
		     enum nx_cred_where where)
{
	switch (cr->inject) {
	case POLICY_INJECT_HEADER:
		return (where == NX_CRED_HEADER || where == NX_CRED_HEADER_AUTH) && x->field_name &&
		       x->field_name_len == strlen(cr->inject_arg) &&
		       strncasecmp(x->field_name, cr->inject_arg, x->field_name_len) == 0;
	case POLICY_INJECT_BEARER:
	case POLICY_INJECT_BASIC_PASSWORD:
	case POLICY_INJECT_BASIC_USER:
		return where == NX_CRED_HEADER_AUTH;
	case POLICY_INJECT_QUERY:
		return where == NX_CRED_TARGET;
	case POLICY_INJECT_REPLACE:
	case _POLICY_INJECT_MAX:
	default:
		return false;
	}
}

/* An Authorization value in CR's form: "Bearer S" or "Basic base64(...)". */
static void put_authorization(struct out *o, const struct nx_cred *cr)
{
	size_t ul = cr->inject_arg ? strlen(cr->inject_arg) : 0;
	size_t raw_len = cr->secret_len + ul + 1, en;
	char *raw, *enc;

	if (cr->inject == POLICY_INJECT_BEARER) {
		put(o, "Bearer ", 7);
		put(o, cr->secret, cr->secret_len);
		return;
	}
	raw = malloc(raw_len);
	enc = malloc((raw_len + 2) / 3 * 4 + 1);
	if (!raw || !enc) {
		o->full = true; /* refused as too large: never sent half-made */
		free(raw);
		free(enc);
		return;
	}
	if (cr->inject == POLICY_INJECT_BASIC_PASSWORD) {
		memcpy(raw, cr->inject_arg, ul);
		raw[ul] = ':';
		memcpy(raw + ul + 1, cr->secret, cr->secret_len);
	} else {
		memcpy(raw, cr->secret, cr->secret_len);
		raw[cr->secret_len] = ':';
	}
	en = nx_base64_encode(raw, raw_len, enc);
	put(o, "Basic ", 6);
	put(o, enc, en);
	explicit_bzero(raw, raw_len);
	explicit_bzero(enc, en);
	free(raw);
	free(enc);
}

/* The query parameters of a target named PARAM: every exact placeholder of
 * CR in their values replaced by the secret, percent-encoded.  True when
 * one was. */
static bool put_query(struct out *o, const struct nx_cred *cr, const char *in, size_t n)
{
	const char *q = memchr(in, '?', n), *end = in + n;
	size_t pl = strlen(cr->inject_arg);
	bool used = false;
	char *enc;
	size_t en;

	if (!q) {
		put(o, in, n);
		return false;
	}
	enc = malloc(cr->secret_len * 3 + 1);
	if (!enc) {
		o->full = true;
		return false;
	}
	en = nx_pct_encode(cr->secret, cr->secret_len, enc);
	put(o, in, (size_t)(q + 1 - in));
	for (const char *p = q + 1; p <= end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end, *v = p + pl + 1;
		if ((size_t)(e - p) > pl && strncmp(p, cr->inject_arg, pl) == 0 && p[pl] == '=') {
			put(o, p, pl + 1);
			while (v < e) {
				const char *f = find_exact(v, (size_t)(e - v), cr->placeholder,
							   cr->placeholder_len);
				if (!f) {
					put(o, v, (size_t)(e - v));
					break;
				}
				put(o, v, (size_t)(f - v));
				put(o, enc, en);
				used = true;
				v = f + cr->placeholder_len;
			}
		} else {
			put(o, p, (size_t)(e - p));
		}
		if (!amp)
			break;
		put(o, "&", 1);
		p = amp + 1;
	}
	explicit_bzero(enc, en);
	free(enc);
	return used;
}

/*
 * The credentials with one place (inject other than replace), into O from
 * IN: a placeholder of one of them anywhere but its place refuses the
 * request (the secret would go where the policy did not put it: a path an
 * API echoes, a header it logs); in its place it is written in its form.
 * Returns 1 when O holds a rewritten field, 0 when none applied, -EACCES.
 * Long: one placement per mode, each short.
 */
static int place_into(struct nx_cred_ctx *x, enum nx_cred_where where, const char *in, size_t n,
		      struct out *o)
{
	for (size_t k = 0; k < x->n; k++) {
		const struct nx_cred *cr = &x->creds[k];
		char *tmp;
		struct out t;
		bool used = false;
		if (!(x->bound & (1u << k)) || cr->inject == POLICY_INJECT_REPLACE ||
		    !nx_cred_find(cr, 1, in, n))
			continue;
		if (!is_place(x, cr, where)) {
			x->blocked = cr;
			x->blocked_where = where == NX_CRED_HEADER_AUTH ? NX_CRED_HEADER : where;
			return -EACCES;
		}
		if (cr->inject == POLICY_INJECT_BEARER ||
		    cr->inject == POLICY_INJECT_BASIC_PASSWORD ||
		    cr->inject == POLICY_INJECT_BASIC_USER) {
			/* the whole value, whatever form the client wrote the
			 * placeholder in (Bearer, token, inside Basic) */
			put_authorization(o, cr);
			x->injected[cr->inject == POLICY_INJECT_BEARER ? NX_CRED_HEADER
								       : NX_CRED_BASIC] |= 1u << k;
			return 1;
		}
		t = (struct out){.cap = o->cap};
		tmp = malloc(t.cap);
		if (!tmp)
			return -ENOMEM;
		t.d = tmp;
		if (cr->inject == POLICY_INJECT_QUERY)
			used = put_query(&t, cr, in, n);
		else
			used = replace_into(x, 1u << k, in, n, &t) != 0;
		/* what was not replaced (another letter case, encoded, another
		 * parameter) is not in its place */
		if (!t.full && nx_cred_find(cr, 1, t.d, t.len)) {
			x->blocked = cr;
			x->blocked_where = where == NX_CRED_HEADER_AUTH ? NX_CRED_HEADER : where;
			used = false;
			t.full = true;
		}
		if (!t.full && used)
			put(o, t.d, t.len);
		explicit_bzero(tmp, t.len);
		free(tmp);
		if (x->blocked == cr)
			return -EACCES;
		if (t.full)
			o->full = true;
		if (used)
			x->injected[where == NX_CRED_HEADER_AUTH ? NX_CRED_HEADER : where] |= 1u
											      << k;
		return used ? 1 : 0;
	}
	return 0;
}

/* Long: one pass over the field for every credential in every form; in
 * pieces, its state would pass through each. */
int nx_cred_field(struct nx_cred_ctx *x, enum nx_cred_where where, const char *in, size_t n,
		  char *out, size_t cap, size_t *out_len)
{
	struct out o = {.d = out, .cap = cap};
	const struct nx_cred *f;
	unsigned used, mask = 0;
	int pr;

	*out_len = 0;
	f = nx_cred_foreign(x, in, n);
	if (f) {
		x->blocked = f;
		x->blocked_where = where;
		/* found inside the base64 of a Basic authorization */
		if (where == NX_CRED_HEADER_AUTH && n > 6 && strncasecmp(in, "basic ", 6) == 0)
			x->blocked_where = NX_CRED_BASIC;
		return -EACCES;
	}
	pr = place_into(x, where, in, n, &o);
	if (pr < 0)
		return pr;
	if (o.full)
		return -E2BIG;
	if (pr > 0) {
		/* one place per field: a field that is one credential's place
		 * carries no other's placeholder (nx_cred_foreign() and the
		 * bound ones below would have seen it in IN) */
		for (size_t k = 0; k < x->n; k++)
			if ((x->bound & (1u << k)) && nx_cred_find(&x->creds[k], 1, in, n) &&
			    !is_place(x, &x->creds[k], where)) {
				x->blocked = &x->creds[k];
				x->blocked_where = where;
				return -EACCES;
			}
		*out_len = o.len;
		return 1;
	}
	for (size_t k = 0; k < x->n; k++)
		if (x->creds[k].inject == POLICY_INJECT_REPLACE)
			mask |= x->bound & (1u << k);
	/* Authorization: Basic base64(user:password) */
	if (where == NX_CRED_HEADER_AUTH) {
		size_t s = 0;
		while (s < n && in[s] != ' ')
			s++;
		if (s == 5 && strncasecmp(in, "basic", 5) == 0) {
			size_t b = s;
			while (b < n && in[b] == ' ')
				b++;
			char *dec = malloc(n + 1), *rep = NULL, *enc = NULL;
			size_t en = 0;
			long dn;
			int r = 0;
			if (!dec)
				return -ENOMEM;
			dn = nx_base64_decode(in + b, n - b, dec, n + 1);
			if (dn >= 0) {
				f = nx_cred_foreign(x, dec, (size_t)dn);
				if (f) {
					x->blocked = f;
					x->blocked_where = NX_CRED_BASIC;
					free(dec);
					return -EACCES;
				}
				struct out ro = {.cap = NX_HEAD_MAX * 4};
				rep = malloc(ro.cap);
				ro.d = rep;
				used = rep ? replace_into(x, mask, dec, (size_t)dn, &ro) : 0;
				if (!rep) {
					r = -ENOMEM;
				} else if (ro.full) {
					r = -E2BIG;
				} else if (used) {
					enc = malloc((ro.len + 2) / 3 * 4 + 1);
					if (!enc) {
						r = -ENOMEM;
					} else {
						en = nx_base64_encode(rep, ro.len, enc);
						put(&o, in, b);
						put(&o, enc, en);
						x->injected[NX_CRED_BASIC] |= used;
						if (en <= sizeof(x->basic)) {
							memcpy(x->basic, enc, en);
							x->basic_len = en;
							x->basic_cred =
							    (unsigned)__builtin_ctz(used);
						}
					}
				}
			}
			if (dec)
				explicit_bzero(dec, n + 1);
			free(dec);
			if (rep) {
				explicit_bzero(rep, NX_HEAD_MAX * 4);
				free(rep);
			}
			if (enc) {
				explicit_bzero(enc, en);
				free(enc);
			}
			if (r < 0)
				return r;
			if (o.len || o.full) {
				if (o.full)
					return -E2BIG;
				*out_len = o.len;
				return 1;
			}
			/* not valid base64, or no placeholder inside: as written */
		}
		where = NX_CRED_HEADER;
	}
	used = replace_into(x, mask, in, n, &o);
	if (o.full)
		return -E2BIG;
	if (!used)
		return 0;
	if (where == NX_CRED_TARGET)
		for (size_t k = 0; k < x->n; k++)
			if ((used & (1u << k)) && !target_safe(&x->creds[k])) {
				x->blocked = &x->creds[k];
				x->blocked_where = NX_CRED_TARGET;
				x->unsafe = true;
				return -EACCES;
			}
	x->injected[where] |= used;
	*out_len = o.len;
	return 1;
}

const char *nx_cred_where_name(enum nx_cred_where w)
{
	switch (w) {
	case NX_CRED_TARGET:
		return "target";
	case NX_CRED_HEADER:
	case NX_CRED_HEADER_AUTH:
		return "header";
	case NX_CRED_BASIC:
		return "basic";
	case NX_CRED_HOST:
		return "host";
	case NX_CRED_STREAM:
		return "stream";
	case NX_CRED_METHOD:
		return "method";
	case _NX_CRED_WHERE_MAX:
	default:
		return "?";
	}
}

const struct nx_cred *nx_cred_missing(const struct nx_cred_ctx *x)
{
	unsigned any = 0;

	for (int i = 0; i < _NX_CRED_WHERE_MAX; i++)
		any |= x->injected[i];
	for (size_t k = 0; k < x->n; k++)
		if ((x->bound & (1u << k)) && x->creds[k].require && !(any & (1u << k)))
			return &x->creds[k];
	return NULL;
}

void nx_cred_place(const struct nx_cred *cr, char *buf, size_t size)
{
	switch (cr->inject) {
	case POLICY_INJECT_HEADER:
		snprintf(buf, size, "the %s header", cr->inject_arg);
		return;
	case POLICY_INJECT_BEARER:
		snprintf(buf, size, "Authorization (sent as Bearer)");
		return;
	case POLICY_INJECT_BASIC_PASSWORD:
	case POLICY_INJECT_BASIC_USER:
		snprintf(buf, size, "Authorization (sent as Basic)");
		return;
	case POLICY_INJECT_QUERY:
		snprintf(buf, size, "the query parameter %s", cr->inject_arg);
		return;
	case POLICY_INJECT_REPLACE:
	case _POLICY_INJECT_MAX:
	default:
		snprintf(buf, size, "the request target or a header");
		return;
	}
}
