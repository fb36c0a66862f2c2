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
 *    hosts) is never proposed: it is listed as a comment, with why.
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
#include "supervisor.h"

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

/* S made fit for one comment line: a control byte (a newline a sandboxed
 * command put in a file name would start a policy line of its own) is
 * written as '?'.  In place. */
static char *one_line(char *s)
{
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return s;
}

struct proposal {
	char section[16], key[16], value[PATH_MAX], why[PATH_MAX + 64];
	unsigned count;
	bool refused_on_purpose;
};

struct learned {
	struct proposal *v;
	size_t n;
};

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

/* A value that fits on one policy line (no newline, no comment start). */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '#' || *s == ';')
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

	if (!field(line, "method", method, sizeof(method)) ||
	    !field(line, "path", path, sizeof(path)) || path[0] != '/' ||
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
		if (c <= 0x20 || c >= 0x7f || strchr("*#;\"\\", c))
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
		if (grant && printable(b))
			propose(l, "filesystem", k, b, why, false);
		else
			propose(l, "filesystem", "", path,
				denied ? "denied by [filesystem] deny: remove it there to allow it"
				: grant
				    ? "its path cannot be written on a policy line (a control "
				      "character, '#' or ';'): grant a directory above it"
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
		if (strstr(reason, " is not in [network] allow") &&
		    request_rule(line, host, port, a, sizeof(a))) {
			propose(l, "network", "allow", a, "refused: not in [network] allow", false);
			return;
		}
		snprintf(a, sizeof(a), "%s:%s", host, port);
		if (strstr(reason, "not in [network] allow"))
			propose(l, "network", "allow", a, "refused: not in [network] allow", false);
		else
			propose(l, "network", "", a, reason, true);
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
	if (cli->policy_path)
		printf("[sandbox]\ninclude = %s\n", cli->policy_path);
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
			printf("# %s%s\n%s = %s\n", one_line(l.v[i].why),
			       p->count > 1 ? " (and more)" : "", p->key, p->value);
		}
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].refused_on_purpose)
			printf("# not proposed: %s: %s\n", one_line(l.v[i].value),
			       one_line(l.v[i].why));
	if (!l.n)
		printf("# no refusals in the log (file refusals are logged with --trace)\n");
	free(l.v);
	return 0;
}

/* ==== ringfence learn -o NEW.ini [-p BASE] -- COMMAND ==================== */

/*
 * The command runs once under BASE widened (every file readable and
 * executable, the home and the working directory writable, every name
 * reachable through the proxy), with the file calls shown to the
 * supervisor as --trace shows them.  Each access the widened policy lets
 * through and BASE would have refused is recorded here, by directory as it
 * comes; each name the proxy let through only because of the widening, and
 * each API-key-like variable whose value the proxy saw going to a host.
 * What the widening never lifts (the deny paths, the default's among them,
 * and what ringfence keeps out of reach) is refused as in any run, and
 * listed, never proposed.
 */

#define LEARN_DIRS_MAX	 4096 /* directories recorded; the rest counted */
#define LEARN_SLOTS	 (LEARN_DIRS_MAX * 2)
#define LEARN_HOSTS_MAX	 256
#define LEARN_NOTES_MAX	 64
#define LEARN_CANDS_MAX	 16
#define LEARN_CAND_HOSTS 4

struct learn_dir {
	char *path;
	unsigned rights;
	unsigned long count;
	char *why;
};

struct learn_host {
	char host[256];
	uint16_t port;
	unsigned long count;
};

/* An environment variable that looks like an API key, and where its value
 * was seen going. */
struct learn_cand {
	char *name;
	char *value; /* the secret: wiped when freed */
	struct learn_host hosts[LEARN_CAND_HOSTS];
	size_t n_hosts;
	bool more_hosts, plain;
};

struct learn_rec {
	/* BASE's grants, canonical: read, write, exec */
	char **cover[3];
	size_t n_cover[3];
	char **never; /* the home directories: never granted, nor above */
	size_t n_never;
	char **deny; /* every deny path of the run: never granted */
	size_t n_deny;
	char **roots; /* the widening's own write grants (home, cwd) */
	size_t n_roots;
	bool tmp_private; /* a private /tmp and /dev/shm (namespaces) */
	char *tmpdir;	  /* the private TMPDIR (no namespaces) */

	struct learn_dir *dirs;
	size_t n_dirs;
	unsigned long dropped;
	uint32_t slots[LEARN_SLOTS]; /* index + 1 into dirs; 0: empty */

	struct learn_host hosts[LEARN_HOSTS_MAX];
	size_t n_hosts;
	char *notes[LEARN_NOTES_MAX];
	size_t n_notes;
	unsigned long more_notes;
	struct learn_cand cands[LEARN_CANDS_MAX];
	size_t n_cands;
};

static bool beneath(const char *path, const char *dir)
{
	return landlock_path_beneath(path, dir);
}

static bool any_beneath(const char *path, char *const *dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (dirs[i] && beneath(path, dirs[i]))
			return true;
	return false;
}

/* S canonical when it exists, as written otherwise. */
static void strv_add_canon(char ***v, size_t *n, const char *s)
{
	_cleanup_free_ char *c = realpath(s, NULL);
	strv_add(v, n, c ? c : s);
}

static struct learn_rec *learn_new(const struct policy *base)
{
	struct learn_rec *r = calloc(1, sizeof(*r));
	const struct policy_list *l[3] = {&base->fs.read, &base->fs.write, &base->fs.exec};

	if (!r)
		die("out of memory");
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < l[k]->n; i++)
			strv_add_canon(&r->cover[k], &r->n_cover[k], l[k]->items[i].value);
	return r;
}

static void learn_free(struct learn_rec *r)
{
	if (!r)
		return;
	for (size_t k = 0; k < 3; k++)
		strv_clear(&r->cover[k], &r->n_cover[k]);
	strv_clear(&r->never, &r->n_never);
	strv_clear(&r->deny, &r->n_deny);
	strv_clear(&r->roots, &r->n_roots);
	free(r->tmpdir);
	for (size_t i = 0; i < r->n_dirs; i++) {
		free(r->dirs[i].path);
		free(r->dirs[i].why);
	}
	free(r->dirs);
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	for (size_t i = 0; i < r->n_cands; i++) {
		free(r->cands[i].name);
		explicit_bzero(r->cands[i].value, strlen(r->cands[i].value));
		free(r->cands[i].value);
	}
	free(r);
}

/* A variable whose name says it holds a key and whose value could be one. */
static bool looks_like_api_key(const char *name, const char *value)
{
	static const char *const words[] = {"KEY", "TOKEN", "SECRET", "PASSWORD", "PAT"};
	char up[128];
	size_t n = strlen(value);
	bool word = false;

	if (n < 16 || n > 4096 || strlen(name) >= sizeof(up))
		return false;
	for (size_t i = 0; name[i]; i++)
		up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	up[strlen(name)] = '\0';
	/* a whole word of the name: GITHUB_TOKEN, OPENAI_API_KEY, not KEYBOARD */
	for (size_t w = 0; w < ARRAY_SIZE(words); w++) {
		size_t wl = strlen(words[w]);
		for (const char *p = strstr(up, words[w]); p; p = strstr(p + 1, words[w]))
			if ((p == up || p[-1] == '_') && (p[wl] == '\0' || p[wl] == '_'))
				word = true;
	}
	if (!word)
		return false;
	/* one token: no blank, no path, no URL */
	for (const char *c = value; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '/' || *c == ':')
			return false;
	return true;
}

static bool command_file(const struct sandbox *sb, char *out, size_t size);

void learn_begin(struct learn_rec *r, const struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const char *h = getenv("HOME");
	struct passwd *pw;

	/* the homes: the run's, the caller's, root's and the login users' */
	if (sb->home)
		strv_add_canon(&r->never, &r->n_never, sb->home);
	if (h && h[0] == '/')
		strv_add_canon(&r->never, &r->n_never, h);
	setpwent();
	while ((pw = getpwent()))
		if ((pw->pw_uid == 0 || pw->pw_uid >= 1000) && pw->pw_uid != 65534 && pw->pw_dir &&
		    pw->pw_dir[0] == '/')
			strv_add_canon(&r->never, &r->n_never, pw->pw_dir);
	endpwent();
	for (size_t i = 0; i < p->fs.deny.n; i++)
		strv_add(&r->deny, &r->n_deny,
			 sb->deny_canon && sb->deny_canon[i] ? sb->deny_canon[i]
							     : p->fs.deny.items[i].value);
	if (sb->home && strcmp(sb->home, "/") != 0)
		strv_add_canon(&r->roots, &r->n_roots, sb->home);
	strv_add_canon(&r->roots, &r->n_roots, sb->cwd);
	r->tmp_private = sb->ns == NS_FULL && p->fs.private_tmp;
	if (sb->private_tmp_dir) {
		r->tmpdir = realpath(sb->private_tmp_dir, NULL);
		if (!r->tmpdir)
			r->tmpdir = strdup(sb->private_tmp_dir);
	}
	/* unprivileged, the command's first exec is not seen by the trace
	 * (its /proc entries are closed to us until it has run): recorded
	 * from here, as the child will find it */
	char cmd[PATH_MAX];
	if (command_file(sb, cmd, sizeof(cmd)))
		learn_note_use(r, 0, FS_EXEC, cmd, cmd, LL_FS_EXECUTE);
	for (char **e = sb->envp; e && *e && r->n_cands < LEARN_CANDS_MAX; e++) {
		const char *eq = strchr(*e, '=');
		char name[128];
		if (!eq || (size_t)(eq - *e) >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
		if (env_is_ours(name) || !looks_like_api_key(name, eq + 1))
			continue;
		struct learn_cand *c = &r->cands[r->n_cands];
		c->name = strdup(name);
		c->value = strdup(eq + 1);
		if (!c->name || !c->value)
			die("out of memory");
		r->n_cands++;
	}
}

/* The file the command's first exec runs: ARGV0 as the child finds it (a
 * name with a '/' from the working directory, else through the command's
 * PATH), canonical; false when there is none. */
static bool command_file(const struct sandbox *sb, char *out, size_t size)
{
	const char *a0 = sb->argv ? sb->argv[0] : NULL, *path = NULL;
	char cand[PATH_MAX * 2 + 2];

	if (!a0 || !a0[0])
		return false;
	for (char **e = sb->envp; e && *e && !path; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	for (const char *p = strchr(a0, '/') ? "" : path; p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (strchr(a0, '/'))
			snprintf(cand, sizeof(cand), "%s%s%s", a0[0] == '/' ? "" : sb->cwd,
				 a0[0] == '/' ? "" : "/", a0);
		else
			snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, n ? p : ".", a0);
		_cleanup_free_ char *c = realpath(cand, NULL);
		struct stat st;
		if (c && stat(c, &st) == 0 && S_ISREG(st.st_mode) && strlen(c) < size) {
			snprintf(out, size, "%s", c);
			return true;
		}
		if (strchr(a0, '/') || !colon)
			break;
		p = colon + 1;
	}
	return false;
}

/* BASE allows RIGHTS (enum learn_right) at PATH: a grant covers it, or it
 * is in the private /tmp every run has. */
static bool base_covers(const struct learn_rec *r, const char *path, unsigned right)
{
	/* a write grant gives reading too, an exec grant reading and
	 * executing; only an exec grant gives executing (fstrace_judge) */
	if (right != LEARN_EXEC && any_beneath(path, r->cover[1], r->n_cover[1]))
		return true;
	if (right != LEARN_WRITE && any_beneath(path, r->cover[2], r->n_cover[2]))
		return true;
	if (right == LEARN_READ && any_beneath(path, r->cover[0], r->n_cover[0]))
		return true;
	if (r->tmpdir && beneath(path, r->tmpdir))
		return true;
	/* a private /tmp holds only what a grant carries in: anything else
	 * there is the run's own */
	if (r->tmp_private && (beneath(path, "/tmp") || beneath(path, "/dev/shm"))) {
		for (size_t k = 0; k < 3; k++)
			if (any_beneath(path, r->cover[k], r->n_cover[k]))
				return false;
		return !any_beneath(path, r->roots, r->n_roots);
	}
	return false;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The entry for PATH, with RIGHT added and counted; NULL when the table is
 * full (counted as dropped).  A new entry's why is NULL: the caller says
 * it (which costs a readlink, once per directory). */
static struct learn_dir *record(struct learn_rec *r, const char *path, unsigned right)
{
	uint32_t i = hash(path) % LEARN_SLOTS;

	for (; r->slots[i]; i = (i + 1) % LEARN_SLOTS) {
		struct learn_dir *d = &r->dirs[r->slots[i] - 1];
		if (strcmp(d->path, path) == 0) {
			d->rights |= right;
			d->count++;
			return d;
		}
	}
	if (r->n_dirs >= LEARN_DIRS_MAX) {
		r->dropped++;
		return NULL;
	}
	if (!r->dirs) {
		r->dirs = calloc(LEARN_DIRS_MAX, sizeof(*r->dirs));
		if (!r->dirs)
			die("out of memory");
	}
	struct learn_dir *d = &r->dirs[r->n_dirs];
	*d = (struct learn_dir){.path = strdup(path), .rights = right, .count = 1};
	if (!d->path)
		die("out of memory");
	r->slots[i] = (uint32_t)++r->n_dirs;
	return d;
}

/* "create /a/b/c by git": the access, and the program that made it (PID's
 * executable; 0: the command, before it runs). */
static char *why_text(enum fs_access access, const char *target, pid_t pid)
{
	char exe[PATH_MAX] = "", proc[64], *why;
	ssize_t n = -1;

	if (pid > 0) {
		snprintf(proc, sizeof(proc), "/proc/%d/exe", pid);
		n = readlink(proc, exe, sizeof(exe) - 1);
	}
	exe[n > 0 ? n : 0] = '\0';
	const char *base = strrchr(exe, '/');
	if (asprintf(&why, "%s %s by %s", fstrace_access_name(access), target,
		     pid <= 0 ? "the command"
		     : base   ? base + 1
			      : "?") < 0)
		die("out of memory");
	return why;
}

/* The rights that act on a directory's entries (what is judged is the
 * directory); the rest act on the file itself. */
#define DIR_RIGHTS                                                                                 \
	(LL_FS_READ_DIR | LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO |    \
	 LL_FS_MAKE_SYM | LL_FS_MAKE_CHAR | LL_FS_MAKE_BLOCK | LL_FS_REMOVE_DIR |                  \
	 LL_FS_REMOVE_FILE | LL_FS_REFER)

void learn_note_use(struct learn_rec *r, pid_t pid, enum fs_access access, const char *target,
		    const char *check, uint64_t right)
{
	char dir[PATH_MAX];
	unsigned kind;

	if (right & LL_FS_IOCTL_DEV)
		return; /* devices: the base's /dev grants decide */
	kind = right & LANDLOCK_READ   ? LEARN_READ
	       : right & LL_FS_EXECUTE ? LEARN_EXEC
				       : LEARN_WRITE;
	if (base_covers(r, check, kind))
		return;
	snprintf(dir, sizeof(dir), "%s", check);
	if (!(right & DIR_RIGHTS)) {
		char *s = strrchr(dir, '/');
		if (s == dir)
			s[1] = '\0';
		else if (s)
			*s = '\0';
	}
	/* an entry of a home (or of "/"), which no grant may take whole: the
	 * entry itself is what is proposed (~/.bash_history, ~/.cache) */
	if (!learn_grantable(dir, r->never, r->n_never, NULL, 0) && strcmp(target, dir) != 0)
		snprintf(dir, sizeof(dir), "%s", target);
	struct learn_dir *d = record(r, dir, kind);
	if (d && !d->why)
		d->why = why_text(access, target, pid);
}

static void add_note(struct learn_rec *r, const char *text)
{
	for (size_t i = 0; i < r->n_notes; i++)
		if (strcmp(r->notes[i], text) == 0)
			return;
	if (r->n_notes >= LEARN_NOTES_MAX) {
		r->more_notes++;
		return;
	}
	r->notes[r->n_notes] = strdup(text);
	if (r->notes[r->n_notes])
		r->n_notes++;
}

void learn_note_refused(struct learn_rec *r, enum fs_access access, const char *path,
			const struct fs_verdict *v)
{
	char text[PATH_MAX * 2 + 128];

	snprintf(text, sizeof(text), "%s %s: %s", fstrace_access_name(access), path,
		 v->why == FS_WHY_DENIED ? "denied by [filesystem] deny"
		 : v->why == FS_WHY_KEPT ? "kept out of the sandbox's reach by ringfence"
					 : "outside what learning widens (the home, the "
					   "working directory): grant it yourself if it is needed");
	add_note(r, text);
}

static void add_host(struct learn_host *hosts, size_t *n, size_t max, const char *host,
		     uint16_t port, bool *overflow)
{
	for (size_t i = 0; i < *n; i++)
		if (hosts[i].port == port && strcmp(hosts[i].host, host) == 0) {
			hosts[i].count++;
			return;
		}
	if (*n >= max || strlen(host) >= sizeof(hosts[0].host)) {
		if (overflow)
			*overflow = true;
		return;
	}
	snprintf(hosts[*n].host, sizeof(hosts[*n].host), "%s", host);
	hosts[*n].port = port;
	hosts[*n].count = 1;
	(*n)++;
}

void learn_note_net(struct learn_rec *r, const struct netproxy_event *ev)
{
	char text[600];

	if (!ev->host)
		return;
	if (strcmp(ev->event, "net.allow") == 0 && ev->reason &&
	    strcmp(ev->reason, NETPROXY_REASON_LEARNING) == 0) {
		add_host(r->hosts, &r->n_hosts, LEARN_HOSTS_MAX, ev->host, ev->port, NULL);
	} else if (strcmp(ev->event, "net.deny") == 0) {
		snprintf(text, sizeof(text), "%s:%u: %s", ev->host, ev->port,
			 ev->reason ? ev->reason : "refused");
		add_note(r, text);
	}
}

void learn_note_head(struct learn_rec *r, const char *host, uint16_t port, bool in_tls,
		     const char *head, size_t len)
{
	for (size_t i = 0; i < r->n_cands; i++) {
		struct learn_cand *c = &r->cands[i];
		if (!netproxy_text_carries(head, len, c->value))
			continue;
		add_host(c->hosts, &c->n_hosts, LEARN_CAND_HOSTS, host, port, &c->more_hosts);
		c->plain |= !in_tls;
	}
}

/* ---- the learned policy, written ------------------------------------------ */

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
	one_line(buf);
	if (strlen(buf) + 2 > LINE_MAX_CHARS)
		snprintf(buf + LINE_MAX_CHARS - 2 - 3, 4, "...");
	fprintf(f, "; %s\n", buf);
}

/* VALUE as a policy list item: quoted when it holds a blank; false when no
 * line can hold it. */
static bool policy_value(const char *value, char *out, size_t size)
{
	bool blank = false;

	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '#' || *c == ';' || *c == '"')
			return false;
		blank |= *c == ' ' || *c == ',';
	}
	/* "write = " before it */
	return (size_t)snprintf(out, size, blank ? "\"%s\"" : "%s", value) < size &&
	       strlen(out) + 8 <= LINE_MAX_CHARS;
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

static void learn_write(struct learn_rec *r, FILE *f, const struct cli *cli, const char *base_abs,
			const struct policy *base)
{
	struct learn_use *uses = calloc(r->n_dirs + 1, sizeof(*uses));
	struct learn_grant *g = NULL;
	size_t n_g = 0;
	char val[PATH_MAX + 3], cmd[1024] = "";
	bool own_mode = r->n_hosts && base->net.mode == POLICY_NET_NONE;

	if (!uses)
		die("out of memory");
	for (size_t i = 0; i < r->n_dirs; i++)
		uses[i] = (struct learn_use){.path = r->dirs[i].path,
					     .rights = r->dirs[i].rights,
					     .count = r->dirs[i].count,
					     .why = r->dirs[i].why};
	if (learn_group(uses, r->n_dirs, r->never, r->n_never, r->deny, r->n_deny, &g, &n_g) < 0)
		die("out of memory");

	for (int i = 0; i < cli->argc; i++) {
		size_t off = strlen(cmd);
		snprintf(cmd + off, sizeof(cmd) - off, "%s%s", i ? " " : "", cli->argv[i]);
	}
	comment(f, "Learned by ringfence learn from one run of:");
	comment(f, "  %s", cmd);
	comment(f, "Each line says what used it: review them before use.");
	if (base_abs) {
		if (!policy_value(base_abs, val, sizeof(val)))
			die("%s: this path cannot be written on a policy line", base_abs);
		fprintf(f, "[sandbox]\ninclude = %s\n", val);
	} else {
		comment(f, "The built-in default policy, copied:");
		write_default(f, own_mode);
		comment(f, "What the run used beyond it:");
	}

	fprintf(f, "[filesystem]\n");
	for (size_t i = 0; i < n_g; i++) {
		if (!policy_value(g[i].path, val, sizeof(val))) {
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
	if (r->dropped)
		comment(f, "not recorded: %lu accesses beyond the first %d directories", r->dropped,
			LEARN_DIRS_MAX);

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
			if (!policy_value(rule, val, sizeof(val)) || strcmp(rule, val) != 0 ||
			    !policy_domain_rule_valid(rule, &why)) {
				comment(f, "not proposed: %s: no allow line can hold it", rule);
				continue;
			}
			comment(f, "%lu connection%s", r->hosts[i].count,
				r->hosts[i].count == 1 ? "" : "s");
			fprintf(f, "allow = %s\n", rule);
		}
	}
	for (size_t i = 0; i < r->n_notes; i++)
		comment(f, "refused while learning, not proposed: %s", r->notes[i]);
	if (r->more_notes)
		comment(f, "and %lu more refusals (the audit log has each)", r->more_notes);

	/* credentials: a commented section the operator completes; the
	 * value itself is never written */
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
static void publish(int dirfd, int fd, const char *name, bool force, const char *shown)
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

static const char *learn_getenv(const char *name)
{
	return getenv(name);
}

int supervisor_learn_run(const struct cli *cli)
{
	_cleanup_(policy_freep) struct policy *base = NULL, *defaults = NULL;
	_cleanup_free_ char *home = NULL, *base_abs = NULL;
	struct policy_error err = {0};
	struct cli wide_cli = *cli;
	struct stat st;
	char cwd[PATH_MAX], dir[PATH_MAX];
	int code;

	/* the output first, before anything is allocated: a bad -o costs no
	 * run (publish() says why it is written as it is) */
	if ((size_t)snprintf(dir, sizeof(dir), "%s", cli->learn_out) >= sizeof(dir))
		die("%s: name too long", cli->learn_out);
	char *slash = strrchr(dir, '/');
	const char *name = slash ? cli->learn_out + (slash - dir) + 1 : cli->learn_out;
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		die("%s: not a file name", cli->learn_out);
	_cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die("%s: cannot write there: %s", cli->learn_out, strerror(errno));
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!cli->learn_force)
			die("%s: already exists (learn -o does not replace a file without --force)",
			    cli->learn_out);
		if (!S_ISREG(st.st_mode))
			die("%s: not a regular file", cli->learn_out);
	}
	int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s: cannot write there: %s%s", cli->learn_out, strerror(errno),
		    errno == EOPNOTSUPP ? " (its file system makes no unnamed files)" : "");
	if (fchmod(fd, 0644) < 0)
		die("%s: %s", cli->learn_out, strerror(errno));

	base = supervisor_load_policy(cli, &home);
	if (cli->policy_path) {
		base_abs = realpath(cli->policy_path, NULL);
		if (!base_abs)
			die("%s: %s", cli->policy_path, strerror(errno));
	}
	if (!getcwd(cwd, sizeof(cwd)))
		die("cannot read the working directory: %s", strerror(errno));

	/* the widening, as command-line grants on a second copy of the
	 * base: what BASE does not grant is judged against BASE, not this */
	size_t n_extra = 4;
	if (policy_load_default(&defaults, &err) < 0)
		die_policy(&err);
	n_extra += defaults->fs.deny.n;
	struct cli_override *ov = calloc(cli->n_overrides + n_extra, sizeof(*ov));
	if (!ov)
		die("out of memory");
	if (cli->n_overrides)
		memcpy(ov, cli->overrides, cli->n_overrides * sizeof(*ov));
	size_t n_ov = cli->n_overrides;
	ov[n_ov++] = (struct cli_override){POLICY_OVERRIDE_READ, "/"};
	ov[n_ov++] = (struct cli_override){POLICY_OVERRIDE_EXEC, "/"};
	ov[n_ov++] = (struct cli_override){POLICY_OVERRIDE_WRITE, "${CWD}"};
	if (home && strcmp(home, "/") != 0 && stat(home, &st) == 0 && S_ISDIR(st.st_mode))
		ov[n_ov++] = (struct cli_override){POLICY_OVERRIDE_WRITE, home};
	/* the secrets the default denies stay denied while learning, unless
	 * the base itself grants in them */
	struct policy_vars vars = {.cwd = cwd, .home = home, .getenv = learn_getenv};
	for (size_t i = 0; i < defaults->fs.deny.n; i++) {
		_cleanup_free_ char *x = NULL;
		const char *undef = NULL;
		bool granted = false;
		if (policy_expand_string(defaults->fs.deny.items[i].value, &vars, true, &x,
					 &undef) < 0)
			continue;
		const struct policy_list *l[3] = {&base->fs.read, &base->fs.write, &base->fs.exec};
		for (size_t k = 0; k < 3; k++)
			for (size_t j = 0; j < l[k]->n; j++)
				granted |= beneath(l[k]->items[j].value, x) &&
					   strcmp(l[k]->items[j].value, cwd) != 0;
		if (!granted)
			ov[n_ov++] = (struct cli_override){POLICY_OVERRIDE_DENY,
							   defaults->fs.deny.items[i].value};
	}
	wide_cli.overrides = ov;
	wide_cli.n_overrides = n_ov;
	char *wide_home = NULL;
	struct policy *wide = supervisor_load_policy(&wide_cli, &wide_home);
	free(ov);
	/* -n on the command line asked for no network: learning keeps it */
	bool no_network = false;
	for (size_t i = 0; i < cli->n_overrides; i++)
		no_network |= cli->overrides[i].what == POLICY_OVERRIDE_NO_NETWORK;
	if (wide->net.mode == POLICY_NET_NONE && !no_network)
		wide->net.mode = POLICY_NET_PROXY;
	wide->net.allow_any = !no_network;
	wide->net.intercept_all = wide->net.allow_any && cli->learn_intercept;

	struct learn_rec *rec = learn_new(base);
	code = supervisor_run_policy(cli, wide, wide_home, rec);

	FILE *f = fdopen(fd, "w");
	if (!f)
		die("%s: %s", cli->learn_out, strerror(errno));
	learn_write(rec, f, cli, base_abs, base);
	if (fflush(f) != 0 || fsync(fd) < 0)
		die("%s: %s", cli->learn_out, strerror(errno));
	publish(dirfd, fd, name, cli->learn_force, cli->learn_out);
	fclose(f);
	fprintf(stderr,
		"ringfence: the learned policy is in %s (review it); the command exited %d%s\n",
		cli->learn_out, code, code ? ": what it did not reach is not in it" : "");
	learn_free(rec);
	return code;
}
