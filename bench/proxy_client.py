# SPDX-License-Identifier: MIT
"""Client side of bench/proxy.sh; talks only to 127.0.0.1.

  proxy_client.py latency N HOST PORT [PROXY]   new connection + tiny GET, N times;
                                                 prints the median and p90 in microseconds
  proxy_client.py idle N HOST PORT PROXY FLAG   opens N CONNECT tunnels, creates FLAG,
                                                 holds them until FLAG is removed
  proxy_client.py stall N HOST PORT PROXY FLAG   opens N connections that each ask for
                                                 /big.bin and never read (PROXY "-": to the
                                                 origin directly; else half CONNECT, half
                                                 forwarded), creates FLAG, holds them until
                                                 FLAG is removed
  proxy_client.py heads N HOST PORT PROXY FLAG    opens N connections that stall mid-head:
                                                 half CONNECT then 60 KB of a ClientHello
                                                 split across records, never finished,
                                                 half a forwarded 12 KB head never ended;
                                                 creates FLAG, holds them until it is removed
  proxy_client.py tls-latency N NAME PORT PROXY  new connection + TLS + tiny GET to NAME
                                                 (PROXY "-": to 127.0.0.1 directly); trusts
                                                 $SSL_CERT_FILE
"""
import os
import socket
import ssl
import statistics
import sys
import time


def one(host, port, proxy, tls=None):
    t0 = time.perf_counter_ns()
    if proxy:
        ph, pp = proxy.rsplit(":", 1)
        s = socket.create_connection((ph, int(pp)))
        s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port, host, port)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        assert b" 200 " in head.split(b"\r\n")[0], head
    else:
        s = socket.create_connection(("127.0.0.1" if tls else host, port))
    if tls:
        s = tls.wrap_socket(s, server_hostname=host)
    s.sendall(b"GET /tiny.txt HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host.encode())
    data = b""
    while True:
        c = s.recv(4096)
        if not c:
            break
        data += c
    s.close()
    assert data.endswith(b"ok\n"), data[:100]
    return (time.perf_counter_ns() - t0) / 1000


def main():
    what, n, host, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    proxy = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
    tls = None
    if what == "tls-latency":
        tls = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
        what = "latency"
    if what == "latency":
        for _ in range(20):
            one(host, port, proxy, tls)  # warm-up
        t = sorted(one(host, port, proxy, tls) for _ in range(n))
        print("median_us=%.0f p90_us=%.0f" % (statistics.median(t), t[int(len(t) * 0.9)]))
    elif what == "idle":
        flag = sys.argv[6]
        ph, pp = proxy.rsplit(":", 1)
        socks = []
        for _ in range(n):
            s = socket.create_connection((ph, int(pp)))
            s.sendall(("CONNECT %s:%d HTTP/1.1\r\n\r\n" % (host, port)).encode())
            socks.append(s)
        for s in socks:
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            assert b" 200 " in head, head
        open(flag, "w").close()
        for _ in range(600):
            if not os.path.exists(flag):
                break
            time.sleep(0.05)
        print("held %d tunnels" % len(socks))
    elif what == "stall":
        flag = sys.argv[6]
        socks = []
        get = b"GET /big.bin HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port)
        for i in range(n):
            try:
                if not proxy:
                    s = socket.create_connection((host, port))
                    s.sendall(get)
                else:
                    ph, pp = proxy.rsplit(":", 1)
                    s = socket.create_connection((ph, int(pp)))
                    if i % 2:
                        s.sendall(b"GET http://%s:%d/big.bin HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                                  % (host.encode(), port, host.encode(), port))
                    else:
                        s.sendall(("CONNECT %s:%d HTTP/1.1\r\n\r\n" % (host, port)).encode())
                socks.append((i, s))
            except OSError as e:
                print("connection %d: %s" % (i, e), file=sys.stderr)
                break
        for i, s in socks:
            if proxy and i % 2 == 0:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += s.recv(1)  # the 200 only, not a byte of the body
                s.sendall(get)
        open(flag, "w").close()
        for _ in range(1200):
            if not os.path.exists(flag):
                break
            time.sleep(0.05)
        print("held %d connections" % len(socks))

    elif what == "heads":
        flag = sys.argv[6]
        ph, pp = proxy.rsplit(":", 1)
        socks = []
        hello = bytes([1]) + (65000).to_bytes(3, "big") + b"\x03\x03" + b"\0" * 59994
        for i in range(n):
            try:
                s = socket.create_connection((ph, int(pp)))
                if i % 2:
                    s.sendall(b"GET http://%s:%d/ HTTP/1.1\r\nHost: %s:%d\r\nX-Pad: %s\r\n"
                              % (host.encode(), port, host.encode(), port, b"a" * 12000))
                else:
                    s.sendall(("CONNECT %s:%d HTTP/1.1\r\n\r\n" % (host, port)).encode())
                socks.append((i, s))
            except OSError as e:
                print("connection %d: %s" % (i, e), file=sys.stderr)
                break
        for i, s in socks:
            if i % 2 == 0:
                try:
                    head = b""
                    while b"\r\n\r\n" not in head:
                        head += s.recv(1)
                    for k in range(0, len(hello), 16000):
                        part = hello[k:k + 16000]
                        s.sendall(b"\x16\x03\x01" + len(part).to_bytes(2, "big") + part)
                except OSError:
                    pass
        time.sleep(1)
        answered = 0
        for i, s in socks:
            s.setblocking(False)
            try:
                s.recv(1)
                answered += 1  # an answer, or the close
            except BlockingIOError:
                pass
            except OSError:
                answered += 1
        open(flag, "w").close()
        for _ in range(1200):
            if not os.path.exists(flag):
                break
            time.sleep(0.05)
        print("held %d connections (%d answered at once)" % (len(socks), answered))


if __name__ == "__main__":
    main()
