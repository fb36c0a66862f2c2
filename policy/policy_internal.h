/* SPDX-License-Identifier: MIT */
/* Shared between the files of policy/ only. */
#ifndef RINGFENCE_POLICY_INTERNAL_H
#define RINGFENCE_POLICY_INTERNAL_H

#include <arpa/inet.h>
#include <stdbool.h>

#include "policy.h"

enum scalar_id {
	SCALAR_ENFORCEMENT = 1,
	SCALAR_NAMESPACES,
	SCALAR_NAME,
	SCALAR_PRIVATE_TMP,
	SCALAR_NET_MODE,
	SCALAR_NET_ISOLATION,
	SCALAR_NET_PRIVATE,
	SCALAR_NET_CAPTURE,
	SCALAR_NET_UPSTREAM_CA,
	SCALAR_NET_MEMORY_MAX,
	SCALAR_RUN_AS,
	SCALAR_ALLOW_DANGEROUS,
	SCALAR_UNIX_SOCKETS,
	SCALAR_SYSCALL_ACTION,
	SCALAR_LOG_FILE,
	SCALAR_RLIMIT_FIRST,
	SCALAR_TIMER_FIRST = SCALAR_RLIMIT_FIRST + _POLICY_RLIMIT_MAX,
	SCALAR_MAX = SCALAR_TIMER_FIRST + _POLICY_TIMER_MAX,
};

int policy_validate(struct policy *p, struct policy_error *err);

/* 4 or 6 when S is an IPv4 or IPv6 address (BUF gets it), else 0. */
static inline int inet_pton_any(const char *s, unsigned char buf[16])
{
	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 6;
	return 0;
}

#endif
