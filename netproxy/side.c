/* SPDX-License-Identifier: MIT */
/*
 * Sides: how bytes move on one connection's two sockets, plain, in TLS
 * (a memory BIO fed from the socket), or spliced through a pipe.
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "ossl.h"

/* ---- TLS on either side ------------------------------------------------
 *
 * An SSL reads from a memory BIO that the socket is read into (bytes the
 * sniffer already took from the socket go in first) and writes straight
 * to the socket.  The functions below behave like nx_buf_read()/nx_buf_write()
 * on a plain side.
 */

int nx_tls_attach(SSL *ssl, int fd, const void *pre, size_t n)
{
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new_socket(fd, BIO_NOCLOSE);

	if (!rb || !wb) {
		BIO_free(rb);
		BIO_free(wb);
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(rb, -1); /* empty: try again later */
	if (n && BIO_write(rb, pre, (int)n) != (int)n) {
		BIO_free(rb);
		BIO_free(wb);
		return -ENOMEM;
	}
	SSL_set_bio(ssl, rb, wb);
	return 0;
}

/* Moves what the socket has into the SSL's read BIO: >0, 0 at EOF, -errno.
 * *RET_EMPTY (when given): the socket had no more than was read. */
static ssize_t tls_feed(SSL *ssl, int fd, bool *ret_empty)
{
	char tmp[17 * 1024];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	/* EAGAIN, or less than asked: nothing more until the next event
	 * (nx_buf_read_sock()) */
	if (ret_empty && ((n < 0 && errno == EAGAIN) || (n > 0 && (size_t)n < sizeof(tmp))))
		*ret_empty = true;
	if (n < 0)
		return -errno;
	if (n == 0)
		BIO_set_mem_eof_return(SSL_get_rbio(ssl), 0);
	else if (BIO_write(SSL_get_rbio(ssl), tmp, (int)n) != (int)n)
		return -ENOMEM;
	return n;
}

/* Reads what side S has into B, through its TLS when it has one: >0, 0 at
 * its end, -EAGAIN, or -errno, as nx_buf_read(). */
ssize_t nx_side_read(struct nx_side *s, struct buf *b)
{
	SSL *ssl = s->ssl;
	int fd = s->tag.fd;
	bool empty = false;
	ssize_t n;

	if (!ssl) {
		if (s->rd_empty)
			return nx_buf_reserve(b) < 0 ? -ENOMEM : -EAGAIN;
		n = nx_buf_read_sock(b, fd, &empty);
		s->rd_empty = empty && !s->rd_ended && (n < 0 || !s->urgent);
		s->rd_short = s->rd_empty && n > 0;
		return n;
	}
	if (nx_buf_reserve(b) < 0)
		return -ENOMEM;
	if (b->len == b->cap)
		return -EAGAIN;
	for (;;) {
		int r = SSL_read(ssl, b->d + b->len, (int)(b->cap - b->len));
		if (r > 0) {
			b->len += (size_t)r;
			if (b->len > b->hw)
				b->hw = b->len;
			return r;
		}
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ:
			if (s->rd_empty)
				return -EAGAIN; /* nothing came since the socket was found empty */
			n = tls_feed(ssl, fd, &empty);
			s->rd_empty = empty && !s->rd_ended && (n < 0 || !s->urgent);
			s->rd_short = s->rd_empty && n > 0;
			if (n >= 0)
				continue; /* at EOF the next SSL_read says so */
			return n;
		case SSL_ERROR_WANT_WRITE:
			return -EAGAIN;
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		default:
			ERR_clear_error();
			return -EPROTO;
		}
	}
}

/* Writes what side S takes of B, through its TLS when it has one, as
 * nx_buf_write(). */
ssize_t nx_side_write(struct nx_side *s, struct buf *b)
{
	SSL *ssl = s->ssl;
	int fd = s->tag.fd;
	int r;

	if (!ssl)
		return nx_buf_write(b, fd);
	if (nx_buf_used(b) == 0)
		return 0;
	r = SSL_write(ssl, b->d + b->off, (int)nx_buf_used(b));
	if (r > 0) {
		nx_buf_consume(b, (size_t)r);
		return r;
	}
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	default:
		ERR_clear_error();
		return -EPIPE;
	}
}

/* Drives a handshake: 1 done, 0 waiting, -errno failed (WHY says why). */
int nx_tls_handshake(SSL *ssl, int fd, char *why, size_t size)
{
	for (;;) {
		int r = SSL_do_handshake(ssl);
		unsigned long e;
		if (r == 1)
			return 1;
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ: {
			ssize_t n = tls_feed(ssl, fd, NULL);
			if (n > 0)
				continue;
			if (n == -EAGAIN)
				return 0;
			snprintf(why, size, "%s",
				 n == 0 ? "the peer closed the connection" : strerror((int)-n));
			return n == 0 ? -ECONNRESET : (int)n;
		}
		case SSL_ERROR_WANT_WRITE:
			return 0;
		default:
			e = ERR_get_error();
			if (e)
				ERR_error_string_n(e, why, size);
			else
				snprintf(why, size, "the peer closed the connection");
			ERR_clear_error();
			return -EPROTO;
		}
	}
}

/*
 * TCP's splice stops at an urgent mark and never goes past it: it says
 * EAGAIN with the rest queued, or 0 once the peer's FIN has come after it;
 * a read goes past (the byte is out of band).  Whether a splice from side
 * S (socket FD) that gave N (0, or -1 with EAGAIN) stopped at such a mark:
 * asked of the kernel (SIOCATMARK) after 0, once a stream, and after
 * EAGAIN only once an event has said urgent data (S->urgent, set now too,
 * for the rest of the side's life).  An urgent pointer that comes before
 * its byte says no EPOLLPRI: for a side that spliced since, the sweep asks
 * (proxy.c), so a stream a peer crafts so is late by a sweep at most.
 */
bool nx_at_urgent_mark(struct nx_side *s, int fd, ssize_t n)
{
	int at = 0, e = errno; /* the splice's: its callers look at it after */
	bool r;

	if (n < 0 && !s->urgent)
		return false;
	r = ioctl(fd, SIOCATMARK, &at) == 0 && at;
	errno = e;
	if (r)
		s->urgent = true;
	return r;
}

/* One direction of a tunnel: pending bytes, then splice through a pipe.
 * Returns true on progress; sets *dead on an error that ends the tunnel.
 * Long: pending bytes, the pipe made on first data and the splice loop
 * are one direction's sequence.
 */
bool nx_pump_dir(struct conn *c, int d, bool *dead)
{
	struct pipe_dir *pd = &c->tun.dir[d];
	int from = d == 0 ? c->client.tag.fd : c->up.tag.fd,
	    to = d == 0 ? c->up.tag.fd : c->client.tag.fd;
	struct buf *pending = d == 0 ? &c->uout : &c->cout;
	uint64_t *count = d == 0 ? &c->bytes_up : &c->bytes_down;
	bool progress = false;
	ssize_t n;

	if (nx_buf_used(pending)) {
		n = nx_buf_write(pending, to);
		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			*dead = true;
			return true;
		}
		if (nx_buf_used(pending))
			return n > 0;
		nx_conn_buf_free(c, pending); /* a tunnel holds no buffer once drained */
		progress = true;
	}
	if (pd->p[0] < 0 && !pd->eof) {
		/* the pipe is made on first data: an idle tunnel holds none */
		char peek;
		n = recv(from, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0) {
			pd->eof = true;
		} else if (n < 0 && errno != EAGAIN) {
			*dead = true;
			return true;
		} else if (n < 0) {
			return progress;
		}
	}
	if (pd->p[0] < 0 && !pd->eof) {
		/* a larger pipe
		 * means fewer wake-ups per megabyte (its pages are only taken
		 * while data sits in it) */
		int r = nx_budget_pipe(&c->np->budget, PIPE_CAP, pd->p, &pd->cap);
		if (r == -ENOBUFS) {
			pd->p[0] = pd->p[1] = -1;
			return progress; /* over the budget: tried again when memory comes back */
		}
		if (r < 0) {
			pd->p[0] = pd->p[1] = -1;
			*dead = true;
			return true;
		}
	}
	for (;;) {
		bool moved = false;
		if (pd->p[0] < 0)
			break; /* EOF before any data */
		if (pd->in > 0) {
			n = splice(pd->p[0], NULL, to, NULL, pd->in,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				pd->in -= (size_t)n;
				*count += (uint64_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN) {
				*dead = true;
				return true;
			} else {
				break; /* the receiver is full: wait for EPOLLOUT */
			}
		}
		if (!pd->eof && pd->in < pd->cap) {
			n = splice(from, NULL, pd->p[1], NULL, pd->cap - pd->in,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				pd->in += (size_t)n;
				moved = true;
				(d == 0 ? &c->client : &c->up)->spliced = true;
			} else if ((n == 0 || errno == EAGAIN) &&
				   nx_at_urgent_mark(d == 0 ? &c->client : &c->up, from, n)) {
				/* what the pipe holds goes first; then a read
				 * goes past the mark, and what it gives goes
				 * out first (above), before any more is
				 * spliced: the order holds */
				if (pd->in > 0 || nx_buf_used(pending)) {
					progress |= moved;
					break;
				}
				if (nx_buf_alloc(pending, false) < 0) {
					*dead = true;
					return true;
				}
				n = nx_buf_read(pending, from);
				if (n < 0 && n != -EAGAIN) {
					*dead = true;
					return true;
				}
				if (n > 0)
					*count += (uint64_t)n;
				if (n == 0)
					pd->eof = true;
				if (n < 0)
					nx_conn_buf_free(c, pending); /* none kept */
				return n >= 0 || progress;
			} else if (n == 0) {
				pd->eof = true;
				moved = true;
			} else if (errno != EAGAIN) {
				*dead = true;
				return true;
			}
		}
		if (!moved)
			break;
		progress = true;
	}
	if (pd->eof && pd->in == 0 && !pd->shut) {
		shutdown(to, SHUT_WR);
		pd->shut = true;
		progress = true;
	}
	return progress;
}

/* An upgraded stream inside TLS: one direction copied through BUF. */
bool nx_copy_dir(struct conn *c, bool from_up, struct buf *b, bool *eof, bool *dead)
{
	bool progress = false;
	ssize_t n;

	if (!*eof) {
		n = nx_side_read(from_up ? &c->up : &c->client, b);
		if (n == 0)
			*eof = true;
		else if (n < 0 && n != -EAGAIN && n != -ENOMEM)
			*dead = true;
		progress |= n >= 0;
	}
	n = nx_side_write(from_up ? &c->client : &c->up, b);
	if (n < 0 && n != -EAGAIN)
		*dead = true;
	if (n > 0) {
		*(from_up ? &c->bytes_down : &c->bytes_up) += (uint64_t)n;
		progress = true;
	}
	return progress;
}
