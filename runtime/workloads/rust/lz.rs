// Compression: an LZ77 (LZSS) compressor with a hash-chain match finder and its decompressor, over
// generated text with repetitions; checks the round trip and prints sizes and a checksum.
include!("common.rs");

const WINDOW: usize = 1 << 15;
const MIN_MATCH: usize = 4;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;

fn hash(b: &[u8]) -> usize {
    let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

fn compress(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2);
    let mut head = vec![usize::MAX; 1 << HASH_BITS];
    let mut prev = vec![usize::MAX; WINDOW];
    let mut i = 0;
    let mut flags_at = 0;
    let mut nflags = 8;
    while i < input.len() {
        if nflags == 8 {
            flags_at = out.len();
            out.push(0);
            nflags = 0;
        }
        let mut best_len = 0;
        let mut best_dist = 0;
        if i + MIN_MATCH <= input.len() {
            let h = hash(&input[i..]);
            let mut cand = head[h];
            let mut chain = 32;
            while cand != usize::MAX && i - cand < WINDOW && chain > 0 {
                let max = MAX_MATCH.min(input.len() - i);
                let mut l = 0;
                while l < max && input[cand + l] == input[i + l] {
                    l += 1;
                }
                if l > best_len {
                    best_len = l;
                    best_dist = i - cand;
                }
                cand = prev[cand % WINDOW];
                chain -= 1;
            }
            prev[i % WINDOW] = head[h];
            head[h] = i;
        }
        if best_len >= MIN_MATCH {
            out[flags_at] |= 1 << nflags;
            out.push((best_dist >> 8) as u8);
            out.push(best_dist as u8);
            out.push((best_len - MIN_MATCH) as u8);
            for k in 1..best_len {
                let j = i + k;
                if j + MIN_MATCH <= input.len() {
                    let h = hash(&input[j..]);
                    prev[j % WINDOW] = head[h];
                    head[h] = j;
                }
            }
            i += best_len;
        } else {
            out.push(input[i]);
            i += 1;
        }
        nflags += 1;
    }
    out
}

fn decompress(data: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    let mut p = 0;
    while out.len() < size {
        let flags = data[p];
        p += 1;
        for bit in 0..8 {
            if out.len() >= size {
                break;
            }
            if flags & (1 << bit) != 0 {
                let dist = ((data[p] as usize) << 8) | data[p + 1] as usize;
                let len = data[p + 2] as usize + MIN_MATCH;
                p += 3;
                let start = out.len() - dist;
                for k in 0..len {
                    let b = out[start + k];
                    out.push(b);
                }
            } else {
                out.push(data[p]);
                p += 1;
            }
        }
    }
    out
}

fn main() {
    let n = scale(1) * 50_000;
    let words = ["the ", "market ", "runs ", "wasm ", "fuel ", "meter ", "provider ", "consumer ", "agreement ", "settles "];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = Vec::with_capacity(n);
    while text.len() < n {
        if rng.below(10) == 0 {
            text.push(b'a' + rng.below(26) as u8);
        } else {
            text.extend_from_slice(words[rng.below(words.len() as u64) as usize].as_bytes());
        }
    }
    let packed = compress(&text);
    let back = decompress(&packed, text.len());
    assert!(back == text, "round trip");
    let sum = packed.iter().fold(0u32, |h, &b| h.rotate_left(5) ^ b as u32);
    println!("lz in={} out={} ratio={:.3} sum={:08x}", text.len(), packed.len(), packed.len() as f64 / text.len() as f64, sum);
}
