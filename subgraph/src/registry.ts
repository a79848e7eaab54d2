import { BigInt, log } from "@graphprotocol/graph-ts";
import {
  AgentAuthorised,
  HostKeyChanged,
  MetadataChanged,
  ProviderRegistered,
  ReputationChanged,
  Slashed,
  StakeAdded,
  UnbondRequested,
  Unbonded,
  VerifierChanged,
} from "../generated/ProviderRegistry/ProviderRegistry";
import { Agent, Provider } from "../generated/schema";
import { loadSummary } from "./summary";

const TIER_NAMES = ["cloud", "edge", "iot"];

/** (completed + 1) * 10000 / (completed + breached + disputesLost + 2), as ProviderRegistry.reputationOf. */
export function reputationOf(completed: i32, breached: i32, disputesLost: i32): i32 {
  return ((completed + 1) * 10000) / (completed + breached + disputesLost + 2);
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
  p.verifier = false;
  p.openAgreements = 0;
  p.completed = 0;
  p.breached = 0;
  p.disputesWon = 0;
  p.disputesLost = 0;
  p.reputation = reputationOf(0, 0, 0);
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

export function handleVerifierChanged(event: VerifierChanged): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.verifier = event.params.verifier;
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
  p.stake = event.params.stake;
  p.slashed = p.slashed.plus(event.params.amount);
  p.save();
  let s = loadSummary();
  s.stake = s.stake.minus(event.params.amount);
  s.save();
}

export function handleReputationChanged(event: ReputationChanged): void {
  let p = loadProvider(event.params.provider.toHexString());
  if (p == null) return;
  p.openAgreements = event.params.openAgreements.toI32();
  p.completed = event.params.completed.toI32();
  p.breached = event.params.breached.toI32();
  p.disputesWon = event.params.disputesWon.toI32();
  p.disputesLost = event.params.disputesLost.toI32();
  p.reputation = reputationOf(p.completed, p.breached, p.disputesLost);
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
