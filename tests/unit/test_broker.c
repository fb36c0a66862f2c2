/* SPDX-License-Identifier: MIT */
/*
 * The connect broker's lookup of its caller: a notification names a thread,
 * and the fd it connects is one of that thread's (its group's) fds.  Both
 * ways are checked here, whatever the kernel: PIDFD_THREAD (Linux 6.9+)
 * and the thread group from /proc used before it.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../supervisor/supervisor.h"

static pid_t tid;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int phase; /* 1: tid known, 2: the test is done */

static void *thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	tid = (pid_t)syscall(SYS_gettid);
	phase = 1;
	pthread_cond_broadcast(&cond);
	while (phase != 2)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* A socket of the process, reached through a pidfd for a thread that is
 * not the main one: the same socket (same inode). */
static void test_a_thread_is_resolved_to_its_fd_table(void **state)
{
	pthread_t t;
	int sv[2], pidfd, got;
	struct stat a, b;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pthread_create(&t, NULL, thread, NULL), 0);
	pthread_mutex_lock(&lock);
	while (phase != 1)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	assert_int_not_equal(tid, getpid());

	/* the kernel refuses a thread id as a process (what the broker did:
	 * EINVAL before 6.9, ENOENT since) */
	assert_int_equal(syscall(SYS_pidfd_open, tid, 0), -1);

	/* the fallback: /proc names the thread group */
	assert_int_equal(broker_thread_group(tid), getpid());
	assert_int_equal(broker_thread_group(getpid()), getpid());
	assert_true(broker_thread_group(-5) < 0);

	pidfd = broker_caller_pidfd(tid);
	assert_true(pidfd >= 0);
	got = (int)syscall(SYS_pidfd_getfd, pidfd, sv[0], 0);
	assert_true(got >= 0);
	assert_int_equal(fstat(got, &a), 0);
	assert_int_equal(fstat(sv[0], &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	close(got);
	close(pidfd);

	pthread_mutex_lock(&lock);
	phase = 2;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_thread_is_resolved_to_its_fd_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
