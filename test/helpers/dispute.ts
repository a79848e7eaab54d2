import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { verdictCommitment, claimKey } from "../../contracts/client/signing.js";
import { salt, type Fixture } from "./market.js";

/** The court of the contract tests: small windows, a three-seat first round, then the full court. */
export const COURT = {
  verifierPanel: 3, sampledRounds: 1, commitWindow: 100, revealWindow: 100, appealWindow: 100,
  disputeBond: 10n ** 19n, seatStake: 2n * 10n ** 19n,
};

/** What a verifier says a job did. */
export interface Claim {
  fuelUsed: bigint;
  outputHash: string;
}

/** How the verifiers and parties of a scripted dispute behave. */
export interface DisputeScript {
  /** Each verifier's verdict (a verifier not listed stays silent). */
  verdictOf: (verifier: string) => Claim | undefined;
  /** Whether the loser of a decided round appeals it (default: always, while rounds remain). */
  appeals?: (loser: "consumer" | "provider", round: number) => boolean;
  /** Someone other than the loser who appeals a decided round (asked after `appeals` declines). */
  appellant?: (round: number, decidedKey: string) => HardhatEthersSigner | undefined;
  /** The signers of every verifier, consumer and provider, by address. */
  signers: Map<string, HardhatEthersSigner>;
}

/** What happened in one round. */
export interface RoundLog {
  round: number;
  seats: string[];
  decidedKey: string;
}

/**
 * Plays case `id` to its end: draws each sampled round, has every drawn (or, in the full court,
 * every listed) verifier commit and reveal its scripted verdict, tallies, lets the loser appeal as
 * scripted, and closes the case. Returns the rounds played and the ruling.
 */
export async function playDispute(f: Fixture, id: bigint, script: DisputeScript): Promise<{ rounds: RoundLog[]; ruling: number }> {
  const { court } = f.deployment;
  const sampled = Number(await court.sampledRounds());
  const rounds: RoundLog[] = [];
  for (;;) {
    const c = await court.caseOf(id);
    if (c.ruling !== 0n) return { rounds, ruling: Number(c.ruling) };
    const round = Number(c.round);
    let rd = await court.roundOf(id, round);
    let seats: string[] = [];
    if (rd.drawBlock !== 0n) {
      await f.networkHelpers.mine();
      const receipt = await (await court.drawPanel(id)).wait();
      seats = receipt!.logs
        .map((log) => { try { return court.interface.parseLog(log); } catch { return null; } })
        .filter((e) => e?.name === "VerifierDrawn")
        .map((e) => e!.args.verifier as string);
      rd = await court.roundOf(id, round);
    }
    const voters = round === sampled ? [...script.signers.keys()] : [...new Set(seats)];
    const sealed: { signer: HardhatEthersSigner; claim: Claim; salt: string }[] = [];
    for (const address of voters) {
      const claim = script.verdictOf(address);
      const signer = script.signers.get(address);
      if (!claim || !signer) continue;
      const s = salt();
      const commitment = verdictCommitment(f.chainId, f.deployment.addresses.court, {
        verifier: address, agreementId: id, round, fuelUsed: claim.fuelUsed, outputHash: claim.outputHash, salt: s,
      });
      try {
        await (await court.connect(signer).commitVerdict(id, commitment)).wait();
        sealed.push({ signer, claim, salt: s });
      } catch {
        // not on this panel (a party, or in the full court a stake too new or fully locked)
      }
    }
    rd = await court.roundOf(id, round);
    if (round === sampled || rd.committedVotes !== rd.totalVotes) await f.networkHelpers.time.increaseTo(rd.commitDeadline + 1n);
    for (const v of sealed) await (await court.connect(v.signer).revealVerdict(id, v.claim.fuelUsed, v.claim.outputHash, v.salt)).wait();
    rd = await court.roundOf(id, round);
    if (round === sampled || rd.revealedVotes !== rd.totalVotes) await f.networkHelpers.time.increaseTo(rd.revealDeadline + 1n);
    await (await court.tallyRound(id)).wait();
    rd = await court.roundOf(id, round);
    rounds.push({ round, seats, decidedKey: rd.decidedKey });
    const after = await court.caseOf(id);
    if (after.ruling !== 0n || Number(after.round) !== round) continue; // closed, or escalated with no majority
    const consumerLost = rd.decidedKey === after.reportKey || rd.decidedKey === claimKey(0n, await court.UNAVAILABLE_OUTPUT());
    const loser = consumerLost ? "consumer" : "provider";
    const wantsAppeal = script.appeals ? script.appeals(loser, round) : true;
    const bystander = wantsAppeal ? undefined : script.appellant?.(round, rd.decidedKey);
    if (wantsAppeal || bystander) {
      const appellant = bystander ?? script.signers.get(consumerLost ? after.consumer : after.provider);
      if (!appellant) throw new Error(`no signer for the ${loser}`);
      await (await court.connect(appellant).appeal(id)).wait();
    } else {
      await f.networkHelpers.time.increaseTo(rd.appealDeadline + 1n);
      await (await court.closeCase(id)).wait();
    }
  }
}

/** Claims every ballot of every round of closed case `id` for `verifiers`. */
export async function claimAll(f: Fixture, id: bigint, verifiers: string[]): Promise<void> {
  const { court } = f.deployment;
  const rounds = Number((await court.caseOf(id)).round);
  for (let round = 0; round <= rounds; round++) {
    for (const v of verifiers) {
      const b = await court.ballotOf(id, round, v);
      if (b.locked !== 0n && !b.claimed) await (await court.claimBallot(id, round, v)).wait();
    }
  }
}
