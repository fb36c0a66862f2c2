/* SPDX-License-Identifier: MIT */
/*
 * Which pathname Unix sockets connect(2) may reach ([network] unix_connect),
 * as pure logic; the supervisor's broker resolves the path and connects
 * (broker_mediated.c, where the race analysis is).
 *
 * A pattern is an absolute path, an fnmatch(3) glob (FNM_PATHNAME: `*`
 * stays within one component), or DIR followed by a final two-star
 * component: anything beneath DIR.  Patterns are matched against the
 * kernel's name for the socket the path resolved to (symlinks followed), so
 * the fixed parts of each pattern are made canonical at start-up: a policy
 * that names /var/run/docker.sock means the file /run/docker.sock.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

bool unixsock_match(char *const *patterns, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = patterns[i];
		size_t len = strlen(p);
		if (len >= 3 && strcmp(p + len - 3, "/**") == 0) {
			/* beneath DIR (DIR itself is a directory, not a socket) */
			size_t d = len - 3;
			if (d == 0
				? path[0] == '/' && path[1] != '\0'
				: strncmp(path, p, d) == 0 && path[d] == '/' && path[d + 1] != '\0')
				return true;
		} else if (fnmatch(p, path, FNM_PATHNAME | FNM_PERIOD) == 0) {
			return true;
		}
	}
	return false;
}

/* The directory part before the first component holding a glob character
 * (or the whole path) made canonical; the rest kept as written. */
int unixsock_canonical_pattern(const char *pattern, char **ret)
{
	char head[PATH_MAX], real[PATH_MAX];
	const char *rest = "";
	size_t hl;
	char *out;

	if (has_glob(pattern)) {
		const char *g = strpbrk(pattern, "*?[");
		const char *slash = g;
		while (slash > pattern && *slash != '/')
			slash--;
		hl = (size_t)(slash - pattern);
		rest = slash;
	} else {
		hl = strlen(pattern);
	}
	if (hl >= sizeof(head))
		return -ENAMETOOLONG;
	memcpy(head, pattern, hl);
	head[hl] = '\0';
	/* missing (a socket made later): kept as written */
	if (hl == 0 || !realpath(head, real))
		snprintf(real, sizeof(real), "%s", hl ? head : "");
	if (strcmp(real, "/") == 0 && rest[0] == '/')
		real[0] = '\0';
	size_t n = strlen(real) + strlen(rest) + 1;
	out = malloc(n);
	if (!out)
		return -ENOMEM;
	snprintf(out, n, "%s%s", real, rest);
	*ret = out;
	return 0;
}
