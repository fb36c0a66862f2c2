# SPDX-License-Identifier: MIT
"""What the loader writes of ringfence at every start: the pages of its
relocated read-only data (GNU_RELRO).  Each is written at every start (a
page fault) and kept apart in every ringfence process, the supervisor and
init of each sandbox; the constant tables of strings hold their strings
in arrays so that they need no relocation (supervisor/supervisor.h, struct
sc_entry).  A pointer table of a few hundred bytes more makes this fail:
hold its strings in arrays too (STRING_TABLE_BEGIN, common/macros.h)."""
import os
import re
import struct
import subprocess

import pytest

from conftest import RINGFENCE, SANITIZED

PT_GNU_RELRO = 0x6474E552
ET_DYN = 3
PAGE = 4096


def relro(path):
    """(ELF type, [(vaddr, memsz)] of each GNU_RELRO segment)."""
    with open(path, "rb") as f:
        head = f.read(64)
        assert head[:4] == b"\x7fELF" and head[4] == 2, "not a 64-bit ELF file"
        e_type = struct.unpack_from("<H", head, 16)[0]
        phoff = struct.unpack_from("<Q", head, 32)[0]
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type = struct.unpack_from("<I", table, i * phentsize)[0]
        vaddr = struct.unpack_from("<Q", table, i * phentsize + 16)[0]
        memsz = struct.unpack_from("<Q", table, i * phentsize + 40)[0]
        if p_type == PT_GNU_RELRO:
            segs.append((vaddr, memsz))
    return e_type, segs


def test_the_loader_writes_two_pages_of_ringfence_at_most():
    e_type, segs = relro(RINGFENCE)
    if SANITIZED or e_type != ET_DYN:
        pytest.skip("a position-dependent build (the sanitizers'): its tables are not relocated")
    # the build asks for full RELRO (-z relro -z now): the segment is there
    assert len(segs) == 1, segs
    vaddr, memsz = segs[0]
    assert memsz > 0
    pages = (vaddr % PAGE + memsz + PAGE - 1) // PAGE
    assert pages <= 2, (
        "GNU_RELRO is %d bytes over %d pages: a constant table of pointers was "
        "added (nm -S --size-sort %s, the objects in .data.rel.ro)" % (memsz, pages, RINGFENCE))


def layout(path):
    """{section: (address, size)}, {symbol: address} of PATH."""
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True,
                         check=True).stdout
    secs = {m.group(1): (int(m.group(2), 16), int(m.group(3), 16)) for m in re.finditer(
        r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", out)}
    out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3:
            syms.setdefault(f[2], int(f[0], 16))
    return secs, syms


def test_a_start_reads_a_corner_of_the_binary():
    """The build lays out the functions a start runs (layout.order) before
    the rest of the text, and the large tables a start reads little of
    (the built-in seccomp programs, one of which it reads, the syscall
    table, and Python's standard names, a binary search of which reads a
    few) after the rest of the read-only data (Makefile:
    build/layout.ld): the kernel maps a binary 64 KiB around each page
    touched, and a start that reached all over it kept most of it resident
    (test_sandbox.py: test_the_code_a_start_runs_is_laid_out_together)."""
    secs, syms = layout(RINGFENCE)
    assert ".text.first" in secs and ".rodata.last" in secs, sorted(secs)

    def within(sym, sec):
        start, size = secs[sec]
        return start <= syms[sym] < start + size

    names = [n.strip() for n in open(os.path.join(os.path.dirname(__file__), "..", "..",
                                                  "layout.order"))
             if n.strip() and not n.startswith("#") and n.strip() in syms]
    assert len(names) > 300, len(names)
    assert [n for n in names if not within(n, ".text.first")] == []
    for sym in ("seccomp_cache_insns", "seccomp_table", "py_names"):
        assert within(sym, ".rodata.last"), sym
    # what a start reads of the rest: under 128 KiB (a sanitizer's build
    # pads every object and string of it)
    if not SANITIZED:
        assert secs[".rodata"][1] < 128 * 1024, secs[".rodata"]
