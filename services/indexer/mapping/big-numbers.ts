/**
 * graph-ts's BigInt and BigDecimal as graph-node computes them. A BigInt travels as a
 * little-endian two's-complement byte array (num-bigint's `to_signed_bytes_le`); a BigDecimal is
 * `digits × 10^exp`, normalised after every operation to at most 34 significant digits with
 * trailing zeros removed (graph-node's `BigDecimal::normalized`, on bigdecimal 0.1).
 */
import { DeterministicError } from "./asc-heap.js";

/** Unsigned big-endian bytes as a bigint. */
export function bigIntFromBytesBe(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

const MAX_SIGNIFICANT = 34;
const DIVISION_PRECISION = 100;

function digitCount(v: bigint): number {
  return v === 0n ? 1 : (v < 0n ? -v : v).toString().length;
}

/** A decimal `digits × 10^exp`. */
export class BigDecimal {
  constructor(
    readonly digits: bigint,
    readonly exp: number,
  ) {}

  static zero = new BigDecimal(0n, 0);

  /** bigdecimal 0.1's `with_prec`: drop digits beyond `prec`, rounding half up on the magnitude of positives. */
  private withPrec(prec: number): BigDecimal {
    const count = digitCount(this.digits);
    if (count <= prec) return this;
    const diff = count - prec;
    const p = 10n ** BigInt(diff);
    let q = this.digits / p;
    const r = this.digits % p;
    if (p < 10n * r) {
      const leading = r / 10n ** BigInt(diff - 1);
      if (leading >= 5n) q += 1n;
    }
    return new BigDecimal(q, this.exp + diff);
  }

  normalized(): BigDecimal {
    if (this.digits === 0n) return BigDecimal.zero;
    const rounded = this.withPrec(MAX_SIGNIFICANT);
    let { digits, exp } = rounded;
    while (digits !== 0n && digits % 10n === 0n) {
      digits /= 10n;
      exp += 1;
    }
    return new BigDecimal(digits, exp);
  }

  static parse(text: string): BigDecimal {
    const m = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text.trim());
    if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new DeterministicError(`failed to parse BigDecimal from "${text}"`);
    const whole = m[2] ?? "";
    const fraction = m[3] ?? "";
    const digits = BigInt((m[1] === "-" ? "-" : "") + (whole + fraction || "0"));
    return new BigDecimal(digits, Number(m[4] ?? 0) - fraction.length).normalized();
  }

  static fromBigInt(v: bigint): BigDecimal {
    return new BigDecimal(v, 0).normalized();
  }

  private aligned(other: BigDecimal): [bigint, bigint, number] {
    const exp = Math.min(this.exp, other.exp);
    return [this.digits * 10n ** BigInt(this.exp - exp), other.digits * 10n ** BigInt(other.exp - exp), exp];
  }

  plus(o: BigDecimal): BigDecimal {
    const [a, b, exp] = this.aligned(o);
    return new BigDecimal(a + b, exp).normalized();
  }

  minus(o: BigDecimal): BigDecimal {
    const [a, b, exp] = this.aligned(o);
    return new BigDecimal(a - b, exp).normalized();
  }

  times(o: BigDecimal): BigDecimal {
    return new BigDecimal(this.digits * o.digits, this.exp + o.exp).normalized();
  }

  dividedBy(o: BigDecimal): BigDecimal {
    if (o.digits === 0n) throw new DeterministicError("Cannot divide by zero-valued `BigDecimal`!");
    if (this.digits === 0n) return BigDecimal.zero;
    // Scale the dividend so the quotient carries DIVISION_PRECISION significant digits, truncated.
    const shift = Math.max(0, DIVISION_PRECISION - digitCount(this.digits) + digitCount(o.digits));
    const q = (this.digits * 10n ** BigInt(shift)) / o.digits;
    return new BigDecimal(q, this.exp - o.exp - shift).normalized();
  }

  equals(o: BigDecimal): boolean {
    const a = this.normalized();
    const b = o.normalized();
    return a.digits === b.digits && a.exp === b.exp;
  }

  /** Plain decimal notation, as bigdecimal 0.1 prints it. */
  toString(): string {
    const negative = this.digits < 0n;
    const abs = (negative ? -this.digits : this.digits).toString();
    let text: string;
    if (this.exp >= 0) text = this.digits === 0n ? "0" : abs + "0".repeat(this.exp);
    else {
      const scale = -this.exp;
      const padded = abs.padStart(scale + 1, "0");
      text = `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
    }
    return negative ? `-${text}` : text;
  }
}
