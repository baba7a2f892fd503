#!/usr/bin/env python3
"""Verify a goodbot evidence bundle (format goodbot-evidence/2) offline.

Written from the bundle's FORMAT.md, RFC 6962/9162 (Merkle trees), C2SP
tlog-checkpoint and signed-note, and RFC 8032 (Ed25519). Python 3.8+, the
standard library only: it needs neither goodbot nor the network.

    python3 verify.py [--key VKEY]... [--checkpoint FILE] [BUNDLE]

BUNDLE defaults to the directory this script is in. Without --key, the keys
in the bundle's keys.txt are used, and the script says so: compare them
with the key the operator published. Exit status: 0 if every check passed,
1 if one failed (the message names it), 2 for a usage error.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys

FORMAT = "goodbot-evidence/2"
RUN_WIDE = ("config", "key", "run", "recovery", "prune")


class Failure(Exception):
    """A check failed."""


# ---------------------------------------------------------------- Ed25519
# RFC 8032 section 5.1: edwards25519, points in extended coordinates
# (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z.

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _inv(x):
    return pow(x, P - 2, P)


def _add(a, b):
    # RFC 8032 section 5.1.4
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)  # the neutral element
    while s > 0:  # at most 512 rounds: s < 2**512
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _recover_x(y, sign):
    # RFC 8032 section 5.1.3
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(b):
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _compress(pt):
    x, y, z, _ = pt
    zi = _inv(z)
    x, y = x * zi % P, y * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


_GY = 4 * _inv(5) % P
G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def ed25519_verify(public, msg, sig):
    """RFC 8032 section 5.1.7: is sig a signature of msg by public?"""
    if len(public) != 32 or len(sig) != 64:
        return False
    a = _decompress(public)
    if a is None:
        return False
    r_bytes = sig[:32]
    s = int.from_bytes(sig[32:], "little")
    if s >= L or _decompress(r_bytes) is None:
        return False
    k = int.from_bytes(hashlib.sha512(r_bytes + public + msg).digest(), "little") % L
    # [s]B - [k]A must encode as R.
    ka = _mul(k, a)
    neg_ka = ((-ka[0]) % P, ka[1], ka[2], (-ka[3]) % P)
    return _compress(_add(_mul(s, G), neg_ka)) == r_bytes


# ------------------------------------------------------------ signed notes


class Key:
    """A signed-note verifier key: NAME+HASH+BASE64(0x01 || public key)."""

    def __init__(self, text):
        parts = text.split("+", 2)
        if len(parts) != 3 or not parts[0] or re.search(r"\s", parts[0]):
            raise Failure("key %r: want NAME+HASH+BASE64" % text)
        self.name, hash_hex, b64 = parts
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise Failure("key %r: bad base64" % text)
        if len(raw) != 33 or raw[0] != 1:
            raise Failure("key %r: not an Ed25519 key" % text)
        self.public = raw[1:]
        self.hash = hashlib.sha256(self.name.encode() + b"\n" + raw).digest()[:4]
        if not re.fullmatch(r"[0-9a-f]{8}", hash_hex) or bytes.fromhex(hash_hex) != self.hash:
            raise Failure("key %r: its hash does not match the key" % text)
        self.text = text


def open_note(msg, keys, what):
    """Check a signed note; return its text (bytes). At least one signature
    must be by one of keys; a signature by one of them that fails is an
    error; lines by other keys are ignored."""
    try:
        s = msg.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure("%s: not UTF-8" % what)
    if any(ord(c) < 0x20 and c != "\n" for c in s):
        raise Failure("%s: control characters" % what)
    split = msg.rfind(b"\n\n")
    if split < 0:
        raise Failure("%s: not a signed note (no blank line before the signatures)" % what)
    text, sigs = msg[: split + 1], msg[split + 2 :]
    if not sigs or not sigs.endswith(b"\n"):
        raise Failure("%s: no signature lines" % what)
    good = []
    for line in sigs[:-1].split(b"\n"):
        line = line.decode("utf-8")
        if not line.startswith("\u2014 "):
            raise Failure("%s: signature line %r does not start with an em dash" % (what, line))
        name, sep, b64 = line[2:].partition(" ")
        if not sep or not name or " " in b64:
            raise Failure("%s: malformed signature line %r" % (what, line))
        try:
            sig = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise Failure("%s: signature line %r: bad base64" % (what, line))
        if len(sig) < 5:
            raise Failure("%s: signature line %r: too short" % (what, line))
        for k in keys:
            if k.name == name and k.hash == sig[:4]:
                if not ed25519_verify(k.public, text, sig[4:]):
                    raise Failure("%s: the signature by %s does not verify" % (what, name))
                good.append(k)
    if not good:
        raise Failure("%s: not signed by %s" % (what, " or ".join(k.text for k in keys)))
    return text


def parse_checkpoint(text, what):
    lines = text.decode("utf-8").split("\n")
    if len(lines) < 4 or not lines[0]:
        raise Failure("%s: want origin, size and root lines" % what)
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Failure("%s: bad size %r" % (what, lines[1]))
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        root = b""
    if len(root) != 32:
        raise Failure("%s: bad root %r" % (what, lines[2]))
    return lines[0], int(lines[1]), root


# ------------------------------------------------------------ Merkle tree


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_hash(leaves, lo, hi):
    """RFC 6962 MTH of leaves[lo:hi]."""
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[lo]
    k = 1
    while k << 1 < n:
        k <<= 1
    return node_hash(tree_hash(leaves, lo, lo + k), tree_hash(leaves, lo + k, hi))


def check_inclusion(index, size, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ----------------------------------------------------------------- bundle

HEX64 = re.compile(r"[0-9a-f]{64}")
ENTRY = re.compile(rb'\{"seq":(0|[1-9][0-9]*),"prev":"([0-9a-f]{64})","event":(.*)\}\Z', re.S)


def unhex(s, what):
    if not isinstance(s, str) or not HEX64.fullmatch(s):
        raise Failure("%s: %r is not a lower-case hex SHA-256" % (what, s))
    return bytes.fromhex(s)


def strict_json(b, what):
    def pairs(items):
        d = {}
        for k, v in items:
            if k in d:
                raise Failure("%s: member %r twice in one object" % (what, k))
            d[k] = v
        return d

    def constant(c):
        raise Failure("%s: %s is not JSON" % (what, c))

    try:
        return json.loads(b.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise Failure("%s: %s" % (what, e))


def jsonl(data, what):
    if data and not data.endswith(b"\n"):
        raise Failure("%s: the last line has no newline" % what)
    return data.split(b"\n")[:-1] if data else []


class Bundle:
    def __init__(self, root):
        self.root = root

    def path(self, name):
        return os.path.join(self.root, *name.split("/"))

    def read(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return f.read()
        except OSError as e:
            raise Failure("%s: %s" % (name, e.strerror or e))


def check_manifest(b, keys):
    manifest = b.read("MANIFEST.sha256")
    sig = b.read("MANIFEST.sha256.sig")
    text = open_note(manifest + b"\n" + sig, keys, "MANIFEST.sha256.sig")
    if text != manifest:
        raise Failure("MANIFEST.sha256.sig signs other text")
    listed = set()
    for i, line in enumerate(jsonl(manifest, "MANIFEST.sha256")):
        m = re.fullmatch(r"([0-9a-f]{64})  (.+)", line.decode("utf-8", "replace"))
        name = m.group(2) if m else ""
        parts = name.split("/")
        if not m or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
            raise Failure("MANIFEST.sha256 line %d: malformed" % (i + 1))
        if name in listed or name in ("MANIFEST.sha256", "MANIFEST.sha256.sig"):
            raise Failure("MANIFEST.sha256 line %d: %s listed again" % (i + 1, name))
        got = hashlib.sha256(b.read(name)).hexdigest()
        if got != m.group(1):
            raise Failure("%s: SHA-256 %s, the manifest says %s" % (name, got, m.group(1)))
        listed.add(name)
    present = set()
    for dirpath, dirs, files in os.walk(b.root):
        dirs.sort()
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), b.root).replace(os.sep, "/")
            present.add(rel)
    extra = sorted(present - listed - {"MANIFEST.sha256", "MANIFEST.sha256.sig"})
    if extra:
        raise Failure("%s is not in MANIFEST.sha256" % extra[0])
    for need in ("FORMAT.md", "bundle.json", "entries.jsonl", "withheld.jsonl", "proofs.jsonl",
                 "checkpoint.txt", "keys.txt", "pages.warc.gz", "report.html", "verify.py"):
        if need not in listed:
            raise Failure("MANIFEST.sha256 does not list %s" % need)
    return len(listed)


def concerns(event, site):
    if event.get("site"):
        return event["site"] == site
    return event.get("type") in RUN_WIDE


def verify(root, given_keys, external):
    b = Bundle(root)
    out = []
    if given_keys:
        keys = [Key(k) for k in given_keys]
        out.append("keys: given on the command line: " + ", ".join(k.text for k in keys))
    else:
        keys = [Key(k) for k in b.read("keys.txt").decode("utf-8").split()]
        if not keys:
            raise Failure("keys.txt holds no key")
        out.append("keys: from the bundle's keys.txt (compare them with the key the operator "
                   "published, or pass --key): " + ", ".join(k.text for k in keys))

    files = check_manifest(b, keys)
    out.append("manifest: %d files, digests match, signed by the key" % files)

    info = strict_json(b.read("bundle.json"), "bundle.json")
    if info.get("format") != FORMAT:
        raise Failure("bundle.json: format %r, want %r" % (info.get("format"), FORMAT))
    site = info.get("site")
    origin, size, cp_root = parse_checkpoint(open_note(b.read("checkpoint.txt"), keys, "checkpoint.txt"), "checkpoint.txt")
    if origin != info.get("origin") or size != info.get("checkpoint_size") or cp_root != unhex(info.get("root"), "bundle.json root"):
        raise Failure("checkpoint.txt does not match bundle.json (origin, size or root)")
    out.append("checkpoint: %s, size %d, root %s, signature verified" % (origin, size, cp_root.hex()))

    leaves = [None] * size
    unproven = set(info.get("unproven") or [])
    entries = []
    robots = {}
    last = -1
    for i, raw in enumerate(jsonl(b.read("entries.jsonl"), "entries.jsonl")):
        what = "entries.jsonl line %d" % (i + 1)
        m = ENTRY.match(raw)
        if not m:
            raise Failure("%s: not an entry {\"seq\":N,\"prev\":\"HEX\",\"event\":{...}}" % what)
        seq, prev = int(m.group(1)), bytes.fromhex(m.group(2).decode())
        event = strict_json(m.group(3), what)
        if not isinstance(event, dict):
            raise Failure("%s: the event is not an object" % what)
        if seq <= last:
            raise Failure("%s: entry %d after entry %d (increasing order, each once)" % (what, seq, last))
        last = seq
        if not concerns(event, site):
            raise Failure("%s: entry %d is about %r, not %s" % (what, seq, event.get("site"), site))
        lh = leaf_hash(raw)
        entries.append((seq, prev, lh))
        if seq < size:
            leaves[seq] = lh
        elif seq not in unproven:
            raise Failure("%s: entry %d is newer than the checkpoint but not listed as unproven" % (what, seq))
        rb = event.get("robots")
        if isinstance(rb, dict) and rb.get("body"):
            body = base64.b64decode(rb["body"])
            d = hashlib.sha256(body).hexdigest()
            if rb.get("sha256") and rb["sha256"] != d:
                raise Failure("%s: robots.txt digest %s does not match its body" % (what, rb["sha256"]))
            robots[d] = body
    if len(entries) != info.get("entries"):
        raise Failure("entries.jsonl has %d entries, bundle.json says %s" % (len(entries), info.get("entries")))

    withheld = 0
    last = -1
    for i, line in enumerate(jsonl(b.read("withheld.jsonl"), "withheld.jsonl")):
        what = "withheld.jsonl line %d" % (i + 1)
        w = strict_json(line, what)
        if not isinstance(w, dict) or set(w) != {"seq", "leaf_hash", "why"} or type(w["seq"]) is not int:
            raise Failure("%s: want seq, leaf_hash and why" % what)
        seq = w["seq"]
        if seq <= last or seq >= size:
            raise Failure("%s: leaf %d out of order or outside the tree of size %d" % (what, seq, size))
        last = seq
        if leaves[seq] is not None:
            raise Failure("%s: leaf %d is withheld and in entries.jsonl" % (what, seq))
        leaves[seq] = unhex(w["leaf_hash"], what)
        withheld += 1
    if withheld != info.get("withheld"):
        raise Failure("withheld.jsonl lists %d leaves, bundle.json says %s" % (withheld, info.get("withheld")))
    if None in leaves:
        raise Failure("leaf %d of the checkpoint's tree (size %d) is neither in entries.jsonl nor in withheld.jsonl"
                      % (leaves.index(None), size))
    for seq, prev, _ in entries:
        if seq <= size:
            want = leaves[seq - 1] if seq > 0 else bytes(32)
            if prev != want and seq == 0:
                raise Failure("entry 0: prev %s is not 64 zeros" % prev.hex())
            if prev != want:
                raise Failure("entry %d: prev %s is not the leaf hash of entry %d (%s)" % (seq, prev.hex(), seq - 1, want.hex()))
    got = tree_hash(leaves, 0, size)
    if got != cp_root:
        raise Failure("the %d leaves hash to %s, the checkpoint's root is %s" % (size, got.hex(), cp_root.hex()))
    out.append("tree: %d leaves = %d entries in the bundle + %d withheld, each once, prev links hold, root recomputed"
               % (size, sum(1 for e in entries if e[0] < size), withheld))

    proofs = jsonl(b.read("proofs.jsonl"), "proofs.jsonl")
    proved = [e for e in entries if e[0] < size]
    if len(proofs) != len(proved) or len(proofs) != info.get("proven"):
        raise Failure("proofs.jsonl has %d proofs for %d entries older than the checkpoint" % (len(proofs), len(proved)))
    for (seq, _, lh), line in zip(proved, proofs):
        what = "proofs.jsonl, entry %d" % seq
        p = strict_json(line, what)
        if not isinstance(p, dict) or set(p) != {"seq", "tree_size", "leaf_hash", "hashes"} or not isinstance(p["hashes"], list):
            raise Failure("%s: want seq, tree_size, leaf_hash and hashes" % what)
        if p["seq"] != seq or unhex(p["leaf_hash"], what) != lh:
            raise Failure("%s: the proof is for another entry" % what)
        if p["tree_size"] != size:
            raise Failure("%s: proof for tree size %s, the checkpoint has %d" % (what, p["tree_size"], size))
        if not check_inclusion(seq, size, lh, [unhex(h, what) for h in p["hashes"]], cp_root):
            raise Failure("%s: the inclusion proof does not lead to the checkpoint's root" % what)
    out.append("proofs: %d inclusion proofs verified against the checkpoint" % len(proofs))

    for d, body in sorted(robots.items()):
        if b.read("robots/%s.txt" % d) != body:
            raise Failure("robots/%s.txt differs from the copy in the log" % d)
    out.append("robots.txt: %d copies match their entries" % len(robots))

    if external:
        with open(external, "rb") as f:
            x_origin, x_size, x_root = parse_checkpoint(open_note(f.read(), keys, external), external)
        if x_origin != origin:
            raise Failure("%s: origin %r, the bundle's log is %r" % (external, x_origin, origin))
        if x_size > size:
            raise Failure("%s covers %d entries, the bundle only %d: the bundle is cut short of it" % (external, x_size, size))
        if tree_hash(leaves, 0, x_size) != x_root:
            raise Failure("%s: the bundle's first %d leaves do not hash to its root: the log was rewritten" % (external, x_size))
        out.append("external checkpoint: size %d is a prefix of this tree" % x_size)
    return out


def main(argv):
    ap = argparse.ArgumentParser(description="Verify a goodbot evidence bundle offline.")
    ap.add_argument("--key", action="append", default=[], help="the operator's public key (NAME+HASH+BASE64); repeatable")
    ap.add_argument("--checkpoint", help="a signed checkpoint of the same log held by someone else")
    ap.add_argument("bundle", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args(argv)
    try:
        lines = verify(args.bundle, args.key, args.checkpoint)
    except (Failure, OSError) as e:
        print("FAILED: %s: %s" % (args.bundle, e), file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    print("ok: %s verifies" % args.bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
