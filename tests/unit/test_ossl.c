/* SPDX-License-Identifier: MIT */
/* OpenSSL loaded on first need (ossl.c): the table of its functions is
 * filled once and is read-only after, as the GOT is under full RELRO. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../netproxy/ossl.h"

/* How a child that overwrites one entry of the table ends. */
static int write_in_child(void)
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* cmocka's handler would catch it */
		((volatile char *)nx_ossl.page)[0] = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_table_read_only_once_loaded(void **state)
{
	char err[256] = "";
	int st;

	(void)state;
	assert_false(nx_ossl_loaded());
	assert_null(nx_ossl.f.p_SSL_new);
	/* positive control: before the load the same write goes through */
	st = write_in_child();
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	assert_int_equal(nx_ossl_load(err, sizeof(err)), 0);
	assert_true(nx_ossl_loaded());
	assert_non_null(nx_ossl.f.p_SSL_new);
	assert_non_null(nx_ossl.f.p_X509_verify_cert_error_string);
	/* the libcrypto half resolves through libssl's handle */
	assert_non_null(nx_ossl.f.p_EVP_sha256);
	st = write_in_child();
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	/* a second call is a no-op */
	assert_int_equal(nx_ossl_load(err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_read_only_once_loaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
