# SPDX-License-Identifier: MIT
"""An upstream that answers each request as soon as its head has come, and
only then reads the body, on a small receive buffer.  Run inside the test
network namespace:

    early_upstream.py ADDR PORT LOG

Every request's target names the byte its body is made of and the body's
size (/B/N); the server checks that the body is exactly that and that the
next head starts where the body ended.  Each request adds one line to LOG:
"ok B N", or "DESYNC ..." with what it found.  Prints "ready" once it listens.
"""
import socket
import sys
import threading
import time


def serve(conn, log):
    conn.settimeout(10)
    f = conn.makefile("rb")
    try:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                c = f.read(1)
                if not c:
                    return
                head += c
                if len(head) > 65536:
                    log("DESYNC head too long: %r" % head[:80])
                    return
            line = head.split(b"\r\n")[0]
            parts = line.split(b" ")
            if len(parts) != 3 or parts[0] != b"POST" or not parts[1].startswith(b"/"):
                log("DESYNC request line %r" % line[:80])
                return
            _, b, n = parts[1].split(b"/")
            n = int(n)
            headers = {k.strip().lower(): v.strip() for k, v in
                       (h.split(b":", 1) for h in head.split(b"\r\n")[1:] if b":" in h)}
            if n == 0:
                log("ok %s 0" % b.decode())  # before the answer: the client's last
            # the answer first: the body is still on its way, and read
            # slower than the client sends it, so that the proxy holds some
            # of it when the client has sent the last byte
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            time.sleep(0.05)

            def slow(k):
                out = b""
                while len(out) < k:
                    piece = f.read(min(k - len(out), 16384))
                    if not piece:
                        break
                    out += piece
                    time.sleep(0.002)
                return out
            if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                body = b""
                while True:
                    size = int(f.readline().split(b";")[0], 16)
                    if size == 0:
                        f.readline()
                        break
                    body += slow(size)
                    f.readline()
            else:
                body = slow(int(headers.get(b"content-length", b"0")))
            if n == 0 and not body:
                continue
            if len(body) != n or body.strip(b) != b"":
                bad = body.replace(b, b"")
                log("DESYNC body of /%s/%d: %d bytes, foreign %r" %
                    (b.decode(), n, len(body), bad[:60]))
                return
            log("ok %s %d" % (b.decode(), n))
    except (OSError, ValueError) as e:
        log("DESYNC %r" % e)
    finally:
        conn.close()


def main():
    addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    lock = threading.Lock()

    def log(text):
        with lock, open(path, "a") as out:
            out.write(text + "\n")

    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited by each connection
    s.bind((addr, port))
    s.listen(16)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, log), daemon=True).start()


if __name__ == "__main__":
    main()
