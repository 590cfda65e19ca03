//! Experiment (docs/models/gdm.md, soft-sticky NASCAR): a GDM with the local posterior,
//! initialised from the clustered increments of the training data instead of at random, then
//! trained with the authors' schedule; prints the kNN state accuracy on the test sequence.
//!
//! ```text
//! F        = the top-D right singular vectors of Y (T × N, uncentred): F Fᵀ = I, Fᵀ F projects on
//!            the data's principal subspace
//! S_k      = Fᵀ for every state, so S_k F y_{t−1} ≈ y_{t−1} (a random walk)
//! b_k      = the K k-means centres c_k of the increments y_t − y_{t−1} (50 Lloyd iterations,
//!            centres started at random increments)
//! q        = the local posterior with q.W = 0, q.Wf = 0 and logits
//!            a (c_kᵀ (y_t − y_{t−1}) − ½‖c_k‖²),  a = 3 / mean_k ‖c_k‖²  (nearest-centre logits)
//! the rest = the authors' random initialisation; then `train::gdm::fit` (authors' settings, f32),
//!            soft states from 20 posterior samples, kNN (k = 10) from training to test
//! ```
//! The increments are what a per-step posterior cannot see (docs/models/gdm.md, the position
//! ceiling); the initialisation starts the emissions at the drift clusters, as the AR-HMM's
//! k-means restarts do. Not a library option yet.
//!
//! usage: `cargo run --release --example gdm_increment_init -- npz|fresh SEED [SCALE]`
//! (`npz`: the authors' soft-sticky sequences in tests/data; `fresh`: training seed SEED, test
//! seed 1000 + SEED, as `neurodyn gdm bench nascar-soft`; SCALE is `a`'s numerator, 3).
use neurodyn::metrics::knn_accuracy;
use neurodyn::models::gdm::{Gdm, GdmConfig, PosteriorKind, Sequences};
use neurodyn::train::Control;
use neurodyn::train::gdm::{GdmFitConfig, fit};
use rand::RngExt;

fn kmeans(f: &[f64], dim: usize, k: usize, seed: u64) -> Vec<Vec<f64>> {
    let n = f.len() / dim;
    let mut rng = neurodyn::rng::seeded(seed);
    let mut c: Vec<Vec<f64>> = (0..k)
        .map(|_| f[rng.random_range(0..n) * dim..][..dim].to_vec())
        .collect();
    for _ in 0..50 {
        let mut s = vec![vec![0.0; dim]; k];
        let mut cnt = vec![0usize; k];
        for i in 0..n {
            let r = &f[i * dim..(i + 1) * dim];
            let j = (0..k)
                .min_by(|&a, &b| {
                    let da: f64 = r.iter().zip(&c[a]).map(|(x, y)| (x - y).powi(2)).sum();
                    let db: f64 = r.iter().zip(&c[b]).map(|(x, y)| (x - y).powi(2)).sum();
                    da.total_cmp(&db)
                })
                .unwrap();
            cnt[j] += 1;
            for d in 0..dim {
                s[j][d] += r[d];
            }
        }
        for j in 0..k {
            if cnt[j] > 0 {
                c[j] = s[j].iter().map(|v| v / cnt[j] as f64).collect();
            }
        }
    }
    c
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args[2].parse().unwrap();
    let (ytr, ltr, yte, lte) = if args[1] == "npz" {
        let z = neurodyn::io::read_npz("tests/data/nascar/softsticky_seed0_test1.npz").unwrap();
        let g = |n: &str| z.get(n).unwrap().to_f64_vec();
        let l = |n: &str| g(n).iter().map(|v| *v as usize).collect::<Vec<_>>();
        (
            g("train_y"),
            l("train_labels"),
            g("test_y"),
            l("test_labels"),
        )
    } else {
        let (tr, te) = neurodyn::tasks::nascar::train_test(
            neurodyn::tasks::nascar::Variant::SoftSticky,
            seed,
            1000 + seed,
            1000,
            10,
        )
        .unwrap();
        (tr.y, tr.labels, te.y, te.labels)
    };
    let (t, n, k, d) = (1000, 10, 4, 2);
    let train = Sequences::new(ytr.clone(), t, n).unwrap();
    let test = Sequences::new(yte, t, n).unwrap();
    let rms = train.increment_rms();
    let gain = 1.0 / rms;
    let cfg = GdmConfig {
        posterior: PosteriorKind::Local { gain },
        ..Default::default()
    };
    let mut rng = neurodyn::rng::seeded(seed);
    let mut m = Gdm::<f64>::new(cfg, &mut rng).unwrap();
    // F: top-2 right singular vectors of Y (power iteration on YᵀY)
    let mut yty = vec![0.0; n * n];
    for r in 0..t {
        for i in 0..n {
            for j in 0..n {
                yty[i * n + j] += ytr[r * n + i] * ytr[r * n + j];
            }
        }
    }
    let mut fv: Vec<Vec<f64>> = Vec::new();
    for e in 0..d {
        let mut v: Vec<f64> = (0..n).map(|i| ((i + e * 3) as f64).sin() + 0.1).collect();
        for _ in 0..500 {
            let mut w: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| yty[i * n + j] * v[j]).sum())
                .collect();
            for p in &fv {
                let dp: f64 = w.iter().zip(p).map(|(a, b)| a * b).sum();
                for i in 0..n {
                    w[i] -= dp * p[i];
                }
            }
            let nn: f64 = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = w.iter().map(|x| x / nn).collect();
        }
        fv.push(v);
    }
    // increments and their clusters
    let mut dy = vec![0.0; (t - 1) * n];
    for r in 1..t {
        for i in 0..n {
            dy[(r - 1) * n + i] = ytr[r * n + i] - ytr[(r - 1) * n + i];
        }
    }
    let c = kmeans(&dy, n, k, seed);
    let st = m.store_mut();
    let set = |st: &mut neurodyn::tape::ParamStore<f64>, name: &str, v: &[f64]| {
        let id = st.id(name).unwrap();
        st.get_mut(id).copy_from_slice(v);
    };
    let fflat: Vec<f64> = fv.iter().flatten().copied().collect();
    set(st, "F", &fflat);
    let mut s = vec![0.0; k * n * d];
    for kk in 0..k {
        for nn in 0..n {
            for e in 0..d {
                s[(kk * n + nn) * d + e] = fv[e][nn];
            }
        }
    }
    set(st, "S", &s);
    let b: Vec<f64> = c.iter().flatten().copied().collect();
    set(st, "b", &b);
    // q: logits ∝ c_kᵀ Δy − ‖c_k‖²/2, scaled to spread `scale`
    let scale: f64 = args.get(3).map_or(3.0, |v| v.parse().unwrap());
    let cn: f64 = c.iter().flatten().map(|x| x * x).sum::<f64>() / k as f64;
    let a = scale / cn; // c·Δy ~ ‖c‖²
    let wd: Vec<f64> = c.iter().flatten().map(|x| a * x / gain).collect();
    set(st, "q.Wd", &wd);
    let qb: Vec<f64> = c
        .iter()
        .map(|ck| -0.5 * a * ck.iter().map(|x| x * x).sum::<f64>())
        .collect();
    set(st, "q.b", &qb);
    set(st, "q.W", &vec![0.0; k * n]);
    let fc = GdmFitConfig::default();
    let mut m32 = m.cast::<f32>();
    let rep = fit(&mut m32, &train.cast(), &fc, &mut rng, |_| {
        Control::Continue
    })
    .unwrap();
    let m = m32.cast::<f64>();
    let s_tr = m.soft_states(&train, 20, &mut rng).unwrap();
    let s_te = m.soft_states(&test, 20, &mut rng).unwrap();
    let acc = knn_accuracy(&s_tr, &ltr, &s_te, &lte, k, 10).unwrap();
    let mut use_ = vec![0.0; k];
    for r in 0..t {
        for j in 0..k {
            use_[j] += s_tr[r * k + j] / t as f64;
        }
    }
    println!(
        "{} seed {seed} knn {acc:.3} iters {} elbo {:.1} use {:?}",
        args[1],
        rep.iters,
        rep.elbo.last().unwrap(),
        use_.iter()
            .map(|u| (u * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
}
