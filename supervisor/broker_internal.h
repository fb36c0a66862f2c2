/* SPDX-License-Identifier: MIT */
/*
 * supervisor/broker_internal.h — what the files of the connect broker
 * share (broker.c has the picture): broker.c (the listener, the dispatch
 * of each notification, and the inet connects taken to the proxy),
 * broker_caller.c (what is read of the caller and done as the command)
 * and broker_mediated.c (the connects and listens the supervisor makes
 * itself).  Not for others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_BROKER_INTERNAL_H
#define RINGFENCE_SUPERVISOR_BROKER_INTERNAL_H

#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "supervisor.h"

/* The caller's socket FD, taken with pidfd_getfd through a pidfd kept
 * while its thread lives: -errno (-EBADF: no such fd). */
int broker_caller_getfd(pid_t tid, int fd);
/* The address at UADDR in PID's memory, *ALEN bytes (cut to the size of
 * SS), read once into SS: 0, or the -errno the caller is answered with. */
int broker_read_addr(pid_t pid, uint64_t uaddr, size_t *alen, struct sockaddr_storage *ss);

/* listen(2): refused on an inet socket where connects are brokered, and
 * on an abstract name without a network namespace; else made by the
 * supervisor on its copy of the socket, as the command. */
void bk_handle_listen(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
		      struct broker_stats *st);
/* connect(2) on SOCK, the caller's socket of DOMAIN and TYPE, to the
 * address at UADDR (ALEN bytes) in its memory, on anything but the
 * broker's inet sockets: made by the supervisor, as the command. */
void bk_connect_mediated(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			 struct netproxy *np, int sock, int domain, int type, uint64_t uaddr,
			 size_t alen, struct broker_stats *st);

#endif
