import { WASI_FUNCTIONS, WASI_MODULE } from "../wasi/names.js";
import { MEMORY_ACCOUNTING } from "./cost-table.js";
import { AdmissionError } from "./errors.js";
import { ExternKind, parseModule, type WasmModule } from "./module.js";
import { DecodeError } from "./reader.js";

/**
 * Structural limits a module must stay within to be admitted (see runtime/wasm/ADMISSION.md). The
 * V8-derived ones leave room for what the instrumenter adds, so an admitted module always stays
 * inside V8's own limits once metered.
 */
export const ADMISSION_LIMITS = {
  maxModuleBytes: 16 * 1024 * 1024,
  maxFunctions: 100_000,
  maxGlobals: 10_000,
  maxTypes: 10_000,
  maxImports: 1_000,
  maxExports: 10_000,
  maxTables: 100,
  maxElementSegments: 100_000,
  maxDataSegments: 100_000,
  /** V8 allows 50,000 locals (parameters included); the meter adds up to 8 of its own. */
  maxLocals: 50_000 - 8,
  /** V8 allows 7,654,321 bytes per body; instrumentation at most about triples a body. */
  maxFunctionBodyBytes: 2_000_000,
  maxParams: 1_000,
  maxResults: 1_000,
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
  if (bytes.length > L.maxModuleBytes) throw new AdmissionError(`module is ${bytes.length} bytes, over the ${L.maxModuleBytes}-byte limit`);
  let m: WasmModule;
  try {
    m = parseModule(bytes);
  } catch (e) {
    if (e instanceof AdmissionError || e instanceof DecodeError) throw e;
    throw new DecodeError(`malformed module: ${(e as Error).message}`);
  }
  const over = (what: string, n: number, limit: number): void => {
    if (n > limit) throw new AdmissionError(`module has ${n} ${what}, over the limit of ${limit}`);
  };
  over("functions", m.importedFunctions + m.functionTypes.length, L.maxFunctions);
  over("globals", m.globalCount, L.maxGlobals);
  over("types", m.types.length, L.maxTypes);
  over("imports", m.imports.length, L.maxImports);
  over("exports", m.exports.length, L.maxExports);
  over("tables", m.tables.length, L.maxTables);
  over("element segments", m.elements.length, L.maxElementSegments);
  over("data segments", m.data.length, L.maxDataSegments);
  m.types.forEach((t, i) => {
    if (t.params.length > L.maxParams) throw new AdmissionError(`type ${i} has ${t.params.length} parameters, over the limit of ${L.maxParams}`);
    if (t.results.length > L.maxResults) throw new AdmissionError(`type ${i} has ${t.results.length} results, over the limit of ${L.maxResults}`);
  });
  for (const imp of m.imports) {
    if (imp.kind !== ExternKind.Func || imp.module !== WASI_MODULE || !WASI.has(imp.name))
      throw new AdmissionError(`import ${imp.module}.${imp.name} is not in the WASI subset`);
  }
  if (m.memories.length > 1) throw new AdmissionError("multiple memories are not allowed");
  if (m.start !== undefined) throw new AdmissionError("a start section is not allowed: export _start instead");
  m.code.forEach((f, i) => {
    const type = m.types[m.functionTypes[i]!];
    const locals = (type?.params.length ?? 0) + f.localCount;
    if (locals > L.maxLocals)
      throw new AdmissionError(
        `function ${m.importedFunctions + i} has ${locals} locals (parameters included), over the limit of ${L.maxLocals} (V8's 50000 less the meter's own)`,
      );
    if (f.body.length > L.maxFunctionBodyBytes)
      throw new AdmissionError(`function ${m.importedFunctions + i} is ${f.body.length} bytes, over the limit of ${L.maxFunctionBodyBytes}`);
  });
  for (const e of m.exports)
    if (e.name.startsWith(RESERVED_EXPORT_PREFIX)) throw new AdmissionError(`export name ${e.name} is reserved by the host`);
  const entry = m.exports.find((e) => e.name === ENTRY_EXPORT);
  if (!entry || entry.kind !== 0) throw new AdmissionError("module does not export a _start function");
  const entryType = m.types[m.functionTypes[entry.index - m.importedFunctions] ?? m.imports[entry.index]?.typeIndex ?? -1];
  if (!entryType || entryType.params.length > 0 || entryType.results.length > 1)
    throw new AdmissionError("_start must take no parameters and return nothing or an i32");
  return m;
}

/**
 * Bytes a module holds in the job process before it runs a single instruction, counted against the
 * job's memory limit: initial linear memory, every table's initial entries, and every data and
 * element segment (V8 keeps passive segments, and active ones are copied out of them).
 */
export function staticFootprint(m: WasmModule): number {
  const A = MEMORY_ACCOUNTING;
  let bytes = (m.memories[0]?.min ?? 0) * A.pageBytes;
  for (const t of m.tables) bytes += t.limits.min * A.tableEntryBytes;
  for (const d of m.data) bytes += d.bytes.length;
  for (const e of m.elements) bytes += (e.funcs?.length ?? e.exprs?.length ?? 0) * A.tableEntryBytes;
  return bytes;
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
