import { E2E_MATRIX, ofCadence } from "./helpers.js";
import { describeFaults } from "./faults.js";

// The fault suite on the matrix's automining chains (the other cadence: faults-blocks.test.ts).
for (const chainCase of ofCadence(E2E_MATRIX.faults, "automine")) describeFaults(chainCase);
