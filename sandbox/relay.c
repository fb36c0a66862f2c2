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
 * Messages: supervisor -> init, one struct relay_req with the socket as
 * SCM_RIGHTS; init -> supervisor, one int32 (0 or -errno).
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../supervisor/supervisor.h"

struct relay_req {
	uint32_t len;
	struct sockaddr_un addr;
};

#define RELAY_WAIT_MS 2000

int relay_connect(int relay, int sock, const struct sockaddr_un *addr, socklen_t len)
{
	struct relay_req req = {.len = len};
	struct pollfd p = {.fd = relay, .events = POLLIN};
	int32_t answer;

	if (relay < 0 || len > sizeof(req.addr))
		return -EACCES;
	memcpy(&req.addr, addr, len);
	if (send_fd_with(relay, sock, &req, sizeof(req)) < 0)
		return -EACCES;
	/* init answers at once: a Unix connect does not wait when the
	 * socket is non-blocking, which the broker made it */
	if (poll(&p, 1, RELAY_WAIT_MS) != 1 ||
	    read(relay, &answer, sizeof(answer)) != (ssize_t)sizeof(answer))
		return -EACCES;
	return answer > 0 ? -EACCES : answer;
}

int relay_serve_one(int relay)
{
	struct relay_req req;
	int32_t answer = -EINVAL;
	size_t n = 0;
	int fd;

	fd = recv_fd_with(relay, &req, sizeof(req), &n);
	if (fd == -EAGAIN || fd == -EINTR)
		return 0;
	if (fd == -EPIPE || (fd < 0 && fd != -EBADMSG))
		return fd;
	/* only abstract names come this way: a path would be resolved with
	 * init's view and without the broker's check */
	if (fd >= 0 && n == sizeof(req) && req.len > offsetof(struct sockaddr_un, sun_path) &&
	    req.len <= sizeof(req.addr) && req.addr.sun_family == AF_UNIX &&
	    req.addr.sun_path[0] == '\0')
		answer = connect(fd, (struct sockaddr *)&req.addr, req.len) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	(void)!write(relay, &answer, sizeof(answer));
	return 0;
}
