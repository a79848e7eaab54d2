// Sieve of Eratosthenes up to (scale * 100000); prints the count and a checksum of the primes.
import { print, scaleArg } from "./wasi";

function main(): void {
  const n = scaleArg(5) * 100000;
  const composite = new Uint8Array(n + 1);
  let count = 0;
  let sum: u64 = 0;
  for (let i = 2; i <= n; i++) {
    if (composite[i]) continue;
    count++;
    sum = sum * 31 + <u64>i;
    for (let j = i64(i) * i; j <= n; j += i) composite[<i32>j] = 1;
  }
  print("primes<=" + n.toString() + " count=" + count.toString() + " hash=" + sum.toString() + "\n");
}
main();
