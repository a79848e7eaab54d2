// Starts a query worker from TypeScript source: workers do not inherit a loader registered by
// `--import tsx` in every runner (mocha under Hardhat, tsx itself), so register it here.
import { register } from "tsx/esm/api";

register();
await import("./query-worker.ts");
