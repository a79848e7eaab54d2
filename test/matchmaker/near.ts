import { expect } from "chai";

/**
 * |actual - expected| <= tolerance. (Hardhat's chai matchers replace `closeTo` with a bigint
 * version once any test loads them, which rejects fractional numbers.)
 */
export function expectNear(actual: number | undefined, expected: number, tolerance: number): void {
  expect(actual, "a number").to.be.a("number");
  const ok = Math.abs(actual! - expected) <= tolerance;
  expect(ok, `expected ${actual} to be within ${tolerance} of ${expected}`).to.equal(true);
}
