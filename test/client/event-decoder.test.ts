import { expect } from "chai";
import type { ParamType } from "ethers";
import { Interface, id, keccak256, toUtf8Bytes } from "ethers";
import { EventDecoder } from "../../contracts/client/event-decoder.js";
import { abiOf } from "../../contracts/client/artifacts.js";

/** A value of `type` that differs with `seed`, so a mixed-up argument shows. */
function sample(type: ParamType, seed: number): unknown {
  if (type.isArray()) return [sample(type.arrayChildren, seed), sample(type.arrayChildren, seed + 1)];
  if (type.isTuple()) return type.components.map((c, i) => sample(c, seed + i));
  const t = type.baseType;
  if (t.startsWith("uint") || t.startsWith("int")) return BigInt(seed + 7);
  if (t === "address") return "0x" + (seed + 1).toString(16).padStart(40, "0");
  if (t === "bool") return seed % 2 === 0;
  if (t === "string") return `text ${seed}`;
  if (t === "bytes") return "0x" + (seed + 1).toString(16).padStart(6, "0");
  if (t.startsWith("bytes")) return keccak256(toUtf8Bytes(String(seed))).slice(0, 2 + 2 * Number(t.slice(5)));
  throw new Error(`no sample for ${t}`);
}

describe("EventDecoder: logs decoded by their first topic", () => {
  for (const contract of ["TroupeMarket", "OfferBook", "ProviderRegistry", "VerifierCourt"] as const) {
    it(`decodes every ${contract} event exactly as Interface.parseLog does`, () => {
      const iface = new Interface(abiOf(contract) as never);
      const decoder = new EventDecoder([iface]);
      let events = 0;
      iface.forEachEvent((fragment) => {
        events++;
        const values = fragment.inputs.map((input, i) => sample(input, i * 3));
        const log = iface.encodeEventLog(fragment, values);
        const expected = iface.parseLog(log)!;
        const got = decoder.decode(log)!;
        expect(got.name).to.equal(expected.name);
        expect(got.fragment.format("full")).to.equal(expected.fragment.format("full"));
        expect(got.args.toArray(true)).to.deep.equal(expected.args.toArray(true));
      });
      expect(events).to.be.greaterThan(0);
    });
  }

  it("returns undefined for a log of an event it does not know, or with no topic", () => {
    const decoder = new EventDecoder([new Interface(abiOf("OfferBook") as never)]);
    expect(decoder.decode({ topics: [id("Unknown(uint256)")], data: "0x" })).to.equal(undefined);
    expect(decoder.decode({ topics: [], data: "0x" })).to.equal(undefined);
  });

  it("refuses data that does not fit the event it claims to be", () => {
    const iface = new Interface(abiOf("TroupeMarket") as never);
    const fragment = iface.getEvent("RequestPosted")!;
    const log = iface.encodeEventLog(fragment, fragment.inputs.map((input, i) => sample(input, i)));
    expect(() => new EventDecoder([iface]).decode({ topics: log.topics, data: "0x1234" })).to.throw();
  });
});
