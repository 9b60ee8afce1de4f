//! Matrix multiply: a thin, bounds-checked, row-major wrapper over `matrixmultiply::sgemm`, and
//! the naive triple loop kept beside it as the reference the tests compare against.

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    N,
    T,
}

/// Row and column strides of an operand stored row-major with leading dimension `ld`.
fn strides(op: Op, ld: usize) -> (isize, isize) {
    match op {
        Op::N => (ld as isize, 1),
        Op::T => (1, ld as isize),
    }
}

/// The smallest slice length holding an `rows × cols` operand (after `op`) with leading dim `ld`.
fn extent(op: Op, rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 {
        return 0;
    }
    let (stored_rows, stored_cols) = match op {
        Op::N => (rows, cols),
        Op::T => (cols, rows),
    };
    assert!(ld >= stored_cols, "leading dimension {ld} smaller than {stored_cols} columns");
    (stored_rows - 1) * ld + stored_cols
}

/// `C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C`, all row-major with leading
/// dimensions `lda`, `ldb`, `ldc`. With `beta == 0`, C's old contents are ignored (even NaN).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    op_a: Op,
    op_b: Op,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    assert!(a.len() >= extent(op_a, m, k, lda), "A is too short for {m}×{k}");
    assert!(b.len() >= extent(op_b, k, n, ldb), "B is too short for {k}×{n}");
    assert!(c.len() >= extent(Op::N, m, n, ldc), "C is too short for {m}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = strides(op_a, lda);
    let (rsb, csb) = strides(op_b, ldb);
    // SAFETY: the asserts above keep every element the strides reach inside the slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

/// The textbook triple loop with the same contract as [`sgemm`], accumulating in f64.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_naive(
    op_a: Op,
    op_b: Op,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    let at = |i: usize, p: usize| match op_a {
        Op::N => a[i * lda + p],
        Op::T => a[p * lda + i],
    };
    let bt = |p: usize, j: usize| match op_b {
        Op::N => b[p * ldb + j],
        Op::T => b[j * ldb + p],
    };
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k).map(|p| at(i, p) as f64 * bt(p, j) as f64).sum();
            let old = if beta == 0.0 { 0.0 } else { beta * c[i * ldc + j] };
            c[i * ldc + j] = alpha * dot as f32 + old;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    fn random(len: usize, rng: &mut Rng) -> Vec<f32> {
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    #[test]
    fn sgemm_matches_naive_for_every_transpose_and_padded_strides() {
        let mut rng = Rng::new(11);
        let (m, n, k) = (13, 17, 29);
        for op_a in [Op::N, Op::T] {
            for op_b in [Op::N, Op::T] {
                let lda = if op_a == Op::N { k + 3 } else { m + 2 };
                let ldb = if op_b == Op::N { n + 1 } else { k + 5 };
                let a = random(64 * lda, &mut rng);
                let b = random(64 * ldb, &mut rng);
                let c0 = random(m * (n + 4), &mut rng);
                let (mut fast, mut slow) = (c0.clone(), c0.clone());
                sgemm(op_a, op_b, m, n, k, 0.5, &a, lda, &b, ldb, 2.0, &mut fast, n + 4);
                sgemm_naive(op_a, op_b, m, n, k, 0.5, &a, lda, &b, ldb, 2.0, &mut slow, n + 4);
                let worst = fast.iter().zip(&slow).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
                assert!(worst < 1e-5, "{op_a:?}{op_b:?}: worst difference {worst}");
            }
        }
    }
}
