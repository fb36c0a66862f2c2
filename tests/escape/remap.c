/* SPDX-License-Identifier: MIT */
/*
 * remap FILE TEXT: rewrites FILE through a shared mapping made from a
 * descriptor closed first, so that the write makes no inotify event
 * (neither IN_MODIFY nor IN_CLOSE_WRITE): TEXT, padded with a '#' comment
 * line to FILE's size; then holds the mapping for 5 s (its end is the
 * file's last close, an IN_CLOSE_WRITE).  Used by tests/integration/test_protect_live.py
 * against the watch of repositories made during the run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct stat st;
	char *m;
	size_t n;
	int fd;

	if (argc != 3)
		return 2;
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 2) {
		perror("remap: open");
		return 1;
	}
	n = (size_t)st.st_size;
	m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("remap: mmap");
		return 1;
	}
	close(fd); /* IN_CLOSE_WRITE now: the watch looks at the file as it is */
	usleep(500000);
	size_t t = strlen(argv[2]);
	if (t + 2 > n) {
		fprintf(stderr, "remap: the file is too small\n");
		return 1;
	}
	memcpy(m, argv[2], t);
	memset(m + t, '#', n - t - 1);
	m[n - 1] = '\n';
	if (msync(m, n, MS_SYNC) < 0) {
		perror("remap: msync");
		return 1;
	}
	printf("remapped\n");
	fflush(stdout);
	sleep(5);
	return 0;
}
