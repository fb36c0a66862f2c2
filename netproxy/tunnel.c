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
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

bool nx_bound_host(const struct conn *c)
{
	for (size_t k = 0; k < c->np->n_creds; k++)
		if (nx_cred_bound(&c->np->creds[k], c->host, c->port))
			return true;
	return false;
}

/* The tunnel's stream is HTTP: every request in it is read, its Host must
 * be the tunnel's host, and it is forwarded like a proxied request. */
static void judge_as_http(struct conn *c)
{
	c->inner = true;
	snprintf(c->tun_host, sizeof(c->tun_host), "%s", c->host);
	c->tun_port = c->port;
	c->state = S_HTTP_HEAD;
	nx_set_deadline(c, T_HEAD);
}

void nx_enter_tunnel(struct conn *c)
{
	/* inside TLS the bytes are ours to copy, and an upgraded stream that is
	 * scanned for secrets is read: no splice */
	c->state = c->cssl || (c->scan && c->proto == P_HTTP) ? S_BUF_TUNNEL : S_TUNNEL;
	nx_set_deadline(c, T_TUNNEL);
	if (nx_buf_used(&c->uin) > nx_buf_room(&c->cout) || nx_buf_used(&c->cin) > nx_buf_room(&c->uout)) {
		(void)nx_buf_grow(&c->cout);
		(void)nx_buf_grow(&c->uout);
	}
	/* what is buffered goes first (early data, an upgraded stream's start);
	 * bytes that do not fit would be lost from the middle of a stream, so
	 * the connection ends instead */
	if ((nx_buf_used(&c->cin) &&
	     nx_buf_append(&c->uout, c->cin.d + c->cin.off, nx_buf_used(&c->cin)) < 0) ||
	    (nx_buf_used(&c->uin) && (c->state == S_BUF_TUNNEL && c->scan
					   ? nx_buf_reserve(&c->cout) < 0 ||
						     nx_buf_used(&c->uin) > nx_down_room(c) ||
						     !nx_to_client(c, c->uin.d + c->uin.off,
								nx_buf_used(&c->uin))
					   : nx_buf_append(&c->cout, c->uin.d + c->uin.off,
							nx_buf_used(&c->uin)) < 0))) {
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

/* The client's first bytes are in cin: decide what the stream is, and act.
 * Returns false while more bytes are needed. */
static bool sniff(struct conn *c)
{
	const char *p = c->cin.d + c->cin.off;
	size_t n = nx_buf_used(&c->cin);
	char sni[NX_HOST_MAX], reason[2 * NX_HOST_MAX + 160];
	enum nx_stream k = nx_first_bytes((const uint8_t *)p, n, n == BUF_CAP, sni);

	switch (k) {
	case NX_STREAM_MORE:
		return false;
	case NX_STREAM_TLS_BAD:
		nx_stream_refuse(c, "a malformed TLS ClientHello");
		return true;
	case NX_STREAM_TLS: {
		char norm[NX_HOST_MAX];
		uint8_t a[16];
		const char *why;
		if (c->np->n_creds) {
			/* the ClientHello goes out as it is to a host that is not
			 * intercepted: a placeholder of a credential not bound
			 * here must not ride in it (as the ALPN protocol, the
			 * server name, a session ticket) */
			struct nx_cred_ctx x;
			const struct nx_cred *cr;
			nx_cred_ctx_init(&x, c->np->creds, c->np->n_creds, c->host, c->port);
			cr = nx_cred_foreign(&x, p, n);
			if (cr) {
				nx_cred_refuse(c, cr, NX_CRED_STREAM, false);
				return true;
			}
		}
		/* fronting: a TLS name other than the host the tunnel was
		 * granted for is refused */
		if (sni[0] && (nx_host_normalize(sni, strlen(sni), norm, a, &why) == NX_HOST_INVALID ||
			       strcmp(norm, c->host) != 0)) {
			snprintf(reason, sizeof(reason), "TLS names %s inside a tunnel to %s", sni,
				 c->host);
			nx_stream_refuse(c, reason);
			return true;
		}
		if (c->np->tls && nx_bound_host(c)) {
			nx_start_intercept(c); /* requests are read inside, Host checked */
			return true;
		}
		/* no name at all, to a grant made by name: the upstream picks
		 * whatever site it serves by default */
		if (!sni[0] && c->kind == NX_HOST_NAME &&
		    !nx_list_match(&c->np->p->net.allow_no_sni, c->host, c->port)) {
			snprintf(reason, sizeof(reason),
				 "TLS without a server name inside a tunnel to %s "
				 "([network] allow_no_sni lets it pass)", c->host);
			nx_stream_refuse(c, reason);
			return true;
		}
		nx_enter_tunnel(c);
		return true;
	}
	case NX_STREAM_HTTP:
		judge_as_http(c);
		return true;
	case NX_STREAM_OTHER:
	default:
		break;
	}
	/* neither TLS nor HTTP */
	if (nx_web_grant(&c->v)) {
		snprintf(reason, sizeof(reason),
			 "neither TLS nor HTTP to port %u, allowed only as a web port "
			 "(allow %s:%u lets other protocols through)", c->port, c->host, c->port);
		nx_stream_refuse(c, reason);
		return true;
	}
	if (c->np->n_creds) {
		/* the first bytes of an opaque stream must not carry a placeholder */
		const struct nx_cred *cr = nx_cred_find(c->np->creds, c->np->n_creds, p, n);
		if (cr) {
			nx_cred_refuse(c, cr, NX_CRED_STREAM, false);
			return true;
		}
	}
	nx_enter_tunnel(c);
	return true;
}

/* S_SNIFF: the tunnel is open upstream; nothing passes until the client's
 * first bytes are judged. */
bool nx_sniff_step(struct conn *c)
{
	bool progress = false;
	ssize_t n;

	if (c->server_first) {
		/* the policy lets this upstream speak first (SMTP, FTP, ...):
		 * its bytes go to the client while its first are awaited */
		if (nx_buf_room(&c->cout) > 0) {
			n = nx_buf_read(&c->cout, c->ut.fd);
			if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOMEM)) {
				nx_emit(c, "net.error", "the upstream closed before the client spoke",
				     c->addr_text);
				nx_conn_kill(c);
				return false;
			}
			if (n > 0) {
				c->bytes_down += (uint64_t)n;
				progress = true;
			}
		}
		n = nx_buf_write(&c->cout, c->ct.fd);
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
		if (c->server_first)
			return progress;
		/* what the upstream says waits in its socket; its end ends the
		 * tunnel, unjudged streams are never passed */
		u = recv(c->ut.fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		if (u == 0 || (u < 0 && errno != EAGAIN && errno != EINTR)) {
			nx_emit(c, "net.error", u == 0 ? "the upstream closed before the client spoke"
						    : "the upstream failed before the client spoke",
			     c->addr_text);
			nx_conn_kill(c);
		}
		return false;
	}
	return sniff(c) || n > 0 || progress;
}

/* S_BUF_TUNNEL: an upgraded stream, copied (TLS, or scanned). */
bool nx_buf_tunnel_step(struct conn *c)
{
	bool dead = false, progress;
	progress = nx_copy_dir(c, false, &c->uout, &c->ceof, &dead);
	if (!dead)
		progress |= c->scan ? nx_copy_down_scanned(c, &dead)
				    : nx_copy_dir(c, true, &c->cout, &c->ueof, &dead);
	if (c->dead)
		return false;
	if (dead || (c->ceof && !nx_buf_used(&c->uout)) || (c->ueof && !nx_buf_used(&c->cout))) {
		nx_emit(c, "net.close", NULL, c->addr_text);
		nx_conn_kill(c);
		return false;
	}
	if (progress)
		nx_set_deadline(c, T_TUNNEL);
	return progress;
}

/* S_TUNNEL: both directions spliced. */
bool nx_tunnel_step(struct conn *c)
{
	bool dead = false, progress;
	progress = nx_pump_dir(c, 0, &dead);
	if (!dead)
		progress |= nx_pump_dir(c, 1, &dead);
	if (dead || (c->dir[0].shut && c->dir[1].shut)) {
		nx_emit(c, "net.close", NULL, c->addr_text);
		nx_conn_kill(c);
		return false;
	}
	if (progress)
		nx_set_deadline(c, T_TUNNEL);
	return progress;
}
