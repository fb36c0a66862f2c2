/* SPDX-License-Identifier: MIT */
/*
 * The decisions a connection's machines act on, as pure functions: a
 * request's target, the addresses it resolved to, and what a granted
 * tunnel's first bytes make it.  No I/O: the policy, the credentials and
 * the bytes in, a verdict out (tests/unit/test_decide.c).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netproxy_internal.h"
#include "scrub.h"

static bool rule_host(const struct policy_http_rule_parts *pr, bool deny, const char *host,
		      uint16_t port);

void nx_decide_target(const struct nx_decider *d, enum nx_host_kind kind, const char *host,
		      const uint8_t addr[16], uint16_t port, struct nx_target *ret)
{
	ret->cred = NULL;
	ret->hint_kind = HINT_NONE;
	ret->hint[0] = '\0';
	if (d->n_creds) {
		/* a name is looked up, so a placeholder in one leaves by DNS */
		ret->cred = nx_cred_find(d->creds, d->n_creds, host, strlen(host));
		if (ret->cred)
			return;
	}
	nx_decide_host(d->p, kind, host, addr, port, &ret->v);
	if (!ret->v.allow && !ret->v.rule && kind == NX_HOST_NAME) {
		/* a host that method and path rules name is reached; each
		 * request is judged (nx_decide_request) */
		const struct policy_item *it = nx_http_rule_host(d->p, host, port);
		if (it) {
			ret->v.allow = true;
			ret->v.rule = it;
			ret->v.key = "network.allow";
			ret->v.reason = "allowed by [network] allow (each request judged by its "
					"method and path rules)";
			nx_static_address(d->p, host, &ret->v);
		}
	}
	if (ret->v.allow)
		return;
	ret->hint_kind = ret->v.rule ? HINT_DENY : kind == NX_HOST_NAME ? HINT_ALLOW : HINT_CIDR;
	if (ret->v.rule) {
		snprintf(ret->hint, sizeof(ret->hint), "remove the deny rule to allow it");
	} else if (kind == NX_HOST_NAME) {
		if (port == 80 || port == 443)
			snprintf(ret->hint, sizeof(ret->hint),
				 "add %s to [network] allow to allow it", host);
		else
			snprintf(ret->hint, sizeof(ret->hint),
				 "add %s:%u to [network] allow to allow it", host, port);
	} else {
		snprintf(ret->hint, sizeof(ret->hint),
			 "connect by name, or add the address to [network] allow_cidr");
	}
}

bool nx_decide_name(const struct nx_decider *d, const char *host)
{
	const struct policy_list *allow = &d->p->net.allow, *deny = &d->p->net.deny;

	if (d->n_creds && nx_cred_find(d->creds, d->n_creds, host, strlen(host)))
		return false;
	for (size_t i = 0; i < deny->n; i++)
		if (!strchr(deny->items[i].value, ':') &&
		    nx_rule_match(deny->items[i].value, host, 1, true))
			return false; /* refused on every port */
	for (size_t i = 0; i < allow->n; i++) {
		const char *colon = strrchr(allow->items[i].value, ':');
		unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 443;
		if (port > 0 && port <= 65535 &&
		    nx_rule_match(allow->items[i].value, host, (uint16_t)port, false))
			return true;
	}
	if (d->p->net.allow_any)
		return true; /* learning: every name, as the proxy allows */
	/* a host that method and path rules name, on the port they give */
	for (size_t i = 0; i < d->p->net.allow_http.n; i++) {
		struct policy_http_rule_parts pr;
		if (policy_http_rule_split(d->p->net.allow_http.items[i].value, &pr) == 0 &&
		    rule_host(&pr, false, host,
			      pr.port	 ? (uint16_t)pr.port
			      : pr.https ? 443
					 : 80))
			return true;
	}
	return false;
}

int nx_decide_addresses(const struct nx_decider *d, const struct nx_addr *addrs, int n,
			char *reason, size_t size, char addr_text[INET6_ADDRSTRLEN])
{
	for (int i = 0; i < n; i++) {
		const struct policy_item *rule;
		const char *why = nx_check_address(d->p, addrs[i].family, addrs[i].a, &rule);
		if (why) {
			nx_addr_format(addrs[i].family, addrs[i].a, addr_text, INET6_ADDRSTRLEN);
			snprintf(reason, size, "resolves to %s, a %s", addr_text, why);
			return i;
		}
	}
	return -1;
}

bool nx_decide_bound(const struct nx_decider *d, const char *host, uint16_t port)
{
	for (size_t k = 0; k < d->n_creds; k++)
		if (nx_cred_bound(&d->creds[k], host, port))
			return true;
	return false;
}

bool nx_decide_server_first(const struct nx_decider *d, const char *host, uint16_t port)
{
	return !nx_decide_bound(d, host, port) && !nx_decide_ruled(d, host, port) &&
	       nx_list_match(&d->p->net.server_first, host, port);
}

static void act(struct nx_stream_verdict *ret, enum nx_stream_act a, const struct nx_cred *cr)
{
	ret->act = a;
	ret->cred = cr;
}

/* A ClientHello, whole: its server name must be the tunnel's. */
static void decide_tls(const struct nx_decider *d, const char *host, enum nx_host_kind kind,
		       uint16_t port, const uint8_t *buf, size_t n, const char *sni,
		       struct nx_stream_verdict *ret)
{
	char norm[NX_HOST_MAX];
	uint8_t a[16];
	const char *why;

	if (d->n_creds) {
		/* the ClientHello goes out as it is to a host that is not
		 * intercepted: a placeholder of a credential not bound
		 * here must not ride in it (as the ALPN protocol, the
		 * server name, a session ticket) */
		struct nx_cred_ctx x;
		const struct nx_cred *cr;
		nx_cred_ctx_init(&x, d->creds, d->n_creds, host, port);
		cr = nx_cred_foreign(&x, (const char *)buf, n);
		if (cr)
			return act(ret, NX_ACT_CRED, cr);
	}
	/* fronting: a TLS name other than the host the tunnel was
	 * granted for is refused */
	if (sni[0] && (nx_host_normalize(sni, strlen(sni), norm, a, &why) == NX_HOST_INVALID ||
		       strcmp(norm, host) != 0)) {
		snprintf(ret->reason, sizeof(ret->reason), "TLS names %s inside a tunnel to %s",
			 sni, host);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	if (d->can_intercept && (nx_decide_bound(d, host, port) || nx_decide_ruled(d, host, port) ||
				 d->p->net.intercept_all))
		return act(ret, NX_ACT_INTERCEPT,
			   NULL); /* requests are read inside, Host checked */
	if (nx_decide_ruled(d, host, port)) {
		/* its requests must be read, and cannot be */
		snprintf(ret->reason, sizeof(ret->reason),
			 "TLS to %s, which has method and path rules, without interception", host);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	/* no name at all, to a grant made by name: the upstream picks
	 * whatever site it serves by default */
	if (!sni[0] && kind == NX_HOST_NAME &&
	    !nx_list_match(&d->p->net.allow_no_sni, host, port)) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "TLS without a server name inside a tunnel to %s "
			 "([network] allow_no_sni lets it pass)",
			 host);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	act(ret, NX_ACT_TUNNEL, NULL);
}

/* Whether BUF (N bytes) starts as an HTTP/0.9 request does: blank lines
 * (servers skip them), a method of letters, one blank, a target, the line
 * end, and no "HTTP/" (which nx_first_bytes() reads as HTTP). */
static bool http09_request(const uint8_t *buf, size_t n)
{
	size_t i = 0, m;

	while (i < n && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	for (m = i;
	     i < n && ((buf[i] >= 'A' && buf[i] <= 'Z') || (buf[i] >= 'a' && buf[i] <= 'z'));)
		i++;
	if (i == m || i >= n || buf[i] != ' ')
		return false;
	while (i < n && buf[i] == ' ')
		i++;
	m = i;
	while (i < n && buf[i] > ' ' && buf[i] < 0x7f)
		i++;
	return i > m && i < n && (buf[i] == '\r' || buf[i] == '\n' || buf[i] == ' ');
}

/* Whether a credential is bound to HOST on some port: a rule's name alone
 * (a trailing ":PORT" of digits left out) matched as a web port's is. */
static bool bound_on_any_port(const struct nx_decider *d, const char *host)
{
	char name[NX_HOST_MAX + 8];

	for (size_t k = 0; k < d->n_creds; k++)
		for (size_t i = 0; i < d->creds[k].hosts->n; i++) {
			const char *v = d->creds[k].hosts->items[i].value, *c = strrchr(v, ':');
			size_t len = strlen(v);
			if (c && c[1] && strspn(c + 1, "0123456789") == strlen(c + 1) &&
			    !memchr(v, ':', (size_t)(c - v)))
				len = (size_t)(c - v);
			if (len >= sizeof(name))
				continue;
			memcpy(name, v, len);
			name[len] = '\0';
			if (nx_rule_match(name, host, 443, false))
				return true;
		}
	return false;
}

void nx_decide_stream(const struct nx_decider *d, const char *host, enum nx_host_kind kind,
		      uint16_t port, const struct nx_verdict *v, const uint8_t *buf, size_t n,
		      bool final, struct nx_stream_verdict *ret)
{
	char sni[NX_HOST_MAX];
	enum nx_stream k = nx_first_bytes(buf, n, final, sni);

	ret->reason[0] = '\0';
	switch (k) {
	case NX_STREAM_MORE:
		return act(ret, NX_ACT_MORE, NULL);
	case NX_STREAM_TLS_BAD:
		snprintf(ret->reason, sizeof(ret->reason), "a malformed TLS ClientHello");
		return act(ret, NX_ACT_REFUSE, NULL);
	case NX_STREAM_UNENDED:
		snprintf(ret->reason, sizeof(ret->reason),
			 "a first line that does not end within %zu bytes", n);
		return act(ret, NX_ACT_REFUSE, NULL);
	case NX_STREAM_TLS:
		return decide_tls(d, host, kind, port, buf, n, sni, ret);
	case NX_STREAM_HTTP:
		/* every request in it is read, its Host must be the tunnel's */
		return act(ret, NX_ACT_HTTP, NULL);
	case NX_STREAM_OTHER:
	default:
		break;
	}
	/* neither TLS nor HTTP */
	if (nx_decide_ruled(d, host, port)) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "neither TLS nor HTTP to %s, which has method and path rules", host);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	if (nx_web_grant(v)) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "neither TLS nor HTTP to port %u, allowed only as a web port "
			 "(allow %s:%u lets other protocols through)",
			 port, host, port);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	if (d->n_creds) {
		/* the first bytes of an opaque stream must not carry a placeholder */
		const struct nx_cred *cr = nx_cred_find(d->creds, d->n_creds, (const char *)buf, n);
		if (cr)
			return act(ret, NX_ACT_CRED, cr);
	}
	if (nx_decide_bound(d, host, port) ||
	    (bound_on_any_port(d, host) && http09_request(buf, n))) {
		/* spliced, its responses would never be scanned: a secret
		 * stored there read back through it (HTTP/0.9's "GET /x",
		 * which has no "HTTP/" to be read as HTTP), on the bound port,
		 * or in HTTP/0.9 on another of the same name (its storage is
		 * the same); SSH and the like to another port (allow =
		 * github.com:22 beside a token bound to github.com) go on */
		snprintf(ret->reason, sizeof(ret->reason),
			 "neither TLS nor HTTP to %s, to which a credential is bound (what it "
			 "answers could not be scanned)",
			 host);
		return act(ret, NX_ACT_REFUSE, NULL);
	}
	act(ret, NX_ACT_TUNNEL, NULL);
}

/* ---- method and path rules ---------------------------------------------- */

/* The glob within one segment (or a query's parameter): '*' any run of
 * bytes. */
bool nx_glob_chars(const char *p, size_t pn, const char *s, size_t sn, bool icase)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star_p = ++pi;
			star_s = si;
			continue;
		}
		if (pi < pn &&
		    (icase ? tolower((unsigned char)p[pi]) == tolower((unsigned char)s[si])
			   : p[pi] == s[si])) {
			pi++;
			si++;
			continue;
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

/* Segments of a path are at positions after a '/'; past the last is N + 1. */
static size_t seg_end(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] != '/')
		i++;
	return i;
}

static size_t seg_next(size_t n, size_t end)
{
	return end < n ? end + 1 : n + 1;
}

/* Greedy, with one backtrack point: what '**' last stood for grows by one
 * segment at a time, as '*' does in nx_glob_chars(). */
bool nx_path_glob(const char *pat, size_t pn, const char *path, size_t sn, bool icase)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	if (!pn || !sn || pat[0] != '/' || path[0] != '/')
		return false;
	pat++, pn--, path++, sn--; /* both start with '/' */
	while (si <= sn) {
		if (pi <= pn) {
			size_t pe = seg_end(pat, pn, pi), se = seg_end(path, sn, si);
			if (pe - pi == 2 && pat[pi] == '*' && pat[pi + 1] == '*') {
				star_p = pi = seg_next(pn, pe);
				star_s = si;
				continue;
			}
			if (nx_glob_chars(pat + pi, pe - pi, path + si, se - si, icase)) {
				pi = seg_next(pn, pe);
				si = seg_next(sn, se);
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		star_s = seg_next(sn, seg_end(path, sn, star_s));
		si = star_s;
		pi = star_p;
	}
	while (pi <= pn) {
		size_t pe = seg_end(pat, pn, pi);
		if (pe - pi != 2 || pat[pi] != '*' || pat[pi + 1] != '*')
			return false;
		pi = seg_next(pn, pe);
	}
	return true;
}

/* DENY: in any letter case, and HEAD where the list names GET, as
 * frameworks (Express, Flask, Rails, Django) run the GET handler for a
 * HEAD, query and all.  An allow rule takes HEAD only where it lists it. */
static bool method_in(const char *list, size_t n, const char *m, size_t mlen, bool deny)
{
	size_t i = 0;
	const bool icase = deny;

	if (!list)
		return true;
	if (deny && mlen == 4 && strncasecmp(m, "HEAD", 4) == 0 &&
	    method_in(list, n, "GET", 3, true))
		return true;
	while (i < n) {
		size_t e = i;
		while (e < n && list[e] != ',')
			e++;
		if (e - i == mlen &&
		    (icase ? strncasecmp(list + i, m, mlen) == 0 : memcmp(list + i, m, mlen) == 0))
			return true;
		i = e + 1;
	}
	return false;
}

/* The host of a rule's text: an allow rule's port is the scheme's unless
 * it names one; a deny rule's every port unless it names one (a deny rule
 * is never narrower than it reads). */
static bool rule_host(const struct policy_http_rule_parts *pr, bool deny, const char *host,
		      uint16_t port)
{
	char h[NX_HOST_MAX + 16];

	if (pr->host_len >= NX_HOST_MAX)
		return false;
	if (pr->port)
		snprintf(h, sizeof(h), "%.*s:%u", (int)pr->host_len, pr->host, pr->port);
	else if (deny)
		snprintf(h, sizeof(h), "%.*s", (int)pr->host_len, pr->host);
	else
		snprintf(h, sizeof(h), "%.*s:%u", (int)pr->host_len, pr->host,
			 pr->https ? 443 : 80);
	return nx_rule_match(h, host, port, deny);
}

static bool any_rule_for(const struct policy_list *l, bool deny, const char *host, uint16_t port)
{
	struct policy_http_rule_parts pr;

	for (size_t i = 0; i < l->n; i++)
		if (policy_http_rule_split(l->items[i].value, &pr) == 0 &&
		    rule_host(&pr, deny, host, port))
			return true;
	return false;
}

const struct policy_item *nx_http_rule_host(const struct policy *p, const char *host, uint16_t port)
{
	struct policy_http_rule_parts pr;

	for (size_t i = 0; i < p->net.allow_http.n; i++)
		if (policy_http_rule_split(p->net.allow_http.items[i].value, &pr) == 0 &&
		    rule_host(&pr, false, host, port))
			return &p->net.allow_http.items[i];
	return NULL;
}

bool nx_decide_ruled(const struct nx_decider *d, const char *host, uint16_t port)
{
	return (d->p->net.allow_http.n || d->p->net.deny_http.n) &&
	       (any_rule_for(&d->p->net.allow_http, false, host, port) ||
		any_rule_for(&d->p->net.deny_http, true, host, port));
}

/* A path as routers take it: without one trailing empty segment (Express,
 * Rails, Spring MVC before 6 serve /a/ as /a), each segment without its
 * trailing dots and spaces (IIS and Windows file systems drop them), a
 * segment that would be left empty kept as it is.  OUT holds N + 1 bytes. */
static size_t route_form(const char *in, size_t n, char *out)
{
	size_t o = 0, seg = 0;

	if (n > 1 && in[n - 1] == '/')
		n--;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || in[i] == '/') {
			size_t e = o;
			for (;;) {
				if (e > seg && out[e - 1] == '.')
					e--;
				else if (e >= seg + 3 && memcmp(out + e - 3, "%20", 3) == 0)
					e -= 3;
				else
					break;
			}
			if (e > seg)
				o = e;
			if (i < n) {
				out[o++] = '/';
				seg = o;
			}
			continue;
		}
		out[o++] = in[i];
	}
	out[o] = '\0';
	return o;
}

/* A deny rule matches the path as it is or as routers take it: both in
 * route_form(), so that a rule written /a/ also meets /a; and the path
 * without a format suffix on its last segment, cut at a dot but a leading
 * one: Rails routes /admin(.:format), so /admin.json is /admin,
 * and Spring MVC before 5.3 matched /admin.* to /admin (suffix patterns:
 * /report.pdf.json is /report.pdf, and /report, there).  Found by an
 * outside review. */
static bool deny_path(const char *pat, size_t pn, const char *path, size_t sn)
{
	char rp[NX_PATH_MAX + 1], rs[NX_PATH_MAX + 1];
	size_t rpn, rsn, last;

	if (nx_path_glob(pat, pn, path, sn, true))
		return true;
	if (pn > NX_PATH_MAX || sn > NX_PATH_MAX)
		return false; /* longer than any path judged */
	rpn = route_form(pat, pn, rp);
	rsn = route_form(path, sn, rs);
	if (nx_path_glob(rp, rpn, rs, rsn, true))
		return true;
	/* cut at the first dot, at the last (Rails' format), and at the one
	 * after as many as the rule's own last segment holds (Spring's .*
	 * after the pattern): three matches at most, not one a dot (an
	 * outside review timed 218 ms a request on a path of dots against
	 * twenty rules) */
	size_t cut[3] = {0, 0, 0}, d = 0, seen = 0;
	for (size_t i = rpn; i > 0 && rp[i - 1] != '/'; i--)
		d += rp[i - 1] == '.';
	for (last = rsn; last > 0 && rs[last - 1] != '/';)
		last--;
	for (size_t i = last + 1; i < rsn; i++)
		if (rs[i] == '.') {
			if (!cut[0])
				cut[0] = i;
			if (seen++ == d)
				cut[1] = i;
			cut[2] = i;
		}
	for (int k = 0; k < 3; k++)
		if (cut[k] && (k == 0 || cut[k] != cut[0]) &&
		    nx_path_glob(rp, rpn, rs, cut[k], true))
			return true;
	/* a '*' in the rule's last segment may stand for dots, as Spring's
	 * does: /backup-*-full is /backup-2024.01.01-full.tar.gz there, which
	 * no cut above finds; the rule with ".*" after it is what Spring
	 * matches (not after a '*' or a "**" segment, which take any suffix
	 * already; found by an outside review) */
	size_t ls = rpn;
	while (ls > 0 && rp[ls - 1] != '/')
		ls--;
	if (rpn > ls && rp[rpn - 1] != '*' && memchr(rp + ls, '*', rpn - ls) &&
	    rpn + 2 <= NX_PATH_MAX) {
		memcpy(rp + rpn, ".*", 3);
		return nx_path_glob(rp, rpn + 2, rs, rsn, true);
	}
	return false;
}

/* The next parameter of the query S (N bytes) from *I: its start in *P
 * and length in *PN; false past the end.  Parameters end at '&' and at
 * ';' (which some servers split at too); empty ones are passed over. */
static bool next_param(const char *s, size_t n, size_t *i, const char **p, size_t *pn)
{
	while (*i < n && (s[*i] == '&' || s[*i] == ';'))
		(*i)++;
	if (*i >= n)
		return false;
	size_t e = *i;
	while (e < n && s[e] != '&' && s[e] != ';')
		e++;
	*p = s + *i;
	*pn = e - *i;
	*i = e;
	return true;
}

/* The parameter P (N bytes) as PHP names it, into OUT: split at its first
 * '=', escapes and '+' decoded, the name's leading blanks dropped, the
 * name cut at a NUL, at a '[' that a ']' follows (an array), ' ', '.' and
 * another '[' read as '_'; with no '=', as PHP and Flask read a bare name
 * (present, empty), "=" after it, or "=*" for a rule's (any value).  Its
 * length, or 0 when OUT is too small (not judged this way then). */
static size_t param_norm(const char *p, size_t n, bool rule, char *out, size_t size)
{
	const char *eq = memchr(p, '=', n);
	size_t name_n = eq ? (size_t)(eq - p) : n, o = 0;
	bool lead = true, cut = false;

	for (size_t i = 0; i < n; i++) {
		bool in_name = i < name_n;
		int c = (unsigned char)p[i];
		if (i == name_n) {
			c = '=';
		} else if (c == '%' && i + 2 < n && hex_value((unsigned char)p[i + 1]) >= 0 &&
			   hex_value((unsigned char)p[i + 2]) >= 0) {
			c = hex_value((unsigned char)p[i + 1]) * 16 +
			    hex_value((unsigned char)p[i + 2]);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (in_name) {
			if (cut || (lead && c == ' '))
				continue;
			lead = false;
			if (c == '\0' || (c == '[' && memchr(p + i, ']', name_n - i))) {
				cut = true;
				continue;
			}
			if (c == ' ' || c == '.' || c == '[')
				c = '_';
		}
		if (o + 1 >= size)
			return 0;
		out[o++] = (char)c;
	}
	if (!eq) {
		if (o + 3 >= size)
			return 0;
		out[o++] = '=';
		if (rule)
			out[o++] = '*';
	}
	return o;
}

/* Whether the query Q (QN bytes, normal form) has a parameter the glob P
 * (PN bytes) matches as PHP names both (a deny rule's only: an outside
 * review: `de.bug=1`, `de+bug=1`, `de[bug=1`, `%20de_bug=1`,
 * `de_bug%00x=1` are PHP's de_bug, a bare `admin` Flask's and PHP's admin,
 * and passed `deny ...?de_bug=1` and `?admin=*`).  Its own function: the
 * two buffers are set up (zeroed, by the build's flags) only for it. */
static bool query_has_php(const char *q, size_t qn, const char *p, size_t pn)
{
	char pnorm[NX_PATH_MAX + 2], anorm[NX_PATH_MAX + 2];
	size_t pnn = param_norm(p, pn, true, pnorm, sizeof(pnorm)), an, ann, i = 0;
	const char *a;

	while (pnn && next_param(q, qn, &i, &a, &an))
		if ((ann = param_norm(a, an, false, anorm, sizeof(anorm))) &&
		    nx_glob_chars(pnorm, pnn, anorm, ann, true))
			return true;
	return false;
}

/* Whether the query Q (QN bytes, normal form) has a parameter the glob
 * P (PN bytes) matches: as sent, or (a deny rule's) as PHP names it. */
static bool query_has(const char *q, size_t qn, const char *p, size_t pn, bool deny)
{
	const char *a;
	size_t an, i = 0;

	while (next_param(q, qn, &i, &a, &an))
		if (nx_glob_chars(p, pn, a, an, deny))
			return true;
	return deny && query_has_php(q, qn, p, pn);
}

/*
 * A rule's query against a request's, parameter by parameter, as servers
 * read a query (by name, in any order): compared as one string, `deny =
 * GET https://h/search?debug=1` missed `?x=1&debug=1`, `?debug=1&` and
 * `?&debug=1`, and an allow rule's `id=*` took `&action=delete` after it
 * (an outside review).  A deny rule meets a request holding a parameter
 * for each of its own, whatever else it holds; an allow rule one holding
 * a parameter for each of its own and none but those its own match (a
 * second `action=` matches `action=read` only if it reads so).
 */
static bool query_match(const char *rq, size_t rn, const char *q, size_t qn, bool deny)
{
	const char *a;
	size_t an, i = 0;

	while (next_param(rq, rn, &i, &a, &an))
		if (!query_has(q, qn, a, an, deny))
			return false;
	if (deny)
		return true;
	i = 0;
	while (next_param(q, qn, &i, &a, &an)) {
		const char *b;
		size_t bn, k = 0;
		bool mine = false;
		while (!mine && next_param(rq, rn, &k, &b, &bn))
			mine = nx_glob_chars(b, bn, a, an, false);
		if (!mine)
			return false;
	}
	return true;
}

const struct policy_item *nx_http_rule_match(const struct policy_list *l, bool deny,
					     const char *host, uint16_t port, const char *method,
					     size_t mlen, const char *path, size_t plen,
					     const char *query, size_t qlen)
{
	struct policy_http_rule_parts pr;

	for (size_t i = 0; i < l->n; i++) {
		if (policy_http_rule_split(l->items[i].value, &pr) < 0 ||
		    !rule_host(&pr, deny, host, port) ||
		    !method_in(pr.methods, pr.methods_len, method, mlen, deny) ||
		    !(deny ? deny_path(pr.path, pr.path_len, path, plen)
			   : nx_path_glob(pr.path, pr.path_len, path, plen, false)))
			continue;
		if (pr.query && !query_match(pr.query, pr.query_len, query ? query : "",
					     query ? qlen : 0, deny))
			continue;
		return &l->items[i];
	}
	return NULL;
}

/*
 * A request to HOST:PORT with method and path rules: the deny rules, then a
 * host rule that allows the whole host, then the allow rules.  The target
 * (origin-form, or what follows an absolute URI's authority) is judged in
 * its normal form (policy/httprule.c); a form servers read differently is
 * refused, never guessed.
 * Long: the normal form, the three lists and the answer's words.
 */
/* Headers some servers and frameworks take for the method or the path
 * (Symfony, IIS URL Rewrite, Rack, Google's APIs): the request line the
 * rules judged would not be the one served. */
static const char *const override_headers[] = {
    "x-http-method-override", "x-http-method", "x-method-override",
    "x-original-url",	      "x-rewrite-url", "x-original-method",
};

/* Whether the header name N (LEN bytes) is NAME, letter case aside and any
 * other byte but a letter or digit taken for a '-': CGI, PHP and WSGI
 * servers pass X_HTTP_METHOD_OVERRIDE (or X.HTTP.Method.Override) on as
 * X-HTTP-Method-Override is (all HTTP_X_HTTP_METHOD_OVERRIDE). */
static bool header_is(const char *n, size_t len, const char *name)
{
	if (len != strlen(name))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = isalnum((unsigned char)n[i]) ? (char)tolower((unsigned char)n[i]) : '-';
		if (c != name[i])
			return false;
	}
	return true;
}

static const char *override_header(const struct nx_header *hs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(override_headers) / sizeof(override_headers[0]); k++)
			if (header_is(hs[i].name, hs[i].name_len, override_headers[k]))
				return override_headers[k];
	return NULL;
}

/* Whether the query Q (LEN bytes, as sent) has a parameter PHP reads as
 * _method: escapes and '+' decoded, leading blanks dropped, ' ' and '.'
 * read as '_', what follows a '[' dropped, letter case aside; parameters
 * split at '&' and ';' (a review of the first form: `.method`,
 * `%20_method`, `x=1;_method`, `_method[]` passed).  Symfony and Laravel
 * take it for the method of a POST. */
static bool override_param(const char *q, size_t len)
{
	static const char want[] = "_method";

	for (size_t i = 0; i < len;) {
		size_t k = 0;
		bool same = true, lead = true, cut = false;
		while (i < len && q[i] != '&' && q[i] != ';' && q[i] != '=') {
			int c = (unsigned char)q[i];
			if (c == '%' && i + 2 < len && isxdigit((unsigned char)q[i + 1]) &&
			    isxdigit((unsigned char)q[i + 2])) {
				char hex[3] = {q[i + 1], q[i + 2], 0};
				c = (int)strtol(hex, NULL, 16);
				i += 2;
			} else if (c == '+') {
				c = ' ';
			}
			i++;
			if (cut || (lead && c == ' '))
				continue;
			lead = false;
			if (c == '[') {
				cut = true;
				continue;
			}
			if (c == ' ' || c == '.')
				c = '_';
			same = same && k < sizeof(want) - 1 && tolower(c) == want[k];
			k++;
		}
		if (same && k == sizeof(want) - 1)
			return true;
		while (i < len && q[i] != '&' && q[i] != ';')
			i++;
		i++;
	}
	return false;
}

void nx_decide_request(const struct nx_decider *d, const char *host, uint16_t port, bool tls,
		       const char *method, size_t mlen, const char *target, size_t tlen,
		       const struct nx_header *hs, size_t n_hs, struct nx_req_verdict *ret)
{
	char path[NX_PATH_MAX], query[NX_PATH_MAX], shown[720];
	const char *q = memchr(target, '?', tlen), *why;
	size_t plen = q ? (size_t)(q - target) : tlen;
	int pl, ql = 0;
	const struct policy_item *it;
	char port_text[8] = "";

	ret->ruled = nx_decide_ruled(d, host, port);
	ret->allow = true;
	ret->rule = NULL;
	ret->reason[0] = ret->hint[0] = '\0';
	if (!ret->ruled)
		return;
	ret->allow = false;
	if ((why = override_header(hs, n_hs))) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "%.*s with %s (taken for the method or path by some servers) to a host "
			 "with method and path rules",
			 (int)mlen, method, why);
		snprintf(ret->hint, sizeof(ret->hint),
			 "no rule can allow it: send the request "
			 "without that header");
		return;
	}
	if (q && override_param(q + 1, tlen - plen - 1)) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "%.*s with a _method parameter (taken for the method by some servers) to "
			 "a host with method and path rules",
			 (int)mlen, method);
		snprintf(ret->hint, sizeof(ret->hint),
			 "no rule can allow it: send the request with its own method");
		return;
	}
	if (tlen == 1 && target[0] == '*') {
		snprintf(ret->reason, sizeof(ret->reason),
			 "%.*s * (the asterisk form) to a host with method and path rules",
			 (int)mlen, method);
		snprintf(ret->hint, sizeof(ret->hint), "no rule can allow it");
		return;
	}
	if (plen == 0)
		pl = policy_http_path_canon("/", 1, false, path, sizeof(path), &why);
	else
		pl = policy_http_path_canon(target, plen, false, path, sizeof(path), &why);
	if (pl >= 0 && q)
		ql = policy_http_query_canon(q + 1, tlen - plen - 1, false, query, sizeof(query),
					     &why);
	if (pl < 0 || ql < 0) {
		snprintf(ret->reason, sizeof(ret->reason),
			 "%.*s %.*s: %s in the path, which servers read differently, to a host "
			 "with method and path rules",
			 (int)mlen, method, (int)(plen > 200 ? 200 : plen), target, why);
		snprintf(ret->hint, sizeof(ret->hint),
			 "no rule can allow it: send the path in "
			 "its plain form");
		return;
	}
	it = nx_http_rule_match(&d->p->net.deny_http, true, host, port, method, mlen, path,
				(size_t)pl, q ? query : NULL, (size_t)ql);
	if (it) {
		ret->rule = it;
		snprintf(ret->reason, sizeof(ret->reason), "%.*s %.*s denied by [network] deny %s",
			 (int)mlen, method, pl > 200 ? 200 : pl, path, it->value);
		snprintf(ret->hint, sizeof(ret->hint), "remove the deny rule to allow it");
		return;
	}
	it = nx_list_match(&d->p->net.allow, host, port);
	if (!it)
		it = nx_http_rule_match(&d->p->net.allow_http, false, host, port, method, mlen,
					path, (size_t)pl, q ? query : NULL, (size_t)ql);
	if (it) {
		ret->allow = true;
		ret->rule = it;
		snprintf(ret->reason, sizeof(ret->reason), "allowed by [network] allow %s",
			 it->value);
		return;
	}
	if (port != (tls ? 443 : 80))
		snprintf(port_text, sizeof(port_text), ":%u", port);
	/* the rule that would allow it: the request's own method and path,
	 * its '*' written %2A (a literal, not the glob) */
	snprintf(shown, sizeof(shown), "%.*s%s", pl > 700 ? 700 : pl, path, pl > 700 ? "/**" : "");
	snprintf(ret->reason, sizeof(ret->reason), "%.*s %.*s is not in [network] allow", (int)mlen,
		 method, pl > 200 ? 200 : pl, path);
	snprintf(ret->hint, sizeof(ret->hint),
		 "add %.*s %s://%s%s%s to [network] allow to allow it", (int)mlen, method,
		 tls ? "https" : "http", host, port_text, shown);
}

bool netproxy_rules_need_tls(const struct policy *p)
{
	const struct policy_list *lists[2] = {&p->net.allow_http, &p->net.deny_http};
	struct policy_http_rule_parts pr;

	/* any rule that can meet a port plain HTTP is not on */
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < lists[k]->n; i++)
			if (policy_http_rule_split(lists[k]->items[i].value, &pr) == 0 &&
			    (pr.https || (pr.port ? pr.port != 80 : k == 1)))
				return true;
	return false;
}
