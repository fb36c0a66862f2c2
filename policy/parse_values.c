/* SPDX-License-Identifier: MIT */
/*
 * How a value is read (parse.c has the picture): a list's tokens, blank- or
 * comma-separated and quoted, and the readers of paths, variable names and
 * system call names; the scalars, each set once per file; durations,
 * resource limits and a credential's inject.  policy_list_add() is
 * policy.h's: expand.c adds the command line's grants with it.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "../common/macros.h"
#include "parse_internal.h"

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
int parse_for_each_token(struct parse_ctx *c, const char *key, const char *value, bool commas,
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
					return parse_fail(c, key, "value too long");
				tok[n++] = *s++;
			}
			if (*s != '"')
				return parse_fail(c, key, "unterminated quote");
			s++;
			if (*s && !isspace((unsigned char)*s) && !(commas && *s == ','))
				return parse_fail(c, key, "text after a closing quote");
		} else {
			while (*s && !isspace((unsigned char)*s) && !(commas && *s == ',')) {
				if (*s == '"')
					return parse_fail(c, key, "quote in the middle of a value");
				if (n + 1 >= sizeof(tok))
					return parse_fail(c, key, "value too long");
				tok[n++] = *s++;
			}
		}
		tok[n] = '\0';
		if (n == 0)
			return parse_fail(c, key, "empty quoted value");
		if (!fn(c, key, tok, ud))
			return 0;
	}
}

struct policy_origin parse_here(struct parse_ctx *c)
{
	return (struct policy_origin){.file = c->file, .line = c->line};
}

int parse_add_to_list(struct parse_ctx *c, struct policy_list *l, const char *tok, bool required)
{
	if (policy_list_add(l, tok, required, parse_here(c)) < 0)
		return parse_fail(c, NULL, "out of memory");
	return 1;
}

static int check_path(struct parse_ctx *c, const char *key, const char *tok)
{
	if (!(tok[0] == '/' || tok[0] == '~' || strncmp(tok, "${", 2) == 0))
		return parse_fail(
		    c, key, "'%s' is not an absolute path (start it with /, ~ or ${CWD})", tok);
	if (tok[0] == '~' && tok[1] != '\0' && tok[1] != '/')
		return parse_fail(c, key, "'%s': only ~ and ~/... are understood, not ~user", tok);
	return 1;
}

/* A leading '!' makes a path required (missing: refuse to start); a
 * leading '?' optional, for grants only (missing: skipped without a word). */
int parse_tok_path(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	bool required = false, optional = false;
	bool grant = strcmp(key, "filesystem.read") == 0 || strcmp(key, "filesystem.exec") == 0 ||
		     strcmp(key, "filesystem.write") == 0;

	if (tok[0] == '!') {
		required = true;
		tok++;
	} else if (tok[0] == '?') {
		if (!grant)
			return parse_fail(c, key,
					  "'%s': a leading '?' (optional) is for read, exec and "
					  "write grants only",
					  tok);
		optional = true;
		tok++;
	}
	if (tok[0] == '!' || tok[0] == '?')
		return parse_fail(c, key, "'%s': a path is either required (!) or optional (?)",
				  tok - 1);
	if (!check_path(c, key, tok) || !parse_add_to_list(c, ud, tok, required))
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
int parse_tok_plain_path(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	size_t n = strlen(tok);

	if (tok[0] == '!' || tok[0] == '?')
		return parse_fail(c, key, "'%s': '%c' has no meaning here", tok, tok[0]);
	if (!check_path(c, key, tok) || !parse_add_to_list(c, ud, tok, false))
		return 0;
	struct policy_list *l = ud;
	l->items[l->n - 1].is_dir = n > 1 && tok[n - 1] == '/';
	return 1;
}

/* private_env = VAR=PATH */
int parse_tok_private_env(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *eq = strchr(tok, '=');

	if (!eq || !parse_valid_env_name(tok, (size_t)(eq - tok), false))
		return parse_fail(c, key, "'%s' is not VAR=PATH", tok);
	if (!check_path(c, key, eq + 1))
		return 0;
	return parse_add_to_list(c, ud, tok, false);
}

bool parse_valid_env_name(const char *s, size_t n, bool glob)
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

int parse_tok_env_glob(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	if (!parse_valid_env_name(tok, strlen(tok), true))
		return parse_fail(
		    c, key, "'%s' is not a variable name or glob (letters, digits, _, * and ?)",
		    tok);
	return parse_add_to_list(c, ud, tok, false);
}

int parse_tok_env_set(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	const char *eq = strchr(tok, '=');

	if (!eq || !parse_valid_env_name(tok, (size_t)(eq - tok), false))
		return parse_fail(c, key, "'%s' is not NAME=VALUE", tok);
	return parse_add_to_list(c, ud, tok, false);
}

int parse_tok_syscall(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	for (const char *s = tok; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return parse_fail(c, key, "'%s' is not a system call name", tok);
	return parse_add_to_list(c, ud, tok, false);
}

/* ---- scalars ----------------------------------------------------------- */

int parse_choice(struct parse_ctx *c, const char *key, const char *value, const char *const *names,
		 size_t n, int *ret)
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
		return parse_fail(c, key, "'%s' is not one of %s (did you mean '%s'?)", value, list,
				  near);
	return parse_fail(c, key, "'%s' is not one of %s", value, list);
}

int parse_bool(struct parse_ctx *c, const char *key, const char *value, bool *ret)
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
	return parse_fail(c, key, "'%s' is not yes or no", value);
}

int parse_set_string(struct parse_ctx *c, char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return parse_fail(c, NULL, "out of memory");
	free(*dst);
	*dst = s;
	return 1;
}

/* A scalar may be set once per file; a later file (the includer) overrides. */
int parse_scalar_once(struct parse_ctx *c, enum scalar_id id, const char *key)
{
	if (c->scalar_line[id])
		return parse_fail(c, key, "set twice in this file (first on line %u)",
				  c->scalar_line[id]);
	c->scalar_line[id] = c->line;
	return 1;
}

int parse_single_token(struct parse_ctx *c, const char *key, const char *value)
{
	if (!*value)
		return parse_fail(c, key, "needs a value");
	for (const char *s = value; *s; s++)
		if (isspace((unsigned char)*s))
			return parse_fail(c, key, "takes one value, not a list");
	return 1;
}

/* A duration: whole milliseconds ("500ms") or seconds ("30s"), from 100ms
 * (shorter would refuse nearly everything: a typo) to the timer's default.
 * A policy only ever shortens a timer, so that it refuses more, never
 * less. */
int parse_timer(struct parse_ctx *c, const char *k, const char *value, enum policy_net_timer t)
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
		return parse_fail(c, k, "'%s' is not a duration from 100ms to %us (e.g. 5s, 500ms)",
				  value, (unsigned)(max / 1000));
	c->p->net.timeout_ms[t] = (uint32_t)v;
	return 1;
}

/* A duration for a [credential] key: N followed by ms, s, m or h, from MIN
 * to MAX milliseconds. */
int parse_cred_duration(struct parse_ctx *c, const char *k, const char *value, uint32_t min,
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
		return parse_fail(c, k,
				  "'%s' is not a duration from %ums to %us (e.g. 10s, 5m, 1h)",
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
int parse_inject(struct parse_ctx *c, const char *k, const char *value,
		 struct policy_credential *cr)
{
	/* arrays: supervisor/supervisor.h's sc_entry says why */
	STRING_TABLE_BEGIN
	static const char hop[][24] = {"host",
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
	STRING_TABLE_END
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
			return parse_fail(c, k, "'%s' is not a header name", arg);
		for (size_t i = 0; i < ARRAY_SIZE(hop); i++)
			if (strcasecmp(arg, hop[i]) == 0)
				return parse_fail(
				    c, k, "the proxy writes %s itself: not a header for a secret",
				    arg);
		cr->inject = POLICY_INJECT_HEADER;
	} else if (KIND("basic") && arg) {
		if (!*arg)
			return parse_fail(c, k, "basic:USER needs a user name");
		for (const char *s = arg; *s; s++)
			if (*s == ':' || (unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
				return parse_fail(c, k,
						  "'%s': a Basic user name has no ':', blank or "
						  "control character",
						  arg);
		cr->inject = POLICY_INJECT_BASIC_PASSWORD;
	} else if (KIND("query") && arg) {
		if (!*arg)
			return parse_fail(c, k, "query:NAME needs a parameter name");
		for (const char *s = arg; *s; s++)
			if (!(isalnum((unsigned char)*s) || strchr("-._~", *s)))
				return parse_fail(c, k,
						  "'%s': a query parameter name here is made of "
						  "A-Z, a-z, 0-9, -, ., _ and ~",
						  arg);
		cr->inject = POLICY_INJECT_QUERY;
	} else {
		return parse_fail(c, k,
				  "'%s' is not replace, header:NAME, bearer, basic:USER, "
				  "basic-user or query:NAME",
				  value);
	}
#undef KIND
	if (arg && parse_set_string(c, &cr->inject_arg, arg) == 0)
		return 0;
	return 1;
}

int parse_tok_argv(struct parse_ctx *c, const char *key, char *tok, void *ud)
{
	(void)key;
	return parse_add_to_list(c, ud, tok, false);
}

int parse_rlimit(struct parse_ctx *c, const char *k, const char *value,
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
			return parse_fail(c, k, "'%s' is not a number or 'unlimited'", value);
		rl->value = v;
	}
	rl->set = true;
	rl->origin = parse_here(c);
	return 1;
}
