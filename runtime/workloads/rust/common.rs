// Shared by the Rust workloads (included with `include!`): the scale argument and a deterministic PRNG.

/// argv[1] as a number, or the default.
#[allow(dead_code)]
fn scale(default: usize) -> usize {
    std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// xorshift64*: the same stream on every machine.
#[allow(dead_code)]
struct Rng(u64);
#[allow(dead_code)]
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
