/* SPDX-License-Identifier: MIT */
/*
 * The abstract-socket relay.  Without a network namespace of its own, an
 * abstract Unix socket name is looked up among the host's, and only
 * Landlock's scope keeps the sandbox to its own.  The broker makes every
 * connect itself (never CONTINUE: the caller could rewrite the address
 * after the check), but the supervisor carries no Landlock domain, so an
 * abstract connect it made would reach any host socket.  Init, in turn,
 * restricts itself to a domain that scopes abstract sockets and nothing
 * else before it forks the command, whose own domain nests in it: a connect
 * init makes reaches the sandbox's abstract sockets and no others.  So the
 * broker sends init the caller's socket and its checked copy of the
 * address, init connects, and answers with the result.
 *
 * Messages (sandbox.h): supervisor -> init, RELAY_CONNECT with the socket;
 * init -> supervisor, RELAY_ANSWER (0 or -errno).
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandbox.h"

#define RELAY_WAIT_MS 2000

int relay_connect(int relay, int sock, const struct sockaddr_un *addr, socklen_t len)
{
	union msg_any req = {.relay = {.h.kind = MSG_RELAY_CONNECT, .addr_len = len}};
	union msg_any answer;
	struct pollfd p = {.fd = relay, .events = POLLIN};
	int fd = -1;

	if (relay < 0 || len > sizeof(req.relay.addr))
		return -EACCES;
	memcpy(&req.relay.addr, addr, len);
	if (msg_send(relay, &req, sock) < 0)
		return -EACCES;
	/* init answers at once: a Unix connect does not wait when the
	 * socket is non-blocking, which the broker made it */
	if (poll(&p, 1, RELAY_WAIT_MS) != 1 ||
	    msg_recv(relay, MSG_BIT(MSG_RELAY_ANSWER), &answer, &fd) < 0)
		return -EACCES;
	return answer.answer.err > 0 ? -EACCES : answer.answer.err;
}

int relay_serve_one(int relay)
{
	union msg_any req;
	union msg_any answer = {.answer = {.h.kind = MSG_RELAY_ANSWER, .err = -EINVAL}};
	int fd = -1, r;

	r = msg_recv(relay, MSG_BIT(MSG_RELAY_CONNECT), &req, &fd);
	if (r == -EAGAIN || r == -EINTR)
		return 0;
	if (r < 0 && r != -EBADMSG)
		return r;
	/* only abstract names come this way: a path would be resolved with
	 * init's view and without the broker's check */
	if (r == 0 && req.relay.addr_len > offsetof(struct sockaddr_un, sun_path) &&
	    req.relay.addr_len <= sizeof(req.relay.addr) && req.relay.addr.sun_family == AF_UNIX &&
	    req.relay.addr.sun_path[0] == '\0')
		answer.answer.err =
		    connect(fd, (struct sockaddr *)&req.relay.addr, req.relay.addr_len) < 0 ? -errno
											    : 0;
	if (fd >= 0)
		close(fd);
	(void)msg_send(relay, &answer, -1);
	return 0;
}
