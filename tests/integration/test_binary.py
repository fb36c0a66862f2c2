# SPDX-License-Identifier: MIT
"""What the loader writes of ringfence at every start: the pages of its
relocated read-only data (GNU_RELRO).  Each is written at every start (a
page fault) and kept apart in every ringfence process, the supervisor and
init of each sandbox; the constant tables of strings hold their strings
in arrays so that they need no relocation (supervisor/supervisor.h, struct
sc_entry).  A pointer table of a few hundred bytes more makes this fail:
hold its strings in arrays too (STRING_TABLE_BEGIN, common/macros.h)."""
import struct

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
