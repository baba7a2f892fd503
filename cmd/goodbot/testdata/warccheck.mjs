// warccheck reads a WARC file with warcio.js (webrecorder's parser, an
// implementation independent of goodbot's), checks every record's
// WARC-Block-Digest and, where the record contains its payload, its
// WARC-Payload-Digest, and prints one JSON line per record: type, target,
// HTTP status, content type and, for conversion records, the payload
// decoded as the charset its Content-Type names.
//
// usage: node warccheck.mjs WARCIO_DIR FILE.warc.gz
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pathToFileURL } from "node:url";

const [dir, file] = process.argv.slice(2);
const { WARCParser } = await import(pathToFileURL(dir + "/node_modules/warcio/dist/index.js"));

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(buf) {
  let bits = 0, value = 0, out = "";
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8) out += "=";
  return out;
}
const digest = (b) => "sha256:" + base32(createHash("sha256").update(b).digest());

function indexOfCRLF2(b) {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

let failed = false;
const parser = new WARCParser(createReadStream(file), { parseHttp: false });
for await (const rec of parser) {
  const block = await rec.readFully(false);
  const h = (n) => rec.warcHeaders.headers.get(n);
  const type = h("WARC-Type");
  const out = { type, uri: h("WARC-Target-URI") || "", id: h("WARC-Record-ID"), refers: h("WARC-Refers-To") || "", ctype: h("Content-Type") || "" };
  for (const m of ["WARC-Record-ID", "WARC-Date", "WARC-Type", "Content-Length"]) {
    if (!h(m)) { out.error = "missing " + m; failed = true; }
  }
  if (h("WARC-Block-Digest") !== digest(block)) { out.error = "block digest"; failed = true; }
  let payload = null;
  if (type === "conversion" || type === "resource") payload = block;
  if ((type === "response" || type === "request") && !h("WARC-Truncated")) {
    const i = indexOfCRLF2(block);
    payload = i < 0 ? null : block.subarray(i + 4);
  }
  if (type === "response" || type === "request" || type === "revisit") {
    const i = indexOfCRLF2(block);
    const head = new TextDecoder().decode(block.subarray(0, i < 0 ? block.length : i));
    out.startline = head.split("\r\n")[0];
    if (type !== "request") out.status = Number(out.startline.split(" ")[1]);
    out.head = head;
  }
  if (payload && h("WARC-Payload-Digest") && h("WARC-Payload-Digest") !== digest(payload)) { out.error = "payload digest"; failed = true; }
  if (type === "conversion") {
    const m = /charset=([^;]+)/i.exec(out.ctype);
    out.text = new TextDecoder(m ? m[1].trim() : "utf-8", { fatal: true }).decode(payload);
  }
  if (type === "metadata" || type === "warcinfo") out.fields = new TextDecoder().decode(block);
  console.log(JSON.stringify(out));
}
process.exit(failed ? 1 : 0);
