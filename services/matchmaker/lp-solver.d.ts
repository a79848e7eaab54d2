// javascript-lp-solver ships no types; this is the part of its API the oracle uses.
declare module "javascript-lp-solver" {
  interface LpModel {
    optimize: string;
    opType: "max" | "min";
    constraints: Record<string, { max?: number; min?: number; equal?: number }>;
    variables: Record<string, Record<string, number>>;
    ints?: Record<string, 1>;
  }
  const solver: { Solve(model: LpModel): Record<string, number | boolean | undefined> };
  export default solver;
}
