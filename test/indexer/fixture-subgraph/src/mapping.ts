import {
  Address, BigDecimal, BigInt, ByteArray, Bytes, crypto, dataSource, ethereum, json, JSONValueKind, log, store,
} from "@graphprotocol/graph-ts";
import type {
  MetadataChanged, ProviderRegistered, StakeAdded, VerifierChanged} from "../generated/Registry/ProviderRegistry";
import { ProviderRegistry
} from "../generated/Registry/ProviderRegistry";
import { Note, Owner, Probe } from "../generated/schema";
import { Hosted } from "../generated/templates";

export function handleRegistered(event: ProviderRegistered): void {
  const p = new Probe(event.params.provider.toHexString());
  const stake = event.params.stake;
  p.stake = stake;
  p.stakeSquared = stake.times(stake);
  p.stakeHalf = stake.toBigDecimal().div(BigDecimal.fromString("2"));
  p.ratio = BigDecimal.fromString("1").div(BigDecimal.fromString("3"));
  p.shifted = stake.leftShift(3).rightShift(1);
  p.masked = stake.bitAnd(BigInt.fromI32(0xffff)).bitOr(BigInt.fromI32(1));
  p.power = BigInt.fromI32(7).pow(20);
  p.remainder = stake.mod(BigInt.fromI32(97));
  p.parsed = BigInt.fromString("-123456789012345678901234567890");
  p.keccak = Bytes.fromByteArray(crypto.keccak256(ByteArray.fromUTF8(event.params.metadataURI)));
  p.hexString = event.params.hostKey.toHexString();
  p.base58 = event.params.hostKey.toBase58();
  p.h160 = Address.fromString("0x00000000000000000000000000000000000000aa");
  p.big8 = 9007199254740993;
  p.seenAt = event.block.timestamp.toI64() * 1000000;
  p.tags = ["a", event.params.metadataURI];
  p.flag = true;
  const parsed = json.try_fromBytes(Bytes.fromUTF8(event.params.metadataURI));
  p.jsonOk = parsed.isOk;
  if (parsed.isOk && parsed.value.kind == JSONValueKind.OBJECT) {
    const o = parsed.value.toObject();
    const name = o.get("name");
    if (name) p.jsonName = name.toString();
    const n = o.get("n");
    if (n) p.jsonNumber = n.toBigInt();
  }
  p.decimalText = BigDecimal.fromString("1.500").times(BigDecimal.fromString("2")).toString();
  p.bigIntHex = BigInt.fromI32(255).toHexString();
  p.owner = event.params.hostKey;
  p.txFrom = event.transaction.from;
  p.blockHash = event.block.hash;
  p.network = dataSource.network();
  p.dsAddress = dataSource.address();
  const registry = ProviderRegistry.bind(event.address);
  const info = registry.try_providerOf(event.params.provider);
  if (!info.reverted) p.onChainStake = info.value.stake;
  p.hasCode = ethereum.hasCode(event.address).inner;
  p.encoded = ethereum.encode(ethereum.Value.fromUnsignedBigInt(stake))!;
  const decoded = ethereum.decode("uint8", ethereum.encode(ethereum.Value.fromI32(event.params.tier))!);
  p.decodedTier = decoded!.toI32();
  p.sawItselfInBlock = false;
  p.relatedAtSave = 0;
  p.save();
  p.sawItselfInBlock = Probe.loadInBlock(p.id) != null;
  let owner = Owner.load(event.params.hostKey);
  if (owner == null) {
    owner = new Owner(event.params.hostKey);
    owner.probeCount = 0;
  }
  owner.probeCount = owner.probeCount + 1;
  owner.save();
  p.relatedAtSave = owner.probes.load().length;
  p.save();
  log.info("registered {} ({} probes for its host key)", [p.id, p.relatedAtSave.toString()]);
  Hosted.create(event.params.hostKey);
  const note = new Note(event.transaction.hash.toHexString());
  note.text = "registered";
  note.save();
}

export function handleStake(event: StakeAdded): void {
  const p = Probe.load(event.params.provider.toHexString());
  if (p == null) return;
  // Loaded from the store, not written in this block.
  p.sawItselfInBlock = Probe.loadInBlock(p.id) != null;
  p.stake = event.params.stake;
  p.save();
}

export function handleMetadata(event: MetadataChanged): void {
  if (event.params.metadataURI == "abort") {
    const p = Probe.load(event.params.provider.toHexString());
    if (p != null) {
      p.flag = false;
      p.save();
    }
    assert(false, "told to abort");
  }
  if (event.params.metadataURI == "immutable") {
    // A second write of an immutable entity written in an earlier block fails the handler.
    const note = new Note(event.params.provider.toHexString());
    note.text = "again";
    note.save();
    return;
  }
  const note = new Note(event.params.provider.toHexString());
  note.text = event.params.metadataURI;
  note.save();
}

export function handleVerifier(event: VerifierChanged): void {
  store.remove("Probe", event.params.provider.toHexString());
}

export function handleHostedStake(event: StakeAdded): void {
  const note = new Note("hosted-" + event.transaction.hash.toHexString());
  note.text = "hosted";
  note.save();
}
