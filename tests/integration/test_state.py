# SPDX-License-Identifier: MIT
"""State of the command's own: `create` makes what a CLI needs on a fresh
home, a missing grant is said, and `private` stand-ins persist from run to
run without ever being written back where the host's own CLI reads.  Every
attack here plants a symlink where ringfence walks or copies."""
import json
import os
import socket
import shutil
import subprocess
import tempfile
import threading

import pytest

from test_protect import claude_policy

NOBODY = 65534


def home(box):
    """A fresh home for the box's user (the box's cwd stays the project)."""
    h = box.path("home")
    if not os.path.isdir(h):
        os.mkdir(h, 0o755)
        if box.user == "nobody":
            os.chown(h, NOBODY, NOBODY)
    return h


def run(box, policy, script, extra_env=None):
    env = {"HOME": home(box)}
    env.update(extra_env or {})
    return box.run(["sh", "-c", script], policy=policy, env=env)


def put_files(top, files):
    """Each of FILES (a path beneath TOP: its text) written, its
    directories made."""
    for rel, text in files.items():
        p = os.path.join(top, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def owner(box):
    return NOBODY if box.user == "nobody" else 0


def state_dir(box, name="agent"):
    return os.path.join(home(box), ".local", "state", "ringfence", name)


# ---- create ---------------------------------------------------------------


def test_create_makes_missing_dirs_before_granting(box):
    """A CLI that mkdirs ~/.gemini on a fresh home dies without it."""
    pol = box.policy("""
        [filesystem]
        create = ~/.gemini ~/.local/share/opencode
        write = ~/.gemini ~/.local/share/opencode
        """, name="agent.ini")
    r = run(box, pol, "mkdir ~/.gemini/tmp && touch ~/.local/share/opencode/x")
    assert r.returncode == 0, r.stderr
    for d in (".gemini", ".local", ".local/share", ".local/share/opencode"):
        st = os.lstat(os.path.join(home(box), d))
        assert st.st_uid == owner(box), d
        assert st.st_mode & 0o777 == 0o700, d
    assert os.path.isdir(os.path.join(home(box), ".gemini", "tmp"))
    assert "does not exist" not in r.stderr


def test_create_follows_no_symlink(box):
    """~/.gemini planted as a link to a directory elsewhere: nothing is made
    there and the command never starts."""
    outside = box.path("outside")
    os.mkdir(outside)
    os.chmod(outside, 0o777)
    os.symlink(outside, os.path.join(home(box), ".gemini"))
    pol = box.policy("""
        [filesystem]
        create = ~/.gemini/tmp
        """, name="agent.ini")
    r = run(box, pol, "echo started")
    assert r.returncode == 125, r.stderr
    assert "started" not in r.stdout
    assert "filesystem.create" in r.stderr and "agent.ini:" in r.stderr
    assert os.listdir(outside) == []
    # positive control: the same policy with the link gone makes it
    os.unlink(os.path.join(home(box), ".gemini"))
    r = run(box, pol, "echo started")
    assert r.returncode == 0, r.stderr
    assert os.path.isdir(os.path.join(home(box), ".gemini", "tmp"))


def test_create_outside_home_and_project_is_refused(box):
    pol = box.policy("""
        [filesystem]
        create = /var/tmp/rf-create-test
        """, name="agent.ini")
    r = run(box, pol, "echo started")
    assert r.returncode == 125
    assert "agent.ini:" in r.stderr and "filesystem.create" in r.stderr
    assert not os.path.exists("/var/tmp/rf-create-test")
    # positive control: beneath the project it is made
    pol = box.policy("""
        [filesystem]
        create = ${CWD}/build/out
        """, name="agent.ini")
    r = run(box, pol, "touch build/out/x")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(box.path("work", "build", "out", "x"))


def test_missing_grant_said_once_optional_silent(box):
    pol = box.policy("""
        [filesystem]
        write = ~/.codex ~/.codex
        read = ?~/.nvm
        """, name="agent.ini")
    r = run(box, pol, "true")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if "does not exist" in l]
    assert len(lines) == 1, r.stderr
    assert os.path.join(home(box), ".codex") in lines[0]
    assert lines[0].count(".codex") == 1
    assert ".nvm" not in r.stderr


# ---- private stand-ins ------------------------------------------------------


def private_policy(box, body="", ns_off_env=True):
    """~/.claude.json (a file) and ~/.codex/ (a directory) private; without
    namespaces the directory is reached through CODEX_HOME, and the file,
    which no variable can move, is read-only (best-effort)."""
    extra = "private_env = CODEX_HOME=~/.codex\n" if ns_off_env else ""
    head = ""
    if box.namespaces == "off" and ns_off_env:
        head = "[sandbox]\nenforcement = best-effort\n"
    return box.policy(head + """
        [filesystem]
        private = ~/.claude.json ~/.codex/
        """ + extra + body, name="agent.ini")


def test_private_persists_and_never_reaches_the_host(box):
    h = home(box)
    with open(os.path.join(h, ".claude.json"), "w") as f:
        f.write('{"mcpServers": {}}')
    os.chown(os.path.join(h, ".claude.json"), owner(box), owner(box))
    pol = private_policy(box)
    codex = "${CODEX_HOME:-$HOME/.codex}"
    plant = ('{"mcpServers": {"evil": {"command": "/tmp/x"}}}')
    if box.namespaces == "off":
        # no mount namespace: ~/.claude.json is read-only, the directory
        # is the variable's
        r = run(box, pol, "echo '%s' > ~/.claude.json" % plant)
        assert r.returncode != 0
        r = run(box, pol, "echo run1 > %s/config.toml && cat %s/config.toml" % (codex, codex))
        assert r.returncode == 0, r.stderr
        r = run(box, pol, "cat %s/config.toml; echo $CODEX_HOME" % codex)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "run1"
        assert r.stdout.splitlines()[1].startswith(state_dir(box))
    else:
        r = run(box, pol, "cat ~/.claude.json; echo '%s' > ~/.claude.json && "
                          "echo run1 > ~/.codex/config.toml" % plant)
        assert r.returncode == 0, r.stderr
        # not seeded: the stand-in started empty
        assert r.stdout == ""
        r = run(box, pol, "cat ~/.claude.json ~/.codex/config.toml")
        assert r.returncode == 0, r.stderr
        assert "evil" in r.stdout and "run1" in r.stdout
        with open(os.path.join(state_dir(box), ".claude.json")) as f:
            assert "evil" in f.read()
    # the host's copy as it was; the absent one not left behind
    with open(os.path.join(h, ".claude.json")) as f:
        assert f.read() == '{"mcpServers": {}}'
    assert not os.path.exists(os.path.join(h, ".codex"))
    st = os.lstat(state_dir(box))
    assert st.st_uid == owner(box) and st.st_mode & 0o777 == 0o700


def test_private_without_namespace_needs_private_env(box):
    if box.namespaces != "off":
        pytest.skip("without a mount namespace only")
    pol = private_policy(box, ns_off_env=False)
    r = run(box, pol, "echo started")
    assert r.returncode == 125
    assert "started" not in r.stdout
    assert "agent.ini:" in r.stderr and "private_env" in r.stderr
    # best-effort: said, and the path is read-only (not written to the
    # host) under write = ~; a name the built-in protect list does not
    # hold, so this read-only is private's own
    pol = box.policy("""
        [sandbox]
        enforcement = best-effort
        [filesystem]
        write = ~
        private = ~/.myagent.json ~/.myagent/
        """, name="agent.ini")
    for n in (".myagent.json", ".beside"):
        with open(os.path.join(home(box), n), "w") as f:
            f.write("host")
        os.chown(os.path.join(home(box), n), owner(box), owner(box))
    r = run(box, pol, "echo started; echo planted > ~/.myagent.json; mkdir ~/.myagent; "
                      "echo planted > ~/.beside && echo beside")
    assert "started" in r.stdout
    # positive control: write = ~ holds beside it (an existing file: the
    # home itself takes no new entry once a carve-out lies in it)
    assert "beside" in r.stdout, r.stderr
    assert "out of reach, not private" in r.stderr, r.stderr
    with open(os.path.join(home(box), ".myagent.json")) as f:
        assert f.read() == "host"
    assert not os.path.exists(os.path.join(home(box), ".myagent"))


def test_the_hosts_private_path_is_unreadable_without_a_namespace(box):
    """Outside review: without a mount namespace a private PATH was left
    read-only, and codex.ini's `exec = ~/.codex` reads: the command read
    the host's ~/.codex/auth.json, which holds the real key the policy's
    placeholder stands for.  It is out of reach now; the stand-in, through
    CODEX_HOME, is the command's (the control)."""
    if box.namespaces != "off":
        pytest.skip("without a mount namespace only (with one, the stand-in is bound there)")
    h = home(box)
    os.makedirs(os.path.join(h, ".codex"))
    # auth.json, and a file the default's denies do not name (they now
    # deny auth.json too: this is the private path's own protection)
    for name in ("auth.json", "history.jsonl"):
        with open(os.path.join(h, ".codex", name), "w") as f:
            f.write('{"OPENAI_API_KEY": "sk-HOSTS-REAL-KEY"}')
    for p in (".codex", ".codex/auth.json", ".codex/history.jsonl"):
        os.chown(os.path.join(h, p), owner(box), owner(box))
    pol = box.policy("""
        [filesystem]
        exec = ~/.codex
        private = ~/.codex/
        private_env = CODEX_HOME=~/.codex
        """, name="agent.ini")
    r = run(box, pol, "cat ~/.codex/auth.json ~/.codex/history.jsonl; ls ~/.codex; "
                      "echo mine > $CODEX_HOME/auth.json && cat $CODEX_HOME/auth.json")
    assert "sk-HOSTS-REAL-KEY" not in r.stdout and "auth.json" not in r.stdout, r.stdout
    assert "mine" in r.stdout, r.stdout + r.stderr


SIGN_INS = {".claude/.credentials.json": "CLAUDE-OAUTH", ".claude.json": "CLAUDE-APIKEY",
            ".codex/auth.json": "CODEX-KEY", ".gemini/oauth_creds.json": "GEMINI-OAUTH",
            ".qwen/oauth_creds.json": "QWEN-OAUTH", ".config/github-copilot/apps.json": "COPILOT",
            ".local/share/opencode/auth.json": "OPENCODE-KEY"}


def put_sign_ins(box):
    h = home(box)
    for rel, secret in list(SIGN_INS.items()) + [(".beside", "BESIDE")]:
        p = os.path.join(h, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write('{"token": "%s-REAL-0123456789"}' % secret)
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)


def test_the_agents_sign_ins_are_denied_in_a_granted_home(box):
    """Outside review of the agent policies: started in the home (or with
    it granted), every policy read the other agents' sign-ins and keys;
    default.ini denied SSH and cloud keys only.  A file beside them is read
    (the control)."""
    put_sign_ins(box)
    pol = box.policy("[filesystem]\nwrite = ~\n", name="agent.ini")
    r = run(box, pol, "cd; cat %s .beside; echo done" % " ".join(SIGN_INS))
    assert "done" in r.stdout and "BESIDE-REAL" in r.stdout, r.stdout + r.stderr
    assert "-REAL-" not in r.stdout.replace("BESIDE-REAL", ""), r.stdout


def test_a_seeded_copy_holds_no_denied_file_and_the_agents_own_sign_in(box):
    """The denies above are not masked inside an agent's own private copy
    (its sign-in there is its own), so what they name is not copied into
    it: a review found `private_seed = ~/.config/` carrying gh's token,
    and the host's Claude sign-in came along into claude-code.ini's copy.
    A sign-in the agent makes inside stays readable to it; another agent's
    is denied (the control); what is not denied is seeded (settings)."""
    if box.namespaces == "off":
        pytest.skip("a private copy is bound at its path with a mount namespace only")
    put_sign_ins(box)
    h = home(box)
    # (settings files strict JSON: the seed copies no other by those names)
    for rel, text in (("gh/hosts.yml", "GH-HOST-TOKEN"), ("app/settings.json", '["SEEDED"]')):
        p = os.path.join(h, ".config", rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    with open(os.path.join(h, ".claude", "settings.json"), "w") as f:
        f.write('{"k": "CLAUDE-SETTINGS"}')
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    pol = box.policy("[filesystem]\nprivate_seed = ~/.claude/ ~/.config/\nread = ~/.codex\n",
                     name="agent.ini")
    r = run(box, pol, "cat ~/.claude/.credentials.json ~/.config/gh/hosts.yml; "
                      "cat ~/.claude/settings.json ~/.config/app/settings.json; "
                      "echo INSIDE > ~/.claude/.credentials.json; cat ~/.codex/auth.json; "
                      "echo done")
    assert "done" in r.stdout, r.stdout + r.stderr
    assert "CLAUDE-OAUTH-REAL" not in r.stdout and "GH-HOST-TOKEN" not in r.stdout, r.stdout
    assert "CODEX-KEY" not in r.stdout, r.stdout
    assert "CLAUDE-SETTINGS" in r.stdout and "SEEDED" in r.stdout, r.stdout + r.stderr
    r = run(box, pol, "cat ~/.claude/.credentials.json")
    assert "INSIDE" in r.stdout, r.stdout + r.stderr


def test_claude_codes_seed_leaves_out_secrets_and_the_hosts_sessions(box):
    """An outside review: claude-code.ini's seed copied the host's whole
    ~/.claude into the agent's reach: settings.json's "env" (where Claude
    Code's documentation puts ANTHROPIC_AUTH_TOKEN), every past session's
    transcript in every project, the typed history, an IDE lock's token.
    They are left out (a settings file, or a copy left beside one, that
    is not strict JSON whole);
    settings.json's other keys and variables come along, and what the
    sandbox writes in its own projects/ and ide/ persists to the next run
    (the controls), never reaching the host's."""
    h = home(box)
    files = {
        "settings.json": '{"env": {"ANTHROPIC_AUTH_TOKEN": "sk-ant-REAL-GATEWAY-TOKEN-123", '
                         '"DEBUG_LEVEL": "2"}, "model": "opus-SEEDED"}\n',
        "settings.local.json": '// a comment\n{"env": {"ANTHROPIC_API_KEY": "sk-ant-LOCAL-REAL"}}',
        "settings.json.bak": '{"env": {"AWS_BEARER_TOKEN_BEDROCK": "sk-ant-REAL-OLD"}}',
        "projects/-home-u-secretproj/abc.jsonl":
            '{"content": "DATABASE_URL=postgres://admin:hunter2@prod-db/app"}\n',
        "ide/1234.lock": '{"authToken": "IDE-LOCK-TOKEN"}',
        "history.jsonl": '{"display": "TYPED-PROMPT"}\n',
        "shell-snapshots/snapshot.sh": "export SNAPSHOT=1\n",
        "commands/review.md": "SEEDED-COMMAND\n",
    }
    put_files(os.path.join(h, ".claude"), files)
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    pol = claude_policy(box)
    r = run(box, pol, 'cd "$CLAUDE_CONFIG_DIR" && grep -r "" .; '
                      "mkdir -p projects/mine ide && echo SANDBOX-SESSION > projects/mine/s.jsonl "
                      "&& echo '{}' > ide/9.lock && echo wrote")
    assert "wrote" in r.stdout, r.stdout + r.stderr
    for secret in ("sk-ant-REAL", "sk-ant-LOCAL", "hunter2", "IDE-LOCK-TOKEN", "TYPED-PROMPT",
                   "SNAPSHOT"):
        assert secret not in r.stdout and secret not in r.stderr, (secret, r.stdout)
    assert "opus-SEEDED" in r.stdout and "DEBUG_LEVEL" in r.stdout, r.stdout + r.stderr
    assert "SEEDED-COMMAND" in r.stdout, r.stdout
    assert "settings.json: ANTHROPIC_AUTH_TOKEN may hold a secret" in r.stderr, r.stderr
    assert "settings.local.json is not strict JSON" in r.stderr, r.stderr
    with open(os.path.join(state_dir(box, "claude-code"), ".claude", "settings.json")) as f:
        assert json.load(f) == {"env": {"DEBUG_LEVEL": "2"}, "model": "opus-SEEDED"}
    r = run(box, pol, 'cat "$CLAUDE_CONFIG_DIR/projects/mine/s.jsonl" "$CLAUDE_CONFIG_DIR/ide/9.lock"')
    assert r.stdout == "SANDBOX-SESSION\n{}\n", r.stdout + r.stderr
    assert os.listdir(os.path.join(h, ".claude", "projects")) == ["-home-u-secretproj"]
    assert os.listdir(os.path.join(h, ".claude", "ide")) == ["1234.lock"]


def test_claude_codes_seed_leaves_out_secrets_outside_the_env(box):
    """Hole (an outside review): only settings.json's top-level "env" was
    scrubbed; a Stop hook's command with a webhook's token, a status
    line's Bearer header, an MCP server's env and arguments (in
    settings.json, in .mcp.json), a plugin marketplace's URL with a
    token and apiKeyHelper's `echo KEY` came into the sandbox as they
    were.  Blanked now; the control: the rest of each file comes along."""
    h = home(box)
    files = {
        "settings.json": json.dumps({
            "model": "opus-SEEDED",
            "apiKeyHelper": "echo sk-ant-api03-HELPERKEY",
            "hooks": {"Stop": [{"hooks": [{"type": "command", "command":
                                           "curl https://hooks.example/x?token=HOOKSECRET1"}]}]},
            "statusLine": {"type": "command",
                           "command": "curl -H 'Authorization: Bearer LINESECRET2' x"},
            "mcpServers": {"gh": {"command": "gh-mcp",
                                  "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_MCPSECRET3"}}}}),
        ".mcp.json": json.dumps({"mcpServers": {"db": {"command": "pg-mcp", "args": [
            "--keep", "postgresql://admin:PGSECRET4@db/app"]}}}),
        "plugins/known_marketplaces.json": json.dumps({"m": {"source": {
            "url": "https://x-access-token:ghs_MARKETSECRET5@github.com/o/r.git"}}}),
    }
    put_files(os.path.join(h, ".claude"), files)
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    r = run(box, claude_policy(box), 'cd "$CLAUDE_CONFIG_DIR" && grep -r "" .; echo ran')
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    for secret in ("HELPERKEY", "HOOKSECRET1", "LINESECRET2", "MCPSECRET3", "PGSECRET4",
                   "MARKETSECRET5"):
        assert secret not in r.stdout and secret not in r.stderr, (secret, r.stdout)
    for kept in ("opus-SEEDED", "gh-mcp", "pg-mcp", "--keep", "known_marketplaces.json"):
        assert kept in r.stdout, (kept, r.stdout + r.stderr)


def test_a_seeds_git_configuration_logs_and_secret_names_are_left_out(box):
    """Hole (a review of the last stop's seed): a plugin marketplace's clone
    came with its .git/config, whose remote's URL held the token the
    marketplace list's was blanked of; a .jsonl file and a secret that is
    a JSON object's name were copied as they were.  The configuration is
    left out now (said), each line of a .jsonl scrubbed, the name blanked;
    the control: the rest comes along, and the clone is still git's."""
    h = home(box)
    files = {
        "plugins/marketplaces/m/.git/config":
            "[core]\n\trepositoryformatversion = 0\n[remote \"origin\"]\n\turl = "
            "https://x-access-token:ghs_GITCFGSECRET6@github.com/o/r.git\n",
        "plugins/marketplaces/m/README.md": "MARKET-README\n",
        "plugins/log.jsonl": json.dumps({"env": {"ANTHROPIC_API_KEY": "sk-ant-api03-JSONLSECRET7"}})
        + "\n\n" + json.dumps({"model": "opus-LINE"}) + "\n",
        "plugins/tokens.json": json.dumps({"ghp_NAMESECRET8abcdefgh": {"repo": "r"},
                                           "keep": "KEPT-NAME"}),
        # (a second review) a hook's script, a .env, an MCP server's YAML,
        # a Python hook's webhook, a script without a suffix
        "hooks/notify.sh": "#!/bin/sh\ncurl -d @- https://hooks.slack.com/services/T0/B0/"
                           "HOOKSECRET10\n",
        "hooks/notify.py": "import json\nSLACK = 'https://hooks.slack.com/services/T1/B1/"
                           "PYSECRET13'\n",
        "hooks/ntfy": "#!/bin/sh\ncurl -H 'X-Ntfy-Token: NTFYSECRET14' -d \"$1\" https://ntfy.example/\n",
        "hooks/README.md": "Run it as `tool --token TOKEN` (README-KEPT).\n",
        ".env": "OPENAI_API_KEY=ENVSECRET11abcdef\n",
        "mcp/config.yaml": "server:\n  url: https://mcp.example.com/\n  token: YAMLSECRET12\n",
        # their controls: a variable's name, settings without a secret
        "hooks/ok.sh": "#!/bin/sh\ncurl -H \"Authorization: Bearer $TOKEN\" https://h.example/ # HOOK-OK\n",
        "mcp/other.yaml": "server:\n  model: opus-YAML\n  token: ${MCP_TOKEN}\n",
    }
    put_files(os.path.join(h, ".claude"), files)
    # (a review) a repository's git directory by another name: a bare one
    bare = os.path.join(h, ".claude", "plugins", "cache", "mkbare")
    os.makedirs(bare)
    subprocess.run(["git", "init", "-q", "--bare", bare], check=True, capture_output=True)
    subprocess.run(["git", "-C", bare, "config", "remote.origin.url",
                    "https://oauth2:glpat-BARESECRET9abcdef@gitlab.example/o/mk.git"], check=True)
    git = os.path.join(h, ".claude", "plugins", "marketplaces", "m")
    subprocess.run(["git", "-C", git, "init", "-q"], check=True, capture_output=True)
    subprocess.run(["git", "-C", git, "config", "remote.origin.url",
                    "https://x-access-token:ghs_GITCFGSECRET6@github.com/o/r.git"], check=True)
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    r = run(box, claude_policy(box), 'cd "$CLAUDE_CONFIG_DIR" && grep -r "" plugins hooks mcp .env; '
            "git -C plugins/marketplaces/m rev-parse --git-dir; echo ran")
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    for secret in ("GITCFGSECRET6", "JSONLSECRET7", "NAMESECRET8", "BARESECRET9", "HOOKSECRET10",
                   "ENVSECRET11", "YAMLSECRET12", "PYSECRET13", "NTFYSECRET14"):
        assert secret not in r.stdout and secret not in r.stderr, (secret, r.stdout)
    for kept in ("MARKET-README", "opus-LINE", "KEPT-NAME", "\n.git\n", "HOOK-OK", "opus-YAML",
                 "README-KEPT"):
        assert kept in r.stdout, (kept, r.stdout + r.stderr)
    assert ".git/config holds a URL's password or token" in r.stderr, r.stderr


# packages' code and documents this machine has (python3-pytest's, with
# the suite), for a seed of real text
REAL_TREES = ["/usr/lib/python3/dist-packages/_pytest", "/usr/lib/python3/dist-packages/pluggy",
              "/usr/lib/python3/dist-packages/requests", "/usr/lib/python3/dist-packages/urllib3",
              "/usr/lib/python3/dist-packages/pygments", "/usr/share/doc/git"]


def test_real_code_and_documents_seed_whole(box):
    """A review of the seed's look at every text (64b4c1b): 191 of a real
    tree's 3,301 files (npm's and Python's packages and documents) were
    left out, none holding a secret ("Basic usage:", "Authorization
    header", ssh://git@host, npm_package_name).  Code and documents are
    read strictly now: a tree of this machine's packages seeds whole, each
    file as it is (the control: one with a webhook's URL is left out)."""
    h = home(box)
    n = 0
    for src in REAL_TREES:
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(h, ".claude", "plugins", os.path.basename(src)),
                            ignore=shutil.ignore_patterns("__pycache__", "*.gz"), symlinks=False,
                            ignore_dangling_symlinks=True)
    files = sorted(os.path.relpath(os.path.join(d, f), os.path.join(h, ".claude"))
                   for d, _, fs in os.walk(os.path.join(h, ".claude")) for f in fs)
    n = len(files)
    if n < 50:
        pytest.skip("too few packages' files here: %d" % n)
    put_files(os.path.join(h, ".claude"), {
        "plugins/hook.py": "URL = 'https://hooks.slack.com/services/T1/B1/REALHOOK123abc'\n"})
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    r = run(box, claude_policy(box), 'cd "$CLAUDE_CONFIG_DIR" && find plugins -type f | sort; echo ran')
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    seeded = set(r.stdout.split())
    missing = [f for f in files if f not in seeded]
    assert not missing, (len(missing), n, missing[:10], r.stderr[-2000:])
    assert "plugins/hook.py" not in seeded, r.stdout
    assert "plugins/hook.py holds what looks like a secret" in r.stderr, r.stderr[-2000:]


def test_a_home_reached_through_a_link_seeds_no_denied_file(box):
    """My read of the seed (1eafc40) before the stop: it compared the copy's
    canonical paths with the deny paths as written when they had not been
    resolved yet, so with HOME a link to the home, gh's token was seeded
    (and, beneath a stand-in, not masked).  Another file there is seeded
    (the control)."""
    if box.namespaces == "off":
        pytest.skip("a private copy is bound at its path with a mount namespace only")
    h = home(box)
    for rel, text in (("gh/hosts.yml", "GH-HOST-TOKEN"), ("other", "SEEDED")):
        p = os.path.join(h, ".config", rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    link = box.path("homelink")
    os.symlink(h, link)
    pol = box.policy("[filesystem]\nprivate_seed = ~/.config/\n", name="agent.ini")
    # (the link lies in the host's /tmp, which the private /tmp hides: the
    # home is read by its own path, where the copy is bound)
    r = box.run(["sh", "-c", "cat %s/.config/gh/hosts.yml %s/.config/other; echo done" % (h, h)],
                policy=pol, env={"HOME": link})
    assert "done" in r.stdout and "SEEDED" in r.stdout, r.stdout + r.stderr
    assert "GH-HOST-TOKEN" not in r.stdout, r.stdout


CONNECT = """
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(p)
        print("reached", p, s.recv(64).decode())
    except OSError as e:
        print("refused", p, e.errno)
"""


def test_a_key_agents_socket_in_the_home_is_out_of_reach(box):
    """Outside review of the agent policies: started in the home, the
    default's unix_connect = ${CWD}/** reached 1Password's SSH agent at
    ~/.1password/agent.sock.  Denied now; another socket in the home is
    reached (the control).  Without a mount namespace a deny beneath the
    working directory refuses to start, as before."""
    if box.namespaces == "off":
        pytest.skip("without a mount namespace a deny beneath the working directory refuses")
    h = home(box)
    os.makedirs(os.path.join(h, ".1password"))
    os.makedirs(os.path.join(h, ".cache", "git", "credential"))
    # (a second review: git's credential-cache, Bitwarden's SSH agent)
    socks = [os.path.join(h, ".1password", "agent.sock"), os.path.join(h, "other.sock"),
             os.path.join(h, ".cache", "git", "credential", "socket"),
             os.path.join(h, ".bitwarden-ssh-agent.sock")]
    servers = []
    for p in socks:
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(p)
        srv.listen(4)
        servers.append(srv)
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)

    def answer(srv):
        try:
            c, _ = srv.accept()
            c.sendall(b"HELLO")
            c.close()
        except OSError:
            pass
    threads = [threading.Thread(target=answer, args=(s_,), daemon=True) for s_ in servers]
    for t in threads:
        t.start()
    try:
        r = box.run(["python3", "-c", CONNECT] + socks, policy=box.policy(""),
                    env={"HOME": h}, cwd=h)
    finally:
        for s_ in servers:
            s_.close()
    assert "reached %s HELLO" % socks[1] in r.stdout, r.stdout + r.stderr
    for p in socks[:1] + socks[2:]:
        assert "reached %s" % p not in r.stdout, r.stdout


# an outside review of what an agent reads of its user's secrets: files the
# default left readable (FAIL on 18bac4b for each)
HOME_SECRETS = [
    ".config/git/credentials",  # from the project too: ?~/.config/git is read
    ".config/hub",
    ".bash_history", ".zsh_history", ".local/share/fish/fish_history", ".python_history",
    ".mozilla/firefox/p.default/logins.json", ".config/google-chrome/Default/Cookies",
    ".local/share/keyrings/login.keyring", ".password-store/github.gpg",
    ".claude.json.backup", ".claude/projects/p/s.jsonl", ".claude/ide/1.lock",
    ".claude/backups/.claude.json.backup.1", ".claude/history.jsonl",
    ".gemini/.env", ".qwen/.env", ".codex/config.toml", ".copilot/config.json",
    # (a second review)
    ".gitcookies", ".config/rclone/rclone.conf", ".s3cfg",
    ".gradle/gradle.properties", ".my.cnf", ".env", ".local/share/atuin/history.db",
    ".cache/huggingface/token", ".config/sops/age/keys.txt", ".zhistory",
]


@pytest.mark.parametrize("where", ["home", "project"])
def test_the_users_secrets_in_the_home_are_out_of_reach(box, where):
    """Hole (an outside review): under every shipped policy git's second
    credential store, ~/.config/git/credentials, was readable from a
    project (the default reads ~/.config/git), and started in the home,
    shells' histories, browsers' profiles, keyrings, other agents' keys
    and the host's Claude Code transcripts and IDE tokens.  The control:
    another file of the home, and git's config beside the credentials."""
    if box.namespaces == "off" and where == "home":
        pytest.skip("without a mount namespace a deny beneath the working directory refuses")
    h = home(box)
    for rel in HOME_SECRETS + ["notes.txt", ".config/git/config"]:
        p = os.path.join(h, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("REAL-%s\n" % rel.replace("/", "-"))
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    reads = " ".join("cat ~/%s;" % rel for rel in HOME_SECRETS)
    r = box.run(["sh", "-c", "cat ~/notes.txt ~/.config/git/config; %s echo ran" % reads],
                policy=box.policy(""), env={"HOME": h}, cwd=h if where == "home" else None)
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    if where == "home":
        assert "REAL-notes.txt" in r.stdout, r.stdout + r.stderr
    assert "REAL-.config-git-config" in r.stdout, r.stdout + r.stderr
    leaked = [rel for rel in HOME_SECRETS if "REAL-%s" % rel.replace("/", "-") in r.stdout]
    assert not leaked, leaked


def test_started_in_the_home_the_seeded_copy_is_left_as_it_is(box):
    """A review of the walk below a project's top: claude-code.ini started
    in the home had the exit walk look in ringfence's own state directory,
    and move the seeded ~/.claude's settings.json and .credentials.json
    aside as a project's, though the command wrote nothing.  The state
    directory is not walked."""
    if box.namespaces == "off":
        pytest.skip("a private copy without private_env needs a mount namespace")
    put_sign_ins(box)
    h = home(box)
    with open(os.path.join(h, ".claude", "settings.json"), "w") as f:
        f.write("{}")
    os.chown(os.path.join(h, ".claude", "settings.json"), owner(box), owner(box))
    pol = box.policy("[filesystem]\nprivate_seed = ~/.claude/\n", name="agent.ini")
    r = box.run(["true"], policy=pol, env={"HOME": h}, cwd=h)
    assert r.returncode == 0, r.stderr
    copy = os.path.join(state_dir(box), ".claude")
    # (the sign-in, which the default denies, is not copied)
    assert sorted(os.listdir(copy)) == ["settings.json"], (os.listdir(copy), r.stderr)
    assert "ringfence-blocked" not in r.stderr, r.stderr


def test_state_dir_unreachable_under_a_broad_grant(box):
    """write = ~ covers ~/.local/state/ringfence: it must stay out of reach,
    or a sandbox could rewrite another policy's stand-ins."""
    other = os.path.join(home(box), ".local", "state", "ringfence", "other")
    os.makedirs(other)
    # without namespaces the directories on the way to a carve-out get no
    # new entries (Landlock grants are split around it): an existing one
    # beside it is the positive control
    os.makedirs(os.path.join(home(box), ".local", "share"))
    os.chown(os.path.join(home(box), ".local", "share"), owner(box), owner(box))
    with open(os.path.join(other, "settings.json"), "w") as f:
        f.write("other")
    for d in (".local", ".local/state", ".local/state/ringfence", ".local/state/ringfence/other"):
        os.chown(os.path.join(home(box), d), owner(box), owner(box))
    pol = private_policy(box, body="write = ~\n")
    r = run(box, pol, "echo planted > ~/.local/state/ringfence/other/settings.json; "
                      "echo planted > ~/.local/state/ringfence/agent/.claude.json; "
                      "ls ~/.local/state/ringfence; echo done")
    assert "done" in r.stdout, r.stderr
    with open(os.path.join(other, "settings.json")) as f:
        assert f.read() == "other"
    with open(os.path.join(state_dir(box), ".claude.json")) as f:
        assert "planted" not in f.read()
    assert "other" not in r.stdout.replace("other/", "")
    # positive control: the same grant writes beside it
    r = run(box, pol, "echo ok > ~/.local/share/beside && cat ~/.local/share/beside")
    assert r.stdout.strip() == "ok", r.stderr


def test_seed_once_from_the_host(box):
    h = home(box)
    gem = os.path.join(h, ".gemini")
    os.makedirs(os.path.join(gem, "sub"))
    with open(os.path.join(gem, "settings.json"), "w") as f:
        f.write('{"host": 1}')
    os.chmod(os.path.join(gem, "settings.json"), 0o640)
    with open(os.path.join(gem, "sub", "a"), "w") as f:
        f.write("a")
    for root, dirs, files in os.walk(gem):
        for n in dirs + files + [""]:
            os.chown(os.path.join(root, n), owner(box), owner(box))
    pol = box.policy("""
        [filesystem]
        private_seed = ~/.gemini/
        private_env = GEMINI_DIR=~/.gemini
        """, name="agent.ini")
    d = "${GEMINI_DIR:-$HOME/.gemini}"
    r = run(box, pol, "cat %s/settings.json %s/sub/a; echo '{\"sandbox\": 1}' > %s/settings.json"
            % (d, d, d))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('{"host": 1}a')
    st = os.stat(os.path.join(state_dir(box), ".gemini", "settings.json"))
    assert st.st_mode & 0o777 == 0o640 and st.st_uid == owner(box)
    # the host changes; the stand-in is not seeded again
    with open(os.path.join(gem, "settings.json"), "w") as f:
        f.write('{"host": 2}')
    r = run(box, pol, "cat %s/settings.json" % d)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '{"sandbox": 1}'
    with open(os.path.join(gem, "settings.json")) as f:
        assert f.read() == '{"host": 2}'


def test_seed_copies_no_symlink(box):
    """A link planted at the host path (to /etc/shadow, or a directory on the
    way) is never copied; a link inside a seeded directory is skipped."""
    h = home(box)
    os.symlink("/etc/shadow", os.path.join(h, ".claude.json"))
    pol = box.policy("""
        [filesystem]
        private_seed = ~/.claude.json
        """, name="agent.ini")
    r = run(box, pol, "cat ~/.claude.json")
    assert r.returncode == 125
    assert "root:" not in r.stdout
    copy = os.path.join(state_dir(box), ".claude.json")
    assert not os.path.exists(copy) or "root:" not in open(copy).read()
    # a directory on the way is a link
    os.unlink(os.path.join(h, ".claude.json"))
    os.symlink("/etc", os.path.join(h, ".gemini"))
    pol = box.policy("""
        [filesystem]
        private_seed = ~/.gemini/shadow
        """, name="agent.ini")
    r = run(box, pol, "cat ~/.gemini/shadow")
    assert r.returncode == 125
    assert "root:" not in r.stdout
    copy = os.path.join(state_dir(box), ".gemini", "shadow")
    assert not os.path.exists(copy) or "root:" not in open(copy).read()
    # inside a seeded directory: the link is skipped, the file copied
    os.unlink(os.path.join(h, ".gemini"))
    os.mkdir(os.path.join(h, ".codex"))
    os.symlink("/etc/shadow", os.path.join(h, ".codex", "auth.json"))
    # (AGENTS.md: config.toml, which may hold MCP servers' tokens, is one
    # of the default's denies, never seeded)
    with open(os.path.join(h, ".codex", "AGENTS.md"), "w") as f:
        f.write("cfg")
    for n in (".codex", ".codex/AGENTS.md"):
        os.chown(os.path.join(h, n), owner(box), owner(box))
    pol = box.policy("""
        [filesystem]
        private_seed = ~/.codex/
        private_env = CODEX_HOME=~/.codex
        """, name="agent.ini")
    r = run(box, pol, "cat ${CODEX_HOME:-~/.codex}/AGENTS.md")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "cfg"
    assert not os.path.lexists(os.path.join(state_dir(box), ".codex", "auth.json"))


def test_symlinked_state_dir_is_refused(box):
    """~/.local/state/ringfence planted as a link elsewhere: nothing is made
    through it; a stand-in replaced by a link is refused, not followed."""
    outside = box.path("outside")
    os.mkdir(outside)
    os.chmod(outside, 0o777)
    st = os.path.join(home(box), ".local", "state")
    os.makedirs(st)
    for d in (".local", ".local/state"):
        os.chown(os.path.join(home(box), d), owner(box), owner(box))
    os.symlink(outside, os.path.join(st, "ringfence"))
    pol = private_policy(box)
    r = run(box, pol, "echo started")
    assert r.returncode == 125 and "started" not in r.stdout
    assert os.listdir(outside) == []
    # the stand-in itself a link to a file of the host's
    os.unlink(os.path.join(st, "ringfence"))
    r = run(box, pol, "true")
    assert r.returncode == 0, r.stderr
    target = box.path("target")
    with open(target, "w") as f:
        f.write("host file")
    os.chmod(target, 0o666)
    os.unlink(os.path.join(state_dir(box), ".claude.json"))
    os.symlink(target, os.path.join(state_dir(box), ".claude.json"))
    r = run(box, pol, "echo planted > ~/.claude.json; echo started")
    assert r.returncode == 125 and "started" not in r.stdout
    with open(target) as f:
        assert f.read() == "host file"


def test_private_when_namespaces_fall_back(box):
    """namespaces = auto under a profile that refuses them: planned with a
    mount point for the absent ~/.codex, then planned again without; the
    mount point goes, CODEX_HOME names the stand-in."""
    if box.namespaces == "off":
        pytest.skip("namespaces are off already")
    import subprocess
    deny_ns = os.path.join(box.bin, "deny_ns")
    env = box.env({"HOME": home(box)})
    # ~/.claude.json has no variable: strict refuses once it is planned
    # without namespaces, and its mount point is gone with it
    r = subprocess.run(box.cmd([deny_ns, box.ringfence, "-p", private_policy(box), "--",
                                "echo", "started"]),
                       cwd=box.work, env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 125 and "started" not in r.stdout
    assert "private_env" in r.stderr
    assert not os.path.lexists(os.path.join(home(box), ".claude.json"))
    assert not os.path.lexists(os.path.join(home(box), ".codex"))
    pol = box.policy("""
        [filesystem]
        private = ~/.codex/
        private_env = CODEX_HOME=~/.codex
        """, name="agent.ini")
    argv = box.cmd([deny_ns, box.ringfence, "-p", pol, "-v", "--", "sh", "-c",
                    "echo $CODEX_HOME; echo kept > $CODEX_HOME/f; echo x > ~/.codex/g"])
    r = subprocess.run(argv, cwd=box.work, env=env, capture_output=True, text=True, timeout=30)
    assert "namespaces unavailable" in r.stderr
    assert r.stdout.strip() == os.path.join(state_dir(box), ".codex"), r.stderr
    with open(os.path.join(state_dir(box), ".codex", "f")) as f:
        assert f.read() == "kept\n"
    assert not os.path.exists(os.path.join(home(box), ".codex"))


def test_create_and_private_as_the_run_as_user(box):
    """Started as root with run_as = nobody: what is made is nobody's."""
    if box.user != "root":
        pytest.skip("switching users needs root")
    os.chown(box.work, NOBODY, NOBODY)
    pol = box.write("agent.ini", """[sandbox]
include = %s
%s
[process]
run_as = nobody
[filesystem]
exec = %s
create = ${CWD}/out/deep
write = ${CWD}/out/deep
""" % (box.default, "namespaces = off" if box.namespaces == "off" else "", box.bin))
    r = box.run(["sh", "-c", "id -u; touch out/deep/x"], policy=pol)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(NOBODY)
    for p in ("out", "out/deep", "out/deep/x"):
        assert os.lstat(box.path("work", p)).st_uid == NOBODY, p
    assert os.lstat(box.path("work", "out")).st_mode & 0o777 == 0o700


def test_seed_skips_another_users_file(box):
    """The unprivileged user's seed never copies a file it does not own
    (a hard link to one, say)."""
    if box.user != "nobody":
        pytest.skip("root's seed copies what root owns")
    h = home(box)
    gem = os.path.join(h, ".gemini")
    os.mkdir(gem)
    os.chown(gem, NOBODY, NOBODY)
    with open(os.path.join(gem, "mine"), "w") as f:
        f.write("mine")
    os.chown(os.path.join(gem, "mine"), NOBODY, NOBODY)
    with open(os.path.join(gem, "roots"), "w") as f:
        f.write("root's")
    os.chmod(os.path.join(gem, "roots"), 0o644)
    pol = box.policy("""
        [filesystem]
        private_seed = ~/.gemini/
        private_env = GEMINI_DIR=~/.gemini
        """, name="agent.ini")
    r = run(box, pol, "ls ${GEMINI_DIR:-$HOME/.gemini}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["mine"]
    assert "belongs to uid 0" in r.stderr


def test_grants_beneath_a_private_path_are_the_stand_ins(box):
    """exec = ~/.codex/packages with ~/.codex private: the runtime a CLI
    unpacks there runs (the stand-in is not mounted noexec), and a grant
    the host's tree has but the stand-in's lacks does not stop the start."""
    if box.namespaces == "off":
        pytest.skip("a stand-in at PATH needs a mount namespace")
    os.makedirs(os.path.join(home(box), ".codex", "sessions"))
    for d in (".codex", ".codex/sessions"):
        os.chown(os.path.join(home(box), d), owner(box), owner(box))
    pol = box.policy("""
        [filesystem]
        private = ~/.codex/
        exec = ~/.codex/packages
        write = ~/.codex/sessions
        """, name="agent.ini")
    r = run(box, pol, "mkdir -p ~/.codex/packages && cp /bin/echo ~/.codex/packages/rt && "
                      "~/.codex/packages/rt ran")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ran\n"
    assert "does not exist" not in r.stderr
    assert not os.path.exists(os.path.join(home(box), ".codex", "packages"))
    # positive control: without the exec grant it does not run
    pol = box.policy("""
        [filesystem]
        private = ~/.codex/
        """, name="agent.ini")
    r = run(box, pol, "~/.codex/packages/rt ran")
    assert r.returncode != 0 and "ran" not in r.stdout


def test_create_never_in_a_system_directory_as_root(box):
    """Root whose HOME or working directory is a system directory makes
    nothing there, even though the path is beneath it."""
    if box.user != "root":
        pytest.skip("root only")
    pol = box.policy("""
        [filesystem]
        create = ~/rf-create-never
        """, name="agent.ini")
    r = box.run(["true"], policy=pol, env={"HOME": "/etc"})
    assert r.returncode == 125
    assert "filesystem.create" in r.stderr and "agent.ini:" in r.stderr
    assert not os.path.exists("/etc/rf-create-never")
    pol = box.policy("""
        [filesystem]
        create = ${CWD}/rf-create-never
        """, name="agent.ini")
    r = box.run(["true"], policy=pol, cwd="/var/tmp")
    assert r.returncode == 125
    assert not os.path.exists("/var/tmp/rf-create-never")
    # positive control: the same key beneath root's own home
    r = run(box, box.policy("""
        [filesystem]
        create = ~/made
        """, name="agent.ini"), "true")
    assert r.returncode == 0, r.stderr
    assert os.path.isdir(os.path.join(home(box), "made"))


def test_seed_of_a_deep_tree_is_cut_not_refused(box):
    """A seeded directory deeper than the cap starts anyway: the deep part
    is said and left out."""
    deep = os.path.join(home(box), ".gemini")
    p = deep
    for i in range(20):
        p = os.path.join(p, "d%d" % i)
    os.makedirs(p)
    with open(os.path.join(deep, "top"), "w") as f:
        f.write("top")
    for root, dirs, files in os.walk(deep):
        for n in dirs + files + [""]:
            os.chown(os.path.join(root, n), owner(box), owner(box))
    pol = box.policy("""
        [filesystem]
        private_seed = ~/.gemini/
        private_env = GEMINI_DIR=~/.gemini
        """, name="agent.ini")
    r = run(box, pol, "cat ${GEMINI_DIR:-$HOME/.gemini}/top")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "top"
    assert "deeper than" in r.stderr


def test_explain_and_check_show_the_keys(box):
    pol = box.policy("""
        [sandbox]
        name = my-agent
        [filesystem]
        read = ?~/.nvm
        create = ~/.gemini
        private = ~/.codex/ ~/.claude.json
        private_seed = ~/.gemini/settings.json
        private_env = CODEX_HOME=~/.codex
        """, name="agent.ini")
    r = box.raw(["explain", "-p", pol], env={"HOME": home(box)})
    assert r.returncode == 0, r.stderr
    h = home(box)
    for line in ("name = my-agent", "read = ?%s/.nvm" % h, "create = %s/.gemini" % h,
                 "private = %s/.codex/" % h, "private = %s/.claude.json" % h,
                 "private_seed = %s/.gemini/settings.json" % h,
                 "private_env = CODEX_HOME=%s/.codex" % h):
        assert line in r.stdout, line
    assert "private: the sandbox's own persistent copy" in r.stdout
    r = box.raw(["check", pol], env={"HOME": h})
    assert r.returncode == 0, r.stderr
    # nothing was made by explain or check
    assert not os.path.exists(os.path.join(h, ".gemini"))
    assert not os.path.exists(os.path.join(h, ".local"))


def test_xdg_state_home_beneath_the_home(box):
    """$XDG_STATE_HOME names the state directory when it lies beneath the
    home; one elsewhere (another user's, a shared one) is not used."""
    if box.namespaces == "off":
        pytest.skip("the placement does not depend on namespaces")
    h = home(box)
    pol = box.policy("""
        [filesystem]
        private = ~/.codex/
        """, name="agent.ini")
    r = run(box, pol, "echo x > ~/.codex/f", {"XDG_STATE_HOME": os.path.join(h, "xdg")})
    assert r.returncode == 0, r.stderr
    assert os.path.exists(os.path.join(h, "xdg", "ringfence", "agent", ".codex", "f"))
    elsewhere = box.path("shared-state")
    os.mkdir(elsewhere)
    os.chmod(elsewhere, 0o777)
    r = run(box, pol, "echo y > ~/.codex/g", {"XDG_STATE_HOME": elsewhere})
    assert r.returncode == 0, r.stderr
    # no stand-in there (the crash journal of protect may be: it is the
    # caller's, checked to be its own and 0700)
    assert not os.path.exists(os.path.join(elsewhere, "ringfence", "agent"))
    assert os.path.exists(os.path.join(state_dir(box), ".codex", "g"))


def test_no_state_in_a_system_directory_as_root(box):
    """As root, a home in a system directory (a service user's /var/...)
    holds no state: nothing is made there, as for `create`."""
    if box.user != "root":
        pytest.skip("root only")
    sysdir = tempfile.mkdtemp(prefix="rf-sys-", dir="/var/tmp")
    try:
        pol = box.policy("""
            [filesystem]
            private = ~/.codex/
            """, name="agent.ini")
        r = box.run(["true"], policy=pol, env={"HOME": sysdir})
        assert r.returncode == 125, r.stderr
        assert "system directory" in r.stderr, r.stderr
        assert os.listdir(sysdir) == []
    finally:
        subprocess.run(["rm", "-rf", sysdir])


GITCONFIG_SECRETS = {
    "url": (".gitconfig", '[url "https://octocat:ghp_GITCONFIG_TOKEN_1@github.com/"]\n'
            "\tinsteadOf = https://github.com/\n"),
    "header": (".config/git/config", "[http]\n\textraHeader = Authorization: Bearer GITCONFIG_TOKEN_2\n"),
    # (a review of the first check: quotes, a continued line, an inline
    # helper, another header, a query's token, a key on its section's line)
    "quoted": (".gitconfig", '[remote "o"]\n\turl = "https://u:ghp_GITCONFIG"_TOKEN_3@github.com/x\n'),
    "continued": (".gitconfig", "[remote \"o\"]\n\turl = https://u:\\\nGITCONFIG_TOKEN_4@github.com/x\n"),
    "helper": (".gitconfig", '[credential]\n\thelper = "!f() { echo password=GITCONFIG_TOKEN_5; }; f"\n'),
    "api-key": (".gitconfig", "[http \"https://api.example.com/\"]\n\textraHeader = X-Api-Key: GITCONFIG_TOKEN_6\n"),
    "query": (".gitconfig", "[remote \"o\"]\n\turl = https://gitlab.example.com/x.git?private_token=GITCONFIG_TOKEN_7\n"),
    "section-line": (".gitconfig", "[sendemail] smtpPass = GITCONFIG_TOKEN_8\n"),
    # (a second review) a token in a value beside a URL, a byte order mark,
    # a proxy's password without a scheme, a commented-out token
    "alias-url": (".gitconfig", '[alias]\n\tme = !curl -H "Authorization: Bearer GITCONFIG_TOKEN_10" '
                  "https://api.example.com/user\n"),
    "bom": (".gitconfig", '\ufeff[url "https://u:GITCONFIG_TOKEN_11@git.example/"]\n'
            "\tinsteadOf = https://git.example/\n"),
    "proxy": (".gitconfig", "[http]\n\tproxy = alice:GITCONFIG_TOKEN_12@proxy.example:3128\n"),
    "comment": (".gitconfig", "[github]\n#\ttoken = GITCONFIG_TOKEN_13\n"),
    "beside": (".config/git/secret.inc", "[http]\n\textraHeader = Authorization: Bearer GITCONFIG_TOKEN_14\n"),
    # a token past 4 KiB of a value (a final read: a fixed buffer cut it)
    "long": (".gitconfig", "[alias]\n\tx = !echo " + "a" * 5000 +
             " -H 'Authorization: Bearer GITCONFIG_TOKEN_15'\n"),
    # a store of its own: the store's file denied too
    "store": (".gitconfig", "[credential]\n\thelper = store --file ~/.config/git/git-credentials\n"),
    # (a review of the last stop's) a password a command's option gives, a
    # store named relative to where git runs (here: the project)
    "sshpass": (".gitconfig", "[core]\n\tsshCommand = sshpass -p GITCONFIG_TOKEN_16 ssh\n"),
    "curl-user": (".gitconfig", "[alias]\n\tme = !curl -u octo:GITCONFIG_TOKEN_17 "
                  "https://api.example.com/user\n"),
    "relative-store": (".gitconfig", "[credential]\n\thelper = store --file=.git-creds\n"),
    # (a review of those) a file in a subdirectory of ~/.config/git, a
    # quote right after sshpass's -p, a helper printing its password, a
    # variable set in an alias, a relative store as a second helper's
    "subdir": (".config/git/work/config", "[github]\n\ttoken = GITCONFIG_TOKEN_18\n"),
    "sshpass-quoted": (".gitconfig", "[core]\n\tsshCommand = sshpass -p'GITCONFIG_TOKEN_19' ssh\n"),
    "helper-echo": (".gitconfig", '[credential]\n\thelper = "!f() { echo \\"username=me\\"; '
                    'echo \\"password=GITCONFIG_TOKEN_20\\"; }; f"\n'),
    "assignment": (".gitconfig", "[alias]\n\tdb = !PGPASSWORD=GITCONFIG_TOKEN_21 psql -h db\n"),
    "second-store": (".gitconfig", "[credential]\n\thelper = store --file ~/.config/git/creds\n"
                     '[credential "https://gitlab.example"]\n\thelper = store --file=.git-creds\n'),
    # (a second review) git's own imap.pass, openssl's -k, a webhook, a
    # header by its name's end, a file nine directories down
    "imap-pass": (".gitconfig", "[imap]\n\tuser = alice@example.com\n\tpass = GITCONFIG_TOKEN_23\n"),
    "openssl-k": (".gitconfig", '[filter "o"]\n\tclean = openssl enc -aes-256-cbc -a -k '
                  "GITCONFIG_TOKEN_24\n"),
    "webhook": (".gitconfig", "[alias]\n\tslack = !curl -d @- https://hooks.slack.com/services/T0/B0/"
                "GITCONFIG_TOKEN_25\n"),
    "vault": (".gitconfig", '[alias]\n\tv = !curl -H \\"X-Vault-Token: GITCONFIG_TOKEN_26\\" '
              "https://vault.example/\n"),
    "deep": (".config/git/1/2/3/4/5/6/7/8/9/t9", "[github]\n\ttoken = GITCONFIG_TOKEN_27\n"),
}


def test_a_token_in_a_file_the_users_git_config_includes_is_out_of_reach(box):
    """Hole (a review): the check read the user's configuration files, not
    the files they include; a token kept in an included file (here in the
    home, which the policy grants) was the command's to read, and its git
    sent it.  Each file included is looked through as it is, and denied;
    the control: the including file is read."""
    h = home(box)
    os.makedirs(os.path.join(h, "dotfiles"), exist_ok=True)
    with open(os.path.join(h, ".gitconfig"), "w") as f:
        f.write("[user]\n\tname = Octo\n[include]\n\tpath = dotfiles/git-secrets.inc\n")
    inc = os.path.join(h, "dotfiles", "git-secrets.inc")
    with open(inc, "w") as f:
        f.write('[url "https://octo:GITCONFIG_TOKEN_22@git.example/"]\n'
                "\tinsteadOf = https://git.example/\n")
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    pol = box.policy("[filesystem]\nread = ~/dotfiles\n")
    r = box.run(["sh", "-c", "cat ~/dotfiles/git-secrets.inc; head -2 ~/.gitconfig; echo ran"],
                policy=pol, env={"HOME": h})
    assert "ran" in r.stdout.split() and "Octo" in r.stdout, r.stdout + r.stderr
    assert "GITCONFIG_TOKEN" not in r.stdout, r.stdout
    assert "%s holds" % inc in r.stderr, r.stderr


def test_the_cookie_file_the_users_git_config_names_is_out_of_reach(box):
    """Hole (a review): http.cookieFile named a file in ~/.config/git,
    which the default grants whole, and its cookies (a Gerrit sign-in)
    were the command's to read.  The file it names is denied, said; the
    control: the configuration naming it is read."""
    h = home(box)
    os.makedirs(os.path.join(h, ".config", "git"), exist_ok=True)
    with open(os.path.join(h, ".gitconfig"), "w") as f:
        f.write("[user]\n\tname = Octo\n[http]\n\tcookiefile = ~/.config/git/gitcookies\n")
    jar = os.path.join(h, ".config", "git", "gitcookies")
    with open(jar, "w") as f:
        f.write(".googlesource.example\tTRUE\t/\tTRUE\t2147483647\to\tGITCONFIG_COOKIE_1\n")
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    r = box.run(["sh", "-c", "cat ~/.config/git/gitcookies; git config --global user.name; "
                 "echo ran"], policy=box.policy(""), env={"HOME": h})
    assert "ran" in r.stdout.split() and "Octo" in r.stdout, r.stdout + r.stderr
    assert "GITCONFIG_COOKIE" not in r.stdout, r.stdout
    assert "as its cookie file" in r.stderr, r.stderr


def test_a_credential_in_the_projects_own_git_config_is_said(box):
    """A review: a project cloned with a token in its remote's URL keeps it
    in .git/config, which the sandbox reads (its git needs it); ringfence
    cannot keep it out, and says so at start.  The control: a project
    whose remote holds none is not said."""
    work = box.work
    git = ["git", "-c", "safe.directory=*", "-C", work]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["remote", "add", "origin",
                          "https://octo:ghp_PROJECTTOKEN1abcdef@github.com/o/r.git"], check=True)
    r = box.run(["true"], policy=box.policy(""))
    assert r.returncode == 0, r.stderr
    assert "%s/.git/config holds" % work in r.stderr, r.stderr
    assert "PROJECTTOKEN" not in r.stderr, r.stderr
    subprocess.run(git + ["remote", "set-url", "origin", "https://github.com/o/r.git"], check=True)
    r = box.run(["true"], policy=box.policy(""))
    assert r.returncode == 0 and "config holds" not in r.stderr, r.stderr


def test_every_file_of_the_users_git_directory_is_looked_through(box):
    """A review of the check: ~/.config/git's files were looked through
    up to a dozen, and the rest granted as they were: a token in the 60th
    was read.  Each is now; the control: the others are read."""
    h = home(box)
    d = os.path.join(h, ".config", "git")
    os.makedirs(d, exist_ok=True)
    for i in range(60):
        with open(os.path.join(d, "ignore%02d" % i), "w") as f:
            f.write("*.o\n")
    with open(os.path.join(d, "tok.inc"), "w") as f:
        f.write("[http]\n\textraHeader = Authorization: Bearer GITCONFIG_TOKEN_60\n")
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    r = box.run(["sh", "-c", "cat ~/.config/git/tok.inc ~/.config/git/ignore59; echo ran"],
                policy=box.policy(""), env={"HOME": h})
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "GITCONFIG_TOKEN" not in r.stdout, r.stdout
    assert "*.o" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("case", sorted(GITCONFIG_SECRETS))
def test_a_token_written_in_the_users_git_config_is_out_of_reach(box, case):
    """Hole (an outside review): the default reads ~/.gitconfig and
    ~/.config/git for the sandbox's git, and a token written there (a URL
    with a password, an http.extraHeader) was the command's to read, under
    every shipped policy.  Such a file is denied now, and said; the
    control: the same file without the token is read (its user.name)."""
    rel, text = GITCONFIG_SECRETS[case]
    h = home(box)
    p = os.path.join(h, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        # (a byte order mark only counts at the file's start)
        f.write(text + "[user]\n\tname = Octo\n" if case == "bom" else
                "[user]\n\tname = Octo\n" + text)
    subprocess.run(["chown", "-R", "%d:%d" % (owner(box), owner(box)), h], check=True)
    store = os.path.join(h, ".config", "git", "git-credentials")
    if case in ("relative-store", "second-store"):
        store = os.path.join(box.work, ".git-creds")
    if case in ("store", "relative-store", "second-store"):
        os.makedirs(os.path.dirname(store), exist_ok=True)
        with open(store, "w") as f:
            f.write("https://u:GITCONFIG_TOKEN_9@github.com\n")
    cmd = ("cat ~/%s ~/.config/git/git-credentials .git-creds; git config --global user.name; "
           "echo ran" % rel)
    r = box.run(["sh", "-c", cmd], policy=box.policy(""), env={"HOME": h})
    if case in ("relative-store", "second-store") and box.namespaces == "off":
        # (a store in the working directory cannot be denied without a
        # mount namespace: the start is refused, fail closed)
        assert r.returncode == 125 and store in r.stderr, r.stdout + r.stderr
    else:
        assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "GITCONFIG_TOKEN" not in r.stdout, r.stdout
    assert "%s holds" % p in r.stderr, r.stderr
    # the control: without the token, read (an SSH user in a URL is none:
    # AWS CodeCommit's key ids, a review of the first check; nor a program
    # to ask for a password, nor GitHub CLI's helper: a review of the
    # third)
    if os.path.exists(store):
        os.unlink(store)
    with open(p, "w") as f:
        f.write("[user]\n\tname = Octo\n[url \"ssh://APKAEIBAERJR2EXAMPLE@git-codecommit"
                ".example.com/v1/repos/\"]\n\tinsteadOf = https://git-codecommit.example.com/\n"
                "[core]\n\taskPass = /usr/bin/ksshaskpass\n"
                "[credential \"https://github.com\"]\n\thelper = !/usr/bin/gh auth git-credential\n"
                "[core]\n\tsshCommand = ssh -i ~/.ssh/id_work -p 2222\n"
                "[alias]\n\tpu = push -u origin HEAD\n"
                # (false positives a review found: none is a secret)
                "\tci-token = !gh auth token\n"
                '\tprf = "!f() { git fetch -u ${2:-origin} pull/$1/head:pr/$1; }; f"\n'
                '\tme = !curl -H \\"Authorization: Bearer $GITHUB_TOKEN\\" https://api.example.com/\n'
                "\tdrun = !docker run -u root:root img\n"
                "[gpg]\n\tprogram = gpg --default-key 3AA5C34371567BD2\n"
                '[filter "crypt"]\n\tclean = openssl enc -aes-256-cbc -pass file:/home/me/.key\n'
                '[credential "https://example.org"]\n'
                '\thelper = "!f() { echo password=$(pass show example/token); }; f"\n'
                # (a second review's false positives)
                '[credential "https://example.net"]\n'
                "\thelper = \"!f() { printf 'password=%s\\\\n' \\\"$(pass show x)\\\"; }; f\"\n"
                "[secrets]\n\tallowed = AKIAIOSFODNN7EXAMPLE\n"
                "[alias]\n\tgl = !curl --header \\\"PRIVATE-TOKEN: $GITLAB_TOKEN\\\" "
                "https://gitlab.example/\n"
                "\tgc = !git clone https://x-access-token:${GITHUB_TOKEN}@github.com/$1\n"
                "\truns = !gh api \\\"repos/o/r/actions/runs?per_page=100&page_token=\\\"\n"
                "# use: git clone https://USERNAME:TOKEN@github.com/org/repo\n"
                "# token = see 1password\n")
    r = box.run(["sh", "-c", cmd], policy=box.policy(""), env={"HOME": h})
    assert "Octo" in r.stdout.split(), r.stdout + r.stderr
    assert "holds" not in r.stderr, r.stderr
