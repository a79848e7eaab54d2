// String processing in AssemblyScript: builds words, reverses and hashes them, counts vowels.
import { print, scaleArg } from "./wasi";

const WORDS: string[] = ["wasm", "fuel", "edge", "cloud", "market", "verify", "stake", "provider"];

function main(): void {
  const n = scaleArg(2) * 5000;
  let x: u32 = 99;
  let vowels = 0;
  let h: u32 = 5381;
  const parts = new Array<string>();
  for (let i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    const w = WORDS[(x >> 16) % 8];
    let rev = "";
    for (let k = w.length - 1; k >= 0; k--) rev += w.charAt(k);
    for (let k = 0; k < rev.length; k++) {
      const c = rev.charCodeAt(k);
      if (c == 97 || c == 101 || c == 105 || c == 111 || c == 117) vowels++;
      h = h * 33 + <u32>c;
    }
    if (i < 8) parts.push(rev.toUpperCase());
  }
  print("words=" + n.toString() + " vowels=" + vowels.toString() + " hash=" + h.toString() + " first=" + parts.join(",") + "\n");
}
main();
