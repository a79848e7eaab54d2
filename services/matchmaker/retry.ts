/** Retries with exponential backoff: RPC endpoints drop, rate-limit and time out; the agent must not. */
export interface RetryOptions {
  retries: number;
  baseMs: number;
  maxMs: number;
  label: string;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, baseMs: 200, maxMs: 10_000, label: "rpc" };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(fn: () => Promise<T>, options: Partial<RetryOptions> = {}): Promise<T> {
  const o = { ...DEFAULT_RETRY, ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= o.retries || isRevert(error)) {
        throw error;
      }
      const delay = Math.min(o.maxMs, o.baseMs * 2 ** attempt);
      o.onRetry?.(error, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

/** A contract revert is an answer, not an outage: retrying it cannot help. */
export function isRevert(error: unknown): boolean {
  const e = error as { code?: string; data?: unknown; revert?: unknown } | undefined;
  return e?.code === "CALL_EXCEPTION" || e?.revert !== undefined;
}
