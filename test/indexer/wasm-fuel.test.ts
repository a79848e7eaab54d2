import { expect } from "chai";
import { loadSubgraphManifest } from "../../services/indexer/mapping/manifest.js";
import { DEFAULT_HANDLER_STEPS, FUEL_EXPORT, HOST_CALL_STEPS, meterFuel } from "../../services/indexer/mapping/wasm-fuel.js";
import { exportMutableGlobals } from "../../services/indexer/mapping/wasm-globals.js";

/**
 * A module that imports one host function and exports `run(n)`: a loop that calls the host and
 * counts n down to zero (n iterations), written byte by byte so the test needs no compiler.
 */
function countdownModule(): Uint8Array {
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const name = (s: string) => [s.length, ...Buffer.from(s)];
  const body = [0x00, 0x03, 0x40, 0x10, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, 0x60, 0, 0, 0x60, 1, 0x7f, 0]), // () -> () and (i32) -> ()
    ...section(2, [1, ...name("env"), ...name("host"), 0x00, 0]),
    ...section(3, [1, 1]),
    ...section(7, [1, ...name("run"), 0x00, 1]),
    ...section(10, [1, body.length, ...body]),
  ]);
}

function instantiate(wasm: Uint8Array) {
  let hostCalls = 0;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(meterFuel(wasm)), { env: { host: () => void hostCalls++ } });
  const fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  const run = instance.exports.run as (n: number) => void;
  return { fuel, run, hostCalls: () => hostCalls };
}

describe("indexer: the step budget of a mapping's handlers (wasm-fuel)", () => {
  it("charges one step per call and loop iteration and HOST_CALL_STEPS per host call, the same in every run", () => {
    for (const n of [1, 7, 1000]) {
      const { fuel, run, hostCalls } = instantiate(countdownModule());
      fuel.value = 10_000_000;
      run(n);
      expect(hostCalls()).to.equal(n);
      expect(10_000_000 - (fuel.value as number)).to.equal(1 + n + n * HOST_CALL_STEPS);
    }
  });

  it("stops a run at its budget with a trap, before the call that would exceed it", () => {
    const { fuel, run, hostCalls } = instantiate(countdownModule());
    fuel.value = 5 * (1 + HOST_CALL_STEPS);
    expect(() => run(1_000_000)).to.throw(WebAssembly.RuntimeError);
    expect(fuel.value as number).to.be.below(0);
    expect(hostCalls()).to.equal(4); // the fifth host call's charge ran the budget out
  });

  it("meters every compiled mapping of the subgraph into a valid module that starts on the default budget", () => {
    const manifest = loadSubgraphManifest();
    for (const source of [...manifest.dataSources, ...manifest.templates]) {
      const metered = exportMutableGlobals(meterFuel(source.mapping.wasm));
      expect(WebAssembly.validate(metered), source.name).to.equal(true);
      const fuel = WebAssembly.Module.exports(new WebAssembly.Module(metered)).find((e) => e.name === FUEL_EXPORT);
      expect(fuel?.kind).to.equal("global");
    }
    expect(DEFAULT_HANDLER_STEPS).to.be.at.most(0x7fffffff);
  });
});
