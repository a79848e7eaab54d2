import { HDNodeWallet, type Provider, type Wallet } from "ethers";

/**
 * The local dev chain's accounts: Hardhat's public test mnemonic, funded with ether by the node.
 * Used only for the local market; every other network takes keys from the environment.
 */
export const LOCAL_MNEMONIC = "test test test test test test test test test test test junk";

export function localAccount(index: number, provider?: Provider): Wallet {
  const wallet = HDNodeWallet.fromPhrase(LOCAL_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
  return (provider ? wallet.connect(provider) : wallet) as unknown as Wallet;
}

/** Accounts the node funds with ether (Hardhat's default count; anvil is started with as many). */
export const LOCAL_ACCOUNTS = 20;

/** Account layout: 0 deploys; each provider takes three (owner, host key, agent key); the consumers take the last ones. */
export function providerAccounts(i: number, provider?: Provider) {
  return { owner: localAccount(1 + 3 * i, provider), host: localAccount(2 + 3 * i, provider), agent: localAccount(3 + 3 * i, provider) };
}

export function consumerAccount(i: number, provider?: Provider): Wallet {
  return localAccount(LOCAL_ACCOUNTS - 1 - i, provider);
}

export const MAX_LOCAL_PROVIDERS = 5;

/** Verifier keys come after the node's funded accounts (the local market gives them ether itself). */
export function verifierIndex(i: number): number {
  return LOCAL_ACCOUNTS + i;
}

export function verifierAccount(i: number, provider?: Provider): Wallet {
  return localAccount(verifierIndex(i), provider);
}
