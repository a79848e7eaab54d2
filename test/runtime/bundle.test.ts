import { expect } from "chai";
import { createHash } from "node:crypto";
import { decodeInputBundle, encodeInputBundle, outputHash, seedFromAgreement } from "../../runtime/job/index.js";
import { bundle } from "./spec.js";

describe("runtime: input bundles, seeds and output hashes", () => {
  const sample = bundle({
    args: ["prog", "--n", "3"],
    env: { B: "2", A: "1" },
    stdin: Buffer.from("input"),
    files: { "z.txt": Buffer.from("z"), "dir/a.bin": new Uint8Array([0, 255]) },
    outputs: ["out/b.txt", "a.txt"],
  });

  it("round-trips and has one canonical encoding", () => {
    const bytes = encodeInputBundle(sample);
    const back = decodeInputBundle(bytes);
    expect(back.args).to.deep.equal(sample.args);
    expect(back.env).to.deep.equal({ A: "1", B: "2" });
    expect(Buffer.from(back.stdin).toString()).to.equal("input");
    expect(Object.keys(back.files)).to.deep.equal(["dir/a.bin", "z.txt"]);
    expect(back.outputs).to.deep.equal(["a.txt", "out/b.txt"]);
    // Key order in the object does not change the bytes.
    const reordered = { ...sample, env: { A: "1", B: "2" }, outputs: ["a.txt", "out/b.txt"] };
    expect(Buffer.from(encodeInputBundle(reordered)).equals(Buffer.from(bytes))).to.equal(true);
    expect(Buffer.from(encodeInputBundle(back)).equals(Buffer.from(bytes))).to.equal(true);
  });

  it("rejects malformed and non-canonical bytes with a reason", () => {
    const bytes = encodeInputBundle(sample);
    expect(() => decodeInputBundle(bytes.slice(0, 20))).to.throw(/truncated/);
    expect(() => decodeInputBundle(new Uint8Array([1, 2, 3, 4, 5, 6]))).to.throw(/magic/);
    expect(() => decodeInputBundle(Buffer.concat([bytes, Buffer.from([0])]))).to.throw(/trailing/);
    // Swap the two env entries by hand: same content, wrong order.
    const env = Buffer.from(encodeInputBundle({ ...sample, env: { A: "1", B: "2" } }));
    const a = env.indexOf(Buffer.from([1, 0, 0, 0, 0x41]));
    const b = env.indexOf(Buffer.from([1, 0, 0, 0, 0x42]));
    const swapped = Buffer.concat([env.subarray(0, a), env.subarray(b, b + 10), env.subarray(a, a + 10), env.subarray(b + 10)]);
    expect(() => decodeInputBundle(swapped)).to.throw(/not in strictly ascending order/);
  });

  it("refuses paths that could escape the tree", () => {
    for (const p of ["../x", "/etc/passwd", "a/../../b", "a//b", "./a", ""])
      expect(() => encodeInputBundle(bundle({ files: { [p]: new Uint8Array() } })), p).to.throw(/bundle path/);
    expect(() => encodeInputBundle(bundle({ env: { "A=B": "1" } }))).to.throw(/environment variable name/);
  });

  it("derives the seed from (chain id, market, agreement id)", () => {
    const market = "0x" + "ab".repeat(20);
    const s = seedFromAgreement(31337n, market, 7n);
    expect(s.length).to.equal(32);
    expect(Buffer.from(s).equals(Buffer.from(seedFromAgreement(31337n, market, 7n)))).to.equal(true);
    expect(Buffer.from(s).equals(Buffer.from(seedFromAgreement(31337n, market, 8n)))).to.equal(false);
    expect(() => seedFromAgreement(1n, "0x1234", 1n)).to.throw(/market address/);
  });

  it("hashes stdout and the declared outputs in the documented encoding", () => {
    const stdout = Buffer.from("hi");
    const h = createHash("sha256");
    h.update("troupe-output-v1");
    const u64 = (n: number): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(n));
      return b;
    };
    const u32 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    h.update(u64(2)).update(stdout).update(u32(2));
    h.update(u32(5)).update("a.txt").update(Buffer.from([1])).update(u64(1)).update("A");
    h.update(u32(5)).update("b.txt").update(Buffer.from([0]));
    expect(outputHash(stdout, ["b.txt", "a.txt"], { "a.txt": Buffer.from("A") })).to.equal("0x" + h.digest("hex"));
  });
});
