//! `tw_rust`: the smallest useful pyo3 extension for the truewheel corpus.
//! Built against the stable ABI (abi3, Python >= 3.9), so one `.abi3.so`
//! serves every CPython from 3.9 on.

use pyo3::prelude::*;

/// add(a, b) -> int: the sum of two integers.
#[pyfunction]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// fib(n) -> int: the n-th Fibonacci number (wrapping on overflow).
#[pyfunction]
fn fib(n: u32) -> u64 {
    let (mut x, mut y) = (0u64, 1u64);
    for _ in 0..n {
        (x, y) = (y, x.wrapping_add(y));
    }
    x
}

#[pymodule]
fn tw_rust(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add, m)?)?;
    m.add_function(wrap_pyfunction!(fib, m)?)?;
    Ok(())
}
