import { expect } from "chai";

/** Awaits `promise` and expects it to reject with a message matching `pattern`. */
export async function expectReject(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a rejection matching ${pattern}`);
}
