// The subset of the WebAssembly JS API the host uses. The project's tsconfig has no DOM lib and
// @types/node 22 does not declare these globals, although Node provides them.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Global {
    constructor(descriptor: { value: string; mutable?: boolean }, v?: unknown);
    value: unknown;
  }
  class RuntimeError extends Error {}
  class CompileError extends Error {}
  class LinkError extends Error {}
  type BufferSource = ArrayBufferView | ArrayBuffer;
  type Imports = Record<string, Record<string, unknown>>;
  function validate(bytes: BufferSource): boolean;
  function compile(bytes: BufferSource): Promise<Module>;
}
