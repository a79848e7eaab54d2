import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ContentStore } from "../../runtime/host/content-store.js";
import { fetchBlob, UriRefused } from "../../runtime/host/fetch-blob.js";
import { STRICT_POLICY, uriPolicyFromEnv, type UriPolicy } from "../../runtime/host/uri-policy.js";
import { sha256Hex } from "../../runtime/host/sha256.js";
import { expectReject } from "../helpers/expect-reject.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("runtime-host: content store and fetching", () => {
  let dir: string;
  let outside: string;
  let store: ContentStore;
  let server: Server;
  let base: string;
  let port: number;
  /** The content directory is `dir/content`; the test server on 127.0.0.1 is allowed. */
  let policy: UriPolicy;
  const served = new Map<string, Uint8Array>();
  const redirects = new Map<string, string>();

  before(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? "";
      const target = redirects.get(url);
      if (target) return void res.writeHead(302, { location: target }).end();
      if (url === "/stream") {
        // no content-length: only the streaming cap can stop it
        res.writeHead(200);
        const chunk = new Uint8Array(1024);
        for (let i = 0; i < 4; i++) res.write(chunk);
        return void res.end();
      }
      if (url === "/hang") return; // never answers
      const body = served.get(url);
      if (!body) return void res.writeHead(404).end("not found");
      res.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "troupe-fetch-"));
    outside = mkdtempSync(join(tmpdir(), "troupe-fetch-outside-"));
    mkdirSync(join(dir, "content"));
    store = new ContentStore(join(dir, "store"));
    policy = { contentDirs: [join(dir, "content")], allowAddresses: ["127.0.0.1"] };
    served.clear();
    redirects.clear();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it("stores blobs by sha-256 and ignores a tampered one", () => {
    const hash = store.put(bytes("module"));
    expect(hash).to.equal(sha256Hex(bytes("module")));
    expect(new TextDecoder().decode(store.get("0x" + hash))).to.equal("module");
    expect(store.get(sha256Hex(bytes("other")))).to.equal(undefined);
    writeFileSync(join(store.dir, hash.slice(0, 2), hash), "tampered");
    expect(store.get(hash)).to.equal(undefined);
    expect(() => store.get("xyz")).to.throw(/not a sha-256/);
  });

  it("fetches file://, http:// and cas:// URIs and caches what it fetched", async () => {
    const file = join(dir, "content", "input.bin");
    writeFileSync(file, "from a file");
    const fromFile = await fetchBlob(pathToFileURL(file).href, { sha256: sha256Hex(bytes("from a file")), maxBytes: 1024, store, policy });
    expect(new TextDecoder().decode(fromFile)).to.equal("from a file");

    served.set("/m.wasm", bytes("from http"));
    const httpHash = sha256Hex(bytes("from http"));
    expect(new TextDecoder().decode(await fetchBlob(`${base}/m.wasm`, { sha256: httpHash, maxBytes: 1024, store, policy }))).to.equal("from http");
    served.delete("/m.wasm");
    // Cached: the second fetch needs no server, and the cas:// form finds it too.
    expect(await fetchBlob(`${base}/m.wasm`, { sha256: httpHash, maxBytes: 1024, store, policy })).to.have.length(9);
    expect(await fetchBlob(`cas://${httpHash}`, { sha256: httpHash, maxBytes: 1024, store, policy })).to.have.length(9);
  });

  it("rejects a hash mismatch, an oversized blob, a missing blob, a slow server and an unknown scheme", async () => {
    served.set("/evil.wasm", bytes("not what was promised"));
    const promised = sha256Hex(bytes("the real module"));
    const opts = { sha256: promised, maxBytes: 1024, store, policy };
    await expectReject(fetchBlob(`${base}/evil.wasm`, opts), /hash mismatch.*expected sha-256/);
    expect(existsSync(store.dir), "nothing was stored").to.equal(false);

    served.set("/big.wasm", new Uint8Array(4096));
    await expectReject(fetchBlob(`${base}/big.wasm`, { ...opts, maxBytes: 1000 }), /4096 bytes, over the 1000-byte limit/);
    await expectReject(fetchBlob(`${base}/stream`, { ...opts, maxBytes: 1000 }), /stream is over the 1000-byte limit/);
    const bigFile = join(dir, "content", "big.bin");
    writeFileSync(bigFile, new Uint8Array(2048));
    await expectReject(fetchBlob(pathToFileURL(bigFile).href, { ...opts, maxBytes: 1000 }), /over the 1000-byte limit/);

    await expectReject(fetchBlob(`${base}/missing.wasm`, opts), /answered 404/);
    await expectReject(fetchBlob(`${base}/hang`, { ...opts, timeoutMs: 300 }), /timed out after 300 ms/);
    await expectReject(fetchBlob(`cas://${promised}`, opts), /not in the local content store/);
    await expectReject(fetchBlob("ftp://example.org/m.wasm", opts), /scheme ftp: is not one of/);
    await expectReject(fetchBlob("no uri", opts), /not a URI/);
  });

  it("reads file: URIs only inside the content directories: no path outside, no .., no symlink out, no FIFO", async () => {
    const secret = join(outside, "secret");
    writeFileSync(secret, "the provider's secret");
    const hash = sha256Hex(bytes("the provider's secret"));
    const opts = { sha256: hash, maxBytes: 1024, store, policy };
    await expectRefused(fetchBlob(pathToFileURL(secret).href, opts), new RegExp(`${secret} is outside the content directories: file: URIs are read only inside`));
    // `..` climbs out of the directory (the URI is written by hand, so nothing normalises it first)
    const climbing = `file://${join(dir, "content")}/../../${basename(outside)}/secret`;
    await expectRefused(fetchBlob(climbing, opts), /is outside the content directories/);
    const encoded = `file://${join(dir, "content")}/%2e%2e/%2e%2e/${basename(outside)}/secret`;
    await expectRefused(fetchBlob(encoded, opts), /is outside the content directories/);
    // a symlink inside the directory that points out of it
    symlinkSync(secret, join(dir, "content", "link"));
    await expectRefused(fetchBlob(pathToFileURL(join(dir, "content", "link")).href, opts), new RegExp(`link \\(really ${secret}\\) is outside`));
    // so is a symlinked directory
    symlinkSync(outside, join(dir, "content", "door"));
    await expectRefused(fetchBlob(pathToFileURL(join(dir, "content", "door", "secret")).href, opts), /is outside the content directories/);
    // no content directory at all: file: is refused outright
    await expectRefused(fetchBlob(pathToFileURL(join(dir, "content", "x")).href, { ...opts, policy: STRICT_POLICY }), /refused: file: URIs are read only inside the content directories \(CONTENT_DIRS: none\)/);
    // a FIFO inside the directory is refused without blocking on it
    execFileSync("mkfifo", [join(dir, "content", "fifo")]);
    await expectRefused(fetchBlob(pathToFileURL(join(dir, "content", "fifo")).href, opts), /only a regular file can be read/);
    expect(existsSync(store.dir), "nothing was stored").to.equal(false);

    // a symlink that stays inside is fine
    const inside = join(dir, "content", "real.bin");
    writeFileSync(inside, "inside");
    symlinkSync(inside, join(dir, "content", "alias"));
    expect(await fetchBlob(pathToFileURL(join(dir, "content", "alias")).href, { ...opts, sha256: sha256Hex(bytes("inside")) })).to.have.length(6);
  });

  it("reaches no loopback, private, link-local, unspecified or multicast address unless allowed, also by name", async () => {
    served.set("/m.wasm", bytes("loopback content"));
    const opts = { sha256: sha256Hex(bytes("loopback content")), maxBytes: 1024, store, policy: STRICT_POLICY };
    await expectRefused(fetchBlob(`${base}/m.wasm`, opts), /127\.0\.0\.1 is 127\.0\.0\.1 \(loopback\).*FETCH_ALLOW_ADDRESSES/);
    await expectRefused(fetchBlob(`http://localhost:${port}/m.wasm`, opts), /localhost is .*\(loopback\)/);
    // the decimal form of 127.0.0.1 is the same address
    await expectRefused(fetchBlob(`http://2130706433:${port}/m.wasm`, opts), /\(loopback\)/);
    await expectRefused(fetchBlob(`http://[::ffff:127.0.0.1]:${port}/m.wasm`, opts), /\(loopback\)/);
    for (const [host, rule] of [
      ["10.1.2.3", "private"], ["172.16.0.1", "private"], ["192.168.1.1", "private"], ["[fd00::1]", "private"],
      ["169.254.169.254", "link-local"], ["[fe80::1]", "link-local"], ["0.0.0.0", "unspecified"], ["[::]", "unspecified"],
      ["224.0.0.1", "multicast"], ["[ff02::1]", "multicast"],
    ] as const) {
      await expectRefused(fetchBlob(`http://${host}:${port}/m.wasm`, opts), new RegExp(`\\(${rule}`));
    }
    // allowed by range: the local market's case
    const local = await fetchBlob(`${base}/m.wasm`, { ...opts, policy: { contentDirs: [], allowAddresses: ["127.0.0.0/8"] } });
    expect(new TextDecoder().decode(local)).to.equal("loopback content");
    expect(() => uriPolicyFromEnv({ FETCH_ALLOW_ADDRESSES: "127.0.0.1,example.org" })).to.throw(/FETCH_ALLOW_ADDRESSES: not an IP address or range: "example.org"/);
  });

  it("connects to the address it checked: a name that resolves elsewhere a moment later (DNS rebinding) changes nothing", async () => {
    served.set("/m.wasm", bytes("pinned"));
    const answers: string[] = [];
    // the first answer passes the check; any later one points into the LAN (and the system resolver does not know the name)
    const rebinding = async (host: string) => {
      answers.push(host);
      return [{ address: answers.length === 1 ? "127.0.0.1" : "10.0.0.1", family: 4 }];
    };
    const got = await fetchBlob(`http://rebind.invalid:${port}/m.wasm`, { sha256: sha256Hex(bytes("pinned")), maxBytes: 1024, store, policy, resolveHost: rebinding });
    expect(new TextDecoder().decode(got)).to.equal("pinned");
    expect(answers, "resolved once, by the check; the connection used the checked address").to.deep.equal(["rebind.invalid"]);
    // a name whose every address is forbidden is refused, naming them
    const lan = async () => [{ address: "10.0.0.1", family: 4 }, { address: "fd00::1", family: 6 }];
    await expectRefused(
      fetchBlob(`http://lan.invalid:${port}/x`, { sha256: sha256Hex(bytes("x")), maxBytes: 1024, store, policy, resolveHost: lan }),
      /lan\.invalid is 10\.0\.0\.1 \(private.*\), fd00::1 \(private/,
    );
  });

  it("follows redirects by hand, checking every target: none to loopback, link-local or file:, at most five", async () => {
    served.set("/final.wasm", bytes("after two hops"));
    redirects.set("/a", "/b");
    redirects.set("/b", `${base}/final.wasm`);
    const hash = sha256Hex(bytes("after two hops"));
    expect(await fetchBlob(`${base}/a`, { sha256: hash, maxBytes: 1024, store, policy })).to.have.length(14);

    const opts = { sha256: sha256Hex(bytes("anything")), maxBytes: 1024, store, policy };
    redirects.set("/to-loopback", `http://[::1]:${port}/final.wasm`);
    await expectRefused(fetchBlob(`${base}/to-loopback`, opts), /http:\/\/\[::1\]:\d+\/final\.wasm is refused: ::1 is ::1 \(loopback\)/);
    redirects.set("/to-other-loopback", `http://127.0.0.2:${port}/final.wasm`);
    await expectRefused(fetchBlob(`${base}/to-other-loopback`, opts), /127\.0\.0\.2 \(loopback\)/);
    redirects.set("/to-metadata", "http://169.254.169.254/latest/meta-data/");
    await expectRefused(fetchBlob(`${base}/to-metadata`, opts), /169\.254\.169\.254 \(link-local\)/);
    redirects.set("/to-file", pathToFileURL(join(dir, "content", "x")).href);
    await expectRefused(fetchBlob(`${base}/to-file`, opts), /redirects to file:.*only to http\(s\)/);
    for (let i = 0; i < 10; i++) redirects.set(`/loop${i}`, `/loop${i + 1}`);
    await expectReject(fetchBlob(`${base}/loop0`, opts), /more than 5 redirects/);
  });
});

async function expectRefused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error, (error as Error).message).to.be.instanceOf(UriRefused);
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a refusal matching ${pattern}`);
}
