// Matrix kernels: blocked f64 matrix multiplication, then an LU decomposition (with partial pivoting)
// to compute the determinant; prints checksums with a fixed number of digits.
include!("common.rs");

fn matmul(a: &[f64], b: &[f64], c: &mut [f64], n: usize) {
    const B: usize = 32;
    for ii in (0..n).step_by(B) {
        for kk in (0..n).step_by(B) {
            for jj in (0..n).step_by(B) {
                for i in ii..(ii + B).min(n) {
                    for k in kk..(kk + B).min(n) {
                        let aik = a[i * n + k];
                        let row = &b[k * n..k * n + n];
                        let out = &mut c[i * n..i * n + n];
                        for j in jj..(jj + B).min(n) {
                            out[j] += aik * row[j];
                        }
                    }
                }
            }
        }
    }
}

fn log_det(mut m: Vec<f64>, n: usize) -> f64 {
    let mut acc = 0.0;
    for col in 0..n {
        let mut p = col;
        for r in col + 1..n {
            if m[r * n + col].abs() > m[p * n + col].abs() {
                p = r;
            }
        }
        if p != col {
            for j in 0..n {
                m.swap(col * n + j, p * n + j);
            }
        }
        let pivot = m[col * n + col];
        acc += pivot.abs().ln();
        for r in col + 1..n {
            let f = m[r * n + col] / pivot;
            for j in col..n {
                m[r * n + j] -= f * m[col * n + j];
            }
        }
    }
    acc
}

fn main() {
    let n = 64 * scale(2);
    let mut rng = Rng(3);
    let a: Vec<f64> = (0..n * n).map(|_| (rng.below(2000) as f64 - 1000.0) / 1000.0).collect();
    let b: Vec<f64> = (0..n * n).map(|_| (rng.below(2000) as f64 - 1000.0) / 1000.0).collect();
    let mut c = vec![0.0; n * n];
    matmul(&a, &b, &mut c, n);
    let trace: f64 = (0..n).map(|i| c[i * n + i]).sum();
    let sum: f64 = c.iter().sum();
    println!("matmul n={} trace={:.6} sum={:.6} logdet={:.6}", n, trace, sum, log_det(c, n));
}
