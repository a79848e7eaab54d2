import { WASI_FUNCTIONS, WASI_MODULE } from "../wasi/names.js";
import { AdmissionError } from "./errors.js";
import { parseModule, type WasmModule } from "./module.js";
import { DecodeError } from "./reader.js";

/** Structural limits a module must stay within to be admitted. */
export const ADMISSION_LIMITS = {
  maxModuleBytes: 16 * 1024 * 1024,
  maxFunctions: 100_000,
  maxGlobals: 10_000,
  maxTypes: 10_000,
  maxImports: 1_000,
  maxExports: 10_000,
} as const;

/** Export names the instrumenter adds; a module may not use them itself. */
export const RESERVED_EXPORT_PREFIX = "__troupe_";
export const ENTRY_EXPORT = "_start";

const WASI = new Set(WASI_FUNCTIONS);

/**
 * Decides whether the host runs a module at all (structure, imports, limits). Returns the decoded
 * module or throws an AdmissionError / DecodeError whose message names the reason. Instruction-level
 * features are checked when the code is decoded by the instrumenter, then `validateModule` runs.
 */
export function admit(bytes: Uint8Array): WasmModule {
  const L = ADMISSION_LIMITS;
  if (bytes.length > L.maxModuleBytes)
    throw new AdmissionError(`module is ${bytes.length} bytes, over the ${L.maxModuleBytes}-byte limit`);
  let m: WasmModule;
  try {
    m = parseModule(bytes);
  } catch (e) {
    if (e instanceof AdmissionError || e instanceof DecodeError) throw e;
    throw new DecodeError(`malformed module: ${(e as Error).message}`);
  }
  const functions = m.importedFunctions + m.functionTypes.length;
  if (functions > L.maxFunctions) throw new AdmissionError(`module has ${functions} functions, over the limit of ${L.maxFunctions}`);
  if (m.globalCount > L.maxGlobals) throw new AdmissionError(`module has ${m.globalCount} globals, over the limit of ${L.maxGlobals}`);
  if (m.types.length > L.maxTypes) throw new AdmissionError(`module has ${m.types.length} types, over the limit of ${L.maxTypes}`);
  if (m.imports.length > L.maxImports) throw new AdmissionError(`module has ${m.imports.length} imports, over the limit of ${L.maxImports}`);
  if (m.exports.length > L.maxExports) throw new AdmissionError(`module has ${m.exports.length} exports, over the limit of ${L.maxExports}`);
  for (const imp of m.imports) {
    if (imp.kind !== 0 || imp.module !== WASI_MODULE || !WASI.has(imp.name))
      throw new AdmissionError(`import ${imp.module}.${imp.name} is not in the WASI subset`);
  }
  if (m.memories.length > 1) throw new AdmissionError("multiple memories are not allowed");
  if (m.start !== undefined) throw new AdmissionError("a start section is not allowed: export _start instead");
  for (const e of m.exports)
    if (e.name.startsWith(RESERVED_EXPORT_PREFIX)) throw new AdmissionError(`export name ${e.name} is reserved by the host`);
  const entry = m.exports.find((e) => e.name === ENTRY_EXPORT);
  if (!entry || entry.kind !== 0) throw new AdmissionError("module does not export a _start function");
  const entryType = m.types[m.functionTypes[entry.index - m.importedFunctions] ?? m.imports[entry.index]?.typeIndex ?? -1];
  if (!entryType || entryType.params.length > 0 || entryType.results.length > 1)
    throw new AdmissionError("_start must take no parameters and return nothing or an i32");
  return m;
}

/** Full validation by the engine; run after the instrumenter has named any disallowed instruction. */
export function validateModule(bytes: Uint8Array): void {
  if (!WebAssembly.validate(bytes)) throw new DecodeError(`module does not validate: ${validationMessage(bytes)}`);
}

function validationMessage(bytes: Uint8Array): string {
  try {
    new WebAssembly.Module(bytes);
    return "unknown reason";
  } catch (e) {
    return (e as Error).message.replace(/^WebAssembly\.Module\(\): /, "");
  }
}
