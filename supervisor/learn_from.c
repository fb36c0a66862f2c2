/* SPDX-License-Identifier: MIT */
/*
 * `ringfence learn --from AUDIT.jsonl [-p POLICY]`: the policy lines that
 * would have allowed a run's refusals, as a policy that includes POLICY.
 *
 *  - fs.deny events (--trace) carry the key and value that would allow the
 *    access (fstrace.c): each becomes that grant, once;
 *  - net.deny events refused for not being in [network] allow become
 *    `allow = HOST:PORT`, or, for a request to a host with method and
 *    path rules, `allow = METHOD SCHEME://HOST/PATH` (that request only);
 *  - what the policy denies on purpose ([filesystem] deny, the paths
 *    ringfence keeps out of reach, [network] deny rules, a credential's
 *    hosts) is never proposed: it is listed as a comment, with why; so is
 *    a grant of "/", of a home or a directory above one, or of ringfence's
 *    state directory, as learn -o never grants them (the command chose
 *    what it was refused: one `echo > /x` proposed `write = /`, an outside
 *    review found).
 *
 * The audit log is ringfence's own: one flat JSON object a line, string,
 * number and null values, no key twice (json_string() in audit.c writes
 * the strings).  Its few fields are read here by hand: none of the
 * libraries the build uses parses JSON, and a general parser would be a
 * dependency for reading back what we wrote.  A line that is not such an
 * object is an error naming the file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "../common/utf8.h"
#include "learn_internal.h"

#define LEARN_MAX 4096

/* The string (or bare number) value of KEY in the flat object LINE, into
 * OUT; false when absent, null or malformed. */
static bool field(const char *line, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	/* a key is preceded by '{' or ',' (inside a string the quote would
	 * be escaped) */
	for (p = strstr(line, pat); p; p = strstr(p + 1, pat))
		if (p > line && (p[-1] == '{' || p[-1] == ','))
			break;
	if (!p)
		return false;
	p += strlen(pat);
	if (*p != '"') {
		/* a number */
		while ((*p >= '0' && *p <= '9') && n + 1 < size)
			out[n++] = *p++;
		out[n] = '\0';
		return n > 0;
	}
	for (p++; *p && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			p++;
			switch (*p) {
			case '"':
			case '\\':
			case '/':
				c = *p;
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'u': {
				/* json_string writes \u00XX for control bytes only */
				char hex[5] = {0};
				for (int i = 0; i < 4; i++)
					if (!p[1 + i])
						return false;
				memcpy(hex, p + 1, 4);
				unsigned long v = strtoul(hex, NULL, 16);
				c = v < 0x80 ? (char)v : '?';
				p += 4;
				break;
			}
			default:
				return false;
			}
		}
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return *p == '"';
}

size_t learn_control_at(const char *s)
{
	unsigned char c = (unsigned char)s[0];

	if (c < 0x20 || c == 0x7f)
		return 1;
	if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] < 0xa0)
		return 2;
	/* a bidirectional control (the bytes read stop at a NUL) */
	if (c == 0xd8 && utf8_reorders((const unsigned char *)s, 2))
		return 2;
	return c == 0xe2 && s[1] && utf8_reorders((const unsigned char *)s, 3) ? 3 : 0;
}

/* S made fit for one comment line: a control (a newline a sandboxed
 * command put in a file name would start a policy line of its own; an
 * escape sequence, C1's too, would drive the terminal the learned policy
 * is printed on) is written as '?'.  In place. */
char *learn_one_line(char *s)
{
	for (char *c = s; *c; c++) {
		size_t k = learn_control_at(c);
		if (k) {
			memset(c, '?', k);
			c += k - 1;
		}
	}
	return s;
}

struct proposal {
	char section[16], key[16], value[PATH_MAX], why[PATH_MAX + 64];
	char *path; /* a [filesystem] grant's path as such (VALUE may be quoted) */
	unsigned count;
	bool refused_on_purpose;
};

struct learned {
	struct proposal *v;
	size_t n;
	char **homes; /* learn_homes() */
	size_t n_homes;
	const struct policy *base; /* -p's, expanded, or NULL */
};

/* Whether PATH is, holds or lies beneath a directory of $PATH (each
 * resolved). */
static bool on_path(const char *path)
{
	const char *env = getenv("PATH");
	char dir[PATH_MAX];

	for (const char *p = env; p && *p;) {
		size_t n = strcspn(p, ":");
		if (n && n < sizeof(dir) && p[0] == '/') {
			memcpy(dir, p, n);
			dir[n] = '\0';
			_cleanup_free_ char *c = realpath(dir, NULL);
			const char *d = c ? c : dir;
			if (landlock_path_beneath(path, d) || landlock_path_beneath(d, path))
				return true;
		}
		p += n + (p[n] == ':');
	}
	return false;
}

/* Why a grant KEY = PATH is never proposed, or NULL. */
static const char *never_granted(const struct learned *l, const char *key, const char *path)
{
	/* (names in place: a table of pointers would be relocated into the
	 * RELRO every start writes, bench/layout.sh) */
	static const char system[][11] = {"/usr",   "/etc",	"/bin",	      "/sbin",	   "/lib",
					  "/lib32", "/lib64",	"/libx32",    "/boot",	   "/proc",
					  "/sys",   "/var/lib", "/var/spool", "/var/cache"};
	const char *x = getenv("XDG_STATE_HOME"), *s = strstr(path, "/.local/state/ringfence");
	char st[PATH_MAX];

	if (!learn_grantable(path, l->homes, l->n_homes, NULL, 0) || learn_depth(path) < 2)
		return "the whole file system, a directory at its top, a home or a directory "
		       "above one is never granted whole: grant the file or the directory beneath "
		       "it the command needs";
	if (strcmp(key, "write") == 0)
		for (size_t i = 0; i < ARRAY_SIZE(system); i++)
			if (landlock_path_beneath(path, system[i]))
				return "the system's own files are never proposed for writing";
	/* a directory on the caller's PATH, or a file in one: what the
	 * command writes there the host runs (~/.pyenv/shims/python3, a
	 * review found proposed) */
	if (strcmp(key, "write") == 0 && on_path(path))
		return "on the PATH the host runs programs from: never proposed for writing";
	/* write grants that are not exec grants are mounted noexec on
	 * purpose: what the command writes there it would then run */
	if (strcmp(key, "exec") == 0 && l->base && grants_cover(&l->base->fs.write, path) &&
	    !grants_cover(&l->base->fs.exec, path))
		return "beneath a write grant of the base, which runs nothing on purpose (what "
		       "the command may write, it could then run): grant exec there by hand if "
		       "that is meant";
	if ((s && (s[23] == '\0' || s[23] == '/')) ||
	    (x && x[0] == '/' && (size_t)snprintf(st, sizeof(st), "%s/ringfence", x) < sizeof(st) &&
	     landlock_path_beneath(path, st)))
		return "ringfence's state directory: kept out of the sandbox's reach by ringfence";
	return NULL;
}

static void propose(struct learned *l, const char *section, const char *key, const char *value,
		    const char *why, bool on_purpose)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].section, section) == 0 && strcmp(l->v[i].key, key) == 0 &&
		    strcmp(l->v[i].value, value) == 0) {
			l->v[i].count++;
			return;
		}
	if (l->n >= LEARN_MAX)
		return;
	struct proposal *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		die("out of memory");
	l->v = v;
	struct proposal *p = &l->v[l->n++];
	*p = (struct proposal){.count = 1, .refused_on_purpose = on_purpose};
	snprintf(p->section, sizeof(p->section), "%s", section);
	snprintf(p->key, sizeof(p->key), "%s", key);
	snprintf(p->value, sizeof(p->value), "%s", value);
	snprintf(p->why, sizeof(p->why), "%s", why);
}

/* A value that fits on one policy line (no newline, no comment start),
 * with no control a terminal obeys. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if (learn_control_at(s) || *s == '#' || *s == ';')
			return false;
	return true;
}

/* The method and path rule that allows exactly the request of a net.deny
 * LINE: its path as written, every byte a rule reads otherwise escaped
 * ('*' would be a glob there, a blank would end the value).  False when
 * the line names no request, or one no rule can hold. */
static bool request_rule(const char *line, const char *host, const char *port, char *out,
			 size_t size)
{
	char method[32], path[1100], proto[16] = "";
	bool tls;
	size_t o;
	int n;

	/* "/" alone, in a rule, is every path of the host */
	if (!field(line, "method", method, sizeof(method)) ||
	    !field(line, "path", path, sizeof(path)) || path[0] != '/' || !path[1] ||
	    !policy_http_method_valid(method, strlen(method)))
		return false;
	(void)field(line, "proto", proto, sizeof(proto));
	tls = strcmp(proto, "https") == 0;
	n = snprintf(out, size, "%s %s://%s", method, tls ? "https" : "http", host);
	if (n < 0 || (size_t)n >= size)
		return false;
	o = (size_t)n;
	if (strcmp(port, tls ? "443" : "80") != 0)
		o += (size_t)snprintf(out + o, size - o, ":%s", port);
	for (const char *p = path; *p && o + 4 < size; p++) {
		unsigned char c = (unsigned char)*p;
		/* ',' would end the value; "${" would be expanded */
		if (c <= 0x20 || c >= 0x7f || strchr("*#;\"\\,$", c))
			o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return o + 4 < size;
}

static void learn_line(struct learned *l, const char *line)
{
	char ev[32], a[PATH_MAX], b[PATH_MAX], why[PATH_MAX + 64];

	if (!field(line, "event", ev, sizeof(ev)))
		return;
	if (strcmp(ev, "fs.deny") == 0) {
		char access[32] = "", path[PATH_MAX] = "";
		(void)field(line, "access", access, sizeof(access));
		(void)field(line, "path", path, sizeof(path));
		snprintf(why, sizeof(why), "%s %s", access, path);
		bool has_key = field(line, "key", a, sizeof(a));
		/* "filesystem.write": the key in its section */
		const char *k = strncmp(a, "filesystem.", 11) == 0 ? a + 11 : a;
		bool denied = has_key && strcmp(k, "deny") == 0;
		bool grant =
		    has_key && !denied &&
		    (strcmp(k, "read") == 0 || strcmp(k, "write") == 0 || strcmp(k, "exec") == 0) &&
		    field(line, "value", b, sizeof(b));
		char val[PATH_MAX + 3];
		const char *never = grant ? never_granted(l, k, b) : NULL;
		if (never)
			propose(l, "filesystem", "", path, never, true);
		else if (grant && learn_value("filesystem", k, b, val, sizeof(val))) {
			propose(l, "filesystem", k, val, why, false);
			struct proposal *last = &l->v[l->n - 1];
			if (l->n && !last->path && strcmp(last->value, val) == 0 &&
			    !(last->path = strdup(b)))
				die("out of memory");
		} else
			propose(l, "filesystem", "", path,
				denied ? "denied by [filesystem] deny: remove it there to allow it"
				: grant
				    ? "its path cannot be written on a policy line as itself (a "
				      "control character, '#', ';', '\"' or \"${\"): grant a "
				      "directory above it"
				    : "kept out of the sandbox's reach by ringfence (protected)",
				true);
		return;
	}
	if (strcmp(ev, "net.deny") == 0) {
		char host[256], port[16], reason[256] = "";
		(void)field(line, "reason", reason, sizeof(reason));
		if (!field(line, "host", host, sizeof(host)) || !printable(host))
			return;
		if (!field(line, "port", port, sizeof(port)))
			snprintf(port, sizeof(port), "443");
		char val[PATH_MAX + 3];
		const char *why_not;
		/* a request the host's method and path rules refused: that
		 * request's own rule, or nothing (never the whole host) */
		if (strstr(reason, " is not in [network] allow")) {
			if (!request_rule(line, host, port, a, sizeof(a)))
				propose(l, "network", "", host,
					"a request no rule can name as it was", true);
			else if (learn_value("network", "allow", a, val, sizeof(val)) &&
				 strcmp(a, val) == 0)
				propose(l, "network", "allow", a, "refused: not in [network] allow",
					false);
			else
				propose(l, "network", "", a,
					"no allow line can hold it (a rule on the path / alone "
					"allows every path)",
					true);
			return;
		}
		snprintf(a, sizeof(a), "%s:%s", host, port);
		if (!strstr(reason, "not in [network] allow"))
			propose(l, "network", "", a, reason, true);
		else if (learn_value("network", "allow", a, val, sizeof(val)) &&
			 strcmp(a, val) == 0 && policy_domain_rule_valid(a, &why_not))
			propose(l, "network", "allow", a, "refused: not in [network] allow", false);
		else
			propose(l, "network", "", a, "no allow line can hold it", true);
	}
}

int supervisor_learn(const struct cli *cli)
{
	struct learned l = {0};
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t len;
	FILE *f;

	f = fopen(cli->learn_from, "re");
	if (!f)
		die("%s: %s", cli->learn_from, strerror(errno));
	learn_homes(&l.homes, &l.n_homes, NULL);
	/* the base, expanded as a run from here would (its write grants) */
	_cleanup_free_ char *base_home = NULL;
	struct policy *base_policy =
	    cli->policy_path ? supervisor_load_policy(cli, &base_home) : NULL;
	l.base = base_policy;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len)
			continue;
		if (line[0] != '{' || line[len - 1] != '}')
			die("%s:%u: not an audit event (one JSON object a line)", cli->learn_from,
			    lineno);
		learn_line(&l, line);
	}
	free(line);
	fclose(f);

	printf("# The lines that would have allowed the refusals in %s\n", cli->learn_from);
	printf("# (ringfence learn --from): review each before using it.\n");
	/* the include is read from the learned file's directory: a relative
	 * one would name a file there, which the sandbox may have made */
	if (cli->policy_path) {
		_cleanup_free_ char *base = realpath(cli->policy_path, NULL);
		char val[PATH_MAX + 3];
		if (!base)
			die("%s: %s", cli->policy_path, strerror(errno));
		if (!learn_value("sandbox", "include", base, val, sizeof(val)))
			die("%s: this path cannot be written on a policy line", base);
		printf("[sandbox]\ninclude = %s\n", val);
	}
	/* an exec grant beneath a write grant proposed here as well: what
	 * the command may then write it could run (a review) */
	for (size_t i = 0; i < l.n; i++) {
		struct proposal *e = &l.v[i];
		if (e->refused_on_purpose || !e->path || strcmp(e->key, "exec") != 0)
			continue;
		for (size_t j = 0; j < l.n && !e->refused_on_purpose; j++)
			if (!l.v[j].refused_on_purpose && l.v[j].path &&
			    strcmp(l.v[j].key, "write") == 0 &&
			    landlock_path_beneath(e->path, l.v[j].path)) {
				e->refused_on_purpose = true;
				snprintf(e->value, sizeof(e->value), "%s", e->path);
				snprintf(
				    e->why, sizeof(e->why),
				    "beneath %s, proposed for writing as well: what the command "
				    "may write it could then run; grant one of them by hand",
				    l.v[j].path);
			}
	}
	static const char *const sections[] = {"filesystem", "network"};
	for (size_t s = 0; s < ARRAY_SIZE(sections); s++) {
		bool head = false;
		for (size_t i = 0; i < l.n; i++) {
			const struct proposal *p = &l.v[i];
			if (p->refused_on_purpose || strcmp(p->section, sections[s]) != 0)
				continue;
			if (!head)
				printf("[%s]\n", sections[s]);
			head = true;
			printf("# %s%s\n%s = %s\n", learn_one_line(l.v[i].why),
			       p->count > 1 ? " (and more)" : "", p->key, p->value);
		}
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].refused_on_purpose)
			printf("# not proposed: %s: %s\n", learn_one_line(l.v[i].value),
			       learn_one_line(l.v[i].why));
	if (!l.n)
		printf("# no refusals in the log (file refusals are logged with --trace)\n");
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].path);
	free(l.v);
	for (size_t i = 0; i < l.n_homes; i++)
		free(l.homes[i]);
	free(l.homes);
	if (base_policy)
		policy_free(base_policy);
	return 0;
}
