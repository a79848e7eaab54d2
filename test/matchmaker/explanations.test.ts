import { expect } from "chai";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { ExplanationStore } from "../../services/matchmaker/explanations.js";
import { expectReject } from "../helpers/expect-reject.js";

describe("matchmaker: the explanation store's write off the event loop", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "troupe-explanations-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("names the explanation by its hash at once and has the file under that name once `stored` resolves", async () => {
    const store = new ExplanationStore(dir);
    const burst = Array.from({ length: 20 }, (_, i) => store.putLater({ requestId: BigInt(i), price: 10n ** 18n }));
    await Promise.all(burst.map((b) => b.stored));
    for (const [i, { hash }] of burst.entries()) {
      const text = store.getText(hash)!;
      expect(keccak256(toUtf8Bytes(text))).to.equal(hash);
      expect(JSON.parse(text)).to.deep.equal({ requestId: String(i), price: "1000000000000000000" });
    }
    // The same explanation again is the same file; no temporary file is left behind.
    expect(store.putLater({ requestId: 0n, price: 10n ** 18n }).hash).to.equal(burst[0]!.hash);
    expect(readdirSync(store.dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("a write that fails rejects `stored`, and only when awaited (no unhandled rejection before)", async () => {
    const store = new ExplanationStore(dir);
    rmSync(store.dir, { recursive: true });
    writeFileSync(store.dir, "not a directory");
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const { hash, stored } = store.putLater({ requestId: 1n });
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).to.deep.equal([]);
      await expectReject(stored, /ENOTDIR/);
      expect(hash).to.match(/^0x[0-9a-f]{64}$/);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
