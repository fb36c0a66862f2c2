/* SPDX-License-Identifier: MIT */
/*
 * sandbox/ — what runs in init and in the command's process before exec:
 * its whole interface.  Nothing here may see a secret (README.md).
 *
 * ---- messages (msg.c) ----
 *
 * Every message between the sandbox side and the supervisor is one record: a header (magic, kind,
 * length) and the body its kind fixes, written once (atomically: < PIPE_BUF, one datagram on a
 * SOCK_SEQPACKET pair) and checked on receipt for its magic, for a kind the
 * receiver accepts on that channel, for the exact size of that kind, and
 * for the number of fds the kind carries (none or one).  A record that
 * fails any check is refused whole, and an fd it brought is closed.
 *
 * Channels (all made by the supervisor before the fork):
 *   report pipe (packet mode)  init -> supervisor: FAIL, EXEC, EXIT,
 *                              NS_READY, NS_FAIL
 *   exec pipe (packet mode)    command -> init: FAIL (init passes it on)
 *   handoff[] (seqpacket)      init -> supervisor: PROXY_LISTENER, DNS_UDP,
 *                              DNS_TCP; command -> supervisor: NOTIFY
 *   abstract_relay[] (seqpacket) supervisor -> init: RELAY_CONNECT;
 *                              init -> supervisor: RELAY_ANSWER
 */
#ifndef RINGFENCE_SANDBOX_H
#define RINGFENCE_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "../common/macros.h"

enum msg_kind {
	MSG_FAIL = 1,	    /* a step before exec failed: err, exit code, text */
	MSG_EXEC,	    /* the command was executed; status = its pid */
	MSG_EXIT,	    /* the command ended; status = its wait status */
	MSG_NS_READY,	    /* init set its namespaces up (mounts, loopback, listener) */
	MSG_NS_FAIL,	    /* ... or could not; status = the enum ns_step that failed */
	MSG_PROXY_LISTENER, /* one fd: the proxy's listener, in the sandbox's namespace */
	MSG_DNS_UDP,	    /* one fd: the sandbox's nameserver socket, 127.0.0.1:53 UDP */
	MSG_DNS_TCP,	    /* one fd: ... its TCP listener */
	MSG_NOTIFY,	    /* one fd: the command's seccomp notification listener */
	MSG_RELAY_CONNECT,  /* one fd: a socket for init to connect to an abstract address */
	MSG_RELAY_ANSWER,   /* init's answer to it: 0 or -errno */
	_MSG_MAX,
};

#define MSG_MAGIC 0x52464d31u /* "RFM1" */

struct msg_head {
	uint32_t magic;
	uint16_t kind; /* enum msg_kind */
	uint16_t len;  /* of the whole record, header included */
};

/* FAIL, EXEC, EXIT, NS_READY, NS_FAIL */
struct msg_report {
	struct msg_head h;
	int32_t err;	/* errno, for FAIL and NS_FAIL */
	int32_t exit;	/* the exit status ringfence should use, for FAIL */
	int32_t status; /* see the kinds */
	char text[228]; /* NUL-terminated on receipt */
};

/* RELAY_CONNECT */
struct msg_relay {
	struct msg_head h;
	uint32_t addr_len;
	struct sockaddr_un addr;
};

/* RELAY_ANSWER */
struct msg_answer {
	struct msg_head h;
	int32_t err;
};

/* PROXY_LISTENER, DNS_UDP, DNS_TCP, NOTIFY: the header alone, and an fd. */
union msg_any {
	struct msg_head h;
	struct msg_report report;
	struct msg_relay relay;
	struct msg_answer answer;
};
_Static_assert(sizeof(union msg_any) < 512, "a record must be written atomically");

#define MSG_BIT(kind) (1u << (kind))

/* Sends M (its kind set; the header is filled here) on FD, with PASS_FD when
 * the kind carries one (-1 otherwise); a pipe carries no fd.  0 or -errno
 * (-EINVAL: a kind unknown, or PASS_FD against what the kind carries). */
int msg_send(int fd, union msg_any *m, int pass_fd);
/* Receives one record on FD into *RET: a kind in ACCEPT (MSG_BIT()s), of
 * its size, with its fds.  RET_FD: the fd it carried (-1 when none), or
 * NULL when FD is a pipe.  Sockets are read without waiting.  0, or
 * -EPIPE at end of file, -EAGAIN, -EBADMSG for a record refused (any fd it
 * brought closed), -errno. */
int msg_recv(int fd, uint32_t accept, union msg_any *ret, int *ret_fd);
/* A FAIL record on FD (text from FMT), then _exit(EXIT_CODE): between fork
 * and exec nothing returns into shared code. */
_noreturn_ _printf_(4, 5) void msg_fail_exit(int fd, int err, int exit_code, const char *fmt, ...);
/* The name of a kind, for messages and tests. */
const char *msg_kind_name(unsigned kind);

#endif
