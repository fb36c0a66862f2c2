/* SPDX-License-Identifier: MIT */
/*
 * sandbox/ — what runs in init and in the command's process before exec:
 * its whole interface.  Nothing here may see a secret (README.md).
 *
 *   supervisor (parent, never sandboxed: supervisor/)
 *     └─ init     PID 1 of new PID/mount/IPC(/net/user) namespaces, or a
 *                 subreaper when namespaces are unavailable; mounts, the
 *                 Landlock ruleset, reaping, signals (init.c, mounts.c,
 *                 mounts_grants.c, gitview.c, gitview_carry.c,
 *                 gitview_format.c, relay.c)
 *          └─ command: privilege drop, no_new_privs, Landlock, seccomp,
 *                 exec (child.c, privdrop.c, filter.c)
 *
 * Both are given one struct sandbox_plan, made by the supervisor before the
 * fork and read-only from then on, and a struct sandbox_fds.  The plan's
 * type can hold no secret, credential or key: it names paths, ids, flags
 * and filter programs, and no type of the supervisor's or the proxy's.
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

#include <linux/filter.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "../common/audit.h"
#include "../common/macros.h"
#include "../common/util.h"
#include "../landlock/landlock.h"
#include "../policy/policy.h"

#define EXIT_RINGFENCE 125
#define EXIT_NOEXEC    126
#define EXIT_NOTFOUND  127

/* The supervisor's asks of init for job control (init.c): real-time
 * signals, which queue (a SIGTSTP of the terminal's, pending at init in
 * the caller's group, would swallow one more) and which nothing else
 * sends it. */
#define SIG_JOB_STOP (SIGRTMIN + 1)
#define SIG_JOB_CONT (SIGRTMIN + 2)
/* ... and its word that a denied file's name was made again in its
 * directory (the host's rename over it takes its mask away): init masks
 * again each denied file there unmasked (mounts_remask()). */
#define SIG_REMASK (SIGRTMIN + 3)

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
	MSG_STOPPED,	    /* init stopped every process of the sandbox (job control);
			     * err EAGAIN: it could not, and continued them */
	MSG_KILLED,	    /* ... and killed STATUS of them found running while stopped */
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
	int32_t err;	/* errno, for FAIL and NS_FAIL; EBUSY in EXIT: processes left */
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

/* ---- the plan: everything decided before fork ---------------------------- */

enum ns_mode {
	NS_NONE = 1, /* subreaper init, Landlock-only carve-outs */
	NS_FULL,     /* user (when needed) + PID (unless refused) + mount + IPC (+ net) */
	_NS_MAX,
};

/* The step of init's namespace set-up that failed (MSG_NS_FAIL). */
enum ns_step {
	NS_STEP_PROC = 1, /* the fresh /proc: refused where /proc has locked overmounts */
	NS_STEP_OTHER,	  /* another mount, the id maps, the loopback */
	_NS_STEP_MAX,
};

enum net_iso {
	NET_ISO_NONE = 1,  /* mode = none or host */
	NET_ISO_NAMESPACE, /* private network namespace, listener inside it */
	NET_ISO_BROKER,	   /* connect(2) answered by the supervisor */
	_NET_ISO_MAX,
};

struct mount_mask {
	char *path;
	bool is_dir;
	bool read_only_bind; /* protect: bind onto itself read-only; else: empty mask */
	bool pin;	     /* bound onto itself, writable: cannot be renamed or removed */
};

/* A private stand-in (paths owned; planned by supervisor/state.c, bound
 * over PATH by init, mounts.c) */
struct private_standin {
	char *path;		     /* PATH, as the sandbox sees it */
	char *rel;		     /* PATH relative to the home */
	char *standin;		     /* its copy in the state directory */
	char *canon;		     /* PATH beneath the canonical home */
	char *env;		     /* private_env's variable for it, or NULL */
	struct policy_origin origin; /* the policy line naming it */
	bool is_dir;
	dev_t dev; /* the stand-in, as made or found before the namespace */
	ino_t ino;
	bool placeholder; /* an empty mount point we made at PATH */
	dev_t pdev;
	ino_t pino;
};

struct seccomp_prog {
	struct sock_filter *filter;
	unsigned short len;
};

/*
 * What init and the command do, decided by the supervisor (layers.c) and
 * made into this before the fork (run.c); passed as const from then on.
 * Pointers are borrowed from the supervisor's plan (its copy in this
 * process's memory) and only ever name paths, ids and filter programs.
 */
struct sandbox_plan {
	/* identity (privdrop.c; the id maps, the views' owners) */
	bool started_as_root;
	/* the supervisor's start: without multigrain file times the command
	 * is exec'd once the file times' coarse clock is past it (child.c) */
	struct timespec started_at;
	bool start_wait;
	/* the supervisor writes the CA bundle while init sets up: the command
	 * is forked once a byte on the lifeline says it is written */
	bool bundle_wait;
	bool drop_to_user;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int n_groups;
	uid_t outer_uid;
	gid_t outer_gid;

	/* namespaces */
	enum ns_mode ns;
	bool new_user_ns;
	bool new_pid_ns;
	bool new_net_ns;
	/* without a PID namespace: the caller's process group, which init
	 * leaves and the command joins again (init.c); 0: init stays in it
	 * (a PID namespace, or a group whose leader this one cannot see) */
	pid_t caller_pgrp;
	/* the command joins CALLER_PGRP again: only with a controlling
	 * terminal, whose job control must find it there (init.c) */
	bool cmd_rejoins;
	/* started in the terminal's background: the command makes a session
	 * of its own instead, without a controlling terminal (child.c) */
	bool tty_detach;

	/* filesystem: the Landlock rules (opened by init, after the mounts),
	 * the masks, the private /tmp, the stand-ins, the views of .git */
	struct landlock_caps ll;
	const struct landlock_plan *fs;
	bool deny_tcp;
	const struct mount_mask *masks;
	size_t n_masks;
	bool private_tmp;
	const char *private_tmp_dir; /* NS_NONE with private_tmp: made by init */
	const char *home;
	const struct private_standin *standins;
	size_t n_standins;
	char *const *gitview_paths;
	size_t n_gitview_paths;
	char *const *unix_connect; /* carried into a private /tmp when named exactly */
	size_t n_unix_connect;
	const char *cwd;

	/* network */
	enum net_iso iso;
	uint16_t proxy_port; /* NET_ISO_NAMESPACE: init's listener for the proxy */
	bool capture;	     /* the sandbox's resolver is ringfence's */

	/* seccomp: the notification filter (len 0: none; its fd goes to the
	 * supervisor), then the deny filter, then the allow-list */
	struct seccomp_prog seccomp_notify;
	const char *notify_what; /* for a failure: "connect broker's", "--trace", ... */
	/* the filter asks for nothing the policy needs (the mode gate only):
	 * refused by the kernel, the command runs without it, and the
	 * supervisor, sent no listener, knows */
	bool notify_optional;
	bool best_effort; /* (for what a refusal advises) */
	struct seccomp_prog seccomp_deny, seccomp_allow;

	/* process */
	struct policy_rlimit_value rlimits[_POLICY_RLIMIT_MAX];
	char *const *envp; /* the command's environment: placeholders, never secrets */
	char *const *argv;
};

/*
 * The fds init is given (every other fd of the supervisor's is closed
 * before init_main(), or close-on-exec).  The command gets HANDOFF only.
 */
struct sandbox_fds {
	int report;   /* init -> supervisor: MSG_FAIL..MSG_NS_FAIL (packet pipe) */
	int lifeline; /* EOF: the supervisor is gone; a byte: root's id maps are
			 written, then one: the CA bundle is (bundle_wait) */
	int handoff;  /* init and the command -> supervisor: fds (seqpacket), or -1 */
	int relay;    /* supervisor <-> init: abstract connects (seqpacket), or -1 */
	int audit;    /* the audit log, for what a view of .git drops, or -1 */
	int sup_stat; /* the supervisor's /proc/PID/stat: whether it is stopped, or -1 */
};

/* Forwarded from the supervisor to init to the command. */
extern const int forwarded_signals[];
extern const size_t forwarded_signals_n;

/* ---- init.c / child.c ----------------------------------------------------- */

/* SAVED_MASK: the signal mask ringfence was started with, restored before exec. */
_noreturn_ void init_main(const struct sandbox_plan *plan, const struct sandbox_fds *fds,
			  const sigset_t *saved_mask);
/* RULESET_FD: init's Landlock ruleset, or -1 without Landlock. */
_noreturn_ void child_exec(const struct sandbox_plan *plan, int ruleset_fd, int handoff,
			   int report_fd, const sigset_t *caller_mask);

/* ---- privdrop.c ------------------------------------------------------------ */

int privdrop_apply(const struct sandbox_plan *plan, const char **ret_step);

/* ---- filter.c: installing what the supervisor built ------------------------ */

int seccomp_install(const struct seccomp_prog *deny, const struct seccomp_prog *allow);
/* The notification filter; returns its listener fd, or -errno. */
int seccomp_install_listener(const struct seccomp_prog *prog);

/* ---- mounts.c (in init, in the new mount namespace) ------------------------ */

struct gitviews {
	struct gitview *v; /* owned, init's */
	size_t n;
};
/* The mounts of PLAN (the numbered steps of mounts.c); *RET_MASKS: the
 * mask source, kept for mounts_remask() where a denied file is masked, or
 * -1.  -errno, naming the step and path. */
int mounts_setup(const struct sandbox_plan *plan, struct gitviews *views, int *ret_masks,
		 const char **ret_step, const char **ret_path);
/* Each denied file of PLAN that is there unmasked (the host renamed a new
 * one over its mask) masked again from MASKS; -errno, naming the path. */
int mounts_remask(const struct sandbox_plan *plan, int masks, const char **ret_path);
/* The step mounts_setup() names when the fresh /proc is refused. */
extern const char mounts_step_proc[];
int net_loopback_up(void);

/* ---- gitview.c ------------------------------------------------------------- */

/* init, in its mount namespace: a directory made in the writable tmpfs
 * SRC_FD, cloned over each of PLAN's gitview_paths (objects, refs, logs
 * bound writable; other directories read-only; root files copied), into
 * VIEWS.  -errno, naming the path in *RET_PATH. */
int gitview_setup(const struct sandbox_plan *plan, int src_fd, struct gitviews *views,
		  const char **ret_path);
/* init, once nothing else runs in the sandbox: the allow-listed root files
 * put back in the real .git; the rest reported (and logged in AUDIT_FD).
 * (gitview_carry.c) */
void gitview_carry_back(struct gitviews *views, int audit_fd);
/* Pure: whether NAME is carried back, and whether BUF is in its format.
 * (gitview_format.c) */
bool gitview_carried(const char *name);
bool gitview_content_ok(const char *name, const char *buf, size_t n);
/* Whether a .git directory (ST) gets a view: one the command's user owns
 * (UID when started as root, else OUTER_UID), or any when it runs as root;
 * another's stays as the masks leave it. */
struct stat;
bool gitview_wanted(bool started_as_root, uid_t uid, uid_t outer_uid, const struct stat *st);

/* ---- relay.c: abstract Unix connects made by init ------------------------- */

struct sockaddr_un;
/* Supervisor: has init connect SOCK to the abstract ADDR; 0 or -errno. */
int relay_connect(int relay, int sock, const struct sockaddr_un *addr, socklen_t len);
/* Init: answers one request; -EPIPE when the supervisor is gone. */
int relay_serve_one(int relay);

/* glibc before 2.36 has no struct mount_attr (mounts.c, mounts_grants.c,
 * gitview.c) */
#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};
#endif

#endif
