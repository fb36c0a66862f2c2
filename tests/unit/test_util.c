/* SPDX-License-Identifier: MIT */
/* memory_trim(): the stack below what is in use and the free heap are given
 * back, and what is in use is kept; memory_trim_later(): a second later;
 * own_map(): the supervisor's structures apart from the heap init shares. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../supervisor/supervisor.h"

/* The resident size of the [stack] mapping, in KiB. */
static long stack_rss_kb(void)
{
	char line[512];
	long rss = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strstr(line, " rw") && line[0] != ' ')
			in = strstr(line, "[stack]") != NULL;
		if (in && sscanf(line, "Rss: %ld kB", &rss) == 1)
			break;
	}
	fclose(f);
	return rss;
}

/* 1 MiB of stack touched, then left (as the start's deep walks leave it) */
static __attribute__((noinline)) long deep(int level)
{
	volatile char buf[65536];

	memset((char *)buf, level, sizeof(buf));
	return level ? deep(level - 1) + buf[100] : buf[5];
}

static void trim_gives_the_stack_back(void **state)
{
	(void)state;
	volatile char mine[4096];
	memset((char *)mine, 0x5a, sizeof(mine));
	void *heap[256];
	long base = stack_rss_kb();

	assert_true(deep(15) > 0);
	for (size_t i = 0; i < 256; i++)
		heap[i] = malloc(4096);
	for (size_t i = 0; i < 256; i++)
		free(heap[i]);
	long before = stack_rss_kb();
	memory_trim();
	long after = stack_rss_kb();
	print_message("stack resident: %ld KiB at first, %ld KiB before, %ld KiB after\n", base,
		      before, after);
	assert_true(before >= 1024);
	assert_true(after < before - 900);
	/* all of it but a page below memory_trim()'s frame, at most */
	assert_true(after <= base + 4);
	/* what the caller's frame holds is kept */
	for (size_t i = 0; i < sizeof(mine); i++)
		assert_int_equal(mine[i], 0x5a);
	/* and the stack is usable again below */
	assert_true(deep(3) > 0);
}

/* memory_trim_later(): nothing before a second has passed, then the trim;
 * a loop's poll waits no longer than that, and no less than it would. */
static void trim_waits_a_second(void **state)
{
	(void)state;
	struct timespec pause = {0, 50 * 1000 * 1000};
	long due = 0;

	assert_int_equal(memory_trim_timeout(&due, -1), -1); /* nothing due */
	assert_int_equal(memory_trim_timeout(&due, 7), 7);
	assert_true(deep(15) > 0);
	long before = stack_rss_kb();
	memory_trim_later(&due);
	int left = memory_trim_timeout(&due, -1);
	assert_true(left > 900 && left <= 1000);
	assert_int_equal(memory_trim_timeout(&due, 7), 7);
	assert_int_equal(memory_trim_timeout(&due, 5000), left);
	memory_trim_woken(&due, 0); /* not yet */
	assert_int_equal(stack_rss_kb(), before);
	while ((left = memory_trim_timeout(&due, -1)) > 0) {
		pause.tv_nsec = (long)left * 1000 * 1000;
		nanosleep(&pause, NULL);
	}
	memory_trim_woken(&due, 0);
	assert_true(stack_rss_kb() < before - 900);
	assert_int_equal(memory_trim_timeout(&due, -1), -1); /* once */
	assert_int_equal(memory_trim_timeout(&due, 7), 7);
}

/* memory_trim_woken(): the first trim when due, work or not; work after
 * it (a wake with events) makes another due a quiet second later, put off
 * by more work; a wake by the timeout alone is none, and a loop that
 * never had a trim due (its command not yet started) gets none from
 * work. */
static void trim_again_after_work(void **state)
{
	(void)state;
	struct timespec pause = {0, 0};
	long due = 0, before;
	int left;

	memory_trim_woken(&due, 3); /* the start not done: nothing due */
	assert_int_equal(memory_trim_timeout(&due, -1), -1);
	memory_trim_later(&due);
	while ((left = memory_trim_timeout(&due, -1)) > 0) {
		pause.tv_nsec = (long)left * 1000 * 1000;
		nanosleep(&pause, NULL);
	}
	/* due, and the wake had work: the first is done all the same */
	assert_true(deep(15) > 0);
	before = stack_rss_kb();
	memory_trim_woken(&due, 1);
	assert_true(stack_rss_kb() < before - 900);
	/* trimmed; idle wakes owe nothing */
	memory_trim_woken(&due, 0);
	assert_int_equal(memory_trim_timeout(&due, -1), -1);
	/* work again: the stack written again is given back a quiet
	 * second after it */
	assert_true(deep(15) > 0);
	before = stack_rss_kb();
	memory_trim_woken(&due, 2);
	left = memory_trim_timeout(&due, 5000);
	assert_true(left > 900 && left <= 1000);
	memory_trim_woken(&due, 0); /* not yet */
	assert_int_equal(stack_rss_kb(), before);
	/* more work half a second on: put off again */
	pause.tv_nsec = 500L * 1000 * 1000;
	nanosleep(&pause, NULL);
	memory_trim_woken(&due, 1);
	left = memory_trim_timeout(&due, -1);
	assert_true(left > 900 && left <= 1000);
	while ((left = memory_trim_timeout(&due, -1)) > 0) {
		pause.tv_nsec = (long)left * 1000 * 1000;
		nanosleep(&pause, NULL);
	}
	memory_trim_woken(&due, 0);
	assert_true(stack_rss_kb() < before - 900);
	assert_int_equal(memory_trim_timeout(&due, -1), -1);
}

/* own_map(): zeroed memory that a fork's own_forget() unmaps in the
 * child (init) and leaves to the parent (the supervisor); a list of four,
 * a slot given back taken again. */
static void own_maps_are_the_parents_alone(void **state)
{
	(void)state;
	char *a = own_map(5000), *b = own_map(100);
	void *m[4];
	int status;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a[4999], 0);
	memset(a, 1, 5000);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		own_forget();
		/* msync(2) of a range not mapped: ENOMEM */
		_exit(msync(a, 4096, MS_ASYNC) < 0 && errno == ENOMEM &&
			      msync(a + 4096, 4096, MS_ASYNC) < 0 && msync(b, 4096, MS_ASYNC) < 0
			  ? 0
			  : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(msync(a + 4096, 4096, MS_ASYNC), 0);
	assert_int_equal(a[4999], 1);
	own_unmap(a);
	own_unmap(b);
	for (size_t i = 0; i < 4; i++)
		assert_non_null(m[i] = own_map(10));
	assert_null(own_map(10));
	own_unmap(m[2]);
	assert_non_null(m[2] = own_map(10));
	for (size_t i = 0; i < 4; i++)
		own_unmap(m[i]);
}

/* Messages name what the sandbox chose (a file, a host): no byte a
 * terminal obeys gets through, and what it shows is kept. */
static void messages_escape_control_bytes(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain /a/b c", "plain /a/b c"},
	    /* C0 (a title, a bell, a clear), DEL, a line break */
	    {"x\033]0;T\007y", "x\\x1b]0;T\\x07y"},
	    {"\033[2J\177\n\t", "\\x1b[2J\\x7f\\x0a\\x09"},
	    /* C1: raw, and in UTF-8 (U+009B, CSI to a terminal that takes C1) */
	    {"a\233b", "a\\x9bb"},
	    {"a\302\233b", "a\\xc2\\x9bb"},
	    /* UTF-8 shown as it is: e-acute, a CJK character, an emoji, NBSP */
	    {"\303\251\344\270\255\360\237\230\200\302\240",
	     "\303\251\344\270\255\360\237\230\200\302\240"},
	    /* not UTF-8: overlong, a surrogate, cut short, a stray continuation */
	    {"\300\257", "\\xc0\\xaf"},
	    {"\355\240\200", "\\xed\\xa0\\x80"},
	    {"\344\270", "\\xe4\\xb8"},
	    {"\251", "\\xa9"},
	    /* bidirectional controls, which reorder what follows on the line
	     * (RLO, LRI, PDI, ALM, LRM); not their neighbours (NNBSP, U+2065) */
	    {"a\342\200\256b", "a\\xe2\\x80\\xaeb"},
	    {"\342\201\246\342\201\251\330\234\342\200\216",
	     "\\xe2\\x81\\xa6\\xe2\\x81\\xa9\\xd8\\x9c\\xe2\\x80\\x8e"},
	    {"\342\200\257\342\201\245", "\342\200\257\342\201\245"},
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = text_escape(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	/* too long: cut between two characters, never inside an escape */
	assert_int_equal(text_escape("ab\033cd", out, 5), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(text_escape("ab\033cd", out, 7), 6);
	assert_string_equal(out, "ab\\x1b");
}

/* The reference implementation's vectors (key 00..0f, messages 00..n-1):
 * the first, the eighth and the sixty-fourth of its table. */
static void siphash_matches_the_reference(void **state)
{
	unsigned char key[16], msg[64];
	static const struct {
		size_t n;
		uint64_t want;
	} v[] = {{0, 0x726fdb47dd0e0e31ull},
		 {7, 0xab0200f58b01d137ull},
		 {8, 0x93f5f5799a932462ull},
		 {63, 0x958a324ceb064572ull}};

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(siphash24(key, msg, v[i].n) == v[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(trim_gives_the_stack_back),
	    cmocka_unit_test(trim_waits_a_second),
	    cmocka_unit_test(trim_again_after_work),
	    cmocka_unit_test(own_maps_are_the_parents_alone),
	    cmocka_unit_test(messages_escape_control_bytes),
	    cmocka_unit_test(siphash_matches_the_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
