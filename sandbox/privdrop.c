/* SPDX-License-Identifier: MIT */
/*
 * Privilege drop, in the command's process, before no_new_privs and Landlock.
 *
 *  - root with run_as: supplementary groups, gid, then uid; every capability
 *    set emptied (effective, permitted, inheritable, ambient, bounding);
 *  - root without run_as: uid 0 kept (images without another user must work),
 *    every capability dropped, and securebits locked so exec as uid 0 cannot
 *    give them back;
 *  - unprivileged (possibly holding capabilities inside our user namespace):
 *    every capability dropped and securebits locked.
 * Afterwards the result is read back from the kernel and any capability
 * left is an error: a drop that silently did less is not a drop.
 */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT	      47
#define PR_CAP_AMBIENT_IS_SET 1
#endif
#ifndef PR_CAP_AMBIENT_CLEAR_ALL
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/*
 * The effective, permitted and inheritable sets, from capget(2) itself:
 * capng_get_caps_process() reads /proc/PID/status twice on every call for
 * the bounding and ambient sets (~50 us each at every start), which are
 * read here through prctl(2) instead.
 */
static int read_caps(struct __user_cap_data_struct ret_data[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};

	return syscall(SYS_capget, &h, ret_data) < 0 ? -errno : 0;
}

static bool have_setpcap(void)
{
	struct __user_cap_data_struct d[2];

	return read_caps(d) == 0 &&
	       (d[CAP_TO_INDEX(CAP_SETPCAP)].effective & CAP_TO_MASK(CAP_SETPCAP));
}

static int verify_nothing_left(uid_t uid, gid_t gid, bool check_bounding)
{
	struct __user_cap_data_struct d[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (read_caps(d) < 0)
		return -EIO;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return -EPERM;
	for (int cap = 0; cap <= 63; cap++) {
		int b = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (b < 0 && errno == EINVAL)
			break; /* past the last capability this kernel knows */
		if (b != 0 && check_bounding)
			return -EPERM;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return -EPERM;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return -EPERM;
	return 0;
}

int privdrop_apply(const struct sandbox_plan *plan, const char **ret_step)
{
	uid_t uid = plan->uid;
	gid_t gid = plan->gid;

	/* Lock root out of regaining capabilities through exec or setuid(0).
	 * Needs CAP_SETPCAP, which we have as root or inside our user ns;
	 * without it (plain unprivileged, no namespace) there is nothing to
	 * regain and nothing to lock. */
	if (prctl(PR_GET_SECUREBITS) >= 0 && have_setpcap()) {
		*ret_step = "setting securebits";
		if (prctl(PR_SET_SECUREBITS,
			  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED) < 0)
			return -errno;
	}

	if (plan->drop_to_user) {
		*ret_step = "setgroups";
		if (setgroups((size_t)plan->n_groups, plan->groups) < 0)
			return -errno;
		*ret_step = "setresgid";
		if (setresgid(gid, gid, gid) < 0)
			return -errno;
	}
	/* Bounding and ambient sets first: emptying them needs CAP_SETPCAP,
	 * and setresuid below still needs CAP_SETUID in the effective set. */
	*ret_step = "dropping the bounding and ambient capability sets";
	/* Without CAP_SETPCAP (unprivileged, no user namespace) the bounding
	 * set cannot be emptied, and need not be: nothing is held, and
	 * no_new_privs, set next, stops exec from granting anything. */
	bool had_setpcap = have_setpcap();
	if (had_setpcap) {
		/* prctl(2) directly: capng_apply() of these sets reads
		 * /proc/PID/status three times first; verify_nothing_left()
		 * reads every capability back from the kernel */
		for (int cap = 0; cap <= 63; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
				if (errno == EINVAL)
					break; /* past the last capability this kernel knows */
				return -errno;
			}
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	if (plan->drop_to_user) {
		*ret_step = "setresuid";
		if (setresuid(uid, uid, uid) < 0)
			return -errno;
	}
	/* Then effective, permitted and inheritable: lowering them always works. */
	*ret_step = "dropping capabilities";
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		return -EPERM;
	*ret_step = "verifying that no privilege is left";
	return verify_nothing_left(uid, gid, had_setpcap);
}
