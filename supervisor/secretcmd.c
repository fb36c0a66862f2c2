/* SPDX-License-Identifier: MIT */
/*
 * source = cmd:PROGRAM ARG...: a secret that a command prints (a password
 * manager, a cloud CLI's token), run outside the sandbox.
 *
 * - A helper process is forked before any secret is read or the CA made,
 *   so it holds none; it runs each command when asked over a socketpair
 *   and answers with the output or what failed.  The proxy's loop only
 *   writes and reads that socket (netproxy/refresh.c): a slow command
 *   stalls no connection.  At start the supervisor asks and waits.
 * - It runs as the user who started ringfence, never as run_as: the
 *   command is the caller's own tool, with the caller's environment (less
 *   the variables other credentials were read from).  As root, only when
 *   every policy file, and every directory above it up to /, is root's
 *   and writable by root alone (as the parser found them through the
 *   descriptors it read): whoever writes the policy chooses what root
 *   runs.
 * - It runs in / (PWD=/), never in the directory ringfence started in,
 *   which the sandbox usually writes.
 * - What it runs is out of the sandbox's reach: the program, its "#!"
 *   interpreters and path arguments are refused where the sandbox may
 *   change them (check_program()), its PATH and the variables that load
 *   code (code_vars) are the caller's less what could lead into a write
 *   grant, and every write grant is hidden from the commands in a mount
 *   namespace of the helper's own (hide_grants()).
 * - argv is split as the policy wrote it; no shell (name one to get one),
 *   no PATH search.  stdin is /dev/null, stderr the caller's, stdout read
 *   up to 8 KiB; the command gets its own process group, killed whole
 *   when it ends or at its timeout.
 * - The output is trimmed of blanks and line ends at both ends; empty,
 *   longer than 8 KiB or holding a control character fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

#define MSG_CAP (sizeof(struct netproxy_secret_reply) + NETPROXY_SECRET_MAX + 1)

static uint32_t timeout_of(const struct policy_credential *pc)
{
	return pc->cmd_timeout_ms ? pc->cmd_timeout_ms : POLICY_CMD_TIMEOUT_DEFAULT_MS;
}

size_t secretcmd_check_output(char *out, size_t n, char *why, size_t size)
{
	size_t a = 0;

	why[0] = '\0';
	while (n > 0 && strchr(" \t\r\n", out[n - 1]))
		n--;
	while (a < n && strchr(" \t\r\n", out[a]))
		a++;
	memmove(out, out + a, n - a);
	n -= a;
	if (n == 0) {
		snprintf(why, size, "it printed nothing");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)out[i];
		/* it goes into HTTP heads: a line break would be a header of
		 * its own */
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			snprintf(why, size, "its output holds a control character");
			return 0;
		}
	}
	return n;
}

/* The command's process: stdin /dev/null, stdout the pipe PFD, a process
 * group of its own; what kept it from running is written to EFD. */
_noreturn_ static void cmd_child(char **argv, int pfd[2], int efd[2])
{
	sigset_t none;
	int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int err = 0;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setpgid(0, 0);
	if (dn < 0 || dup2(dn, 0) < 0 || dup2(pfd[1], 1) < 0)
		err = errno;
	else
		execv(argv[0], argv);
	err = err ? err : errno;
	(void)!write(efd[1], &err, sizeof(err));
	_exit(127);
}

/* Its output until it exits (a pidfd says when), then what is left
 * in the pipe: a process it left behind holding stdout (started in
 * the background) must not make it time out.  Its length; *W is PID when
 * it was reaped meanwhile (its status in *ST). */
static size_t read_output(pid_t pid, const int pfd[2], long deadline, char *out, pid_t *w, int *st,
			  bool *too_long, bool *timed_out)
{
	bool eof = false;
	size_t n = 0;
	int pidfd;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	while (!*too_long) {
		long left = deadline - monotonic_ms();
		struct pollfd p[2] = {{.fd = eof ? -1 : pfd[0], .events = POLLIN},
				      {.fd = pidfd, .events = POLLIN}};
		ssize_t r;
		if (left <= 0) {
			*timed_out = true;
			break;
		}
		/* without a pidfd (before Linux 5.3), its end is looked for
		 * every 10 ms */
		if (poll(p, 2, pidfd < 0 ? (left < 10 ? (int)left : 10) : (int)left) < 0 &&
		    errno != EINTR)
			break;
		if ((*w = waitpid(pid, st, WNOHANG)) == pid) {
			(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
			while (!eof && !*too_long &&
			       (r = read(pfd[0], out + n, NETPROXY_SECRET_MAX + 1 - n)) > 0) {
				n += (size_t)r;
				*too_long = n == NETPROXY_SECRET_MAX + 1;
			}
			break;
		}
		if (eof || !p[0].revents)
			continue;
		r = read(pfd[0], out + n, NETPROXY_SECRET_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			eof = true;
			continue;
		}
		n += (size_t)r;
		*too_long = n == NETPROXY_SECRET_MAX + 1;
	}
	if (pidfd >= 0)
		close(pidfd);
	return n;
}

/* Runs PC's command: the trimmed output in OUT (NETPROXY_SECRET_MAX + 1
 * bytes), or 0 and why not. */
static size_t run_one(const struct policy_credential *pc, char *out, char *why, size_t size)
{
	char **argv = calloc(pc->cmd_argv.n + 1, sizeof(*argv));
	int pfd[2] = {-1, -1}, efd[2] = {-1, -1}, st = 0, err = 0;
	long deadline = monotonic_ms() + timeout_of(pc);
	bool too_long = false, timed_out = false;
	size_t n = 0;
	pid_t pid, w = 0;

	if (!argv || pipe2(pfd, O_CLOEXEC) < 0 || pipe2(efd, O_CLOEXEC) < 0) {
		snprintf(why, size, "cannot start it: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < pc->cmd_argv.n; i++)
		argv[i] = pc->cmd_argv.items[i].value;
	pid = fork();
	if (pid < 0) {
		snprintf(why, size, "cannot start it: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		cmd_child(argv, pfd, efd);
	(void)setpgid(pid, pid); /* both sides: whichever runs first */
	close(pfd[1]);
	close(efd[1]);
	pfd[1] = efd[1] = -1;
	if (read(efd[0], &err, sizeof(err)) == (ssize_t)sizeof(err)) {
		(void)waitpid(pid, NULL, 0);
		snprintf(why, size, "cannot run %s: %s", argv[0], strerror(err));
		goto fail;
	}
	n = read_output(pid, pfd, deadline, out, &w, &st, &too_long, &timed_out);
	/* what is left of it ends now, with whatever it started in the
	 * background in its process group */
	(void)kill(-pid, SIGKILL);
	if (w != pid)
		w = waitpid(pid, &st, 0);
	if (too_long) {
		snprintf(why, size, "it printed more than %d bytes", NETPROXY_SECRET_MAX);
		goto fail;
	}
	if (timed_out) {
		snprintf(why, size, "it did not finish within its timeout (%ums)",
			 (unsigned)timeout_of(pc));
		goto fail;
	}
	if (WIFSIGNALED(st)) {
		snprintf(why, size, "it was killed by signal %d", WTERMSIG(st));
		goto fail;
	}
	if (WEXITSTATUS(st) != 0) {
		snprintf(why, size, "it exited with status %d", WEXITSTATUS(st));
		goto fail;
	}
	n = secretcmd_check_output(out, n, why, size);
	if (n == 0)
		goto fail;
	close(pfd[0]);
	close(efd[0]);
	free(argv);
	return n;
fail:
	explicit_bzero(out, NETPROXY_SECRET_MAX + 1);
	for (int i = 0; i < 2; i++) {
		if (pfd[i] >= 0)
			close(pfd[i]);
		if (efd[i] >= 0)
			close(efd[i]);
	}
	free(argv);
	return 0;
}

/*
 * The helper is forked before the supervisor scrubs its environment
 * (creds.c: the commands are run while the secrets are read), so it does
 * the same for itself: the bytes of variable NAME, and of every other
 * variable holding the same value (8 bytes or more: a shorter one would
 * match by chance), are overwritten where they are (the initial stack,
 * which /proc/PID/environ shows), then the variables removed.
 */
static void forget_variable(const char *name)
{
	char *v = getenv(name), *copy;
	size_t n;

	if (!v)
		return;
	n = strlen(v);
	copy = malloc(n + 1);
	if (copy)
		memcpy(copy, v, n + 1);
	explicit_bzero(v, n);
	(void)unsetenv(name);
	for (size_t i = 0; copy && n >= 8 && environ && environ[i];) {
		char *eq = strchr(environ[i], '=');
		if (eq && memmem(eq + 1, strlen(eq + 1), copy, n)) {
			char other[256];
			snprintf(other, sizeof(other), "%.*s", (int)(eq - environ[i]), environ[i]);
			explicit_bzero(eq + 1, strlen(eq + 1));
			(void)unsetenv(other);
			continue; /* unsetenv moved the next one here */
		}
		i++;
	}
	if (copy) {
		explicit_bzero(copy, n);
		free(copy);
	}
}

/* Variables that make a program or its interpreter load code from where
 * they say (a preload, a module path, an rc file): not the commands' to
 * follow, since they could name what the sandbox writes. */
/* (names in place, not pointers: no relocation in the start's RELRO) */
STRING_TABLE_BEGIN
static const char code_vars[][20] = {
    "LD_PRELOAD",    "LD_LIBRARY_PATH", "LD_AUDIT",	"PYTHONPATH", "PYTHONSTARTUP",
    "PYTHONHOME",    "PYTHONUSERBASE",	"NODE_OPTIONS", "NODE_PATH",  "PERL5LIB",
    "PERLLIB",	     "PERL5OPT",	"RUBYLIB",	"RUBYOPT",    "GEM_PATH",
    "GEM_HOME",	     "LUA_INIT",	"LUA_PATH",	"LUA_CPATH",  "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS", "GCONV_PATH",	"BASH_ENV",	"ENV",
};
STRING_TABLE_END

/* What the helper hides from its commands: the write grants, canonical,
 * none beneath another (secretcmd_start() gathers them before the fork). */
struct masks {
	char **path;
	bool *dir;
	size_t n;
};

static int write_proc(const char *name, const char *text)
{
	int fd = open(name, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, text, strlen(text));
	if (w < 0)
		r = -errno;
	else if ((size_t)w != strlen(text))
		r = -EIO;
	close(fd);
	return r;
}

/*
 * The commands run in a mount namespace of the helper's own where every
 * write grant is an empty tmpfs (a file grant, /dev/null): nothing the
 * sandbox wrote is there for them to load, whatever names it (a script's
 * argument, a "#!" line's, an ELF's RUNPATH, a variable, a configuration
 * file; an outside review found each of these past the checks of the
 * paths alone).  A second name the caller gave those files (a bind mount
 * elsewhere, a hard link) is not hidden: README says so.  The tmpfs is
 * writable, with the directory's mode: a CLI's cache or temporary files
 * there are its own, for the helper's life.  As root a mount namespace;
 * else first a user namespace mapping the caller's ids to themselves (the
 * commands run as the caller, without capabilities past exec).  The
 * caller's write grants, not what the run_as user may change elsewhere:
 * those are the checks' (check_program()).  Returns 0 or -errno.
 */
static int hide_grants(const struct masks *m)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	bool made = false;
	int r;

	if (uid == 0) {
		if (unshare(CLONE_NEWNS) == 0)
			made = true;
		else if (errno != EPERM)
			return -errno;
	}
	/* root without CAP_SYS_ADMIN (a container's) makes its mount
	 * namespace as the others do, in a user namespace of its own */
	if (!made) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -errno;
		/* a process that is not dumpable has its /proc files root's,
		 * the maps too; the helper holds no secret (forked before any
		 * is read), and is made so again at once */
		(void)prctl(PR_SET_DUMPABLE, 1);
		snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
		if ((r = write_proc("/proc/self/setgroups", "deny")) == 0 &&
		    (r = write_proc("/proc/self/uid_map", map)) == 0) {
			snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
			r = write_proc("/proc/self/gid_map", map);
		}
		(void)prctl(PR_SET_DUMPABLE, 0);
		if (r < 0)
			return r;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	for (size_t i = 0; i < m->n; i++) {
		struct stat st;
		char opt[96];
		if (!m->dir[i]) {
			if (mount("/dev/null", m->path[i], NULL, MS_BIND, NULL) < 0)
				return -errno;
			continue;
		}
		if (stat(m->path[i], &st) < 0)
			return -errno;
		snprintf(opt, sizeof(opt), "size=64m,mode=%o,uid=%u,gid=%u",
			 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
		if (mount("tmpfs", m->path[i], "tmpfs", MS_NOSUID | MS_NODEV, opt) < 0) {
			/* an owner the user namespace does not map: its own */
			snprintf(opt, sizeof(opt), "size=64m,mode=%o",
				 (unsigned)(st.st_mode & 07777));
			if (mount("tmpfs", m->path[i], "tmpfs", MS_NOSUID | MS_NODEV, opt) < 0)
				return -errno;
		}
	}
	return 0;
}

_noreturn_ static void helper_main(int fd, const struct policy *p, pid_t parent, const char *path,
				   const struct masks *masks)
{
	int hidden;

	char *msg;
	struct netproxy_secret_reply *m;

	/* it ends with the supervisor, whichever way that ends */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* a group of its own: the terminal's Ctrl-C or Ctrl-\ is for the
	 * command in the sandbox (an agent that goes on after it), not for
	 * what fetches its secrets */
	(void)setpgid(0, 0);
	/* the channel, ours alone: dup2() leaves it open across exec, and a
	 * command given it (or what it leaves running in a session of its
	 * own) could read the supervisor's requests before us, or answer
	 * them (found by an outside review) */
	if (dup2(fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		_exit(1);
	(void)close_range(4, ~0U, 0);
	/* The directory ringfence started in is usually the project the
	 * sandbox writes: a command that reads or imports anything relative
	 * to it (python3 -c puts it first on sys.path, a tool's ./config,
	 * git's repository discovery) would run what the sandbox planted
	 * there, outside the sandbox.  The commands run in /, which no
	 * sandbox writes; PWD and OLDPWD, which some tools trust over
	 * getcwd(), say so too. */
	if (chdir("/") < 0 || setenv("PWD", "/", 1) < 0)
		_exit(1);
	(void)unsetenv("OLDPWD");
	/* what the commands find by name (a script's "#!/usr/bin/env
	 * python3", a CLI's own subprocesses): PATH without what the
	 * sandbox may change (a project's .venv/bin first, as an activated
	 * virtual environment puts it) */
	if (setenv("PATH", path, 1) < 0)
		_exit(1);
	for (size_t i = 0; i < sizeof(code_vars) / sizeof(code_vars[0]); i++)
		(void)unsetenv(code_vars[i]);
	/* the variables other credentials were read from are not the
	 * command's to see, nor this process's to keep */
	for (size_t k = 0; k < p->n_creds; k++)
		if (strncmp(p->creds[k].source, "env:", 4) == 0)
			forget_variable(p->creds[k].source + 4);
	hidden = hide_grants(masks);
	msg = mmap(NULL, MSG_CAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (msg == MAP_FAILED)
		_exit(1);
	(void)madvise(msg, MSG_CAP, MADV_DONTDUMP);
	(void)mlock(msg, MSG_CAP);
	m = (struct netproxy_secret_reply *)msg;
	for (;;) {
		uint32_t idx;
		ssize_t r = recv(3, &idx, sizeof(idx), 0);
		size_t n = 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(idx))
			_exit(0); /* the supervisor is gone */
		memset(m, 0, sizeof(*m));
		m->magic = NETPROXY_SECRET_MAGIC;
		m->index = idx;
		if (hidden < 0)
			snprintf(m->why, sizeof(m->why),
				 "the write grants cannot be hidden from it (a mount namespace of "
				 "its own: %s)",
				 strerror(-hidden));
		else if (idx < p->n_creds && strncmp(p->creds[idx].source, "cmd:", 4) == 0)
			n = run_one(&p->creds[idx], msg + sizeof(*m), m->why, sizeof(m->why));
		else
			snprintf(m->why, sizeof(m->why), "no such command");
		m->ok = n > 0;
		m->len = (uint32_t)n;
		(void)send(3, msg, sizeof(*m) + n, MSG_NOSIGNAL);
		explicit_bzero(msg, MSG_CAP);
	}
}

/* Root's alone: owned by root, writable by no one else (a directory
 * writable by others but sticky, like /tmp, lets no one else rename or
 * remove root's entries in it). */
static bool root_alone(uint32_t uid, uint32_t mode)
{
	return uid == 0 && (!(mode & 022) || (S_ISDIR(mode) && (mode & S_ISVTX)));
}

/* As root, the command runs as root: only a policy no other user could
 * have written may name one.  Judged from what the parser recorded of the
 * descriptors it read (policy_file_stat), never by looking the paths up
 * again: a directory of the user's swapped for a symbolic link between the
 * two would have the check see another file than the one read. */
static void check_root_policy(const struct policy *p, const struct policy_credential *pc)
{
	if (geteuid() != 0)
		return;
	for (size_t i = 0; i < p->n_files; i++) {
		const struct policy_file_stat *fs = &p->file_stats[i];
		const char *bad = NULL;
		if (!fs->read || fs->dirs_err < 0 || fs->n_dirs == 0)
			bad = "cannot be checked";
		else if (!root_alone(fs->uid, fs->mode))
			bad = "is not root's alone";
		for (size_t d = 0; !bad && d < fs->n_dirs; d++)
			if (!root_alone(fs->dirs[d].uid, fs->dirs[d].mode))
				bad = d == 0 ? "is in a directory that is not root's alone"
					     : "is under a directory that is not root's alone";
		if (bad)
			die("%s:%u: credential.source: [credential %s]: cmd: would run as root, "
			    "and "
			    "the policy file %s %s (owned by root, writable by root only, and "
			    "every "
			    "directory above it up to /): whoever writes it chooses what root runs",
			    origin_file(&pc->source_origin), pc->source_origin.line, pc->name,
			    p->files[i], bad);
	}
}

/* The caller's PATH without the entries the sandbox may change, and
 * without relative ones, into BUF. */
static void safe_path(const struct sandbox *sb, char *buf, size_t size)
{
	const char *v = getenv("PATH");
	char copy[4096], *save = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (!v || snprintf(copy, sizeof(copy), "%s", v) >= (int)sizeof(copy))
		snprintf(copy, sizeof(copy), "/usr/local/bin:/usr/bin:/bin");
	for (char *e = strtok_r(copy, ":", &save); e; e = strtok_r(NULL, ":", &save)) {
		if (e[0] != '/' || creds_sandbox_reaches(sb, e, false)) {
			note("cmd: PATH entry %s left out of the commands' PATH: %s", e,
			     e[0] != '/' ? "not absolute" : "the sandbox may change it");
			continue;
		}
		int w = snprintf(buf + n, size - n, "%s%s", n ? ":" : "", e);
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
	}
}

/* The interpreter PROGRAM's first line names ("#!INTERP ARG"), into
 * INTERP (env's program looked up in PATH, as env would); false when it
 * has none. */
static bool interpreter_of(const char *program, const char *path, char *interp, size_t size)
{
	char line[256], *save = NULL, *w;
	int fd = open(program, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	ssize_t n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 2 || line[0] != '#' || line[1] != '!')
		return false;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	w = strtok_r(line + 2, " \t", &save);
	if (!w)
		return false;
	const char *base = strrchr(w, '/');
	if (!base || strcmp(base + 1, "env") != 0) {
		snprintf(interp, size, "%s", w);
		return true;
	}
	/* env [-S] [-i] [NAME=VALUE]... PROGRAM */
	while ((w = strtok_r(NULL, " \t", &save)) && (w[0] == '-' || strchr(w, '=')))
		;
	if (!w)
		return false;
	if (strchr(w, '/')) {
		snprintf(interp, size, "%s", w);
		return true;
	}
	char copy[4096], *psave = NULL;
	snprintf(copy, sizeof(copy), "%s", path);
	for (char *e = strtok_r(copy, ":", &psave); e; e = strtok_r(NULL, ":", &psave)) {
		if ((size_t)snprintf(interp, size, "%s/%s", e, w) < size &&
		    access(interp, X_OK) == 0)
			return true;
	}
	return false;
}

/* Whether DEV is the file system of one of the write grants (where a hard
 * link of a file can have another name in the grant). */
static bool on_a_write_grants_fs(const struct sandbox *sb, dev_t dev)
{
	const struct policy *p = sb->policy;

	for (size_t i = 0; i < p->fs.write.n; i++) {
		struct stat st;
		if (stat(p->fs.write.items[i].value, &st) == 0 && S_ISDIR(st.st_mode) &&
		    st.st_dev == dev)
			return true;
	}
	return false;
}

/* A command runs outside the sandbox, as the caller (as root, root): its
 * program, and the interpreters its "#!" lines name, must be out of the
 * sandbox's reach, or the sandbox would rewrite what runs there (found by
 * an outside review: a script in the project replaced by one that
 * printed /etc/shadow into it, run as root at the next refresh). */
static void check_program(const struct sandbox *sb, const struct policy_credential *pc,
			  const char *path)
{
	char prog[PATH_MAX], interp[PATH_MAX];

	/* an argument naming a file there: a script the program runs
	 * (cmd:/bin/sh /project/token.sh), a file it reads (which the
	 * sandbox could make a link to one it is denied) */
	for (size_t i = 1; i < pc->cmd_argv.n; i++) {
		const char *a = pc->cmd_argv.items[i].value, *eq = strchr(a, '=');
		const char *named = a[0] == '/' ? a : eq && eq[1] == '/' ? eq + 1 : NULL;
		if (named && creds_sandbox_reaches(sb, named, false))
			die("%s:%u: credential.source: [credential %s]: cmd: its argument %s names "
			    "what the sandbox could change (beneath a write grant%s): a command "
			    "run "
			    "outside the sandbox must be out of its reach",
			    origin_file(&pc->source_origin), pc->source_origin.line, pc->name, a,
			    sb->started_as_root && sb->drop_to_user && sb->uid != 0
				? ", or the run_as user may change it"
				: "");
	}
	snprintf(prog, sizeof(prog), "%s", pc->cmd_argv.items[0].value);
	for (int level = 0; level < 5; level++) {
		struct stat st;
		/* a hard link of the command's user's own, on the file system of
		 * a write grant: its other name may be in the grant, where the
		 * sandbox rewrites the same file (root's own files have links of
		 * the system's, /usr/bin/perl; conda's and Nix's of the user's,
		 * not where the sandbox writes as a rule) */
		if (sb->uid != 0 && stat(prog, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_nlink > 1 && st.st_uid == sb->uid && on_a_write_grants_fs(sb, st.st_dev))
			die("%s:%u: credential.source: [credential %s]: cmd: %s is a hard link of "
			    "the command's user's: its other names may be the sandbox's to write",
			    origin_file(&pc->source_origin), pc->source_origin.line, pc->name,
			    prog);
		if (creds_sandbox_reaches(sb, prog, false))
			die("%s:%u: credential.source: [credential %s]: cmd: %s%s%s could be "
			    "changed "
			    "by the sandbox (it, a directory on the way to it or a link there is "
			    "beneath a write grant%s): a command run outside the sandbox must be "
			    "out of its reach",
			    origin_file(&pc->source_origin), pc->source_origin.line, pc->name,
			    level ? "the interpreter " : "", prog, level ? " of the program" : "",
			    sb->started_as_root && sb->drop_to_user && sb->uid != 0
				? ", or the run_as user may change it"
				: "");
		if (!interpreter_of(prog, path, interp, sizeof(interp)))
			return;
		snprintf(prog, sizeof(prog), "%s", interp);
	}
}

/* The write grants the helper hides (hide_grants()), and the state
 * directory (private paths' stand-ins): each one there,
 * canonical, a directory or a regular file not on a file system where
 * nothing can be made (devpts, proc, sysfs: the terminals, /dev/null are
 * grants too), and none beneath another (hidden with it). */
static void gather_masks(const struct sandbox *sb, struct masks *m)
{
	const struct policy *p = sb->policy;
	size_t cap = p->fs.write.n + 1;

	m->path = calloc(cap, sizeof(*m->path));
	m->dir = calloc(cap, sizeof(*m->dir));
	if (!m->path || !m->dir)
		die("out of memory");
	for (size_t i = 0; i < cap; i++) {
		/* the write grants, and the state directory the stand-ins of
		 * private paths are in */
		const char *g = i < p->fs.write.n ? p->fs.write.items[i].value : sb->state_root;
		char *c = g ? realpath(g, NULL) : NULL;
		struct stat st;
		struct statfs sf;
		if (!c || stat(c, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) ||
		    statfs(c, &sf) < 0 || sf.f_type == 0x1cd1 /* devpts */ ||
		    sf.f_type == 0x9fa0 /* proc */ || sf.f_type == 0x62656572 /* sysfs */) {
			free(c);
			continue;
		}
		m->dir[m->n] = S_ISDIR(st.st_mode);
		m->path[m->n++] = c;
	}
	/* one beneath another: the outer hides it (and a mount over the
	 * inner would find it gone) */
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->n; j++)
			if (i != j && m->path[i] && m->path[j] && m->dir[j] &&
			    (strcmp(m->path[i], m->path[j]) != 0 || i > j) &&
			    landlock_path_beneath(m->path[i], m->path[j])) {
				free(m->path[i]);
				m->path[i] = NULL;
				break;
			}
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->path[i]) {
			m->dir[k] = m->dir[i];
			m->path[k++] = m->path[i];
		}
	m->n = k;
}

void secretcmd_start(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const struct policy_credential *first = NULL;
	int sv[2];
	pid_t parent = getpid(), pid;
	char path[4096];
	struct masks masks = {0};

	sb->secret_fd = -1;
	for (size_t k = 0; k < p->n_creds && !first; k++)
		if (strncmp(p->creds[k].source, "cmd:", 4) == 0)
			first = &p->creds[k];
	if (!first)
		return;
	check_root_policy(p, first);
	safe_path(sb, path, sizeof(path));
	gather_masks(sb, &masks);
	for (size_t k = 0; k < p->n_creds; k++)
		if (strncmp(p->creds[k].source, "cmd:", 4) == 0)
			check_program(sb, &p->creds[k], path);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	/* a reply is one message: room for the largest */
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){4 * (int)MSG_CAP}, sizeof(int));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &(int){4 * (int)MSG_CAP}, sizeof(int));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], p, parent, path, &masks);
	}
	close(sv[1]);
	for (size_t i = 0; i < masks.n; i++)
		free(masks.path[i]);
	free(masks.path);
	free(masks.dir);
	sb->secret_fd = sv[0];
	sb->secret_pid = pid;
}

size_t secretcmd_fetch(struct sandbox *sb, size_t k, char *dst, char *why, size_t size)
{
	const struct policy_credential *pc = &sb->policy->creds[k];
	char *msg = malloc(MSG_CAP);
	struct netproxy_secret_reply *m = (struct netproxy_secret_reply *)msg;
	uint32_t idx = (uint32_t)k;
	long deadline = monotonic_ms() + timeout_of(pc) + 2000;
	ssize_t n = -1;
	size_t len = 0;

	if (!msg)
		die("out of memory");
	if (send(sb->secret_fd, &idx, sizeof(idx), MSG_NOSIGNAL) != (ssize_t)sizeof(idx)) {
		snprintf(why, size, "the helper that runs it cannot be asked: %s", strerror(errno));
		free(msg);
		return 0;
	}
	for (;;) {
		struct pollfd pf = {.fd = sb->secret_fd, .events = POLLIN};
		long left = deadline - monotonic_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			snprintf(why, size, "the helper that runs it did not answer");
			break;
		}
		n = recv(sb->secret_fd, msg, MSG_CAP, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*m) || m->magic != NETPROXY_SECRET_MAGIC ||
		    m->index != idx) {
			snprintf(why, size, "the helper that runs it failed");
			break;
		}
		m->why[sizeof(m->why) - 1] = '\0';
		if (!m->ok) {
			snprintf(why, size, "%s", m->why);
		} else if (m->len == 0 || m->len > NETPROXY_SECRET_MAX ||
			   (size_t)n != sizeof(*m) + m->len) {
			snprintf(why, size, "the helper's answer is malformed");
		} else {
			len = m->len;
			memcpy(dst, msg + sizeof(*m), len);
		}
		break;
	}
	explicit_bzero(msg, MSG_CAP);
	free(msg);
	return len;
}
