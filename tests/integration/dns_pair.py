# SPDX-License-Identifier: MIT
"""Two DNS servers that answer together, for the resolver's socket life
cycle.  Run inside the test network namespace:

    dns_pair.py ADDR1 ADDR2 IPV4

A query reaching ADDR1 is held.  When the same query comes again to ADDR2
(the resolver's retry after its timeout), both servers answer every held
query at the same instant, ADDR1 first: the answer that ends the resolver's
last query comes while the other server's socket is readable too.  Every
name resolves to IPV4 (A) and to nothing (AAAA).  Prints "ready".
"""
import socket
import struct
import sys
import threading


def answer(q, ipv4):
    i = 12
    while q[i]:
        i += q[i] + 1
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    answers = []
    if qtype == 1:
        answers.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(ipv4))
    hdr = q[:2] + struct.pack("!HHHHH", 0x8180, 1, len(answers), 0, 0)
    return hdr + question + b"".join(answers)


def main():
    a1, a2, ipv4 = sys.argv[1], sys.argv[2], sys.argv[3]
    s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s1.bind((a1, 53))
    s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s2.bind((a2, 53))
    held = {}  # the question (without its id) -> [(query, peer) at ADDR1]
    lock = threading.Lock()

    def first():
        while True:
            q, peer = s1.recvfrom(512)
            with lock:
                held.setdefault(q[2:], []).append((q, peer))

    threading.Thread(target=first, daemon=True).start()
    print("ready", flush=True)
    second = []
    while True:
        q, peer = s2.recvfrom(512)
        second.append((q, peer))
        with lock:
            waiting = sum(len(v) for v in held.values())
        if len(second) < waiting:
            continue  # the resolver asks A and AAAA: answer once both came
        with lock:
            out1 = [x for v in held.values() for x in v]
            held.clear()
        for q1, p1 in out1:
            s1.sendto(answer(q1, ipv4), p1)
        for q2, p2 in second:
            s2.sendto(answer(q2, ipv4), p2)
        second = []


if __name__ == "__main__":
    main()
