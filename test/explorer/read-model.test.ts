import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { ReadModel } from "../../services/explorer/read-model.js";
import { openIndexDb, writeMeta, type Db } from "../../services/indexer/database.js";

describe("explorer: the read model's bookkeeping", () => {
  let dir: string;
  let db: Db;
  let model: ReadModel;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "troupe-read-model-"));
    const schema = loadSchemaModel();
    db = openIndexDb(join(dir, "index.db"), schema);
    model = new ReadModel(join(dir, "index.db"), schema);
  });

  after(() => {
    model?.close();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const addError = (block: number) =>
    db.prepare("INSERT INTO _errors (block, handler, message, deterministic) VALUES (?, 'handleX', 'failed', 1)").run(block);

  it("reads the checkpoint, the earliest block and the first error block as the indexer writes them, batch after batch", () => {
    expect(model.read(() => [model.head(), model.earliest(), model.firstErrorBlock(100)])).to.deep.equal([undefined, 0, undefined]);
    writeMeta(db, "checkpoint", { number: 10, hash: "0x0a", timestamp: 1000 });
    expect(model.read(() => model.head())).to.deep.equal({ number: 10, hash: "0x0a", timestamp: 1000 });
    writeMeta(db, "checkpoint", { number: 11, hash: "0x0b", timestamp: 1012 });
    writeMeta(db, "earliestBlock", 4);
    addError(9);
    addError(7);
    expect(model.read(() => [model.head()?.number, model.earliest(), model.firstErrorBlock(6), model.firstErrorBlock(7), model.firstErrorBlock(11)])).to.deep.equal([
      11, 4, undefined, 7, 7,
    ]);
    // A reverted batch removes its errors and moves the checkpoint back.
    db.prepare("DELETE FROM _errors").run();
    writeMeta(db, "checkpoint", { number: 10, hash: "0x0a", timestamp: 1000 });
    expect(model.read(() => [model.head()?.hash, model.firstErrorBlock(11)])).to.deep.equal(["0x0a", undefined]);
  });

  it("gives one snapshot within a read, however many fields ask, while the indexer commits", () => {
    writeMeta(db, "checkpoint", { number: 20, hash: "0x14", timestamp: 1200 });
    const seen = model.read(() => {
      const first = model.head()?.number;
      writeMeta(db, "checkpoint", { number: 21, hash: "0x15", timestamp: 1212 });
      addError(21);
      return [first, model.head()?.number, model.firstErrorBlock(21)];
    });
    expect(seen).to.deep.equal([20, 20, undefined]);
    expect(model.read(() => [model.head()?.number, model.firstErrorBlock(21)])).to.deep.equal([21, 21]);
  });
});
