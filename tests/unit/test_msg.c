/* SPDX-License-Identifier: MIT */
/* The records between the sandbox side and the supervisor (sandbox/msg.c):
 * each kind accepted at its size with its fds, everything else refused
 * whole, and an fd a refused record brought closed. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../sandbox/sandbox.h"

#define ALL_FD_KINDS                                                                               \
	(MSG_BIT(MSG_PROXY_LISTENER) | MSG_BIT(MSG_DNS_UDP) | MSG_BIT(MSG_DNS_TCP) |               \
	 MSG_BIT(MSG_NOTIFY) | MSG_BIT(MSG_RELAY_CONNECT))
#define ALL_KINDS 0xfffffffeu

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* N bytes of BUF with NFDS copies of FD attached, sent raw. */
static void send_raw(int sock, const void *buf, size_t n, int fd, int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	memset(&ctl, 0, sizeof(ctl));
	if (nfds > 0) {
		int fds[4] = {fd, fd, fd, fd};
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)n);
}

/* How many fds this process has open. */
static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void test_each_kind_round_trips(void **state)
{
	(void)state;
	int sv[2];

	pair(sv);
	for (unsigned k = 1; k < _MSG_MAX; k++) {
		union msg_any m = {.report = {.h.kind = (uint16_t)k, .err = 7, .status = 42}};
		union msg_any got;
		int fd = -2;
		bool with_fd = ALL_FD_KINDS & MSG_BIT(k);
		int extra = with_fd ? dup(0) : -1;

		assert_int_equal(msg_send(sv[0], &m, extra), 0);
		assert_int_equal(msg_recv(sv[1], MSG_BIT(k), &got, &fd), 0);
		assert_int_equal(got.h.kind, k);
		assert_int_equal(got.h.magic, MSG_MAGIC);
		if (with_fd) {
			assert_true(fd >= 0);
			assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
			close(fd);
			close(extra);
		} else {
			assert_int_equal(fd, -1);
		}
		assert_string_not_equal(msg_kind_name(k), "unknown");
	}
	close(sv[0]);
	close(sv[1]);
}

static void test_report_text_is_terminated(void **state)
{
	(void)state;
	int sv[2];
	union msg_any m = {.report = {.h.kind = MSG_FAIL}}, got;
	int fd;

	pair(sv);
	assert_int_equal(msg_send(sv[0], &m, -1), 0);
	/* a record whose text fills its field is cut, never read past */
	memset(&m, 'x', sizeof(m));
	m.h = (struct msg_head){
	    .magic = MSG_MAGIC, .kind = MSG_FAIL, .len = sizeof(struct msg_report)};
	send_raw(sv[0], &m, sizeof(struct msg_report), -1, 0);
	assert_int_equal(msg_recv(sv[1], MSG_BIT(MSG_FAIL), &got, &fd), 0);
	assert_int_equal(msg_recv(sv[1], MSG_BIT(MSG_FAIL), &got, &fd), 0);
	assert_int_equal(strlen(got.report.text), sizeof(got.report.text) - 1);
	close(sv[0]);
	close(sv[1]);
}

static void test_sender_refuses_what_it_cannot_send(void **state)
{
	(void)state;
	int sv[2];
	union msg_any m = {0};

	pair(sv);
	/* an unknown kind, a kind that carries an fd without one, a kind
	 * that carries none with one */
	m.h.kind = 0;
	assert_int_equal(msg_send(sv[0], &m, -1), -EINVAL);
	m.h.kind = _MSG_MAX;
	assert_int_equal(msg_send(sv[0], &m, -1), -EINVAL);
	m.h.kind = MSG_NOTIFY;
	assert_int_equal(msg_send(sv[0], &m, -1), -EINVAL);
	m.h.kind = MSG_EXIT;
	assert_int_equal(msg_send(sv[0], &m, 0), -EINVAL);
	close(sv[0]);
	close(sv[1]);
}

/* Each bad record, sent raw, is refused with -EBADMSG and leaves no fd
 * open behind it; a good one after it is still read. */
struct bad {
	const char *name;
	uint32_t magic;
	uint16_t kind;
	int len_delta;	/* added to the kind's size in the header */
	int size_delta; /* added to the bytes sent */
	int nfds;
	uint32_t accept;
};

static const struct bad bads[] = {
    {"kind 0", MSG_MAGIC, 0, 0, 0, 0, ALL_KINDS},
    {"kind past the last", MSG_MAGIC, _MSG_MAX, 0, 0, 0, ALL_KINDS},
    {"kind far past the last", MSG_MAGIC, 999, 0, 0, 0, ALL_KINDS},
    {"kind not accepted on this channel", MSG_MAGIC, MSG_EXIT, 0, 0, 0, MSG_BIT(MSG_FAIL)},
    {"an fd kind not accepted", MSG_MAGIC, MSG_NOTIFY, 0, 0, 1, MSG_BIT(MSG_PROXY_LISTENER)},
    {"bad magic", 0x12345678u, MSG_FAIL, 0, 0, 0, ALL_KINDS},
    {"short record", MSG_MAGIC, MSG_FAIL, 0, -8, 0, ALL_KINDS},
    {"short, header says so", MSG_MAGIC, MSG_FAIL, -8, -8, 0, ALL_KINDS},
    {"overlong record", MSG_MAGIC, MSG_FAIL, 0, 8, 0, ALL_KINDS},
    {"overlong, header says so", MSG_MAGIC, MSG_FAIL, 8, 8, 0, ALL_KINDS},
    {"overlong past any record", MSG_MAGIC, MSG_FAIL, 0, 200, 0, ALL_KINDS},
    {"header only", MSG_MAGIC, MSG_EXIT, 0, -(int)sizeof(struct msg_report) + 8, 0, ALL_KINDS},
    {"less than a header", MSG_MAGIC, MSG_EXIT, 0, -(int)sizeof(struct msg_report) + 3, 0,
     ALL_KINDS},
    {"an fd on a kind without", MSG_MAGIC, MSG_EXIT, 0, 0, 1, ALL_KINDS},
    {"no fd on a kind with one", MSG_MAGIC, MSG_NOTIFY, 0, 0, 0, ALL_KINDS},
    {"two fds", MSG_MAGIC, MSG_NOTIFY, 0, 0, 2, ALL_KINDS},
    {"four fds", MSG_MAGIC, MSG_PROXY_LISTENER, 0, 0, 4, ALL_KINDS},
    {"relay with two fds", MSG_MAGIC, MSG_RELAY_CONNECT, 0, 0, 2, ALL_KINDS},
};

static size_t kind_size(uint16_t kind)
{
	switch (kind) {
	case MSG_PROXY_LISTENER:
	case MSG_DNS_UDP:
	case MSG_DNS_TCP:
	case MSG_NOTIFY:
		return sizeof(struct msg_head);
	case MSG_RELAY_CONNECT:
		return sizeof(struct msg_relay);
	case MSG_RELAY_ANSWER:
		return sizeof(struct msg_answer);
	default:
		return sizeof(struct msg_report);
	}
}

static void test_bad_records_are_refused(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		char buf[sizeof(union msg_any) + 256] = {0};
		size_t size = (size_t)((int)kind_size(b->kind) + b->size_delta);
		struct msg_head h = {.magic = b->magic,
				     .kind = b->kind,
				     .len = (uint16_t)((int)kind_size(b->kind) + b->len_delta)};
		union msg_any got;
		int sv[2], fd = -2, before;

		print_message("%s\n", b->name);
		pair(sv);
		memcpy(buf, &h, size < sizeof(h) ? size : sizeof(h));
		int passed = dup(1);
		before = open_fds();
		send_raw(sv[0], buf, size, passed, b->nfds);
		assert_int_equal(msg_recv(sv[1], b->accept, &got, &fd), -EBADMSG);
		assert_int_equal(fd, -2); /* written only on success */
		/* what came with it was closed: as many fds as before */
		assert_int_equal(open_fds(), before);
		/* the channel goes on: a good record after it is read */
		union msg_any ok = {.report = {.h.kind = MSG_FAIL}};
		assert_int_equal(msg_send(sv[0], &ok, -1), 0);
		assert_int_equal(msg_recv(sv[1], MSG_BIT(MSG_FAIL), &got, &fd), 0);
		assert_int_equal(got.h.kind, MSG_FAIL);
		close(passed);
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_pipe_records(void **state)
{
	(void)state;
	int p[2];
	union msg_any m = {.report = {.h.kind = MSG_EXEC, .status = 5}}, got;

	/* packet mode, as the report pipes are made */
	assert_int_equal(pipe2(p, O_CLOEXEC | O_DIRECT), 0);
	assert_int_equal(msg_send(p[1], &m, -1), 0);
	assert_int_equal(msg_recv(p[0], MSG_BIT(MSG_EXEC), &got, NULL), 0);
	assert_int_equal(got.report.status, 5);
	/* a pipe cannot carry an fd: an fd kind read from one is refused */
	struct msg_head h = {.magic = MSG_MAGIC, .kind = MSG_NOTIFY, .len = sizeof(h)};
	assert_int_equal(write(p[1], &h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(msg_recv(p[0], ALL_KINDS, &got, NULL), -EBADMSG);
	/* overlong and short */
	char big[sizeof(union msg_any) + 64] = {0};
	h = (struct msg_head){
	    .magic = MSG_MAGIC, .kind = MSG_EXIT, .len = sizeof(struct msg_report)};
	memcpy(big, &h, sizeof(h));
	assert_int_equal(write(p[1], big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(msg_recv(p[0], ALL_KINDS, &got, NULL), -EBADMSG);
	assert_int_equal(write(p[1], big, sizeof(struct msg_report) - 1),
			 (ssize_t)sizeof(struct msg_report) - 1);
	assert_int_equal(msg_recv(p[0], ALL_KINDS, &got, NULL), -EBADMSG);
	/* end of file */
	close(p[1]);
	assert_int_equal(msg_recv(p[0], ALL_KINDS, &got, NULL), -EPIPE);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_kind_round_trips),
	    cmocka_unit_test(test_report_text_is_terminated),
	    cmocka_unit_test(test_sender_refuses_what_it_cannot_send),
	    cmocka_unit_test(test_bad_records_are_refused),
	    cmocka_unit_test(test_pipe_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
