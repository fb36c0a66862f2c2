/* SPDX-License-Identifier: MIT */
/*
 * INI parsing with inih, wrapped for the release Debian 12 ships (55).
 *
 * inih 55 has three traps for a security policy, each handled here and
 * pinned by tests/unit/test_policy.c:
 *  - a line longer than its buffer (INI_MAX_LINE, 200) is split and the tail
 *    parsed as a new line, so a long comment could become a rule.  Our reader
 *    sees the buffer size inih passes it and refuses an over-long line;
 *  - section names longer than 50 bytes are silently truncated: refused;
 *  - the handler is given no line number: our reader counts lines, and inih
 *    calls the handler for a line before it asks for the next one.
 * inih's multi-line continuation (an indented line extends the previous
 * value) would turn an indented "read = /x" into part of another key's
 * value, so the reader strips leading blanks and continuation never happens.
 * The policy is built as a draft and handed out only if every file parsed.
 * These can go when Debian ships an inih with INI_HANDLER_LINENO and heap
 * lines (r56+), though the draft and length checks should stay.
 */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/macros.h"
#include "policy.h"
#include "policy_internal.h"

#define INIH_MAX_SECTION 50

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct parse_ctx {
	struct policy *p;
	struct policy_error *err;
	bool failed;

	const char *file; /* interned in p->files */
	char dir[PATH_MAX];
	const char *buf;
	size_t len, pos;
	unsigned line;
	unsigned section_line; /* line of the last [section] header */
	bool reader_error;

	bool any_setting; /* include must come first */
	int depth;
	struct file_id *stack;

	/* per-file scalar tracking: key id -> line it was set on in THIS file */
	unsigned scalar_line[SCALAR_MAX];
	struct policy_credential *cur_cred;
	char cur_section[INIH_MAX_SECTION + 1];
};

_printf_(3, 4) static int fail(struct parse_ctx *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return 0;
	c->failed = true;
	snprintf(c->err->file, sizeof(c->err->file), "%s", c->file ? c->file : "");
	c->err->line = c->line;
	snprintf(c->err->key, sizeof(c->err->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return 0;
}

void policy_error_format(const struct policy_error *err, char *buf, size_t size)
{
	char where[4200] = "";

	if (err->file[0] && err->line)
		snprintf(where, sizeof(where), "%s:%u: ", err->file, err->line);
	else if (err->file[0])
		snprintf(where, sizeof(where), "%s: ", err->file);
	if (err->key[0])
		snprintf(buf, size, "%s%s: %s", where, err->key, err->msg);
	else
		snprintf(buf, size, "%s%s", where, err->msg);
}

/* ---- did you mean ------------------------------------------------------ */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));
			size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *policy_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

/* ---- lists ------------------------------------------------------------- */

int policy_list_add(struct policy_list *l, const char *value, bool required,
		    struct policy_origin origin)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct policy_item *items = realloc(l->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n].value = strdup(value);
	if (!l->items[l->n].value)
		return -ENOMEM;
	l->items[l->n].required = required;
	l->items[l->n].optional = false;
	l->items[l->n].is_dir = false;
	l->items[l->n].origin = origin;
	l->n++;
	return 0;
}

/*
 * Splits VALUE into tokens separated by blanks (and commas when COMMAS).
 * A token may be double-quoted to hold blanks or commas.  Calls FN per token.
 */
static int for_each_token(struct parse_ctx *c, const char *key, const char *value, bool commas,
			  int (*fn)(struct parse_ctx *c, const char *key, char *tok, void *ud),
			  void *ud)
{
	char tok[PATH_MAX];
	const char *s = value;

	for (;;) {
		size_t n = 0;

		while (*s && (isspace((unsigned char)*s) || (commas && *s == ',')))
			s++;
		if (!*s)
			return 1;
		if (*s == '"') {
			s++;
			while (*s && *s != '"') {
				if (n + 1 >= sizeof(tok))
					return fail(c, key, "value too long");
				tok[n++] = *s++;
			}
			if (*s != '"')
				return fail(c, key, "unterminated quote");
			s++;
			if (*s && !isspace((unsigned char)*s) && !(commas && *s == ','))
				return fail(c, key, "text after a closing quote");
		} else {
			while (*s && !isspace((unsigned char)*s) && !(commas && *s == ',')) {
				if (*s == '"')
					return fail(c, key, "quote in the middle of a value");
				if (n + 1 >= sizeof(tok))
					return fail(c, key, "value too long");
				tok[n++] = *s++;
			}
		}
		tok[n] = '\0';
		if (n == 0)
			return fail(c, key, "empty quoted value");
		if (!fn(c, key, tok, ud))
			return 0;
	}
}

static struct policy_origin here(struct parse_ctx *c)
{
	return (struct policy_origin){.file = c->file, .line = c->line};
}

static int add_to_list(struct parse_ctx *c, struct policy_list *l, const char *tok, bool required)
{
	if (policy_list_add(l, tok, required, here(c)) < 0)
		return fail(c, NULL, "out of memory");
	return 1;
}

static int check_path(struct parse_ctx *c, const char *key, const char *tok)
{
	if (!(tok[0] == '/' || tok[0] == '~' || strncmp(tok, "${", 2) == 0))
		return fail(c, key, "'%s' is not an absolute path (start it with /, ~ or ${CWD})",
			    tok);
	if (tok[0] == '~' && tok[1] != '\0' && tok[1] != '/')
		return fail(c, key, "'%s': only ~ and ~/... are understood, not ~user", tok);
	return 1;
}

/* A leading '!' makes a path required (missing: refuse to start); a
 * leading '?' optional, for grants only (missing: skipped without a word). */
static int tok_path(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	bool required = false, optional = false;
	bool grant = strcmp(key, "filesystem.read") == 0 || strcmp(key, "filesystem.exec") == 0 ||
		     strcmp(key, "filesystem.write") == 0;

	if (tok[0] == '!') {
		required = true;
		tok++;
	} else if (tok[0] == '?') {
		if (!grant)
			return fail(c, key,
				    "'%s': a leading '?' (optional) is for read, exec and "
				    "write grants only",
				    tok);
		optional = true;
		tok++;
	}
	if (tok[0] == '!' || tok[0] == '?')
		return fail(c, key, "'%s': a path is either required (!) or optional (?)", tok - 1);
	if (!check_path(c, key, tok) || !add_to_list(c, ud, tok, required))
		return 0;
	struct policy_list *l = ud;
	size_t n = strlen(tok);
	l->items[l->n - 1].optional = optional;
	/* a deny path written as a directory is held when absent (protect.c) */
	l->items[l->n - 1].is_dir = n > 1 && tok[n - 1] == '/';
	return 1;
}

/* create, private, private_seed: plain paths; a trailing '/' says that a
 * private path is a directory when nothing exists yet to tell. */
static int tok_plain_path(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	size_t n = strlen(tok);

	if (tok[0] == '!' || tok[0] == '?')
		return fail(c, key, "'%s': '%c' has no meaning here", tok, tok[0]);
	if (!check_path(c, key, tok) || !add_to_list(c, ud, tok, false))
		return 0;
	struct policy_list *l = ud;
	l->items[l->n - 1].is_dir = n > 1 && tok[n - 1] == '/';
	return 1;
}

/* private_env = VAR=PATH */
static bool valid_env_name(const char *s, size_t n, bool glob);
static int tok_private_env(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *eq = strchr(tok, '=');

	if (!eq || !valid_env_name(tok, (size_t)(eq - tok), false))
		return fail(c, key, "'%s' is not VAR=PATH", tok);
	if (!check_path(c, key, eq + 1))
		return 0;
	return add_to_list(c, ud, tok, false);
}

static bool valid_env_name(const char *s, size_t n, bool glob)
{
	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!(isalnum(ch) || ch == '_' || (glob && (ch == '*' || ch == '?'))))
			return false;
	}
	return true;
}

static int tok_env_glob(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	if (!valid_env_name(tok, strlen(tok), true))
		return fail(c, key,
			    "'%s' is not a variable name or glob (letters, digits, _, * and ?)",
			    tok);
	return add_to_list(c, ud, tok, false);
}

static int tok_env_set(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *eq = strchr(tok, '=');

	if (!eq || !valid_env_name(tok, (size_t)(eq - tok), false))
		return fail(c, key, "'%s' is not NAME=VALUE", tok);
	return add_to_list(c, ud, tok, false);
}

static int tok_syscall(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	for (const char *s = tok; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return fail(c, key, "'%s' is not a system call name", tok);
	return add_to_list(c, ud, tok, false);
}

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

static int tok_domain(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *why;

	if (strstr(tok, "://"))
		return fail(c, key,
			    "'%s': a URL is accepted in [network] allow only: write the "
			    "host name (HOST or HOST:PORT)",
			    tok);
	if (strchr(tok, '/'))
		return fail(c, key,
			    "'%s': a host rule is not a path (a method and path rule is "
			    "a URL: https://HOST/PATH)",
			    tok);
	if (!policy_domain_rule_valid(tok, &why))
		return fail(c, key, "'%s': %s", tok, why);
	for (char *s = tok; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	/* a trailing dot is ignored when matching: store the name without it */
	char *colon = strrchr(tok, ':');
	char *end = colon ? colon : tok + strlen(tok);
	if (end - tok > 1 && end[-1] == '.')
		memmove(end - 1, end, strlen(end) + 1);
	return add_to_list(c, ud, tok, false);
}

/* allow: a host rule, or a URL naming one (policy_url_rule). */
static int tok_allow(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	char rule[300];
	const char *why;
	int r = policy_url_rule(tok, rule, sizeof(rule), &why);

	if (r < 0)
		return fail(c, key, "'%s': %s", tok, why);
	return tok_domain(c, key, r > 0 ? rule : tok, ud);
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
		return fail(c, key, "'%.*s' is not an upper-case method name (GET, POST, ...)",
			    (int)n, m);
	if (have + n + 2 >= sizeof(x->methods))
		return fail(c, key, "method list too long");
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
			return fail(c, key, "'%s': a method list before a quoted one", tok);
		while (*m) {
			size_t n = strcspn(m, " \t,");
			if (n && !add_method(c, key, x, m, n))
				return 0;
			m += n;
			m += strspn(m, " \t,");
		}
		tok = sp + 1;
		if (!strstr(tok, "://"))
			return fail(c, key,
				    "'%s': a method list goes before an http:// or https:// URL",
				    tok);
	}
	if (!strstr(tok, "://") && !strchr(tok, ':') && !strchr(tok, '.') &&
	    policy_http_method_valid(tok, strlen(tok)))
		return add_method(c, key, x, tok, strlen(tok));
	if (strstr(tok, "://")) {
		r = policy_http_rule(x->methods, tok, &v, &why);
		x->methods[0] = '\0';
		if (r < 0)
			return fail(c, key, "'%s': %s", tok, why);
		if (r > 0) {
			r = add_to_list(c, x->http, v, false);
			free(v);
			return r;
		}
		if (x->deny)
			return fail(c, key,
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
				return fail(c, key, "'%s': a method is written in upper case", tok);
	}
	if (x->methods[0])
		return fail(c, key, "'%s': a method list goes before an http:// or https:// URL",
			    tok);
	return x->deny ? tok_domain(c, key, tok, x->hosts) : tok_allow(c, key, tok, x->hosts);
}

static int net_rules(struct parse_ctx *c, const char *key, const char *value,
		     struct policy_list *hosts, struct policy_list *http, bool deny)
{
	struct net_rules x = {.hosts = hosts, .http = http, .deny = deny};

	if (!for_each_token(c, key, value, true, tok_net_rule, &x))
		return 0;
	if (x.methods[0])
		return fail(c, key, "the method list %s has no http:// or https:// URL after it",
			    x.methods);
	return 1;
}

/* server_first = HOST:PORT: a protocol where the server speaks first has
 * a port of its own; on the web ports the client always speaks first. */
static int tok_server_first(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *colon = strrchr(tok, ':');
	unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 0;
	const char *why;

	if (!policy_domain_rule_valid(tok, &why))
		return fail(c, key, "'%s': %s", tok, why);
	if (!colon)
		return fail(c, key, "'%s' needs a port (HOST:PORT)", tok);
	if (port == 80 || port == 443)
		return fail(c, key, "'%s': on ports 80 and 443 the client speaks first", tok);
	return tok_domain(c, key, tok, ud);
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

static int tok_cidr(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *why;

	if (!policy_cidr_valid(tok, &why))
		return fail(c, key, strstr(why, "prefix") ? "'%s': %s" : "'%s' is %s", tok, why);
	return add_to_list(c, ud, tok, false);
}

static int tok_hosts(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	unsigned char addr[16];
	char *eq = strchr(tok, '=');
	const char *why;

	if (!eq)
		return fail(c, key, "'%s' is not NAME=ADDRESS", tok);
	*eq = '\0';
	if (strchr(tok, '*') || strchr(tok, ':') || !policy_domain_rule_valid(tok, &why)) {
		*eq = '=';
		return fail(c, key, "'%s': the name must be a plain domain name", tok);
	}
	if (!inet_pton_any(eq + 1, addr)) {
		*eq = '=';
		return fail(c, key, "'%s': '%s' is not an IP address", tok, eq + 1);
	}
	*eq = '=';
	for (char *s = tok; s < eq; s++)
		*s = (char)tolower((unsigned char)*s);
	return add_to_list(c, ud, tok, false);
}

/* ---- scalars ----------------------------------------------------------- */

static int parse_choice(struct parse_ctx *c, const char *key, const char *value,
			const char *const *names, size_t n, int *ret)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(value, names[i]) == 0) {
			*ret = (int)i;
			return 1;
		}
	char list[256] = "";
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			continue;
		if (list[0])
			strncat(list, " | ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	const char *near = policy_did_you_mean(value, names + 1, n - 1);
	if (near)
		return fail(c, key, "'%s' is not one of %s (did you mean '%s'?)", value, list,
			    near);
	return fail(c, key, "'%s' is not one of %s", value, list);
}

static int parse_bool(struct parse_ctx *c, const char *key, const char *value, bool *ret)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (strcmp(value, yes[i]) == 0) {
			*ret = true;
			return 1;
		}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcmp(value, no[i]) == 0) {
			*ret = false;
			return 1;
		}
	return fail(c, key, "'%s' is not yes or no", value);
}

static int set_string(struct parse_ctx *c, char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return fail(c, NULL, "out of memory");
	free(*dst);
	*dst = s;
	return 1;
}

/* A scalar may be set once per file; a later file (the includer) overrides. */
static int scalar_once(struct parse_ctx *c, enum scalar_id id, const char *key)
{
	if (c->scalar_line[id])
		return fail(c, key, "set twice in this file (first on line %u)",
			    c->scalar_line[id]);
	c->scalar_line[id] = c->line;
	return 1;
}

static int single_token(struct parse_ctx *c, const char *key, const char *value)
{
	if (!*value)
		return fail(c, key, "needs a value");
	for (const char *s = value; *s; s++)
		if (isspace((unsigned char)*s))
			return fail(c, key, "takes one value, not a list");
	return 1;
}

/* ---- sections and keys ------------------------------------------------- */

static const char *const section_names[] = {
    "sandbox", "filesystem", "network", "credential NAME", "process", "syscalls", "log",
};
static const char *const keys_sandbox[] = {"include", "enforcement", "namespaces", "name"};
static const char *const keys_filesystem[] = {"read",	      "exec",	     "write",  "deny",
					      "protect",      "private_tmp", "create", "private",
					      "private_seed", "private_env"};
static const char *const keys_network[] = {"mode",
					   "isolation",
					   "allow",
					   "deny",
					   "private",
					   "allow_cidr",
					   "hosts",
					   "upstream_ca",
					   "allow_no_sni",
					   "server_first",
					   "unix_connect",
					   "memory_max",
					   "first_bytes_timeout",
					   "client_timeout",
					   "connect_timeout",
					   "dns_timeout",
					   "capture"};
static const char *const keys_credential[] = {"env",	  "source",    "hosts",	 "placeholder",
					      "optional", "plaintext", "inject", "require",
					      "ttl",	  "timeout"};
static const char *const keys_process[] = {"run_as",	    "env_keep",	    "env_set",
					   "rlimit_nofile", "rlimit_nproc", "rlimit_core",
					   "rlimit_fsize",  "rlimit_as",    "rlimit_cpu"};
static const char *const keys_syscalls[] = {"deny", "allow", "allow_dangerous", "unix_sockets",
					    "action"};
static const char *const keys_log[] = {"file"};

static int unknown_key(struct parse_ctx *c, const char *section, const char *name,
		       const char *const *keys, size_t n)
{
	char key[96];
	const char *near = policy_did_you_mean(name, keys, n);

	snprintf(key, sizeof(key), "%s.%s", section, name);
	if (near)
		return fail(c, key, "unknown key (did you mean '%s'?)", near);
	return fail(c, key, "unknown key in [%s]", section);
}

/*
 * A policy file decides what the sandbox may do, and the directory holding it
 * may have been writable to an earlier sandbox: a symlink in any component
 * (not only the last) would let that sandbox choose the next run's policy.
 * openat2() with RESOLVE_NO_SYMLINKS refuses every one; a kernel or a
 * seccomp profile without openat2 refuses to load rather than follow them.
 * Debian 12's headers have <linux/openat2.h> but glibc has no wrapper.
 */
static int open_no_symlinks(const char *path)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		errno = ENOSYS;
	return fd < 0 ? -errno : fd;
}

static int load_file(struct parse_ctx *parent, const char *path, struct policy_error *err,
		     struct policy *p, struct file_id *stack, int depth);

static int handle_sandbox(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	if (strcmp(name, "include") == 0) {
		char path[PATH_MAX];
		if (c->any_setting)
			return fail(c, k, "include must come before any other setting in the file");
		if (!single_token(c, k, value))
			return 0;
		if (value[0] == '/')
			snprintf(path, sizeof(path), "%s", value);
		else if (!c->dir[0])
			return fail(c, k, "relative include in a policy that has no directory");
		else if ((size_t)snprintf(path, sizeof(path), "%s/%s", c->dir, value) >=
			 sizeof(path))
			return fail(c, k, "path too long");
		if (c->depth + 1 >= POLICY_MAX_INCLUDE_DEPTH)
			return fail(c, k, "includes nested more than %d deep",
				    POLICY_MAX_INCLUDE_DEPTH);
		/* the include reports its own errors; we only stop */
		if (load_file(c, path, c->err, c->p, c->stack, c->depth + 1) < 0) {
			c->failed = true;
			return 0;
		}
		return 1;
	}
	c->any_setting = true;
	if (strcmp(name, "enforcement") == 0) {
		static const char *const names[] = {NULL, "strict", "best-effort"};
		int v;
		if (!scalar_once(c, SCALAR_ENFORCEMENT, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		c->p->enforcement = (enum policy_enforcement)v;
		return 1;
	}
	if (strcmp(name, "namespaces") == 0) {
		static const char *const names[] = {NULL, "auto", "on", "off"};
		int v;
		if (!scalar_once(c, SCALAR_NAMESPACES, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		c->p->namespaces = (enum policy_namespaces)v;
		return 1;
	}
	if (strcmp(name, "name") == 0) {
		/* one component of the state directory: nothing that could
		 * climb out of it or hide */
		if (!scalar_once(c, SCALAR_NAME, k) || !single_token(c, k, value))
			return 0;
		if (value[0] == '.' || strlen(value) > 64)
			return fail(c, k,
				    "'%s': a name is 1 to 64 letters, digits, '.', '_' and "
				    "'-', not starting with '.'",
				    value);
		for (const char *s = value; *s; s++)
			if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
				return fail(c, k,
					    "'%s': a name is 1 to 64 letters, digits, '.', "
					    "'_' and '-', not starting with '.'",
					    value);
		c->p->name_origin = here(c);
		return set_string(c, &c->p->name, value);
	}
	return unknown_key(c, "sandbox", name, keys_sandbox, ARRAY_SIZE(keys_sandbox));
}

static int handle_filesystem(struct parse_ctx *c, const char *name, const char *value,
			     const char *k)
{
	struct policy_list *l = NULL;

	if (strcmp(name, "read") == 0)
		l = &c->p->fs.read;
	else if (strcmp(name, "exec") == 0)
		l = &c->p->fs.exec;
	else if (strcmp(name, "write") == 0)
		l = &c->p->fs.write;
	else if (strcmp(name, "deny") == 0)
		l = &c->p->fs.deny;
	else if (strcmp(name, "protect") == 0)
		l = &c->p->fs.protect;
	if (l)
		return for_each_token(c, k, value, true, tok_path, l);
	if (strcmp(name, "create") == 0)
		return for_each_token(c, k, value, true, tok_plain_path, &c->p->fs.create);
	if (strcmp(name, "private") == 0)
		return for_each_token(c, k, value, true, tok_plain_path, &c->p->fs.private_);
	if (strcmp(name, "private_seed") == 0)
		return for_each_token(c, k, value, true, tok_plain_path, &c->p->fs.private_seed);
	if (strcmp(name, "private_env") == 0)
		return for_each_token(c, k, value, true, tok_private_env, &c->p->fs.private_env);
	if (strcmp(name, "private_tmp") == 0)
		return scalar_once(c, SCALAR_PRIVATE_TMP, k) &&
		       parse_bool(c, k, value, &c->p->fs.private_tmp);
	return unknown_key(c, "filesystem", name, keys_filesystem, ARRAY_SIZE(keys_filesystem));
}

/* A duration: whole milliseconds ("500ms") or seconds ("30s"), from 100ms
 * (shorter would refuse nearly everything: a typo) to the timer's default.
 * A policy only ever shortens a timer, so that it refuses more, never
 * less. */
static int parse_timer(struct parse_ctx *c, const char *k, const char *value,
		       enum policy_net_timer t)
{
	uint32_t max = policy_timer_default_ms(t);
	unsigned long long v = 0;
	const char *s = value;

	while (isdigit((unsigned char)*s) && v <= max)
		v = v * 10 + (unsigned long long)(*s++ - '0');
	if (s == value || isdigit((unsigned char)*s))
		v = 0, s = ""; /* no number, or too long a one */
	else if (strcmp(s, "s") == 0)
		v *= 1000;
	else if (strcmp(s, "ms") != 0)
		v = 0;
	if (v < 100 || v > max)
		return fail(c, k, "'%s' is not a duration from 100ms to %us (e.g. 5s, 500ms)",
			    value, (unsigned)(max / 1000));
	c->p->net.timeout_ms[t] = (uint32_t)v;
	return 1;
}

static int handle_network(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	struct policy *p = c->p;

	for (int t = 0; t < _POLICY_TIMER_MAX; t++)
		if (strcmp(name, policy_timer_key((enum policy_net_timer)t)) == 0)
			return scalar_once(c, (enum scalar_id)(SCALAR_TIMER_FIRST + t), k) &&
			       single_token(c, k, value) &&
			       parse_timer(c, k, value, (enum policy_net_timer)t);

	if (strcmp(name, "mode") == 0) {
		static const char *const names[] = {NULL, "proxy", "none", "host"};
		int v;
		if (!scalar_once(c, SCALAR_NET_MODE, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.mode = (enum policy_net_mode)v;
		p->net.mode_origin.origin = here(c);
		p->net.mode_origin.set = true;
		return 1;
	}
	if (strcmp(name, "isolation") == 0) {
		static const char *const names[] = {NULL, "auto", "namespace", "broker"};
		int v;
		if (!scalar_once(c, SCALAR_NET_ISOLATION, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.isolation = (enum policy_isolation)v;
		return 1;
	}
	if (strcmp(name, "allow") == 0)
		return net_rules(c, k, value, &p->net.allow, &p->net.allow_http, false);
	if (strcmp(name, "deny") == 0)
		return net_rules(c, k, value, &p->net.deny, &p->net.deny_http, true);
	if (strcmp(name, "allow_cidr") == 0)
		return for_each_token(c, k, value, true, tok_cidr, &p->net.allow_cidr);
	if (strcmp(name, "hosts") == 0)
		return for_each_token(c, k, value, true, tok_hosts, &p->net.hosts);
	if (strcmp(name, "allow_no_sni") == 0)
		return for_each_token(c, k, value, true, tok_domain, &p->net.allow_no_sni);
	if (strcmp(name, "server_first") == 0)
		return for_each_token(c, k, value, true, tok_server_first, &p->net.server_first);
	if (strcmp(name, "private") == 0) {
		static const char *const names[] = {NULL, "deny", "allow"};
		int v;
		if (!scalar_once(c, SCALAR_NET_PRIVATE, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.private_deny = v == 1;
		return 1;
	}
	if (strcmp(name, "capture") == 0) {
		static const char *const names[] = {NULL, "on", "off"};
		int v;
		if (!scalar_once(c, SCALAR_NET_CAPTURE, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.no_capture = v == 2;
		return 1;
	}
	if (strcmp(name, "unix_connect") == 0)
		return for_each_token(c, k, value, true, tok_path, &p->net.unix_connect);
	if (strcmp(name, "upstream_ca") == 0) {
		if (!scalar_once(c, SCALAR_NET_UPSTREAM_CA, k) || !single_token(c, k, value))
			return 0;
		if (!(value[0] == '/' || value[0] == '~' || strncmp(value, "${", 2) == 0))
			return fail(c, k, "'%s' is not an absolute path", value);
		return set_string(c, &p->net.upstream_ca, value);
	}
	if (strcmp(name, "memory_max") == 0) {
		char *end;
		unsigned long long v;
		if (!scalar_once(c, SCALAR_NET_MEMORY_MAX, k) || !single_token(c, k, value))
			return 0;
		errno = 0;
		v = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || errno || v > (64ULL << 30))
			return fail(c, k, "'%s' is not a size from 1M to 64G", value);
		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			v <<= 20, end++;
		else if (*end == 'G' || *end == 'g')
			v <<= 30, end++;
		/* below 1 MiB the proxy could not hold one tunnel's buffers;
		 * above 64 GiB is a typo */
		if (*end || v < (1ULL << 20) || v > (64ULL << 30))
			return fail(c, k, "'%s' is not a size from 1M to 64G", value);
		p->net.memory_max = v;
		return 1;
	}
	return unknown_key(c, "network", name, keys_network, ARRAY_SIZE(keys_network));
}

/* A duration for a [credential] key: N followed by ms, s, m or h, from MIN
 * to MAX milliseconds. */
static int parse_cred_duration(struct parse_ctx *c, const char *k, const char *value, uint32_t min,
			       uint32_t max, uint32_t *ret)
{
	unsigned long long v = 0;
	const char *s = value;

	while (isdigit((unsigned char)*s) && v <= max)
		v = v * 10 + (unsigned long long)(*s++ - '0');
	if (s == value || isdigit((unsigned char)*s))
		v = 0; /* no number, or too long a one */
	else if (strcmp(s, "h") == 0)
		v *= 3600000;
	else if (strcmp(s, "m") == 0)
		v *= 60000;
	else if (strcmp(s, "s") == 0)
		v *= 1000;
	else if (strcmp(s, "ms") != 0)
		v = 0;
	if (v < min || v > max)
		return fail(c, k, "'%s' is not a duration from %ums to %us (e.g. 10s, 5m, 1h)",
			    value, (unsigned)min, (unsigned)(max / 1000));
	*ret = (uint32_t)v;
	return 1;
}

/* A header name as RFC 9110 spells a token. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

/* inject = replace | header:NAME | bearer | basic:USER | basic-user | query:NAME */
static int parse_inject(struct parse_ctx *c, const char *k, const char *value,
			struct policy_credential *cr)
{
	static const char *const hop[] = {"host",
					  "connection",
					  "content-length",
					  "transfer-encoding",
					  "te",
					  "trailer",
					  "upgrade",
					  "keep-alive",
					  "proxy-authorization",
					  "proxy-connection",
					  "accept-encoding",
					  "range",
					  "if-range"};
	const char *arg = strchr(value, ':');
	size_t kind = arg ? (size_t)(arg - value) : strlen(value);

	if (arg)
		arg++;
#define KIND(s) (kind == sizeof(s) - 1 && strncmp(value, s, kind) == 0)
	if (KIND("replace") && !arg)
		cr->inject = POLICY_INJECT_REPLACE;
	else if (KIND("bearer") && !arg)
		cr->inject = POLICY_INJECT_BEARER;
	else if (KIND("basic-user") && !arg)
		cr->inject = POLICY_INJECT_BASIC_USER;
	else if (KIND("header") && arg) {
		if (!is_token(arg))
			return fail(c, k, "'%s' is not a header name", arg);
		for (size_t i = 0; i < ARRAY_SIZE(hop); i++)
			if (strcasecmp(arg, hop[i]) == 0)
				return fail(c, k,
					    "the proxy writes %s itself: not a header for a secret",
					    arg);
		cr->inject = POLICY_INJECT_HEADER;
	} else if (KIND("basic") && arg) {
		if (!*arg)
			return fail(c, k, "basic:USER needs a user name");
		for (const char *s = arg; *s; s++)
			if (*s == ':' || (unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
				return fail(c, k,
					    "'%s': a Basic user name has no ':', blank or "
					    "control character",
					    arg);
		cr->inject = POLICY_INJECT_BASIC_PASSWORD;
	} else if (KIND("query") && arg) {
		if (!*arg)
			return fail(c, k, "query:NAME needs a parameter name");
		for (const char *s = arg; *s; s++)
			if (!(isalnum((unsigned char)*s) || strchr("-._~", *s)))
				return fail(c, k,
					    "'%s': a query parameter name here is made of "
					    "A-Z, a-z, 0-9, -, ., _ and ~",
					    arg);
		cr->inject = POLICY_INJECT_QUERY;
	} else {
		return fail(c, k,
			    "'%s' is not replace, header:NAME, bearer, basic:USER, "
			    "basic-user or query:NAME",
			    value);
	}
#undef KIND
	if (arg && set_string(c, &cr->inject_arg, arg) == 0)
		return 0;
	return 1;
}

static int tok_argv(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	(void)key;
	return add_to_list(c, ud, tok, false);
}

static int handle_credential(struct parse_ctx *c, const char *name, const char *value,
			     const char *k)
{
	struct policy_credential *cr = c->cur_cred;

	if (strcmp(name, "hosts") == 0)
		return for_each_token(c, k, value, true, tok_domain, &cr->hosts);
	if (strcmp(name, "env") == 0) {
		if (cr->env)
			return fail(c, k, "set twice");
		if (!single_token(c, k, value))
			return 0;
		if (!valid_env_name(value, strlen(value), false))
			return fail(c, k, "'%s' is not an environment variable name", value);
		return set_string(c, &cr->env, value);
	}
	if (strcmp(name, "source") == 0) {
		if (cr->source)
			return fail(c, k, "set twice");
		if (strncmp(value, "cmd:", 4) != 0 && !single_token(c, k, value))
			return 0;
		if (strncmp(value, "cmd:", 4) == 0) {
			/* argv, split as env_set is (blanks, double quotes); no
			 * shell unless the program is one */
			if (!for_each_token(c, k, value + 4, false, tok_argv, &cr->cmd_argv))
				return 0;
			if (cr->cmd_argv.n == 0)
				return fail(c, k, "cmd: needs a program");
			if (cr->cmd_argv.items[0].value[0] != '/')
				return fail(c, k,
					    "'%s' is not an absolute path (cmd: runs no shell "
					    "and searches no PATH)",
					    cr->cmd_argv.items[0].value);
			cr->source_origin = here(c);
			return set_string(c, &cr->source, value);
		}
		if (strncmp(value, "env:", 4) == 0) {
			if (!valid_env_name(value + 4, strlen(value + 4), false))
				return fail(c, k, "'%s' is not an environment variable name",
					    value + 4);
		} else if (strncmp(value, "file:", 5) == 0) {
			const char *f = value + 5;
			if (!(f[0] == '/' || f[0] == '~' || strncmp(f, "${", 2) == 0))
				return fail(c, k, "'%s' is not an absolute path", f);
		} else {
			return fail(c, k, "'%s' is not env:VARIABLE, file:PATH or cmd:PROGRAM",
				    value);
		}
		cr->source_origin = here(c);
		return set_string(c, &cr->source, value);
	}
	if (strcmp(name, "inject") == 0) {
		if (cr->inject_set)
			return fail(c, k, "set twice");
		if (!single_token(c, k, value))
			return 0;
		cr->inject_set = true;
		return parse_inject(c, k, value, cr);
	}
	if (strcmp(name, "require") == 0) {
		if (cr->require_set)
			return fail(c, k, "set twice");
		cr->require_set = true;
		return parse_bool(c, k, value, &cr->require);
	}
	if (strcmp(name, "ttl") == 0) {
		if (cr->ttl_set)
			return fail(c, k, "set twice");
		cr->ttl_set = true;
		return parse_cred_duration(c, k, value, POLICY_TTL_MIN_MS, POLICY_TTL_MAX_MS,
					   &cr->ttl_ms);
	}
	if (strcmp(name, "timeout") == 0) {
		if (cr->timeout_set)
			return fail(c, k, "set twice");
		cr->timeout_set = true;
		return parse_cred_duration(c, k, value, 100, POLICY_CMD_TIMEOUT_MAX_MS,
					   &cr->cmd_timeout_ms);
	}
	if (strcmp(name, "optional") == 0) {
		if (cr->optional_set)
			return fail(c, k, "set twice");
		cr->optional_set = true;
		return parse_bool(c, k, value, &cr->optional);
	}
	if (strcmp(name, "plaintext") == 0) {
		if (cr->plaintext_set)
			return fail(c, k, "set twice");
		cr->plaintext_set = true;
		return parse_bool(c, k, value, &cr->plaintext);
	}
	if (strcmp(name, "placeholder") == 0) {
		size_t n = strlen(value);
		if (cr->placeholder)
			return fail(c, k, "set twice");
		if (n < 16 || n > 255)
			return fail(c, k, "a placeholder is 16 to 255 characters long");
		for (size_t i = 0; i < n; i++)
			if (!(isalnum((unsigned char)value[i]) || value[i] == '_'))
				return fail(c, k,
					    "a placeholder is made of A-Z, a-z, 0-9 and _ only");
		return set_string(c, &cr->placeholder, value);
	}
	return unknown_key(c, "credential", name, keys_credential, ARRAY_SIZE(keys_credential));
}

static int parse_rlimit(struct parse_ctx *c, const char *k, const char *value,
			struct policy_rlimit_value *rl)
{
	char *end;
	unsigned long long v;

	if (strcmp(value, "unlimited") == 0 || strcmp(value, "infinity") == 0) {
		rl->value = POLICY_RLIM_INFINITY;
	} else {
		errno = 0;
		v = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || errno || v == ULLONG_MAX)
			return fail(c, k, "'%s' is not a number or 'unlimited'", value);
		rl->value = v;
	}
	rl->set = true;
	rl->origin = here(c);
	return 1;
}

static int handle_process(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	struct policy *p = c->p;

	if (strcmp(name, "run_as") == 0) {
		if (!scalar_once(c, SCALAR_RUN_AS, k) || !single_token(c, k, value))
			return 0;
		for (const char *s = value; *s; s++)
			if (!(isalnum((unsigned char)*s) || strchr("._-", *s)))
				return fail(c, k, "'%s' is not a user name or number", value);
		p->process.run_as_origin = here(c);
		return set_string(c, &p->process.run_as, value);
	}
	if (strcmp(name, "env_keep") == 0) {
		p->process.env_keep_set = true;
		return for_each_token(c, k, value, true, tok_env_glob, &p->process.env_keep);
	}
	if (strcmp(name, "env_set") == 0)
		/* commas may be part of a value here, so only blanks separate */
		return for_each_token(c, k, value, false, tok_env_set, &p->process.env_set);
	for (int r = 0; r < _POLICY_RLIMIT_MAX; r++)
		if (strcmp(name, policy_rlimit_key((enum policy_rlimit)r)) == 0)
			return scalar_once(c, (enum scalar_id)(SCALAR_RLIMIT_FIRST + r), k) &&
			       single_token(c, k, value) &&
			       parse_rlimit(c, k, value, &p->process.rlimits[r]);
	return unknown_key(c, "process", name, keys_process, ARRAY_SIZE(keys_process));
}

static int handle_syscalls(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	struct policy *p = c->p;

	if (strcmp(name, "deny") == 0)
		return for_each_token(c, k, value, true, tok_syscall, &p->syscalls.deny);
	if (strcmp(name, "allow") == 0)
		return for_each_token(c, k, value, true, tok_syscall, &p->syscalls.allow);
	if (strcmp(name, "allow_dangerous") == 0)
		return scalar_once(c, SCALAR_ALLOW_DANGEROUS, k) &&
		       parse_bool(c, k, value, &p->syscalls.allow_dangerous);
	if (strcmp(name, "unix_sockets") == 0) {
		static const char *const names[] = {NULL, "allow", "deny"};
		int v;
		if (!scalar_once(c, SCALAR_UNIX_SOCKETS, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->syscalls.unix_sockets = v == 1;
		return 1;
	}
	if (strcmp(name, "action") == 0) {
		static const char *const names[] = {NULL, "errno", "kill"};
		int v;
		if (!scalar_once(c, SCALAR_SYSCALL_ACTION, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->syscalls.action = (enum policy_syscall_action)v;
		return 1;
	}
	return unknown_key(c, "syscalls", name, keys_syscalls, ARRAY_SIZE(keys_syscalls));
}

static int handle_log(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	if (strcmp(name, "file") == 0) {
		if (!scalar_once(c, SCALAR_LOG_FILE, k) || !single_token(c, k, value))
			return 0;
		if (!(value[0] == '/' || value[0] == '~' || strncmp(value, "${", 2) == 0))
			return fail(c, k, "'%s' is not an absolute path", value);
		c->p->log.origin = here(c);
		return set_string(c, &c->p->log.file, value);
	}
	return unknown_key(c, "log", name, keys_log, ARRAY_SIZE(keys_log));
}

/* Fails (and returns false) for a section name that is not ours. */
static bool section_known(struct parse_ctx *c, const char *raw)
{
	static const char *const plain[] = {"sandbox", "filesystem", "network",
					    "process", "syscalls",   "log"};
	char name[INIH_MAX_SECTION + 1];
	size_t b = 0, e = strlen(raw);

	while (b < e && isspace((unsigned char)raw[b]))
		b++;
	while (e > b && isspace((unsigned char)raw[e - 1]))
		e--;
	snprintf(name, sizeof(name), "%.*s", (int)(e - b), raw + b);
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (strcmp(name, plain[i]) == 0)
			return true;
	if (strncmp(name, "credential ", 11) == 0 || strcmp(name, "credential") == 0)
		return true; /* the name is checked with the first key */
	const char *near = policy_did_you_mean(name, section_names, ARRAY_SIZE(section_names));
	if (near)
		fail(c, NULL, "unknown section [%s] (did you mean [%s]?)", name, near);
	else
		fail(c, NULL, "unknown section [%s]", name);
	return false;
}

static struct policy_credential *credential_get(struct parse_ctx *c, const char *cname)
{
	for (size_t i = 0; i < c->p->n_creds; i++)
		if (strcmp(c->p->creds[i].name, cname) == 0)
			return &c->p->creds[i];
	struct policy_credential *creds =
	    realloc(c->p->creds, (c->p->n_creds + 1) * sizeof(*creds));
	if (!creds)
		return NULL;
	c->p->creds = creds;
	struct policy_credential *cr = &creds[c->p->n_creds];
	*cr = (struct policy_credential){
	    .name = strdup(cname),
	    .origin = {.file = c->file, .line = c->section_line ? c->section_line : c->line},
	};
	if (!cr->name)
		return NULL;
	c->p->n_creds++;
	return cr;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	char k[96];

	if (c->failed)
		return 0;
	if (c->reader_error)
		return 0;
	if (!*section)
		return fail(c, name, "setting outside of any [section]");
	snprintf(k, sizeof(k), "%s.%s",
		 strncmp(section, "credential ", 11) == 0 ? "credential" : section, name);
	if (strcmp(section, "sandbox") != 0)
		c->any_setting = true;

	if (strcmp(section, "sandbox") == 0)
		return handle_sandbox(c, name, value, k);
	if (strcmp(section, "filesystem") == 0)
		return handle_filesystem(c, name, value, k);
	if (strcmp(section, "network") == 0)
		return handle_network(c, name, value, k);
	if (strcmp(section, "process") == 0)
		return handle_process(c, name, value, k);
	if (strcmp(section, "syscalls") == 0)
		return handle_syscalls(c, name, value, k);
	if (strcmp(section, "log") == 0)
		return handle_log(c, name, value, k);
	if (strncmp(section, "credential ", 11) == 0) {
		const char *cname = section + 11;
		if (!*cname)
			return fail(c, NULL, "[credential] needs a name: [credential NAME]");
		for (const char *s = cname; *s; s++)
			if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
				return fail(
				    c, NULL,
				    "[%s]: a credential name has letters, digits, _ and - only",
				    section);
		if (strcmp(c->cur_section, section) != 0) {
			c->cur_cred = credential_get(c, cname);
			if (!c->cur_cred)
				return fail(c, NULL, "out of memory");
			snprintf(c->cur_section, sizeof(c->cur_section), "%s", section);
		}
		return handle_credential(c, name, value, k);
	}
	if (strcmp(section, "credential") == 0)
		return fail(c, NULL, "[credential] needs a name: [credential NAME]");
	const char *near = policy_did_you_mean(section, section_names, ARRAY_SIZE(section_names));
	if (near)
		return fail(c, NULL, "unknown section [%s] (did you mean [%s]?)", section, near);
	return fail(c, NULL, "unknown section [%s]", section);
}

/*
 * inih's reader callback: hands out one line at a time from the file held in
 * memory, counting lines and refusing what inih would mangle (see top).
 */
static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t start, end, n;

	if (c->failed || c->reader_error || c->pos >= c->len)
		return NULL;
	start = c->pos;
	end = start;
	while (end < c->len && c->buf[end] != '\n')
		end++;
	c->pos = end < c->len ? end + 1 : end;
	c->line++;
	n = end - start;
	if (n > 0 && c->buf[start + n - 1] == '\r')
		n--;
	while (n > 0 && (c->buf[start] == ' ' || c->buf[start] == '\t')) {
		start++;
		n--;
	}
	if (memchr(c->buf + start, '\0', n)) {
		fail(c, NULL, "the line contains a NUL byte");
		c->reader_error = true;
		return NULL;
	}
	/* leave room for inih's newline and terminator */
	if (num < 3 || n + 2 > (size_t)num) {
		fail(c, NULL, "line is longer than %d characters", num - 2);
		c->reader_error = true;
		return NULL;
	}
	if (n > 0 && c->buf[start] == '[') {
		c->section_line = c->line;
		const char *close = memchr(c->buf + start, ']', n);
		if (close && (size_t)(close - (c->buf + start) - 1) > INIH_MAX_SECTION - 1) {
			fail(c, NULL, "section name longer than %d characters",
			     INIH_MAX_SECTION - 1);
			c->reader_error = true;
			return NULL;
		}
		/* inih reports a section only with its first key: an empty
		 * misspelt section would pass unseen, so check every header */
		if (close) {
			char name[INIH_MAX_SECTION + 1];
			size_t len = (size_t)(close - (c->buf + start) - 1);
			memcpy(name, c->buf + start + 1, len);
			name[len] = '\0';
			if (!section_known(c, name)) {
				c->reader_error = true;
				return NULL;
			}
		}
	}
	memcpy(str, c->buf + start, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int intern_file(struct policy *p, const char *path, const char **ret)
{
	char **files = realloc(p->files, (p->n_files + 1) * sizeof(*files));
	struct policy_file_stat *fs;

	if (!files)
		return -ENOMEM;
	p->files = files;
	fs = realloc(p->file_stats, (p->n_files + 1) * sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	p->file_stats = fs;
	fs[p->n_files] = (struct policy_file_stat){.dirs_err = -ENOENT};
	files[p->n_files] = strdup(path);
	if (!files[p->n_files])
		return -ENOMEM;
	*ret = files[p->n_files++];
	return 0;
}

static int parse_text(struct parse_ctx *c)
{
	int r = ini_parse_stream(reader, c, handler, c);

	if (c->failed)
		return -EINVAL;
	if (r != 0) {
		c->line = r > 0 ? (unsigned)r : c->line;
		fail(c, NULL,
		     r > 0 ? "syntax error: expected 'key = value' or '[section]'"
			   : "could not be parsed");
		return -EINVAL;
	}
	return 0;
}

static void dirname_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/*
 * The directories holding a file opened in DIRFD: DIRFD's own, then each
 * parent by "..", until a directory is its own parent (/).  Walked from
 * the descriptor, not the path: a directory renamed or swapped for a
 * symbolic link after the file was opened changes nothing here.
 */
static int walk_dirs(int dirfd, struct policy_file_stat *fs)
{
	_cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	struct stat st, up;

	if (cur < 0 || fstat(cur, &st) < 0)
		return -errno;
	for (int i = 0; i < 4096; i++) {
		struct policy_dir_stat *d = realloc(fs->dirs, (fs->n_dirs + 1) * sizeof(*d));
		int next;
		if (!d)
			return -ENOMEM;
		fs->dirs = d;
		d[fs->n_dirs++] = (struct policy_dir_stat){st.st_uid, st.st_mode};
		next = openat(cur, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, &up) < 0) {
			int e = -errno;
			if (next >= 0)
				close(next);
			return e;
		}
		close(cur);
		cur = next;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino)
			return 0;
		st = up;
	}
	return -ELOOP;
}

/* PATH opened without following a symbolic link in any component: its
 * directory first, then the file in it, so that the directories holding
 * what is read can be walked from that directory (walk_dirs). */
static int open_policy(const char *path, struct policy_file_stat *fs)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dirfd = -1;
	int fd;

	if (!*base) /* "/" or a trailing slash: no file to walk up from */
		return open_no_symlinks(path);
	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	dirname_of(path, dir, sizeof(dir));
	dirfd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	if (dirfd < 0)
		return errno == ENOSYS || errno == EPERM ? -ENOSYS : -errno;
	how = (struct open_how){
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	fd = (int)syscall(SYS_openat2, dirfd, base, &how, sizeof(how));
	if (fd < 0)
		return errno == ENOSYS || errno == EPERM ? -ENOSYS : -errno;
	fs->dirs_err = walk_dirs(dirfd, fs);
	return fd;
}

static int load_file(struct parse_ctx *parent, const char *path, struct policy_error *err,
		     struct policy *p, struct file_id *stack, int depth)
{
	struct policy_file_stat *fs;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct parse_ctx c = {.p = p, .err = err, .stack = stack, .depth = depth};
	struct stat st;
	size_t got = 0;
	int r;

	r = intern_file(p, path, &c.file);
	if (r < 0) {
		c.file = path;
		return fail(&c, NULL, "out of memory"), r;
	}
	fs = &p->file_stats[p->n_files - 1];
	fd = open_policy(path, fs);
	if (fd < 0 || fstat(fd, &st) < 0) {
		const char *why = "";
		r = fd < 0 ? fd : -errno;
		if (r == -ELOOP)
			why =
			    " (a symbolic link in its path is never followed: name the real path)";
		else if (r == -ENOSYS)
			why = " (openat2 is unavailable: a path is never opened without it)";
		if (parent) {
			fail(parent, "sandbox.include", "cannot read '%s': %s%s", path,
			     strerror(-r), why);
			return r;
		}
		fail(&c, NULL, "cannot read policy: %s%s", strerror(-r), why);
		return r;
	}
	/* what was read, for whoever must know who could have written it */
	*fs = (struct policy_file_stat){.read = true,
					.dev = st.st_dev,
					.ino = st.st_ino,
					.uid = st.st_uid,
					.mode = st.st_mode,
					.dirs_err = fs->dirs_err,
					.dirs = fs->dirs,
					.n_dirs = fs->n_dirs};
	if (!S_ISREG(st.st_mode)) {
		fail(&c, NULL, "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > POLICY_MAX_FILE_SIZE) {
		fail(&c, NULL, "policy file larger than %d bytes", POLICY_MAX_FILE_SIZE);
		return -EFBIG;
	}
	for (int i = 0; i < depth; i++)
		if (stack[i].dev == st.st_dev && stack[i].ino == st.st_ino) {
			if (parent)
				fail(parent, "sandbox.include",
				     "include cycle: '%s' includes itself", path);
			return -ELOOP;
		}
	stack[depth] = (struct file_id){st.st_dev, st.st_ino};

	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = RETRY_EINTR(read(fd, buf + got, (size_t)st.st_size - got));
		if (n < 0) {
			r = -errno;
			fail(&c, NULL, "cannot read policy: %s", strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	dirname_of(path, c.dir, sizeof(c.dir));
	c.buf = buf;
	c.len = got;
	return parse_text(&c);
}

static struct policy *policy_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->enforcement = POLICY_ENFORCE_STRICT;
	p->namespaces = POLICY_NS_AUTO;
	p->net.mode = POLICY_NET_PROXY;
	p->net.isolation = POLICY_ISOLATION_AUTO;
	p->net.private_deny = true;
	p->syscalls.unix_sockets = true;
	p->syscalls.action = POLICY_SYSCALL_ERRNO;
	p->fs.private_tmp = false;
	return p;
}

/* Whole-policy checks that no single line can make. */
int policy_validate(struct policy *p, struct policy_error *err)
{
	struct parse_ctx c = {.p = p, .err = err};

	for (size_t i = 0; i < p->n_creds; i++) {
		struct policy_credential *cr = &p->creds[i];
		c.file = cr->origin.file;
		c.line = cr->origin.line;
		if (!cr->env)
			return fail(&c, "credential.env", "[credential %s] needs env =", cr->name),
			       -EINVAL;
		if (!cr->source)
			return fail(&c, "credential.source",
				    "[credential %s] needs source =", cr->name),
			       -EINVAL;
		if ((cr->ttl_set || cr->timeout_set) && strncmp(cr->source, "cmd:", 4) != 0)
			return fail(&c, cr->ttl_set ? "credential.ttl" : "credential.timeout",
				    "[credential %s]: %s is for source = cmd: only", cr->name,
				    cr->ttl_set ? "ttl" : "timeout"),
			       -EINVAL;
		if (cr->ttl_set && (uint64_t)(cr->timeout_set ? cr->cmd_timeout_ms
							      : POLICY_CMD_TIMEOUT_DEFAULT_MS) *
					   2 >
				       cr->ttl_ms)
			return fail(
				   &c, "credential.timeout",
				   "[credential %s]: timeout (10s unless set) must be at most half "
				   "of ttl (the secret is fetched again before it expires)",
				   cr->name),
			       -EINVAL;
		if (cr->hosts.n == 0)
			return fail(&c, "credential.hosts",
				    "[credential %s] needs hosts = (the hosts it may be sent to)",
				    cr->name),
			       -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->creds[j].env, cr->env) == 0)
				return fail(&c, "credential.env",
					    "[credential %s] and [credential %s] both set %s",
					    p->creds[j].name, cr->name, cr->env),
				       -EINVAL;
		if (p->net.mode != POLICY_NET_PROXY)
			return fail(&c, NULL,
				    "[credential %s] needs [network] mode = proxy (mode is %s)",
				    cr->name, policy_net_mode_name(p->net.mode)),
			       -EINVAL;
	}
	if (p->net.mode != POLICY_NET_PROXY) {
		const struct policy_list *lists[] = {&p->net.allow,	   &p->net.deny,
						     &p->net.allow_cidr,   &p->net.hosts,
						     &p->net.allow_no_sni, &p->net.server_first,
						     &p->net.allow_http,   &p->net.deny_http};
		static const char *const names[] = {"network.allow",	    "network.deny",
						    "network.allow_cidr",   "network.hosts",
						    "network.allow_no_sni", "network.server_first",
						    "network.allow",	    "network.deny"};
		for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
			if (lists[i]->n) {
				c.file = lists[i]->items[0].origin.file;
				c.line = lists[i]->items[0].origin.line;
				return fail(&c, names[i],
					    "has no effect with mode = %s (only with mode = proxy)",
					    policy_net_mode_name(p->net.mode)),
				       -EINVAL;
			}
	}
	for (size_t i = 0; i < p->syscalls.allow.n; i++)
		for (size_t j = 0; j < p->syscalls.deny.n; j++)
			if (strcmp(p->syscalls.allow.items[i].value,
				   p->syscalls.deny.items[j].value) == 0) {
				c.file = p->syscalls.allow.items[i].origin.file;
				c.line = p->syscalls.allow.items[i].origin.line;
				return fail(&c, "syscalls.allow", "'%s' is also in syscalls.deny",
					    p->syscalls.allow.items[i].value),
				       -EINVAL;
			}
	return 0;
}

int policy_load_file(const char *path, struct policy **ret, struct policy_error *err)
{
	struct policy *p = policy_new();
	struct file_id stack[POLICY_MAX_INCLUDE_DEPTH];
	int r;

	if (!p)
		return -ENOMEM;
	r = load_file(NULL, path, err, p, stack, 0);
	if (r == 0)
		r = policy_validate(p, err);
	if (r < 0) {
		policy_free(p);
		return r < 0 ? r : -EINVAL;
	}
	*ret = p;
	return 0;
}

int policy_load_string(const char *name, const char *text, const char *base_dir,
		       struct policy **ret, struct policy_error *err)
{
	struct policy *p = policy_new();
	struct file_id stack[POLICY_MAX_INCLUDE_DEPTH];
	struct parse_ctx c = {.p = p, .err = err, .stack = stack};
	int r;

	if (!p)
		return -ENOMEM;
	r = intern_file(p, name, &c.file);
	if (r < 0) {
		policy_free(p);
		return r;
	}
	if (base_dir)
		snprintf(c.dir, sizeof(c.dir), "%s", base_dir);
	c.buf = text;
	c.len = strlen(text);
	r = parse_text(&c);
	if (r == 0)
		r = policy_validate(p, err);
	if (r < 0) {
		policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int policy_load_default(struct policy **ret, struct policy_error *err)
{
	return policy_load_string(POLICY_DEFAULT_NAME, policy_default_text, NULL, ret, err);
}

void policy_list_free(struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].value);
	free(l->items);
	*l = (struct policy_list){0};
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	policy_list_free(&p->fs.read);
	policy_list_free(&p->fs.exec);
	policy_list_free(&p->fs.write);
	policy_list_free(&p->fs.deny);
	policy_list_free(&p->fs.protect);
	policy_list_free(&p->fs.create);
	policy_list_free(&p->fs.private_);
	policy_list_free(&p->fs.private_seed);
	policy_list_free(&p->fs.private_env);
	free(p->name);
	policy_list_free(&p->net.allow);
	policy_list_free(&p->net.deny);
	policy_list_free(&p->net.allow_http);
	policy_list_free(&p->net.deny_http);
	policy_list_free(&p->net.allow_cidr);
	policy_list_free(&p->net.hosts);
	policy_list_free(&p->net.allow_no_sni);
	policy_list_free(&p->net.server_first);
	policy_list_free(&p->net.unix_connect);
	free(p->net.upstream_ca);
	for (size_t i = 0; i < p->n_creds; i++) {
		free(p->creds[i].name);
		free(p->creds[i].env);
		free(p->creds[i].source);
		free(p->creds[i].placeholder);
		free(p->creds[i].inject_arg);
		policy_list_free(&p->creds[i].cmd_argv);
		policy_list_free(&p->creds[i].hosts);
	}
	free(p->creds);
	free(p->process.run_as);
	policy_list_free(&p->process.env_keep);
	policy_list_free(&p->process.env_set);
	policy_list_free(&p->syscalls.deny);
	policy_list_free(&p->syscalls.allow);
	free(p->log.file);
	for (size_t i = 0; i < p->n_files; i++) {
		free(p->files[i]);
		free(p->file_stats[i].dirs);
	}
	free(p->files);
	free(p->file_stats);
	free(p);
}
