/* SPDX-License-Identifier: MIT */
/*
 * Tunnels: a granted CONNECT or SOCKS5 stream, judged by its first bytes
 * before anything of it is relayed, then spliced (or copied).
 *
 * A granted tunnel carries nothing until the client's first bytes have been
 * judged: the upstream's bytes wait in its socket (unless the policy names
 * the tunnel server_first), and a stream that cannot be judged in time, or
 * whose upstream ends first, is closed, never passed on opaque.
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

/* The tunnel's stream is HTTP: every request in it is read, its Host must
 * be the tunnel's host, and it is forwarded like a proxied request. */
static void judge_as_http(struct conn *c)
{
	c->inner.on = true;
	snprintf(c->inner.host, sizeof(c->inner.host), "%s", c->host);
	c->inner.port = c->port;
	c->state = S_HTTP_HEAD;
	nx_set_deadline(c, T_HEAD(c));
}

void nx_enter_tunnel(struct conn *c)
{
	/* inside TLS the bytes are ours to copy, and an upgraded stream that is
	 * scanned for secrets is read: no splice */
	c->state = c->client.ssl || (c->scan && c->proto == P_HTTP) ? S_BUF_TUNNEL : S_TUNNEL;
	nx_set_deadline(c, T_TUNNEL);
	if (nx_buf_used(&c->uin) > nx_buf_room(&c->cout) ||
	    nx_buf_used(&c->cin) > nx_buf_room(&c->uout)) {
		(void)nx_buf_grow(&c->cout);
		(void)nx_buf_grow(&c->uout);
	}
	/* what is buffered goes first (early data, an upgraded stream's start);
	 * bytes that do not fit would be lost from the middle of a stream, so
	 * the connection ends instead */
	if ((nx_buf_used(&c->cin) &&
	     nx_buf_append(&c->uout, c->cin.d + c->cin.off, nx_buf_used(&c->cin)) < 0) ||
	    (nx_buf_used(&c->uin) &&
	     (c->state == S_BUF_TUNNEL && c->scan
		  ? nx_buf_reserve(&c->cout) < 0 || nx_buf_used(&c->uin) > nx_down_room(c) ||
			!nx_to_client(c, c->uin.d + c->uin.off, nx_buf_used(&c->uin))
		  : nx_buf_append(&c->cout, c->uin.d + c->uin.off, nx_buf_used(&c->uin)) < 0))) {
		if (c->dead)
			return; /* a secret in it: cut */
		nx_emit(c, "net.error", "no room for the tunnel's first bytes", c->addr_text);
		nx_conn_kill(c);
		return;
	}
	c->bytes_up += nx_buf_used(&c->cin);
	c->bytes_down += nx_buf_used(&c->uin);
	nx_conn_buf_free(c, &c->cin);
	nx_conn_buf_free(c, &c->uin);
}

/* The client's first bytes are in cin: what the stream is (decide.c), and
 * the machine that takes it on.  Returns false while more bytes are needed. */
static bool sniff(struct conn *c)
{
	struct nx_decider d = nx_decider_of(c->np);
	struct nx_stream_verdict sv;
	size_t n = nx_buf_used(&c->cin);

	nx_decide_stream(&d, c->host, c->kind, c->port, &c->v,
			 (const uint8_t *)c->cin.d + c->cin.off, n, n == BUF_CAP, &sv);
	switch (sv.act) {
	case NX_ACT_MORE:
		return false;
	case NX_ACT_REFUSE:
		nx_stream_refuse(c, sv.reason);
		return true;
	case NX_ACT_CRED:
		nx_cred_refuse(c, sv.cred, NX_CRED_STREAM, false);
		return true;
	case NX_ACT_INTERCEPT:
		nx_start_intercept(c); /* requests are read inside, Host checked */
		return true;
	case NX_ACT_HTTP:
		judge_as_http(c);
		return true;
	case NX_ACT_TUNNEL:
		nx_enter_tunnel(c);
		return true;
	case _NX_ACT_MAX:
	default:
		nx_stream_refuse(c, "the tunnel's first bytes could not be judged");
		return true;
	}
}

/* S_SNIFF: the tunnel is open upstream; nothing passes until the client's
 * first bytes are judged. */
bool nx_sniff_step(struct conn *c)
{
	bool progress = false;
	ssize_t n;

	if (c->tun.server_first) {
		/* the policy lets this upstream speak first (SMTP, FTP, ...):
		 * its bytes go to the client while its first are awaited */
		if (nx_buf_room(&c->cout) > 0) {
			n = nx_buf_read(&c->cout, c->up.tag.fd);
			if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM)) {
				nx_emit(c, "net.error",
					"the upstream closed before the client spoke",
					c->addr_text);
				nx_conn_kill(c);
				return false;
			}
			if (n > 0) {
				c->bytes_down += (uint64_t)n;
				progress = true;
			}
		}
		n = nx_buf_write(&c->cout, c->client.tag.fd);
		if (n < 0 && n != -EAGAIN) {
			nx_conn_kill(c);
			return false;
		}
		progress |= n > 0;
	} else if (nx_buf_used(&c->cout)) {
		return false; /* the 200 or SOCKS reply goes out first */
	}
	/* a ClientHello (or a first line) larger than a small buffer */
	if (nx_buf_full_small(&c->cin) && nx_buf_grow(&c->cin) == -ENOBUFS) {
		nx_head_refuse(c, "a tunnel's first bytes");
		return false;
	}
	n = nx_read_client(c);
	if (c->dead)
		return false;
	if (nx_buf_used(&c->cin) == 0) {
		char peek;
		ssize_t u;
		if (c->tun.server_first)
			return progress;
		/* what the upstream says waits in its socket; its end ends the
		 * tunnel, unjudged streams are never passed (not looked at
		 * again before an event says something came, side.c) */
		if (c->up.rd_empty)
			return false;
		u = recv(c->up.tag.fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (u < 0 && errno == EAGAIN && !c->up.rd_ended)
			c->up.rd_empty = true;
		if (u == 0 || (u < 0 && errno != EAGAIN && errno != EINTR)) {
			nx_emit(c, "net.error",
				u == 0 ? "the upstream closed before the client spoke"
				       : "the upstream failed before the client spoke",
				c->addr_text);
			nx_conn_kill(c);
		}
		return false;
	}
	return sniff(c) || n > 0 || progress;
}

/* After a tunnel's copy: ENDED closes it (logged); else PROGRESS renews its
 * deadline.  Whether the step made progress. */
static bool tunnel_went_on(struct conn *c, bool ended, bool progress)
{
	if (ended) {
		nx_emit(c, "net.close", NULL, c->addr_text);
		nx_conn_kill(c);
		return false;
	}
	if (progress)
		nx_set_deadline(c, T_TUNNEL);
	return progress;
}

/* S_BUF_TUNNEL: an upgraded stream, copied (TLS, or scanned). */
bool nx_buf_tunnel_step(struct conn *c)
{
	bool dead = false, progress;
	progress = nx_copy_dir(c, false, &c->uout, &c->tun.ceof, &dead);
	if (!dead)
		progress |= c->scan ? nx_copy_down_scanned(c, &dead)
				    : nx_copy_dir(c, true, &c->cout, &c->tun.ueof, &dead);
	if (c->dead)
		return false;
	return tunnel_went_on(c,
			      dead || (c->tun.ceof && !nx_buf_used(&c->uout)) ||
				  (c->tun.ueof && !nx_buf_used(&c->cout)),
			      progress);
}

/* S_TUNNEL: both directions spliced. */
bool nx_tunnel_step(struct conn *c)
{
	bool dead = false, progress;
	progress = nx_pump_dir(c, 0, &dead);
	if (!dead)
		progress |= nx_pump_dir(c, 1, &dead);
	return tunnel_went_on(c, dead || (c->tun.dir[0].shut && c->tun.dir[1].shut), progress);
}
