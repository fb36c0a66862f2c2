/* SPDX-License-Identifier: MIT */
/*
 * HTTP method and path rules ([network] allow = GET,HEAD
 * https://api.example.com/user): a rule's text, and the one normal form
 * of a path and a query that both a rule and a request go through, so that
 * the two sides of every comparison were made by the same code.  Pure.
 *
 * The normal form decodes every percent-escape and writes again, as %XX,
 * every byte outside a small set that servers never decode differently
 * (letters, digits, "-._~!$&'()+,=:@"), so "/a%3Ab", "/a:b" and "/a%3ab"
 * are one path.  What servers do NOT agree on is refused instead of
 * guessed: an encoded slash (%2F), an escape escaped again (%252F, read
 * as '/' by a server that decodes twice), a backslash (raw or %5C), a ';' (path
 * parameters: "/admin;x" is "/admin" to some), a "." or ".." segment
 * (also %2e%2e), one of dots and spaces ("...", "..%20": ".." to IIS),
 * an empty segment ("//", merged by some) but the last, a
 * control character, a malformed escape.  '*' in a request is a literal
 * (written %2A); in a rule it is the glob.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/macros.h"
#include "policy.h"

static const char hexd[] = "0123456789ABCDEF";

/* Bytes a path keeps as they are; every other one is %XX. */
static bool path_raw(unsigned char c)
{
	return isalnum(c) || (c && strchr("-._~!$&'()+,=:@", c));
}

/* Appends one byte, or its escape, to OUT. */
static bool put(char *out, size_t size, size_t *o, unsigned char c, bool raw)
{
	if (raw) {
		if (*o + 1 >= size)
			return false;
		out[(*o)++] = (char)c;
		return true;
	}
	if (*o + 3 >= size)
		return false;
	out[(*o)++] = '%';
	out[(*o)++] = hexd[c >> 4];
	out[(*o)++] = hexd[c & 15];
	return true;
}

/* A server that decodes twice reads %252F, or %25%32%46, as '/': in the
 * normal form both are "%25" and two hex digits, refused wherever they
 * stand. */
static bool escaped_again(const char *out, size_t n)
{
	for (size_t i = 0; i + 4 < n; i++)
		if (memcmp(out + i, "%25", 3) == 0 && hex_value(out[i + 3]) >= 0 &&
		    hex_value(out[i + 4]) >= 0)
			return true;
	return false;
}

/* Long: one pass over the path, each refusal in the order a reader meets it. */
int policy_http_path_canon(const char *in, size_t n, bool pattern, char *out, size_t size,
			   const char **why)
{
	size_t o = 0, seg_len = 0, seg_dots = 0, seg_spaces = 0, seg_start = 0;
	bool seg_glob2 = false;
	unsigned char prev = 0; /* the byte before, decoded, within a segment */

	if (n == 0 || in[0] != '/') {
		*why = "a path starts with '/'";
		return -EINVAL;
	}
	for (size_t i = 0; i <= n; i++) {
		unsigned char c;
		bool escaped = false;
		if (i == n || in[i] == '/') {
			if (i > 0) {
				/* the segment that ends here */
				if (seg_len && seg_dots == seg_len && seg_len <= 2) {
					*why = "a '.' or '..' segment (also written %2e)";
					return -EINVAL;
				}
				/* IIS and Windows drop a segment's trailing dots and
				 * spaces: "..%20" and "..." climb there */
				if (seg_len && seg_dots + seg_spaces == seg_len) {
					*why = "a segment of dots and spaces ('...', '..%20')";
					return -EINVAL;
				}
				if (seg_len == 0 && i < n) {
					*why = "an empty segment ('//')";
					return -EINVAL;
				}
				if (seg_glob2 && (o - seg_start != 2)) {
					*why = "'**' stands alone as a whole segment";
					return -EINVAL;
				}
			}
			if (i == n)
				break;
			if (!put(out, size, &o, '/', true))
				goto too_long;
			seg_start = o;
			seg_len = seg_dots = seg_spaces = 0;
			seg_glob2 = false;
			prev = 0;
			continue;
		}
		c = (unsigned char)in[i];
		if (c == '%') {
			int h = i + 2 < n ? hex_value(in[i + 1]) : -1,
			    l = h >= 0 ? hex_value(in[i + 2]) : -1;
			if (h < 0 || l < 0) {
				*why = "a '%' not followed by two hex digits";
				return -EINVAL;
			}
			c = (unsigned char)(h * 16 + l);
			i += 2;
			escaped = true;
			if (c == '/') {
				*why = "an encoded '/' (%2F)";
				return -EINVAL;
			}
		}
		/* an overlong UTF-8 form (C0 AE for '.', C0 AF for '/', E0 80
		 * AE...): a lenient decoder reads it as the ASCII byte, which
		 * the checks here would not have seen */
		if (c == 0xc0 || c == 0xc1 || (prev == 0xe0 && c >= 0x80 && c <= 0x9f) ||
		    (prev == 0xf0 && c >= 0x80 && c <= 0x8f)) {
			*why = "an overlong UTF-8 sequence (%C0%AE, %E0%80%AE...)";
			return -EINVAL;
		}
		prev = c;
		if (c == '\\') {
			*why = "a backslash (also written %5C)";
			return -EINVAL;
		}
		if (c == ';') {
			*why = "a ';' (path parameters; also written %3B)";
			return -EINVAL;
		}
		if (c < 0x20 || c == 0x7f || (!escaped && c == ' ')) {
			*why = "a control character";
			return -EINVAL;
		}
		if (!escaped && (c == '#' || c == '?')) {
			*why = c == '#' ? "a fragment ('#')" : "a '?' in the path";
			return -EINVAL;
		}
		seg_len++;
		seg_dots += c == '.';
		seg_spaces += c == ' ';
		if (c == '*' && !escaped && pattern) {
			if (o > seg_start && out[o - 1] == '*') {
				if (seg_glob2) {
					*why =
					    "'***' is no glob ('*' one segment, '**' any number)";
					return -EINVAL;
				}
				seg_glob2 = true;
			}
			if (!put(out, size, &o, '*', true))
				goto too_long;
			continue;
		}
		if (!put(out, size, &o, c, path_raw(c)))
			goto too_long;
	}
	out[o] = '\0';
	if (escaped_again(out, o)) {
		*why = "an escape escaped again (%25XX)";
		return -EINVAL;
	}
	return (int)o;
too_long:
	*why = "a path too long to judge";
	return -E2BIG;
}

/* The query: escapes decoded where that changes nothing ('&', '=', '+'
 * and '%' keep their meaning only as written), '*' the glob in a rule. */
int policy_http_query_canon(const char *in, size_t n, bool pattern, char *out, size_t size,
			    const char **why)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		bool raw;
		if (c == '%') {
			int h = i + 2 < n ? hex_value(in[i + 1]) : -1,
			    l = h >= 0 ? hex_value(in[i + 2]) : -1;
			if (h < 0 || l < 0) {
				*why = "a '%' not followed by two hex digits";
				return -EINVAL;
			}
			c = (unsigned char)(h * 16 + l);
			i += 2;
			raw = c > 0x20 && c < 0x7f && !strchr("&=+#%*", c);
		} else if (c == '#') {
			*why = "a fragment ('#')";
			return -EINVAL;
		} else if (c <= 0x20 || c >= 0x7f) {
			*why = "a control character";
			return -EINVAL;
		} else {
			raw = c != '*' || pattern;
		}
		if (!put(out, size, &o, c, raw))
			goto too_long;
	}
	out[o] = '\0';
	if (escaped_again(out, o)) {
		*why = "an escape escaped again (%25XX)";
		return -EINVAL;
	}
	return (int)o;
too_long:
	*why = "a query too long to judge";
	return -E2BIG;
}

bool policy_http_method_valid(const char *m, size_t n)
{
	if (n == 0 || n > POLICY_HTTP_METHOD_MAX || !isupper((unsigned char)m[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)m[i]) && m[i] != '-' && m[i] != '_')
			return false;
	return true;
}

/*
 * METHODS ("GET,HEAD", or "" for any) and URL into the rule's stored text,
 * "[METHODS ]SCHEME://HOST[:PORT]/PATH[?QUERY]", the form it is printed in
 * and matched from.  0 when URL names no path and there is no method list
 * (a host rule: the caller's); 1 with *RET (malloc'd); -EINVAL with *WHY.
 * Long: one reading of the URL from left to right (scheme, authority,
 * host, path, query), each refusal where a reader meets it.
 */
int policy_http_rule(const char *methods, const char *url, char **ret, const char **why)
{
	static const char *const schemes[] = {"http://", "https://"};
	const char *scheme = NULL, *auth, *aend, *path, *q;
	char host[300], *canon = NULL, *qcanon = NULL, *v = NULL;
	size_t plen;
	int r;

	for (size_t i = 0; i < 2; i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
			scheme = schemes[i];
	if (!scheme && !methods[0])
		return 0; /* the host rule's reader says what is wrong with it */
	if (!scheme) {
		*why = "a method list goes before an http:// or https:// URL";
		return -EINVAL;
	}
	auth = url + strlen(scheme);
	aend = auth + strcspn(auth, "/?#");
	if (strchr(url, '#')) {
		*why = "a URL with a fragment ('#'): the server never sees it";
		return -EINVAL;
	}
	if (memchr(auth, '@', (size_t)(aend - auth))) {
		*why = "a URL with a user name or password: write the host name alone (secrets "
		       "go in a [credential] section)";
		return -EINVAL;
	}
	if (aend == auth || (size_t)(aend - auth) >= sizeof(host)) {
		*why = "a URL without a host";
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(aend - auth), auth);
	if (!policy_domain_rule_valid(host, why))
		return -EINVAL;
	for (char *s = host; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	{
		/* a trailing dot is ignored when matching */
		char *colon = strrchr(host, ':'), *end = colon ? colon : host + strlen(host);
		if (end - host > 1 && end[-1] == '.')
			memmove(end - 1, end, strlen(end) + 1);
	}
	path = aend;
	q = strchr(path, '?');
	plen = q ? (size_t)(q - path) : strlen(path);
	if (!q && (plen == 0 || (plen == 1 && path[0] == '/'))) {
		if (!methods[0])
			return 0; /* the whole host: a host rule */
		path = "/**";
		plen = 3;
	} else if (plen == 0) {
		path = "/";
		plen = 1;
	}
	canon = malloc(4 * plen + 4);
	qcanon = q ? malloc(4 * strlen(q) + 4) : NULL;
	if (!canon || (q && !qcanon)) {
		*why = "out of memory";
		r = -ENOMEM;
		goto out;
	}
	r = policy_http_path_canon(path, plen, true, canon, 4 * plen + 4, why);
	if (r >= 0 && q)
		r = policy_http_query_canon(q + 1, strlen(q + 1), true, qcanon, 4 * strlen(q) + 4,
					    why);
	if (r < 0) {
		r = -EINVAL;
		goto out;
	}
	if (asprintf(&v, "%s%s%s%s%s%s%s", methods, methods[0] ? " " : "", scheme, host, canon,
		     q ? "?" : "", q ? qcanon : "") < 0) {
		*why = "out of memory";
		r = -ENOMEM;
		goto out;
	}
	*ret = v;
	r = 1;
out:
	free(canon);
	free(qcanon);
	return r;
}

int policy_http_rule_split(const char *rule, struct policy_http_rule_parts *ret)
{
	const char *sp = strchr(rule, ' '), *url = sp ? sp + 1 : rule, *auth, *aend, *colon, *q;

	*ret = (struct policy_http_rule_parts){0};
	if (sp) {
		ret->methods = rule;
		ret->methods_len = (size_t)(sp - rule);
	}
	if (strncmp(url, "https://", 8) == 0) {
		ret->https = true;
		auth = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		auth = url + 7;
	} else {
		return -EINVAL;
	}
	aend = strchr(auth, '/');
	if (!aend)
		return -EINVAL;
	colon = memchr(auth, ':', (size_t)(aend - auth));
	ret->host = auth;
	ret->host_len = (size_t)((colon ? colon : aend) - auth);
	ret->port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
	ret->path = aend;
	q = strchr(aend, '?');
	ret->path_len = q ? (size_t)(q - aend) : strlen(aend);
	if (q) {
		ret->query = q + 1;
		ret->query_len = strlen(q + 1);
	}
	return 0;
}
