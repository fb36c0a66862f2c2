/* SPDX-License-Identifier: MIT */
/*
 * The records between the sandbox side and the supervisor (sandbox.h): one
 * place that sends them and one that receives and checks them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox.h"

static const struct {
	const char *name;
	uint16_t size; /* of the whole record */
	uint8_t n_fds; /* carried as SCM_RIGHTS: 0 or 1 */
} kinds[_MSG_MAX] = {
    [MSG_FAIL] = {"fail", sizeof(struct msg_report), 0},
    [MSG_EXEC] = {"exec", sizeof(struct msg_report), 0},
    [MSG_EXIT] = {"exit", sizeof(struct msg_report), 0},
    [MSG_NS_READY] = {"ns-ready", sizeof(struct msg_report), 0},
    [MSG_NS_FAIL] = {"ns-fail", sizeof(struct msg_report), 0},
    [MSG_PROXY_LISTENER] = {"proxy-listener", sizeof(struct msg_head), 1},
    [MSG_DNS_UDP] = {"dns-udp", sizeof(struct msg_head), 1},
    [MSG_DNS_TCP] = {"dns-tcp", sizeof(struct msg_head), 1},
    [MSG_NOTIFY] = {"notify", sizeof(struct msg_head), 1},
    [MSG_RELAY_CONNECT] = {"relay-connect", sizeof(struct msg_relay), 1},
    [MSG_RELAY_ANSWER] = {"relay-answer", sizeof(struct msg_answer), 0},
    [MSG_STOPPED] = {"stopped", sizeof(struct msg_report), 0},
    [MSG_KILLED] = {"killed", sizeof(struct msg_report), 0},
};

const char *msg_kind_name(unsigned kind)
{
	return kind > 0 && kind < _MSG_MAX ? kinds[kind].name : "unknown";
}

int msg_send(int fd, union msg_any *m, int pass_fd)
{
	unsigned kind = m->h.kind;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = m};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (kind == 0 || kind >= _MSG_MAX || (pass_fd >= 0) != (kinds[kind].n_fds == 1))
		return -EINVAL;
	m->h.magic = MSG_MAGIC;
	m->h.len = kinds[kind].size;
	iov.iov_len = m->h.len;
	if (pass_fd < 0) {
		/* a pipe or a socket alike; one write of less than PIPE_BUF */
		n = RETRY_EINTR(write(fd, m, m->h.len));
	} else {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		n = RETRY_EINTR(sendmsg(fd, &mh, MSG_NOSIGNAL));
	}
	if (n < 0)
		return -errno;
	return n == (ssize_t)m->h.len ? 0 : -EMSGSIZE;
}

/* Closes every fd a control message brought. */
static void close_passed(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

int msg_recv(int fd, uint32_t accept, union msg_any *ret, int *ret_fd)
{
	/* one byte more than any record: a longer one shows as too long */
	char buf[sizeof(union msg_any) + 1];
	union {
		struct cmsghdr h;
		/* room for more than one: a record with two fds is refused,
		 * and both are closed, rather than one left open unseen */
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct msg_head h;
	int passed = -1, n_passed = 0;
	bool bad = false;
	ssize_t n;

	if (ret_fd) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} else {
		n = read(fd, buf, sizeof(buf));
	}
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if (ret_fd) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		bad |= (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
		for (; c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
			    c->cmsg_len != CMSG_LEN(sizeof(int)) || n_passed > 0) {
				bad = true;
				continue;
			}
			memcpy(&passed, CMSG_DATA(c), sizeof(int));
			n_passed = 1;
		}
	}
	if (!bad && (size_t)n >= sizeof(h)) {
		memcpy(&h, buf, sizeof(h));
		bad = h.magic != MSG_MAGIC || h.kind == 0 || h.kind >= _MSG_MAX || h.kind >= 32 ||
		      !(accept & MSG_BIT(h.kind)) || h.len != kinds[h.kind].size ||
		      (size_t)n != h.len || n_passed != kinds[h.kind].n_fds;
	} else {
		bad = true;
	}
	if (bad) {
		if (ret_fd)
			close_passed(&mh);
		return -EBADMSG;
	}
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, buf, (size_t)n);
	if (h.kind <= MSG_NS_FAIL)
		ret->report.text[sizeof(ret->report.text) - 1] = '\0';
	if (ret_fd)
		*ret_fd = passed;
	return 0;
}

void msg_fail_exit(int fd, int err, int exit_code, const char *fmt, ...)
{
	union msg_any m = {.report = {.h.kind = MSG_FAIL, .err = err, .exit = exit_code}};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m.report.text, sizeof(m.report.text), fmt, ap);
	va_end(ap);
	(void)msg_send(fd, &m, -1);
	_exit(exit_code);
}
