//! A warmed-up forward + backward step of a small MLP allocates nothing, and a warmed-up gnODE
//! gradient through the solver allocates the same whatever the number of steps (no allocation
//! per solver step).
//!
//! The counting allocator counts every thread, so this binary has no test harness
//! (`harness = false` in Cargo.toml): libtest's main thread allocates when it reports a finished
//! test, which landed inside the other test's counting window once (CI, 29 against 22). Here the
//! checks run one after the other on the main thread and nothing else runs beside them.

use neurodyn::tape::{ParamStore, Tape};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn mlp_step<T: neurodyn::Float>(
    tape: &mut Tape<T>,
    store: &ParamStore<T>,
    ids: &[neurodyn::tape::ParamId],
    grads: &mut neurodyn::tape::Grads<T>,
    x: &[T],
    y: &[T],
) -> T {
    tape.clear();
    let xv = tape.constant(32, 8, x);
    let yv = tape.constant(32, 3, y);
    let (w0, b0, w1, b1, w2, b2) = (
        tape.param(store, ids[0]),
        tape.param(store, ids[1]),
        tape.param(store, ids[2]),
        tape.param(store, ids[3]),
        tape.param(store, ids[4]),
        tape.param(store, ids[5]),
    );
    let h = tape.linear(xv, w0, Some(b0));
    let h = tape.tanh(h);
    let h = tape.linear(h, w1, Some(b1));
    let h = tape.silu(h);
    let out = tape.linear(h, w2, Some(b2));
    let d = tape.sub(out, yv);
    let sq = tape.square(d);
    let loss = tape.mean(sq);
    tape.backward(loss);
    grads.zero();
    tape.accumulate_param_grads(grads);
    tape.scalar(loss)
}

fn warm_mlp_step_allocates_nothing() {
    for_type::<f32>();
    for_type::<f64>();
}

fn for_type<T: neurodyn::Float>() {
    let mut store = ParamStore::<T>::new();
    let mut r = 0.1;
    let mut vals = |n: usize| -> Vec<T> {
        (0..n)
            .map(|_| {
                r = (r * 3.7 + 0.13) % 1.0;
                T::from_f64(r - 0.5)
            })
            .collect()
    };
    let ids = vec![
        store.add("w0", 64, 8, &vals(512)).unwrap(),
        store.add("b0", 1, 64, &vals(64)).unwrap(),
        store.add("w1", 64, 64, &vals(4096)).unwrap(),
        store.add("b1", 1, 64, &vals(64)).unwrap(),
        store.add("w2", 3, 64, &vals(192)).unwrap(),
        store.add("b2", 1, 3, &vals(3)).unwrap(),
    ];
    let x = vals(256);
    let y = vals(96);
    let mut tape = Tape::new();
    let mut grads = store.zeros_like();
    let warm = mlp_step(&mut tape, &store, &ids, &mut grads, &x, &y);
    mlp_step(&mut tape, &store, &ids, &mut grads, &x, &y);
    let before = ALLOCS.load(Ordering::SeqCst);
    let again = mlp_step(&mut tape, &store, &ids, &mut grads, &x, &y);
    let after = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(warm, again, "same inputs, same loss");
    assert!(grads.all_finite() && grads.norm() > T::ZERO);
    assert_eq!(
        after - before,
        0,
        "a warm step made {} allocations",
        after - before
    );
}

/// Allocations of the third run of a gnODE loss + gradient with `steps` RK4 steps.
fn allocations_of_warm_gradient(steps: usize, mode: neurodyn::solve::GradMode) -> usize {
    use neurodyn::workloads::Workload;
    use neurodyn::workloads::gnode::{GnodeGrad, GnodeGradSpec};
    let spec = GnodeGradSpec {
        n: 8,
        batch: 4,
        steps,
        mode,
        ..Default::default()
    };
    let mut w = GnodeGrad::<f64>::new(&spec).unwrap();
    w.run().unwrap();
    w.run().unwrap();
    let before = ALLOCS.load(Ordering::SeqCst);
    let out = w.run().unwrap();
    let after = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(out.steps, steps);
    after - before
}

fn warm_solver_gradient_allocates_nothing_per_step() {
    use neurodyn::solve::GradMode;
    // backprop: the tape keeps its capacity, so a longer solve allocates no more
    let (short, long) = (
        allocations_of_warm_gradient(100, GradMode::Backprop),
        allocations_of_warm_gradient(800, GradMode::Backprop),
    );
    assert_eq!(
        short, long,
        "backprop: {short} allocations for 100 steps, {long} for 800"
    );
    // checkpointed: a few allocations per checkpoint segment (O(√steps) of them: 10 → 28
    // segments here), never one per step (which would add at least 700)
    let (short, long) = (
        allocations_of_warm_gradient(100, GradMode::Checkpointed),
        allocations_of_warm_gradient(800, GradMode::Checkpointed),
    );
    assert!(
        long < short + 350,
        "checkpointed: {short} allocations for 100 steps, {long} for 800"
    );
}

fn main() {
    let checks: [(&str, fn()); 2] = [
        (
            "warm_mlp_step_allocates_nothing",
            warm_mlp_step_allocates_nothing,
        ),
        (
            "warm_solver_gradient_allocates_nothing_per_step",
            warm_solver_gradient_allocates_nothing_per_step,
        ),
    ];
    println!("\nrunning {} allocation checks", checks.len());
    for (name, check) in checks {
        // a failed assertion panics, and the panic ends the process with a failure code
        check();
        println!("check {name} ... ok");
    }
}
