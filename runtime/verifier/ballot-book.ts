import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../host/atomic-file.js";

/** A sealed verdict this verifier committed, kept until it is revealed. */
export interface SealedBallot {
  agreementId: string;
  round: number;
  fuelUsed: string;
  outputHash: string;
  salt: string;
}

/**
 * The verifier's sealed verdicts, written to disk (atomically, fsynced) before each commitment is
 * sent: a verifier that crashes between commit and reveal must still be able to reveal after a
 * restart, or its seat is slashed as silent.
 */
export class BallotBook {
  private readonly file: string;
  private readonly ballots = new Map<string, SealedBallot>();

  constructor(dataDir: string) {
    this.file = join(dataDir, "ballots.json");
    if (existsSync(this.file)) {
      for (const b of JSON.parse(readFileSync(this.file, "utf8")) as SealedBallot[]) this.ballots.set(key(b.agreementId, b.round), b);
    }
  }

  get(agreementId: bigint, round: number): SealedBallot | undefined {
    return this.ballots.get(key(String(agreementId), round));
  }

  /** Records a sealed verdict durably; call before sending its commitment. */
  put(ballot: SealedBallot): void {
    this.ballots.set(key(ballot.agreementId, ballot.round), ballot);
    this.flush();
  }

  /** Forgets every ballot of a closed case. */
  forget(agreementId: bigint): void {
    let changed = false;
    for (const [k, b] of this.ballots) {
      if (b.agreementId === String(agreementId)) {
        this.ballots.delete(k);
        changed = true;
      }
    }
    if (changed) this.flush();
  }

  private flush(): void {
    writeFileAtomic(this.file, JSON.stringify([...this.ballots.values()], null, 1));
  }
}

function key(agreementId: string, round: number): string {
  return `${agreementId}/${round}`;
}
