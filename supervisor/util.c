/* SPDX-License-Identifier: MIT */
/* die(): only supervisor/ ends the process, with one `ringfence: ` line;
 * and lists of strings that die() when memory runs out. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	say_line(fmt, ap);
	va_end(ap);
	exit(EXIT_RINGFENCE);
}

void strv_add(char ***v, size_t *n, const char *s)
{
	char **nv = grow_for(*v, *n, sizeof(*nv));

	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		die("out of memory");
	(*n)++;
}

void strv_clear(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

int seccomp_filters(pid_t pid)
{
	char path[64], line[256];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp_filters: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}
