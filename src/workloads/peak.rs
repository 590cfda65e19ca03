//! The single-core FMA peak of this machine with the crate's vector type, to turn a FLOP rate
//! into a fraction of what the core can do (measured in the same run as the workloads).
//!
//! Twelve independent accumulator chains of `a ← a·x + y` (enough to cover the FMA latency on
//! two ports); FLOPs = 2 · lanes · 12 · iterations.

use super::{RunOutput, Workload, WorkloadError};
use crate::Float;
use crate::dense::simd::Lanes;
use std::hint::black_box;

/// The FMA-peak workload.
#[derive(Clone, Debug)]
pub struct FmaPeak<T> {
    iters: usize,
    _t: std::marker::PhantomData<T>,
}

impl<T: Float> FmaPeak<T> {
    /// A run of `iters` iterations (100 000 takes about a millisecond).
    pub fn new(iters: usize) -> Self {
        Self {
            iters,
            _t: std::marker::PhantomData,
        }
    }
}

/// `iters` rounds of twelve vector FMAs; returns their sum so that nothing is optimised away.
pub fn fma_chains<T: Float>(iters: usize) -> T {
    let x = T::Lanes::splat(black_box(T::from_f64(0.999_999)));
    let y = T::Lanes::splat(black_box(T::from_f64(1e-7)));
    let mut acc = [T::Lanes::splat(T::ONE); 12];
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = a.mul_add(x, y);
        }
    }
    let mut s = T::Lanes::splat(T::ZERO);
    for a in acc {
        s = s + a;
    }
    s.reduce_sum()
}

impl<T: Float> Workload for FmaPeak<T> {
    fn name(&self) -> String {
        format!("fma_peak/{}/1core", T::NAME)
    }
    fn flops(&self) -> Option<f64> {
        Some((2 * T::Lanes::N * 12 * self.iters) as f64)
    }
    fn scalar_bytes(&self) -> usize {
        std::mem::size_of::<T>()
    }
    fn run(&mut self) -> Result<RunOutput, WorkloadError> {
        let s = fma_chains::<T>(black_box(self.iters));
        Ok(RunOutput {
            loss: s.to_f64(),
            ..RunOutput::default()
        })
    }
}
