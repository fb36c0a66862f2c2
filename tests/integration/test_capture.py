# SPDX-License-Identifier: MIT
"""[network] capture = on (the default with mode = proxy): clients that know
nothing of proxies reach the policy's hosts through the proxy all the same,
and the sandbox's DNS is ringfence's, in both isolation mechanisms, as root
and unprivileged.

Runs in test_network's world: a network namespace of the test's own whose
lo carries public-looking addresses, a DNS server on 127.0.0.53 that
answers *.test and says which names it was asked, and an upstream on
good.test's address.  Every client here runs with the proxy variables
removed.
"""
import os
import shutil
import socket
import subprocess

import pytest

from conftest import go_client
from test_network import PUB, NetBox, ssh_keys

HERE = os.path.dirname(os.path.abspath(__file__))

NOPROXY = ("env -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u http_proxy -u https_proxy "
           "-u all_proxy -u NO_PROXY -u no_proxy ")

ALLOW = "allow = good.test good.test:2022 other.test:8080"


MODES = [("root", "namespace"), ("root", "broker"), ("nobody", "namespace"),
         ("nobody", "broker")]


@pytest.fixture(params=MODES, ids=["root-ns", "root-broker", "user-ns", "user-broker"])
def net(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


def captured(net, host):
    return [e for e in net.events("net.allow") if e["proto"] == "capture" and e["host"] == host]


def test_names_resolve_inside_only_when_allowed(net, world):
    """An allowed name gets an address of the reserved range; a refused one
    NXDOMAIN, logged, and never asked of any DNS server outside."""
    before = world.dns_queries()
    p = net.net_policy(ALLOW)
    r = net.sh(NOPROXY + "getent hosts good.test; echo rc=$?; getent hosts evil-capture.test; "
               "echo rc=$?; getent hosts localhost; echo rc=$?", p)
    lines = r.stdout.split("\n")
    assert lines[0].startswith("198.1") and lines[0].endswith("good.test"), r.stdout + r.stderr
    assert lines[1] == "rc=0" and lines[2] == "rc=2", r.stdout + r.stderr
    assert "localhost" in r.stdout and r.stdout.strip().endswith("rc=0")
    deny = [e for e in net.events("net.deny") if e["proto"] == "dns"]
    assert "evil-capture.test" in [e["host"] for e in deny], net.events()
    assert "evil-capture.test" not in world.dns_queries()[len(before):]
    assert "evil-capture.test" in r.stderr  # the exit summary names it


def test_raw_socket_by_name_reaches_the_proxy(net):
    """Python's own socket, by name, no proxy in sight: the connect is taken
    to the proxy, which dials the name it stands for."""
    p = net.net_policy(ALLOW)
    net.write("work/raw.py", "import socket\n"
              "s = socket.create_connection(('good.test', 80), timeout=10)\n"
              "s.sendall(b'GET /hello HTTP/1.0\\r\\nHost: good.test\\r\\n\\r\\n')\n"
              "out = b''\n"
              "while True:\n"
              "    c = s.recv(65536)\n"
              "    if not c: break\n"
              "    out += c\n"
              "print(out.decode().split('\\r\\n\\r\\n', 1)[1], end='')\n")
    r = net.sh(NOPROXY + "/usr/bin/python3 raw.py", p)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello from %s\n" % PUB
    ev = captured(net, "good.test")
    assert ev and ev[0]["port"] == 80 and ev[0]["addr"] == PUB, net.events()


def test_tls_by_name_without_proxy_variables(net):
    """curl told to use no proxy: TLS to the name, judged on its server name."""
    p = net.net_policy(ALLOW)
    r = net.sh(NOPROXY + "curl -sS -m 10 --noproxy '*' --cacert %s https://good.test/hello"
               % net.path("bin", "ca.pem"), p)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello from %s\n" % PUB
    assert captured(net, "good.test")


NODE = r"""
const https = require('https');
https.get('https://good.test/hello', (res) => {
  let b = '';
  res.on('data', (c) => b += c);
  res.on('end', async () => {
    process.stdout.write('get: ' + b);
    const r = await fetch('https://good.test/hello');
    process.stdout.write('fetch: ' + await r.text());
  });
}).on('error', (e) => { console.error('get failed:', e.message); process.exit(1); });
"""


def test_node_fetch_and_https_get(net):
    """Node's https.get and fetch (undici), which read no proxy variable."""
    node = shutil.which("node")
    if not node:
        pytest.fail("node is a test dependency (Debian's nodejs)")
    p = net.net_policy(ALLOW)
    net.write("work/client.js", NODE)
    r = net.sh(NOPROXY + "NODE_EXTRA_CA_CERTS=%s %s client.js" % (net.path("bin", "ca.pem"), node),
               p)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "get: hello from %s\nfetch: hello from %s\n" % (PUB, PUB), r.stderr


GO_DIAL = r"""
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

func main() {
	c, err := net.Dial("tcp", os.Args[1])
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	fmt.Fprintf(c, "GET /hello HTTP/1.0\r\nHost: %s\r\n\r\n", strings.Split(os.Args[1], ":")[0])
	b, _ := io.ReadAll(c)
	fmt.Print(strings.SplitN(string(b), "\r\n\r\n", 2)[1])
}
"""


@pytest.fixture(scope="session")
def go_dial():
    out = go_client("dial", GO_DIAL)
    if not out:
        pytest.fail("go is a test dependency (make deps: golang-go)")
    return out


def test_go_with_its_own_resolver_and_dialer(net, go_dial):
    """A static Go binary: its own DNS client (reads resolv.conf, asks the
    nameserver itself) and its own connect."""
    shutil.copy(go_dial, net.path("bin", "dial"))
    p = net.net_policy(ALLOW)
    r = net.sh(NOPROXY + "%s good.test:80" % net.path("bin", "dial"), p)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "hello from %s\n" % PUB


def test_ssh_plainly(net, sshd):
    """ssh to an allowed name and port with no ProxyCommand."""
    keys = ssh_keys(net, sshd)
    p = net.net_policy(ALLOW, "[filesystem]\nread = %s\n[process]\nenv_keep = KEYS\n" % keys)
    ssh = ("ssh -i $KEYS/id_ed25519 -o UserKnownHostsFile=$KEYS/known_hosts -o BatchMode=yes "
           "-p 2022 root@good.test")
    r = net.sh(NOPROXY + ssh + "; echo rc=$?", p, env={"KEYS": keys})
    assert "ssh-ok" in r.stdout and "rc=0" in r.stdout, r.stdout + r.stderr
    assert [e for e in captured(net, "good.test") if e["port"] == 2022]


REFUSED = r"""
import errno, socket, sys
def try_(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(addr)
        s.sendall(b'GET /hello HTTP/1.0\r\nHost: x\r\n\r\n')
        print(addr[0], addr[1], 'got', repr(s.recv(100)[:20]))
    except OSError as e:
        print(addr[0], addr[1], errno.errorcode.get(e.errno, e.errno))
good = socket.gethostbyname('good.test')
try_((good, 80))        # the control: allowed
try_((good, 81))        # an allowed name, a port the policy does not give
try_(('%s', 80))        # an address no allowed name maps to
try_(('198.18.250.7', 80))  # a synthetic address the DNS never gave
"""


def test_refused_connects_are_refused_and_logged(net):
    p = net.net_policy(ALLOW)
    net.write("work/refused.py", REFUSED % PUB)
    r = net.sh(NOPROXY + "/usr/bin/python3 refused.py", p)
    lines = r.stdout.splitlines()
    assert len(lines) == 4, r.stdout + r.stderr
    assert lines[0].endswith("got 'HTTP/1.0 200 OK\\r\\nCo'") or " got " in lines[0], lines
    assert lines[1].endswith("81 EACCES") and lines[2] == PUB + " 80 EACCES", lines
    assert lines[3] == "198.18.250.7 80 EACCES", lines
    deny = [(e["host"], e["port"]) for e in net.events("net.deny") if e["proto"] == "capture"]
    assert ("good.test", 81) in deny and (PUB, 80) in deny and ("198.18.250.7", 80) in deny, deny


UDP_SINK = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5300))
s.settimeout(float(sys.argv[2]))
n = 0
print('ready', flush=True)
try:
    while True:
        s.recv(100)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
"""


def test_no_udp_leaves(net, world):
    """UDP to an outside address reaches nothing; the sink that would see it
    does see the same datagrams sent from outside the sandbox."""
    sink = net.path("bin", "sink.py")
    with open(sink, "w") as f:
        f.write(UDP_SINK)

    def run_sink(send):
        proc = subprocess.Popen(["ip", "netns", "exec", world.name, "/usr/bin/python3", sink,
                                 PUB, "1"], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        send()
        return int(proc.communicate(timeout=20)[0].strip())

    send = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "for i in range(5):\n"
            "    try: s.sendto(b'x', ('%s', 5300))\n"
            "    except OSError as e: print(e)\n" % PUB)
    net.write("work/udp.py", send)
    p = net.net_policy(ALLOW + " " + "good.test:5300")
    # the control: from outside, the sink counts them
    assert run_sink(lambda: world.exec(["/usr/bin/python3", "-c", send],
                                       capture_output=True)) == 5
    assert run_sink(lambda: net.sh(NOPROXY + "/usr/bin/python3 udp.py; "
                                   "/usr/bin/python3 -c 'import socket; socket.gethostbyname("
                                   "\"good.test\")'", p)) == 0


def test_capture_off_keeps_proxy_only(net):
    """capture = off: no DNS inside and no direct connect, as before."""
    p = net.net_policy(ALLOW + "\ncapture = off")
    r = net.sh(NOPROXY + "getent hosts good.test; echo rc=$?; "
               "curl -sS -m 5 --noproxy '*' http://93.184.215.14/hello; echo rc=$?", p)
    assert "rc=0" not in r.stdout and "198.18" not in r.stdout, r.stdout + r.stderr
    assert not [e for e in net.events("net.allow") if e["proto"] == "capture"]
    # the control: the proxy still serves
    r = net.sh("curl -sS -m 10 http://good.test/hello", p)
    assert r.stdout == "hello from %s\n" % PUB, r.stderr


@pytest.mark.parametrize("user", ["root", "nobody"])
def test_without_namespaces_addresses_are_still_captured(world, user):
    """namespaces = off: the resolver's files are the host's (nothing to
    mount them in), but a connect to an address allow_cidr gives is still
    taken to the proxy, and one it does not give is refused and logged."""
    b = NetBox(world, user, "broker", namespaces="off")
    try:
        p = b.net_policy(ALLOW + "\nallow_cidr = %s/32" % PUB)
        b.write("work/raw.py", "import socket, sys\n"
                "s = socket.create_connection((sys.argv[1], 80), timeout=10)\n"
                "s.sendall(b'GET /hello HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' % sys.argv[1].encode())\n"
                "out = b''\n"
                "while True:\n"
                "    c = s.recv(4096)\n"
                "    if not c: break\n"
                "    out += c\n"
                "print(out.decode().split('\\r\\n\\r\\n', 1)[1], end='')\n")
        r = b.sh(NOPROXY + "/usr/bin/python3 raw.py %s; /usr/bin/python3 raw.py 93.184.215.15"
                 % PUB, p)
        assert r.stdout == "hello from %s\n" % PUB, r.stdout + r.stderr
        assert "PermissionError" in r.stderr
        assert captured(b, PUB)
        assert [e for e in b.events("net.deny")
                if e["proto"] == "capture" and e["host"] == "93.184.215.15"], b.events()
    finally:
        b.cleanup()


def test_method_and_path_rules_hold_for_captured_connections(net):
    """A client that asks no proxy is judged request by request like one
    that does: a plain-HTTP connection by name to a host that method and
    path rules name."""
    p = net.net_policy("allow = GET http://good.test/hello")
    net.write("work/ask.py", "import socket, sys\n"
              "for method, path in (('GET', '/hello'), ('POST', '/hello'), ('GET', '/other')):\n"
              "    s = socket.create_connection(('good.test', 80), timeout=10)\n"
              "    s.sendall(('%s %s HTTP/1.0\\r\\nHost: good.test\\r\\nContent-Length: 0\\r\\n\\r\\n'\n"
              "               % (method, path)).encode())\n"
              "    out = b''\n"
              "    while True:\n"
              "        c = s.recv(65536)\n"
              "        if not c: break\n"
              "        out += c\n"
              "    print(method, path, out.split(b'\\r\\n')[0].decode())\n")
    r = net.sh(NOPROXY + "/usr/bin/python3 ask.py", p)
    lines = r.stdout.splitlines()
    assert lines[0] == "GET /hello HTTP/1.1 200 OK", r.stdout + r.stderr
    assert " 403 " in lines[1] and " 403 " in lines[2], r.stdout + r.stderr


def test_the_resolver_files_are_ringfences(net):
    """What the command's resolver reads: nameserver 127.0.0.1 (TCP under
    the broker, which refuses UDP sockets), no search domain, hosts with
    loopback and this host's name only, nsswitch asking files then dns; and
    read-only.  The world's own resolv.conf (127.0.0.53) is the control:
    it is what the command saw before."""
    p = net.net_policy(ALLOW)
    r = net.sh("cat /etc/resolv.conf; echo ==; cat /etc/hosts; echo ==; "
               "grep '^hosts:' /etc/nsswitch.conf; echo ==; "
               "(echo x >> /etc/resolv.conf) 2>/dev/null && echo writable", p)
    resolv, hosts, nss, rest = r.stdout.split("==\n")
    assert "nameserver 127.0.0.1\n" in resolv and "127.0.0.53" not in resolv, r.stdout
    assert ("options use-vc" in resolv) == (net.isolation == "broker"), resolv
    assert "search" not in resolv and "domain" not in resolv, resolv
    names = {w for line in hosts.splitlines() if not line.startswith("#")
             for w in line.split()[1:]}
    assert names <= {"localhost", "ip6-localhost", "ip6-loopback", socket.gethostname()}, hosts
    assert nss == "hosts: files dns\n", nss
    assert "writable" not in rest
    # the rest of the host's nsswitch.conf is kept, line for line
    if not os.path.exists("/etc/nsswitch.conf"):
        return  # nothing of the host's to keep
    r = net.sh("cat /etc/nsswitch.conf", p)
    with open("/etc/nsswitch.conf") as f:
        host = f.read()
    def others(text):
        return [l for l in text.splitlines() if not l.lstrip(" \t").startswith("hosts:")]
    assert others(host) and others(r.stdout) == others(host), r.stdout
    # the control: capture = off leaves the world's resolv.conf
    r = net.sh("cat /etc/resolv.conf", net.net_policy(ALLOW + "\ncapture = off"))
    assert "127.0.0.53" in r.stdout, r.stdout
