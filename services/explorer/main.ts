import { loadSchemaModel } from "../common/entity-model.js";
import { startExplorer } from "./server.js";

/** The market explorer. Env: DB_PATH (the indexer's database), PORT (default 8000), HOST (default 127.0.0.1). */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${process.env.PORT}"`);
  const explorer = await startExplorer({
    dbPath: process.env.DB_PATH ?? ".troupe/indexer.db",
    schema: loadSchemaModel(),
    port,
    host: process.env.HOST ?? "127.0.0.1",
  });
  console.log(`explorer: ${explorer.url}/ (GraphQL and GraphiQL at ${explorer.url}/graphql)`);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => void explorer.close().then(() => process.exit(0)));
  }
}

main().catch((error: unknown) => {
  console.error(`explorer: ${(error as Error).message}`);
  process.exit(1);
});
