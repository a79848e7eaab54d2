import { expect } from "chai";
import { IdFilter } from "../../services/indexer/id-filter.js";

describe("indexer: the id filter that spares lookups of new entities", () => {
  it("never denies an id it was given, across its growth, and denies most others", () => {
    const filter = new IdFilter(64);
    const id = (i: number) => `0x${i.toString(16).padStart(40, "0")}-${i % 7}`;
    for (let i = 0; i < 50_000; i++) filter.add(id(i));
    for (let i = 0; i < 50_000; i++) expect(filter.mayHold(id(i)), id(i)).to.equal(true);
    let falseMay = 0;
    for (let i = 50_000; i < 100_000; i++) if (filter.mayHold(id(i))) falseMay++;
    // Each of its ~10 filters answers "may" wrongly for ~1% of absent ids.
    expect(falseMay / 50_000).to.be.below(0.15);
    expect(new IdFilter().mayHold("anything")).to.equal(false);
  });
});
