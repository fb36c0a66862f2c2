/* SPDX-License-Identifier: MIT */
/*
 * Filesystem and process escapes.  Arguments (all optional):
 *   secret=PATH      a file the sandbox must not read
 *   outside=DIR      a directory the sandbox must not write
 *   protected=PATH   a file beneath a write grant that must stay read-only,
 *                    and the directory holding it in place
 *   supervisor=PID   the supervisor (host pid), whose memory and
 *                    environment must stay out of reach
 *   setuid=PATH      a setuid-root program: exec'ing it must not grant anything
 * The working directory must be writable (links and symlinks are made there).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

static long read_some(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = read(fd, buf, sizeof(buf));
	int e = errno;
	close(fd);
	errno = e;
	return n; /* a read that fails (EACCES, EISDIR) is not an escape */
}

static long write_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return -1;
	long n = write(fd, "x", 1);
	close(fd);
	return n;
}

static long truncate_it(const char *path)
{
	return truncate(path, 0);
}

/* Any fd above 2 inherited from outside is a way around the rules. */
static long inherited_fd(void)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0) {
			printf("  fd %d is open\n", fd);
			return fd;
		}
	errno = EBADF;
	return -1;
}

static long setuid_gain(const char *path)
{
	int pfd[2];
	char out[64] = "";
	if (pipe(pfd) < 0)
		return -1;
	pid_t p = fork();
	if (p == 0) {
		dup2(pfd[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	long n = read(pfd[0], out, sizeof(out) - 1);
	waitpid(p, NULL, 0);
	if (n <= 0) {
		errno = ENOEXEC;
		return -1;
	}
	out[n] = '\0';
	/* the probe prints "euid=N caps=HEX" */
	unsigned euid = 0;
	unsigned long long caps = 0;
	sscanf(out, "euid=%u caps=%llx", &euid, &caps);
	printf("  setuid probe says: %s", out);
	if (caps != 0 || (euid == 0 && getuid() != 0))
		return 0;
	errno = EPERM;
	return -1;
}

int main(int argc, char **argv)
{
	const char *secret = arg(argc, argv, "secret");
	const char *outside = arg(argc, argv, "outside");
	const char *protected = arg(argc, argv, "protected");
	const char *sup = arg(argc, argv, "supervisor");
	const char *suid = arg(argc, argv, "setuid");
	char path[4096];

	ATTACK("an fd inherited from outside", inherited_fd());
	if (secret) {
		ATTACK("read the secret", read_some(secret));
		unlink("sym");
		ATTACK("symlink to the secret", symlink(secret, "sym") < 0 ? -1 : read_some("sym"));
		unlink("hard");
		ATTACK("hard link to the secret",
		       link(secret, "hard") < 0 ? -1 : read_some("hard"));
		snprintf(path, sizeof(path), "../../../../../../../..%s", secret);
		ATTACK("../ walk to the secret", read_some(path));
		snprintf(path, sizeof(path), "/proc/self/root%s", secret);
		ATTACK("/proc/self/root to the secret", read_some(path));
		snprintf(path, sizeof(path), "/proc/1/root%s", secret);
		ATTACK("/proc/1/root to the secret", read_some(path));
		snprintf(path, sizeof(path), "/proc/%d/root%s", getppid(), secret);
		ATTACK("parent's /proc/PID/root to the secret", read_some(path));
	}
	if (outside) {
		snprintf(path, sizeof(path), "%s/ringfence-escape", outside);
		ATTACK("create a file outside the write grants", write_file(path));
		ATTACK("mkdir outside the write grants", mkdir(path, 0755));
		/* its own mode again: a call made changes nothing on the host */
		struct stat ost;
		if (stat(outside, &ost) == 0)
			ATTACK("chmod outside the write grants",
			       chmod(outside, ost.st_mode & 0777));
		unlink("sym-out");
		ATTACK("write through a symlink planted in a writable dir",
		       symlink(path, "sym-out") < 0 ? -1 : write_file("sym-out"));
		ATTACK("rename a file out of the write grants", rename("sym-out", path));
	}
	if (protected) {
		ATTACK("write a protected file", write_file(protected));
		ATTACK("truncate a protected file", truncate_it(protected));
		ATTACK("delete a protected file", unlink(protected));
		snprintf(path, sizeof(path), "%s.new", protected);
		ATTACK("replace a protected file by rename",
		       write_file(path) < 0 ? -1 : rename(path, protected));
		/* moving the directory holding it aside would let a writable
		 * copy take its place (the mount or rule moves with the old) */
		snprintf(path, sizeof(path), "%s", protected);
		char *slash = strrchr(path, '/');
		if (slash && slash != path) {
			*slash = '\0';
			char moved[4200];
			snprintf(moved, sizeof(moved), "%s.moved", path);
			long r = rename(path, moved);
			ATTACK("rename the directory holding a protected file", r);
			if (r == 0)
				rename(moved, path);
		}
		/* Landlock has no right for modes: a read-only mount (with
		 * namespaces) or the attribute gate (without) refuses it */
		ATTACK("chmod a protected file", chmod(protected, 0777));
	}
	if (sup) {
		int pid = atoi(sup);
		snprintf(path, sizeof(path), "/proc/%d/environ", pid);
		ATTACK("read the supervisor's environment", read_some(path));
		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
		ATTACK("open the supervisor's memory", open(path, O_RDONLY));
		ATTACK("read init's environment", read_some("/proc/1/environ"));
		snprintf(path, sizeof(path), "/proc/%d/environ", getppid());
		ATTACK("read the parent's environment", read_some(path));
		ATTACK("signal the supervisor", kill(pid, SIGTERM));
		ATTACK("signal init", getppid() > 1 ? kill(getppid(), SIGKILL) : kill(1, SIGKILL));
	}
	if (suid)
		ATTACK("gain privilege through a setuid binary", setuid_gain(suid));
	ESCAPE_DONE();
}
