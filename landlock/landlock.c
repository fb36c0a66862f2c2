/* SPDX-License-Identifier: MIT */
/* Landlock: ABI probe, best-effort downgrade, ruleset building, enforcing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/macros.h"
#include "landlock.h"

static int sys_landlock_create_ruleset(const struct ll_ruleset_attr *attr, size_t size,
				       uint32_t flags)
{
	return (int)syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static int sys_landlock_add_rule(int fd, int type, const void *attr, uint32_t flags)
{
	return (int)syscall(__NR_landlock_add_rule, fd, type, attr, flags);
}

static int sys_landlock_restrict_self(int fd, uint32_t flags)
{
	return (int)syscall(__NR_landlock_restrict_self, fd, flags);
}

int landlock_probe_abi(void)
{
	int abi = sys_landlock_create_ruleset(NULL, 0, LL_CREATE_RULESET_VERSION);

	if (abi >= 0)
		return abi;
	/* ENOSYS: not built in; EOPNOTSUPP: built in but disabled at boot */
	if (errno == ENOSYS || errno == EOPNOTSUPP)
		return 0;
	return -errno;
}

void landlock_caps_for_abi(int abi, struct landlock_caps *caps)
{
	*caps = (struct landlock_caps){.abi = abi};
	if (abi <= 0)
		return;
	/* Start from everything this build knows and take away, oldest last,
	 * what each older ABI lacks — the kernel sample sandboxer's switch. */
	caps->fs = LANDLOCK_WRITE | LL_FS_EXECUTE | LL_FS_MAKE_CHAR | LL_FS_MAKE_BLOCK;
	caps->net_tcp = true;
	caps->scopes = LANDLOCK_ALL_SCOPES;
	switch (abi) {
	case 1:
		/* ABI 1 lacks REFER: every reparenting is refused. */
		caps->fs &= ~LL_FS_REFER;
		__attribute__((fallthrough));
	case 2:
		/* ABI 2 lacks TRUNCATE: truncate(2) is not restricted. */
		caps->fs &= ~LL_FS_TRUNCATE;
		__attribute__((fallthrough));
	case 3:
		/* ABI 3 lacks TCP rules. */
		caps->net_tcp = false;
		__attribute__((fallthrough));
	case 4:
		/* ABI 4 lacks IOCTL_DEV: ioctl on device files is not restricted. */
		caps->fs &= ~LL_FS_IOCTL_DEV;
		__attribute__((fallthrough));
	case 5:
		/* ABI 5 lacks scopes: abstract Unix sockets and signals leave the domain. */
		caps->scopes = 0;
		__attribute__((fallthrough));
	case 6:
		/* ABI 7 added only the logging flags of landlock_restrict_self(),
		 * which ringfence leaves at the kernel's defaults. */
		__attribute__((fallthrough));
	case 7:
		/* ABI 7: everything this build knows. */
		break;
	default:
		/* Newer kernels: enforce all we know; new rights stay unhandled
		 * (allowed), exactly as under ABI 7. */
		break;
	}
}

void landlock_missing(const struct landlock_caps *caps, uint64_t wanted_fs, uint64_t wanted_scopes,
		      uint64_t *ret_fs, uint64_t *ret_scopes)
{
	uint64_t fs = wanted_fs & ~caps->fs;

	if (caps->abi >= 1)
		fs &= ~LL_FS_REFER;
	*ret_fs = fs;
	*ret_scopes = wanted_scopes & ~caps->scopes;
}

STRING_TABLE_BEGIN
static const struct {
	uint64_t bit;
	char name[16]; /* an array: supervisor/supervisor.h's sc_entry says why */
} fs_rights[] = {
    {LL_FS_EXECUTE, "execute"},	      {LL_FS_WRITE_FILE, "write_file"},
    {LL_FS_READ_FILE, "read_file"},   {LL_FS_READ_DIR, "read_dir"},
    {LL_FS_REMOVE_DIR, "remove_dir"}, {LL_FS_REMOVE_FILE, "remove_file"},
    {LL_FS_MAKE_CHAR, "make_char"},   {LL_FS_MAKE_DIR, "make_dir"},
    {LL_FS_MAKE_REG, "make_reg"},     {LL_FS_MAKE_SOCK, "make_sock"},
    {LL_FS_MAKE_FIFO, "make_fifo"},   {LL_FS_MAKE_BLOCK, "make_block"},
    {LL_FS_MAKE_SYM, "make_sym"},     {LL_FS_REFER, "refer"},
    {LL_FS_TRUNCATE, "truncate"},     {LL_FS_IOCTL_DEV, "ioctl_dev"},
};
STRING_TABLE_END

void landlock_fs_rights_format(uint64_t rights, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(fs_rights); i++) {
		if (!(rights & fs_rights[i].bit))
			continue;
		int n =
		    snprintf(buf + used, size - used, "%s%s", used ? "," : "", fs_rights[i].name);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

int landlock_build(const struct landlock_plan *plan, const struct landlock_caps *caps,
		   bool deny_tcp, const char **ret_failed_path)
{
	struct ll_ruleset_attr attr = {
	    .handled_access_fs = caps->fs,
	    .handled_access_net =
		deny_tcp && caps->net_tcp ? LL_NET_BIND_TCP | LL_NET_CONNECT_TCP : 0,
	    .scoped = caps->scopes,
	};
	size_t attr_size = caps->abi >= 6   ? sizeof(attr)
			   : caps->abi >= 4 ? offsetof(struct ll_ruleset_attr, scoped)
					    : offsetof(struct ll_ruleset_attr, handled_access_net);
	_cleanup_close_ int ruleset = -1;

	*ret_failed_path = NULL;
	if (caps->abi < 1)
		return -EOPNOTSUPP;
	ruleset = sys_landlock_create_ruleset(&attr, attr_size, 0);
	if (ruleset < 0)
		return -errno;
	for (size_t i = 0; i < plan->n; i++) {
		_cleanup_close_ int fd = -1;
		struct ll_path_beneath_attr pb;
		struct stat st;

		fd = open(plan->rules[i].path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		/* a sibling another process removed since planning (a file in
		 * /tmp): nothing is left to grant */
		if (fd < 0 && errno == ENOENT && plan->rules[i].sibling)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0) {
			*ret_failed_path = plan->rules[i].path;
			return -errno;
		}
		if (S_ISLNK(st.st_mode)) {
			/* planned as a file or directory: something swapped it */
			*ret_failed_path = plan->rules[i].path;
			return -ELOOP;
		}
		pb.parent_fd = fd;
		pb.allowed_access = plan->rules[i].access & caps->fs;
		if (!S_ISDIR(st.st_mode))
			pb.allowed_access &= LANDLOCK_FILE_RIGHTS;
		if (!pb.allowed_access)
			continue;
		if (sys_landlock_add_rule(ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
			*ret_failed_path = plan->rules[i].path;
			return -errno;
		}
	}
	return steal_fd(&ruleset);
}

/*
 * A domain of its own for the scope, which the command's domain nests in.
 * Every layer refuses reparenting (REFER is "initially denied" even where a
 * ruleset does not handle it), so a scope-only layer made every rename and
 * link between two directories fail with EXDEV, however the command's own
 * layer granted them.  This layer therefore handles REFER and grants it on
 * "/": it adds nothing to what the command's layer allows, which still
 * decides every reparenting.
 */
int landlock_scope_self(const struct landlock_caps *caps, uint64_t scopes)
{
	struct ll_ruleset_attr attr = {.handled_access_fs = LL_FS_REFER, .scoped = scopes};
	struct ll_path_beneath_attr pb = {.allowed_access = LL_FS_REFER};
	_cleanup_close_ int ruleset = -1, root = -1;

	if (caps->abi < 6 || !scopes || (caps->scopes & scopes) != scopes)
		return -EOPNOTSUPP;
	ruleset = sys_landlock_create_ruleset(&attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -errno;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	pb.parent_fd = root;
	if (sys_landlock_add_rule(ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	if (sys_landlock_restrict_self(ruleset, 0) < 0)
		return -errno;
	return 0;
}

int landlock_restrict(int ruleset_fd, const struct landlock_caps *caps)
{
	(void)caps;
	/* Denials keep the kernel's default audit logging (ABI 7 flags unset). */
	if (sys_landlock_restrict_self(ruleset_fd, 0) < 0)
		return -errno;
	return 0;
}
