import { expect } from "chai";
import { ContractFactory, Wallet, type Contract, type Log } from "ethers";
import { Sender, TxReverted, type SentTx } from "../../contracts/client/sender.js";
import { LogCursor } from "../../contracts/client/log-cursor.js";
import { loadArtifact } from "../../contracts/client/artifacts.js";
import { localAccount } from "../../scripts/local/accounts.js";
import { setBlockTime } from "../../scripts/local/chain.js";
import { startRpcNode } from "../helpers/rpc-node.js";
import { startAnvil, type Anvil } from "./anvil.js";

const TOKEN = 10n ** 18n;
const GAS = 120_000n;

async function deployToken(anvilOrWallet: Wallet): Promise<Contract> {
  const { abi, bytecode } = loadArtifact("TroupeToken");
  const token = await new ContractFactory(abi as never, bytecode, anvilOrWallet).deploy(anvilOrWallet.address, 1_000_000n * TOKEN, 1_000_000n * TOKEN, false);
  await token.waitForDeployment();
  return token as unknown as Contract;
}

describe("Sender: an account's transactions sent like a wallet's (anvil)", function () {
  this.timeout(120_000);
  let anvil: Anvil;
  let owner: Wallet;
  let token: Contract;
  const transfer = async (to: string, amount: bigint) => token.getFunction("transfer").populateTransaction(to, amount);

  before(async () => {
    anvil = await startAnvil();
    owner = localAccount(0, anvil.provider);
    token = await deployToken(owner);
  });
  after(async () => {
    await anvil?.stop();
  });
  let baseFee: bigint;
  before(async () => {
    baseFee = (await anvil.provider.getBlock("latest"))!.baseFeePerGas!;
  });
  afterEach(async () => {
    await anvil.rpc("anvil_setNextBlockBaseFeePerGas", [`0x${baseFee.toString(16)}`]);
    await setBlockTime(anvil.url, 0);
    await anvil.rpc("evm_mine");
  });

  it("pipelines: 30 transactions go out without waiting for blocks and land in a few, nonces in order", async () => {
    await setBlockTime(anvil.url, 1);
    const sender = new Sender(owner, { pollMs: 100 });
    const to = Wallet.createRandom().address;
    const head = await anvil.provider.getBlockNumber();
    const t0 = Date.now();
    const sent: SentTx[] = [];
    for (let i = 0; i < 30; i++) sent.push(await sender.send(await transfer(to, 1n), { gasLimit: GAS }));
    const broadcastMs = Date.now() - t0;
    expect(await anvil.provider.getBlockNumber(), "all 30 were broadcast within one block").to.be.at.most(head + 1);
    expect(broadcastMs).to.be.below(1500);
    const receipts = await Promise.all(sent.map((s) => s.wait()));
    expect(sent.map((s) => s.nonce)).to.deep.equal(Array.from({ length: 30 }, (_, i) => sent[0]!.nonce + i));
    expect(new Set(receipts.map((r) => r.blockNumber)).size).to.be.at.most(3);
    expect(await token.getFunction("balanceOf")(to)).to.equal(30n);
    await sender.close();
  });

  it("replaces a transaction stuck below the base fee with a higher fee", async () => {
    const sender = new Sender(owner, { pollMs: 100, stuckAfterMs: 1500 });
    const to = Wallet.createRandom().address;
    await setBlockTime(anvil.url, 2);
    // Accepted into the pool at today's fees; the next block asks 50 times more.
    const stuck = await sender.send(await transfer(to, 7n), { gasLimit: GAS });
    await anvil.rpc("anvil_setNextBlockBaseFeePerGas", [`0x${(baseFee * 50n).toString(16)}`]);
    const receipt = await stuck.wait();
    expect(stuck.hashes.length, "replaced at least once").to.be.at.least(2);
    expect(receipt.hash).to.equal(stuck.hashes.at(-1));
    expect(await token.getFunction("balanceOf")(to)).to.equal(7n);
    await sender.close();
  });

  it("sends again a transaction the node dropped", async () => {
    const sender = new Sender(owner, { pollMs: 100, stuckAfterMs: 1500 });
    const to = Wallet.createRandom().address;
    await setBlockTime(anvil.url, 2);
    const sent = await sender.send(await transfer(to, 5n), { gasLimit: GAS });
    await anvil.rpc("anvil_dropTransaction", [sent.hash]);
    const receipt = await sent.wait();
    expect(sent.hashes.length).to.be.at.least(2);
    expect(receipt.status).to.equal(1);
    expect(await token.getFunction("balanceOf")(to)).to.equal(5n);
    await sender.close();
  });

  it("sends again, with a new nonce, a transaction whose nonce another process of the same key took", async () => {
    const sender = new Sender(owner, { pollMs: 100, stuckAfterMs: 60_000 });
    const mine = Wallet.createRandom().address;
    const theirs = Wallet.createRandom().address;
    await setBlockTime(anvil.url, 2);
    const sent = await sender.send(await transfer(mine, 3n), { gasLimit: GAS });
    // Another process with the same key, unaware of the sender, outbids it at the same nonce.
    const other = new Wallet(owner.privateKey, anvil.provider);
    const fee = await anvil.provider.getFeeData();
    await other.sendTransaction({
      ...(await transfer(theirs, 4n)), nonce: sent.nonce, gasLimit: GAS,
      maxFeePerGas: fee.maxFeePerGas! * 3n, maxPriorityFeePerGas: fee.maxPriorityFeePerGas! * 3n,
    });
    const receipt = await sent.wait();
    expect(receipt.status).to.equal(1);
    expect(await token.getFunction("balanceOf")(theirs)).to.equal(4n);
    expect(await token.getFunction("balanceOf")(mine)).to.equal(3n);
    await sender.close();
  });
});

describe("Sender: a reverted transaction (anvil, automine)", function () {
  this.timeout(60_000);
  it("rejects its wait with TxReverted, and the next one goes through", async () => {
    const anvil = await startAnvil();
    try {
      const owner = localAccount(0, anvil.provider);
      const token = await deployToken(owner);
      const transfer = async (to: string, amount: bigint) => token.getFunction("transfer").populateTransaction(to, amount);
      const poor = localAccount(5, anvil.provider);
    const poorSender = new Sender(poor, { pollMs: 100 });
    const refused = await poorSender.send(await transfer(owner.address, 1n), { gasLimit: GAS, label: "a transfer beyond the balance" });
    const error = await refused.wait().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TxReverted);
    expect((error as Error).message).to.match(/a transfer beyond the balance reverted/);
    const ok = await poorSender.sendAndWait({ to: owner.address, value: 1n }, { gasLimit: 21_000n });
    expect(ok.status).to.equal(1);
    // Without a gas limit the call is estimated first: a refusal costs nothing and sends nothing.
    const nonce = await anvil.provider.getTransactionCount(poor.address);
    const estimated = await poorSender.send(await transfer(owner.address, 1n)).then(() => "sent", () => "refused");
    expect(estimated).to.equal("refused");
    expect(await anvil.provider.getTransactionCount(poor.address)).to.equal(nonce);
    await poorSender.close();
    } finally {
      await anvil.stop();
    }
  });
});

describe("Sender on an automining Hardhat node", function () {
  this.timeout(60_000);
  it("a revert at broadcast (the node mines it and reports the error) leaves the nonce in step", async () => {
    const node = await startRpcNode();
    try {
      const owner = localAccount(0, node.provider);
      const token = await deployToken(owner);
      const poor = localAccount(6, node.provider);
      const sender = new Sender(poor, { pollMs: 50 });
      const call = await token.getFunction("transfer").populateTransaction(owner.address, 1n);
      const outcome = await sender.send(call, { gasLimit: GAS }).then((s) => s.wait()).then(() => "mined", () => "refused");
      expect(outcome).to.equal("refused");
      for (let i = 0; i < 3; i++) expect((await sender.sendAndWait({ to: owner.address, value: 1n }, { gasLimit: 21_000n })).status).to.equal(1);
      await sender.close();
    } finally {
      await node.close();
    }
  });
});

describe("Sender.sendBatch: a burst in one JSON-RPC round trip", function () {
  this.timeout(60_000);
  it("on an automining Hardhat node: consecutive nonces in order, a refused one reported and the rest mined", async () => {
    const node = await startRpcNode();
    try {
      const owner = localAccount(0, node.provider);
      const token = await deployToken(owner);
      const bidder = localAccount(7, node.provider);
      await new Sender(owner).sendAndWait(await token.getFunction("transfer").populateTransaction(bidder.address, 100n), { gasLimit: GAS });
      const sender = new Sender(bidder, { pollMs: 50 });
      const to = Wallet.createRandom().address;
      const amounts = Array.from({ length: 30 }, (_, i) => (i === 10 ? 10_000n : 1n)); // the 11th is beyond the balance
      const sent = await sender.sendBatch(await Promise.all(amounts.map(async (a) => ({ tx: await token.getFunction("transfer").populateTransaction(to, a), gasLimit: GAS }))));
      expect(sent[10]).to.be.instanceOf(Error);
      const ok = sent.filter((s): s is SentTx => !(s instanceof Error));
      expect(ok).to.have.length(29);
      await Promise.all(ok.map((s) => s.wait()));
      expect(await token.getFunction("balanceOf")(to)).to.equal(29n);
      // The nonce is in step afterwards.
      expect((await sender.sendAndWait({ to, value: 1n }, { gasLimit: 21_000n })).status).to.equal(1);
      await sender.close();
    } finally {
      await node.close();
    }
  });

  it("on anvil with 1 s blocks: 40 transactions broadcast at once, all mined within a few blocks", async () => {
    const anvil = await startAnvil();
    try {
      const owner = localAccount(0, anvil.provider);
      const token = await deployToken(owner);
      await setBlockTime(anvil.url, 1);
      const sender = new Sender(owner, { pollMs: 100 });
      const to = Wallet.createRandom().address;
      const items = await Promise.all(Array.from({ length: 40 }, async () => ({ tx: await token.getFunction("transfer").populateTransaction(to, 1n), gasLimit: GAS })));
      const sent = (await sender.sendBatch(items)) as SentTx[];
      expect(sent.every((s) => !(s instanceof Error))).to.equal(true);
      const receipts = await Promise.all(sent.map((s) => s.wait()));
      expect(new Set(receipts.map((r) => r.blockNumber)).size).to.be.at.most(3);
      expect(await token.getFunction("balanceOf")(to)).to.equal(40n);
      await sender.close();
    } finally {
      await anvil.stop();
    }
  });
});

describe("LogCursor: logs behind a confirmation depth, and a reorganisation deeper than it (anvil_reorg)", function () {
  this.timeout(60_000);
  it("reads up to head − confirmations, notices the reorg, and reads the replaced blocks again", async () => {
    const anvil = await startAnvil();
    try {
      const owner = localAccount(0, anvil.provider);
      const token = await deployToken(owner);
      const address = await token.getAddress();
      const to = Wallet.createRandom().address;
      const sender = new Sender(owner, { pollMs: 50 });
      for (let amount = 1n; amount <= 6n; amount++) await sender.sendAndWait(await token.getFunction("transfer").populateTransaction(to, amount), { gasLimit: GAS });
      const seen = new Map<string, bigint>();
      const reorgs: number[] = [];
      const cursor = new LogCursor({
        provider: anvil.provider, startBlock: 0, confirmations: 1, maxRange: 2,
        filter: { address, topics: [token.interface.getEvent("Transfer")!.topicHash] },
      });
      const handle = async (logs: Log[]) => {
        for (const log of logs) seen.set(`${log.blockNumber}`, token.interface.parseLog(log)!.args.value as bigint);
      };
      await cursor.poll(handle);
      const head = await anvil.provider.getBlockNumber();
      expect(cursor.block).to.equal(head - 1);
      expect([...seen.values()]).to.include(5n).and.not.include(6n);

      // Replace the last 3 blocks (deeper than the 1-block depth) with blocks holding another transfer.
      const raw = await owner.signTransaction({
        ...(await token.getFunction("transfer").populateTransaction(to, 42n)), chainId: 31337n, gasLimit: GAS,
        nonce: await anvil.provider.getTransactionCount(owner.address) - 3, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, type: 2,
      });
      await anvil.rpc("anvil_reorg", [3, [[raw, 0]]]);
      for (const key of [...seen.keys()]) if (Number(key) > head - 3) seen.delete(key);
      await cursor.poll(handle, (r) => void reorgs.push(r.from));
      expect(reorgs).to.have.length(1);
      expect(reorgs[0]).to.be.at.most(head - 2);
      expect([...seen.values()]).to.include(42n).and.not.include(5n);
      await sender.close();
    } finally {
      await anvil.stop();
    }
  });
});
