import { expect } from "chai";
import { Interface, type EventFragment } from "ethers";
import { parseSchemaModel } from "../../services/common/entity-model.js";
import { entityLayouts, type Fields } from "../../services/indexer/entity-layout.js";
import { decodeEventParams } from "../../services/indexer/mapping/abi-values.js";
import { AscHeap, DeterministicError } from "../../services/indexer/mapping/asc-heap.js";
import { EthKind, readBigInt, writeBigInt, writeEntity, type EthValue, type StoreValue } from "../../services/indexer/mapping/asc-values.js";
import { BigDecimal } from "../../services/indexer/mapping/big-numbers.js";
import { EntityValues } from "../../services/indexer/mapping/entity-values.js";

/**
 * The conversions the ingest's hot path does without intermediate objects, against plain
 * definitions: graph-ts BigInts (little-endian two's complement) in and out of memory, ABI words,
 * and entities between the module's memory and the store's form.
 */

/** A heap over a real WebAssembly memory; `allocate` is AssemblyScript's contract (the address after mmInfo), bump-allocated. */
function testHeap(): AscHeap {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 256 });
  let next = 1024;
  return new AscHeap({
    memory,
    allocate(size: number) {
      const block = next;
      next += (size + 4 + 15) & ~15;
      if (next > memory.buffer.byteLength) memory.grow(16);
      return block + 4;
    },
    id_of_type: (index: number) => 1000 + index,
  });
}

/** The shortest two's-complement little-endian bytes of v, one byte at a time. */
function referenceBytes(v: bigint): number[] {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = Number(x & 0xffn);
    out.push(byte);
    x >>= 8n;
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) return out;
  }
}

function bytesAt(heap: AscHeap, ptr: number): number[] {
  return [...heap.readBytes(ptr)];
}

describe("indexer: value conversions between the mappings' memory and the store", () => {
  it("writes and reads BigInts of every size and sign as graph-node's signed little-endian bytes", () => {
    const heap = testHeap();
    const values: bigint[] = [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, -256n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, -(2n ** 53n), 2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 255n, -(2n ** 255n), 2n ** 256n - 1n];
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 500; i++) {
      let v = 0n;
      const bits = 1 + (rand() % 300);
      for (let b = 0; b < bits; b += 16) v = (v << 16n) | BigInt(rand() & 0xffff);
      values.push(i % 2 ? -v : v, v + 1n, -v - 1n);
    }
    for (const v of values) {
      const ptr = writeBigInt(heap, v);
      expect(bytesAt(heap, ptr), `${v}`).to.deep.equal(referenceBytes(v));
      expect(readBigInt(heap, ptr), `${v}`).to.equal(v);
    }
  });

  it("reads BigInts whose bytes are longer than needed (sign-extended) and empty ones", () => {
    const heap = testHeap();
    const cases: [number[], bigint][] = [
      [[], 0n],
      [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], -1n],
      [[0x01, 0, 0, 0, 0, 0, 0, 0, 0], 1n],
      [[0, 0, 0, 0, 0, 0, 0, 0x80], -(2n ** 63n)],
      [[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], -2n],
      [[0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0x1234n],
    ];
    for (const [bytes, v] of cases) expect(readBigInt(heap, heap.writeBytes(Uint8Array.from(bytes))), `${bytes.join(",")}`).to.equal(v);
  });

  it("decodes event parameters as ethers does, large and signed words included", () => {
    const iface = new Interface([
      "event Sample(uint256 indexed id, address indexed who, int64 delta, uint256 big, int256 neg, bytes32 tag, bool flag, string text, bytes blob, uint16[] list)",
    ]);
    const fragment = iface.getEvent("Sample") as EventFragment;
    const args = [2n ** 200n + 7n, "0x00000000000000000000000000000000000000ab", -5n, 10n ** 30n, -(2n ** 255n), "0x" + "cd".repeat(32), true, "héllo", "0x0102", [1n, 65535n]];
    const { topics, data } = iface.encodeEventLog(fragment, args);
    const decoded = decodeEventParams(fragment, topics, data);
    const plain = (v: EthValue): unknown => {
      if (v.kind === EthKind.ADDRESS || v.kind === EthKind.FIXED_BYTES || v.kind === EthKind.BYTES) return "0x" + Buffer.from(v.value).toString("hex");
      if (v.kind === EthKind.ARRAY || v.kind === EthKind.FIXED_ARRAY || v.kind === EthKind.TUPLE) return v.value.map(plain);
      return v.value;
    };
    const expected = iface.decodeEventLog(fragment, data, topics);
    expect(decoded.map((p) => p.name)).to.deep.equal(fragment.inputs.map((i) => i.name));
    expect(decoded.map((p) => plain(p.value))).to.deep.equal([
      expected[0], "0x00000000000000000000000000000000000000ab", ...[...expected].slice(2, 7), "héllo", "0x0102", [1n, 65535n],
    ]);
    expect(() => decodeEventParams(fragment, topics, data.slice(0, -2) + "zz")).to.throw("data is not hex");
    expect(() => decodeEventParams(fragment, topics, data.slice(0, -1))).to.throw("data is not hex");
  });

  describe("entities", () => {
    const schema = parseSchemaModel(`
      type Thing @entity(immutable: false) {
        id: ID!
        owner: Owner!
        hash: Bytes!
        amount: BigInt!
        small: BigInt!
        count: Int!
        ratio: BigDecimal
        live: Boolean!
        when: Timestamp
        big8: Int8
        tags: [String!]
        scores: [BigInt]
        note: String
      }
      type Owner @entity(immutable: false) {
        id: Bytes!
        things: [Thing!]! @derivedFrom(field: "owner")
      }
    `);
    const layouts = entityLayouts(schema);
    const values = new EntityValues(layouts);
    const thing = layouts.get("Thing")!;
    const complete = (): Fields =>
      thing.fromRecord({
        id: "t1", owner: "0x00ab", hash: "0xDEADbeef", amount: -(10n ** 24n), small: -70000n, count: -3, ratio: "1.500", live: true, when: 1_700_000_000_000_000n,
        big8: -(2n ** 62n), tags: ["a", "b"], scores: [5n, null, -(2n ** 70n)], note: null,
      });

    it("round-trip through memory unchanged, written in field-name order without null fields", () => {
      const heap = testHeap();
      const fields = complete();
      const ptr = values.write(heap, thing, fields);
      const array = heap.u32(ptr);
      const names = heap.readPointerArray(array).map((entry) => heap.readString(heap.u32(entry)));
      expect(names).to.deep.equal(["amount", "big8", "count", "hash", "id", "live", "owner", "ratio", "scores", "small", "tags", "when"]);
      expect(values.read(heap, ptr, "Thing", "t1", undefined)).to.deep.equal(fields);
      // Read over an existing version: equal strings and bytes are kept, different ones (same length included) replaced.
      const other = thing.fromRecord({ ...thing.toRecord(fields), owner: "0x00ac", hash: "0xdeadbeee", small: -70001n, note: "x", tags: ["a", "c"] });
      expect(values.read(heap, ptr, "Thing", "t1", other)).to.deep.equal([...fields.slice(0, -1), "x"]);
      expect(values.read(heap, ptr, "Thing", "t1", fields)).to.deep.equal(fields);
      expect(thing.toRecord(fields)).to.deep.include({ hash: "0xdeadbeef", ratio: "1.5", note: null, scores: [5n, null, -(2n ** 70n)] });
      // The row form gives the same fields back.
      const cols = thing.columns(fields, 7);
      const row = Object.fromEntries([...thing.fields.map((f) => f.name), "__block_start"].map((n, i) => [n, cols[i]]));
      expect(thing.fromRow(row)).to.deep.equal(fields);
    });

    it("merges a partial set into the existing fields (absent fields kept, nulls cleared) and checks it as graph-node does", () => {
      const heap = testHeap();
      const existing = complete();
      const entity = (entries: [string, StoreValue][]) => writeEntity(heap, entries);
      const merged = values.read(heap, entity([["count", { kind: 1, value: 9 }], ["ratio", { kind: 5, value: null }], ["note", { kind: 0, value: "n" }]]), "Thing", "t1", existing);
      expect(thing.toRecord(merged)).to.deep.include({ count: 9, ratio: null, note: "n", amount: -(10n ** 24n) });
      expect(thing.toRecord(existing)).to.deep.include({ count: -3, ratio: "1.5", note: null });
      const fail = (entries: [string, StoreValue][], id = "t1", base: Fields | null = existing) => () => values.read(heap, entity(entries), "Thing", id, base ?? undefined);
      expect(fail([["count", { kind: 0, value: "x" }]])).to.throw(DeterministicError, "Entity Thing[t1]: the value `x` for field `count` must have type Int! but has type String");
      expect(fail([["nope", { kind: 1, value: 1 }]])).to.throw("Entity Thing[t1]: Unknown key `nope`. It probably is not defined in the schema");
      expect(fail([["tags", { kind: 4, value: [{ kind: 0, value: "a" }, { kind: 5, value: null }] }]])).to.throw("the value `[a, null]` for field `tags` must have type [String!] but has type Array");
      expect(fail([["id", { kind: 0, value: "t2" }]])).to.throw("Value of id attribute 'id' conflicts with ID passed to `store.set()`: t2 != t1");
      expect(fail([["count", { kind: 1, value: 1 }]], "t9", null)).to.throw("Entity Thing[t9]: missing value for non-nullable field `owner`");
      expect(fail([["ratio", { kind: 2, value: new BigDecimal(2500n, -3) }]])).to.not.throw();
      expect(thing.toRecord(values.read(heap, entity([["ratio", { kind: 2, value: new BigDecimal(2500n, -3) }]]), "Thing", "t1", existing)).ratio).to.equal("2.5");
      const owner = layouts.get("Owner")!;
      expect(() => values.read(heap, entity([["things", { kind: 4, value: [] }]]), "Owner", "0x01", owner.fromRecord({ id: "0x01" }))).to.throw(
        "Entity Owner[0x01]: field `things` is derived (@derivedFrom) and can not be set",
      );
      expect(() => values.read(heap, entity([]), "Nothing", "x", undefined)).to.throw(DeterministicError, "Entity type Nothing is not defined");
    });
  });
});
