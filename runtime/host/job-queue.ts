import type { Agreement } from "./agreement.js";
import { RecordDir } from "./record-dir.js";

/**
 * Where a job stands: queued to run; attested (its report is in the outbox, also one saying its
 * content was unavailable); failed (given up after host faults or a malformed input bundle: never attested); missed (the deadline passed or
 * the agreement ended before it could be reported).
 */
export type JobState = "queued" | "attested" | "failed" | "missed";

export interface Job {
  agreement: Agreement;
  state: JobState;
  /** Runs that ended in a host fault so far. */
  attempts: number;
  /** Why the job failed or was missed, or the last host fault. */
  detail?: string;
}

/** The agreements this host has been awarded, kept on disk so a restart resumes them. */
export class JobQueue {
  private readonly records: RecordDir<Job>;

  constructor(dir: string) {
    this.records = new RecordDir<Job>(dir);
  }

  get(id: bigint): Job | undefined {
    return this.records.get(id);
  }

  /** Queues a new agreement (resolves once it is on disk); an agreement already known is left as it is. */
  async enqueue(agreement: Agreement): Promise<boolean> {
    let added = false;
    await this.records.change(agreement.agreementId, (current) => {
      if (current) return current;
      added = true;
      return { agreement, state: "queued", attempts: 0 };
    });
    return added;
  }

  /** Changes a job; resolves with the changed job once it is on disk. */
  update(id: bigint, change: Partial<Omit<Job, "agreement">>): Promise<Job> {
    return this.records.change(id, (job) => {
      if (!job) throw new Error(`no job for agreement ${id}`);
      return { ...job, ...change };
    });
  }

  /** Jobs still waiting to run, oldest agreement first. */
  queued(): Job[] {
    return this.all().filter((j) => j.state === "queued");
  }

  all(): Job[] {
    return this.records.values();
  }
}
