/* SPDX-License-Identifier: MIT */
/*
 * The policy `learn -o` learned, written: BASE included (or the built-in
 * default copied), then the grants, hosts and credentials it proposes,
 * each with a comment saying what used it, and what it will not propose,
 * said as comments; put in place without following a link or replacing a
 * file unless asked (learn_publish()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "learn_internal.h"

/* The policy reader takes lines of up to 198 characters (policy/parse.c):
 * a comment is cut to fit, a value that does not fit is not proposed. */
#define LINE_MAX_CHARS 198

/* One comment line: control bytes made '?', cut to fit. */
_printf_(2, 3) static void comment(FILE *f, const char *fmt, ...)
{
	char buf[PATH_MAX * 3];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	learn_one_line(buf);
	if (strlen(buf) + 2 > LINE_MAX_CHARS)
		snprintf(buf + LINE_MAX_CHARS - 2 - 3, 4, "...");
	fprintf(f, "; %s\n", buf);
}

/* How many values the lists of P hold, all of them. */
static size_t items_in(const struct policy *p)
{
	const struct policy_list *l[] = {
	    &p->fs.read,	  &p->fs.exec,		&p->fs.write,	   &p->fs.deny,
	    &p->fs.protect,	  &p->fs.create,	&p->fs.private_,   &p->fs.private_seed,
	    &p->fs.private_env,	  &p->net.allow,	&p->net.deny,	   &p->net.allow_cidr,
	    &p->net.hosts,	  &p->net.allow_http,	&p->net.deny_http, &p->net.allow_no_sni,
	    &p->net.server_first, &p->net.unix_connect,
	};
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(l); i++)
		n += l[i]->n;
	return n;
}

bool learn_value(const char *section, const char *key, const char *value, char *out, size_t size)
{
	_cleanup_(policy_freep) struct policy *p = NULL;
	struct policy_error err;
	char text[LINE_MAX_CHARS + 64];
	bool blank = false;

	if (!*value)
		return false;
	for (const char *c = value; *c; c++) {
		/* no escape writes a '"' or a "${" as itself */
		if (learn_control_at(c) || *c == '#' || *c == ';' || *c == '"' ||
		    (c[0] == '$' && c[1] == '{'))
			return false;
		blank |= *c == ' ' || *c == ',';
	}
	/* "write = " before it; an include is one path, never quoted; a
	 * network rule is its tokens (a method, then a URL), never quoted */
	bool include = strcmp(key, "include") == 0;
	bool net = strcmp(section, "network") == 0;
	if ((include && strpbrk(value, " \t")) ||
	    (size_t)snprintf(out, size, blank && !include && !net ? "\"%s\"" : "%s", value) >=
		size ||
	    strlen(out) + strlen(key) + 3 > LINE_MAX_CHARS)
		return false;
	if (include)
		return value[0] == '/';
	/* read back as the policy will be: one item, VALUE itself */
	if ((size_t)snprintf(text, sizeof(text), "[%s]\n%s%s = %s\n", section,
			     net ? "mode = proxy\n" : "", key, out) >= sizeof(text) ||
	    policy_load_string("learned", text, NULL, &p, &err) < 0 || items_in(p) != 1)
		return false;
	const struct policy_list *l = strcmp(key, "read") == 0	  ? &p->fs.read
				      : strcmp(key, "write") == 0 ? &p->fs.write
				      : strcmp(key, "exec") == 0  ? &p->fs.exec
				      : net			  ? &p->net.allow
								  : NULL;
	if (!l)
		return false;
	/* a method and path rule is kept in its normal form */
	if (net && l->n == 0)
		return p->net.allow_http.n == 1 && strchr(value, ' ');
	return l->n == 1 && strcmp(l->items[0].value, value) == 0;
}

static const char *right_key(enum learn_right r)
{
	switch (r) {
	case LEARN_WRITE:
		return "write";
	case LEARN_EXEC:
		return "exec";
	case LEARN_READ:
	default:
		return "read";
	}
}

/* The built-in default, copied: its [network] mode line commented out
 * when the learned [network] section sets its own. */
static void write_default(FILE *f, bool own_mode)
{
	const char *s = policy_default_text;
	bool in_network = false;

	while (*s) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		const char *t = s;
		while (t < s + n && (*t == ' ' || *t == '\t'))
			t++;
		if (*t == '[')
			in_network = strncmp(t, "[network]", 9) == 0;
		if (own_mode && in_network && strncmp(t, "mode", 4) == 0 &&
		    strspn(t + 4, " \t") + 4 < n && t[4 + strspn(t + 4, " \t")] == '=')
			fprintf(f, "; (ringfence learn: [network] below sets the mode) ");
		fprintf(f, "%.*s\n", (int)n, s);
		s += n + (e ? 1 : 0);
	}
}

/* The head: the command learned from, then BASE included or the built-in
 * default copied. */
static void write_head(FILE *f, const struct cli *cli, const char *base_abs, bool own_mode)
{
	char val[PATH_MAX + 3], cmd[1024] = "";

	for (int i = 0; i < cli->argc; i++) {
		size_t off = strlen(cmd);
		snprintf(cmd + off, sizeof(cmd) - off, "%s%s", i ? " " : "", cli->argv[i]);
	}
	comment(f, "Learned by ringfence learn from one run of:");
	comment(f, "  %s", cmd);
	comment(f, "Each line says what used it: review them before use.");
	if (base_abs) {
		if (!learn_value("sandbox", "include", base_abs, val, sizeof(val)))
			die("%s: this path cannot be written on a policy line", base_abs);
		fprintf(f, "[sandbox]\ninclude = %s\n", val);
	} else {
		comment(f, "The built-in default policy, copied:");
		write_default(f, own_mode);
		comment(f, "What the run used beyond it:");
	}
}

/* A directory the run only listed, for reading: not proposed (a read grant
 * would give every file beneath it; the policy has no key for a listing
 * alone), said instead, where no grant proposed covers it. */
static bool listed_only(const struct learn_dir *d)
{
	return d->listed_only && d->rights == LEARN_READ;
}

/* [filesystem]: the grants G (N_G), then what was used and not proposed. */
static void write_filesystem(FILE *f, const struct learn_rec *r, const struct learn_grant *g,
			     size_t n_g)
{
	char val[PATH_MAX + 3];

	fprintf(f, "[filesystem]\n");
	for (size_t i = 0; i < n_g; i++) {
		if (!learn_value("filesystem", right_key(g[i].right), g[i].path, val,
				 sizeof(val))) {
			comment(f, "not proposed: %s: no policy line can hold its name", g[i].path);
			continue;
		}
		if (g[i].n_uses > 1 || g[i].count > 1)
			comment(f, "%s (%lu accesses in %zu director%s)", g[i].why, g[i].count,
				g[i].n_uses, g[i].n_uses == 1 ? "y" : "ies");
		else
			comment(f, "%s", g[i].why);
		fprintf(f, "%s = %s\n", right_key(g[i].right), val);
	}
	for (size_t i = 0; i < r->n_dirs; i++)
		if (!learn_grantable(r->dirs[i].path, r->never, r->n_never, r->deny, r->n_deny))
			comment(f,
				"not proposed: %s (%s): a home directory, / and deny paths are "
				"never granted",
				r->dirs[i].path, r->dirs[i].why);
	for (size_t i = 0; i < r->n_dirs; i++) {
		bool covered = false;
		for (size_t j = 0; j < n_g && !covered; j++)
			covered = landlock_path_beneath(r->dirs[i].path, g[j].path);
		if (listed_only(&r->dirs[i]) && !covered)
			comment(f,
				"not proposed: %s (%s): only listed, and a read grant would give "
				"every file beneath it; add it by hand if the listing is needed",
				r->dirs[i].path, r->dirs[i].why);
	}
	if (r->dropped)
		comment(f, "not recorded: %lu accesses beyond the first %d directories", r->dropped,
			LEARN_DIRS_MAX);
}

/* [network]: the hosts reached, when there are any or BASE reaches every
 * one. */
static void write_network(FILE *f, const struct learn_rec *r, const struct policy *base,
			  bool own_mode)
{
	char val[PATH_MAX + 3];

	if (r->n_hosts || base->net.mode == POLICY_NET_HOST) {
		fprintf(f, "[network]\n");
		if (base->net.mode == POLICY_NET_HOST)
			comment(f, "the base's mode = host reaches every host: none recorded");
		if (own_mode)
			fprintf(f, "mode = proxy\n");
		for (size_t i = 0; i < r->n_hosts; i++) {
			char rule[300];
			const char *why;
			snprintf(rule, sizeof(rule), "%s:%u", r->hosts[i].host, r->hosts[i].port);
			/* the proxy normalised the name; a rule the parser would
			 * not take back (or cut at a ';') is only shown */
			if (!learn_value("network", "allow", rule, val, sizeof(val)) ||
			    strcmp(rule, val) != 0 || !policy_domain_rule_valid(rule, &why)) {
				comment(f, "not proposed: %s: no allow line can hold it", rule);
				continue;
			}
			comment(f, "%lu connection%s", r->hosts[i].count,
				r->hosts[i].count == 1 ? "" : "s");
			fprintf(f, "allow = %s\n", rule);
		}
	}
}

/* credentials: a commented section the operator completes; the
 * value itself is never written */
static void write_credentials(FILE *f, const struct learn_rec *r)
{
	for (size_t i = 0; i < r->n_cands; i++) {
		const struct learn_cand *c = &r->cands[i];
		char lower[128];
		size_t k = 0;
		if (c->n_hosts != 1 || c->more_hosts)
			continue;
		for (; c->name[k] && k + 1 < sizeof(lower); k++)
			lower[k] = (char)(c->name[k] >= 'A' && c->name[k] <= 'Z' ? c->name[k] + 32
										 : c->name[k]);
		lower[k] = '\0';
		comment(f,
			"$%s went to %s:%u only: a credential keeps its value out of the sandbox.",
			c->name, c->hosts[0].host, c->hosts[0].port);
		comment(f, "Complete and uncomment (source: where the real value is kept):");
		comment(f, "[credential %s]", lower);
		comment(f, "env = %s", c->name);
		comment(f, "source = env:%s_REAL", c->name);
		comment(f, "hosts = %s:%u", c->hosts[0].host, c->hosts[0].port);
		if (c->plain)
			comment(f, "plaintext = yes   ; it went in plain HTTP");
	}
	for (size_t i = 0; i < r->n_cands; i++)
		if (r->cands[i].n_hosts > 1 || r->cands[i].more_hosts)
			comment(f, "not proposed as a credential: $%s went to more than one host",
				r->cands[i].name);
}

void learn_write(struct learn_rec *r, FILE *f, const struct cli *cli, const char *base_abs,
		 const struct policy *base)
{
	struct learn_use *uses = calloc(r->n_dirs + 1, sizeof(*uses));
	struct learn_grant *g = NULL;
	size_t n_g = 0;
	bool own_mode = r->n_hosts && base->net.mode == POLICY_NET_NONE;

	if (!uses)
		die("out of memory");
	size_t n_uses = 0;
	for (size_t i = 0; i < r->n_dirs; i++)
		if (!listed_only(&r->dirs[i]))
			uses[n_uses++] = (struct learn_use){.path = r->dirs[i].path,
							    .rights = r->dirs[i].rights,
							    .count = r->dirs[i].count,
							    .why = r->dirs[i].why};
	if (learn_group(uses, n_uses, r->never, r->n_never, r->deny, r->n_deny, &g, &n_g) < 0)
		die("out of memory");

	write_head(f, cli, base_abs, own_mode);
	write_filesystem(f, r, g, n_g);
	write_network(f, r, base, own_mode);
	for (size_t i = 0; i < r->n_notes; i++)
		comment(f, "refused while learning, not proposed: %s", r->notes[i]);
	if (r->more_notes)
		comment(f, "and %lu more refusals (the audit log has each)", r->more_notes);
	write_credentials(f, r);
	learn_grants_free(g, n_g);
	free(uses);
}

/*
 * NEW.ini's directory is often one the sandbox may write (the working
 * directory): a file named there during the run, or the directory's own
 * name, is the command's to replace.  So the directory is opened once,
 * before the run, and the policy written to an unnamed file in it
 * (O_TMPFILE), which nothing in the sandbox can reach; it gets its name
 * when the run is over, by linkat (never replacing a file without
 * --force).  A directory renamed or swapped for a symlink meanwhile
 * changes nothing: the file goes where the directory opened at start is.
 */
void learn_publish(int dirfd, int fd, const char *name, bool force, const char *shown)
{
	char self[64], tmp[64];
	unsigned char rnd[6];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (!force) {
		if (linkat(AT_FDCWD, self, dirfd, name, AT_SYMLINK_FOLLOW) < 0)
			die("%s: %s%s", shown, strerror(errno),
			    errno == EEXIST ? " (made during the run; --force replaces it)" : "");
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		die("getrandom: %s", strerror(errno));
	snprintf(tmp, sizeof(tmp), ".ringfence-learn.%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
		 rnd[2], rnd[3], rnd[4], rnd[5]);
	if (linkat(AT_FDCWD, self, dirfd, tmp, AT_SYMLINK_FOLLOW) < 0)
		die("%s: %s", shown, strerror(errno));
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		(void)unlinkat(dirfd, tmp, 0);
		die("%s: %s", shown, strerror(e));
	}
}
