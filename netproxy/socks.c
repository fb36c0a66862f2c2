/* SPDX-License-Identifier: MIT */
/*
 * SOCKS5 (RFC 1928), the subset clients use through a local proxy: no
 * authentication, CONNECT, IPv4 / domain / IPv6 addresses.  Two small
 * fixed-layout messages: parsed by hand.
 */
#include <string.h>

#include "netproxy_internal.h"

long nx_socks_greeting(const uint8_t *p, size_t n, bool *noauth)
{
	*noauth = false;
	if (n < 2)
		return 0;
	if (p[0] != 5 || p[1] == 0)
		return -1;
	if (n < 2u + p[1])
		return 0;
	for (size_t i = 0; i < p[1]; i++)
		if (p[2 + i] == 0)
			*noauth = true;
	return 2 + p[1];
}

long nx_socks_request(const uint8_t *p, size_t n, struct nx_socks_request *r,
		      enum nx_socks_reply *reply, const char **why)
{
	size_t need;

	memset(r, 0, sizeof(*r));
	*reply = NX_SOCKS_FAILURE;
	*why = NULL;
	if (n < 4)
		return 0;
	if (p[0] != 5 || p[2] != 0) {
		*why = "malformed SOCKS5 request";
		return -1;
	}
	switch (p[3]) {
	case 1:
		need = 4 + 4 + 2;
		break;
	case 3:
		if (n < 5)
			return 0;
		need = 4 + 1 + (size_t)p[4] + 2;
		break;
	case 4:
		need = 4 + 16 + 2;
		break;
	default:
		*reply = NX_SOCKS_BAD_ADDRESS;
		*why = "unsupported SOCKS5 address type";
		return -1;
	}
	if (n < need)
		return 0;
	if (p[1] != 1) {
		*reply = NX_SOCKS_BAD_COMMAND;
		*why = p[1] == 2   ? "SOCKS5 BIND is not supported"
		       : p[1] == 3 ? "SOCKS5 UDP ASSOCIATE is not supported"
				   : "unknown SOCKS5 command";
		return -1;
	}
	r->port = (uint16_t)(p[need - 2] << 8 | p[need - 1]);
	if (r->port == 0) {
		*reply = NX_SOCKS_NOT_ALLOWED;
		*why = "port 0";
		return -1;
	}
	switch (p[3]) {
	case 1:
		memcpy(r->addr, p + 4, 4);
		r->kind = NX_HOST_V4;
		nx_addr_format(4, r->addr, r->host, sizeof(r->host));
		break;
	case 4:
		memcpy(r->addr, p + 4, 16);
		r->kind = NX_HOST_V6;
		nx_addr_format(6, r->addr, r->host, sizeof(r->host));
		break;
	case 3:
		if (p[4] == 0) {
			*reply = NX_SOCKS_BAD_ADDRESS;
			*why = "empty SOCKS5 domain name";
			return -1;
		}
		if (memchr(p + 5, ':', p[4])) {
			*reply = NX_SOCKS_BAD_ADDRESS;
			*why = "':' in a SOCKS5 domain name";
			return -1;
		}
		r->kind = nx_host_normalize((const char *)p + 5, p[4], r->host, r->addr, why);
		if (r->kind == NX_HOST_INVALID) {
			*reply = NX_SOCKS_BAD_ADDRESS;
			return -1;
		}
		break;
	default:
		break;
	}
	*reply = NX_SOCKS_OK;
	return (long)need;
}
