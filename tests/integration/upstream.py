# SPDX-License-Identifier: MIT
"""Upstream servers for the network tests, run inside a test network namespace.

    upstream.py CERT KEY

HTTP on every address given in ADDRS (port 80 and 8080), HTTPS on the first
(port 443), line protocols on the first (2525, 2222, 2526), and a DNS server
on 127.0.0.53:53 answering from ZONE.  Prints
"ready" once everything listens.  Nothing here ever leaves the namespace: its
only interface is lo.
"""
import base64
import gzip
import hashlib
import http.server
import json
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

ADDRS = ["93.184.215.14", "93.184.215.15", "10.77.0.1", "127.0.0.1", "2606:4700:10::1"]
ZONE = {
    "good.test": ["93.184.215.14"],
    "other.test": ["93.184.215.15"],
    "bad.good.test": ["93.184.215.14"],
    "inside.test": ["10.77.0.1"],
    "mixed.test": ["93.184.215.14", "10.77.0.1"],
    "meta.test": ["169.254.169.254"],
    "loop.test": ["127.0.0.1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "v6.test": ["2606:4700:10::1"],
    "wrong.test": ["93.184.215.14"],  # served good.test's certificate
    # a search domain's name (test_tunnel_review_attacks): never asked
    "x.good.test.corp.test": ["93.184.215.15"],
}
# The secret the private git repository takes (tests/integration/test_credentials.py)
GIT_SECRET = "ghp_realSecretValue0123456789abcdef"
QUERIES = []  # names asked, for "a denied name is never resolved"
STORE = {}  # /store/KEY?VALUE, read back from /stored/KEY (test_reflection.py)


def seen(h):
    text = "%s %s\n%s" % (h.command, h.path, h.headers)
    return ("hex:%s\n" % text.encode().hex()).encode()


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, body, code=200, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        query = self.path.split("?")[1] if "?" in self.path else ""
        if path in ("/oobbig", "/oobbigend", "/oobsmall"):
            # a body long enough to be spliced (netproxy/spliced.c), with
            # urgent data in its third part (oobbigend: then the end at
            # once); oobsmall: the mark where the buffers carry the rest
            body = bytes(range(256)) * 400  # 102400
            if path == "/oobsmall":
                body = body[:50000]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            c = self.connection
            c.sendall(body[:20000])
            time.sleep(0.3)
            c.sendall(body[20000:40000])
            time.sleep(0.3)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            c.send(b"X", socket.MSG_OOB)
            c.sendall(body[40000:])
            if path == "/oobbigend":
                c.shutdown(socket.SHUT_WR)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            time.sleep(20)
        elif path == "/oob":
            # a body of 9 bytes sent around TCP urgent data, in one segment:
            # a read stops at the urgent mark with the rest still queued
            # (test_net_final_attacks.py); the connection then stays open
            self.send_response(200)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.flush()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            self.connection.send(b"abc")
            self.connection.send(b"X", socket.MSG_OOB)
            self.connection.send(b"defghi")
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            time.sleep(20)
        elif path == "/ooo":
            # a response in two crafted segments (test_net_final_attacks.py):
            # an urgent pointer ahead of its byte (ooo_send)
            body = b"0123456789" * 12
            ooo_send(self.connection,
                     b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body, 60, 90)
            time.sleep(20)
        elif path == "/hello":
            self.reply(("hello from %s\n" % self.server.server_address[0]).encode())
        elif path == "/resumed":
            # whether this TLS connection resumed a session (test_credentials.py)
            self.reply(("resumed %s\n" % getattr(self.request, "session_reused", None)).encode())
        elif path == "/headers":
            self.reply(("%s %s\n%s" % (self.command, self.path, self.headers)).encode())
        elif path == "/seen":
            # what /headers says, hex-encoded: what the upstream received,
            # in a form the proxy's reflection scan does not take for a secret
            self.reply(seen(self))
        elif path == "/big":
            n = int(query.split("=")[1])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            block = bytes(range(256)) * 256
            while n > 0:
                chunk = block[:min(n, len(block))]
                self.wfile.write(chunk)
                n -= len(chunk)
        elif path in ("/bigchunked", "/bigclose", "/bigextra", "/bigcorked"):
            self.big(int(query.split("=")[1]), path[4:])
        elif path.startswith("/bigstored/"):
            q = dict(kv.split("=") for kv in query.split("&"))
            self.big(int(q["n"]), q["f"], STORE.get(path[len("/bigstored/"):], b""))
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(50):
                data = ("line %d\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            key = self.headers["Sec-WebSocket-Key"]
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            # one masked text frame in, echoed unmasked
            hdr = self.rfile.read(2)
            n = hdr[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.rfile.read(2))[0]
            mask = self.rfile.read(4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
            out = b"echo:" + data
            self.wfile.write(bytes([0x81, len(out)]) + out)
            self.wfile.flush()
            self.close_connection = True
        elif path in ("/echo-chunked", "/echo-chunked-ext", "/gzip", "/gzip-ok", "/redirect", "/cookie", "/echo-ws",
                      "/echo-close", "/echo-json", "/echo-stacked", "/echo-b64wrap"):
            self.echo(path, query)
        elif path.startswith("/store/"):
            STORE[path[len("/store/"):]] = query.encode()
            self.reply(b"stored\n")
        elif path.startswith("/stored/"):
            self.stored(path[len("/stored/"):], query)
        elif path.startswith(("/repo", "/simple/", "/packages/")):
            # git's dumb HTTP, and a package index (test_learn.py)
            super().do_GET()
        elif path.startswith("/private/"):
            # the dumb-HTTP repository again, behind Basic authentication
            want = "Basic " + base64.b64encode(("x-access-token:" + GIT_SECRET).encode()).decode()
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="private"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.path = self.path[len("/private"):]
            super().do_GET()
        else:
            self.reply(b"not found\n", 404)

    def big(self, n, framing, middle=b""):
        """N bytes of /big's pattern (MIDDLE in their middle), framed by
        a length, in 32 KiB chunks or by the close, or with a response
        nobody asked for right behind it (extra): bodies the proxy splices
        (test_network.py, test_reflection.py).  Corked: by the close, its
        last bytes (the whole response when it is small) held back and sent
        in one segment with the FIN, so that the proxy's one event for them
        says both "data" and "end"."""
        block = bytes(range(256)) * 256
        body = (block * (n // len(block) + 1))[:n]
        body = body[:n // 2] + middle + body[n // 2 + len(middle):]
        tail = 1000 if framing == "corked" and n > 4096 else n
        if framing == "corked" and tail == n:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        self.send_response(200)
        if framing in ("length", "extra"):
            self.send_header("Content-Length", str(len(body)))
        elif framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if framing == "chunked":
            for i in range(0, len(body), 32768):
                part = body[i:i + 32768]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif framing == "extra":
            self.wfile.write(body + b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsmuggled\n")
        elif framing == "corked":
            self.wfile.write(body[:n - tail])
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            self.wfile.write(body[n - tail:])  # sent with the FIN, at the close
        else:
            self.wfile.write(body)

    def stored(self, key, query):
        """What /store/KEY stored, read back as a storage API would hand
        it: a range of it (206) when asked, gzip-compressed when asked
        (Accept-Encoding) or always (?gzip, a blob stored compressed)."""
        data = STORE.get(key, b"")
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and data:
            a, b = rng[6:].split("-")
            a, b = int(a), min(int(b), len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, len(data)))
            data = data[a:b + 1]
        else:
            self.send_response(200)
        if query == "gzip" or "gzip" in self.headers.get("Accept-Encoding", ""):
            data = gzip.compress(data)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def echo(self, path, query):
        """Hands back what it was sent, in the ways a real upstream may:
        for the reflection tests (test_reflection.py)."""
        text = ("%s %s\n%s" % (self.command, self.path, self.headers)).encode()
        if path in ("/echo-chunked", "/echo-chunked-ext"):
            # in 7-byte chunks: any secret longer than that is split (and,
            # -ext, each chunk's size followed by an extension, which a
            # client drops, joining the data around it)
            ext = b";e=v" if path == "/echo-chunked-ext" else b""
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(text), 7):
                self.wfile.write(b"%x%s\r\n%s\r\n" % (len(text[i:i + 7]), ext, text[i:i + 7]))
            self.wfile.write(b"0\r\n\r\n")
        elif path in ("/gzip", "/gzip-ok"):
            # /gzip compresses whatever was asked; /gzip-ok only when asked
            if path == "/gzip" or "gzip" in self.headers.get("Accept-Encoding", ""):
                body = gzip.compress(text)
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip")
            else:
                body = text
                self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == "/echo-json":
            # X-T with every character as a JSON \u escape
            t = "".join("\\u%04x" % ord(ch) for ch in self.headers.get("X-T", ""))
            self.reply(('{"t": "%s"}\n' % t).encode(), ctype="application/json")
        elif path == "/echo-stacked":
            # X-T written twice, as a JSON value is when quoted again:
            # JSON (with '/' as '\\/', as PHP writes it) inside JSON
            # (json2) or a URL (jsonurl, a redirect), or every character
            # percent-encoded twice (url2)
            t = self.headers.get("X-T", "")
            once = json.dumps(t).replace("/", "\\/")
            if query == "f=jsonurl":
                self.send_response(302)
                self.send_header("Location", "https://good.test/elsewhere?e=" +
                                 "".join("%%%02X" % b if chr(b) not in "-._~" and not chr(b).isalnum()
                                         else chr(b) for b in once.encode()))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if query == "f=json2":
                body = json.dumps({"error": once}).replace("/", "\\/")
            else:
                body = "".join("%%%02X" % ord(c) for c in "".join("%%%02X" % ord(c) for c in t))
            self.reply((body + "\n").encode(), ctype="application/json")
        elif path == "/echo-b64wrap":
            # X-T in base64, wrapped as MIME (76, CRLF), PEM and the base64
            # tool (64 and 76, LF) or GitHub's contents API (60, JSON's \n)
            # wrap it; w=N: every N characters
            t = base64.b64encode(self.headers.get("X-T", "").encode()).decode()
            q = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
            n = int(q.get("w", "76"))
            lines = [t[i:i + n] for i in range(0, len(t), n)]
            if q.get("f") == "json":
                body = json.dumps({"content": "\n".join(lines) + "\n"})
            else:
                body = ("\r\n" if q.get("f") == "crlf" else "\n").join(lines) + "\n"
            self.reply(body.encode(), ctype="application/json")
        elif path == "/redirect":
            self.send_response(301)
            self.send_header("Location", "https://good.test/elsewhere?" + query)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/cookie":
            self.send_response(200)
            self.send_header("Set-Cookie", "v=" + query + "; Path=/")
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\n")
        elif path == "/echo-close":
            # no length: the body ends when the connection does
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(text)
            self.close_connection = True
        elif path == "/echo-ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            key = self.headers["Sec-WebSocket-Key"]
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            # the request's X-T in a message of two fragments, a ping between
            t = self.headers.get("X-T", "").encode()
            half = len(t) // 2
            self.wfile.write(bytes([0x81, 5]) + b"hello")
            self.wfile.write(bytes([0x01, half]) + t[:half])
            self.wfile.write(bytes([0x89, 4]) + b"ping")
            self.wfile.write(bytes([0x80, len(t) - half]) + t[half:])
            self.wfile.flush()
            time.sleep(0.5)
            self.close_connection = True
        else:
            self.reply(b"not found\n", 404)

    def do_POST(self):
        if self.path == "/seen":
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.reply(seen(self))
            return
        if self.path == "/headers":
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = ("%s %s\n%s" % (self.command, self.path, self.headers)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                # a close asked for is answered in kind, as nginx does
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/ignore":
            # a handler that answers without reading the body, and keeps
            # the connection (a static file's, many frameworks' routes)
            self.reply(b"ignored\n")
            return
        if self.path == "/reject":
            # answers before reading the body, and hangs up
            self.send_response(413)
            self.send_header("Content-Length", "9")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"too big!\n")
            self.close_connection = True
            return
        h = hashlib.sha256()
        n = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                h.update(data)
                n += len(data)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                data = self.rfile.read(min(left, 65536))
                h.update(data)
                n += len(data)
                left -= len(data)
        self.reply(("%d %s\n" % (n, h.hexdigest())).encode())

    do_PUT = do_POST

    def list_directory(self, path):
        self.send_error(404)
        return None


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, port, handler, tls=None):
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.tls = tls
        super().__init__((addr, port), handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls:
            # the handshake happens in the request's thread, on first read:
            # a client that stalls in it holds up no one else
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


def handler_for(root):
    class H(Handler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)
    return H


def dns_server():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.53", 53))
    while True:
        q, peer = s.recvfrom(512)
        tid, flags = q[:2], q[2:4]
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode())
            i += q[i] + 1
        qname = ".".join(labels).lower()
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        QUERIES.append(qname)
        answers = []
        for a in ZONE.get(qname, []):
            if qtype == 1 and ":" not in a:
                answers.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(a))
            elif qtype == 28 and ":" in a:
                answers.append(struct.pack("!HHHIH", 0xC00C, 28, 1, 5, 16) +
                               socket.inet_pton(socket.AF_INET6, a))
        rcode = 0 if qname in ZONE else 3
        hdr = tid + struct.pack("!HHHHH", 0x8180 | rcode, 1, len(answers), 0, 0)
        s.sendto(hdr + question + b"".join(answers), peer)


def ooo_send(conn, stream, k, mark):
    """STREAM sent on CONN in two crafted segments, an urgent byte put in
    at MARK: the second (from K, holding the byte) first, held out of order,
    then the first, whose urgent pointer points into the second.  The
    pointer comes before its byte, so no EPOLLPRI says it (TCP_URG_NOTYET),
    yet a read or a splice stops at the mark with the rest queued.
    TCP_REPAIR (19) gives the sequence numbers (TCP_REPAIR_QUEUE 20,
    TCP_QUEUE_SEQ 21); a raw socket sends."""
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        t = (t >> 16) + (t & 0xffff)
        t += t >> 16
        return ~t & 0xffff

    def seg(src, sp, dst, dp, seq, ack, flags, data, urg=0):
        th = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff, ack, 5 << 4, flags,
                         65535, 0, urg)
        ph = (socket.inet_aton(src) + socket.inet_aton(dst)
              + struct.pack("!BBH", 0, 6, len(th) + len(data)))
        th = th[:16] + struct.pack("!H", csum(ph + th + data)) + th[18:]
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(data), 1, 0, 64, 6, 0,
                           socket.inet_aton(src), socket.inet_aton(dst)) + th + data

    def qseq(q):
        conn.setsockopt(socket.IPPROTO_TCP, 20, q)
        return struct.unpack("I", conn.getsockopt(socket.IPPROTO_TCP, 21, 4))[0]

    conn.setsockopt(socket.IPPROTO_TCP, 19, 1)
    snd, rcv = qseq(2), qseq(1)
    conn.setsockopt(socket.IPPROTO_TCP, 19, 0)
    me, peer = conn.getsockname(), conn.getpeername()
    wire = stream[:mark] + b"X" + stream[mark:]
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.sendto(seg(me[0], me[1], peer[0], peer[1], snd + k, rcv, 0x18, wire[k:]), (peer[0], 0))
    time.sleep(0.05)
    raw.sendto(seg(me[0], me[1], peer[0], peer[1], snd, rcv, 0x38, wire[:k], urg=mark + 1),
               (peer[0], 0))
    raw.close()


def line_server(port, banner, reply):
    """ADDRS[0]:PORT speaking a line protocol: BANNER first (None: the
    client speaks first), then REPLY % line for every line it gets; with
    REPLY None it closes as soon as a connection comes."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ADDRS[0], port))
    s.listen(16)

    def serve(c):
        with c:
            if reply is None:
                return
            if banner:
                c.sendall(banner)
            f = c.makefile("rb")
            for line in f:
                cmd = line.strip()
                if cmd in (b"URGENT", b"URGENTEND", b"URGENTEND2"):
                    # the reply around TCP urgent data, in one segment (a
                    # splice of it stops at the mark: test_net_final_attacks);
                    # URGENTEND: the end in it too (the splice at the mark
                    # then says 0, as at the end); URGENTEND2: 0.3 s later
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                    c.send(b"250 abc")
                    c.send(b"X", socket.MSG_OOB)
                    c.send(b"def\r\n")
                    if cmd == b"URGENTEND":
                        c.shutdown(socket.SHUT_WR)
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
                    if cmd == b"URGENTEND2":
                        time.sleep(0.3)
                        c.shutdown(socket.SHUT_WR)
                    continue
                if cmd == b"OOO":
                    # an urgent pointer ahead of its byte, in a tunnel
                    ooo_send(c, b"250 " + b"0123456789" * 12 + b"\r\n", 60, 90)
                    continue
                c.sendall(reply % line.strip())

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def queries_server():
    """127.0.0.1:9999 answers with the names the DNS server was asked."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 9999))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.sendall(("\n".join(QUERIES) + "\n").encode())
        c.close()


def main():
    cert, key, root = sys.argv[1], sys.argv[2], sys.argv[3]
    h = handler_for(root)
    servers = []
    for a in ADDRS:
        for port in (80, 8080):
            servers.append(Server(a, port, h))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    servers.append(Server(ADDRS[0], 443, h, tls=ctx))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    # port 81: a listener whose queue is full and never drained, so a new
    # connection's handshake never completes (SYNs are dropped)
    hang = socket.socket()
    hang.bind((ADDRS[0], 81))
    hang.listen(0)
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex((ADDRS[0], 81))
        fillers.append(f)
    threading.Thread(target=dns_server, daemon=True).start()
    threading.Thread(target=queries_server, daemon=True).start()
    # 2525: the server speaks first (SMTP-like); 2222: the client does
    # (SSH-like); 2526: the server hangs up at once
    for port, banner, reply in ((2525, b"220 good.test ready\r\n", b"250 %s\r\n"),
                                (2222, None, b"SSH-2.0-test-server seen %s\r\n"),
                                (2526, None, None)):
        threading.Thread(target=line_server, args=(port, banner, reply), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin


if __name__ == "__main__":
    main()
