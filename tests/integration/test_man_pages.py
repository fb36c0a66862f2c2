# SPDX-License-Identifier: MIT
"""The man pages keep up with the code: every key the policy parser accepts
(the keys_* tables of policy/parse_keys.c) has an entry under its section in
ringfence.ini(5), and no entry there names a key the parser refuses; every
option and subcommand of supervisor/cli.c is in ringfence(1).  Both pages
render without a single groff or man warning (also `make man-check`)."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PARSE_C = os.path.join(ROOT, "policy", "parse_keys.c")
CLI_C = os.path.join(ROOT, "supervisor", "cli.c")
PAGE_1 = os.path.join(ROOT, "doc", "ringfence.1")
PAGE_5 = os.path.join(ROOT, "doc", "ringfence.ini.5")

# man-db formats for an 80-column terminal; `make man-check` uses the same
MAN_ENV = {"LC_ALL": "C.UTF-8", "MANROFFSEQ": "", "MANWIDTH": "80", "PATH": os.environ["PATH"]}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def strings(text):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)


def parser_keys(src):
    """{section header: [keys]} from the keys_* tables and section_names of
    parse_keys.c; a table with no matching section name gets [NAME]."""
    m = re.search(r"section_names\[\]\s*=\s*\{(.*?)\};", src, re.S)
    assert m, "section_names[] not found in policy/parse_keys.c"
    sections = strings(m.group(1))
    tables = re.findall(r"\bkeys_(\w+)\[\]\s*=\s*\{(.*?)\};", src, re.S)
    out = {}
    for name, body in tables:
        header = next((s for s in sections if s.split()[0] == name), name)
        out["[%s]" % header] = strings(body)
    return out


def render(path, ascii_only=True):
    """The page as man shows it, as plain text, and what man said on stderr."""
    assert shutil.which("man"), "man is not installed (make deps installs man-db)"
    r = subprocess.run(["man", "--warnings", "-E", "ascii" if ascii_only else "UTF-8", "-l", path],
                       env=MAN_ENV, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return re.sub(r".\x08", "", r.stdout), r.stderr


def subsections(text):
    """{subsection title: its text} for the titles under SECTIONS."""
    out, title, lines = {}, None, []
    in_sections = False
    for line in text.splitlines():
        if re.match(r"^\S", line):  # a .Sh heading (or the page header)
            if title:
                out[title] = "\n".join(lines)
            title, lines = None, []
            in_sections = line.strip() == "SECTIONS"
            continue
        m = re.match(r"^   (\S.*)$", line)  # a .Ss heading
        if in_sections and m:
            if title:
                out[title] = "\n".join(lines)
            title, lines = m.group(1).strip(), []
            continue
        lines.append(line)
    if title:
        out[title] = "\n".join(lines)
    return out


def documented_keys(chunk):
    """The keys given a tagged entry, `key = ...` at the tag's indent."""
    return re.findall(r"^     ([a-z_]+) = ", chunk, re.M)


def key_problems(src, page_text):
    """What the man page lacks or has too many, as lines."""
    problems = []
    want = parser_keys(src)
    have = subsections(page_text)
    for section, keys in want.items():
        if section not in have:
            problems.append("%s: no subsection in ringfence.ini(5)" % section)
            continue
        doc = documented_keys(have[section])
        for k in keys:
            if k not in doc:
                problems.append("%s %s: accepted by the parser, not documented" % (section, k))
        for k in doc:
            if k not in keys:
                problems.append("%s %s: documented, not accepted by the parser" % (section, k))
    for section in have:
        if section not in want:
            problems.append("%s: documented, not a section the parser knows" % section)
    return problems


def cli_words(src):
    """Options and subcommands of cli.c."""
    opts = set(re.findall(r'"(--[a-z][a-z-]*)=?"', src)) | set(re.findall(r'"(-[a-zA-Z])"', src))
    subcommands = set(re.findall(r'strcmp\(argv\[1\], "([a-z]+)"\)', src))
    return opts, subcommands


def heading(text, name):
    m = re.search(r"^%s\n(.*?)(?=^\S)" % name, text, re.S | re.M)
    return m.group(1) if m else ""


def option_problems(src, page_text):
    problems = []
    opts, subcommands = cli_words(src)
    options = heading(page_text, "OPTIONS")
    synopsis = heading(page_text, "SYNOPSIS")
    for o in sorted(opts):
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), options):
            problems.append("%s: an option of cli.c, not under OPTIONS in ringfence(1)" % o)
    for o in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", options)):
        if o not in opts:
            problems.append("%s: under OPTIONS, not an option of cli.c" % o)
    for s in sorted(subcommands):
        if not re.search(r"^\s+ringfence %s\b" % s, synopsis, re.M):
            problems.append("%s: a subcommand of cli.c, not in the SYNOPSIS" % s)
    return problems


def test_every_parser_key_is_in_ringfence_ini_5():
    src = read(PARSE_C)
    text, _ = render(PAGE_5)
    assert key_problems(src, text) == []


def test_every_option_is_in_ringfence_1():
    src = read(CLI_C)
    text, _ = render(PAGE_1)
    assert option_problems(src, text) == []


@pytest.mark.parametrize("page", [PAGE_1, PAGE_5], ids=os.path.basename)
def test_pages_render_without_warnings(page):
    _, err = render(page, ascii_only=False)
    assert err == ""


def test_extraction_finds_the_tables():
    """Positive control for the coverage tests: they see what is there."""
    keys = parser_keys(read(PARSE_C))
    assert {"[sandbox]", "[filesystem]", "[network]", "[credential NAME]", "[process]",
            "[syscalls]", "[log]"} <= set(keys)
    assert "private_tmp" in keys["[filesystem]"] and "memory_max" in keys["[network]"]
    assert sum(len(v) for v in keys.values()) >= 40
    opts, subcommands = cli_words(read(CLI_C))
    assert {"--allow-read", "--allow-domain", "--no-network", "--policy", "-p", "-n"} <= opts
    assert subcommands == {"check", "explain", "probe", "learn"}
    text, _ = render(PAGE_5)
    assert "include" in documented_keys(subsections(text)["[sandbox]"])


def test_a_missing_key_or_option_is_caught():
    """A key added to a table, a table added, an option or subcommand added
    to cli.c, or a key documented that the parser does not know: each is
    reported (compared with what the tree itself gives, so that this control
    holds while the coverage tests above fail)."""
    src = read(PARSE_C)
    text, _ = render(PAGE_5)
    base = set(key_problems(src, text))

    def new_key_problems(changed):
        assert changed != src
        return set(key_problems(changed, text)) - base

    assert new_key_problems(src.replace('"private_tmp"', '"private_tmp", "made_up_key"', 1)) == {
        "[filesystem] made_up_key: accepted by the parser, not documented"}
    assert new_key_problems(src.replace("static const char *const keys_log[]",
                                        'static const char *const keys_extra[] = { "x" };\n'
                                        "static const char *const keys_log[]", 1)) == {
        "[extra]: no subsection in ringfence.ini(5)"}
    assert new_key_problems(src.replace('"memory_max"', "", 1)) == {
        "[network] memory_max: documented, not accepted by the parser"}

    cli = read(CLI_C)
    page1, _ = render(PAGE_1)
    base1 = set(option_problems(cli, page1))

    def new_option_problems(changed):
        assert changed != cli
        return set(option_problems(changed, page1)) - base1

    assert new_option_problems(cli.replace(
        '{"--log",', '{"--made-up", POLICY_OVERRIDE_LOG, true},\n    {"--log",', 1)) == {
        "--made-up: an option of cli.c, not under OPTIONS in ringfence(1)"}
    assert "made: a subcommand of cli.c, not in the SYNOPSIS" in new_option_problems(
        cli.replace('strcmp(argv[1], "probe")', 'strcmp(argv[1], "made")', 1))


def test_a_warning_is_caught(tmp_path):
    """Positive control for the warning check: a page with an unknown macro."""
    bad = tmp_path / "bad.1"
    bad.write_text(read(PAGE_1).replace(".Sh OPTIONS", ".Xyzzy foo\n.Sh OPTIONS", 1))
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", str(bad)], env=MAN_ENV,
                       capture_output=True, text=True, check=False)
    assert r.stderr != ""
