/**
 * The update board on the chain: `ChainBoard` against the `ModelUpdates` contract of
 * CONTRACT-API.md. The contract is the lead's to add; until its artifact exists this suite is
 * skipped (the in-process board stands in, test/matchmaker/federation.test.ts), and from then on
 * it runs against the real contract: an authorised agent publishes, an outsider cannot, and the
 * board reads the announcements back in order.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { keccak256, toUtf8Bytes, type Provider } from "ethers";
import { marketFixture, registerProvider, type Fixture } from "../helpers/market.js";
import { ChainBoard } from "../../services/matchmaker/update-board.js";

const ARTIFACT = new URL("../../artifacts/contracts/ModelUpdates.sol/ModelUpdates.json", import.meta.url);

describe("matchmaker update board on the chain (ModelUpdates)", function () {
  this.timeout(60_000);
  let f: Fixture;
  let address: string;

  before(async function () {
    if (!existsSync(ARTIFACT)) this.skip();
    f = await marketFixture();
    await registerProvider(f, f.providerA, f.hostA);
    await (await f.deployment.registry.connect(f.providerA).authoriseAgent(f.agent.address, true)).wait();
    const contract = await f.ethers.deployContract("ModelUpdates", [f.deployment.addresses.registry]);
    address = await contract.getAddress();
  });

  it("publishes for a provider through its authorised agent and reads the announcements back", async () => {
    const provider = f.ethers.provider as unknown as Provider;
    const board = new ChainBoard(address, provider, f.agent);
    const hash = keccak256(toUtf8Bytes("weights"));
    await board.publish({ provider: f.providerA.address, contentHash: hash, uri: "https://agent.example/model-updates/x", samples: 120, round: 1 });
    await board.publish({ provider: f.providerA.address, contentHash: hash, uri: "https://agent.example/model-updates/y", samples: 180, round: 2 });
    const { updates, next } = await board.since(0);
    expect(updates.map((u) => [u.provider, u.agent, u.samples, u.round])).to.deep.equal([
      [f.providerA.address.toLowerCase(), f.agent.address.toLowerCase(), 120, 1],
      [f.providerA.address.toLowerCase(), f.agent.address.toLowerCase(), 180, 2],
    ]);
    expect((await board.since(next)).updates).to.have.length(0);
    const outsider = new ChainBoard(address, provider, f.outsider);
    let refused = false;
    await outsider.publish({ provider: f.providerA.address, contentHash: hash, uri: "x", samples: 1, round: 3 }).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});
