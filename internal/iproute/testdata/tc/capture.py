#!/usr/bin/env python3
"""Capture what iproute2's tc does with each command line of a file.

Run as root on a machine with tc (iproute2 6.1 here), it makes a scratch
network namespace, runs each line there under strace and writes, for each,
tc's exit status, its standard output and error and the rtnetlink request
it sent (its nlmsghdr type and flags, and the body: tcmsg and attributes),
as JSON. The namespace is deleted afterwards, even on failure.

    capture.py requests.args > requests.json

A line "#" starts a comment. The kernel's own answers (this kernel has no
netem) are not what the tests compare: only tc's parsing and its words.
"""
import json, os, re, shlex, subprocess, sys, tempfile

def run(ns, argv):
    with tempfile.NamedTemporaryFile(suffix=".strace") as st:
        p = subprocess.run(["ip", "netns", "exec", ns, "strace", "-qq", "-e", "trace=sendmsg,sendto",
                            "-e", "write=3", "-o", st.name] + argv, capture_output=True, timeout=10,
                           env=dict(os.environ, TC_LIB_DIR="/usr/lib/x86_64-linux-gnu/tc"))
        trace = open(st.name).read()
    reqs = []
    for m in re.finditer(r"\* (\d+) bytes in buffer \d+\n((?: \| .*\n)+)", trace):
        data = b""
        for line in m.group(2).splitlines():
            toks = line[10:59].split()
            data += bytes.fromhex("".join(toks))
        reqs.append(data)
    out = []
    for r in reqs:
        ln, typ, flags = int.from_bytes(r[0:4], "little"), int.from_bytes(r[4:6], "little"), int.from_bytes(r[6:8], "little")
        if typ < 36 or typ > 38:
            continue  # the link dump tc makes to find the device
        out.append({"type": typ, "flags": flags, "body": r[16:ln].hex()})
    return p.returncode, p.stdout.decode(), p.stderr.decode(), out

def main():
    ns = "vnictc%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        res = []
        for line in open(sys.argv[1]):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            argv = shlex.split(line)
            rc, o, e, reqs = run(ns, argv)
            res.append({"args": argv[1:], "rc": rc, "stdout": o, "stderr": e, "requests": reqs})
        print("[")
        print(",\n".join(json.dumps(r) for r in res))
        print("]")
    finally:
        subprocess.run(["ip", "netns", "del", ns])

main()
