/* SPDX-License-Identifier: MIT */
/*
 * The command's environment: only what env_keep names (globs; a name that
 * says it holds a secret only when named whole: env_secret_name()), then env_set,
 * then what the sandbox itself must say (HOME and friends for run_as, TMPDIR
 * for the private temporary directory).  Everything else is dropped, so
 * tokens in the caller's environment do not reach the command by default.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

/* arrays: supervisor/supervisor.h's sc_entry says why */
STRING_TABLE_BEGIN
static const char default_keep[][24] = {
    "PATH",	 "HOME", "USER",     "LOGNAME", "SHELL", "TERM",
    "COLORTERM", "LANG", "LANGUAGE", "LC_*",	"TZ",
};
STRING_TABLE_END

bool env_glob_match(const struct policy_list *keep, bool keep_set, const char *name)
{
	if (!keep_set) {
		for (size_t i = 0; i < ARRAY_SIZE(default_keep); i++)
			if (fnmatch(default_keep[i], name, 0) == 0)
				return true;
		return false;
	}
	for (size_t i = 0; i < keep->n; i++)
		if (fnmatch(keep->items[i].value, name, 0) == 0)
			return true;
	return false;
}

/*
 * A name that says its variable holds a secret (a token, a key, a
 * password): passed only where env_keep names it whole, never by a
 * pattern.  An outside review: CLAUDE_CODE_* passed Claude Code's OAuth
 * refresh token, QWEN_* the Qwen server's token, GEMINI_CLI_* the IDE
 * server's, each a real secret the command could send anywhere the policy
 * reaches.  The words, in any case, anywhere in the name (TOKENS, a
 * count, is none), and the ends (_KEY, _PAT, _AUTH, ... at the end only:
 * KEYBOARD, PATH and AUTHOR say nothing).
 */
STRING_TABLE_BEGIN
static const char secret_words[][12] = {
    "TOKEN",  "SECRET",	     "PASSWORD", "PASSWD",     "PASSPHRASE", "CREDENTIAL", "API_KEY",
    "APIKEY", "PRIVATE_KEY", "COOKIE",	 "ACCESS_KEY", "JWT",	     "WEBHOOK",	   "AUTH_CONFIG",
};
static const char secret_ends[][12] = {"_KEY", "_PAT",	   "_AUTH",  "_PASS", "_PW",
				       "_PWD", "_SESSION", "_CREDS", "_DSN",  "_HEADERS"};
STRING_TABLE_END

static bool name_says(const char *name, bool ends);

bool env_secret_name(const char *name)
{
	return name_says(name, true);
}

/* Whether NAME says a secret by its words (PASSWORD, TOKEN, API_KEY), and
 * with ENDS by its ends too (_KEY, _AUTH, _PW). */
static bool name_says(const char *name, bool ends)
{
	char up[256];
	size_t n = strlen(name);

	if (n >= sizeof(up))
		return true; /* (no such name is kept: put_kept() takes 255) */
	/* (a header's name too: X-Api-Key) */
	for (size_t i = 0; i <= n; i++)
		up[i] = name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 'a' + 'A')
			: name[i] == '-'		 ? '_'
							 : name[i];
	for (size_t i = 0; i < ARRAY_SIZE(secret_words); i++) {
		const char *at = up;
		while ((at = strstr(at, secret_words[i]))) {
			/* (a count: MAX_OUTPUT_TOKENS) */
			if (!(i == 0 && at[5] == 'S'))
				return true;
			at++;
		}
	}
	/* 1Password's CLI: OP_SESSION_<account> unlocks the vault */
	if (strncmp(up, "OP_SESSION_", 11) == 0)
		return true;
	for (size_t i = 0; ends && i < ARRAY_SIZE(secret_ends); i++) {
		size_t l = strlen(secret_ends[i]);
		if (n >= l && strcmp(up + n - l, secret_ends[i]) == 0)
			return true;
	}
	return false;
}

STRING_TABLE_BEGIN
/* headers that carry a key (the name before ':' or '=') */
static const char header_names[][20] = {"x-api-key",	 "api-key",	   "x-auth-token",
					"private-token", "x-goog-api-key", "x-honeycomb-team"};
/* keys whose first characters say what they are */
static const char token_prefixes[][12] = {
    "-----BEGIN", /* (first: in any text, only at a line's start) */
    "sk-ant-",	  "sk-proj-",  "sk-or-",      "sk-svcacct-", "ghp_",	"gho_",	   "ghu_",
    "ghs_",	  "ghr_",      "github_pat_", "glpat-",	     "glrt-",	"xoxb-",   "xoxp-",
    "xapp-",	  "hf_",       "npm_",	      "pypi-",	     "AKIA",	"ASIA",	   "AIza",
    "sk_live_",	  "rk_live_",  "sk_test_",    "whsec_",	     "tvly-",	"GOCSPX-", "dop_v1_",
    "gsk_",	  "dckr_pat_", "ntn_",	      "lin_api_",    "sntrys_", "shpat_",  "r8_",
    "pplx-",	  "ATATT",     "SG."};
STRING_TABLE_END

static bool keylike(const char *v);
static size_t token_len(const char *s);

/* Whether the word at V (to a blank, a quote, ';' or its end) is a
 * switch's value (1, 0, true, false, yes, no, on, off): no secret. */
static bool flag_word(const char *v)
{
	STRING_TABLE_BEGIN
	static const char flags[][6] = {"0", "1", "true", "false", "yes", "no", "on", "off"};
	STRING_TABLE_END
	size_t n = strcspn(v, " \t\"';&|)");

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (strlen(flags[i]) == n && strncasecmp(v, flags[i], n) == 0)
			return true;
	return false;
}

/* The words of an option's name that say it takes a secret (in lower
 * case, '_' read as '-'), and the ends that take none though the name
 * says one: where it is (--token-file), how it comes (--password-stdin),
 * what names it (--secret-id). */
STRING_TABLE_BEGIN
static const char option_words[][12] = {"token",      "secret",	    "password", "passwd",
					"passphrase", "credential", "api-key",	"apikey",
					"access-key", "auth-key",   "cookie",	"bearer"};
static const char option_not[][8] = {"file", "path", "dir",	"stdin",  "fd",	 "env",
				     "var",  "cmd",  "command", "helper", "id",	 "name",
				     "arn",  "url",  "type",	"length", "ttl", "jar"};
STRING_TABLE_END

/* Whether the word at ARG (an option's argument, maybe quoted) is a value
 * given there: not empty, not another option, not a variable's ($X: what
 * the shell puts there is no secret of the text's), nor a placeholder's. */
static bool word_at(const char *arg)
{
	arg += *arg == '"' || *arg == '\'';
	/* (nor a format's, a command's, a template's: %s, `cmd`, {token}, <key>) */
	return *arg && !strchr(" \t\"'-$%`{<(", *arg);
}

/* Whether the option NAME (K bytes, after its dashes) says it takes a
 * secret. */
static bool option_named(const char *name, size_t k)
{
	char w[64];
	bool said = false;

	if (k < 2 || k >= sizeof(w) || strncmp(name, "no-", 3) == 0)
		return false;
	for (size_t i = 0; i < k; i++)
		w[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	w[k] = '\0';
	for (size_t i = 0; !said && i < ARRAY_SIZE(option_words); i++)
		said = strstr(w, option_words[i]) != NULL;
	said |= k >= 4 && strcmp(w + k - 4, "pass") == 0; /* -storepass, -pass */
	for (size_t i = 0; said && i < ARRAY_SIZE(option_not); i++) {
		size_t l = strlen(option_not[i]);
		said = !(k > l && strcmp(w + k - l, option_not[i]) == 0 && w[k - l - 1] == '-');
	}
	return said;
}

/* Whether ARG (curl's -u's) is USER:PASSWORD, the password written there
 * (not a variable; not docker's UID:GID). */
static bool user_password(const char *arg)
{
	arg += *arg == '"' || *arg == '\'';
	size_t w = strcspn(arg, " \t\"'");
	const char *colon = memchr(arg, ':', w);

	if (!colon || colon == arg || colon + 1 >= arg + w || colon[1] == '$' ||
	    env_placeholder(colon + 1, (size_t)(arg + w - colon - 1)))
		return false;
	return strspn(colon + 1, "0123456789") < (size_t)(arg + w - colon - 1);
}

/*
 * Whether TEXT gives a command a secret by an option (an outside review:
 * git's core.sshCommand = sshpass -p PASSWORD ssh): an option whose name
 * says it (--password=X, --token X, -storepass X; not --token-file X, not
 * --password-stdin), sshpass's -p X, -pX, -p'X'; mysql's -pX; openssl's
 * pass:X (not file:, env:); curl's -u USER:PASSWORD, -uUSER:PASSWORD.  A
 * variable in the value's place ($TOKEN) is none.
 */
static bool option_secret(const char *text)
{
	bool curl = strstr(text, "curl") != NULL;
	bool pw_p = strstr(text, "sshpass") || strstr(text, "mysql") || strstr(text, "mariadb");

	for (const char *v = text; *v; v++) {
		if (v != text && !strchr(" \t\"'(=", v[-1]))
			continue;
		if (strncmp(v, "pass:", 5) == 0 && word_at(v + 5))
			return true;
		if (*v != '-')
			continue;
		const char *name = v + (v[1] == '-' ? 2 : 1);
		bool one = name == v + 1;
		/* sshpass -pX, mysql -pX, -p'X': what follows is the password;
		 * curl -uUSER:PASSWORD */
		if (one && name[0] == 'p' && pw_p && name[1] && !strchr(" \t", name[1]) &&
		    word_at(name + 1))
			return true;
		if (one && name[0] == 'u' && curl && name[1] && user_password(name + 1))
			return true;
		size_t k = strspn(
		    name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
		const char *arg = name + k;
		if (!k)
			continue;
		if (*arg == '=')
			arg++;
		else if (*arg == ' ' || *arg == '\t')
			arg += strspn(arg, " \t");
		else if (*arg)
			continue;
		/* openssl's -k X, its password */
		if (one && k == 1 && name[0] == 'k' && strstr(text, "openssl") && word_at(arg))
			return true;
		/* sshpass -p X (mysql's -p X asks for one) */
		if (one && k == 1 && name[0] == 'p' && strstr(text, "sshpass") && word_at(arg))
			return true;
		if (curl &&
		    ((one && k == 1 && name[0] == 'u') ||
		     (!one && k == 4 && strncmp(name, "user", 4) == 0)) &&
		    user_password(arg))
			return true;
		/* openssl's -pass file:F, env:V, fd:N, stdin: where it is */
		if (strncmp(arg, "file:", 5) == 0 || strncmp(arg, "env:", 4) == 0 ||
		    strncmp(arg, "fd:", 3) == 0 || strncmp(arg, "stdin", 5) == 0)
			continue;
		if (word_at(arg) && option_named(name, k))
			return true;
	}
	return false;
}

/*
 * Whether TEXT sets a variable named as a secret's to a value written
 * there (an outside review: `PGPASSWORD=... psql` in a hook's command,
 * `!AWS_SECRET_ACCESS_KEY=... aws` in a git alias), not to a variable's
 * or a command's ($TOKEN, $(pass show x)).
 */
static bool assignment_secret(const char *text)
{
	for (const char *v = text; *v; v++) {
		if ((v != text && !strchr(" \t\"'(;!`", v[-1])) ||
		    !(isalpha((unsigned char)*v) || *v == '_'))
			continue;
		size_t k =
		    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		char name[128];
		if (v[k] != '=' || k >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)k, v);
		if (env_secret_assigned(name, v + k + 1))
			return true;
	}
	return false;
}

bool env_secret_assigned(const char *name, const char *value)
{
	size_t n = strlen(name);

	if (!word_at(value) || !env_secret_name(name))
		return false;
	value += *value == '"' || *value == '\'';
	if (env_placeholder(value, token_len(value)) || flag_word(value))
		return false;
	/* a name that says it by a word (PGPASSWORD) or a password's end
	 * (DB_PASS, SMTP_PW, REDIS_AUTH: a review) takes any value; one
	 * that says it by _KEY or _SESSION alone (cache_key, sort_key, a
	 * review) what looks like a key */
	if (name_says(name, false) || !((n >= 4 && strcasecmp(name + n - 4, "_KEY") == 0) ||
					(n >= 8 && strcasecmp(name + n - 8, "_SESSION") == 0)))
		return true;
	return keylike(value);
}

/* Whether the text at V is a credential by its look: a run of 16 or more
 * characters a key or its base64 is written in, with a letter and a digit
 * (not a word of prose: "Basic usage", "bearer tokens"). */
static bool keylike(const char *v)
{
	size_t n =
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~+/=-");
	bool digit = false, alpha = false;

	for (size_t i = 0; i < n; i++) {
		digit |= v[i] >= '0' && v[i] <= '9';
		alpha |= isalpha((unsigned char)v[i]) != 0;
	}
	return n >= 16 && digit && alpha && !env_placeholder(v, n);
}

/* Whether V begins an Authorization header's credentials written there
 * (Bearer X, Basic X, Authorization: Token X), not a variable's
 * (Bearer $GITHUB_TOKEN).  In the header anything written there is; a
 * scheme alone only before what looks like a credential (a review: "basic
 * scaffolding" in a commit message; when STRICT, in any text, "Basic
 * usage:", "Authorization header"). */
static bool auth_secret(const char *v, bool strict)
{
	STRING_TABLE_BEGIN
	static const char schemes[][8] = {"Bearer ", "Basic ", "Token "};
	STRING_TABLE_END
	bool header = strncasecmp(v, "Authorization", 13) == 0, sep = false;

	if (header) {
		/* (the header's separator, not a word after it; a map's
		 * member: headers["Authorization"] = "token X"; or a scheme
		 * right after the name: "Authorization Bearer X", a review) */
		v += 13 + strspn(v + 13, "\"' \t]");
		sep = *v == ':' || *v == '=';
		v += sep ? 1 + strspn(v + 1, " \t\"'") : 0;
	}
	/* ("Token X" only in the header: `token = X` is a key's line) */
	for (size_t i = 0; i < ARRAY_SIZE(schemes) - !header; i++)
		if ((strict && !header ? strncmp : strncasecmp)(v, schemes[i],
								strlen(schemes[i])) == 0) {
			bool capital = v[0] >= 'A' && v[0] <= 'Z';
			v += strlen(schemes[i]);
			v += strspn(v, " \t");
			/* in a header: a credential of 8 or more; a scheme alone,
			 * in any text, only before what looks like a key; in a
			 * value, Bearer X or Basic X as a header writes it, a
			 * lower-case one (prose: "basic scaffolding") only
			 * before what is no word */
			if (header)
				return word_at(v) && !strchr("=:", *v) &&
				       (!strict ||
					(token_len(v) >= 8 && !env_placeholder(v, token_len(v))));
			if (strict)
				return keylike(v);
			/* (a capitalised one before a word of prose, a review:
			 * "Basic porcelain support" in git's own tests) */
			return word_at(v) && token_len(v) >= 6 &&
			       ((capital &&
				 (token_len(v) >= 16 ||
				  strspn(v, "abcdefghijklmnopqrstuvwxyz") < token_len(v))) ||
				strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") <
				    token_len(v));
		}
	return header && sep && (strict ? keylike(v) : word_at(v));
}

bool env_placeholder(const char *s, size_t len)
{
	STRING_TABLE_BEGIN
	static const char words[][10] = {"password", "pass",   "passwd",   "pwd",
					 "secret",   "token",  "changeme", "example",
					 "key",	     "apikey", "user",	   "username"};
	STRING_TABLE_END
	size_t upper = 0;

	if (!len || strchr("<*.&[{", *s)) /* (<password>, &lt;password&gt;, [pw], {{pw}}) */
		return true;
	for (size_t i = 0; i < len; i++)
		upper += (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_';
	if (upper == len && memchr(s, '_', len)) /* YOUR_TOKEN, API_KEY */
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
			return true;
	for (size_t i = 0; i + 4 <= len; i++)
		if (strncasecmp(s + i, "xxxx", 4) == 0 || strncmp(s + i, "EXAMPLE", 7) == 0 ||
		    strncmp(s + i, "...", 3) == 0)
			return true;
	return false;
}

/* The length of the token at S (letters, digits, and -_./+=) */
static size_t token_len(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+=");
}

bool env_query_secret(const char *text)
{
	STRING_TABLE_BEGIN
	static const char ends[][12] = {
	    "token",   "secret",     "password",  "passwd",	"pwd",	       "apikey", "api_key",
	    "api-key", "access_key", "accesskey", "secret_key", "private_key", "auth"};
	STRING_TABLE_END

	for (const char *q = strpbrk(text, "?&"); q; q = strpbrk(q + 1, "?&")) {
		size_t k = strcspn(q + 1, "=&#? \t\"'");
		const char *name = q + 1, *val = q + 2 + k;
		if (name[k] != '=' || !word_at(val) || env_placeholder(val, token_len(val)) ||
		    strncasecmp(name, "page", 4) == 0 || strncasecmp(name, "next", 4) == 0)
			continue;
		if (k == 3 && strncasecmp(name, "key", 3) == 0)
			return true; /* ?key= (Google's) */
		for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
			size_t l = strlen(ends[i]);
			if (k >= l && strncasecmp(name + k - l, ends[i], l) == 0)
				return true;
		}
	}
	return false;
}

bool env_webhook(const char *text)
{
	STRING_TABLE_BEGIN
	static const char hooks[][28] = {"hooks.slack.com/services/",	"discord.com/api/webhooks/",
					 "discordapp.com/api/webhooks", "api.telegram.org/bot",
					 "hooks.zapier.com/hooks/",	"webhook.office.com/"};
	STRING_TABLE_END

	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		const char *h = strcasestr(text, hooks[i]);
		/* (a bot's token: 123456:ABC...) */
		if (h &&
		    strspn(h + strlen(hooks[i]),
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789-_/:") >= 8 &&
		    !env_placeholder(h + strlen(hooks[i]), token_len(h + strlen(hooks[i]))))
			return true;
	}
	return false;
}

/* Whether V, at a word's start, is a header that carries a key, written
 * there (x-api-key: KEY; X-Vault-Token: T; PRIVATE-TOKEN=T; not
 * x-api-key: $KEY). */
static bool header_secret(const char *v, bool strict)
{
	STRING_TABLE_BEGIN
	static const char ends[][10] = {"-token", "-key", "-secret", "-password", "-auth"};
	STRING_TABLE_END
	size_t k = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
	const char *val = v + k;

	/* (a name quoted as a map's key: {"X-Vault-Token": "T"}) */
	if (k && (*val == '"' || *val == '\''))
		val += 1 + strspn(val + 1, " \t");
	if (!k || (*val != ':' && *val != '='))
		return false;
	val += 1 + strspn(val + 1, " \t");
	if (!word_at(val))
		return false;
	val += *val == '"' || *val == '\'';
	if (env_placeholder(val, token_len(val)))
		return false;
	/* a header known to carry a key: what is written there (in any text,
	 * 8 or more); one by its name's end: in any text, a key's look */
	for (size_t i = 0; i < ARRAY_SIZE(header_names); i++)
		if (strlen(header_names[i]) == k && strncasecmp(v, header_names[i], k) == 0)
			return !strict || token_len(val) >= 8;
	if (strict && !keylike(val))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		size_t l = strlen(ends[i]);
		if (k > l && strncasecmp(v + k - l, ends[i], l) == 0)
			return true;
	}
	return false;
}

/* Whether the token at V, which begins as a key's prefix P (L bytes) does,
 * is one: long enough, no example's (AKIAIOSFODNN7EXAMPLE), a private
 * key's PEM (not a certificate's). */
static bool prefixed_key(const char *v, const char *p, size_t l, bool strict)
{
	size_t run;
	bool digit = false;

	if (strncmp(v, p, l) != 0 || strlen(v + l) < 8)
		return false;
	if (strcmp(p, "-----BEGIN") == 0)
		return strstr(v, "PRIVATE KEY") != NULL;
	if (env_placeholder(v + l, token_len(v + l)))
		return false;
	if (!strict)
		return true;
	/* in any text, the key's own run after its prefix: 12 or more,
	 * with a digit (npm_package_name, hf_hub_download are names) */
	run = strspn(v + l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
	for (size_t i = 0; i < run; i++)
		digit |= v[l + i] >= '0' && v[l + i] <= '9';
	return run >= 12 && digit;
}

/* Whether V (eyJ...) is a JSON Web Token: three parts of base64url, the
 * first two of 10 or more characters. */
static bool jwt_like(const char *v)
{
	static const char b64url[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	size_t a = strspn(v, b64url), b;

	if (a < 10 || v[a] != '.')
		return false;
	b = strspn(v + a + 1, b64url);
	return b >= 10 && v[a + 1 + b] == '.';
}

/* Whether LINE, code, sets a constant named as a secret's to a string
 * written there (a review: a Python hook's `PASSWORD = "..."`,
 * `SLACK_TOKEN = "..."`; `export DB_PASS=...` a script's): a name in
 * capitals that says so (not one naming where or what a secret is:
 * TOKEN_URL, PASSWORD_FIELD), a string of 6 or more without a blank. */
static bool constant_secret(const char *line)
{
	STRING_TABLE_BEGIN
	static const char not_ends[][9] = {"_URL",    "_URI",	 "_TYPE",  "_NAME",    "_FIELD",
					   "_PATH",   "_FILE",	 "_ENV",   "_VAR",     "_ID",
					   "_HEADER", "_PREFIX", "_REGEX", "_PATTERN", "_LENGTH"};
	STRING_TABLE_END
	const char *s = line + strspn(line, " \t");
	char name[128], q;
	size_t k, n;

	STRING_TABLE_BEGIN
	static const char words[][8] = {"export ", "const ", "let ", "var "};
	STRING_TABLE_END

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (strncmp(s, words[i], strlen(words[i])) == 0)
			s += strlen(words[i]) + strspn(s + strlen(words[i]), " \t");
	}
	k = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (k < 3 || k >= sizeof(name) || !(s[0] >= 'A' && s[0] <= 'Z'))
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)k, s);
	for (size_t i = 0; i < ARRAY_SIZE(not_ends); i++) {
		size_t l = strlen(not_ends[i]);
		if (k > l && strcmp(name + k - l, not_ends[i]) == 0)
			return false;
	}
	s += k + strspn(s + k, " \t");
	if (*s != '=' || s[1] == '=')
		return false;
	s += 1 + strspn(s + 1, " \t");
	q = *s;
	if (q != '"' && q != '\'')
		return false;
	n = strcspn(s + 1, "\"' \t");
	if (s[1 + n] != q || n < 6)
		return false;
	/* (an enumeration's value: USE_CREDENTIALS = 'use-credentials') */
	if (memchr(s + 1, '-', n) && strspn(s + 1, "abcdefghijklmnopqrstuvwxyz-") == n)
		return false;
	return env_secret_assigned(name, s);
}

/* env_secret_strong(); STRICT for any text (code, documents): a URL's
 * user alone is none there (ssh://git@host), a PEM only at a line's start,
 * a header's or a scheme's credential and a key after its prefix only
 * when they look like one. */
static bool strong(const char *value, bool strict)
{
	for (const char *s = strstr(value, "://"); s; s = strstr(s, "://")) {
		s += 3;
		const char *at = s + strcspn(s, "/@?#, ");
		const char *colon = memchr(s, ':', (size_t)(at - s));
		const char *pw = colon ? colon + 1 : s;
		/* (a variable's, a document's placeholder: no secret) */
		if (*at == '@' && at > s && *pw != '$' && !env_placeholder(pw, (size_t)(at - pw)) &&
		    (colon || !strict || keylike(s))) /* (a token as the user: a review) */
			return true;
	}
	if (env_webhook(value))
		return true;
	/* a private key's PEM, not a constant naming its header (a review:
	 * _SK_START = b"-----BEGIN OPENSSH PRIVATE KEY-----") */
	for (const char *b = strict ? strstr(value, "-----BEGIN") : NULL; b;
	     b = strstr(b + 10, "-----BEGIN")) {
		const char *e = strstr(b, "PRIVATE KEY");
		const char *end = e ? strstr(e, "-----") : NULL;
		/* (and not a document's: -----BEGIN PRIVATE KEY-----\nXXXX) */
		if (end && end[5] != '"' && end[5] != '\'' &&
		    (!end[5] || !env_placeholder(end + 5, strlen(end + 5))))
			return true;
	}
	if (strict && constant_secret(value))
		return true;
	/* an Azure storage connection string's key */
	for (const char *k = strcasestr(value, "AccountKey="); k;
	     k = strcasestr(k + 11, "AccountKey="))
		if (keylike(k + 11))
			return true;
	for (const char *v = value; *v; v++) {
		if (v != value && !strchr(" =:,;\"'`(", v[-1]))
			continue;
		/* a header's value, in a header or a list of them (an outside
		 * review: OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer X,
		 * ANTHROPIC_CUSTOM_HEADERS=x-api-key: KEY) */
		if (auth_secret(v, strict) || header_secret(v, strict))
			return true;
		/* a token whose form says it is one, wherever it stands */
		for (size_t i = strict; i < ARRAY_SIZE(token_prefixes); i++)
			if (prefixed_key(v, token_prefixes[i], strlen(token_prefixes[i]), strict))
				return true;
		/* OpenAI's older keys: sk- and 32 or more letters and digits */
		if (strncmp(v, "sk-", 3) == 0 &&
		    strspn(v + 3,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") >= 32)
			return true;
		/* a JSON Web Token (a service's key: Supabase's) */
		if (!strict && strncmp(v, "eyJ", 3) == 0 && jwt_like(v))
			return true;
	}
	return false;
}

bool env_secret_strong(const char *value)
{
	return strong(value, false);
}

bool env_secret_in_text(const char *line)
{
	return strong(line, true);
}

/* Whether VALUE holds a secret whatever its variable's name (a review):
 * what env_secret_strong() finds, or a password, token, secret or key
 * given as a query's or a connection string's parameter (jdbc:...?password=),
 * by an option (option_secret()), or to a variable (PGPASSWORD=X). */
bool env_secret_value(const char *value)
{
	STRING_TABLE_BEGIN
	static const char params[][17] = {
	    "password=", "passwd=",  "pwd=",	    "token=",	       "secret=",
	    "apikey=",	 "api_key=", "accountkey=", "sharedaccesskey="};
	STRING_TABLE_END

	if (env_secret_strong(value))
		return true;
	for (const char *v = value; *v; v++)
		for (size_t i = 0; i < ARRAY_SIZE(params); i++)
			if ((v == value || strchr("?&;: _-\"'", v[-1]) ||
			     (v - value >= 2 && v[-2] == '\\' && v[-1] == 'n')) &&
			    strncasecmp(v, params[i], strlen(params[i])) == 0 &&
			    word_at(v + strlen(params[i])) &&
			    !env_placeholder(v + strlen(params[i]),
					     token_len(v + strlen(params[i]))))
				return true;
	return option_secret(value) || assignment_secret(value) || env_query_secret(value);
}

/* Whether VALUE is a switch's (1, 0, true, false, yes, no, on, off):
 * no secret whatever its name says (a review:
 * CLAUDE_CODE_SKIP_BEDROCK_AUTH=1 was not passed). */
static bool flag_value(const char *value)
{
	return flag_word(value) && !value[strcspn(value, " \t\"';&|)")];
}

/* Whether env_keep (KEEP, set) names NAME whole, not by a pattern. */
static bool kept_by_name(const struct policy_list *keep, const char *name)
{
	for (size_t i = 0; i < keep->n; i++)
		if (strcmp(keep->items[i].value, name) == 0)
			return true;
	return false;
}

struct envb {
	char **v;
	size_t n, cap;
};

static int env_put(struct envb *e, const char *name, size_t name_len, const char *value)
{
	char *s;

	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, name_len) == 0 && e->v[i][name_len] == '=') {
			free(e->v[i]);
			e->v[i] = e->v[--e->n];
			break;
		}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		char **v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	s = malloc(name_len + strlen(value) + 2);
	if (!s)
		return -ENOMEM;
	memcpy(s, name, name_len);
	s[name_len] = '=';
	strcpy(s + name_len + 1, value);
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

/* The caller's variables env_keep names, but a credential's. */
static int put_kept(struct envb *e, const struct policy *p, char *const *environ_in)
{
	int r = 0;

	for (char *const *ep = environ_in; ep && *ep && r == 0; ep++) {
		const char *eq = strchr(*ep, '=');
		char name[256];
		if (!eq || (size_t)(eq - *ep) >= sizeof(name))
			continue;
		memcpy(name, *ep, (size_t)(eq - *ep));
		name[eq - *ep] = '\0';
		/* a credential's variable holds its placeholder, never what the
		 * caller had in it (also when an optional secret was missing) */
		bool cred_var = false;
		for (size_t i = 0; i < p->n_creds; i++)
			cred_var |= strcmp(p->creds[i].env, name) == 0;
		if (cred_var ||
		    !env_glob_match(&p->process.env_keep, p->process.env_keep_set, name))
			continue;
		if ((env_secret_name(name) || env_secret_value(eq + 1)) && !flag_value(eq + 1) &&
		    !(p->process.env_keep_set && kept_by_name(&p->process.env_keep, name))) {
			warn("%s is not passed to the command: env_keep matches it by a pattern, "
			     "and its %s says it holds a secret (name it whole in env_keep to "
			     "pass it, or make it a [credential] to pass a placeholder)",
			     name,
			     env_secret_name(name) ? "name" : "value (a URL with a password)");
			continue;
		}
		r = env_put(e, name, strlen(name), eq + 1);
	}
	return r;
}

/* The CA variables the caller set, as it set them (env_build() says which). */
static int put_caller_trust(struct envb *e, const struct sandbox *sb, char *const *environ_in)
{
	int r = 0;

	for (size_t i = 0; sb && i <= ca_bundle_vars_n && r == 0; i++) {
		const char *name = i < ca_bundle_vars_n ? ca_bundle_vars[i] : CA_DIR_VAR;
		const char *v = NULL;
		size_t nl = strlen(name);
		if (i < ca_bundle_vars_n && sb->ca_bundle)
			continue;
		for (char *const *ep = environ_in; ep && *ep && !v; ep++)
			if (strncmp(*ep, name, nl) == 0 && (*ep)[nl] == '=')
				v = *ep + nl + 1;
		if (v && v[0] == '/')
			r = env_put(e, name, nl, v);
	}
	return r;
}

/* The proxy variables, every one pointed at ours (env_build() says why). */
static int put_proxy(struct envb *e, const struct policy *p, const struct sandbox *sb)
{
	char http[64], socks[64];
	static const char *const http_vars[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
						"https_proxy"};
	int r = 0;

	snprintf(http, sizeof(http), "http://127.0.0.1:%u", sb->proxy_port);
	snprintf(socks, sizeof(socks), "socks5h://127.0.0.1:%u", sb->proxy_port);
	for (size_t i = 0; i < ARRAY_SIZE(http_vars) && r == 0; i++)
		r = env_put(e, http_vars[i], strlen(http_vars[i]), http);
	if (r == 0)
		r = env_put(e, "ALL_PROXY", 9, socks);
	if (r == 0)
		r = env_put(e, "all_proxy", 9, socks);
	/* unless allow_cidr lets the proxy reach the host's loopback:
	 * then every request goes to the proxy */
	const char *no_proxy = netproxy_allows_loopback(p) ? "" : "localhost,127.0.0.1,::1";
	if (r == 0)
		r = env_put(e, "NO_PROXY", 8, no_proxy);
	if (r == 0)
		r = env_put(e, "no_proxy", 8, no_proxy);
	/* Node.js 24+ reads the variables above only when asked to */
	if (r == 0)
		r = env_put(e, "NODE_USE_ENV_PROXY", 18, "1");
	return r;
}

int env_build(const struct policy *p, const struct sandbox *sb, char *const *environ_in,
	      char ***ret)
{
	struct envb e = {0};
	int r = 0;

	r = put_kept(&e, p, environ_in);
	if (sb && sb->drop_to_user && r == 0) {
		struct passwd *pw = getpwuid(sb->uid);
		if (pw) {
			r = env_put(&e, "HOME", 4, pw->pw_dir);
			if (r == 0)
				r = env_put(&e, "USER", 4, pw->pw_name);
			if (r == 0)
				r = env_put(&e, "LOGNAME", 7, pw->pw_name);
			if (r == 0)
				r = env_put(&e, "SHELL", 5, pw->pw_shell);
		}
	}
	if (sb && p->fs.private_tmp && r == 0)
		r = env_put(&e, "TMPDIR", 6, sb->private_tmp_dir ? sb->private_tmp_dir : "/tmp");
	/* the trust the caller's clients had stays theirs (creds.c grants the
	 * files): without interception each CA variable as the caller set it
	 * (below, a bundle replaces them), SSL_CERT_DIR always; env_set may
	 * still say otherwise */
	if (r == 0)
		r = put_caller_trust(&e, sb, environ_in);
	for (size_t i = 0; i < p->process.env_set.n && r == 0; i++) {
		const char *kv = p->process.env_set.items[i].value;
		const char *eq = strchr(kv, '=');
		r = env_put(&e, kv, (size_t)(eq - kv), eq + 1);
	}
	/* without a mount namespace a CLI that can be pointed elsewhere is
	 * pointed at its stand-in (state.c) */
	for (size_t i = 0; sb && sb->ns == NS_NONE && i < sb->n_privates && r == 0; i++)
		if (sb->privates[i].env)
			r = env_put(&e, sb->privates[i].env, strlen(sb->privates[i].env),
				    sb->privates[i].standin);
	/* mode = proxy: every client's proxy variables point at ours, after
	 * env_set, so a policy cannot point them elsewhere by accident.
	 * NO_PROXY keeps only the sandbox's own loopback (in a private network
	 * namespace it is the sandbox's alone; under the broker a direct
	 * connection is refused either way); anything the caller had in it
	 * is dropped. */
	if (sb && sb->iso != NET_ISO_NONE && r == 0)
		r = put_proxy(&e, p, sb);
	/* placeholders, never secrets; and the bundle that trusts the CA */
	for (size_t i = 0; sb && i < sb->n_creds && r == 0; i++)
		r = env_put(&e, sb->cred_env[i], strlen(sb->cred_env[i]), sb->creds[i].placeholder);
	for (size_t i = 0; sb && sb->ca_bundle && i < ca_bundle_vars_n && r == 0; i++)
		r = env_put(&e, ca_bundle_vars[i], strlen(ca_bundle_vars[i]), sb->ca_bundle);
	if (sb && sb->wgetrc && r == 0)
		r = env_put(&e, "WGETRC", 6, sb->wgetrc);
	if (r == 0 && !e.v) {
		e.v = calloc(1, sizeof(char *));
		if (!e.v)
			r = -ENOMEM;
	}
	if (r < 0) {
		for (size_t i = 0; i < e.n; i++)
			free(e.v[i]);
		free(e.v);
		return r;
	}
	*ret = e.v;
	return 0;
}

bool env_is_ours(const char *name)
{
	/* arrays: supervisor/supervisor.h's sc_entry says why */
	STRING_TABLE_BEGIN
	static const char ours[][24] = {
	    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",	     "ALL_PROXY",
	    "all_proxy",  "NO_PROXY",	"no_proxy",    "NODE_USE_ENV_PROXY", "WGETRC"};
	STRING_TABLE_END
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
		if (strcmp(ours[i], name) == 0)
			return true;
	for (size_t i = 0; i < ca_bundle_vars_n; i++)
		if (strcmp(ca_bundle_vars[i], name) == 0)
			return true;
	return false;
}

void env_free(char **envp)
{
	for (char **p = envp; p && *p; p++)
		free(*p);
	free(envp);
}
