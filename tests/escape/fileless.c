/* SPDX-License-Identifier: MIT */
/*
 * Native code from outside the exec grants.  Arguments:
 *   elf=PATH     a readable executable to copy (e.g. /usr/bin/true)
 *   ldso=PATH    the dynamic loader
 *   ldso=known   (with ldso_path=PATH) without a mount namespace: running a
 *                written file through the loader is a known limit, reported
 *                as such rather than as an escape
 * Run in a writable directory that is not an exec grant.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

static const char *arg_elf;

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static int copy_into(int to, const char *from)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		return -1;
	off_t off = 0;
	while (off < st.st_size)
		if (sendfile(to, in, &off, (size_t)(st.st_size - off)) <= 0)
			return -1;
	close(in);
	return 0;
}

/* Runs ARGV (by PATH, or by FD with execveat) in a child: 0 when the
 * program ran and exited 0 (/usr/bin/true), else -1. */
static long ran(const char *path, int fd, char *const argv[])
{
	pid_t p = fork();
	int st;
	if (p == 0) {
		char *env[] = {NULL};
		if (fd >= 0)
			syscall(SYS_execveat, fd, "", argv, env, AT_EMPTY_PATH);
		else
			execve(path, argv, env);
		_exit(errno == EACCES || errno == EPERM ? 97 : 98);
	}
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	errno = WIFEXITED(st) && WEXITSTATUS(st) == 97 ? EACCES : ENOEXEC;
	return -1;
}

static long memfd_exec(unsigned flags, bool by_proc)
{
	int fd = (int)syscall(SYS_memfd_create, "x", flags);
	char self[64];
	char *argv[] = {"true", NULL};
	if (fd < 0)
		return -1;
	if (copy_into(fd, arg_elf) < 0)
		return -1;
	(void)fchmod(fd, 0755);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	long r = by_proc ? ran(self, -1, argv) : ran(NULL, fd, argv);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* ld.so /proc/self/fd/N on a memfd sealed non-executable: 0 when it ran */
static long memfd_loader(const char *ldso)
{
	int fd = (int)syscall(SYS_memfd_create, "x", MFD_NOEXEC_SEAL);
	char self[64];
	if (fd < 0)
		return -1;
	if (copy_into(fd, arg_elf) < 0)
		return -1;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	char *via[] = {(char *)ldso, self, NULL};
	long r = ran(ldso, -1, via);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static long mmap_exec(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED) {
		errno = e;
		return -1;
	}
	munmap(m, 4096);
	return 0;
}

int main(int argc, char **argv)
{
	const char *elf = arg(argc, argv, "elf");
	const char *ldso = arg(argc, argv, "ldso");
	bool ldso_known = ldso && strcmp(ldso, "known") == 0;

	if (!elf)
		return 2;
	arg_elf = elf;
	if (ldso_known)
		ldso = arg(argc, argv, "ldso_path");

	ATTACK("fexecve of a memfd", memfd_exec(MFD_CLOEXEC, false));
	ATTACK("execve of /proc/self/fd/N of a memfd", memfd_exec(MFD_CLOEXEC, true));
	ATTACK("fexecve of a memfd made with MFD_EXEC", memfd_exec(MFD_CLOEXEC | MFD_EXEC, false));
	ATTACK("fexecve of a memfd without flags", memfd_exec(0, false));

	/* a file the command wrote, in a write grant that is no exec grant */
	int out = open("written-elf", O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0755);
	if (out < 0 || copy_into(out, elf) < 0) {
		printf("ESCAPED: control failed: cannot write a file here (%s)\n", strerror(errno));
		escapes++;
		ESCAPE_DONE();
	}
	close(out);
	char *direct[] = {"./written-elf", NULL};
	ATTACK("execve of a written file", ran("./written-elf", -1, direct));
	if (ldso) {
		char *via[] = {(char *)ldso, "./written-elf", NULL};
		if (ldso_known) {
			long r = ran(ldso, -1, via);
			printf(
			    "%s: the loader runs a written file (no mount namespace: no noexec)\n",
			    r == 0 ? "known" : "blocked");
			r = mmap_exec("written-elf");
			printf("%s: mmap(PROT_EXEC) of a written file\n",
			       r == 0 ? "known" : "blocked");
		} else {
			ATTACK("the loader running a written file", ran(ldso, -1, via));
			ATTACK("mmap(PROT_EXEC) of a written file", mmap_exec("written-elf"));
		}
	}
	unlink("written-elf");

	/* a memfd sealed non-executable still maps PROT_EXEC, which is all
	 * the loader needs to run a whole binary from it */
	if (ldso)
		ATTACK("the loader running a sealed memfd", memfd_loader(ldso));

	/* positive controls: memfd_create is refused as unknown (ENOSYS, on
	 * which libraries fall back to a file), not by a failure of the
	 * program; JIT-style anonymous executable memory still works */
	int m = (int)syscall(SYS_memfd_create, "jit", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	int merr = errno;
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m >= 0 || merr != ENOSYS || anon == MAP_FAILED) {
		printf("ESCAPED: control failed: memfd_create %s (%s), anonymous exec memory %s\n",
		       m >= 0 ? "allowed" : "refused", strerror(merr),
		       anon == MAP_FAILED ? "refused" : "allowed");
		escapes++;
	} else {
		printf("ok: memfd_create is ENOSYS; anonymous executable memory works\n");
	}

	/* what remains, stated: an interpreter runs a script it can read */
	int sh = open("script.sh", O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (sh >= 0 && write(sh, "exit 0\n", 7) == 7) {
		char *sargv[] = {"/bin/sh", "script.sh", NULL};
		close(sh);
		printf("%s: an interpreter runs a script from a write grant\n",
		       ran("/bin/sh", -1, sargv) == 0 ? "known" : "blocked");
	}
	unlink("script.sh");
	ESCAPE_DONE();
}
