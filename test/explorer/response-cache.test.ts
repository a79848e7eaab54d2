import { expect } from "chai";
import { ResponseCache } from "../../services/explorer/response-cache.js";

const answer = (bytes: number) => ({ status: 200, contentType: "application/json", body: Buffer.alloc(bytes, 120) });

describe("explorer: the response cache holds a byte budget", () => {
  it("evicts the least recently used answers to stay within its bytes, skips huge ones, and empties when the index moves", () => {
    const cache = new ResponseCache(100_000);
    for (let i = 0; i < 20; i++) cache.set("v1", `q${i}`, answer(9_000));
    expect(cache.size).to.be.at.most(100_000);
    expect(cache.get("v1", "q0")).to.equal(undefined); // the oldest went first
    expect(cache.get("v1", "q19")?.body.length).to.equal(9_000);
    cache.get("v1", "q11"); // used again: kept over q12
    for (let i = 20; i < 23; i++) cache.set("v1", `q${i}`, answer(9_000));
    expect(cache.get("v1", "q11")).to.not.equal(undefined);
    expect(cache.get("v1", "q12")).to.equal(undefined);
    cache.set("v1", "huge", answer(20_000)); // more than an eighth of the budget
    expect(cache.get("v1", "huge")).to.equal(undefined);
    expect(cache.get("v2", "q19")).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });
});
