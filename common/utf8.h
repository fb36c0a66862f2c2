/* SPDX-License-Identifier: MIT */
/* What of UTF-8 a terminal shows otherwise than as a character, shared by
 * every writer of what the sandbox named (common/util.c's messages,
 * common/audit.c's JSON, the learned policy's comments, policy/print.c). */
#ifndef RINGFENCE_COMMON_UTF8_H
#define RINGFENCE_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the LEN bytes at S (at least LEN readable) are a bidirectional
 * formatting character (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069): printable, but it reorders what a terminal shows after
 * it, so that a name the sandbox chose could make a line read otherwise
 * than it says (`/srv/<U+202E>hs.txt` shown as `/srv/txt.sh`). */
static inline bool utf8_reorders(const unsigned char *s, size_t len)
{
	if (len == 2)
		return s[0] == 0xd8 && s[1] == 0x9c;
	return len == 3 && s[0] == 0xe2 &&
	       ((s[1] == 0x80 &&
		 (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xaa && s[2] <= 0xae))) ||
		(s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9));
}

#endif
