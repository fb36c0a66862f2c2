/* SPDX-License-Identifier: MIT */
/*
 * A seeded settings file's "env" object scrubbed of secrets (state_seed.c
 * says which files).  Claude Code's settings.json takes an "env" object,
 * the variables it sets for itself and every tool it runs, and its
 * documentation puts ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY and AWS_*
 * keys there: copied into the sandbox's private copy, a real token sat
 * where the agent reads it and the placeholder swap never saw it (an
 * outside review).  Each member of a top-level "env" object whose name
 * says it holds a secret (env_secret_name()), or whose value does
 * (env_secret_value()), or whose value is not a string, number, true,
 * false or null, is blanked with spaces, with one comma beside it: the
 * text stays valid JSON, every other byte where it was.
 *
 * Parsed by hand, strictly, as JSON.parse does (which is how the CLI reads
 * it): only the spans of one object's members are needed and the user's
 * bytes are kept as they were, which no JSON library linked in would do,
 * and none is linked.  A file that is not strict JSON is refused whole
 * (the caller does not copy it): what this parser does not understand
 * must not leak.  Names and string values are decoded (\u escapes, a
 * "\u0065nv" key) before they are looked at; every top-level "env" is
 * scrubbed, since JSON.parse keeps the last of duplicate keys.  Nesting
 * is limited to SEED_JSON_DEPTH; the size is the seed's file limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state_internal.h"

struct jp {
	char *s;
	size_t n, i;
	char *names; /* the names blanked, for the caller's message */
	size_t size, used;
	int blanked;
};

static void skip_ws(struct jp *p)
{
	while (p->i < p->n && strchr(" \t\n\r", p->s[p->i]) && p->s[p->i])
		p->i++;
}

static int hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		char c = s[k];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -EINVAL;
		v = v << 4 | (unsigned)d;
	}
	*ret = v;
	return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The string at P (its opening quote), checked and skipped.  With OUT
 * (room for the raw length plus one: a decoded string is never longer),
 * decoded there, NUL-terminated, and *HAS_NUL set when it holds a \u0000,
 * which a C string would hide the rest behind.  A lone surrogate is
 * encoded as it stands (JSON.parse keeps it).
 */
static int parse_string(struct jp *p, char *out, bool *has_nul)
{
	size_t o = 0;

	p->i++; /* the quote */
	for (;;) {
		if (p->i >= p->n)
			return -EINVAL;
		unsigned char c = (unsigned char)p->s[p->i++];
		unsigned cp;
		if (c == '"')
			break;
		if (c < 0x20)
			return -EINVAL; /* a raw control character (a line end) */
		if (c != '\\') {
			if (out)
				out[o++] = (char)c;
			continue;
		}
		if (p->i >= p->n)
			return -EINVAL;
		c = (unsigned char)p->s[p->i++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			cp = c;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (p->n - p->i < 4 || hex4(p->s + p->i, &cp) < 0)
				return -EINVAL;
			p->i += 4;
			/* a surrogate pair is one character */
			unsigned lo;
			if (cp >= 0xd800 && cp < 0xdc00 && p->n - p->i >= 6 && p->s[p->i] == '\\' &&
			    p->s[p->i + 1] == 'u' && hex4(p->s + p->i + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p->i += 6;
			}
			break;
		default:
			return -EINVAL;
		}
		if (cp == 0 && has_nul)
			*has_nul = true;
		if (out)
			o += put_utf8(out + o, cp);
	}
	if (out)
		out[o] = '\0';
	return 0;
}

static bool digit(const struct jp *p)
{
	return p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct jp *p)
{
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (!digit(p))
		return -EINVAL;
	if (p->s[p->i++] != '0')
		while (digit(p))
			p->i++;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (!digit(p))
			return -EINVAL;
		while (digit(p))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!digit(p))
			return -EINVAL;
		while (digit(p))
			p->i++;
	}
	return 0;
}

/* The string at P decoded into *RET (owned), as parse_string() does. */
static int dup_string(struct jp *p, char **ret, bool *has_nul)
{
	size_t at;

	/* its raw length, which the decoded one never exceeds */
	for (at = p->i + 1; at < p->n && p->s[at] != '"'; at++)
		if (p->s[at] == '\\')
			at++;
	*ret = malloc(at - p->i + 1);
	if (!*ret)
		return -ENOMEM;
	return parse_string(p, *ret, has_nul);
}

/* How a container's members are read: an "env" object's by their names
 * and values (JP_ENV); the top level's (JP_TOP) and every other's
 * (JP_PLAIN) by their string values, and names for those (an outside
 * review: a hook's command with a webhook URL, a status line's Bearer
 * header, an MCP server's env, a marketplace's URL with a token). */
enum jp_mode {
	JP_PLAIN = 0,
	JP_TOP,
	JP_ENV,
	JP_KEEP, /* "permissions": its rules are the user's guard, kept as they are */
	JP_MODE_MAX,
};

static int parse_value(struct jp *p, int depth);
static int parse_container(struct jp *p, int depth, enum jp_mode mode);

/* NAME, printable, added to the names said (cut with "..." when full). */
static void say_name(struct jp *p, const char *name)
{
	static const char more[] = " ...";
	size_t need = strlen(name) + 1;

	if (!p->names || p->size < sizeof(more) || strstr(p->names, more))
		return;
	if (p->used + need + sizeof(more) > p->size) {
		memcpy(p->names + p->used, more, sizeof(more));
		p->used += sizeof(more) - 1;
		return;
	}
	if (p->used)
		p->names[p->used++] = ' ';
	for (const char *s = name; *s; s++)
		p->names[p->used++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	p->names[p->used] = '\0';
}

/*
 * An "env" member's value, at P, after its NAME, whose quote is at START:
 * the member blanked when its name or value may hold a secret, *KEPT false
 * then.  A name or value holding \u0000 is blanked too (what follows the
 * NUL would not be looked at); so is a value that is an object or an
 * array (a variable's value is a string: not looked into, not kept).
 */
static int scrub_member(struct jp *p, const char *name, bool name_nul, size_t start, int depth,
			bool *kept, bool always)
{
	_cleanup_free_ char *value = NULL;
	bool nul = false, secret = always || name_nul || env_secret_name(name);
	int r;

	if (p->s[p->i] == '"') {
		r = dup_string(p, &value, &nul);
		secret = secret || nul || (r == 0 && env_secret_value(value));
	} else {
		secret = secret || p->s[p->i] == '{' || p->s[p->i] == '[';
		r = parse_value(p, depth);
	}
	if (r < 0)
		return r;
	*kept = !secret;
	if (secret) {
		for (size_t k = start; k < p->i; k++)
			if (!strchr(" \t\n\r", p->s[k]))
				p->s[k] = ' ';
		say_name(p, name);
		p->blanked++;
	}
	return 0;
}

/* An array's string element at P: blanked, *KEPT false, when it holds a
 * secret (an MCP server's argument: postgresql://admin:PW@host/db), or
 * follows an option that names one (*FLAG: "--api-key", "--token"), which
 * is set for the next. */
static int scrub_element(struct jp *p, bool *kept, bool *flag)
{
	_cleanup_free_ char *value = NULL;
	size_t start = p->i;
	bool nul = false, after = *flag;
	int r = dup_string(p, &value, &nul);

	if (r < 0)
		return r;
	*flag = !nul && value[0] == '-' && !strchr(value, '=') && env_secret_name(value);
	*kept = !(nul || after || env_secret_value(value));
	if (!*kept) {
		memset(p->s + start, ' ', p->i - start);
		say_name(p, "[...]");
		p->blanked++;
	}
	return 0;
}

/* Claude Code's settings that name a command printing a credential */
STRING_TABLE_BEGIN
static const char helpers[][20] = {"apiKeyHelper", "awsAuthRefresh", "awsCredentialExport",
				   "otelHeadersHelper"};
STRING_TABLE_END

/* An object's member at P (its name's quote), through its value. */
static int parse_member(struct jp *p, int depth, enum jp_mode mode, bool *kept)
{
	_cleanup_free_ char *name = NULL;
	size_t start = p->i;
	bool nul = false;
	int r;

	r = dup_string(p, &name, &nul);
	if (r < 0)
		return r;
	skip_ws(p);
	if (p->i >= p->n || p->s[p->i++] != ':')
		return -EINVAL;
	skip_ws(p);
	if (p->i >= p->n)
		return -EINVAL;
	/* a name that is itself a secret (an outside review: a map of
	 * tokens to what they open), blanked with its value, and said as
	 * a name's place, not by itself */
	if (!nul && env_secret_value(name))
		return scrub_member(p, "[name]", nul, start, depth, kept, true);
	switch (mode) {
	case JP_TOP:
		/* the commands that print a key or headers for the CLI (an
		 * outside review: `echo KEY` copied as it was) */
		for (size_t k = 0; !nul && k < ARRAY_SIZE(helpers); k++)
			if (strcmp(name, helpers[k]) == 0)
				return scrub_member(p, name, nul, start, depth, kept, true);
		/* fall through */
	case JP_PLAIN:
		/* every "env" (JSON.parse keeps the last of duplicate keys;
		 * an MCP server's, a hook's): as the top level's */
		if (!nul && strcmp(name, "env") == 0 && p->s[p->i] == '{')
			return parse_container(p, depth, JP_ENV);
		/* the permission rules (an outside review: "Bash(export
		 * GITHUB_TOKEN=*)" denied nothing once blanked) */
		if (!nul && strcmp(name, "permissions") == 0 &&
		    (p->s[p->i] == '{' || p->s[p->i] == '['))
			return parse_container(p, depth, JP_KEEP);
		if (p->s[p->i] == '"')
			return scrub_member(p, name, nul, start, depth, kept, false);
		return parse_value(p, depth);
	case JP_ENV:
		return scrub_member(p, name, nul, start, depth, kept, false);
	case JP_KEEP:
		if (p->s[p->i] == '{' || p->s[p->i] == '[')
			return parse_container(p, depth, JP_KEEP);
		return parse_value(p, depth);
	case JP_MODE_MAX:
	default:
		return -EINVAL;
	}
}

/*
 * The object or array at P, through its closing bracket.  Of an "env"
 * object's members, those blanked take a comma with them: the commas kept
 * are those between two members kept, the one before each member kept
 * that follows another kept.
 */
static int parse_container(struct jp *p, int depth, enum jp_mode mode)
{
	char close = p->s[p->i] == '{' ? '}' : ']';
	bool kept_before = false, flag = false;
	size_t comma = SIZE_MAX; /* the comma before this member */

	if (depth >= SEED_JSON_DEPTH)
		return -ELOOP;
	p->i++;
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	for (;;) {
		int r;
		bool kept = true;
		skip_ws(p);
		if (close == ']' && mode != JP_KEEP && p->i < p->n && p->s[p->i] == '"')
			r = scrub_element(p, &kept, &flag);
		else if (close == ']')
			r = parse_value(p, depth + 1);
		else if (p->i >= p->n || p->s[p->i] != '"')
			r = -EINVAL;
		else
			r = parse_member(p, depth + 1, mode, &kept);
		if (r < 0)
			return r;
		if (comma != SIZE_MAX && !(kept && kept_before))
			p->s[comma] = ' ';
		kept_before |= kept;
		skip_ws(p);
		if (p->i >= p->n)
			return -EINVAL;
		if (p->s[p->i] == close) {
			p->i++;
			return 0;
		}
		if (p->s[p->i] != ',')
			return -EINVAL;
		comma = p->i++;
	}
}

static int parse_value(struct jp *p, int depth)
{
	static const char *const words[] = {"true", "false", "null"};

	skip_ws(p);
	if (p->i >= p->n)
		return -EINVAL;
	switch (p->s[p->i]) {
	case '{':
	case '[':
		return parse_container(p, depth, JP_PLAIN);
	case '"':
		return parse_string(p, NULL, NULL);
	default:
		break;
	}
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		size_t l = strlen(words[k]);
		if (p->n - p->i >= l && memcmp(p->s + p->i, words[k], l) == 0) {
			p->i += l;
			return 0;
		}
	}
	return parse_number(p);
}

int seed_json_scrub(char *buf, size_t len, char *names, size_t size)
{
	struct jp p = {.s = buf, .n = len, .names = names, .size = size};
	int r;

	if (names && size)
		names[0] = '\0';
	skip_ws(&p);
	if (p.i < p.n && p.s[p.i] == '{')
		r = parse_container(&p, 0, JP_TOP);
	else
		r = parse_value(&p, 0);
	if (r < 0)
		return r;
	skip_ws(&p);
	return p.i == p.n ? p.blanked : -EINVAL;
}
