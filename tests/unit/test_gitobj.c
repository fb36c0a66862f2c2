/* SPDX-License-Identifier: MIT */
/* What the attribute gate takes for a file git reads objects from
 * (gitobj_file_stored()): told by content, since a hard link gives the
 * file any name.  Every loose object git writes, at any zlib level, with a
 * dynamic Huffman block's tables first or any number of empty blocks, and
 * the packs' files; nothing else that merely looks compressed or begins
 * with "PACK". */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "../../supervisor/gitobj.h"

/* BUF (N bytes) as a file's content: what gitobj_file_stored() says. */
static int stored(const void *buf, size_t n)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	int r = gitobj_file_stored(fd);
	close(fd);
	return r;
}

static bool gitobj_looks_stored(const unsigned char *buf, size_t n)
{
	int r = stored(buf, n);
	assert_true(r == 0 || r == 1);
	return r == 1;
}

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
	return gitobj_looks_stored(out, n);
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

/* A loose object whose stream begins with many empty stored blocks: git
 * reads through them, and so must the gate. */
static void test_padded_loose_object(void **state)
{
	static unsigned char in[64], raw[256], file[2 + 5 * 20000 + 256 + 4];
	static const unsigned char empty[] = {0, 0, 0, 0xff, 0xff};
	z_stream z = {0};
	size_t n = 0;

	(void)state;
	int h = snprintf((char *)in, sizeof(in), "blob 3") + 1;
	memcpy(in + h, "abc", 3);
	assert_int_equal(deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = in;
	z.avail_in = (unsigned)h + 3;
	z.next_out = raw;
	z.avail_out = sizeof(raw);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t rn = sizeof(raw) - z.avail_out;
	deflateEnd(&z);
	file[n++] = 0x78;
	file[n++] = 0x01;
	for (int i = 0; i < 20000; i++, n += sizeof(empty))
		memcpy(file + n, empty, sizeof(empty));
	memcpy(file + n, raw, rn);
	n += rn;
	uLong a = adler32(adler32(0, NULL, 0), in, (uInt)h + 3);
	for (int i = 3; i >= 0; i--)
		file[n++] = (unsigned char)(a >> (8 * i));
	assert_true(gitobj_looks_stored(file, n));
}

static void test_pack_files(void **state)
{
	(void)state;
	assert_true(gitobj_looks_stored((const unsigned char *)"PACK\0\0\0\2", 8));
	assert_true(gitobj_looks_stored((const unsigned char *)"PACK\0\0\0\3", 8));
	assert_true(gitobj_looks_stored((const unsigned char *)"\377tOc\0\0\0\2", 8));
	assert_true(gitobj_looks_stored((const unsigned char *)"MIDX\1\1\0\0", 8));
	/* the same magic, no version git reads: a game's archive */
	assert_false(gitobj_looks_stored((const unsigned char *)"PACK\14\0\0\0\0\0\0\0", 12));
	assert_false(gitobj_looks_stored((const unsigned char *)"PACK\0\0\0\2", 7));
	assert_false(gitobj_looks_stored((const unsigned char *)"MIDX\7\1\0\0", 8));
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
	    cmocka_unit_test(test_padded_loose_object),
	    cmocka_unit_test(test_pack_files),
	    cmocka_unit_test(test_not_objects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
