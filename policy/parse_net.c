/* SPDX-License-Identifier: MIT */
/*
 * The network's values (parse.c has the picture): host rules (a domain
 * name and a port, or a URL naming them), method and path rules (their
 * normal form is httprule.c's), addresses and CIDR blocks, the
 * NAME=ADDRESS pairs of [network] hosts.  policy_domain_rule_valid(),
 * policy_url_rule() and policy_cidr_valid() are policy.h's: expand.c
 * judges the command line's grants with them.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "../common/macros.h"
#include "parse_internal.h"

/* ---- domains, addresses -------------------------------------------------- */

static bool is_ip_literal(const char *s)
{
	unsigned char buf[16];
	char tmp[64];
	size_t n = strlen(s);

	if (n >= sizeof(tmp))
		return false;
	if (s[0] == '[' && n > 2 && s[n - 1] == ']') {
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		return inet_pton_any(tmp, buf);
	}
	return inet_pton_any(s, buf);
}

/* The labels of a domain name, from LABEL (past a leading "*.") to its
 * end: each 1 to 63 letters, digits, '-' and '_', at least one. */
static bool labels_valid(const char *label, const char **why)
{
	int labels = 0;
	while (*label) {
		const char *dot = strchr(label, '.');
		size_t len = dot ? (size_t)(dot - label) : strlen(label);
		if (len == 0 || len > 63) {
			*why = "each part of a domain name is 1 to 63 characters";
			return false;
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)label[i];
			if (ch == '*') {
				*why = "'*' is allowed only as the whole first label, as in "
				       "*.example.com";
				return false;
			}
			if (!(isalnum(ch) || ch == '-' || ch == '_')) {
				*why = "a domain name has letters, digits, '-' and '.' only";
				return false;
			}
		}
		if (label[0] == '-' || label[len - 1] == '-') {
			*why = "a domain label cannot start or end with '-'";
			return false;
		}
		labels++;
		label += len + (dot ? 1 : 0);
		if (dot && !*label) {
			*why = "empty label in domain name";
			return false;
		}
	}
	if (labels == 0) {
		*why = "not a domain name";
		return false;
	}
	return true;
}

bool policy_domain_rule_valid(const char *value, const char **why)
{
	char host[300];
	const char *colon;
	size_t hlen;

	for (const char *s = value; *s; s++)
		if ((unsigned char)*s >= 0x80) {
			*why = "non-ASCII names are refused: write the punycode form (xn--...)";
			return false;
		}
	colon = strrchr(value, ':');
	if (colon && value[0] == '[') {
		*why = "IP addresses are matched only by allow_cidr";
		return false;
	}
	if (colon && strchr(value, ':') != colon) {
		*why = "IP addresses are matched only by allow_cidr";
		return false;
	}
	hlen = colon ? (size_t)(colon - value) : strlen(value);
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "not a domain name";
		return false;
	}
	memcpy(host, value, hlen);
	host[hlen] = '\0';
	if (hlen > 1 && host[hlen - 1] == '.')
		host[--hlen] = '\0';
	if (colon) {
		char *end;
		unsigned long port;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (!isdigit((unsigned char)colon[1]) || *end || errno || port < 1 ||
		    port > 65535) {
			*why = "the port must be a number from 1 to 65535";
			return false;
		}
	}
	if (is_ip_literal(host)) {
		*why = "IP addresses are matched only by allow_cidr";
		return false;
	}
	const char *label = host;
	if (strncmp(host, "*.", 2) == 0)
		label = host + 2;
	if (hlen > 253) {
		*why = "a domain name is at most 253 characters";
		return false;
	}
	return labels_valid(label, why);
}

/*
 * allow = https://api.example.com/ is what one copies from documentation:
 * the scheme gives the port (http 80, https 443) unless the URL names one.
 * A host rule matches a host and a port, never a path, so a URL with a
 * path, query or fragment is refused here rather than silently widened to
 * the whole host ([network] allow and deny try policy_http_rule() first:
 * there it is a method and path rule); so is one with user information (a
 * secret does not belong in a policy) or a scheme whose port is not implied.
 */
int policy_url_rule(const char *value, char *out, size_t size, const char **why)
{
	static const struct {
		const char *scheme;
		unsigned port;
	} schemes[] = {{"http://", 80}, {"https://", 443}};
	const char *sep = strstr(value, "://"), *auth = NULL, *end;
	unsigned port = 0;
	size_t n;

	if (!sep)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strncasecmp(value, schemes[i].scheme, strlen(schemes[i].scheme)) == 0) {
			auth = value + strlen(schemes[i].scheme);
			port = schemes[i].port;
		}
	if (!auth) {
		*why = "only http:// and https:// URLs name a port; for another protocol write "
		       "HOST:PORT";
		return -EINVAL;
	}
	end = auth + strcspn(auth, "/?#");
	n = (size_t)(end - auth);
	if (memchr(auth, '@', n)) {
		*why = "a URL with a user name or password: write the host name alone (secrets "
		       "go in a [credential] section)";
		return -EINVAL;
	}
	if (*end == '?' || *end == '#' || (*end == '/' && end[1] != '\0')) {
		*why = "a host rule, not a path or query: write the URL without them to allow "
		       "the whole host (method and path rules go in a policy's [network] allow)";
		return -EINVAL;
	}
	if (n == 0) {
		*why = "a URL without a host";
		return -EINVAL;
	}
	/* an explicit port stands; the validator checks it */
	if (auth[0] != '[' && memchr(auth, ':', n)) {
		if ((size_t)snprintf(out, size, "%.*s", (int)n, auth) >= size)
			goto too_long;
	} else if ((size_t)snprintf(out, size, "%.*s:%u", (int)n, auth, port) >= size) {
		goto too_long;
	}
	if (!policy_domain_rule_valid(out, why))
		return -EINVAL;
	return 1;
too_long:
	*why = "a domain name is at most 253 characters";
	return -EINVAL;
}

int parse_tok_domain(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *why;

	if (strstr(tok, "://"))
		return parse_fail(c, key,
				  "'%s': a URL is accepted in [network] allow only: write the "
				  "host name (HOST or HOST:PORT)",
				  tok);
	if (strchr(tok, '/'))
		return parse_fail(c, key,
				  "'%s': a host rule is not a path (a method and path rule is "
				  "a URL: https://HOST/PATH)",
				  tok);
	if (!policy_domain_rule_valid(tok, &why))
		return parse_fail(c, key, "'%s': %s", tok, why);
	for (char *s = tok; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	/* a trailing dot is ignored when matching: store the name without it */
	char *colon = strrchr(tok, ':');
	char *end = colon ? colon : tok + strlen(tok);
	if (end - tok > 1 && end[-1] == '.')
		memmove(end - 1, end, strlen(end) + 1);
	return parse_add_to_list(c, ud, tok, false);
}

/* allow: a host rule, or a URL naming one (policy_url_rule). */
static int tok_allow(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	char rule[300];
	const char *why;
	int r = policy_url_rule(tok, rule, sizeof(rule), &why);

	if (r < 0)
		return parse_fail(c, key, "'%s': %s", tok, why);
	return parse_tok_domain(c, key, r > 0 ? rule : tok, ud);
}

/*
 * allow and deny: host rules, and method and path rules.  A method list is
 * the upper-case tokens before an http:// or https:// URL ("GET,HEAD
 * https://api.example.com/user", or the same quoted as one token); a URL
 * with a path or query, or after a method list, is a path rule
 * (policy_http_rule()); anything else is a host rule as before.
 */
struct net_rules {
	struct policy_list *hosts, *http;
	bool deny;
	char methods[256]; /* the list waiting for its URL */
};

static int add_method(struct parse_ctx *c, const char *key, struct net_rules *x, const char *m,
		      size_t n)
{
	size_t have = strlen(x->methods);

	if (!policy_http_method_valid(m, n))
		return parse_fail(
		    c, key, "'%.*s' is not an upper-case method name (GET, POST, ...)", (int)n, m);
	if (have + n + 2 >= sizeof(x->methods))
		return parse_fail(c, key, "method list too long");
	snprintf(x->methods + have, sizeof(x->methods) - have, "%s%.*s", have ? "," : "", (int)n,
		 m);
	return 1;
}

static int tok_net_rule(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	struct net_rules *x = ud;
	char *sp = strrchr(tok, ' '), *v = NULL;
	const char *why;
	int r;

	if (sp) {
		/* "GET,HEAD https://...", quoted: its own method list */
		char *m = tok;
		*sp = '\0';
		if (x->methods[0])
			return parse_fail(c, key, "'%s': a method list before a quoted one", tok);
		while (*m) {
			size_t n = strcspn(m, " \t,");
			if (n && !add_method(c, key, x, m, n))
				return 0;
			m += n;
			m += strspn(m, " \t,");
		}
		tok = sp + 1;
		if (!strstr(tok, "://"))
			return parse_fail(
			    c, key, "'%s': a method list goes before an http:// or https:// URL",
			    tok);
	}
	if (!strstr(tok, "://") && !strchr(tok, ':') && !strchr(tok, '.') &&
	    policy_http_method_valid(tok, strlen(tok)))
		return add_method(c, key, x, tok, strlen(tok));
	if (strstr(tok, "://")) {
		r = policy_http_rule(x->methods, tok, &v, &why);
		x->methods[0] = '\0';
		if (r < 0)
			return parse_fail(c, key, "'%s': %s", tok, why);
		if (r > 0) {
			r = parse_add_to_list(c, x->http, v, false);
			free(v);
			return r;
		}
		if (x->deny)
			return parse_fail(c, key,
					  "'%s': a URL in [network] deny names a path "
					  "(https://HOST/PATH); to deny the whole host write HOST",
					  tok);
		return tok_allow(c, key, tok, x->hosts);
	}
	{
		/* "get https://...": a method meant, a host read */
		static const char *const methods[] = {"get",	"head",	 "post",   "put",
						      "delete", "patch", "options"};
		for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
			if (strcasecmp(tok, methods[i]) == 0)
				return parse_fail(c, key, "'%s': a method is written in upper case",
						  tok);
	}
	if (x->methods[0])
		return parse_fail(
		    c, key, "'%s': a method list goes before an http:// or https:// URL", tok);
	return x->deny ? parse_tok_domain(c, key, tok, x->hosts) : tok_allow(c, key, tok, x->hosts);
}

int parse_net_rules(struct parse_ctx *c, const char *key, const char *value,
		    struct policy_list *hosts, struct policy_list *http, bool deny)
{
	struct net_rules x = {.hosts = hosts, .http = http, .deny = deny};

	if (!parse_for_each_token(c, key, value, true, tok_net_rule, &x))
		return 0;
	if (x.methods[0])
		return parse_fail(c, key,
				  "the method list %s has no http:// or https:// URL after it",
				  x.methods);
	return 1;
}

/* server_first = HOST:PORT: a protocol where the server speaks first has
 * a port of its own; on the web ports the client always speaks first. */
int parse_tok_server_first(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *colon = strrchr(tok, ':');
	unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 0;
	const char *why;

	if (!policy_domain_rule_valid(tok, &why))
		return parse_fail(c, key, "'%s': %s", tok, why);
	if (!colon)
		return parse_fail(c, key, "'%s' needs a port (HOST:PORT)", tok);
	if (port == 80 || port == 443)
		return parse_fail(c, key, "'%s': on ports 80 and 443 the client speaks first", tok);
	return parse_tok_domain(c, key, tok, ud);
}

bool policy_cidr_valid(const char *value, const char **why)
{
	unsigned char addr[16];
	char tmp[64];
	const char *slash = strchr(value, '/');
	size_t alen = slash ? (size_t)(slash - value) : strlen(value);
	int family;

	*why = "not an address or CIDR block";
	if (alen == 0 || alen >= sizeof(tmp))
		return false;
	memcpy(tmp, value, alen);
	tmp[alen] = '\0';
	family = inet_pton_any(tmp, addr);
	if (!family)
		return false;
	if (slash) {
		char *end;
		unsigned long bits;
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || errno ||
		    bits > (family == 4 ? 32UL : 128UL)) {
			*why = family == 4 ? "the prefix length must be 0 to 32"
					   : "the prefix length must be 0 to 128";
			return false;
		}
	}
	return true;
}

int parse_tok_cidr(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *why;

	if (!policy_cidr_valid(tok, &why))
		return parse_fail(c, key, strstr(why, "prefix") ? "'%s': %s" : "'%s' is %s", tok,
				  why);
	return parse_add_to_list(c, ud, tok, false);
}

int parse_tok_hosts(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	unsigned char addr[16];
	char *eq = strchr(tok, '=');
	const char *why;

	if (!eq)
		return parse_fail(c, key, "'%s' is not NAME=ADDRESS", tok);
	*eq = '\0';
	if (strchr(tok, '*') || strchr(tok, ':') || !policy_domain_rule_valid(tok, &why)) {
		*eq = '=';
		return parse_fail(c, key, "'%s': the name must be a plain domain name", tok);
	}
	if (!inet_pton_any(eq + 1, addr)) {
		*eq = '=';
		return parse_fail(c, key, "'%s': '%s' is not an IP address", tok, eq + 1);
	}
	*eq = '=';
	for (char *s = tok; s < eq; s++)
		*s = (char)tolower((unsigned char)*s);
	return parse_add_to_list(c, ud, tok, false);
}
