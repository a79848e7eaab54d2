/**
 * Decodes logs of known contracts by their first topic. ethers' `Interface.parseLog` finds a log's
 * event by hashing the signature of every event of the interface until one matches (a keccak and a
 * UTF-8 encoding each, for every log): a process that reads every market event spent most of its
 * decoding time there. Here each event's topic is hashed once.
 */
import type { EventFragment, Interface, Result } from "ethers";

export interface DecodedLog {
  name: string;
  fragment: EventFragment;
  args: Result;
}

export class EventDecoder {
  private readonly byTopic = new Map<string, { iface: Interface; fragment: EventFragment }>();

  /** `interfaces`: the ABIs whose events to decode (a topic two of them share is the first's). */
  constructor(interfaces: Interface[]) {
    for (const iface of interfaces) {
      iface.forEachEvent((fragment) => {
        if (!fragment.anonymous && !this.byTopic.has(fragment.topicHash)) this.byTopic.set(fragment.topicHash, { iface, fragment });
      });
    }
  }

  /** The log decoded, or undefined when its first topic is none of the known events'. */
  decode(log: { topics: readonly string[]; data: string }): DecodedLog | undefined {
    const topic = log.topics[0];
    const known = topic === undefined ? undefined : this.byTopic.get(topic.toLowerCase());
    if (!known) return undefined;
    const args = known.iface.decodeEventLog(known.fragment, log.data, log.topics);
    return { name: known.fragment.name, fragment: known.fragment, args };
  }
}
