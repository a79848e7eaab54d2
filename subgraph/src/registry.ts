import { Address, BigInt, log } from "@graphprotocol/graph-ts";
import {
  AgentAuthorised,
  AgreementClosed,
  AgreementOpened,
  HostKeyChanged,
  MetadataChanged,
  ProviderRegistered,
  RegistryConfigured,
  Slashed,
  StakeAdded,
  UnbondRequested,
  Unbonded,
} from "../generated/ProviderRegistry/ProviderRegistry";
import { Agent, Provider, RegistryConfig, Verifier } from "../generated/schema";
import { loadSummary } from "./summary";

const TIER_NAMES = ["cloud", "edge", "iot"];
const BPS = BigInt.fromI32(10000);
// IProviderRegistry.Outcome
const COMPLETED = 0;
const BREACHED = 1;
const DISPUTE_WON = 2;
const DISPUTE_LOST = 3;
// The registry's defaults (DEFAULT_MARKET_PARAMS) until RegistryConfigured is seen.
const DEFAULT_PRIOR_VALUE = "10000000000000000000";
const DEFAULT_PRIOR_FAILURE_BPS = 1000;

function loadConfig(): RegistryConfig {
  let c = RegistryConfig.load("registry");
  if (c == null) {
    log.warning("no RegistryConfigured event seen: failure rates use the default prior", []);
    c = new RegistryConfig("registry");
    c.token = Address.zero();
    c.minStake = BigInt.zero();
    c.unbondingDelay = BigInt.zero();
    c.priorValue = BigInt.fromString(DEFAULT_PRIOR_VALUE);
    c.priorFailureBps = DEFAULT_PRIOR_FAILURE_BPS;
  }
  return c;
}

/**
 * The smoothed, value-weighted failure rate, as ProviderRegistry._failureBps:
 * (failedValue * 10000 + priorValue * priorFailureBps) / (completedValue + failedValue + priorValue).
 */
export function failureBpsOf(completedValue: BigInt, failedValue: BigInt): i32 {
  let c = loadConfig();
  let failed = failedValue.times(BPS).plus(c.priorValue.times(BigInt.fromI32(c.priorFailureBps)));
  return failed.div(completedValue.plus(failedValue).plus(c.priorValue)).toI32();
}

export function handleRegistryConfigured(event: RegistryConfigured): void {
  let c = new RegistryConfig("registry");
  c.token = event.params.token;
  c.minStake = event.params.minStake;
  c.unbondingDelay = event.params.unbondingDelay;
  c.priorValue = event.params.priorValue;
  c.priorFailureBps = event.params.priorFailureBps;
  c.save();
}

export function handleProviderRegistered(event: ProviderRegistered): void {
  let id = event.params.provider.toHexString();
  let p = new Provider(id);
  let tier = event.params.tier;
  p.hostKey = event.params.hostKey;
  p.tier = tier;
  p.tierName = tier < TIER_NAMES.length ? TIER_NAMES[tier] : "tier" + tier.toString();
  p.region = event.params.region;
  p.metadataURI = event.params.metadataURI;
  p.stake = event.params.stake;
  p.unbonding = BigInt.zero();
  p.unbondReadyAt = BigInt.zero();
  p.slashed = BigInt.zero();
  let v = Verifier.load(id);
  p.verifier = v != null && v.stake.gt(BigInt.zero());
  p.openAgreements = 0;
  p.exposure = BigInt.zero();
  p.completed = 0;
  p.breached = 0;
  p.disputesWon = 0;
  p.disputesLost = 0;
  p.completedValue = BigInt.zero();
  p.failedValue = BigInt.zero();
  p.failureBps = failureBpsOf(p.completedValue, p.failedValue);
  p.reputation = 10000 - p.failureBps;
  p.earnings = BigInt.zero();
  p.fuelReported = BigInt.zero();
  p.wallMsReported = BigInt.zero();
  p.registeredAt = event.block.timestamp;
  p.registeredBlock = event.block.number;
  p.save();
  let s = loadSummary();
  s.providers = s.providers + 1;
  s.stake = s.stake.plus(event.params.stake);
  s.save();
}

function loadProvider(id: string): Provider | null {
  let p = Provider.load(id);
  if (p == null) log.warning("skipping an event of unknown provider {}", [id]);
  return p;
}

export function handleStakeAdded(event: StakeAdded): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.stake = event.params.stake;
  p.save();
  let s = loadSummary();
  s.stake = s.stake.plus(event.params.amount);
  s.save();
}

export function handleHostKeyChanged(event: HostKeyChanged): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.hostKey = event.params.hostKey;
  p.save();
}

export function handleMetadataChanged(event: MetadataChanged): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.metadataURI = event.params.metadataURI;
  p.save();
}

export function handleUnbondRequested(event: UnbondRequested): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.stake = event.params.stake;
  p.unbonding = event.params.amount;
  p.unbondReadyAt = event.params.readyAt;
  p.save();
  let s = loadSummary();
  s.stake = s.stake.minus(event.params.amount);
  s.save();
}

export function handleUnbonded(event: Unbonded): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.unbonding = BigInt.zero();
  p.unbondReadyAt = BigInt.zero();
  p.save();
}

export function handleSlashed(event: Slashed): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  let fromStake = p.stake.minus(event.params.stake);
  p.stake = event.params.stake;
  p.unbonding = event.params.unbonding;
  p.slashed = p.slashed.plus(event.params.amount);
  p.save();
  let s = loadSummary();
  s.stake = s.stake.minus(fromStake);
  s.save();
}

export function handleAgreementOpened(event: AgreementOpened): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.exposure = event.params.exposure;
  p.openAgreements = event.params.openAgreements.toI32();
  p.save();
}

export function handleAgreementClosed(event: AgreementClosed): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  let outcome = event.params.outcome;
  let value = event.params.value;
  p.exposure = event.params.exposure;
  p.openAgreements = event.params.openAgreements.toI32();
  if (outcome == COMPLETED) {
    p.completed = p.completed + 1;
    p.completedValue = p.completedValue.plus(value);
  } else if (outcome == DISPUTE_WON) {
    p.completed = p.completed + 1;
    p.disputesWon = p.disputesWon + 1;
    p.completedValue = p.completedValue.plus(value);
  } else if (outcome == BREACHED) {
    p.breached = p.breached + 1;
    p.failedValue = p.failedValue.plus(value);
  } else if (outcome == DISPUTE_LOST) {
    p.disputesLost = p.disputesLost + 1;
    p.failedValue = p.failedValue.plus(value);
  }
  p.failureBps = failureBpsOf(p.completedValue, p.failedValue);
  p.reputation = 10000 - p.failureBps;
  p.save();
}

export function handleAgentAuthorised(event: AgentAuthorised): void {
  let provider = event.params.provider.toHexString();
  if (loadProvider(provider) == null) return;
  let agent = event.params.agent.toHexString();
  let a = new Agent(provider + "-" + agent);
  a.provider = provider;
  a.agent = event.params.agent;
  a.authorised = event.params.authorised;
  a.updatedAt = event.block.timestamp;
  a.save();
}
