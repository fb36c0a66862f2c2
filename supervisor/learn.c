/* SPDX-License-Identifier: MIT */
/*
 * `ringfence learn -o NEW.ini [-p BASE] -- COMMAND`: the command runs once
 * under BASE widened (every file readable and executable, the home and the
 * working directory writable, every name reachable through the proxy),
 * with the file calls shown to the supervisor as --trace shows them.  Each
 * access the widened policy lets through and BASE would have refused is
 * recorded here, by directory as it comes; each name the proxy let through
 * only because of the widening, and each API-key-like variable whose value
 * the proxy saw going to a host.  What the widening never lifts (the deny
 * paths, the default's among them, and what ringfence keeps out of reach)
 * is refused as in any run, and listed, never proposed.  learn_write.c
 * writes the policy learned; learn_from.c reads a run's audit log instead
 * (`learn --from`).
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
#include "learn_internal.h"

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

void learn_homes(char ***v, size_t *n, const char *home)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (home)
		strv_add_canon(v, n, home);
	if (h && h[0] == '/')
		strv_add_canon(v, n, h);
	setpwent();
	while ((pw = getpwent()))
		if ((pw->pw_uid == 0 || pw->pw_uid >= 1000) && pw->pw_uid != 65534 && pw->pw_dir &&
		    pw->pw_dir[0] == '/')
			strv_add_canon(v, n, pw->pw_dir);
	endpwent();
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

	learn_homes(&r->never, &r->n_never, sb->home);
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
	bool listing = !(right & ~(uint64_t)LL_FS_READ_DIR);
	if (d)
		d->listed_only = d->count == 1 ? listing : d->listed_only && listing;
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

static const char *learn_getenv(const char *name)
{
	return getenv(name);
}

/* The output -o names: its directory opened and an unnamed file made in
 * it (O_TMPFILE), its descriptor returned; its name in -o in *RET_NAME,
 * the directory's descriptor in *RET_DIRFD. */
static int open_output(const struct cli *cli, const char **ret_name, int *ret_dirfd)
{
	struct stat st;
	char dir[PATH_MAX];

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
	*ret_name = name;
	*ret_dirfd = steal_fd(&dirfd);
	return fd;
}

/* The widening, as command-line grants (the command line's own first):
 * every file read and run, the working directory CWD and the home
 * written, and the deny paths of the default DEFAULTS that BASE grants
 * nothing in.  Malloc'd, *RET_N of them. */
static struct cli_override *wide_overrides(const struct cli *cli, const struct policy *base,
					   const struct policy *defaults, const char *home,
					   const char *cwd, size_t *ret_n)
{
	struct stat st;
	size_t n_extra = 4;

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
	*ret_n = n_ov;
	return ov;
}

/* The widened policy's network: every name reachable through the proxy
 * (and, with --intercept, every connection intercepted), unless -n on the
 * command line asked for none. */
static void wide_network(const struct cli *cli, struct policy *wide)
{
	/* -n on the command line asked for no network: learning keeps it */
	bool no_network = false;
	for (size_t i = 0; i < cli->n_overrides; i++)
		no_network |= cli->overrides[i].what == POLICY_OVERRIDE_NO_NETWORK;
	if (wide->net.mode == POLICY_NET_NONE && !no_network)
		wide->net.mode = POLICY_NET_PROXY;
	wide->net.allow_any = !no_network;
	wide->net.intercept_all = wide->net.allow_any && cli->learn_intercept;
}

int supervisor_learn_run(const struct cli *cli)
{
	_cleanup_(policy_freep) struct policy *base = NULL, *defaults = NULL;
	_cleanup_free_ char *home = NULL, *base_abs = NULL;
	struct policy_error err = {0};
	struct cli wide_cli = *cli;
	char cwd[PATH_MAX];
	const char *name;
	int code;

	/* the output first, before anything is allocated: a bad -o costs no
	 * run (learn_publish() says why it is written as it is) */
	_cleanup_close_ int dirfd = -1;
	int fd = open_output(cli, &name, &dirfd);

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
	if (policy_load_default(&defaults, &err) < 0)
		die_policy(&err);
	size_t n_ov;
	struct cli_override *ov = wide_overrides(cli, base, defaults, home, cwd, &n_ov);
	wide_cli.overrides = ov;
	wide_cli.n_overrides = n_ov;
	char *wide_home = NULL;
	struct policy *wide = supervisor_load_policy(&wide_cli, &wide_home);
	free(ov);
	wide_network(cli, wide);

	struct learn_rec *rec = learn_new(base);
	code = supervisor_run_policy(cli, wide, wide_home, rec);

	FILE *f = fdopen(fd, "w");
	if (!f)
		die("%s: %s", cli->learn_out, strerror(errno));
	learn_write(rec, f, cli, base_abs, base);
	if (fflush(f) != 0 || fsync(fd) < 0)
		die("%s: %s", cli->learn_out, strerror(errno));
	learn_publish(dirfd, fd, name, cli->learn_force, cli->learn_out);
	fclose(f);
	warn("the learned policy is in %s (review it); the command exited %d%s", cli->learn_out,
	     code, code ? ": what it did not reach is not in it" : "");
	learn_free(rec);
	return code;
}
