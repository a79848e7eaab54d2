import { existsSync, readFileSync } from "node:fs";
import { Wallet, type Provider } from "ethers";

/**
 * Loads a signing key from the environment, never from the command line:
 * `<PREFIX>_KEY` holds a hex private key, or `<PREFIX>_KEYSTORE` names an encrypted JSON keystore
 * whose password is in `<PREFIX>_KEYSTORE_PASSWORD`. The generic `TROUPE_KEY` /
 * `TROUPE_KEYSTORE` are the fallback for every role.
 */
export async function loadKey(prefix: string, provider: Provider): Promise<Wallet> {
  for (const p of [prefix, "TROUPE"]) {
    const raw = process.env[`${p}_KEY`];
    if (raw) {
      try {
        return new Wallet(raw.trim(), provider);
      } catch {
        throw new Error(`${p}_KEY is not a valid private key (expected 0x followed by 64 hex digits)`);
      }
    }
    const keystore = process.env[`${p}_KEYSTORE`];
    if (keystore) {
      if (!existsSync(keystore)) throw new Error(`${p}_KEYSTORE points at ${keystore}, which does not exist`);
      const password = process.env[`${p}_KEYSTORE_PASSWORD`];
      if (password === undefined) throw new Error(`${p}_KEYSTORE is set but ${p}_KEYSTORE_PASSWORD is not`);
      try {
        const wallet = await Wallet.fromEncryptedJson(readFileSync(keystore, "utf8"), password);
        return wallet.connect(provider) as Wallet;
      } catch (error) {
        throw new Error(`cannot open the keystore ${keystore}: ${(error as Error).message}`);
      }
    }
  }
  throw new Error(`no key: set ${prefix}_KEY (a private key) or ${prefix}_KEYSTORE + ${prefix}_KEYSTORE_PASSWORD`);
}
