import { existsSync, writeFileSync } from "node:fs";
import { Wallet } from "ethers";
import { UsageError } from "../units.js";

/** `troupe keystore create <file>`: encrypts TROUPE_KEY with TROUPE_KEYSTORE_PASSWORD into <file>. */
export async function keystoreCommand(argv: string[], print: (line: string) => void): Promise<void> {
  const [action, file] = argv;
  if (action !== "create" || !file) throw new UsageError("troupe keystore create <file>");
  if (existsSync(file)) throw new UsageError(`${file} exists already; refusing to overwrite a keystore`);
  const key = process.env.TROUPE_KEY;
  const password = process.env.TROUPE_KEYSTORE_PASSWORD;
  if (!key || !password) throw new UsageError("set TROUPE_KEY (the private key) and TROUPE_KEYSTORE_PASSWORD");
  let wallet: Wallet;
  try {
    wallet = new Wallet(key.trim());
  } catch {
    throw new UsageError("TROUPE_KEY is not a valid private key");
  }
  writeFileSync(file, await wallet.encrypt(password), { mode: 0o600 });
  print(`wrote the encrypted key of ${wallet.address} to ${file}`);
}
