import { log } from "@graphprotocol/graph-ts";
import { ModelUpdatePublished } from "../generated/ModelUpdates/ModelUpdates";
import { ModelUpdate, Provider } from "../generated/schema";
import { loadSummary } from "./summary";

// The federated-learning bulletin board: one ModelUpdate per published update.
export function handleModelUpdatePublished(event: ModelUpdatePublished): void {
  let p = event.params;
  let provider = p.provider.toHexString();
  if (Provider.load(provider) == null) {
    log.warning("skipping a model update of unknown provider {}", [provider]);
    return;
  }
  let m = new ModelUpdate(event.transaction.hash.toHexString() + "-" + event.logIndex.toString());
  m.provider = provider;
  m.agent = p.agent;
  m.contentHash = p.contentHash;
  m.uri = p.uri;
  m.samples = p.samples;
  m.round = p.round;
  m.publishedAt = event.block.timestamp;
  m.block = event.block.number;
  m.txHash = event.transaction.hash;
  m.save();
  let s = loadSummary();
  s.modelUpdates = s.modelUpdates + 1;
  s.save();
}
