/**
 * The demo consumer: an actor of its own that deploys a stream of sample workloads through the
 * same flow as `troupe deploy`. Environment: CONSUMER_KEY, TROUPE_DEPLOYMENT, RPC_URL,
 * DEMO_COUNT (0 = until stopped), DEMO_INTERVAL_MS, DEMO_CONCURRENCY, DEMO_BID_WINDOW (seconds).
 */
import { parseUnits } from "ethers";
import { connectMarket, connectRpc, readDeployment } from "../lib/deployment.js";
import { loadKey } from "../lib/keys.js";
import { contentLocation } from "../lib/content.js";
import { deployWorkload } from "../lib/consumer.js";
import { demoWorkloads } from "./demo-workloads.js";

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
          module: w.module, input: w.input, maxFuel: 2_000_000_000n, maxPricePerMFuel: parseUnits("0.01"),
          maxFee: parseUnits("0.001"), minMemoryMiB: 64, allowedTiers: 0b111, region: 1 + (n % 4), maxLatencyClass: 2,
          bidWindow, deadlineIn: 300, repostIfLate: 2,
        },
        () => {},
      );
      console.log(`demo ${w.name}: request ${result.id} ${result.status}${result.problem ? ` (${result.problem})` : ""} in ${Date.now() - t0} ms`);
    } catch (error) {
      console.log(`demo ${w.name}: failed: ${(error as Error).message.split("\n")[0]}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

await Promise.all(Array.from({ length: concurrency }, lane));
provider.destroy();
