import { E2E_MATRIX, ofCadence } from "./helpers.js";
import { describeHappyPath } from "./happy-path.js";

// The happy path on the matrix's chains with block times (the other cadence: happy-path-automine.test.ts).
for (const chainCase of ofCadence(E2E_MATRIX.happy, "blocks")) describeHappyPath(chainCase);
