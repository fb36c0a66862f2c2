/* SPDX-License-Identifier: MIT */
/* What the attribute gate takes for a file git reads objects from
 * (gitobj_looks_stored()): told by content, since a hard link gives the
 * file any name.  Every loose object git writes, at any zlib level, with a
 * dynamic Huffman block's tables first, and the packs' files; nothing
 * else that merely looks compressed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "../../supervisor/gitobj.h"

/* BODY as git stores it loose: "TYPE LEN\0" and BODY, deflated at LEVEL;
 * the first 1 KiB of it, as the gate reads it. */
static bool loose(const char *type, const unsigned char *body, size_t len, int level)
{
	static unsigned char in[1 << 16], out[1 << 17];
	int h = snprintf((char *)in, sizeof(in), "%s %zu", type, len) + 1;
	uLongf n = sizeof(out);

	assert_true(h + len <= sizeof(in));
	memcpy(in + h, body, len);
	assert_int_equal(compress2(out, &n, in, (uLong)(h + len), level), Z_OK);
	return gitobj_looks_stored(out, n < 1024 ? n : 1024);
}

static void test_loose_objects(void **state)
{
	static unsigned char big[40000];
	uint32_t x = 1;

	(void)state;
	/* varied text: zlib picks a dynamic block, its tables first */
	for (size_t i = 0; i < sizeof(big); i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (unsigned char)("etaoin shrdlu\n#!/bin/sh{}()"[(x >> 16) % 27]);
	}
	for (int level = 0; level <= 9; level++) {
		assert_true(loose("blob", (const unsigned char *)"#!/bin/sh\nrun\n", 14, level));
		assert_true(loose("blob", (const unsigned char *)"", 0, level));
		assert_true(loose("blob", big, sizeof(big), level));
		assert_true(loose("tree", big, 100, level));
		assert_true(loose("commit", big, 300, level));
		assert_true(loose("tag", big, 200, level));
	}
}

static void test_pack_files(void **state)
{
	(void)state;
	assert_true(gitobj_looks_stored((const unsigned char *)"PACK\0\0\0\2", 8));
	assert_true(gitobj_looks_stored((const unsigned char *)"\377tOc\0\0\0\2", 8));
	assert_true(gitobj_looks_stored((const unsigned char *)"MIDX\1\1", 6));
}

static void test_not_objects(void **state)
{
	static const unsigned char gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	unsigned char out[256];
	uLongf n = sizeof(out);

	(void)state;
	assert_false(gitobj_looks_stored((const unsigned char *)"", 0));
	assert_false(gitobj_looks_stored((const unsigned char *)"PAC", 3));
	assert_false(gitobj_looks_stored((const unsigned char *)"#!/bin/sh\n", 10));
	assert_false(gitobj_looks_stored(gz, sizeof(gz)));
	/* zlib, but no object's header: a type, a space, a digit */
	static const char *const others[] = {"hello world", "blob",	 "blob x\0",
					     "tree\t1\0",   "blobs 1\0", "Blob 1\0"};
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++) {
		n = sizeof(out);
		assert_int_equal(compress2(out, &n, (const unsigned char *)others[i],
					   (uLong)strlen(others[i]) + 1, 6),
				 Z_OK);
		assert_false(gitobj_looks_stored(out, n));
	}
	/* a loose object's first two bytes only: nothing inflates yet */
	n = sizeof(out);
	assert_int_equal(compress2(out, &n, (const unsigned char *)"blob 3\0abc", 10, 6), Z_OK);
	assert_false(gitobj_looks_stored(out, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loose_objects),
	    cmocka_unit_test(test_pack_files),
	    cmocka_unit_test(test_not_objects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
