/* SPDX-License-Identifier: MIT */
/*
 * The front: what the client says first (HTTP or SOCKS5), read up to the
 * target, and the answer that closes a refused connection.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "ossl.h"

ssize_t nx_read_client(struct conn *c)
{
	ssize_t n = nx_side_read(&c->client, &c->cin);

	if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM))
		nx_conn_kill(c);
	return n;
}

/* The client speaks first: the first byte tells HTTP from SOCKS5, then
 * the head or the SOCKS5 messages are read and the target decided. */
bool nx_front_step(struct conn *c)
{
	ssize_t n;

	/* a head larger than a small buffer (the buffer is full, and
	 * what is in it was judged incomplete) */
	if (nx_buf_full_small(&c->cin) && nx_buf_grow(&c->cin) == -ENOBUFS) {
		nx_head_refuse(c, c->proto == P_SOCKS ? "a SOCKS5 request" : "a request head");
		return true;
	}
	n = nx_read_client(c);
	if (c->dead)
		return false;
	if (nx_buf_used(&c->cin) == 0)
		return false;
	if (c->state == S_FIRST) {
		if ((uint8_t)c->cin.d[c->cin.off] == 5) {
			c->state = S_SOCKS_GREET;
			c->proto = P_SOCKS;
		} else if ((uint8_t)c->cin.d[c->cin.off] == 4) {
			nx_emit(c, "net.error", "SOCKS4 is not supported (use socks5h://)", NULL);
			nx_answer_close(c, "\0\x5b\0\0\0\0\0\0", 8);
			return true;
		} else {
			c->state = S_HTTP_HEAD;
		}
	}
	if (c->state == S_HTTP_HEAD) {
		enum state before = c->state;
		nx_http_request(c);
		return c->state != before || c->dead || n > 0;
	}
	if (c->state == S_SOCKS_GREET) {
		bool noauth;
		long used = nx_socks_greeting((const uint8_t *)c->cin.d + c->cin.off,
					      nx_buf_used(&c->cin), &noauth);
		if (used == 0)
			return n > 0;
		if (used < 0 || !noauth) {
			nx_emit(c, "net.error",
				used < 0 ? "malformed SOCKS5 greeting"
					 : "SOCKS5 client offers no method without a password",
				NULL);
			nx_answer_close(c, "\x05\xff", 2);
			return true;
		}
		nx_buf_consume(&c->cin, (size_t)used);
		(void)nx_buf_append(&c->cout, "\x05\x00", 2);
		c->state = S_SOCKS_REQ;
		return true;
	}
	/* S_SOCKS_REQ */
	{
		struct nx_socks_request sr;
		enum nx_socks_reply code;
		const char *why;
		long used = nx_socks_request((const uint8_t *)c->cin.d + c->cin.off,
					     nx_buf_used(&c->cin), &sr, &code, &why);
		if (used == 0)
			return n > 0;
		if (used < 0) {
			snprintf(c->host, sizeof(c->host), "%s", sr.host);
			c->port = sr.port;
			nx_emit(c, "net.error", why, NULL);
			nx_socks_reply(c, code, true);
			return true;
		}
		nx_buf_consume(&c->cin, (size_t)used);
		snprintf(c->host, sizeof(c->host), "%s", sr.host);
		c->kind = sr.kind;
		memcpy(c->haddr, sr.addr, 16);
		c->port = sr.port;
		nx_decide_and_dial(c);
		return true;
	}
}

/* S_FLUSH_CLOSE: the answer goes out, then the connection ends. */
bool nx_flush_close_step(struct conn *c)
{
	ssize_t w = nx_side_write(&c->client, &c->cout);
	if (w < 0 && w != -EAGAIN) {
		nx_conn_kill(c);
		return false;
	}
	if (nx_buf_used(&c->cout) == 0) {
		nx_linger(c);
		return true;
	}
	return w > 0;
}

/*
 * A lingering close.  A connection closed while the client's bytes wait
 * unread (the rest of a body it was sending when it was answered early: a
 * 413 of the upstream's, a refusal of ours) is reset by the kernel, and a
 * client still sending then fails on its send, or finds its receive queue
 * dropped, before it has read the answer.  So the answer is followed by
 * the end of our writing (the client reads the answer, then the end), and
 * what the client still sends is read and dropped until it ends its side,
 * for T_LINGER and LINGER_MAX bytes at most; past either the connection is
 * closed all the same (as nginx's lingering_close).  The upstream and the
 * buffers go at once.
 */
void nx_linger(struct conn *c)
{
	if (c->client.ssl)
		(void)SSL_shutdown(c->client.ssl); /* close_notify, then the end */
	if (shutdown(c->client.tag.fd, SHUT_WR) < 0) {
		nx_conn_kill(c);
		return;
	}
	nx_close_upstream(c);
	nx_conn_buf_free(c, &c->cin);
	nx_conn_buf_free(c, &c->cout);
	nx_conn_buf_free(c, &c->uin);
	nx_conn_buf_free(c, &c->uout);
	c->state = S_LINGER;
	c->linger_left = LINGER_MAX;
	nx_set_deadline(c, T_LINGER);
}

bool nx_linger_step(struct conn *c)
{
	char sink[16384];

	/* raw reads, whatever TLS the side had: the bytes are dropped */
	while (!c->client.rd_empty) {
		ssize_t n = read(c->client.tag.fd, sink, sizeof(sink));
		if (n < 0 && errno == EAGAIN) {
			c->client.rd_empty = true;
			break;
		}
		if (n <= 0 || (size_t)n >= c->linger_left) {
			nx_conn_kill(c); /* its end (or an error, or enough) */
			break;
		}
		c->linger_left -= (size_t)n;
	}
	return false;
}
