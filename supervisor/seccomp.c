/* SPDX-License-Identifier: MIT */
/*
 * The two programs made from the profile (seccomp_table.c has its shape
 * and the two stacked filters' reasons): the deny filter of argument-masked
 * refusals and the allow-list, by libseccomp, checked against the policy's
 * [syscalls] names, and cached at build time for the policies that name
 * none (seccomp_gen.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "seccomp_internal.h"

bool seccomp_in_list(const struct policy_list *l, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->items[i].value, name) == 0)
			return true;
	return false;
}

static int export_prog(scmp_filter_ctx ctx, struct seccomp_prog *ret)
{
	_cleanup_close_ int fd = memfd_create("ringfence-bpf", MFD_CLOEXEC);
	off_t size;
	int r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	ret->filter = malloc((size_t)size);
	if (!ret->filter)
		return -ENOMEM;
	if (pread(fd, ret->filter, (size_t)size, 0) != size) {
		free(ret->filter);
		ret->filter = NULL;
		return -EIO;
	}
	ret->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

static void ctx_release(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

static int common_attrs(scmp_filter_ctx ctx)
{
	int r;

	/* other architectures (i386 via int 0x80) and x32 die */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	/* A binary tree over the call numbers instead of one comparison
	 * after another: the same rules, and the kernel's check of the
	 * allow-list at install (it runs the program for every call number
	 * to find those always allowed) takes half the time: 160 us instead
	 * of 340 us of every start.  Calls outside that cache are found in
	 * ~9 comparisons instead of up to ~370.  A libseccomp older than
	 * 2.5 has no such option: its linear program is as strict. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0 && r != -EINVAL && r != -EOPNOTSUPP)
		return r;
	/* no_new_privs is set by us, explicitly, before Landlock */
	return seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
}

static unsigned cache_key(const struct seccomp_opts *o)
{
	return (o->allow_inet ? 1u : 0u) | (o->allow_unix ? 2u : 0u) | (o->kill ? 4u : 0u) |
	       (o->broker ? 8u : 0u) | (o->no_pid_ipc_ns ? 16u : 0u);
}

static int copy_prog(const struct sock_filter *f, unsigned short len, struct seccomp_prog *ret)
{
	ret->filter = malloc(len * sizeof(*f));
	if (!ret->filter)
		return -ENOMEM;
	memcpy(ret->filter, f, len * sizeof(*f));
	ret->len = len;
	return 0;
}

/*
 * Generating BPF with libseccomp costs about a millisecond, most of start-up.
 * The programs that do not depend on [syscalls] lists are generated at build
 * time by this same code (seccomp_gen) and embedded; a unit test checks that
 * they equal what seccomp_generate() makes now.
 */
int seccomp_build(const struct seccomp_opts *o, struct seccomp_prog *ret_deny,
		  struct seccomp_prog *ret_allow, const struct policy_item **ret_bad,
		  const char **ret_why)
{
	*ret_bad = NULL;
	*ret_why = NULL;
	if ((!o->extra_allow || o->extra_allow->n == 0) &&
	    (!o->extra_deny || o->extra_deny->n == 0)) {
		for (size_t i = 0; i < seccomp_cache_n; i++) {
			const struct seccomp_cached *c = &seccomp_cache[i];
			if (c->key != cache_key(o))
				continue;
			int r = copy_prog(seccomp_cache_insns + c->deny, c->deny_len, ret_deny);
			if (r == 0)
				r = copy_prog(seccomp_cache_insns + c->allow, c->allow_len,
					      ret_allow);
			if (r < 0)
				seccomp_prog_free(ret_deny);
			return r;
		}
	}
	return seccomp_generate(o, ret_deny, ret_allow, ret_bad, ret_why);
}

/* The policy's [syscalls] names are real calls, and dangerous ones have
 * consent (allow_dangerous); the offending item in *RET_BAD otherwise. */
int seccomp_check_names(const struct seccomp_opts *o, const struct policy_item **ret_bad,
			const char **ret_why)
{
	*ret_bad = NULL;
	*ret_why = NULL;
	for (size_t i = 0; o->extra_allow && i < o->extra_allow->n; i++) {
		const struct policy_item *it = &o->extra_allow->items[i];
		const struct sc_entry *e;
		if (seccomp_syscall_resolve_name(it->value) == __NR_SCMP_ERROR) {
			*ret_bad = it;
			*ret_why = "is not a system call known on this architecture";
			return -EINVAL;
		}
		if (seccomp_table_lookup(it->value, &e) &&
		    (e->verdict == SC_DENY || e->verdict == SC_ARGS || e->verdict == SC_ENOSYS ||
		     e->verdict == SC_ENOTSUP) &&
		    !o->allow_dangerous && strcmp(it->value, "personality") != 0) {
			*ret_bad = it;
			*ret_why = "is refused by the built-in profile for a reason; allowing it "
				   "also needs "
				   "allow_dangerous = yes";
			return -EPERM;
		}
	}
	for (size_t i = 0; o->extra_deny && i < o->extra_deny->n; i++)
		if (seccomp_syscall_resolve_name(o->extra_deny->items[i].value) ==
		    __NR_SCMP_ERROR) {
			*ret_bad = &o->extra_deny->items[i];
			*ret_why = "is not a system call known on this architecture";
			return -EINVAL;
		}

	return 0;
}

/* Each call of the table, in the allow-list (ENOSYS by default): its
 * verdict, or the policy's [syscalls] name for it. */
static int add_table(const struct seccomp_opts *o, scmp_filter_ctx allow, uint32_t refuse)
{
	int r;

	for (size_t i = 0; i < seccomp_table_n; i++) {
		const struct sc_entry *e = &seccomp_table[i];
		int nr = seccomp_syscall_resolve_name(e->name);
		bool extra_allow = seccomp_in_list(o->extra_allow, e->name);
		bool extra_deny = seccomp_in_list(o->extra_deny, e->name);

		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue; /* not on this architecture (or unknown to this libseccomp) */
		if (e->confine == SC_CONF_SELF && !seccomp_own_only_listed(e->name))
			return -EINVAL; /* a confinement the table claims must exist */
		if (extra_deny) {
			r = seccomp_rule_add(allow, refuse, nr, 0);
		} else if (extra_allow) {
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
		} else if (e->confine == SC_CONF_IPC_NS && o->no_pid_ipc_ns) {
			/* the host's IPC namespace: its keys and ids are the host's */
			r = seccomp_rule_add(allow, refuse, nr, 0);
		} else {
			switch (e->verdict) {
			case SC_ALLOW:
				r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
				break;
			case SC_DENY:
				r = seccomp_rule_add(allow, refuse, nr, 0);
				break;
			case SC_ENOTSUP:
				/* as a file system without them answers: tools
				 * that copy attributes go on without */
				r = seccomp_rule_add(allow, SCMP_ACT_ERRNO(EOPNOTSUPP), nr, 0);
				break;
			case SC_ENOSYS:
				/* the allow-list's default already answers ENOSYS (and
				 * libseccomp refuses a rule equal to the default) */
				r = 0;
				break;
			case SC_ARGS:
				r = 0; /* below */
				break;
			case _SC_MAX:
			default:
				return -EINVAL;
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* The refusals by argument (the deny filter) and the calls allowed for
 * some values only: clone, unshare and ioctl's masked flags, set-id files
 * made by open, the calls held to the caller without a PID namespace,
 * personality. */
static int add_by_argument(const struct seccomp_opts *o, scmp_filter_ctx deny,
			   scmp_filter_ctx allow, uint32_t refuse)
{
	int r;

	/* unshare (CLONE_FILES, CLONE_FS, ...), clone and ioctl: allowed but for
	 * the masked refusals, unless the policy names the call itself */
	for (size_t i = 0; i < seccomp_masked_n; i++) {
		const char *name = seccomp_masked[i].name;
		int nr = seccomp_syscall_resolve_name(name);
		if (seccomp_in_list(o->extra_deny, name) || seccomp_in_list(o->extra_allow, name))
			continue;
		if (i == 0 || strcmp(seccomp_masked[i - 1].name, name) != 0) {
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
			if (r < 0)
				return r;
		}
		r = seccomp_rule_add(deny, refuse, nr, 1,
				     SCMP_CMP(seccomp_masked[i].arg, SCMP_CMP_MASKED_EQ,
					      seccomp_masked[i].mask, seccomp_masked[i].value));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < seccomp_created_setid_n; i++) {
		const char *name = seccomp_created_setid[i].name;
		if (seccomp_in_list(o->extra_deny, name) || seccomp_in_list(o->extra_allow, name))
			continue;
		r = seccomp_rule_add(
		    deny, refuse, seccomp_syscall_resolve_name(name), 2,
		    SCMP_CMP(seccomp_created_setid[i].flags_arg, SCMP_CMP_MASKED_EQ,
			     seccomp_created_setid[i].create, seccomp_created_setid[i].create),
		    SCMP_CMP(seccomp_created_setid[i].mode_arg, SCMP_CMP_MASKED_EQ,
			     seccomp_created_setid[i].bit, seccomp_created_setid[i].bit));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; o->no_pid_ipc_ns && i < seccomp_own_only_n; i++) {
		const char *name = seccomp_own_only[i].name;
		if (seccomp_in_list(o->extra_deny, name) || seccomp_in_list(o->extra_allow, name))
			continue;
		/* all 64 bits: a value the kernel would truncate to VALUE is
		 * refused as well (fails closed) */
		r = seccomp_rule_add(
		    deny, refuse, seccomp_syscall_resolve_name(name), 1,
		    SCMP_CMP(seccomp_own_only[i].arg, SCMP_CMP_NE, seccomp_own_only[i].value));
		if (r < 0)
			return r;
	}
	if (!seccomp_in_list(o->extra_deny, "personality") &&
	    !seccomp_in_list(o->extra_allow, "personality")) {
		for (size_t i = 0; i < seccomp_personality_allowed_n; i++) {
			r = seccomp_rule_add(
			    allow, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
			    SCMP_A0_64(SCMP_CMP_EQ, seccomp_personality_allowed[i]));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* socket(2): Unix ones as the policy says (connected types only), the
 * families the network mode allows or the broker's TCP streams, and the
 * interface listing. */
static int add_socket_calls(const struct seccomp_opts *o, scmp_filter_ctx deny,
			    scmp_filter_ctx allow, uint32_t refuse)
{
	int r;

	if (o->allow_unix)
		r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX));
	else
		r = seccomp_rule_add(allow, refuse, SCMP_SYS(socket), 1,
				     SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX));
	/* Unix datagrams are addressed per sendto/sendmsg, which the
	 * broker does not see: only connected types (socketpair is
	 * another call and reaches nothing).  SOCK_RAW is a datagram
	 * socket to the kernel. */
	for (int t = 0; r == 0 && o->allow_unix && t < 2; t++)
		r = seccomp_rule_add(
		    deny, refuse, SCMP_SYS(socket), 2, SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX),
		    SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, t ? SOCK_RAW : SOCK_DGRAM));
	if (r == 0 && o->allow_inet && !o->broker)
		r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0_64(SCMP_CMP_EQ, AF_INET));
	if (r == 0 && o->allow_inet && !o->broker)
		r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0_64(SCMP_CMP_EQ, AF_INET6));
	/* the connect broker: TCP stream sockets only (no UDP, raw, SCTP,
	 * MPTCP, ...), whose connect() the supervisor answers */
	for (int fam = 0; r == 0 && o->broker && fam < 2; fam++)
		for (int proto = 0; r == 0 && proto < 2; proto++)
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
					     SCMP_A0_64(SCMP_CMP_EQ, fam ? AF_INET6 : AF_INET),
					     SCMP_A1_32(SCMP_CMP_MASKED_EQ,
							~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC),
							SOCK_STREAM),
					     SCMP_A2_64(SCMP_CMP_EQ, proto ? IPPROTO_TCP : 0));
	/* interface listing for getaddrinfo(AI_ADDRCONFIG); read-only without
	 * CAP_NET_ADMIN */
	if (r == 0)
		r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				     SCMP_A0_64(SCMP_CMP_EQ, AF_NETLINK),
				     SCMP_A2_64(SCMP_CMP_EQ, NETLINK_ROUTE));
	return r;
}

/* Sockets: Unix pairs, the families the network mode allows, the
 * broker's TCP streams, and no fast open past the broker. */
static int add_sockets(const struct seccomp_opts *o, scmp_filter_ctx deny, scmp_filter_ctx allow,
		       uint32_t refuse)
{
	int r;

	/* A memfd is on an internal mount Landlock does not govern, and its
	 * mount is not ours to make noexec: sealed non-executable
	 * (MFD_NOEXEC_SEAL, vm.memfd_noexec = 2) it still maps PROT_EXEC, so
	 * `ld.so /proc/self/fd/N` runs any binary written into it.  So
	 * memfd_create is not in the allow-list at all (the table says ENOSYS),
	 * unless the policy's [syscalls] allow names it. */
	/* Unix pairs: a datagram socket sends to whatever address sendto or
	 * sendmsg names, which neither the broker nor Landlock sees; stream and
	 * seqpacket pairs are connected to each other and ignore an address. */
	if (!seccomp_in_list(o->extra_deny, "socketpair") &&
	    !seccomp_in_list(o->extra_allow, "socketpair")) {
		static const int pair_types[] = {SOCK_STREAM, SOCK_SEQPACKET};
		for (size_t i = 0; i < ARRAY_SIZE(pair_types); i++) {
			r = seccomp_rule_add(
			    allow, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 2,
			    SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX),
			    SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, (uint32_t)pair_types[i]));
			if (r < 0)
				return r;
		}
	}
	if (!seccomp_in_list(o->extra_deny, "socket") &&
	    !seccomp_in_list(o->extra_allow, "socket")) {
		r = add_socket_calls(o, deny, allow, refuse);
		if (r < 0)
			return r;
	}
	/* TCP fast open connects from sendto/sendmsg, without connect(2): the
	 * broker would never see it (Landlock neither) */
	if (o->broker) {
		static const struct {
			const char *name;
			unsigned arg;
		} fastopen[] = {{"sendto", 3}, {"sendmsg", 2}, {"sendmmsg", 3}};
		for (size_t i = 0; i < ARRAY_SIZE(fastopen); i++) {
			r = seccomp_rule_add(
			    deny, refuse, seccomp_syscall_resolve_name(fastopen[i].name), 1,
			    SCMP_CMP(fastopen[i].arg, SCMP_CMP_MASKED_EQ, (uint32_t)MSG_FASTOPEN,
				     (uint32_t)MSG_FASTOPEN));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The names outside the table that the policy allows or denies. */
static int add_policy_names(const struct seccomp_opts *o, scmp_filter_ctx allow, uint32_t refuse)
{
	int r;

	/* names outside the table that the policy allows or denies */
	for (size_t i = 0; o->extra_allow && i < o->extra_allow->n; i++) {
		const struct sc_entry *e;
		if (seccomp_table_lookup(o->extra_allow->items[i].value, &e))
			continue;
		r = seccomp_rule_add(allow, SCMP_ACT_ALLOW,
				     seccomp_syscall_resolve_name(o->extra_allow->items[i].value),
				     0);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; o->extra_deny && i < o->extra_deny->n; i++) {
		const struct sc_entry *e;
		if (seccomp_table_lookup(o->extra_deny->items[i].value, &e))
			continue;
		r = seccomp_rule_add(
		    allow, refuse, seccomp_syscall_resolve_name(o->extra_deny->items[i].value), 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int seccomp_generate(const struct seccomp_opts *o, struct seccomp_prog *ret_deny,
		     struct seccomp_prog *ret_allow, const struct policy_item **ret_bad,
		     const char **ret_why)
{
	_cleanup_(ctx_release) scmp_filter_ctx deny = NULL, allow = NULL;
	const uint32_t refuse = o->kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM);
	int r;

	*ret_bad = NULL;
	*ret_why = NULL;
	r = seccomp_check_names(o, ret_bad, ret_why);
	if (r < 0)
		return r;

	deny = seccomp_init(SCMP_ACT_ALLOW);
	allow = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	if (!deny || !allow)
		return -ENOMEM;
	r = common_attrs(deny);
	if (r == 0)
		r = common_attrs(allow);
	if (r < 0)
		return r;

	r = add_table(o, allow, refuse);
	if (r == 0)
		r = add_by_argument(o, deny, allow, refuse);
	if (r == 0)
		r = add_sockets(o, deny, allow, refuse);
	if (r == 0)
		r = add_policy_names(o, allow, refuse);
	if (r < 0)
		return r;

	r = export_prog(deny, ret_deny);
	if (r < 0)
		return r;
	r = export_prog(allow, ret_allow);
	if (r < 0) {
		seccomp_prog_free(ret_deny);
		return r;
	}
	return 0;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
	free(p->filter);
	p->filter = NULL;
	p->len = 0;
}
