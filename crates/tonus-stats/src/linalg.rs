//! Tiny dense linear algebra for the model fits.
//!
//! Why hand-written rather than nalgebra: our matrices are at most about 7×7 (intercept,
//! a few arm indicators, a trend, the NB dispersion), so Gauss–Jordan with partial
//! pivoting is exact enough, allocation-light, and keeps the dependency tree and build
//! time small on the 2-core machines this project builds on.

use crate::error::{Result, StatsError};

/// A row-major dense matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    /// A zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Builds from row-major data; errors when the length does not fit.
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(StatsError::InvalidData(format!(
                "matrix data has {} values, expected {rows}×{cols} = {}",
                data.len(),
                rows * cols
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// Element (i, j).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    /// Sets element (i, j).
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] = v;
    }

    /// Adds `v` to element (i, j).
    #[inline]
    pub fn add(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] += v;
    }

    /// Row i as a slice.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Matrix product self · other.
    pub fn mul(&self, other: &Matrix) -> Matrix {
        let mut out = Matrix::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.get(i, k);
                if a == 0.0 {
                    continue;
                }
                for j in 0..other.cols {
                    out.add(i, j, a * other.get(k, j));
                }
            }
        }
        out
    }

    /// Every element multiplied by `s`.
    pub fn scaled(&self, s: f64) -> Matrix {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|v| v * s).collect(),
        }
    }

    /// Diagonal elements.
    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.rows.min(self.cols)).map(|i| self.get(i, i)).collect()
    }

    /// Inverse of a square matrix by Gauss–Jordan elimination with partial pivoting.
    /// `context` names the caller in the error when the matrix is singular.
    pub fn inverse(&self, context: &'static str) -> Result<Matrix> {
        let n = self.rows;
        if n != self.cols {
            return Err(StatsError::InvalidData(format!(
                "cannot invert a non-square {}×{} matrix",
                self.rows, self.cols
            )));
        }
        let mut a = self.data.clone();
        let mut inv = Matrix::zeros(n, n);
        for i in 0..n {
            inv.set(i, i, 1.0);
        }
        // Scale of the matrix, so the singularity test is relative rather than absolute.
        let scale = a.iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
        for col in 0..n {
            let mut piv = col;
            for r in col + 1..n {
                if a[r * n + col].abs() > a[piv * n + col].abs() {
                    piv = r;
                }
            }
            let pv = a[piv * n + col];
            if !pv.is_finite() || pv.abs() <= scale * 1e-13 {
                return Err(StatsError::Singular { context });
            }
            if piv != col {
                for j in 0..n {
                    a.swap(piv * n + j, col * n + j);
                    inv.data.swap(piv * n + j, col * n + j);
                }
            }
            for j in 0..n {
                a[col * n + j] /= pv;
                inv.data[col * n + j] /= pv;
            }
            for r in 0..n {
                if r == col {
                    continue;
                }
                let f = a[r * n + col];
                if f == 0.0 {
                    continue;
                }
                for j in 0..n {
                    a[r * n + j] -= f * a[col * n + j];
                    inv.data[r * n + j] -= f * inv.data[col * n + j];
                }
            }
        }
        Ok(inv)
    }

    /// Solves self · x = b for a square matrix.
    pub fn solve(&self, b: &[f64], context: &'static str) -> Result<Vec<f64>> {
        let inv = self.inverse(context)?;
        Ok((0..self.rows)
            .map(|i| inv.row(i).iter().zip(b).map(|(a, b)| a * b).sum())
            .collect())
    }

    /// True when the symmetric matrix is positive definite (Cholesky succeeds).
    pub fn is_positive_definite(&self) -> bool {
        let n = self.rows;
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let mut s = self.get(i, j);
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                if i == j {
                    if s <= 0.0 || !s.is_finite() {
                        return false;
                    }
                    l[i * n + i] = s.sqrt();
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_times_matrix_is_identity() {
        let m = Matrix::from_row_major(3, 3, vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0]).unwrap();
        let inv = m.inverse("test").unwrap();
        let id = m.mul(&inv);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((id.get(i, j) - want).abs() < 1e-12);
            }
        }
        assert!(m.is_positive_definite());
    }

    #[test]
    fn singular_matrix_is_an_error() {
        let m = Matrix::from_row_major(2, 2, vec![1.0, 2.0, 2.0, 4.0]).unwrap();
        assert!(matches!(m.inverse("t"), Err(StatsError::Singular { .. })));
        assert!(!m.is_positive_definite());
    }

    #[test]
    fn wrong_length_is_an_error() {
        assert!(Matrix::from_row_major(2, 2, vec![1.0]).is_err());
    }
}
