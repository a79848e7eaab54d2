/**
 * The demo consumer: an actor of its own that deploys a stream of sample workloads through the
 * same flow as `troupe deploy`. Environment: CONSUMER_KEY, TROUPE_DEPLOYMENT, RPC_URL,
 * DEMO_COUNT (0 = until stopped), DEMO_INTERVAL_MS, DEMO_CONCURRENCY, DEMO_BID_WINDOW (seconds),
 * DEMO_CHOOSE (auto: the consumer's own agent picks the bid, the default; rule: the market's rule).
 * Each workload's request has a shape (demo-workloads.ts) that gives every tier work it is best at.
 */
import { parseUnits } from "ethers";
import { connectMarket, connectRpc, readDeployment } from "../lib/deployment.js";
import { loadKey } from "../lib/keys.js";
import { contentLocation } from "../lib/content.js";
import { deployWorkload } from "../lib/consumer.js";
import { demoWorkloads, measuredFuelCaps } from "./demo-workloads.js";
import { cachedModelPath } from "../lib/model-cache.js";
import { consumerChooser } from "../../services/matchmaker/consumer-agent.js";

const deployment = readDeployment();
const provider = await connectRpc(process.env.RPC_URL ?? deployment.rpcUrl);
const consumer = await loadKey("CONSUMER", provider);
const chainId = (await provider.getNetwork()).chainId;
const contracts = connectMarket(deployment, provider);
const count = Number(process.env.DEMO_COUNT ?? 0);
const interval = Number(process.env.DEMO_INTERVAL_MS ?? 4000);
const concurrency = Number(process.env.DEMO_CONCURRENCY ?? 2);
const bidWindow = Number(process.env.DEMO_BID_WINDOW ?? 4);
const workloads = demoWorkloads();
const fuelCaps = await measuredFuelCaps(workloads);
const chooseMode = process.env.DEMO_CHOOSE ?? "auto";
if (chooseMode !== "auto" && chooseMode !== "rule") throw new Error(`DEMO_CHOOSE is auto or rule, not ${chooseMode}`);
const choose = chooseMode === "auto"
  ? await consumerChooser({
    provider, addresses: deployment.addresses, modelPath: cachedModelPath().file, dataDir: process.env.TROUPE_CONSUMER_DIR ?? ".troupe/consumer",
    ...(process.env.EXPLORER_URL ? { explorerUrl: process.env.EXPLORER_URL } : {}),
    // The demo's jobs matter: a failure costs twice what the consumer escrowed.
    terms: (v) => ({ valueAtRisk: 2 * ((v.maxFuel * v.maxPricePerMFuel) / 1e6 + v.maxFee) }),
  })
  : undefined;
let started = 0;
let stopping = false;
process.on("SIGTERM", () => (stopping = true));
process.on("SIGINT", () => (stopping = true));

async function lane() {
  while (!stopping && (count === 0 || started < count)) {
    const n = started++;
    const w = workloads[n % workloads.length]!;
    const t0 = Date.now();
    try {
      const result = await deployWorkload(
        { deployment, contracts, consumer, content: contentLocation(), chainId },
        {
          module: w.module, input: w.input, maxFuel: fuelCaps.get(w.name)!, maxPricePerMFuel: parseUnits("0.01"),
          maxFee: parseUnits("0.001"), minMemoryMiB: w.shape.minMemoryMiB, allowedTiers: 0b111, region: w.shape.region,
          maxLatencyClass: w.shape.maxLatencyClass, bidWindow, deadlineIn: w.shape.deadlineIn, repostIfLate: 2,
          ...(choose ? { choose } : {}),
        },
        () => {},
      );
      const chose = result.choice ? `, chose ${result.choice.provider} (explanation ${result.choice.explanationHash})` : "";
      console.log(`demo ${w.name} (${w.shape.kind}): request ${result.id} ${result.status}${result.provider ? ` on ${result.provider}` : ""}${chose}${result.problem ? ` (${result.problem})` : ""} in ${Date.now() - t0} ms`);
    } catch (error) {
      console.log(`demo ${w.name}: failed: ${(error as Error).message.split("\n")[0]}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

await Promise.all(Array.from({ length: concurrency }, lane));
provider.destroy();
