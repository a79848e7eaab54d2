import { E2E_MATRIX, ofCadence } from "./helpers.js";
import { describeFaults } from "./faults.js";

// The fault suite on the matrix's chains with block times (the other cadence: faults-automine.test.ts).
for (const chainCase of ofCadence(E2E_MATRIX.faults, "blocks")) describeFaults(chainCase);
