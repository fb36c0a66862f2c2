/* SPDX-License-Identifier: MIT */
/*
 * The built-in protect set: what beneath every write grant (and in every
 * repository found there) and in the home directory the host later reads
 * as commands, or as a pointer to other configuration.  protect.c says how
 * each kind is held; ringfence.ini(5) lists the names for operators, and
 * `ringfence explain` prints them (protect_builtin_names()).
 */
#include "protect_internal.h"

/*
 * Beneath every write grant and the home directory.  Whole directories where
 * everything in them is configuration the host trusts (agents' project
 * settings, editors, hook managers); in .git, what git reads as commands or
 * as a pointer to other configuration (gitrepository-layout(5)).
 */
STRING_TABLE_BEGIN
static const struct prot_builtin builtin_tree[] = {
    /* git: hooks, configuration, pointers to other repositories */
    {".git", PROT_GITDIR},
    {".git/config", PROT_FILE},
    {".git/hooks", PROT_DIR_HOLD},
    {".git/commondir", PROT_FILE},
    {".git/config.worktree", PROT_FILE},
    {".git/info", PROT_DIR},
    {".git/objects/info", PROT_DIR}, /* alternates */
    {".git/modules", PROT_DIR},
    {".git/worktrees", PROT_DIR},
    {".git/rebase-merge", PROT_PRESENT},
    {".git/rebase-apply", PROT_PRESENT},
    {".git/sequencer", PROT_PRESENT},
    {".git/remotes", PROT_PRESENT}, /* remotes defined outside the config */
    {".git/branches", PROT_PRESENT},
    {".gitmodules", PROT_FILE},
    /* Mercurial: a repository's hgrc ([hooks] run at the host's `hg
     * status`), and a share's pointer to the repository it uses (and that
     * one's hgrc); Jujutsu's repository config (its editor, pager and
     * fix tools run; an outside review) */
    {".hg/hgrc", PROT_FILE},
    {".hg/hgrc-not-shared", PROT_FILE},
    {".hg/sharedpath", PROT_FILE},
    {".jj/repo/config.toml", PROT_FILE},
    /* hook managers and environment loaders (lefthook reads each of its
     * names, and merges its -local ones; what their commands name is
     * protected too: protect_gather.c, hookconf.c) */
    {".husky", PROT_DIR},
    {".pre-commit-config.yaml", PROT_FILE},
    {"lefthook.yml", PROT_FILE},
    {".lefthook.yml", PROT_FILE},
    {"lefthook.yaml", PROT_FILE},
    {".lefthook.yaml", PROT_FILE},
    {"lefthook-local.yml", PROT_FILE},
    {"lefthook-local.yaml", PROT_FILE},
    {".lefthook-local.yml", PROT_FILE},
    {".lefthook-local.yaml", PROT_FILE},
    {"lefthook.toml", PROT_FILE},
    {".lefthook.toml", PROT_FILE},
    {"lefthook.json", PROT_FILE},
    {".lefthook.json", PROT_FILE},
    {"lefthook.jsonc", PROT_FILE},
    {".lefthook.jsonc", PROT_FILE},
    {"lefthook-local.toml", PROT_FILE},
    {".lefthook-local.toml", PROT_FILE},
    {"lefthook-local.json", PROT_FILE},
    {".lefthook-local.json", PROT_FILE},
    {"lefthook-local.jsonc", PROT_FILE},
    {".lefthook-local.jsonc", PROT_FILE},
    {".config/lefthook.yml", PROT_FILE},
    {".config/lefthook.yaml", PROT_FILE},
    {".config/lefthook.toml", PROT_FILE},
    {".config/lefthook.json", PROT_FILE},
    {".config/lefthook.jsonc", PROT_FILE},
    {".config/lefthook-local.yml", PROT_FILE},
    {".config/lefthook-local.yaml", PROT_FILE},
    {".config/lefthook-local.toml", PROT_FILE},
    {".config/lefthook-local.json", PROT_FILE},
    {".config/lefthook-local.jsonc", PROT_FILE},
    /* lefthook's scripts (source_dir, source_dir_local) */
    {".lefthook", PROT_DIR},
    {".lefthook-local", PROT_DIR},
    {".pre-commit-config.yml", PROT_FILE},
    {".envrc", PROT_FILE},
    /* direnv sources what an allowed .envrc names (source_env_if_exists
     * .envrc.local, the usual form) without asking again */
    {".envrc.local", PROT_FILE},
    /* a dotenv file: Gemini CLI and Qwen Code load the first one upwards
     * from where they start into their own environment (BASH_ENV,
     * LD_PRELOAD, NODE_OPTIONS then reach what they run) */
    {".env", PROT_FILE},
    /* editors */
    {".vscode", PROT_DIR},
    {".idea", PROT_DIR},
    {".devcontainer", PROT_DIR},
    {".zed", PROT_DIR},
    /* editors' and tool managers' project files that run commands
     * (most ask once before trusting a new one) */
    {".nvim.lua", PROT_FILE},
    {".nvimrc", PROT_FILE},
    {".exrc", PROT_FILE},
    {".vimrc", PROT_FILE}, /* Vim's exrc reads it before .exrc */
    {"_vimrc", PROT_FILE},
    {"_exrc", PROT_FILE},
    {".mise.toml", PROT_FILE},
    {"mise.toml", PROT_FILE},
    {"mise.local.toml", PROT_FILE},
    {".mise.local.toml", PROT_FILE},
    {".mise", PROT_DIR},
    {".config/mise", PROT_DIR},
    {".config/mise.toml", PROT_FILE},
    {".config/mise.local.toml", PROT_FILE},
    {"mise/config.toml", PROT_FILE},
    {".tool-versions", PROT_FILE},     /* asdf and mise: a "path:" version runs from there */
    {".helix", PROT_DIR},	       /* Helix: languages.toml names the language servers */
    {".devcontainer.json", PROT_FILE}, /* initializeCommand runs on the host */
    /* interpreters started there: an interactive python imports readline
     * (and rlcompleter) with the working directory first on its path; pdb
     * runs .pdbrc */
    {"readline.py", PROT_FILE},
    {"rlcompleter.py", PROT_FILE},
    {"readline/__init__.py", PROT_FILE},
    {"rlcompleter/__init__.py", PROT_FILE},
    /* and Python 3.13's prompt its colours and its own line editor */
    {"_colorize.py", PROT_FILE},
    {"_colorize/__init__.py", PROT_FILE},
    {"_pyrepl.py", PROT_FILE},
    {"_pyrepl/__init__.py", PROT_FILE},
    /* `python3 -m pip` and `-m venv` (which runs `-m ensurepip`) import
     * from there first; a directory alone is a namespace package, which
     * the real one wins over (a project's venv/ stays its own) */
    {"pip.py", PROT_FILE},
    {"pip/__init__.py", PROT_FILE},
    {"venv.py", PROT_FILE},
    {"venv/__init__.py", PROT_FILE},
    {"ensurepip.py", PROT_FILE},
    {"ensurepip/__init__.py", PROT_FILE},
    {".pdbrc", PROT_FILE},
    {".Rprofile", PROT_FILE}, /* R reads the working directory's first */
    {".irbrc", PROT_FILE},
    /* (an outside review: each run from the working directory at the
     * interpreter's start) irb's other names, pry, R's environment (which
     * names the profile), OCaml's, Elixir's, GHCi's, Octave's and Perl's
     * debugger's start-up files; rbenv-vars' variables (RUBYOPT=-r) for
     * every shimmed ruby there; pylint's own configuration (init-hook);
     * lazygit's per-repository configuration (its custom commands) */
    {"irb.rc", PROT_FILE},
    {"_irbrc", PROT_FILE},
    {"$irbrc", PROT_FILE},
    {".config/irb", PROT_DIR},
    {".pryrc", PROT_FILE},
    {".Renviron", PROT_FILE},
    {".ocamlinit", PROT_FILE},
    {".iex.exs", PROT_FILE},
    {".ghci", PROT_FILE},
    {".octaverc", PROT_FILE},
    {".perldb", PROT_FILE},
    {".rbenv-vars", PROT_FILE},
    {".pylintrc", PROT_FILE},
    {"pylintrc", PROT_FILE},
    {".lazygit.yml", PROT_FILE},
    /* build tools' project configuration that names a program to run:
     * cargo's rustc-wrapper, yarn's yarnPath and yarn-path, rustup's
     * toolchain path (cargo --version runs its binaries), Maven's JVM
     * options (-agentpath: at mvn -v) and extensions, npm's git= and
     * script-shell (read before the user's), pnpm's hooks, bun's preload */
    {".cargo", PROT_DIR},
    {".yarnrc.yml", PROT_FILE},
    {".yarnrc", PROT_FILE},
    {"rust-toolchain.toml", PROT_FILE},
    {"rust-toolchain", PROT_FILE},
    {".mvn", PROT_DIR},
    {".npmrc", PROT_FILE},
    {".pnpmfile.cjs", PROT_FILE},
    {".pnpmfile.mjs", PROT_FILE},
    {"bunfig.toml", PROT_FILE},
    /* Volta's project hooks: a command run after every shimmed node,
     * npm or yarn there (an outside review) */
    {".volta", PROT_DIR},
    /* agents: settings with hooks, commands, MCP server lists */
    {".mcp.json", PROT_FILE},
    {".claude", PROT_DIR},
    {".cursor", PROT_DIR},
    {".gemini", PROT_DIR},
    {".codex", PROT_DIR},
    {".qwen", PROT_DIR},
    {".opencode", PROT_DIR},
    {"opencode.json", PROT_FILE},
    {"opencode.jsonc", PROT_FILE},
    /* opencode's terminal settings: its plugin list, loaded at start from
     * the working directory up to the worktree's top (an outside review,
     * shown running on the host) */
    {"tui.json", PROT_FILE},
    {"tui.jsonc", PROT_FILE},
    {".github/copilot", PROT_DIR},
    {".github/hooks", PROT_DIR}, /* Copilot CLI's hooks */
    /* Copilot's project skills and custom agents (an agent file holds
     * mcp-servers), the repository skills other agents pick on their own
     * (scripts beside their instructions), pnpm's workspace settings
     * (scriptShell, pnpmfile: no longer read from .npmrc) */
    {".github/skills", PROT_DIR},
    {".github/agents", PROT_DIR},
    /* (an outside review) Copilot CLI's project MCP server list, which it
     * starts at launch in a trusted folder, its project language servers
     * and its project extensions (JavaScript it loads) */
    {".github/mcp.json", PROT_FILE},
    {".github/lsp.json", PROT_FILE},
    {".github/extensions", PROT_DIR},
    {".agents/skills", PROT_DIR},
    {"pnpm-workspace.yaml", PROT_FILE},
    /* other agents' and assistants' project settings, rules with hooks,
     * MCP server lists, and commands they run (aider's lint and test) */
    {".aider.conf.yml", PROT_FILE},
    {"crush.json", PROT_FILE},
    {".crush.json", PROT_FILE},
    {".roo", PROT_DIR},
    {".kilocode", PROT_DIR},
    {".amazonq", PROT_DIR},
    {".kiro", PROT_DIR},
    {".continue", PROT_DIR},
    {".clinerules", PROT_DIR},
    {".factory", PROT_DIR},
    {".junie", PROT_DIR},
    {".windsurf", PROT_DIR},
};
STRING_TABLE_END

/* In the home directory only: what the user's shell, session, git and
 * agents run or load.  Agent state directories that are write grants in the
 * shipped policies are protected entry by entry. */
STRING_TABLE_BEGIN
static const struct prot_builtin builtin_home[] = {
    {".bashrc", PROT_FILE},
    {".bash_aliases", PROT_FILE}, /* Debian's .bashrc sources it */
    {".bash_completion", PROT_FILE},
    {".local/share/bash-completion", PROT_DIR},
    {"bin", PROT_DIR}, /* Debian's .profile puts it first on PATH */
    {".bash_profile", PROT_FILE},
    {".bash_login", PROT_FILE},
    {".bash_logout", PROT_FILE},
    {".profile", PROT_FILE},
    {".zshrc", PROT_FILE},
    {".zshenv", PROT_FILE},
    {".zprofile", PROT_FILE},
    {".zlogin", PROT_FILE},
    {".zlogout", PROT_FILE},
    {".config/fish", PROT_DIR},
    {".inputrc", PROT_FILE},
    {".tmux.conf", PROT_FILE},
    {".config/tmux", PROT_DIR},
    {".vim", PROT_DIR},
    {".config/nvim", PROT_DIR},
    {".local/share/nvim/site", PROT_DIR},
    {".emacs", PROT_FILE},
    {".emacs.el", PROT_FILE}, /* (load "~/.emacs") tries it first */
    {".emacs.elc", PROT_FILE},
    {".emacs.d", PROT_DIR},
    {".oh-my-zsh", PROT_DIR},
    {".wezterm.lua", PROT_FILE},
    {".config/wezterm", PROT_DIR},
    /* programs' start-up files that hold commands: less's key file (its
     * LESSOPEN runs at every less, man's and git's pager), Debian's
     * sensible-editor, gdb, pdb, IPython and Jupyter (Python programs),
     * psql, R, irb */
    {".lesskey", PROT_FILE},
    {".config/lesskey", PROT_FILE},
    {".selected_editor", PROT_FILE},
    {".gdbinit", PROT_FILE},
    {".config/gdb", PROT_DIR},
    {".ipython", PROT_DIR},
    {".jupyter", PROT_DIR},
    {".psqlrc", PROT_FILE},
    {".Rprofile", PROT_FILE},
    {".irbrc", PROT_FILE},
    /* pry's, Jujutsu's (its pager and editor run), lldb's, pnpm's and
     * lazygit's user configuration (an outside review) */
    {".config/pry", PROT_DIR},
    {".config/jj", PROT_DIR},
    {".jjconfig.toml", PROT_FILE},
    {".lldbinit", PROT_FILE},
    {".config/pnpm", PROT_DIR},
    {".config/lazygit", PROT_DIR},
    {".pam_environment", PROT_FILE},
    {".xprofile", PROT_FILE},
    {".xsessionrc", PROT_FILE},
    {".xinitrc", PROT_FILE},
    {".xsession", PROT_FILE},
    {".gitconfig", PROT_FILE},
    {".config/git", PROT_DIR},
    {".config/husky", PROT_DIR},
    {".config/direnv", PROT_DIR},
    {".local/share/direnv", PROT_DIR},
    {".ssh/authorized_keys", PROT_FILE},
    {".ssh/config", PROT_FILE},
    {".ssh/rc", PROT_FILE},
    {".config/autostart", PROT_DIR},
    {".config/systemd", PROT_DIR},
    {".local/share/systemd", PROT_DIR},
    {".config/user-tmpfiles.d", PROT_DIR},
    {".local/share/dbus-1", PROT_DIR},
    {".local/share/applications", PROT_DIR},
    {".config/plasma-workspace", PROT_DIR},
    {".config/pipewire", PROT_DIR},
    {".config/environment.d", PROT_DIR},
    {".config/ringfence", PROT_DIR},
    {".config/Code/User", PROT_DIR},
    {".local/bin", PROT_DIR},
    /* Python's user site-packages (a .pth there runs at every python's
     * start) */
    {".local/lib", PROT_DIR},
    {".cargo/config.toml", PROT_FILE},
    {".cargo/config", PROT_FILE}, /* read before config.toml */
    {".cargo/bin", PROT_DIR},
    {".config/go/env", PROT_FILE}, /* GOFLAGS=-toolexec for every go */
    /* where interpreters, package managers and the agents' CLIs are
     * installed per user: what the host runs as `node`, `python`, `claude` */
    {".npm-global", PROT_DIR},
    {".nvm", PROT_DIR},
    {".volta", PROT_DIR},
    {".bun", PROT_DIR},
    {".deno", PROT_DIR},
    {".pyenv", PROT_DIR},
    {".rustup", PROT_DIR},
    {".asdf", PROT_DIR},
    {".sdkman", PROT_DIR},
    {".local/share/pipx", PROT_DIR},
    {".local/share/uv", PROT_DIR},
    {".local/share/pnpm", PROT_DIR},
    {".local/share/fnm", PROT_DIR},
    {".local/share/mise", PROT_DIR},
    {".config/pip", PROT_DIR},
    {".pip", PROT_DIR},
    {".npmrc", PROT_FILE},
    {".npm/_npx", PROT_DIR},
    {".cache/pre-commit", PROT_DIR},
    {".cache/node/corepack", PROT_DIR},
    /* go's build cache, whose outputs go links without building again;
     * GOPATH's and yarn's global bin directories, on many a PATH */
    {".cache/go-build", PROT_DIR},
    {"go/bin", PROT_DIR},
    {".yarn/bin", PROT_DIR},
    /* what shells' start-up files source: powerlevel10k's, fzf's; and
     * starship's prompt configuration, whose custom modules run commands */
    {".p10k.zsh", PROT_FILE},
    {".fzf.bash", PROT_FILE},
    {".fzf.zsh", PROT_FILE},
    {".config/starship.toml", PROT_FILE},
    /* Claude Code: ~/.claude is its state, but settings (hooks), commands,
     * agents, skills and plugins run on the host; ~/.claude.json holds
     * mcpServers */
    {".claude.json", PROT_FILE},
    {".claude/settings.json", PROT_FILE},
    {".claude/settings.local.json", PROT_FILE},
    {".claude/commands", PROT_DIR},
    {".claude/agents", PROT_DIR},
    {".claude/hooks", PROT_DIR},
    {".claude/skills", PROT_DIR},
    {".claude/plugins", PROT_DIR},
    /* the launcher and runtime of a local or native install, which the
     * host's `claude` runs */
    {".claude/local", PROT_DIR},
    {".local/share/claude", PROT_DIR},
    /* Codex (mcp_servers, notify), Gemini CLI and Qwen Code (mcpServers,
     * hooks), opencode, Copilot CLI, Cursor */
    {".codex/config.toml", PROT_FILE},
    {".gemini/settings.json", PROT_FILE},
    {".gemini/commands", PROT_DIR},
    {".qwen/settings.json", PROT_FILE},
    {".config/opencode", PROT_DIR},
    {".copilot/mcp-config.json", PROT_FILE},
    {".copilot/config.json", PROT_FILE},
    {".copilot/settings.json", PROT_FILE},
    {".copilot/lsp-config.json", PROT_FILE},
    {".copilot/hooks", PROT_DIR},
    {".copilot/installed-plugins", PROT_DIR},
    {".copilot/agents", PROT_DIR},
    {".copilot/skills", PROT_DIR},
    {".copilot/copilot-instructions.md", PROT_FILE},
    /* Copilot CLI's launcher runs the newest runtime it finds in either */
    {".copilot/pkg", PROT_DIR},
    {".cache/copilot/pkg", PROT_DIR},
    {".local/share/opencode/bin", PROT_DIR}, /* its downloaded tools */
    {".local/share/opencode/plugin", PROT_DIR},
    {".cache/opencode", PROT_DIR}, /* the provider packages it loads */
    {".cursor/mcp.json", PROT_FILE},
    {".cursor/hooks.json", PROT_FILE},
    /* what shells source beside their rc files: Fedora's ~/.bashrc reads
     * every file of ~/.bashrc.d; zsh's files where ZDOTDIR points them */
    {".bashrc.d", PROT_DIR},
    {".config/zsh", PROT_DIR},
    /* the command lines the host's everyday tools run from their own
     * configuration (an outside review of this session: where the default
     * denies the directory, a deny absent at the start is not held without
     * a mount namespace, and these files are made there): aws's
     * credential_process, kubectl's exec credential plugin, docker's
     * plugin directories and credential helpers, gh's shell aliases,
     * gpg-agent's pinentry (a signed commit), Mercurial's and Subversion's
     * hooks and diff commands, terraform's provider overrides, gradle's
     * init scripts and JVM options, mvn's ~/.mavenrc (sourced by its
     * script) and Maven 4's user extensions, screen's, sqlite3's and
     * mysql's start-up commands, mailcap's viewers, podman's engine
     * configuration, conda's and gem's package sources */
    {".aws/config", PROT_FILE},
    {".kube/config", PROT_FILE},
    {".docker/config.json", PROT_FILE},
    {".docker/cli-plugins", PROT_DIR},
    {".config/gh/config.yml", PROT_FILE},
    {".gnupg/gpg-agent.conf", PROT_FILE},
    {".gnupg/gpg.conf", PROT_FILE},
    {".hgrc", PROT_FILE},
    {".config/hg", PROT_DIR},
    {".subversion/config", PROT_FILE},
    {".terraformrc", PROT_FILE},
    {".terraform.d/plugins", PROT_DIR},
    {".gradle/init.d", PROT_DIR},
    {".gradle/init.gradle", PROT_FILE},
    {".gradle/init.gradle.kts", PROT_FILE},
    {".gradle/gradle.properties", PROT_FILE},
    {".mavenrc", PROT_FILE},
    {".m2/extensions.xml", PROT_FILE},
    {".m2/settings.xml", PROT_FILE},
    {".screenrc", PROT_FILE},
    {".sqliterc", PROT_FILE},
    {".my.cnf", PROT_FILE},
    {".mailcap", PROT_FILE},
    {".config/containers/containers.conf", PROT_FILE},
    {".condarc", PROT_FILE},
    {".gemrc", PROT_FILE},
    /* more that start-up files run or source, and that editors, terminals
     * and desktops run at their start (an outside review: made in a home
     * started in, they ran at the host's next shell, tmux or editor):
     * other shells' rc files, toolchains' environment scripts, fzf's key
     * bindings and tmux's plugins (sourced by protected rc files), window
     * managers' and terminals' configurations (exec lines, shell
     * programs), editors' plugin managers' trees and configurations,
     * extensions, other agents' MCP lists */
    {".kshrc", PROT_FILE},
    {".mkshrc", PROT_FILE},
    {".tcshrc", PROT_FILE},
    {".cshrc", PROT_FILE},
    {".login", PROT_FILE},
    {".config/nushell", PROT_DIR},
    {".config/powershell", PROT_DIR},
    {".local/share/fish/vendor_conf.d", PROT_DIR},
    {".cargo/env", PROT_FILE},
    {".ghcup", PROT_DIR},
    {".opam", PROT_DIR},
    {".fzf", PROT_DIR},
    {".tmux/plugins", PROT_DIR},
    {".config/i3", PROT_DIR},
    {".config/sway", PROT_DIR},
    {".config/hypr", PROT_DIR},
    {".config/kitty", PROT_DIR},
    {".config/alacritty", PROT_DIR},
    {".alacritty.toml", PROT_FILE},
    {".alacritty.yml", PROT_FILE},
    {".local/share/nvim/lazy", PROT_DIR},
    {".config/emacs", PROT_DIR},
    {".config/vim", PROT_DIR},
    {".gvimrc", PROT_FILE},
    {".config/helix", PROT_DIR},
    {".config/zed", PROT_DIR},
    {".config/Cursor/User", PROT_DIR},
    {".config/VSCodium/User", PROT_DIR},
    {".vscode/extensions", PROT_DIR},
    {".vscode-oss/extensions", PROT_DIR},
    {".cursor/extensions", PROT_DIR},
    {".vscode-server", PROT_DIR},
    {".bunfig.toml", PROT_FILE},
    {".config/goose", PROT_DIR},
    {".codeium/windsurf", PROT_DIR},
    {".continue", PROT_DIR},
};
STRING_TABLE_END

const struct prot_builtin *protect_builtins(bool home, size_t *n)
{
	*n = home ? ARRAY_SIZE(builtin_home) : ARRAY_SIZE(builtin_tree);
	return home ? builtin_home : builtin_tree;
}

/* The length of NM's first component. */
static size_t first_len(const char *nm)
{
	const char *slash = strchr(nm, '/');

	return slash ? (size_t)(slash - nm) : strlen(nm);
}

static int by_first(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = first_len(x), ly = first_len(y);
	int c = strncmp(x, y, lx < ly ? lx : ly);

	return c ? c : (lx > ly) - (lx < ly);
}

bool protect_builtin_dir(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtin_tree); i++)
		if (strcmp(builtin_tree[i].path, name) == 0)
			return builtin_tree[i].kind != PROT_FILE;
	return false;
}

bool protect_builtin_first(const char *name)
{
	/* the tree's names sorted by their first component, made once; a
	 * walk asks for every entry of every directory it enters */
	static const char *sorted[ARRAY_SIZE(builtin_tree)];
	static size_t n;
	const char *key = name;

	if (!n) {
		for (size_t i = 0; i < ARRAY_SIZE(builtin_tree); i++)
			if (strncmp(builtin_tree[i].path, ".git", 4) != 0 ||
			    (builtin_tree[i].path[4] && builtin_tree[i].path[4] != '/'))
				sorted[n++] = builtin_tree[i].path;
		qsort(sorted, n, sizeof(*sorted), by_first);
	}
	if (strchr(name, '/'))
		return false;
	return bsearch(&key, sorted, n, sizeof(*sorted), by_first) != NULL;
}

size_t protect_builtin_names(bool home, const char ***ret)
{
	static const char *tree[ARRAY_SIZE(builtin_tree)], *hm[ARRAY_SIZE(builtin_home)];
	const struct prot_builtin *t = home ? builtin_home : builtin_tree;
	size_t n = home ? ARRAY_SIZE(builtin_home) : ARRAY_SIZE(builtin_tree);
	const char **out = home ? hm : tree;

	for (size_t i = 0; i < n; i++)
		out[i] = t[i].path;
	*ret = out;
	return n;
}
