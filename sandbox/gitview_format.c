/* SPDX-License-Identifier: MIT */
/*
 * Which root files of a view of .git are carried back, and the format each
 * must be in to be (gitview.c has the picture): pure, so that
 * tests/unit/test_gitview.c reads it without a mount namespace.
 */
#include <string.h>

#include "sandbox.h"

enum gv_check {
	GV_INDEX = 1, /* "DIRC", version 2-4 */
	GV_HEAD,      /* "ref: refs/..." or an object id */
	GV_OIDS,      /* object ids, one a line */
	GV_FETCH,     /* "<oid>\t..." lines */
	GV_PACKED,    /* packed-refs */
	GV_TEXT,      /* a message: read by git as text only */
	_GV_MAX,
};

STRING_TABLE_BEGIN
static const struct {
	char name[20]; /* an array: supervisor/supervisor.h's sc_entry says why */
	enum gv_check check;
} carried[] = {
    {"index", GV_INDEX},      {"HEAD", GV_HEAD},       {"ORIG_HEAD", GV_OIDS},
    {"FETCH_HEAD", GV_FETCH}, {"MERGE_HEAD", GV_OIDS}, {"CHERRY_PICK_HEAD", GV_OIDS},
    {"REVERT_HEAD", GV_OIDS}, {"AUTO_MERGE", GV_OIDS}, {"packed-refs", GV_PACKED},
    {"MERGE_MSG", GV_TEXT},   {"MERGE_MODE", GV_TEXT}, {"COMMIT_EDITMSG", GV_TEXT},
};
STRING_TABLE_END

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* An object id (SHA-1 or SHA-256) at S, followed by END_CHARS or the end. */
static size_t oid_len(const char *s, size_t n)
{
	if (n >= 64 && is_hex(s, 64) && (n == 64 || !is_hex(s + 64, 1)))
		return 64;
	if (n >= 40 && is_hex(s, 40) && (n == 40 || !is_hex(s + 40, 1)))
		return 40;
	return 0;
}

static bool refname_ok(const char *s, size_t n)
{
	if (n < 6 || strncmp(s, "refs/", 5) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '~' || s[i] == '^' ||
		    s[i] == ':' || s[i] == '\\' || s[i] == '?' || s[i] == '*' || s[i] == '[')
			return false;
	return memmem(s, n, "..", 2) == NULL;
}

/* Calls LINE for each line of BUF (without its newline); the last line must
 * end in a newline. */
static bool each_line(const char *buf, size_t n, bool (*line)(const char *, size_t))
{
	size_t at = 0;

	if (n == 0 || buf[n - 1] != '\n')
		return false;
	while (at < n) {
		const char *nl = memchr(buf + at, '\n', n - at);
		if (!line(buf + at, (size_t)(nl - (buf + at))))
			return false;
		at = (size_t)(nl - buf) + 1;
	}
	return true;
}

static bool oid_line(const char *s, size_t n)
{
	return oid_len(s, n) == n;
}

static bool fetch_line(const char *s, size_t n)
{
	size_t l = oid_len(s, n);

	return l > 0 && (l == n || s[l] == '\t') && !memchr(s, '\0', n);
}

static bool packed_line(const char *s, size_t n)
{
	size_t l;

	if (n > 0 && s[0] == '#')
		return !memchr(s, '\0', n);
	if (n > 0 && s[0] == '^')
		return oid_line(s + 1, n - 1);
	l = oid_len(s, n);
	return l > 0 && l < n && s[l] == ' ' && refname_ok(s + l + 1, n - l - 1);
}

bool gitview_content_ok(const char *name, const char *buf, size_t n)
{
	enum gv_check check = 0;

	for (size_t i = 0; i < ARRAY_SIZE(carried); i++)
		if (strcmp(carried[i].name, name) == 0)
			check = carried[i].check;
	if (!check && strncmp(name, "sharedindex.", 12) == 0 &&
	    oid_len(name + 12, strlen(name + 12)) == strlen(name + 12))
		check = GV_INDEX;
	switch (check) {
	case GV_INDEX:
		/* the header only: entries name paths and object ids, which
		 * gitlinks.c reads when the sandbox has ended */
		return n >= 12 && memcmp(buf, "DIRC", 4) == 0 && buf[4] == 0 && buf[5] == 0 &&
		       buf[6] == 0 && buf[7] >= 2 && buf[7] <= 4;
	case GV_HEAD:
		if (n > 5 && strncmp(buf, "ref: ", 5) == 0)
			return buf[n - 1] == '\n' && !memchr(buf, '\0', n) &&
			       refname_ok(buf + 5, n - 6);
		return each_line(buf, n, oid_line) && memchr(buf, '\n', n) == buf + n - 1;
	case GV_OIDS:
		return each_line(buf, n, oid_line);
	case GV_FETCH:
		return n == 0 || each_line(buf, n, fetch_line);
	case GV_PACKED:
		return n == 0 || each_line(buf, n, packed_line);
	case GV_TEXT:
		return true;
	case _GV_MAX:
	default:
		return false; /* not carried back */
	}
}

bool gitview_carried(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(carried); i++)
		if (strcmp(carried[i].name, name) == 0)
			return true;
	return strncmp(name, "sharedindex.", 12) == 0 &&
	       oid_len(name + 12, strlen(name + 12)) == strlen(name + 12) && name[12];
}
