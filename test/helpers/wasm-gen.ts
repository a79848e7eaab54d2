// A seeded generator of valid core modules for property tests: every section of the admitted feature
// set (multiple tables, every element and data segment form, passive segments, bulk memory and table
// operations, multi-value, SIMD, reference types, custom sections), written with redundant LEB128
// padding where the binary format allows it.

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b, FUNCREF = 0x70, EXTERNREF = 0x6f;
type Val = number;

export class Rng {
  constructor(private s: number) {}
  next(): number {
    // mulberry32
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Byte emitter whose LEB128s are padded to their maximum length at random. */
class Out {
  bytes: number[] = [];
  constructor(
    private readonly rng: Rng,
    private readonly padRate: number,
  ) {}
  u8(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  private leb(v: bigint, max: number, signed: boolean): this {
    if (this.rng.chance(this.padRate)) {
      for (let i = 0; i < max; i++) {
        const b = Number((v >> BigInt(7 * i)) & 0x7fn);
        this.bytes.push(i < max - 1 ? b | 0x80 : b);
      }
      return this;
    }
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = signed ? (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0) : v === 0n;
      this.bytes.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  u32(n: number): this {
    return this.leb(BigInt(n >>> 0), 5, false);
  }
  s32(n: number): this {
    return this.leb(BigInt(n | 0), 5, true);
  }
  s64(n: bigint): this {
    return this.leb(BigInt.asIntN(64, n), 10, true);
  }
  name(s: string): this {
    const b = Buffer.from(s, "utf8");
    this.u32(b.length);
    this.bytes.push(...b);
    return this;
  }
  vec<T>(xs: readonly T[], f: (x: T) => void): this {
    this.u32(xs.length);
    xs.forEach(f);
    return this;
  }
  append(o: Out): this {
    this.bytes.push(...o.bytes);
    return this;
  }
}

interface FType {
  params: Val[];
  results: Val[];
}
interface GenFunc {
  type: number;
  /** Declared locals; the last LOOP_LOCALS are loop counters that only their loop writes. */
  locals: Val[];
}
/** One i32 counter per loop nesting depth, so no statement can keep a loop running. */
const LOOP_LOCALS = 4;

export interface GenOptions {
  /** Share of LEB128s written padded to their maximum length (0..1). */
  padRate?: number;
  /** Only integer arithmetic (so metered and unmetered runs must print the same bytes). */
  integersOnly?: boolean;
  simd?: boolean;
}

/**
 * A valid module with an exported `_start` that computes over its memory, tables and globals and
 * finally writes the first 64 bytes of memory to stdout (fd_write). It may trap (bounds, division,
 * call_indirect): traps are part of the behaviour the property tests compare.
 */
export function generateModule(seed: number, opts: GenOptions = {}): Uint8Array {
  const rng = new Rng(seed);
  const padRate = opts.padRate ?? 0.3;
  const ints = opts.integersOnly ?? false;
  const simd = (opts.simd ?? true) && !ints;
  const numTypes: Val[] = ints ? [I32, I64] : simd ? [I32, I64, F32, F64, V128] : [I32, I64, F32, F64];
  const o = (): Out => new Out(rng, padRate);

  const types: FType[] = [
    { params: [I32, I32, I32, I32], results: [I32] }, // fd_write
    { params: [], results: [] }, // _start
  ];
  const nTypes = 2 + rng.int(5);
  for (let i = 0; i < nTypes; i++) {
    const params = Array.from({ length: rng.int(4) }, () => rng.pick(numTypes));
    const results = Array.from({ length: rng.int(3) }, () => rng.pick(numTypes));
    types.push({ params, results });
  }
  const nFuncs = 2 + rng.int(6);
  const loopLocals = Array.from({ length: LOOP_LOCALS }, () => I32);
  const funcs: GenFunc[] = [{ type: 1, locals: [I32, I32, ...loopLocals] }];
  for (let i = 1; i < nFuncs; i++) {
    funcs.push({ type: 2 + rng.int(nTypes), locals: [...Array.from({ length: rng.int(4) }, () => rng.pick(numTypes)), ...loopLocals] });
  }
  const imported = 1;
  const tables: { ref: Val; min: number; max?: number }[] = [{ ref: FUNCREF, min: 8 + rng.int(8), max: 64 }];
  for (let i = rng.int(3); i > 0; i--) tables.push({ ref: rng.pick([FUNCREF, EXTERNREF]), min: rng.int(6), ...(rng.chance(0.5) ? { max: 16 } : {}) });
  const memMax = rng.chance(0.5) ? 4 : undefined;
  const globals: { t: Val; mut: boolean; init: number }[] = [];
  for (let i = rng.int(4); i >= 0; i--) globals.push({ t: rng.pick(ints ? [I32, I64] : [I32, I64, F32, F64]), mut: rng.chance(0.7), init: rng.int(1000) });
  const nPassiveData = 1 + rng.int(2);
  const nElems = 1 + rng.int(3);

  // ---- code generation ----
  const constOf = (w: Out, t: Val): void => {
    switch (t) {
      case I32:
        w.u8(0x41).s32(rng.int(0x7fffffff) - (rng.chance(0.3) ? 0x40000000 : 0));
        break;
      case I64:
        w.u8(0x42).s64(BigInt(rng.int(0x7fffffff)) * BigInt(rng.int(0x7fffffff) + 1) - (rng.chance(0.3) ? 1n << 40n : 0n));
        break;
      case F32:
        w.u8(0x43, ...new Uint8Array(new Float32Array([rng.next() * 1000 - 500]).buffer));
        break;
      case F64:
        w.u8(0x44, ...new Uint8Array(new Float64Array([rng.next() * 1e6 - 5e5]).buffer));
        break;
      case V128:
        w.u8(0xfd).u32(12).u8(...Array.from({ length: 16 }, () => rng.int(256)));
        break;
      case FUNCREF:
        if (rng.chance(0.5)) w.u8(0xd2).u32(rng.int(nFuncs) + imported);
        else w.u8(0xd0, FUNCREF);
        break;
      case EXTERNREF:
        w.u8(0xd0, EXTERNREF);
        break;
    }
  };
  const address = (w: Out): void => {
    w.u8(0x41).s32(rng.int(70000) & (rng.chance(0.95) ? 0xfff : 0x1ffff));
  };
  const memarg = (w: Out, maxAlign: number): void => {
    w.u32(rng.int(maxAlign + 1)).u32(rng.int(64));
  };

  function expr(w: Out, t: Val, f: GenFunc, depth: number): void {
    const ft = types[f.type]!;
    const locals = [...ft.params, ...f.locals];
    const localsOf = locals.map((x, i) => [x, i] as const).filter(([x]) => x === t);
    const choice = depth <= 0 ? rng.int(3) : rng.int(12);
    if (choice === 0 || (t === FUNCREF && choice > 2) || (t === EXTERNREF && choice > 2)) return constOf(w, t);
    if (choice === 1 && localsOf.length) {
      w.u8(0x20).u32(rng.pick(localsOf)[1]);
      return;
    }
    const g = globals.map((x, i) => [x, i] as const).filter(([x]) => x.t === t);
    if (choice === 2 && g.length) {
      w.u8(0x23).u32(rng.pick(g)[1]);
      return;
    }
    if (choice <= 2) return constOf(w, t);
    switch (t) {
      case I32:
        switch (rng.int(12)) {
          case 0:
            expr(w, I32, f, depth - 1);
            expr(w, I32, f, depth - 1);
            w.u8(rng.pick([0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x46, 0x47, 0x48, 0x49, 0x4f, 0x6d, 0x6e, 0x6f, 0x70]));
            return;
          case 1:
            expr(w, I32, f, depth - 1);
            w.u8(rng.pick([0x67, 0x68, 0x69, 0x45, 0xc0, 0xc1]));
            return;
          case 2:
            expr(w, I64, f, depth - 1);
            w.u8(rng.pick([0xa7, 0x50]));
            return;
          case 3:
            address(w);
            w.u8(rng.pick([0x28, 0x2c, 0x2d, 0x2e, 0x2f]));
            memarg(w, 0);
            return;
          case 4:
            w.u8(0x3f).u32(0);
            return;
          case 5:
            w.u8(0x41).s32(rng.int(2)).u8(0x40).u32(0);
            return;
          case 6: {
            const ti = rng.int(tables.length);
            if (rng.chance(0.5)) w.u8(0xfc).u32(16).u32(ti);
            else {
              constOf(w, tables[ti]!.ref);
              w.u8(0x41).s32(rng.int(3)).u8(0xfc).u32(15).u32(ti);
            }
            return;
          }
          case 7:
            expr(w, I32, f, depth - 1);
            expr(w, I32, f, depth - 1);
            expr(w, I32, f, depth - 1);
            if (rng.chance(0.5)) w.u8(0x1b);
            else w.u8(0x1c).u32(1).u8(I32);
            return;
          case 8: {
            // if with a result, else branch
            expr(w, I32, f, depth - 1);
            w.u8(0x04, I32);
            expr(w, I32, f, depth - 1);
            w.u8(0x05);
            expr(w, I32, f, depth - 1);
            w.u8(0x0b);
            return;
          }
          case 9:
            if (!ints) {
              const ft = rng.pick([F32, F64]);
              expr(w, ft, f, depth - 1);
              w.u8(0xfc).u32((ft === F32 ? 0 : 2) + rng.int(2));
              return;
            }
            break;
          case 10:
            constOf(w, rng.pick([FUNCREF, EXTERNREF]));
            w.u8(0xd1);
            return;
          case 11:
            if (simd) {
              expr(w, V128, f, depth - 1);
              w.u8(0xfd).u32(27).u8(rng.int(4)); // i32x4.extract_lane
              return;
            }
            break;
        }
        return constOf(w, t);
      case I64:
        switch (rng.int(4)) {
          case 0:
            expr(w, I64, f, depth - 1);
            expr(w, I64, f, depth - 1);
            w.u8(rng.pick([0x7c, 0x7d, 0x7e, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x7f, 0x80, 0x81, 0x82]));
            return;
          case 1:
            expr(w, I32, f, depth - 1);
            w.u8(rng.pick([0xac, 0xad]));
            return;
          case 2:
            address(w);
            w.u8(rng.pick([0x29, 0x30, 0x31, 0x34, 0x35]));
            memarg(w, 0);
            return;
          case 3:
            expr(w, I64, f, depth - 1);
            w.u8(rng.pick([0x79, 0x7a, 0x7b, 0xc2, 0xc3, 0xc4]));
            return;
        }
        return constOf(w, t);
      case F32:
      case F64: {
        const k = rng.int(4);
        if (k === 0) {
          expr(w, t, f, depth - 1);
          expr(w, t, f, depth - 1);
          w.u8(t === F32 ? rng.pick([0x92, 0x93, 0x94, 0x96, 0x97, 0x98]) : rng.pick([0xa0, 0xa1, 0xa2, 0xa4, 0xa5, 0xa6]));
        } else if (k === 1) {
          expr(w, I32, f, depth - 1);
          w.u8(t === F32 ? 0xb2 : 0xb7);
        } else if (k === 2) {
          address(w);
          w.u8(t === F32 ? 0x2a : 0x2b);
          memarg(w, 0);
        } else {
          expr(w, t, f, depth - 1);
          w.u8(t === F32 ? rng.pick([0x8b, 0x8c, 0x8d, 0x8e]) : rng.pick([0x99, 0x9a, 0x9b, 0x9c]));
        }
        return;
      }
      case V128: {
        const k = rng.int(3);
        if (k === 0) {
          expr(w, V128, f, depth - 1);
          expr(w, V128, f, depth - 1);
          w.u8(0xfd).u32(rng.pick([0xae, 0xb1, 0x4e, 0x50, 0xe4, 0xf0, 0xe6]));
        } else if (k === 1) {
          expr(w, I32, f, depth - 1);
          w.u8(0xfd).u32(17); // i32x4.splat
        } else {
          address(w);
          w.u8(0xfd).u32(0);
          memarg(w, 0);
        }
        return;
      }
    }
    constOf(w, t);
  }

  function call(w: Out, f: GenFunc, self: number, depth: number): void {
    // Only higher-numbered functions are called, so the call graph has no cycles.
    const callee = self + 1 + rng.int(nFuncs - self - 1);
    if (callee >= nFuncs) return;
    const ct = types[funcs[callee]!.type]!;
    for (const p of ct.params) expr(w, p, f, depth - 1);
    if (rng.chance(0.3)) {
      w.u8(0x41).s32(rng.int(tables[0]!.min)).u8(0x11).u32(funcs[callee]!.type).u32(0);
    } else w.u8(0x10).u32(callee + imported);
    for (let i = 0; i < ct.results.length; i++) w.u8(0x1a);
  }

  function stmt(w: Out, f: GenFunc, self: number, depth: number): void {
    const ft = types[f.type]!;
    const locals = [...ft.params, ...f.locals];
    switch (rng.int(14)) {
      case 0: {
        const writable = locals.length - LOOP_LOCALS;
        if (writable <= 0) return;
        const i = rng.int(writable);
        expr(w, locals[i]!, f, depth);
        w.u8(0x21).u32(i);
        return;
      }
      case 1: {
        const g = globals.map((x, i) => [x, i] as const).filter(([x]) => x.mut);
        if (!g.length) return;
        const [gl, gi] = rng.pick(g);
        expr(w, gl.t, f, depth);
        w.u8(0x24).u32(gi);
        return;
      }
      case 2: {
        const t = rng.pick(numTypes);
        address(w);
        expr(w, t, f, depth);
        const op = t === I32 ? rng.pick([0x36, 0x3a, 0x3b]) : t === I64 ? rng.pick([0x37, 0x3c, 0x3d, 0x3e]) : t === F32 ? 0x38 : t === F64 ? 0x39 : -1;
        if (op < 0) w.u8(0xfd).u32(11);
        else w.u8(op);
        memarg(w, 0);
        return;
      }
      case 3:
        expr(w, rng.pick(numTypes), f, depth);
        w.u8(0x1a);
        return;
      case 4:
        return call(w, f, self, depth);
      case 5: {
        // a counted loop
        if (depth <= 0) return;
        const c = locals.length - 1 - Math.min(depth, LOOP_LOCALS - 1);
        w.u8(0x41).s32(1 + rng.int(5)).u8(0x21).u32(c);
        w.u8(0x02, 0x40, 0x03, 0x40);
        for (let i = rng.int(3); i >= 0; i--) stmt(w, f, self, depth - 1);
        w.u8(0x20).u32(c).u8(0x41).s32(1).u8(0x6b).u8(0x22).u32(c).u8(0x0d).u32(0).u8(0x0b, 0x0b);
        return;
      }
      case 6: {
        // bulk memory with small operands (may trap when out of bounds)
        const k = rng.int(3);
        address(w);
        if (k === 0) w.u8(0x41).s32(rng.int(256));
        else if (k === 1) address(w);
        else w.u8(0x41).s32(rng.int(4));
        w.u8(0x41).s32(rng.chance(0.9) ? rng.int(300) : -1);
        if (k === 0) w.u8(0xfc).u32(11).u32(0);
        else if (k === 1) w.u8(0xfc).u32(10).u32(0).u32(0);
        else w.u8(0xfc).u32(8).u32(rng.int(nPassiveData)).u32(0);
        return;
      }
      case 7: {
        // table operations
        const ti = rng.int(tables.length);
        const t = tables[ti]!;
        const k = rng.int(4);
        w.u8(0x41).s32(rng.int(t.min + 2));
        if (k === 0) {
          constOf(w, t.ref);
          w.u8(0x41).s32(rng.int(4)).u8(0xfc).u32(17).u32(ti);
        } else if (k === 1) {
          const si = tables.findIndex((x, i) => x.ref === t.ref && i !== ti);
          w.u8(0x41).s32(rng.int(4)).u8(0x41).s32(rng.int(3)).u8(0xfc).u32(14).u32(ti).u32(si < 0 ? ti : si);
        } else if (k === 2 && t.ref === FUNCREF) {
          w.u8(0x41).s32(rng.int(2)).u8(0x41).s32(rng.int(2)).u8(0xfc).u32(12).u32(rng.int(nElems + 1)).u32(ti);
        } else {
          constOf(w, t.ref);
          w.u8(0x26).u32(ti);
        }
        return;
      }
      case 8:
        if (rng.chance(0.2)) w.u8(0xfc).u32(9).u32(rng.int(nPassiveData));
        else if (rng.chance(0.2)) w.u8(0xfc).u32(13).u32(rng.int(nElems + 1));
        return;
      case 9: {
        // br_table out of nested blocks
        w.u8(0x02, 0x40, 0x02, 0x40);
        expr(w, I32, f, depth - 1);
        w.u8(0x0e).u32(2).u32(0).u32(1).u32(rng.int(2));
        w.u8(0x0b, 0x0b);
        return;
      }
      case 10: {
        // a multi-value block when a type has several results and no params
        const mv = types.findIndex((t) => t.params.length === 0 && t.results.length > 1);
        if (mv < 0) return;
        w.u8(0x02).s32(mv);
        for (const r of types[mv]!.results) expr(w, r, f, depth - 1);
        w.u8(0x0b);
        for (let i = 0; i < types[mv]!.results.length; i++) w.u8(0x1a);
        return;
      }
      case 11:
        w.u8(0x01);
        return;
      case 12: {
        const ti = rng.int(tables.length);
        w.u8(0x41).s32(rng.int(tables[ti]!.min + 1)).u8(0x25).u32(ti).u8(0x1a);
        return;
      }
      case 13:
        if (rng.chance(0.05)) w.u8(0x00);
        return;
    }
  }

  function body(fi: number): Out {
    const f = funcs[fi]!;
    const ft = types[f.type]!;
    const w = o();
    w.u32(f.locals.length);
    for (const l of f.locals) w.u32(1).u8(l);
    for (let i = 1 + rng.int(6); i > 0; i--) stmt(w, f, fi, 3);
    if (fi === 0) {
      // fd_write(1, iov @ 4096 = {0, 64}, 1, 4104)
      w.u8(0x41).s32(4096).u8(0x41).s32(0).u8(0x36).u32(2).u32(0);
      w.u8(0x41).s32(4100).u8(0x41).s32(64).u8(0x36).u32(2).u32(0);
      w.u8(0x41).s32(1).u8(0x41).s32(4096).u8(0x41).s32(1).u8(0x41).s32(4104).u8(0x10).u32(0).u8(0x1a);
    } else for (const r of ft.results) expr(w, r, f, 2);
    w.u8(0x0b);
    return w;
  }

  return finish();

  function finish(): Uint8Array {
    const out = o().u8(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
    const sec = (id: number, b: Out): void => {
      out.u8(id).u32(b.bytes.length).append(b);
      if (rng.chance(0.25)) {
        const c = o().name(`c${id}`).u8(...Array.from({ length: rng.int(12) }, () => rng.int(256)));
        out.u8(0).u32(c.bytes.length).append(c);
      }
    };
    const ty = o();
    ty.vec(types, (t) => {
      ty.u8(0x60).vec(t.params, (p) => ty.u8(p)).vec(t.results, (r) => ty.u8(r));
    });
    sec(1, ty);
    const im = o();
    im.u32(1).name("wasi_snapshot_preview1").name("fd_write").u8(0).u32(0);
    sec(2, im);
    const fn = o();
    fn.vec(funcs, (f) => fn.u32(f.type));
    sec(3, fn);
    const tb = o();
    tb.vec(tables, (t) => {
      tb.u8(t.ref);
      if (t.max === undefined) tb.u8(0).u32(t.min);
      else tb.u8(1).u32(t.min).u32(t.max);
    });
    sec(4, tb);
    const me = o();
    me.u32(1);
    if (memMax === undefined) me.u8(0).u32(2);
    else me.u8(1).u32(2).u32(memMax);
    sec(5, me);
    const gl = o();
    gl.vec(globals, (g) => {
      gl.u8(g.t, g.mut ? 1 : 0);
      if (g.t === I32) gl.u8(0x41).s32(g.init);
      else if (g.t === I64) gl.u8(0x42).s64(BigInt(g.init));
      else constOf(gl, g.t);
      gl.u8(0x0b);
    });
    sec(6, gl);
    const ex = o();
    const exports: [string, number, number][] = [
      ["_start", 0, imported],
      ["memory", 2, 0],
      ["table", 1, 0],
    ];
    if (nFuncs > 1) exports.push(["f1", 0, imported + 1]);
    ex.vec(exports, ([n, k, i]) => ex.name(n).u8(k).u32(i));
    sec(7, ex);
    const el = o();
    // Element segments: one passive of each form at the front (indices 0..nElems-1 are passive), then active and declarative ones.
    const segs: (() => void)[] = [];
    for (let i = 0; i < nElems; i++)
      segs.push(() => {
        if (rng.chance(0.5)) el.u32(1).u8(0).vec([0, 1], () => el.u32(imported + rng.int(nFuncs)));
        else el.u32(5).u8(FUNCREF).vec([0, 1, 2], () => (constOf(el, FUNCREF), el.u8(0x0b)));
      });
    segs.push(() => {
      el.u32(0).u8(0x41).s32(0).u8(0x0b).vec([0, 1, 2], () => el.u32(imported + rng.int(nFuncs)));
    });
    segs.push(() => {
      el.u32(2).u32(0).u8(0x41).s32(3).u8(0x0b).u8(0).vec([0, 1], () => el.u32(imported + rng.int(nFuncs)));
    });
    segs.push(() => {
      el.u32(4).u8(0x41).s32(5).u8(0x0b).vec([0, 1], () => (constOf(el, FUNCREF), el.u8(0x0b)));
    });
    segs.push(() => {
      // Declares every function, so ref.func may name any of them.
      el.u32(3).u8(0).u32(funcs.length);
      funcs.forEach((_, i) => el.u32(imported + i));
    });
    const ext = tables.findIndex((t) => t.ref === EXTERNREF && t.min >= 1);
    if (ext >= 0) segs.push(() => el.u32(6).u32(ext).u8(0x41).s32(0).u8(0x0b).u8(EXTERNREF).vec([0], () => el.u8(0xd0, EXTERNREF, 0x0b)));
    el.u32(segs.length);
    segs.forEach((s) => s());
    sec(9, el);
    const dataCount = nPassiveData + 2;
    sec(12, o().u32(dataCount));
    const code = o();
    code.u32(funcs.length);
    funcs.forEach((_, i) => {
      const b = body(i);
      code.u32(b.bytes.length).append(b);
    });
    sec(10, code);
    const da = o();
    da.u32(dataCount);
    for (let i = 0; i < nPassiveData; i++) da.u32(1).vec(Array.from({ length: rng.int(40) }, () => rng.int(256)), (b) => da.u8(b));
    da.u32(0).u8(0x41).s32(rng.int(1000)).u8(0x0b).vec(Array.from({ length: rng.int(64) }, () => rng.int(256)), (b) => da.u8(b));
    da.u32(2).u32(0).u8(0x41).s32(2000).u8(0x0b).vec([1, 2, 3], (b) => da.u8(b));
    sec(11, da);
    // A name section naming every function.
    const names = o();
    const fnames = o();
    fnames.u32(funcs.length + 1).u32(0).name("fd_write");
    funcs.forEach((_, i) => fnames.u32(imported + i).name(i === 0 ? "start" : `gen_${i}`));
    names.u8(1).u32(fnames.bytes.length).append(fnames);
    const ns = o().name("name").append(names);
    out.u8(0).u32(ns.bytes.length).append(ns);
    return new Uint8Array(out.bytes);
  }
}
