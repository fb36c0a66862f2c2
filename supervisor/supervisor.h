/* SPDX-License-Identifier: MIT */
/*
 * supervisor/ — internal interface shared by the supervisor's files.
 *
 * The supervisor plans, holds the secrets, the CA and the proxy, and
 * watches; init and the command (sandbox/, DESIGN.md has the diagram) are
 * given a struct sandbox_plan made from struct sandbox below just before
 * the fork, and speak to the supervisor in sandbox.h's typed records.
 * struct sandbox is the supervisor's own: it holds the secrets, and no
 * file of sandbox/ sees its type.
 */
#ifndef RINGFENCE_SUPERVISOR_H
#define RINGFENCE_SUPERVISOR_H

#include <linux/filter.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../common/audit.h"
#include "../common/macros.h"
#include "../common/util.h"
#include "../landlock/landlock.h"
#include "../policy/policy.h"
#include "../sandbox/sandbox.h"

/* ---- util.c (common/util.h and common/audit.h have the rest) ------------ */

_noreturn_ _printf_(1, 2) void die(const char *fmt, ...);
/*
 * The array V (malloc()ed or NULL) of N items of SIZE bytes with room for
 * one more, grown to twice its length when it has none: grown one at a
 * time, lists growing side by side (protect's absent names, their nearest
 * directories, their kinds, each with its strings between) were moved at
 * nearly every addition, a start writing ~20 more heap pages (a page
 * fault each, bench/startup_ab.sh).  The room is what malloc says the
 * block holds, so a list made anyhow by malloc may be grown here.  Inline
 * for the fuzzers that build the readers without util.c.
 */
static inline void *grow_for(void *v, size_t n, size_t size)
{
	void *nv;

	if (v && (n + 1) * size <= malloc_usable_size(v))
		return v;
	nv = realloc(v, (n < 8 ? 8 : 2 * n) * size);
	if (!nv)
		die("out of memory");
	return nv;
}
/* A list of N strings at *V: S copied onto its end; all freed (the list
 * left empty); whether S is one of them. */
void strv_add(char ***v, size_t *n, const char *s);
void strv_clear(char ***v, size_t *n);
bool strv_has(char *const *v, size_t n, const char *s);
/* Whether the canonical PATH lies beneath one of the grants L names (each
 * resolved where it exists; layers_fs.c). */
bool grants_cover(const struct policy_list *l, const char *path);
/* The seccomp filters PID is under (/proc/PID/status, Linux 5.9), or -1:
 * a process of the sandbox is under ringfence's on top of the
 * supervisor's own, which nothing in it can remove. */
int seccomp_filters(pid_t pid);

/* ---- cli.c ------------------------------------------------------------- */

enum cli_command {
	CLI_RUN = 1,
	CLI_CHECK,
	CLI_EXPLAIN,
	CLI_PROBE,
	CLI_LEARN,
	CLI_HELP,
	CLI_VERSION,
	_CLI_MAX,
};

struct cli_override {
	enum policy_override what;
	const char *value;
};

struct cli {
	enum cli_command command;
	const char *policy_path;
	struct cli_override *overrides; /* owned */
	size_t n_overrides;
	int verbose;
	bool trace;		/* --trace */
	bool log_live;		/* --log - */
	const char *learn_from; /* learn --from FILE */
	const char *learn_out;	/* learn -o FILE -- COMMAND */
	bool learn_force;	/* learn --force: -o may replace a file */
	bool learn_intercept;	/* learn --intercept: HTTPS read while learning */
	char **argv;		/* the command (run) or the files (check); borrowed */
	int argc;
};

/* Parses ARGV.  On error returns -EINVAL with a message in ERR. */
int cli_parse(int argc, char **argv, struct cli *ret, char *err, size_t err_size);
void cli_free(struct cli *cli);
void cli_usage(FILE *out);

/* ---- the supervisor's plan and state (sandbox.h: what init is given) ---- */

enum mask_kind {
	MASK_DENY = 1,	/* an empty read-only mode-000 mount */
	MASK_READ_ONLY, /* bound onto itself read-only */
	MASK_PIN,	/* bound onto itself: a mount point cannot be moved */
	_MASK_MAX,
};

struct protect_placeholder {
	char *path;
	dev_t dev;
	ino_t ino;
	int fd; /* holds a shared flock(2): runs in one project share it */
};

struct netproxy_credential;
struct netproxy_tls;

struct sandbox {
	const struct policy *policy;
	bool best_effort;

	/* identity */
	bool started_as_root;
	bool drop_to_user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
	uid_t outer_uid;
	gid_t outer_gid;
	char *home;

	/* namespaces */
	enum ns_mode ns;
	bool new_user_ns;
	bool new_pid_ns; /* NS_FULL without it: no fresh /proc could be mounted */
	bool new_net_ns;
	/* started in the background of its controlling terminal: the
	 * command gets a session of its own (runloop.c, terminal_save()) */
	bool tty_detach;
	/* the controlling terminal (runloop.c's terminal_find()), or -1;
	 * the job held stopped in its background (job_held()): the
	 * foreground the sandbox may give is judged by broker_tty() */
	int tty_fd;
	bool tty_held;
	bool tty_ours;	   /* the last foreground judged was the job's (broker_tty()) */
	bool replanning;   /* planning again after a fallback: notes were given once */
	char **deny_canon; /* the deny paths resolved, once (NULL: absent); layers.c */
	/* of those beneath a write grant, the file each was at the start (its
	 * device and inode; 0: none, or not a file there): gitscan.c's
	 * denied_held() */
	struct deny_id {
		dev_t dev;
		ino_t ino;
	} * deny_ids;

	/* filesystem */
	struct landlock_caps ll;
	struct landlock_plan plan; /* the Landlock rules: init opens them (sandbox_plan.fs) */
	struct mount_mask *masks;
	size_t n_masks;
	char *private_tmp_dir; /* NS_NONE with private_tmp: created and removed by us */
	/* protect.c: empty directories made to be mounted over (removed at
	 * exit), absent protected files checked at exit, planning strings */
	struct protect_placeholder *placeholders;
	size_t n_placeholders;
	char **watch;
	size_t n_watch;
	char **prot_strings;
	size_t n_prot_strings;
	/* the canonical write grants, and the directories whose new entries
	 * are watched while the sandbox runs (protwatch.c) */
	char **prot_roots;
	size_t n_prot_roots;
	char **prot_trees;
	size_t n_prot_trees;
	/* the repositories the walk at start found in the write grants (a
	 * grant on ~/src, a project's vendored checkout), their .git a
	 * directory: githeads.c checks them as the grants that are ones */
	char **nested_repos;
	size_t n_nested_repos;
	/* the git directories whose hooks and configuration protect.c keeps
	 * from the sandbox (read-only, or behind a view), and the hooks paths
	 * and included files their configs point at: gitscan.c passes over
	 * them */
	struct git_guarded {
		dev_t dev;
		ino_t ino;
	} * git_guarded;
	size_t n_git_guarded;
	/* core.hooksPath in the host's own git configuration (system, global,
	 * what they include; gitconfig_host_read()), "~/" expanded: relative
	 * ones name a directory in every worktree */
	char **git_global_hooks;
	size_t n_git_global_hooks;
	/* the files that configuration includes (as named, "~/" expanded):
	 * read by every host git as its own configuration */
	char **git_global_includes;
	size_t n_git_global_includes;
	/* the files commands that configuration has git run name (relative:
	 * in every worktree), and its init.templateDir */
	char **git_global_programs;
	size_t n_git_global_programs;
	char **git_global_templates;
	size_t n_git_global_templates;
	/* githeads.c: the write grants that are repositories and those
	 * nested_repos, with what the host had at their protected paths at
	 * the start */
	struct githead **githeads;
	size_t n_githeads;
	/* their git directories (device and inode), kept past
	 * githeads_finish() for the walk at exit (gitscan.c), which says what
	 * the run changed in one not among them; KNOWN once taken */
	struct git_guarded *git_held;
	size_t n_git_held;
	bool git_held_known;
	struct protwatch *protwatch;
	/* the denied files masked at start whose name was removed while the
	 * sandbox ran, the mask with it (protwatch.c): the sandbox may have
	 * made what is there at the end.  Every other one, masked the whole
	 * run, holds only what the host wrote: the walk at exit leaves it
	 * where a protected name made during the run is moved aside */
	char **deny_lost;
	size_t n_deny_lost;
	int journal_fd;	       /* journal.c: locked while we live, or -1 */
	char *journal_name;    /* its name in the state directory */
	long journal_key;      /* its witness's serial in the user's keyring */
	bool journal_sweep;    /* the sandbox could write there: swept at exit */
	bool init_forked;      /* an init was made: the command may have run */
	struct fsgate *fsgate; /* fsgate.c: without namespaces; NULL when unused */
	bool attrgate;	       /* attrgate.c: without namespaces */
	/* attrgate.c, with namespaces: a mode that makes a file of a
	 * repository's object store writable is refused (the rest the
	 * mounts judge); *_live: the command's listener came, so the gate
	 * held (else the end reads every object's time: gitobj_end()) */
	bool modegate;
	bool objgate_live;
	/* gitview.c: the .git directories given a copy-on-write view (paths
	 * from protect.c; the views themselves are init's) */
	char **gitview_paths;
	size_t n_gitview_paths;
	/* hooks that are links (protect_gather.c's hook_scripts()): the links
	 * on the way to what they run are held as a deny path's are */
	char **hook_links;
	size_t n_hook_links;
	/* what the hooks' scripts and the hook managers' configurations
	 * name (protect_gather.c), absolute: protected paths of the check of
	 * what the sandbox stages or commits too (githeads.c; pre-commit
	 * checks out the index's before it runs a hook) */
	char **hook_files;
	size_t n_hook_files;
	/* lefthook's extends given as globs (absolute), and what they matched
	 * at the start: a match made during the run is moved aside at exit
	 * (protect_finish()) */
	char **hook_globs;
	size_t n_hook_globs;
	char **hook_glob_seen;
	size_t n_hook_glob_seen;
	/* the tops of projects where a python3 started imports from first
	 * (protect_python.c), the standard modules there at the start (TOP/STEM:
	 * the project's own, left to it), and the directories STEM there that
	 * held no __init__ (watched for one) */
	char **py_tops;
	size_t n_py_tops;
	char **py_present;
	size_t n_py_present;
	/* ... and of a built-in name's modules (readline.py), the entries
	 * there at the start (TOP/ENTRY, TOP/STEM/__init__...) */
	char **py_kept;
	size_t n_py_kept;
	char **py_pkgdirs;
	size_t n_py_pkgdirs;
	/* the links TOP/STEM there at the start that led to no package, and
	 * the directories they led to (an __init__ made there is judged as
	 * in TOP/STEM) */
	char **py_links;
	size_t n_py_links;
	char **py_linkdirs;
	size_t n_py_linkdirs;
	/* the notification filter for the command (run.c), or len 0 */
	struct seccomp_prog seccomp_notify;
	/* state.c: the stand-ins, ringfence's state directory (the root,
	 * masked or carved out) and this policy's directory in it */
	struct private_standin *privates;
	size_t n_privates;
	char *state_root;
	char *state_dir;
	bool missing_said; /* the skipped grants were said once */
	/* CLOCK_REALTIME_COARSE at start: every file changed since has a
	 * ctime at least this (gitlinks.c, gitscan.c's checks of what git
	 * runs, journal.c), and what the host changed in the same clock tick
	 * just before counts as changed too (the safe side there) */
	struct timespec started_at;
	/* The start as file times go, for what the walk does to the host's
	 * files when it takes them for the run's (gitscan.c: write for others
	 * removed, another user's entries moved aside): what the host made or
	 * changed before has an earlier time, what the command makes later
	 * one no earlier (layers.c start_time()). */
	struct timespec started_born;
	bool start_wait; /* the command waits for the coarse clock to pass it */
	/* the checks of a run whose supervisor was killed (journal.c): what
	 * the host made since the crash cannot be told from what the run made,
	 * so modes are said, not changed, and nothing is moved as another
	 * user's */
	bool recovering;
	bool deny_tcp;

	/* seccomp: deny filter installed first, allow-list filter last */
	struct seccomp_prog seccomp_deny, seccomp_allow;

	/* process */
	char **envp;
	char cwd[4096];
	char **argv;

	/* network: how the sandbox reaches the proxy (mode = proxy) */
	enum net_iso iso;
	uint16_t proxy_port;
	int broker_listen_fd; /* broker: the proxy's listener, in our namespace; -1 */
	/* transparent capture ([network] capture = on): every TCP connect is
	 * the broker's to judge and take to the proxy, and the sandbox's
	 * resolver is ringfence's (namespace: UDP and TCP on 127.0.0.1:53
	 * inside, made by init; broker: a TCP listener of ours, DNS_PORT) */
	bool capture;
	int dns_listen_fd; /* broker: -1 once handed to the proxy */
	uint16_t dns_port;
	/* init (namespace: the proxy's listener) or the command (broker: the
	 * seccomp notification fd) hands an fd to the supervisor on this pair */
	int handoff[2];

	/* credentials (creds.c): secrets in their own mapping, the CA, and the
	 * bundle file the command trusts */
	struct netproxy_credential *creds; /* those with a secret */
	const char **cred_env;		   /* the variable each one sets */
	size_t n_creds;
	char *secrets;
	size_t secrets_size;
	struct netproxy_tls *tls;
	/* source = cmd: the helper that runs the commands (secretcmd.c), and
	 * when the secrets were read (CLOCK_MONOTONIC ms) */
	int secret_fd;
	pid_t secret_pid;
	long secrets_fetched_ms;
	const char *ca_bundle;
	bool tls_pending;   /* the CA and the bundle's contents: creds_finish() */
	const char *wgetrc; /* beside the bundle: wget's way to trust it */
	/* what the caller's clients trusted (canonical, owned): the files
	 * named in ca_bundle_vars and the directories in SSL_CERT_DIR; read
	 * grants, and the bundle's and the proxy's trust when intercepting */
	char **trust_files, **trust_dirs;
	size_t n_trust_files, n_trust_dirs;

	/* pathname Unix sockets connect(2) may reach (canonical patterns, owned),
	 * the sandbox's private temporary directory beneath them; the broker
	 * mediates every connect whenever the sandbox may make Unix sockets */
	bool unix_mediated;
	char **unix_connect;
	size_t n_unix_connect;
	/* without a network namespace: abstract connects are made by init,
	 * scoped by Landlock (relay.c); [0] the supervisor's end, [1] init's */
	int abstract_relay[2];
	int self_stat; /* /proc/self/stat, for init (sandbox_fds.sup_stat), or -1 */

	/* audit log fd or -1 */
	int audit_fd;
	/* --trace: the file calls are seen by the supervisor (fstrace.c) */
	bool trace;
	/* ringfence learn -o: what the run used is recorded here (learn.c);
	 * borrowed, NULL otherwise */
	struct learn_rec *learn;
};

/* Whether connect(2) and listen(2) of the command stop in the broker:
 * the connect broker, Unix connect mediation, or transparent capture. */
static inline bool sandbox_notify_net(const struct sandbox *sb)
{
	return sb->iso == NET_ISO_BROKER || sb->unix_mediated ||
	       (sb->capture && sb->iso != NET_ISO_NONE);
}

/* "command line" for overrides, else the file. */
const char *origin_file(const struct policy_origin *o);

/* The run_as user (name or number); exits 125 naming the policy line if unknown. */
struct passwd;
struct passwd *run_as_user_or_die(const struct policy *p);

/* layers.c: builds the plan; exits 125 with one line on any problem. */
void sandbox_prepare(struct sandbox *sb, const struct policy *p, char **argv, const char *home);
/* clone() with namespaces failed under namespaces = auto: plan again without. */
void sandbox_fallback_no_ns(struct sandbox *sb);
/* The filesystem layer's plan (layers_fs.c), part of sandbox_prepare()
 * and of a fallback's plan. */
void layers_prepare_fs(struct sandbox *sb);
/* No fresh /proc could be mounted: namespaces without a PID namespace. */
void sandbox_fallback_no_pid_ns(struct sandbox *sb);
void sandbox_release(struct sandbox *sb);
/* At the end of a run: what it leaves on the host removed, the secrets
 * wiped, the exit handlers told; the memory left to the exit. */
void sandbox_leave(struct sandbox *sb);
/* For explain: the layer report, one line per layer. */
void sandbox_describe(const struct sandbox *sb, FILE *out);

void sandbox_add_mask(struct sandbox *sb, const char *path, bool is_dir, enum mask_kind kind);
/* PATH (canonical) is a deny path or beneath one: the deny paths as
 * resolved at start (once; as written where absent then).  path_denied is
 * the same once the plan is made (prepare_fs resolves them). */
bool beneath_a_deny(struct sandbox *sb, const char *path);
bool path_denied(const struct sandbox *sb, const char *path);
/* The deny paths resolved, once per run, in the policy's order (an entry is
 * NULL for an absent path); owned by SB. */
char *const *sandbox_deny_canon(struct sandbox *sb);

/* ---- protect.c ---------------------------------------------------------- */

/* The built-in names: beneath every write grant (HOME false) or in ~. */
size_t protect_builtin_names(bool home, const char ***ret);
/* Whether NAME (one component) begins a built-in project name but git's
 * own (.git...): where a walk looks further (gitscan.c). */
bool protect_builtin_first(const char *name);
/* Whether the built-in project name NAME is a directory's (a file's is
 * no directory of that name: a venv called .env). */
bool protect_builtin_dir(const char *name);
/* Masks (namespaces), placeholders and the exit watch list into SB; the
 * Landlock carve-outs for protect into *RET_CO (the caller frees the array,
 * protect_plan_done() the strings once planned). */
void protect_prepare(struct sandbox *sb, struct landlock_carveout **ret_co, size_t *ret_nco);
/* With a mount namespace: an empty directory held at each absent deny path
 * written as a directory, beneath a grant (masked, removed at exit). */
void protect_deny_placeholders(struct sandbox *sb);
void protect_plan_done(struct sandbox *sb);
/* After the sandbox ended: absent protected files it created are moved
 * aside and reported; placeholders removed. */
void protect_finish(struct sandbox *sb);
/* (placeholder.c) SB's placeholders no other run holds removed, now. */
void protect_remove_placeholders(struct sandbox *sb);
void protect_free_watch_lists(struct sandbox *sb);
/* A directory reached from "/" following no symlink (O_PATH), or -errno. */
int protect_open_dir_nofollow(const char *path);
/* (placeholder.c) Closes FD (an inotify instance) in a child that lets go
 * once we exit: the last close waits for a grace period nobody should
 * wait for. */
int protect_close_later(int fd);
/* A directory of ours the command made unwritable to us during the run
 * given write and search back: the mode to put back with owner_relock(),
 * or -1 (nothing changed).  unlinkat(2) and renameat2(2) that do so where
 * refused. */
int owner_unlock(const struct sandbox *sb, int dir);
void owner_relock(int dir, int was);
int owner_unlinkat(const struct sandbox *sb, int dir, const char *name, int flags);
int owner_renameat(const struct sandbox *sb, int from, const char *old, int to, const char *new,
		   unsigned flags);
/* Moves the entry PATH aside to NAME.ringfence-blocked, with one line and
 * the audit event EVENT; 1 moved, 0 could not, -ENOENT nothing there. */
enum move_when {
	MOVE_AT_EXIT = 1, /* the sandbox has ended */
	MOVE_LIVE,	  /* while it runs */
	MOVE_LIVE_QUIET,  /* while it runs, past the lines said on stderr */
	_MOVE_MAX,
};
int protect_move_aside(const struct sandbox *sb, const char *path, const char *event,
		       enum move_when when);

/* ---- pymodules.c ------------------------------------------------------- */

/* What a name in a directory on Python's path is to its import, for the
 * standard modules (and pip's own): STEM's module in a file (STEM.py,
 * STEM.pyc, STEM.TAG.so, ...), STEM itself (a package, when a directory
 * holding an __init__), or neither.  STEM (SIZE bytes) gets the name's part
 * before its first dot. */
enum py_form { PY_NONE, PY_MODULE, PY_PACKAGE };
enum py_form py_std_form(const char *name, char *stem, size_t size);
/* Whether STEM (its first N bytes) is a standard module's name. */
bool py_std_name(const char *stem);
bool py_std_name_n(const char *stem, size_t n);
/* Whether NAME is a package's __init__ in a form Python imports. */
bool py_init_name(const char *name);
/* The Ith standard name (sorted), or NULL past the last. */
const char *py_std_at(size_t i);

/* ---- protect_python.c --------------------------------------------------- */

/* What NAME made in the directory DIR during the run is to the standard
 * modules of a `python3` started at a project's top: PYM_MOVE a module
 * file (there at a top, or a package's __init__ in a directory STEM there)
 * that was not the project's at the start, PYM_PACKAGE the entry STEM at
 * a top (a link is moved aside, a directory watched for its __init__),
 * PYM_NONE anything else. */
enum py_made { PYM_NONE, PYM_MOVE, PYM_PACKAGE };
/* Whether NAME is a VS Code workspace file's, NAME.code-workspace (any
 * case of the suffix): held at the tops by the same rule (its tasks run
 * at folder open), below them checked as .vscode/ is (gitscan.c). */
bool protect_workspace_name(const char *name);
enum py_made protect_python_made(const struct sandbox *sb, const char *dir, const char *name);
/* After the sandbox ended: each top looked through for what is above;
 * only what changed at or after SINCE, when not NULL (a killed run's, from
 * its journal), is moved aside. */
void protect_python_check(struct sandbox *sb, const struct timespec *since);
void protect_python_finish(struct sandbox *sb);
/* For the crash journal: the standard modules TOP held at the start, as
 * their names (and a built-in name's entries there, relative to TOP), each
 * followed by a space (malloc'd; NULL when out of memory); and a killed run's check of TOP, TMP its
 * stand-in. */
char *protect_python_stems(const struct sandbox *sb, const char *top);
void protect_python_recover(struct sandbox *tmp, const char *top, const char *stems);

/* ---- protwatch.c -------------------------------------------------------- */

/* Before fork: watches (inotify) the directories where SB's absent built-in
 * names would appear, and the repositories' trees; -errno. */
int protwatch_start(struct sandbox *sb);
/* Whether the command makes a name again and again as the watch moves it
 * aside (PW_REPEAT_MAX): the caller ends the run. */
bool protwatch_racing(const struct sandbox *sb);
/* The fd to poll for, or -1. */
int protwatch_fd(const struct sandbox *sb);
/* A timer to poll for once a repository was made during the run, or -1;
 * protwatch_tick() when it fires. */
int protwatch_timer_fd(const struct sandbox *sb);
void protwatch_tick(struct sandbox *sb);
/* Moves aside, at once, what the sandbox created under a protected name;
 * true when a denied file's name was made again in its directory (init is
 * then to mask it again: SIG_REMASK). */
bool protwatch_dispatch(struct sandbox *sb);
/* Once the command starts: a child of ours walks the write grants (as at
 * exit; from the first tick, PW_FIND_AFTER_MS later) and hands each git
 * directory over to be watched while the sandbox runs; poll
 * protwatch_find_fd() and call protwatch_find_read(). */
void protwatch_find(struct sandbox *sb);
int protwatch_find_fd(const struct sandbox *sb);
void protwatch_find_read(struct sandbox *sb);
/* In init: the watcher is the supervisor's. */
void protwatch_forget(struct sandbox *sb);
void protwatch_stop(struct sandbox *sb);
/* Pure: whether a repository's config BUF (N bytes) sets only keys git
 * init and clone write (nothing a host git runs or follows). */
bool protwatch_config_ok(const char *buf, size_t n);

/* ---- journal.c ---------------------------------------------------------- */

/* Before the plan: the checks at exit of every earlier run whose supervisor
 * is gone (killed before it made them), said on stderr and in AUDIT_FD. */
void journal_recover(int audit_fd);
/* Before fork: what SB's checks at exit cover, in the state directory, held
 * by a lock for as long as the supervisor (or init) lives. */
/* The journal directory when a write grant covers it: to be kept out of
 * the sandbox's reach (true, its path in BUF). */
bool journal_shield(const struct sandbox *sb, char *buf, size_t size);
void journal_begin(struct sandbox *sb);
/* The checks at exit were made: the record goes. */
void journal_end(struct sandbox *sb);
/* When the sandbox could write the journal directory: every journal made
 * during the run that no live run holds goes (a forgery, not a record). */
void journal_sweep(const struct sandbox *sb);

/* ---- state.c ------------------------------------------------------------ */

/* Before the namespaces are chosen: `create` directories made, stand-ins
 * made or found (seeded once); exits 125 naming the policy line. */
void state_prepare(struct sandbox *sb);
/* In prepare_fs: grants (at most n_privates), carve-outs (at most
 * n_privates + 1) and masks for the stand-ins; state_plan_done after
 * landlock_plan. */
void state_plan(struct sandbox *sb, struct landlock_grant *grants, size_t *ng,
		struct landlock_carveout *co, size_t *nco);
void state_plan_done(struct sandbox *sb);
/* (init binds the stand-ins over their paths: sandbox/mounts.c) */
void state_remove_placeholders(struct sandbox *sb);
/* PATH (canonical) is a private path or beneath one. */
bool state_is_private(const struct sandbox *sb, const char *path);
void state_leave(struct sandbox *sb);
void state_release(struct sandbox *sb);

/* At the end of a run: its placeholders removed, the exit handler told. */
void protect_leave(struct sandbox *sb);
void protect_release(struct sandbox *sb);

/* ---- gitlinks.c --------------------------------------------------------- */

/* After the sandbox ended: a repository recorded as a gitlink in a write
 * grant's index whose .git was made or changed since the start is moved
 * aside and reported. */
void gitlinks_finish(const struct sandbox *sb);
/* The same for one grant W, with SB's started_at and audit_fd only. */
void gitlinks_check_grant(const struct sandbox *sb, const char *w);
/* Calls FN with the path of every gitlink of the index P (N bytes);
 * -EINVAL when it is not an index of version 2 to 4. */
int gitlinks_parse(const unsigned char *p, size_t n, void (*fn)(void *ud, const char *path),
		   void *ud);

/* ---- githeads.c --------------------------------------------------------- */

/* Before the sandbox starts: the write grants that are repositories and
 * the repositories found in them (nested_repos), their index held as it
 * is. */
void githeads_start(struct sandbox *sb);
/* After it ended: in each, the index entries at protected paths and the
 * commits the refs changed during the run point to, checked; what names
 * new content there undone and said. */
void githeads_finish(struct sandbox *sb);
/* An index's entry (path, mode, object id of SZ bytes), and a node of its
 * cache tree (a path, "" for the top, and its tree's id). */
typedef void gitindex_entry_fn(void *ud, const char *path, uint32_t mode, const unsigned char *oid,
			       size_t sz);
typedef void gitindex_tree_fn(void *ud, const char *path, const unsigned char *oid, size_t sz);
/* Pure: calls FN with each entry of the index P (N bytes, versions 2 to
 * 4); -EINVAL when it is not one. */
int gitindex_parse(const unsigned char *p, size_t n, gitindex_entry_fn *fn, void *ud);
/* The same with object ids of HASHSZ bytes only (0: either), FN with each
 * version its resolve-undo extension (REUC) keeps too, and TREE_FN with
 * each valid node of its cache tree (the TREE extension, which git's next
 * commit takes as it is). */
int gitindex_parse_all(const unsigned char *p, size_t n, size_t hashsz, gitindex_entry_fn *fn,
		       gitindex_tree_fn *tree_fn, void *ud);

/* ---- gitscan.c ---------------------------------------------------------- */

/* After the sandbox ended: in every git directory beneath the write grant
 * GRANT (any depth, bare ones by any name) the hooks, configuration and
 * pointers to other repositories made or changed since SB's started_at are
 * moved aside and reported; SB's started_at, audit_fd, git_guarded (may be
 * empty), ns and policy (may be NULL) only. */
void gitscan_grant(const struct sandbox *sb, const char *grant);
/* Every write grant (one within another walked with it, once), as
 * gitscan_grant(); FOUND_FD >= 0: the walk while the sandbox runs, which
 * writes there each git directory it finds (NUL-terminated) but those kept
 * read-only since the start, and leaves to the walk at exit to say what it
 * did not look at. */
void gitscan_all(const struct sandbox *sb, int found_fd);
/* (in the walk's process: the pipe whose end ends the walk) */
void gitscan_stop_on(int fd);
/* While the sandbox runs: the git directory PATH (canonical; WORKTREE: one
 * in a repository's worktrees/) checked as the walk checks it, calling
 * POINTED (may be NULL) with each file or directory its config points at in
 * a write grant; a .git at PATH that is a file or a link, made since the
 * start, moved aside. */
void gitscan_gitdir(const struct sandbox *sb, const char *path, bool worktree,
		    void (*pointed)(void *ud, const char *path), void *ud);
/* The git directories nested in the git directory PATH: its submodules'
 * (modules/, any depth) and its linked worktrees' (worktrees/NAME). */
void gitscan_nested(const char *path, void (*fn)(void *ud, const char *path, bool worktree),
		    void *ud);
void gitscan_pointer(const struct sandbox *sb, const char *path);
/* While the sandbox runs: a project's other built-in names (agents',
 * editors', direnv's) in the worktree TOP of a repository the start did not
 * guard, made or changed since the start, moved aside. */
void gitscan_names(const struct sandbox *sb, const char *top);
/* When the sandbox has ended: each file SB's git_global_includes names, in
 * a write grant, moved aside when it changed during the run and sets more
 * than a clone writes. */
void gitscan_global_includes(const struct sandbox *sb);

/* ---- gitconfig.c, gitconfig_files.c: what a git configuration has git run or read */

/* Pure: the next line of the git configuration BUF (N bytes) from *AT that
 * is neither blank nor a comment, trimmed, in *RET and *RET_LEN; false at
 * the end.  (The readers that judge a config share how git splits it.) */
bool gitconfig_line(const char *buf, size_t n, size_t *at, const char **ret, size_t *ret_len);
/* What gitconfig_pointers() hands its FN, and as what. */
enum git_pointer {
	PTR_HOOKS = 1,	 /* core.hooksPath: hooks run from there instead */
	PTR_INCLUDE,	 /* include.path, includeIf.*.path */
	PTR_PROGRAM,	 /* a command git runs, or what it surely reads (python -m) */
	PTR_PROGRAM_ARG, /* a file an argument of such a command names */
	PTR_WORKTREE,	 /* core.worktree: where the commands run from */
	PTR_TEMPLATE,	 /* init.templateDir: copied into each repository git makes */
	PTR_PATH_DIR,	 /* a directory put on a search path (direnv's PATH_add) */
	_PTR_MAX,
};
/* Pure: calls FN with each key of the configuration BUF (N bytes): its
 * section's name (lower-cased, no subsection), the section's whole line as
 * written, the key (lower-cased, cut at 127), and its value read as git
 * reads it (quotes, escapes, continued lines), NULL for a key without '='
 * (true).  A value git refuses is passed over. */
typedef void (*each_fn)(void *ud, const char *sec, const char *secline, const char *key,
			const char *val);
void gitconfig_each(const char *buf, size_t n, each_fn fn, void *ud);
typedef void (*pointer_fn)(void *ud, enum git_pointer kind, const char *value);
/* Pure: calls FN with each value in the configuration BUF (N bytes) that
 * points git outside its git directory (enum git_pointer), read as git
 * reads a value (quotes, escapes, continued lines); of a key naming a
 * command git runs (core.fsmonitor, filter.*.clean, alias.* = !..., ...),
 * each word of the command that names a file, relative to the worktree's
 * top as written (a `cd DIR` before it taken), "~/" for $HOME. */
void gitconfig_pointers(const char *buf, size_t n, pointer_fn fn, void *ud);
/* Pure: the same for the shell script BUF (N bytes) a hook is: each word
 * of its commands that names a file (PTR_PROGRAM, PTR_PROGRAM_ARG),
 * relative to the worktree's top, where git runs hooks; `$(dirname "$0")`
 * and its kin read as SELF_DIR (the hook's directory; NULL: not read). */
void gitconfig_script_pointers(const char *buf, size_t n, const char *self_dir, pointer_fn fn,
			       void *ud);
/* Whose configuration hookconf_pointers() reads. */
enum hookconf_kind {
	HOOKCONF_LEFTHOOK = 0,
	HOOKCONF_PRE_COMMIT,
	HOOKCONF_TOOL,	/* agents', editors', dev containers' JSON and TOML */
	HOOKCONF_YARN,	/* .yarnrc.yml, .yarnrc */
	HOOKCONF_ENVRC, /* direnv's .envrc, a shell script */
	HOOKCONF_TASKS, /* .vscode/tasks.json: read as _TOOL where a task runs by itself */
	_HOOKCONF_MAX,
};
/* Pure (hookconf.c): the same for a hook manager's configuration BUF (N
 * bytes; KIND says whose): the files its commands name, relative to the
 * top (PTR_PROGRAM, PTR_PROGRAM_ARG, also from each lefthook `root` or
 * tool's `cwd` it sets; pre-commit's local hooks' only), the
 * configurations it extends or an .envrc sources (PTR_INCLUDE, maybe a
 * glob) and its scripts' directories (PTR_HOOKS), each as written; the
 * directories an .envrc puts on a search path (PTR_PATH_DIR).  SELF_DIR:
 * the configuration's directory from the top ("" or NULL: the top), for a
 * file it names from there (a dev container's compose file).  False when
 * the configuration asked more work than a start gives it (HC_ROOT_WORK,
 * HC_ALIAS_WORK: a hostile one) and was not read whole. */
bool hookconf_pointers(const char *buf, size_t n, enum hookconf_kind kind, const char *self_dir,
		       pointer_fn fn, void *ud);
/* At most GITCONFIG_MAX bytes of a configuration are read (git reads any
 * size: 4 MiB is some 50,000 branches' sections). */
#define GITCONFIG_MAX (4 << 20)
/* The whole configuration open at FD (ST its fstat()), malloc()ed, in
 * *LEN bytes; NULL with errno EFBIG past GITCONFIG_MAX or when it grew
 * while read, or as read(2) failed. */
struct stat;
char *gitconfig_read(int fd, const struct stat *st, size_t *len);
/* gitconfig_pointers() for the configuration file open at FD (closed
 * here): a regular file read whole; one larger or that cannot be read is
 * said (SAY: once, by the reader whose protection it stops) and passed
 * over. */
void gitconfig_file(int fd, pointer_fn fn, void *ud, bool say);
/* Says that the configuration PATH (SIZE bytes) was not read (ERR: EFBIG
 * past GITCONFIG_MAX), so that what it has git run is not NOT_WHAT
 * ("protected", "checked"). */
void gitconfig_say_unread(const char *path, off_t size, int err, const char *not_what);
/* Whether PATH, named by a command in a git configuration as KIND, is
 * protected: a regular file or a link there, or nothing there for the
 * command itself (never a directory, a device: `2> /dev/null`). */
bool gitconfig_program_file(const char *path, enum git_pointer kind);
/* Outside the sandbox, before it starts: what the host's git reads from
 * its own configuration (/etc/gitconfig or $GIT_CONFIG_SYSTEM,
 * $GIT_CONFIG_GLOBAL or ~/.gitconfig and $XDG_CONFIG_HOME/git/config, and
 * what they include, every condition taken as met) into SB's lists:
 * git_global_hooks (core.hooksPath), git_global_programs (the files its
 * commands name), git_global_templates (init.templateDir) and
 * git_global_includes (the files included). */
void gitconfig_host_read(struct sandbox *sb);
/* The user's own git configuration files (~/.gitconfig, ~/.config/git/config
 * or $XDG_CONFIG_HOME's, $GIT_CONFIG_GLOBAL), which the default reads for the
 * sandbox's git: one holding a credential (a token in a URL, an extra
 * header's authorization, a password key) is denied in P, and said. */
void gitconfig_deny_credentials(struct policy *p, const char *home);
/* What the git configuration BUF (N bytes) holds that is a credential
 * (gitconfig_deny_credentials()'s look: its keys as git reads them, and
 * each line as it stands): NULL, or what, the key in KEY (SIZE bytes;
 * "" when a line's). */
const char *gitconfig_credential(const char *buf, size_t n, char *key, size_t size);
/* SB's lists of the host's git configuration (git_global_*) freed. */
void gitconfig_host_free(struct sandbox *sb);
/* The configuration files of the worktree TOP whose .git is a `gitdir:`
 * file (a submodule's, a linked worktree's: the main config and its own
 * config.worktree), canonical, in CFG: how many. */
size_t gitconfig_worktree_files(const char *top, char cfg[2][PATH_MAX]);
/* The worktree the configuration CONFIG of the git directory GITDIR names
 * (core.worktree, the last one; relative to GITDIR), canonical, in OUT
 * (PATH_MAX): where git runs its commands and hooks from. */
bool gitconfig_core_worktree(const char *config, const char *gitdir, char *out);

/* ---- seccomp.c ---------------------------------------------------------- */

struct seccomp_opts {
	bool allow_inet; /* AF_INET/AF_INET6 sockets */
	bool allow_unix; /* AF_UNIX sockets (socketpair always) */
	bool kill;	 /* action = kill for refused calls */
	const struct policy_list *extra_allow, *extra_deny;
	bool allow_dangerous;
	bool broker;	    /* inet: TCP streams only, no fast open (connect brokered) */
	bool no_pid_ipc_ns; /* no PID/IPC namespace: pid-taking calls on the caller only,
			     * System V and POSIX IPC refused */
};

int seccomp_build(const struct seccomp_opts *o, struct seccomp_prog *ret_deny,
		  struct seccomp_prog *ret_allow, const struct policy_item **ret_bad,
		  const char **ret_why);
/* Always with libseccomp (seccomp_build uses the build-time cache when it can). */
/* The policy's system call names known, dangerous ones with consent. */
int seccomp_check_names(const struct seccomp_opts *o, const struct policy_item **ret_bad,
			const char **ret_why);
int seccomp_generate(const struct seccomp_opts *o, struct seccomp_prog *ret_deny,
		     struct seccomp_prog *ret_allow, const struct policy_item **ret_bad,
		     const char **ret_why);
/* The notification filter (NET: connect and listen; TRACE: the traced file
 * calls; GATE: the file gate's calls), made for the command to install
 * (sandbox/filter.c); 0 or -errno. */
int seccomp_notify_build(bool net, bool trace, bool gate, bool attrs, bool modes, bool tty,
			 struct seccomp_prog *ret);

/* Programs generated at build time for every (inet, unix, kill, broker,
 * no_pid_ipc_ns) choice with no [syscalls] lists; key = inet | unix << 1 |
 * kill << 2 | broker << 3 | no_pid_ipc_ns << 4. */
#define SECCOMP_CACHE_VARIANTS 32u
struct seccomp_cached {
	unsigned key;
	unsigned deny, allow; /* offsets in seccomp_cache_insns (sc_entry's comment) */
	unsigned short deny_len, allow_len;
};
extern const struct seccomp_cached seccomp_cache[];
extern const struct sock_filter seccomp_cache_insns[];
extern const size_t seccomp_cache_n;
void seccomp_prog_free(struct seccomp_prog *p);
/* chown's group held to GID or -1 (a block put in front of DENY); 0 or
 * -errno. */
int seccomp_prefix_own_group(struct seccomp_prog *deny, gid_t gid, bool kill,
			     const struct policy_list *extra_deny);

/* The table, for explain and the unit test. */
enum sc_verdict {
	SC_ALLOW = 1, /* allowed */
	SC_ARGS,      /* allowed with argument rules */
	SC_DENY,      /* refused with EPERM (or killed) */
	SC_ENOSYS,    /* refused with ENOSYS: the caller has a fallback */
	SC_ENOTSUP,   /* refused with EOPNOTSUPP, as by a file system without it */
	_SC_MAX,
};
/* How an allowed call that takes a pid, pidfd, process group, IPC key or
 * id is kept on the sandbox's own processes and objects.  With namespaces
 * every one is also bounded by the sandbox's PID and IPC namespaces. */
enum sc_confine {
	SC_CONF_NONE = 0, /* takes none of those */
	SC_CONF_SELF,	  /* without a PID namespace: pid 0 (the caller) only, by argument */
	SC_CONF_SCOPE,	  /* a signal (or SIGIO owner): Landlock's signal scope (ABI 6) */
	SC_CONF_KERNEL,	  /* the kernel allows only the caller or its children */
	SC_CONF_READ,	  /* reads what /proc shows of any process anyway; changes nothing */
	SC_CONF_HANDLE,	  /* a pidfd: what it can be used for is confined (signals scoped,
			   * pidfd_getfd and process_madvise refused) */
	SC_CONF_IPC_NS,	  /* the sandbox's IPC namespace; refused without one */
	_SC_CONF_MAX,
};
/* Arrays, not pointers, here and in ringfence's other constant tables of
 * strings: a pointer in a table of a position-independent binary is
 * relocated by the loader at every start, which writes every page the
 * table spans (a fault each, ~20 us on some virtual machines) and keeps
 * those pages apart in each ringfence process, the supervisor and init of
 * every sandbox (a thousand idle sandboxes are a thousand copies).  Strings
 * held in the table itself stay in the file's pages, shared by all and
 * touched only when read (tests/integration/test_binary.py holds the
 * relocated pages to a few). */
struct sc_entry {
	char name[24];
	enum sc_verdict verdict;
	char group[12];
	char why[152];
	enum sc_confine confine;
};
const char *seccomp_confine_name(enum sc_confine c);
extern const struct sc_entry seccomp_table[];
extern const size_t seccomp_table_n;

/* ---- broker.c, broker_caller.c (the supervisor's side of the connect broker) */

struct netproxy;
/* What the kernel offers for the broker; NULL when it works, else why not. */
const char *broker_unavailable(const struct landlock_caps *ll);
/* Installs a notification listener in a throw-away child: 0 or the errno
 * (EBUSY: one is already installed above us, as under WSL2). */
int seccomp_notify_trial(void);

/* A pidfd whose fd table is the one the thread TID's fd numbers mean
 * (PIDFD_THREAD, or its thread group on kernels before 6.9), or -errno.
 * The thread group of TID from /proc, or -errno. */
int broker_caller_pidfd(pid_t tid);
/* A NUL-terminated string at ADDR in PID's memory, read once, page by page;
 * -EFAULT, -ENAMETOOLONG. */
int broker_read_string(pid_t pid, uint64_t addr, char *buf, size_t size);
pid_t broker_thread_group(pid_t tid);
/* The flags of PID's fd FD (octal "flags:" of /proc/PID/fdinfo/FD):
 * O_CLOEXEC is per descriptor and only fdinfo says it, O_PATH and the
 * status flags come along.  One open, one read, one close (stdio would add
 * a stat and a second read to every connection).  -errno. */
int broker_fd_flags(pid_t pid, int fd);
/* The number after FIELD ("Umask:") in /proc/TID/status, in BASE; -errno. */
long broker_status_field(pid_t tid, const char *field, int base);
/* Answers a notification: ERROR, or FLAGS (SECCOMP_USER_NOTIF_FLAG_CONTINUE). */
void broker_respond(int notify_fd, uint64_t id, int error, uint32_t flags);
/* This thread's effective ids, groups: the command's (ENTER), or ours
 * again; 0 or -errno (the command runs as our own user: nothing to do). */
int broker_as_command(const struct sandbox *sb, bool enter);
/* Asks the kernel to hand notifications and answers over on the CPU that
 * makes them (a hint; kernels before 6.6 refuse it, which changes nothing). */
void broker_sync_wake(int notify_fd);
/* Answers one connect(2) notification.  Returns 0, or -errno when the
 * notification fd itself failed. */
struct fstrace_group;
struct broker_stats {
	unsigned long refused;
	char last[96]; /* the last address refused */
	/* file refusals seen by the trace, grouped by kind and path (fstrace_report.c) */
	unsigned long fs_refused;
	struct fstrace_group *fs_groups; /* owned */
	size_t n_fs_groups;
};
int broker_handle(int notify_fd, struct sandbox *sb, struct netproxy *np, struct broker_stats *st);

/* ---- fsgate.c, fsgate_call.c: new entries on the way to protected paths, without
 * namespaces ---------------------------------------------------------- */

struct seccomp_notif;
/* After the Landlock plan: keeps the directories on the way (NS_NONE). */
void fsgate_prepare(struct sandbox *sb);
/* One notification: true when the gate answered it; false when it is not
 * the gate's to make (the caller lets it go on, or traces it). */
bool fsgate_handle(int notify_fd, const struct seccomp_notif *req, const struct sandbox *sb);
/* Lets a notified call go on in the kernel (under Landlock). */
void fsgate_continue(int notify_fd, const struct seccomp_notif *req);
/* When the sandbox has ended: the descriptors of the directories the gate
 * made closed, before the checks at exit open theirs. */
void fsgate_close_dirs(struct sandbox *sb);
/* When the sandbox has ended: git state made during the run moved aside. */
void fsgate_finish(struct sandbox *sb);
/* What fsgate_finish moves aside when made during the run (for the crash
 * journal: a killed supervisor's next start does it). */
const char *const *fsgate_exit_paths(const struct sandbox *sb, size_t *ret_n);
void fsgate_free(struct sandbox *sb);
/* The gate's refusals, added to ST for --trace's summary at exit. */
void fsgate_count_refusals(const struct sandbox *sb, struct broker_stats *st);
/* Whether NAME in the directory DIR (stat) is an entry the gate keeps and
 * would let the command write: the directory is one of the gate's, its
 * grant writes files, and NAME is not protected. */
bool fsgate_may_change(const struct sandbox *sb, const struct stat *dir, const char *name);
/* Whether DIR is a directory the gate keeps on the way in a grant that
 * makes files, and no repository directory (its own mode may change). */
bool fsgate_dir_may_change(const struct sandbox *sb, const struct stat *dir);

/* ---- attrgate.c: modes, owners, times and extended attributes, without
 * namespaces ---------------------------------------------------------- */

/* The calls it takes (the notification filter stops them). */
extern const int attrgate_calls[];
extern const size_t attrgate_calls_n;
#define ATTRGATE_CALLS_MAX 18
/* One notification: true when it was one of those calls and is answered. */
bool attrgate_handle(int notify_fd, const struct seccomp_notif *req, const struct sandbox *sb);

/* ---- fstrace.c, fstrace_report.c: file refusals made visible (--trace) ---- */

/* The system calls the trace is notified of, and their number. */
#define FSTRACE_CALLS_MAX 24
extern const int fstrace_calls[];
extern const size_t fstrace_calls_n;
bool fstrace_is_traced(int nr);

enum fs_access {
	FS_READ = 1,
	FS_WRITE,
	FS_CREATE,
	FS_REMOVE,
	FS_EXEC,
	FS_RENAME,
	FS_TRUNCATE,
	FS_IOCTL,
	_FS_ACCESS_MAX,
};
const char *fstrace_access_name(enum fs_access a);

/* What the trace concluded about one access. */
enum fs_why {
	FS_WHY_NOT_GRANTED = 1, /* no grant covers it: KEY would */
	FS_WHY_DENIED,		/* beneath a [filesystem] deny path */
	FS_WHY_KEPT,		/* granted, but ringfence keeps it out (protect, state) */
	_FS_WHY_MAX,
};
struct fs_verdict {
	enum fs_why why;
	const char *key;  /* "read", "write", "exec", "deny"; NULL for FS_WHY_KEPT */
	char value[4096]; /* the path to add to KEY, or the deny entry */
};

/* Pure but for realpath(3) on the policy's grants: whether Landlock (and the
 * masks) would refuse NEED at CHECK_PATH (canonical, the command's view, on
 * a read-only mount when RO_MOUNT) for an access to TARGET; true with *RET
 * filled when it would. */
bool fstrace_judge(const struct sandbox *sb, const char *target, const char *check_path,
		   uint64_t need, bool ro_mount, struct fs_verdict *ret);
/* A refusal made elsewhere (the file gate's), TIMES over, counted for the
 * summary as one ringfence keeps out of reach. */
void fstrace_count(struct broker_stats *st, enum fs_access access, const char *path,
		   unsigned long times);
struct seccomp_notif;
/* Judges one notification of a traced call, without answering it. */
void fstrace_observe(int notify_fd, const struct seccomp_notif *req, const struct sandbox *sb,
		     struct broker_stats *st);
/* Answers one notification of a traced call (always CONTINUE). */
void fstrace_handle(int notify_fd, const struct seccomp_notif *req, const struct sandbox *sb,
		    struct broker_stats *st);
/* The exit summary's part for file refusals into BUF ("" when none). */
void fstrace_summary(const struct broker_stats *st, const char *home, char *buf, size_t size);
void fstrace_stats_free(struct broker_stats *st);

/* ---- unixsock.c: [network] unix_connect ------------------------------- */

/* PATH (the kernel's name for a socket) matches one of PATTERNS. */
bool unixsock_match(char *const *patterns, size_t n, const char *path);
/* PATTERN with its fixed leading part made canonical (realpath); owned. */
int unixsock_canonical_pattern(const char *pattern, char **ret);

/* ---- env.c ------------------------------------------------------------- */

/* Builds the child's environment (NULL-terminated, owned). */
int env_build(const struct policy *p, const struct sandbox *sb, char *const *environ_in,
	      char ***ret);
bool env_glob_match(const struct policy_list *keep, bool keep_set, const char *name);
/* Whether NAME says its variable holds a secret (TOKEN, SECRET, _KEY, ...):
 * env_keep passes such a variable only where it names it whole. */
bool env_secret_name(const char *name);
/* Whether VALUE holds a secret by its form (a URL's user part, a
 * password= parameter, an Authorization header's credentials). */
bool env_secret_value(const char *value);
/* The part of env_secret_value() sure enough to look for in any text (a
 * script, a program's source): a URL's password, a webhook, a header with
 * its key, a key by its prefix, each written there (no variable, no
 * document's placeholder). */
bool env_secret_strong(const char *value);
/* env_secret_strong() for a line of any text (code, documents), where
 * prose and examples abound: a URL's password (not a user alone), a
 * webhook, a private key's PEM at the line's start, a header's, a
 * scheme's or a prefixed key only when what follows looks like a key. */
bool env_secret_in_text(const char *line);
/* Whether NAME set to VALUE gives a secret written there: NAME says a
 * secret's (env_secret_name()) and VALUE is written there, no variable,
 * no placeholder, and looks like a key when only NAME's end says so. */
bool env_secret_assigned(const char *name, const char *value);
/* Whether TEXT holds a URL query's parameter named as a key, token, secret
 * or password (?private_token=, ?exaApiKey=, ?key=) with a value written
 * there. */
bool env_query_secret(const char *text);
/* Whether TEXT holds a webhook's URL (Slack's, Discord's, Telegram's bot,
 * Zapier's, Teams'), whose path is its secret. */
bool env_webhook(const char *text);
/* Whether the LEN bytes at S are what a document writes where a secret
 * goes (PASSWORD, YOUR_TOKEN, <token>, xxxx, ..., an example key). */
bool env_placeholder(const char *s, size_t len);
void env_free(char **envp);
/* A variable ringfence sets for the command itself (proxy, CA bundle). */
bool env_is_ours(const char *name);

/* ---- creds.c ------------------------------------------------------------ */

extern const char *const ca_bundle_vars[];
extern const size_t ca_bundle_vars_n;
/* Directories of CA certificates (OpenSSL's), kept as the caller had them. */
#define CA_DIR_VAR "SSL_CERT_DIR"
/* Reads the secrets, makes placeholders and the bundle file (empty: see
 * creds_finish); exits 125 with one line naming the credential on any
 * problem. */
void creds_prepare(struct sandbox *sb);
/* In the supervisor once init is forked: makes the CA and writes the
 * bundle, while init sets up (init starts the command once told, run.c);
 * exits 125 on any problem.  Once per run: a later call does nothing. */
void creds_finish(struct sandbox *sb);
/* In a forked child: wipe the secrets and the CA's key from this copy. */
void creds_forget(struct sandbox *sb);
/* Whether the sandbox could change what PATH leads to: resolving it a
 * component at a time meets a link beneath a write grant, or (unless
 * LINKS_ONLY) a directory on the way or the end beneath one, or what the
 * run_as user may change when root started ringfence. */
bool creds_sandbox_reaches(const struct sandbox *sb, const char *path, bool links_only);
/* Opens PATH (a file: source) with FLAGS, or -1: ELOOP where a link on the
 * way lies beneath a write grant, EAGAIN where what was opened is not where
 * that walk ended (a name changed in between). */
int creds_open_source(const struct sandbox *sb, const char *path, int flags);

/* ---- secretcmd.c -------------------------------------------------------- */

/* Forks the helper that runs source = cmd: commands, when one is named
 * (sb->secret_fd then; else -1).  Exits 125 when it would run as root for
 * a policy another user could have written. */
void secretcmd_start(struct sandbox *sb);
/* Runs credential K's command through the helper and waits: the secret's
 * length in DST (NETPROXY_SECRET_MAX + 1 bytes), or 0 and why not. */
size_t secretcmd_fetch(struct sandbox *sb, size_t k, char *dst, char *why, size_t size);
/* A command's output OUT (N bytes) trimmed in place of blanks and line ends
 * at both ends: its length, or 0 and why it is no secret (empty, a
 * control character). */
size_t secretcmd_check_output(char *out, size_t n, char *why, size_t size);
void creds_release(struct sandbox *sb);
void creds_leave(struct sandbox *sb);

/* ---- run.c ------------------------------------------ */

/* layers.c: what init and the command are given, from SB, just before the
 * fork (borrowing SB's memory; SB's notification filter made here). */
void sandbox_plan_make(struct sandbox *sb, struct sandbox_plan *ret);
int supervisor_run(const struct cli *cli);
/* Loads -p (or the default), applies overrides, expands; dies on error.
 * *ret_home is the home `~` meant (owned by the caller). */
struct policy *supervisor_load_policy(const struct cli *cli, char **ret_home);
/* One line naming file, line and key; exit 125. */
_noreturn_ void die_policy(const struct policy_error *err);
int supervisor_check(const struct cli *cli);
int supervisor_explain(const struct cli *cli);
int supervisor_probe(void);
/* ringfence learn --from AUDIT.jsonl [-p POLICY] (learn.c). */
int supervisor_learn(const struct cli *cli);
/* ringfence learn -o NEW.ini [-p BASE] -- COMMAND (learn.c). */
int supervisor_learn_run(const struct cli *cli);
/* Runs CLI's command under P (taken over, as HOME, also taken over);
 * LEARN: the record a learning run fills (NULL for a plain run). */
int supervisor_run_policy(const struct cli *cli, struct policy *p, char *home,
			  struct learn_rec *learn);

/* ---- learn.c: what a learning run used ------------------------------- */

struct learn_rec;
/* An access to TARGET by PID the widened policy let through (CHECK: the path
 * Landlock judges, canonical, TARGET's directory for a create or remove;
 * RIGHT: one Landlock right); recorded when the base policy would not
 * have allowed it. */
void learn_note_use(struct learn_rec *r, pid_t pid, enum fs_access access, const char *target,
		    const char *check, uint64_t right);
/* An access refused even while learning (deny, protect, outside the
 * widening). */
void learn_note_refused(struct learn_rec *r, enum fs_access access, const char *path,
			const struct fs_verdict *v);
/* A proxy event of the learning run. */
struct netproxy_event;
void learn_note_net(struct learn_rec *r, const struct netproxy_event *ev);
/* A request head the proxy saw in the clear (plain HTTP, or TLS it
 * intercepted), for HOST:PORT. */
void learn_note_head(struct learn_rec *r, const char *host, uint16_t port, bool in_tls,
		     const char *head, size_t len);
/* After sandbox_prepare: what the record needs of the sandbox (its
 * homes, deny paths, private /tmp, the command's environment). */
void learn_begin(struct learn_rec *r, const struct sandbox *sb);

/* ---- learngroup.c: the learned grants, grouped (pure) ----------------- */

enum learn_right {
	LEARN_READ = 1 << 0,
	LEARN_WRITE = 1 << 1,
	LEARN_EXEC = 1 << 2,
};
/* What one path was used for (borrowed strings). */
struct learn_use {
	const char *path; /* canonical; a directory, or a file whose directory may not be granted */
	unsigned rights;  /* enum learn_right */
	unsigned long count;
	const char *why; /* the first access, "create /a/b/c" */
};
/* One proposed line (owned strings). */
struct learn_grant {
	enum learn_right right;
	char *path;
	unsigned long count; /* accesses it covers */
	size_t n_uses;	     /* used paths it covers */
	char *why;	     /* the first of them */
};
/* PATH may be granted: not "/", not a home (one of NEVER) or above one, not
 * at or beneath a deny path (one of DENY). */
bool learn_grantable(const char *path, char *const *never, size_t n_never, char *const *deny,
		     size_t n_deny);
/* The homes no learned grant may be at or above, added to V: HOME (the
 * run's, or NULL), the caller's $HOME, root's and the login users'. */
void learn_homes(char ***v, size_t *n, const char *home);
/* How many components PATH has ("/" 0, "/etc" 1). */
size_t learn_depth(const char *path);
/* Groups USES into grants, per right (write first: a write grant covers a
 * read): a path covered by another is dropped, and neighbours merge into
 * their closest common directory when it is grantable and at least two
 * levels deep (/usr/local, never /usr).  A use that is not grantable
 * itself is left out (the caller lists it).  0, or -ENOMEM. */
int learn_group(const struct learn_use *uses, size_t n, char *const *never, size_t n_never,
		char *const *deny, size_t n_deny, struct learn_grant **ret, size_t *ret_n);
void learn_grants_free(struct learn_grant *g, size_t n);
/* probe.c: at -v, one line per layer a run put in force. */
void sandbox_note_layers(const struct sandbox *sb);

#endif
