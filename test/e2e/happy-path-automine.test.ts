import { E2E_MATRIX, ofCadence } from "./helpers.js";
import { describeHappyPath } from "./happy-path.js";

// The happy path on the matrix's automining chains (the other cadence: happy-path-blocks.test.ts).
for (const chainCase of ofCadence(E2E_MATRIX.happy, "automine")) describeHappyPath(chainCase);
