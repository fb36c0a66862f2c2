# SPDX-License-Identifier: MIT
"""Runs an agent CLI under its shipped policy against the fake API (fakeapi.py).

Each CLI is described once in AGENTS: its shipped policy, its headless command
line, the variable its key goes in and the hosts of its API.  A run gets a
fresh home, a project directory, a test policy that includes the shipped one
and adds only what a test needs (the install directory, the mapping of the
API hosts to the fake server's loopback address, the test CA, run_as when
root), and a fake server of its own.
"""
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
RINGFENCE = os.environ.get("RINGFENCE") or os.path.join(TOP, "ringfence")
CACHE = os.environ.get("RINGFENCE_AGENTS_CACHE") or "/var/cache/ringfence-agents"
BIN = os.path.join(CACHE, "node_modules", ".bin")
NOBODY = 65534
# where the fresh homes go: not under /tmp (the policies give the command a
# private /tmp) nor a system directory (which anchors no `create` as root)
SCRATCH = os.environ.get("RINGFENCE_AGENTS_TMP") or "/home"
ANSWER = "RINGFENCE-AGENT-ANSWER-7f3a"
PROMPT = "Say the answer."


def real_key(name):
    # a secret of each API's shape; never a real one
    if name == "copilot":
        return "github_pat_11REAL%s" % hashlib.sha256(name.encode()).hexdigest()[:60]
    return "sk-real-%s-%s" % (name, hashlib.sha256(name.encode()).hexdigest()[:32])


# name: policy, argv (after the binary), key variable, API hosts, extra env
AGENTS = {
    "claude": {
        # the TUI checks both hosts before its sign-in screen
        "interactive": {"argv": [], "keys": [], "expect": ["/api/hello", "/v1/oauth/hello"],
                        "unkeyed": True},
        "policy": "claude-code.ini", "bin": "claude",
        "argv": ["-p", PROMPT, "--output-format", "text",
                 "--permission-mode", "bypassPermissions"],
        "key": "ANTHROPIC_API_KEY", "hosts": ["api.anthropic.com", "platform.claude.com"],
        "env": {},
    },
    "codex": {
        # the TUI reads no key variable: signed in once with the policy's fixed
        # placeholder (kept in the private auth.json), then asked
        "interactive": {"argv": ["-m", "gpt-5.1-codex"],
                        # the menu drawn before its keys are read (a loaded
                        # machine): "3" waits for it
                        "keys": [("Sign in another way", "3"), "\r", "\r",
                                 "ringfence_openai_codex_placeholder_0000000000000000\r", "\r",
                                 PROMPT + "\r"],
                        "expect": ["/v1/responses"], "delay": 3},
        "policy": "codex.ini", "bin": "codex",
        # a model whose description the CLI ships (the default one's comes
        # from a catalogue it fetches from a host the policy refuses)
        "argv": ["exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex",
                 "--dangerously-bypass-approvals-and-sandbox", PROMPT],
        "key": "OPENAI_API_KEY", "inside": "CODEX_API_KEY", "hosts": ["api.openai.com"],
        "env": {},
    },
    "gemini": {
        # the TUI asks to trust the folder (it restarts), for a sign-in method
        # (2: the key), then for the key (filled from GEMINI_API_KEY: the
        # placeholder; the sign-in dialog is drawn once more after its
        # Enter, so each Enter waits for the next dialog), then the prompt,
        # typed apart from its Enter (typed together it is a paste)
        "interactive": {"argv": [], "keys": ["1", "2",
                                             ("Use Gemini API Key", "\r", "Enter Gemini API Key"),
                                             ("Enter Gemini API Key", "\r", "Type your message"),
                                             PROMPT, "\r"],
                        "expect": [":streamGenerateContent"]},
        "policy": "gemini-cli.ini", "bin": "gemini",
        "argv": ["-p", PROMPT, "--approval-mode", "yolo", "--skip-trust"],
        "key": "GEMINI_API_KEY", "hosts": ["generativelanguage.googleapis.com"],
        "env": {},
    },
    "opencode": {
        # the TUI draws a blank screen first, then itself a few seconds later
        # the prompt once its input box is drawn (a loaded machine draws it
        # late, after a blank screen that reads as settled)
        "interactive": {"argv": ["-m", "anthropic/claude-sonnet-4-5"],
                        "keys": [("Ask anything", PROMPT + "\r")],
                        "expect": ["/v1/messages"], "delay": 6},
        "policy": "opencode.ini", "bin": "opencode",
        "argv": ["run", "-m", "anthropic/claude-sonnet-4-5", PROMPT],
        "key": "ANTHROPIC_API_KEY", "hosts": ["api.anthropic.com"],
        "env": {},
    },
    "qwen": {
        # the input box is drawn once the CLI's configuration is read (a
        # loaded machine shows "Initializing..." for seconds, and a key
        # typed then is lost): the prompt waits for its placeholder, the
        # Enter apart (the placeholder is drawn again once it is answered)
        "interactive": {"argv": ["--auth-type", "openai"],
                        "keys": [("Type your message", PROMPT), "\r"],
                        "expect": ["/chat/completions"]},
        "policy": "qwen-code.ini", "bin": "qwen",
        "argv": ["--auth-type", "openai", "-p", PROMPT, "--approval-mode", "yolo"],
        "key": "OPENAI_API_KEY", "hosts": ["dashscope.aliyuncs.com"],
        "env": {"OPENAI_BASE_URL": "https://dashscope.aliyuncs.com/compatible-mode/v1",
                "OPENAI_MODEL": "qwen3-coder-plus"},
    },
    "copilot": {
        "interactive": {"argv": ["--model", "claude-sonnet-4.5"], "keys": [], "expect": ["/models"]},
        "policy": "copilot-cli.ini", "bin": "copilot",
        # the fake API's model list is too thin for the CLI's own choice
        "argv": ["-p", PROMPT, "--allow-all", "--model", "claude-sonnet-4.5"],
        "tool_env_scrubbed": True,
        "key": "COPILOT_GITHUB_TOKEN",
        "hosts": ["api.github.com", "api.githubcopilot.com", "api.individual.githubcopilot.com",
                  "telemetry.individual.githubcopilot.com"],
        "env": {},
    },
}

# CLIs make check-agents leaves out, and why (README says the same)
NOT_CHECKED = {}
# the fixed placeholder a policy gives a CLI that checks a token's shape
PLACEHOLDER_MARK = "RINGFENCE0PLACEHOLDER"
# what in the project the host's own tools run or load (the rest of the
# project is the agent's to write)
PROJECT_TRUSTED = [".git", ".mcp.json", ".claude", ".vscode", ".envrc", ".gemini"]

# Every file an agent, told by its model, might plant for the host to run
# later; relative to the home directory (~) or the project (.).
PLANTS = [
    "~/.bashrc", "~/.profile", "~/.bash_profile", "~/.zshrc", "~/.gitconfig",
    "~/.claude.json", "~/.claude/settings.json", "~/.claude/hooks/h.sh",
    "~/.claude/commands/c.md", "~/.codex/config.toml", "~/.codex/AGENTS.md",
    "~/.gemini/settings.json", "~/.gemini/GEMINI.md", "~/.qwen/settings.json",
    "~/.config/opencode/opencode.json", "~/.local/share/opencode/auth.json",
    "~/.copilot/mcp-config.json", "~/.copilot/config.json", "~/.local/bin/claude",
    "~/.config/systemd/user/x.service", "~/.config/autostart/x.desktop",
    "~/.cache/copilot/pkg/linux-x64/index.js", "~/.cache/opencode/package.json",
    "~/.cache/go-build/README", "~/.npm/_cacache/index-v5/00/entry",
    "./.git/hooks/pre-commit", "./.git/config", "./.mcp.json", "./.claude/settings.json",
    "./.vscode/tasks.json", "./.envrc", "./.gemini/settings.json",
    "./.github/mcp.json", "./.github/lsp.json", "./.github/extensions/x/extension.mjs",
]
# files the host already had: the agent must leave them as they were
HOST_FILES = {
    "~/.bashrc": "# the host's own\n",
    "~/.gitconfig": "[user]\n\tname = host\n",
    "~/.claude.json": '{"mcpServers": {}}\n',
    "~/.codex/config.toml": "# the host's own\n",
    "~/.gemini/settings.json": "{}\n",
    "~/.copilot/mcp-config.json": '{"mcpServers": {}}\n',
    "./.git/config": "[core]\n\trepositoryformatversion = 0\n",
    # caches whose contents the host's own tools run or load
    "~/.cache/copilot/pkg/linux-x64/index.js": "// the host's copilot runtime\n",
    "~/.cache/opencode/package.json": "{}\n",
    "~/.cache/go-build/README": "the host's go build cache\n",
    "~/.npm/_cacache/index-v5/00/entry": "the host's npm cache\n",
}


def plant_command():
    """Shell text that tries every plant, then leaves a marker and the env it
    saw; plain words only (Gemini CLI refuses command substitution)."""
    lines = []
    for p in PLANTS:
        path = p.replace("~/", "$HOME/", 1)
        lines.append('mkdir -p "%s" 2>/dev/null; echo PLANTED >> "%s" 2>/dev/null'
                     % (os.path.dirname(path), path))
    # into a directory that exists at start: without namespaces, new entries
    # at the top of the project (on the way to its protected files) get
    # reduced rights
    lines.append("env > ./out/agent-env.txt; echo ran > ./out/agent-marker.txt")
    return "; ".join(lines)


def certs(dirname, hosts):
    """A test CA and a leaf for HOSTS; returns (ca, cert, key) paths."""
    ca, cakey = os.path.join(dirname, "ca.pem"), os.path.join(dirname, "ca.key")
    cert, key = os.path.join(dirname, "leaf.pem"), os.path.join(dirname, "leaf.key")
    csr, ext = os.path.join(dirname, "leaf.csr"), os.path.join(dirname, "ext")
    q = {"check": True, "capture_output": True}
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", cakey, "-out", ca,
                    "-days", "2", "-subj", "/CN=ringfence agents test CA",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"], **q)
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=%s" % hosts[0]], **q)
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
                "basicConstraints=CA:FALSE\n" % ",".join("DNS:" + h for h in hosts))
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
                    "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext], **q)
    for p in (ca, cert):
        os.chmod(p, 0o644)
    return ca, cert, key


def tree_digest(root):
    """path -> sha256 (or 'dir', or 'link:TARGET') for everything under ROOT."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                try:
                    with open(p, "rb") as f:
                        out[rel] = hashlib.sha256(f.read()).hexdigest()
                except OSError as e:
                    out[rel] = "unreadable:%s" % e.errno
    return out


class Run:
    """One CLI, one user, one fresh home, one fake server."""

    def __init__(self, name, user, mode="answer", addr=None, namespaces=True):
        self.namespaces = namespaces
        # an address of its own: runs side by side never meet
        addr = addr or "127.77.%d.%d" % (random.randrange(256), random.randrange(1, 255))
        self.name, self.user, self.mode, self.addr = name, user, mode, addr
        self.spec = AGENTS[name]
        self.root = tempfile.mkdtemp(prefix="rf-agent-%s-" % name, dir=SCRATCH)
        os.chmod(self.root, 0o755)
        self.home = os.path.join(self.root, "home")
        self.work = os.path.join(self.home, "project")
        self.log = os.path.join(self.root, "audit.log")
        self.api_log = os.path.join(self.root, "api.jsonl")
        os.makedirs(os.path.join(self.work, "out"))
        self.key = real_key(name)
        self.server = None

    def p(self, rel):
        return os.path.join(self.home, rel[2:]) if rel.startswith("~/") else \
            os.path.join(self.work, rel[2:])

    def seed_host_files(self):
        """The host's own agent state and rc files, as a user's home has them."""
        for rel, text in HOST_FILES.items():
            path = self.p(rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    def own(self):
        if self.user == "nobody":
            os.chown(self.root, NOBODY, NOBODY)
            for dirpath, dirnames, filenames in os.walk(self.home):
                for n in [dirpath] + [os.path.join(dirpath, x) for x in filenames]:
                    os.lchown(n, NOBODY, NOBODY)

    def state_dir(self):
        return os.path.join(self.home, ".local", "state", "ringfence",
                            self.spec["policy"][:-len(".ini")])

    def host_view(self):
        """What the host trusts: the home outside ringfence's state directory
        and the project, plus the project's trusted files."""
        view = {}
        for rel, v in tree_digest(self.home).items():
            if rel == "project" or rel.startswith("project/"):
                continue
            if rel.startswith(".local/state/ringfence"):
                continue
            view["~/" + rel] = v
        for t in PROJECT_TRUSTED:
            path = os.path.join(self.work, t)
            if os.path.isdir(path) and not os.path.islink(path):
                view["./" + t] = "dir"
                for rel, v in tree_digest(path).items():
                    view["./%s/%s" % (t, rel)] = v
            elif os.path.lexists(path):
                view["./" + t] = tree_digest(self.work).get(t)
        return view

    def policy(self):
        shipped = os.path.join(TOP, "policies", self.spec["policy"])
        hosts = " ".join("%s=%s" % (h, self.addr) for h in self.spec["hosts"])
        text = ("[sandbox]\ninclude = %s\n"
                "[filesystem]\n; the CLIs installed for the tests\n"
                "read = %s\nexec = %s\n"
                "[network]\n; the API's names lead to the fake server\n"
                "hosts = %s\nallow_cidr = %s/32\nupstream_ca = %s\n"
                % (shipped, CACHE, CACHE, hosts, self.addr,
                   os.path.join(self.root, "ca.pem")))
        if not self.namespaces:
            text = text.replace("\n[filesystem]\n", "\nnamespaces = off\n[filesystem]\n", 1)
        if self.user == "root":
            text += "[process]\nrun_as = root\n"
        path = os.path.join(self.root, "test.ini")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_server(self):
        certs(self.root, self.spec["hosts"])
        argv = [sys.executable, os.path.join(HERE, "fakeapi.py"), self.addr,
                os.path.join(self.root, "leaf.pem"), os.path.join(self.root, "leaf.key"),
                self.api_log, self.mode, plant_command()]
        self.server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
        line = self.server.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("fake API did not start: %s" % self.server.stderr.read())

    def run(self, extra_argv=(), timeout=120, env=None):
        policy = self.policy()
        self.own()
        argv = [RINGFENCE, "-p", policy, "--log", self.log, "--",
                os.path.join(BIN, self.spec["bin"])] + self.spec["argv"] + list(extra_argv)
        if self.user == "nobody":
            argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                    "--clear-groups", "--"] + argv
        e = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.home,
             "TERM": "dumb", self.spec["key"]: self.key}
        e.update(self.spec["env"])
        if env:
            e.update(env)
        t = time.monotonic()
        r = subprocess.run(argv, cwd=self.work, env=e, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        r.elapsed = time.monotonic() - t
        return r

    def interactive(self, argv, keys=(), done=lambda screen: False, timeout=45, delay=0):
        """Starts the CLI's interactive mode on a terminal (script(1)); once
        its screen settles, types KEYS; waits until DONE(screen) or TIMEOUT;
        returns (still running?, screen text)."""
        policy = self.policy()
        self.own()
        cmd = [RINGFENCE, "-p", policy, "--log", self.log, "--",
               os.path.join(BIN, self.spec["bin"])] + list(argv)
        if self.user == "nobody":
            cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                   "--clear-groups", "--"] + cmd
        e = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.home,
             "TERM": "xterm-256color", self.spec["key"]: self.key}
        e.update(self.spec["env"])
        typescript = os.path.join(self.root, "typescript")
        line = "stty cols 120 rows 40; exec " + " ".join(shlex.quote(a) for a in cmd)
        p = subprocess.Popen(["script", "-qfec", line, typescript], cwd=self.work, env=e,
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)

        def screen():
            try:
                with open(typescript, errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                return ""
            return re.sub(r"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)",
                          "", text)

        def settle(limit):
            # until the screen has not changed for 2 s
            end, last, since = time.monotonic() + limit, None, time.monotonic()
            while time.monotonic() < end and p.poll() is None:
                cur = os.path.getsize(typescript) if os.path.exists(typescript) else 0
                if cur != last:
                    last, since = cur, time.monotonic()
                elif cur and time.monotonic() - since > 2:
                    return
                time.sleep(0.25)

        alive = False
        mark = 0
        try:
            settle(15)
            time.sleep(delay)
            for k in keys:
                if isinstance(k, tuple):
                    # (text, key[, then]): the key once TEXT is drawn after
                    # the last key typed (a loaded machine can settle early)
                    # and the screen is still; again while the frames
                    # drawn after it still hold TEXT, or none is drawn (a
                    # dialog drawn before its input is wired drops the
                    # key); with THEN, again until THEN is drawn (a dialog
                    # that draws itself once more before the next one)
                    text, k, then = k if len(k) == 3 else k + (None,)
                    flat = "".join(text.split())
                    end = time.monotonic() + 30
                    while time.monotonic() < end and p.poll() is None and \
                            flat not in "".join(screen()[mark:].split()):
                        time.sleep(0.25)
                    for _ in range(3):
                        settle(10)
                        mark = len(screen())
                        p.stdin.write(k.encode())
                        p.stdin.flush()
                        settle(10)
                        after = "".join(screen()[mark:].split())
                        if then is not None and "".join(then.split()) in after:
                            break
                        if then is None and after and flat not in after:
                            break
                    continue
                mark = len(screen())
                p.stdin.write(k.encode())
                p.stdin.flush()
                settle(10)
            end = time.monotonic() + timeout
            while time.monotonic() < end and p.poll() is None and not done(screen()):
                time.sleep(0.25)
            time.sleep(1)
            alive = p.poll() is None
        except BrokenPipeError:
            pass
        finally:
            p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        return alive, screen()

    def requests(self):
        if not os.path.exists(self.api_log):
            return []
        with open(self.api_log) as f:
            return [json.loads(line) for line in f]

    def audit(self):
        if not os.path.exists(self.log):
            return ""
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.server:
            self.server.kill()
            self.server.wait()

    def kill_leftovers(self):
        """Every process still running on this world's files: a TUI run under
        script(1) is in a session of its own, and an agent that ignores the
        SIGHUP of its closed terminal kept its sandbox (and ringfence, which
        waits for it) running after the test, for good."""
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if self.root.encode() in cmd:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass

    def cleanup(self):
        self.stop()
        self.kill_leftovers()
        shutil.rmtree(self.root, ignore_errors=True)
