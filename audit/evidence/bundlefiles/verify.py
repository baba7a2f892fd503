#!/usr/bin/env python3
"""Verify a goodbot evidence bundle (format goodbot-evidence/2) offline.

Written from the bundle's FORMAT.md, RFC 6962/9162 (Merkle trees), C2SP
tlog-checkpoint and signed-note, RFC 8032 (Ed25519), and RFC 3161 / RFC 5652
(time-stamp tokens; RSA PKCS #1 v1.5 and ECDSA P-256), and C2SP
tlog-cosignature (witness cosignatures). Python 3.8+, the
standard library only: it needs neither goodbot nor the network.

    python3 verify.py [--key VKEY]... [--checkpoint FILE] [--tsa-ca PEM]
                      [--witness-key VKEY]... [BUNDLE]

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
    """A signed-note verifier key: NAME+HASH+BASE64(ALG || public key), ALG
    0x01 (Ed25519, the log's keys) or, with alg=4, 0x04 (a witness's
    Ed25519 cosignature/v1 key, C2SP tlog-cosignature)."""

    def __init__(self, text, alg=1):
        parts = text.split("+", 2)
        if len(parts) != 3 or not parts[0] or re.search(r"\s", parts[0]):
            raise Failure("key %r: want NAME+HASH+BASE64" % text)
        self.name, hash_hex, b64 = parts
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise Failure("key %r: bad base64" % text)
        if len(raw) != 33 or raw[0] != alg:
            raise Failure("key %r: not an Ed25519 %s key (type 0x%02x)" % (text, "cosignature/v1" if alg == 4 else "signed-note", alg))
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


def check_cosignature(text, lines, key):
    """Check that lines (checkpoint.cosig) hold a valid cosignature/v1 by
    key over the checkpoint's text; return its time (POSIX seconds)."""
    for line in lines:
        name, sep, b64 = line[2:].partition(" ") if line.startswith("\u2014 ") else ("", "", "")
        if not sep:
            raise Failure("checkpoint.cosig: malformed signature line %r" % line)
        if name != key.name:
            continue
        try:
            sig = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise Failure("checkpoint.cosig: signature line %r: bad base64" % line)
        if sig[:4] != key.hash:
            continue
        if len(sig) != 4 + 8 + 64:
            raise Failure("checkpoint.cosig: the cosignature by %s is not 8 bytes of time and 64 of signature" % name)
        t = int.from_bytes(sig[4:12], "big")
        msg = b"cosignature/v1\ntime %d\n" % t + text
        if t >= 2**63 or not ed25519_verify(key.public, msg, sig[12:]):
            raise Failure("checkpoint.cosig: the cosignature by %s does not verify" % name)
        return t
    raise Failure("checkpoint.cosig: no cosignature by %s" % key.text)


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


def verify(root, given_keys, external, tsa_ca=None, witness_keys=()):
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

    # The format first (the manifest is checked next, and bundle.json again
    # after it): a bundle of another format gets a message saying so.
    try:
        fmt = json.loads(b.read("bundle.json")).get("format")
    except (ValueError, AttributeError):
        fmt = None
    if fmt != FORMAT and isinstance(fmt, str) and fmt.startswith("goodbot-evidence/"):
        raise Failure("bundle.json: format %r, this verifier reads %r only; verify it with "
                      "goodbot audit verify-bundle, which reads both" % (fmt, FORMAT))
    files = check_manifest(b, keys)
    out.append("manifest: %d files, digests match, signed by the key" % files)

    info = strict_json(b.read("bundle.json"), "bundle.json")
    if info.get("format") != FORMAT:
        raise Failure("bundle.json: format %r, want %r" % (info.get("format"), FORMAT))
    site = info.get("site")
    cp_text = open_note(b.read("checkpoint.txt"), keys, "checkpoint.txt")
    origin, size, cp_root = parse_checkpoint(cp_text, "checkpoint.txt")
    if origin != info.get("origin") or size != info.get("checkpoint_size") or cp_root != unhex(info.get("root"), "bundle.json root"):
        raise Failure("checkpoint.txt does not match bundle.json (origin, size or root)")
    out.append("checkpoint: %s, size %d, root %s, signature verified" % (origin, size, cp_root.hex()))
    stamp = info.get("timestamp")
    if os.path.exists(b.path("checkpoint.tsr")):
        if not isinstance(stamp, dict) or stamp.get("file") != "checkpoint.tsr":
            raise Failure("checkpoint.tsr is present but bundle.json does not describe it")
        out.append(check_timestamp(b.read("checkpoint.tsr"), b.read("checkpoint.txt"), tsa_ca))
    elif stamp is not None:
        raise Failure("bundle.json names checkpoint.tsr, which is missing")
    elif tsa_ca:
        raise Failure("--tsa-ca given, but the bundle has no time-stamp token (checkpoint.tsr)")
    ncosig = info.get("cosignatures") or 0
    if os.path.exists(b.path("checkpoint.cosig")):
        data = b.read("checkpoint.cosig")
        lines = jsonl(data, "checkpoint.cosig")
        if len(lines) != ncosig or not lines:
            raise Failure("checkpoint.cosig has %d lines, bundle.json says %d" % (len(lines), ncosig))
        lines = [l.decode("utf-8") for l in lines]
        for wk in witness_keys:
            k = Key(wk, alg=4)
            t = check_cosignature(cp_text, lines, k)
            out.append("cosignature: witness %s cosigned the checkpoint at POSIX time %d (C2SP cosignature/v1), verified" % (k.name, t))
        if not witness_keys:
            out.append("cosignature: %d witness cosignatures present, NOT verified: pass --witness-key VKEY" % len(lines))
    elif ncosig:
        raise Failure("bundle.json counts %d cosignatures, but checkpoint.cosig is missing" % ncosig)
    elif witness_keys:
        raise Failure("--witness-key given, but the bundle has no checkpoint.cosig")

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


# ---------------------------------------------------------------- RFC 3161
# A minimal DER reader and the checks of a time-stamp token (RFC 3161, CMS
# SignedData of RFC 5652) on checkpoint.txt: the stamped hash, the signed
# attributes, the TSA's signature (RSA PKCS #1 v1.5, or ECDSA on P-256),
# the TSA certificate's key usage, and with --tsa-ca the certificate chain.

OID_SIGNED_DATA = "2a864886f70d010702"
OID_TSTINFO = "2a864886f70d0109100104"
OID_CONTENT_TYPE = "2a864886f70d010903"
OID_MESSAGE_DIGEST = "2a864886f70d010904"
OID_SIGNING_CERT = "2a864886f70d010910020c"
OID_SIGNING_CERT_V2 = "2a864886f70d010910022f"
OID_EKU = "551d25"
OID_TIME_STAMPING = "2b06010505070308"
OID_RSA = "2a864886f70d010101"
OID_EC = "2a8648ce3d0201"
OID_P256 = "2a8648ce3d030107"
HASHES = {"608648016503040201": "sha256", "608648016503040202": "sha384",
          "608648016503040203": "sha512", "2b0e03021a": "sha1"}
RSA_SIGS = {"2a864886f70d01010b": "sha256", "2a864886f70d01010c": "sha384", "2a864886f70d01010d": "sha512"}
ECDSA_SIGS = {"2a8648ce3d040302": "sha256", "2a8648ce3d040303": "sha384", "2a8648ce3d040304": "sha512"}
DIGEST_INFO = {"sha256": "3031300d060960864801650304020105000420",
               "sha384": "3041300d060960864801650304020205000430",
               "sha512": "3051300d060960864801650304020305000440"}


class DER:
    """One DER element: tag byte, content bytes, and the whole encoding."""

    def __init__(self, tag, content, raw):
        self.tag, self.content, self.raw = tag, content, raw

    def children(self):
        out, off = [], 0
        while off < len(self.content):
            e, off = der_read(self.content, off)
            out.append(e)
        return out

    def int(self):
        if self.tag != 0x02 or not self.content:
            raise Failure("time-stamp token: want an INTEGER")
        return int.from_bytes(self.content, "big", signed=True)


def der_read(b, off):
    if off + 2 > len(b):
        raise Failure("time-stamp token: DER runs past its end")
    tag, n = b[off], b[off + 1]
    if tag & 0x1F == 0x1F:
        raise Failure("time-stamp token: multi-byte DER tags are not used by RFC 3161")
    start = off + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or start + k > len(b):
            raise Failure("time-stamp token: bad DER length")
        n = int.from_bytes(b[start:start + k], "big")
        start += k
    end = start + n
    if end > len(b):
        raise Failure("time-stamp token: DER element runs past its end")
    return DER(tag, b[start:end], b[off:end]), end


def der_one(b, what):
    e, end = der_read(b, 0)
    if end != len(b):
        raise Failure("%s: trailing bytes after the DER element" % what)
    return e


def want(e, tag, what):
    if e.tag != tag:
        raise Failure("%s: DER tag 0x%02x, want 0x%02x" % (what, e.tag, tag))
    return e


def oid(e, what):
    return want(e, 0x06, what).content.hex()


def alg_oid(e, what):
    """The OID of an AlgorithmIdentifier whose parameters are absent or NULL."""
    kids = want(e, 0x30, what).children()
    if not kids or len(kids) > 2 or (len(kids) == 2 and kids[1].raw != b"\x05\x00"):
        raise Failure("%s: bad algorithm identifier" % what)
    return oid(kids[0], what)


def alg_hash(e, what):
    kids = want(e, 0x30, what).children()
    name = HASHES.get(oid(kids[0], what)) if kids else None
    if name is None or len(kids) > 2 or (len(kids) == 2 and kids[1].raw != b"\x05\x00"):
        raise Failure("%s: unsupported hash algorithm" % what)
    return name


class Cert:
    """An X.509 certificate: the parts the checks need."""

    def __init__(self, raw):
        self.raw = raw
        top = want(der_one(raw, "certificate"), 0x30, "certificate").children()
        if len(top) != 3:
            raise Failure("certificate: want tbsCertificate, signatureAlgorithm, signature")
        self.tbs = want(top[0], 0x30, "tbsCertificate").raw
        self.sig_alg = alg_oid(top[1], "certificate signature algorithm")
        sig = want(top[2], 0x03, "certificate signature").content
        self.sig = sig[1:]
        f = top[0].children()
        if f and f[0].tag == 0xA0:
            f = f[1:]
        self.serial = f[0].int()
        self.issuer, self.subject = want(f[2], 0x30, "issuer").raw, want(f[4], 0x30, "subject").raw
        validity = want(f[3], 0x30, "validity").children()
        self.not_before, self.not_after = asn1_time(validity[0]), asn1_time(validity[1])
        spki = want(f[5], 0x30, "subjectPublicKeyInfo").children()
        alg = want(spki[0], 0x30, "key algorithm").children()
        bits = want(spki[1], 0x03, "public key").content[1:]
        kind = oid(alg[0], "key algorithm")
        if kind == OID_RSA:
            n, e = der_one(bits, "RSA key").children()
            self.key = ("rsa", n.int(), e.int())
        elif kind == OID_EC and len(alg) > 1 and alg[1].content.hex() == OID_P256 and len(bits) == 65 and bits[0] == 4:
            self.key = ("p256", int.from_bytes(bits[1:33], "big"), int.from_bytes(bits[33:], "big"))
        else:
            self.key = ("unsupported", 0, 0)
        self.eku = None  # (critical, [purpose OIDs]) of the extendedKeyUsage extension
        for x in f[6:]:
            if x.tag != 0xA3:
                continue
            for ext in want(der_one(x.content, "extensions"), 0x30, "extensions").children():
                parts = ext.children()
                if oid(parts[0], "extension") != OID_EKU:
                    continue
                critical = len(parts) == 3 and parts[1].tag == 0x01 and parts[1].content != b"\x00"
                purposes = [oid(p, "extendedKeyUsage") for p in want(der_one(want(parts[-1], 0x04, "extension").content, "extendedKeyUsage"), 0x30, "extendedKeyUsage").children()]
                if self.eku is not None:
                    raise Failure("certificate: two extendedKeyUsage extensions")
                self.eku = (critical, purposes)

    def name(self):
        """The subject's common name (2.5.4.3), for messages."""
        for rdn in der_one(self.subject, "subject").children():
            for atv in rdn.children():
                t, v = atv.children()
                if t.content.hex() == "550403":
                    return v.content.decode("utf-8", "replace")
        return "(no common name)"


def asn1_time(e):
    s = e.content.decode("ascii", "replace")
    if e.tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        s = ("19" if int(s[:2]) >= 50 else "20") + s
    elif e.tag != 0x18:
        raise Failure("time-stamp token: want a UTCTime or GeneralizedTime")
    if not re.fullmatch(r"\d{14}(\.\d+)?Z", s):
        raise Failure("time-stamp token: time %r is not in UTC" % s)
    return s[:14]  # YYYYMMDDHHMMSS: comparable as a string


# P-256 (FIPS 186-4 D.1.2.3), affine coordinates; None is the point at infinity.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
P256_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
          0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _ec_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    p = P256_P
    if a[0] == b[0] and (a[1] + b[1]) % p == 0:
        return None
    if a == b:
        lam = 3 * (a[0] * a[0] - 1) * pow(2 * a[1], p - 2, p) % p  # a = -3
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], p - 2, p) % p
    x = (lam * lam - a[0] - b[0]) % p
    return (x, (lam * (a[0] - x) - a[1]) % p)


def _ec_mul(k, pt):
    out = None
    while k:
        if k & 1:
            out = _ec_add(out, pt)
        pt = _ec_add(pt, pt)
        k >>= 1
    return out


def check_signature(key, hname, signed, sig, what):
    """Check sig over signed by key with hash hname (RSA PKCS #1 v1.5 or ECDSA P-256)."""
    h = hashlib.new(hname, signed).digest()
    kind, a, b = key
    if kind == "rsa":
        n, e = a, b
        k = (n.bit_length() + 7) // 8
        s = int.from_bytes(sig, "big")
        if len(sig) != k or s >= n:
            raise Failure("%s: RSA signature of the wrong size" % what)
        em = pow(s, e, n).to_bytes(k, "big")
        t = bytes.fromhex(DIGEST_INFO[hname]) + h
        if k < len(t) + 11 or em != b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t:
            raise Failure("%s: the RSA signature does not verify" % what)
        return
    if kind == "p256":
        q = (a, b)
        if (b * b - a * a * a + 3 * a - P256_B) % P256_P != 0:
            raise Failure("%s: the public key is not on P-256" % what)
        r, s = [x.int() for x in want(der_one(sig, what), 0x30, what).children()]
        if not (0 < r < P256_N and 0 < s < P256_N):
            raise Failure("%s: the ECDSA signature is out of range" % what)
        z = int.from_bytes(h[:32], "big")
        w = pow(s, P256_N - 2, P256_N)
        pt = _ec_add(_ec_mul(z * w % P256_N, P256_G), _ec_mul(r * w % P256_N, q))
        if pt is None or pt[0] % P256_N != r:
            raise Failure("%s: the ECDSA signature does not verify" % what)
        return
    raise Failure("%s: unsupported public key (RSA and ECDSA P-256 are)" % what)


def check_cert_signature(cert, issuer, what):
    alg = cert.sig_alg
    hname = RSA_SIGS.get(alg) or ECDSA_SIGS.get(alg)
    if hname is None or (alg in RSA_SIGS) != (issuer.key[0] == "rsa"):
        raise Failure("%s: unsupported certificate signature algorithm" % what)
    check_signature(issuer.key, hname, cert.tbs, cert.sig, what)


def check_timestamp(token, stamped, ca_file):
    """Check an RFC 3161 token over the bytes stamped; return a line for the report."""
    try:
        return _check_timestamp(token, stamped, ca_file)
    except (IndexError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise Failure("checkpoint.tsr: malformed time-stamp token (%s: %s)" % (type(e).__name__, e))


def _check_timestamp(token, stamped, ca_file):
    what = "checkpoint.tsr"
    ci = want(der_one(token, what), 0x30, what).children()
    if len(ci) != 2 or oid(ci[0], what) != OID_SIGNED_DATA or ci[1].tag != 0xA0:
        raise Failure("%s: not a CMS signed-data ContentInfo" % what)
    sd = want(der_one(ci[1].content, what), 0x30, what).children()
    if len(sd) < 4 or sd[0].int() != 3:
        raise Failure("%s: signed data version is not 3" % what)
    digest_algs = [alg_hash(a, what) for a in want(sd[1], 0x31, what).children()]
    encap = want(sd[2], 0x30, what).children()
    if len(encap) != 2 or oid(encap[0], what) != OID_TSTINFO or encap[1].tag != 0xA0:
        raise Failure("%s: the signed content is not a TSTInfo" % what)
    econtent = want(der_one(encap[1].content, what), 0x04, what).content
    certs = []
    rest = sd[3:]
    if rest and rest[0].tag == 0xA0:
        certs = [Cert(c.raw) for c in rest[0].children()]
        rest = rest[1:]
    if rest and rest[0].tag == 0xA1:
        rest = rest[1:]
    if len(rest) != 1 or len(want(rest[0], 0x31, what).children()) != 1:
        raise Failure("%s: want exactly one signer" % what)

    tst = want(der_one(econtent, "TSTInfo"), 0x30, "TSTInfo").children()
    if tst[0].int() != 1:
        raise Failure("TSTInfo: version is not 1")
    imprint = want(tst[2], 0x30, "messageImprint").children()
    iname = alg_hash(imprint[0], "messageImprint")
    hashed = want(imprint[1], 0x04, "messageImprint").content
    if hashed != hashlib.new(iname, stamped).digest():
        raise Failure("%s: the token stamps %s %s, not the %s of checkpoint.txt (%s): it is a token for another checkpoint"
                      % (what, iname, hashed.hex(), iname, hashlib.new(iname, stamped).hexdigest()))
    gen_time = asn1_time(want(tst[4], 0x18, "TSTInfo genTime"))

    si = want(rest[0].children()[0], 0x30, what).children()
    if len(si) < 6 or si[3].tag != 0xA0:
        raise Failure("%s: the signer has no signed attributes" % what)
    if si[0].int() not in (1, 3):
        raise Failure("%s: signer info version %d" % (what, si[0].int()))
    dname = alg_hash(si[2], "signer digest algorithm")
    if dname not in digest_algs or dname == "sha1":
        raise Failure("%s: the signer's digest algorithm is not among the signed data's, or is SHA-1" % what)
    sid = si[1]
    signer = None
    for c in certs:
        if sid.tag == 0x30:
            issuer, serial = sid.children()
            if c.issuer == issuer.raw and c.serial == serial.int():
                signer = c
        elif sid.tag == 0x80 and sid.content in c.raw:
            signer = c  # subjectKeyIdentifier: the key id appears in the certificate
    if signer is None:
        raise Failure("%s: the token does not carry the signer's certificate" % what)
    signed = b"\x31" + si[3].raw[1:]
    seen = {}
    for attr in der_one(signed, "signed attributes").children():
        t, vals = want(attr, 0x30, what).children()
        if oid(t, what) in seen:
            raise Failure("%s: a signed attribute appears twice" % what)
        seen[oid(t, what)] = der_one(want(vals, 0x31, what).content, what)
    if seen.get(OID_CONTENT_TYPE) is None or oid(seen[OID_CONTENT_TYPE], what) != OID_TSTINFO:
        raise Failure("%s: the content-type attribute is not TSTInfo" % what)
    md = seen.get(OID_MESSAGE_DIGEST)
    if md is None or md.tag != 0x04 or md.content != hashlib.new(dname, econtent).digest():
        raise Failure("%s: the message-digest attribute does not match the TSTInfo" % what)
    if OID_SIGNING_CERT_V2 in seen:
        ids = seen[OID_SIGNING_CERT_V2].children()[0].children()[0].children()
        hname = alg_hash(ids[0], "ESSCertIDv2") if ids[0].tag == 0x30 else "sha256"
        cert_hash = ids[1 if ids[0].tag == 0x30 else 0].content
    elif OID_SIGNING_CERT in seen:
        hname, cert_hash = "sha1", seen[OID_SIGNING_CERT].children()[0].children()[0].children()[0].content
    else:
        raise Failure("%s: no signing-certificate attribute" % what)
    if cert_hash != hashlib.new(hname, signer.raw).digest():
        raise Failure("%s: the signing-certificate attribute names another certificate" % what)
    sig_alg = alg_oid(si[4], what)
    named = RSA_SIGS.get(sig_alg) or ECDSA_SIGS.get(sig_alg)
    if (named is not None and named != dname) or not (sig_alg in (OID_RSA, OID_EC) or named):
        raise Failure("%s: unsupported or mismatched signature algorithm" % what)
    check_signature(signer.key, dname, signed, want(si[5], 0x04, what).content, what + ": token signature")
    if signer.eku is None or not signer.eku[0] or signer.eku[1] != [OID_TIME_STAMPING]:
        raise Failure("%s: the TSA certificate's extended key usage is not timeStamping alone, critical" % what)

    when = "%s-%s-%sT%s:%s:%sZ" % (gen_time[:4], gen_time[4:6], gen_time[6:8], gen_time[8:10], gen_time[10:12], gen_time[12:])
    line = "time-stamp: checkpoint.txt stamped at %s by %r (RFC 3161), hash and signature verified" % (when, signer.name())
    if not ca_file:
        return line + "; checked for consistency but NOT for trust: pass --tsa-ca FILE with the TSA's CA certificate"
    roots = []
    with open(ca_file, "rb") as f:
        for m in re.finditer(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", f.read(), re.S):
            roots.append(Cert(base64.b64decode(b"".join(m.group(1).split()))))
    if not roots:
        raise Failure("%s: holds no PEM certificate" % ca_file)
    cert, depth = signer, 0
    while True:
        if not (cert.not_before <= gen_time <= cert.not_after):
            raise Failure("%s: certificate %r is not valid at the token's time" % (what, cert.name()))
        root = next((r for r in roots if r.subject == cert.issuer), None)
        if root is not None:
            check_cert_signature(cert, root, "%s: certificate %r" % (what, cert.name()))
            if not (root.not_before <= gen_time <= root.not_after):
                raise Failure("%s: the CA certificate %r is not valid at the token's time" % (what, root.name()))
            break
        parent = next((c for c in certs if c.subject == cert.issuer and c is not cert), None)
        depth += 1
        if parent is None or depth > 4:
            raise Failure("%s: the TSA certificate does not chain to the CA in %s" % (what, ca_file))
        check_cert_signature(cert, parent, "%s: certificate %r" % (what, cert.name()))
        cert = parent
    return line + "; the TSA certificate chains to the CA in %s" % ca_file


def main(argv):
    ap = argparse.ArgumentParser(description="Verify a goodbot evidence bundle offline.")
    ap.add_argument("--key", action="append", default=[], help="the operator's public key (NAME+HASH+BASE64); repeatable")
    ap.add_argument("--checkpoint", help="a signed checkpoint of the same log held by someone else")
    ap.add_argument("--tsa-ca", help="PEM file of the CA certificate the time-stamping authority's certificate must chain to")
    ap.add_argument("--witness-key", action="append", default=[], help="a witness's cosignature/v1 key (NAME+HASH+BASE64); it must have cosigned the checkpoint; repeatable")
    ap.add_argument("bundle", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args(argv)
    try:
        lines = verify(args.bundle, args.key, args.checkpoint, args.tsa_ca, args.witness_key)
    except (Failure, OSError) as e:
        print("FAILED: %s: %s" % (args.bundle, e), file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    print("ok: %s verifies" % args.bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
