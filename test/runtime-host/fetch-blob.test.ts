import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ContentStore } from "../../runtime/host/content-store.js";
import { fetchBlob } from "../../runtime/host/fetch-blob.js";
import { sha256Hex } from "../../runtime/host/sha256.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("runtime-host: content store and fetching", () => {
  let dir: string;
  let store: ContentStore;
  let server: Server;
  let base: string;
  const served = new Map<string, Uint8Array>();

  before(async () => {
    server = createServer((req, res) => {
      const body = served.get(req.url ?? "");
      if (!body) return void res.writeHead(404).end("not found");
      res.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "troupe-fetch-"));
    store = new ContentStore(join(dir, "store"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

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
    const file = join(dir, "input.bin");
    writeFileSync(file, "from a file");
    const fromFile = await fetchBlob(pathToFileURL(file).href, { sha256: sha256Hex(bytes("from a file")), maxBytes: 1024, store });
    expect(new TextDecoder().decode(fromFile)).to.equal("from a file");

    served.set("/m.wasm", bytes("from http"));
    const httpHash = sha256Hex(bytes("from http"));
    expect(new TextDecoder().decode(await fetchBlob(`${base}/m.wasm`, { sha256: httpHash, maxBytes: 1024, store }))).to.equal("from http");
    served.delete("/m.wasm");
    // Cached: the second fetch needs no server, and the cas:// form finds it too.
    expect(await fetchBlob(`${base}/m.wasm`, { sha256: httpHash, maxBytes: 1024, store })).to.have.length(9);
    expect(await fetchBlob(`cas://${httpHash}`, { sha256: httpHash, maxBytes: 1024, store })).to.have.length(9);
  });

  it("rejects a hash mismatch, an oversized blob, a missing blob and an unknown scheme", async () => {
    served.set("/evil.wasm", bytes("not what was promised"));
    const promised = sha256Hex(bytes("the real module"));
    await expectReject(fetchBlob(`${base}/evil.wasm`, { sha256: promised, maxBytes: 1024, store }), /hash mismatch.*expected sha-256/);
    expect(existsSync(store.dir), "nothing was stored").to.equal(false);

    served.set("/big.wasm", new Uint8Array(4096));
    await expectReject(fetchBlob(`${base}/big.wasm`, { sha256: promised, maxBytes: 1000, store }), /4096 bytes, over the 1000-byte limit/);
    const bigFile = join(dir, "big.bin");
    writeFileSync(bigFile, new Uint8Array(2048));
    await expectReject(fetchBlob(pathToFileURL(bigFile).href, { sha256: promised, maxBytes: 1000, store }), /over the 1000-byte limit/);

    await expectReject(fetchBlob(`${base}/missing.wasm`, { sha256: promised, maxBytes: 1024, store }), /answered 404/);
    await expectReject(fetchBlob(`cas://${promised}`, { sha256: promised, maxBytes: 1024, store }), /not in the local content store/);
    await expectReject(fetchBlob("ftp://example.org/m.wasm", { sha256: promised, maxBytes: 1024, store }), /scheme ftp: is not one of/);
    await expectReject(fetchBlob("no uri", { sha256: promised, maxBytes: 1024, store }), /not a URI/);
  });
});

async function expectReject(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a rejection matching ${pattern}`);
}
