# SPDX-License-Identifier: MIT
"""The walk while the sandbox runs (protwatch.c's found repositories), attacked
as the sandboxed command would: README ("While the sandbox runs") and
SECURITY.md say a host git run in a repository the walk found obeys what the
sandbox wrote there only for the window of a file event (milliseconds).

Each test waits until the walk has found a repository the walk at start does
not guard (three levels down), plants there, by a way that makes no event
the supervisor acts on, something a host git runs, gives the supervisor a
second (hundreds of times the window of a file event), and runs the host's
git there; four times.  Decoy repositories (empty bare ones, which the
sandbox may make anywhere it writes) stretch the round of the 250 ms tick
(16 repositories a tick) to half a minute, so that what only that round or the
next walk sees stays for seconds, not milliseconds."""
import os
import time

from test_protect import planted
from test_protect_deep import gone, host, host_repo, owned
from test_protect_deep import in_steps as deep_in_steps

# empty bare repositories (HEAD, objects, refs) the walk finds and hands over
N_DECOYS = 200
# canaries (a hook in a few of them) tell when the walk has been through
# them: the round starts once the supervisor watches them all (left: one
# is still there; in the shell, not an ls and a grep every 50 ms)
CANARIES = (1, N_DECOYS // 3, 2 * N_DECOYS // 3, N_DECOYS)
DECOYS = ("mkdir -p p/q/r/dec && cd p/q/r/dec && seq 1 %d | sed 's|.*|&/objects &/refs &/hooks|' | "
          "xargs mkdir -p && seq 1 %d | sed 's|$|/HEAD|' | xargs touch && "
          "for c in %s; do touch $c/hooks/pre-commit; done && i=0; "
          "left() { for h in %s; do { [ -e $h ] || [ -L $h ]; } && return 0; done; return 1; }; "
          "while left && [ $i -lt 1800 ]; do sleep 0.05; i=$((i+1)); done; "
          "left || echo decoys-found; cd - >/dev/null && sleep 1"
          % (N_DECOYS, N_DECOYS, " ".join(map(str, CANARIES)),
             " ".join("%d/hooks/pre-commit" % c for c in CANARIES)))
# what the claim allows, and far more: the window of a file event is
# milliseconds
WINDOW = 1.0
ROUNDS = 4


def in_steps(box, steps, pol=None):
    """test_protect_deep.in_steps(), with time for the decoys to be made and
    walked (its 30 s a step is short on a loaded machine)."""
    return deep_in_steps(box, steps, pol=pol, step_timeout=150)


def attack(box, setup, plant, planted_at, host_cmd, prepare=None):
    """SETUP once the repository a/b/x/c is watched, then PLANT (ROUNDS
    times): after each, PLANTED_AT (relative to the project) must be gone
    within WINDOW and HOST_CMD, run there as the host, must run nothing the
    sandbox planted."""
    owned(box, "p/q/r", "data")
    host_repo(box, "a/b/x/c")
    script, mark = planted(box)
    if prepare:
        r = host(box, ["sh", "-c", prepare % {"script": script}])
        assert r.returncode == 0, r.stderr
        # a change in the clock tick the run starts in counts as the run's
        time.sleep(0.05)
    steps = [DECOYS + " && " + setup % {"script": script}]
    steps += ["%s && echo planted%d" % (plant % {"script": script}, n) for n in range(ROUNDS)]
    stayed = []
    for i in in_steps(box, steps):
        if not isinstance(i, int):
            r = i
            break
        if i == 0:
            continue
        if not gone(box.path("work", planted_at), WINDOW):
            stayed.append(i)
        h = host(box, ["sh", "-c", host_cmd + "; true"])
        if os.path.exists(mark):
            stayed.append("the host's git ran it (round %d): %s" % (i, h.stdout + h.stderr))
            os.unlink(mark)
    # positive control: the sandbox planted each time
    for n in range(ROUNDS):
        assert "planted%d" % n in r.stdout, r.stdout + r.stderr
    assert stayed or "decoys-found" in r.stdout, (
        "the walk never handed the decoys over: " + r.stdout + r.stderr)
    assert not stayed, ("%s still there %.1f s after the sandbox wrote it, in rounds %s"
                        % (planted_at, WINDOW, stayed))


def test_git_directory_renamed_away_and_back_stays_watched(box):
    """`mv .git g && mv g .git`: the watch on the git directory is dropped on
    its IN_MOVE_SELF and, the directory being the same one (same inode) when
    it is back, never placed again (found_watch() places it only for another
    inode); core.fsmonitor written then is an event nobody reads."""
    attack(box, "mv a/b/x/c/.git a/b/x/c/g && mv a/b/x/c/g a/b/x/c/.git",
           "sleep 0.2 && git -C a/b/x/c config core.fsmonitor %(script)s",
           "a/b/x/c/.git/config", "cd a/b/x/c && git status --short")


def test_config_written_through_a_hard_link_is_checked_at_once(box):
    """The config written through a hard link in another directory: the
    IN_MODIFY goes to that directory, not to the watched git directory."""
    attack(box, "true",
           "rm -f data/cfg && { [ -e a/b/x/c/.git/config ] || git -C a/b/x/c config core.bare false; }"
           " && ln a/b/x/c/.git/config data/cfg && sleep 0.2 && "
           "printf '[core]\\n\\tfsmonitor = %(script)s\\n' >> data/cfg",
           "a/b/x/c/.git/config", "cd a/b/x/c && git status --short")


def test_submodule_git_directory_is_watched(box):
    """A submodule's git directory, .git/modules/m of the repository found:
    gitscan_gitdir() checks it, but nothing watches it, so core.fsmonitor
    written there waits for the tick's round or the next walk."""
    attack(box, "true",
           "sleep 0.2 && git --git-dir=a/b/x/c/.git/modules/m config core.fsmonitor %(script)s",
           "a/b/x/c/.git/modules/m/config", "cd a/b/x/c/m && git status --short",
           prepare="cd a/b/x/c && mkdir -p .git/modules && "
                   "git init -q --separate-git-dir=$PWD/.git/modules/m m && "
                   "git -C m commit -q --allow-empty -m i" + (
                       " && chown -R 65534:65534 ." if box.user == "nobody" else ""))


def test_hooks_path_directory_is_watched(box):
    """The host's own core.hooksPath (.githooks in the worktree, as hook
    managers set it): the sandbox rewrites the host's pre-commit there; the
    directory is checked (the config points at it) but not watched."""
    attack(box, "true",
           "sleep 0.2 && cat %(script)s > a/b/x/c/.githooks/pre-commit",
           "a/b/x/c/.githooks/pre-commit",
           "cd a/b/x/c && git commit -q --allow-empty -m host",
           prepare="cd a/b/x/c && mkdir .githooks && printf '#!/bin/sh\\nexit 0\\n' > "
                   ".githooks/pre-commit && chmod 755 .githooks/pre-commit && "
                   "git config core.hooksPath .githooks" + (
                       " && chown -R 65534:65534 ." if box.user == "nobody" else ""))


def test_control_a_hook_written_plainly_is_gone_within_the_window(box):
    """Positive control for the tests above (it passes): the same decoys,
    the same window, a hook written plainly into the watched hooks/ is
    gone in time and the host's commit runs nothing."""
    attack(box, "true", "sleep 0.2 && cp %(script)s a/b/x/c/.git/hooks/pre-commit",
           "a/b/x/c/.git/hooks/pre-commit", "cd a/b/x/c && git commit -q --allow-empty -m host")
