// The provider's host daemon: `npm run host` (configuration from the environment, see config.ts).
import * as engine from "../job/index.js";
import { ConfigError, loadHostConfig } from "./config.js";
import { HostDaemon } from "./daemon.js";
import { briefError } from "./rpc.js";

async function main(): Promise<void> {
  const config = await loadHostConfig();
  const daemon = await HostDaemon.start(config, engine);
  const shutdown = (signal: string) => {
    console.log(`host: ${signal}, stopping`);
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`host: ${briefError(error)}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `host: bad configuration: ${error.message}` : `host: ${briefError(error)}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
