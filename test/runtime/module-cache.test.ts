import { expect } from "chai";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeJob } from "../../runtime/job/execute.js";
import { clearModuleCache, moduleSha256, prepareModule } from "../../runtime/job/module-cache.js";
import { METERING_VERSION } from "../../runtime/wasm/cost-table.js";
import { i32const, startModule } from "../helpers/wasm-builder.js";
import { spec } from "./spec.js";

describe("runtime: instrumented module cache", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "troupe-icache-"));
    process.env.TROUPE_INSTRUMENT_CACHE = dir;
    clearModuleCache();
  });
  afterEach(() => {
    delete process.env.TROUPE_INSTRUMENT_CACHE;
    rmSync(dir, { recursive: true, force: true });
  });

  // A trap mid-block: the cached refunds must survive the round trip for the fuel to stay exact.
  const module = startModule([...i32const(1), 0x1a, ...i32const(70000), 0x28, 2, 0, 0x1a, ...i32const(3), 0x1a]);

  it("keeps instrumented modules on disk by (sha-256, metering version) and reuses them", async () => {
    const first = await executeJob(spec(module));
    const base = join(dir, `${moduleSha256(module)}.v${METERING_VERSION}`);
    expect(existsSync(`${base}.wasm`)).to.equal(true);
    expect(existsSync(`${base}.json`)).to.equal(true);
    clearModuleCache();
    const again = await executeJob(spec(module));
    expect(again.fuelUsed).to.equal(first.fuelUsed);
    expect(again.fuelUsed).to.equal(4n);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    // Proof that the disk entry is what runs: swap in another module's instrumented bytes.
    const other = startModule([...i32const(1), 0x1a]);
    await prepareModule(other);
    const otherBase = join(dir, `${moduleSha256(other)}.v${METERING_VERSION}`);
    copyFileSync(`${otherBase}.wasm`, `${base}.wasm`);
    copyFileSync(`${otherBase}.json`, `${base}.json`);
    clearModuleCache();
    expect((await executeJob(spec(module))).fuelUsed).to.equal(2n);
  });

  it("ignores a damaged entry and instruments again", async () => {
    await prepareModule(module);
    const base = join(dir, `${moduleSha256(module)}.v${METERING_VERSION}`);
    writeFileSync(`${base}.json`, "{ not json");
    clearModuleCache();
    const r = await executeJob(spec(module));
    expect(r.fuelUsed).to.equal(4n);
  });
});
