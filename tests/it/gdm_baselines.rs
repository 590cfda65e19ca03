//! The GDM's data generators, metrics and AR-HMM baseline against brute force and references.

use neurodyn::baselines::arhmm::{ArHmm, ArHmmConfig};
use neurodyn::baselines::hmm::{forward_backward, viterbi};
use neurodyn::metrics::{hungarian, knn_accuracy, knn_predict, matched_accuracy, r2_score};
use neurodyn::models::gdm::Sequences;
use neurodyn::tasks::lorenz::{LorenzConfig, generate as lorenz};
use neurodyn::tasks::nascar::{Variant, generate, train_test};
use rand::RngExt;

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

#[test]
fn hungarian_matches_brute_force() {
    let mut rng = neurodyn::rng::seeded(0);
    for n in 1..=6 {
        for m in n..=n + 2 {
            let cost: Vec<f64> = (0..n * m)
                .map(|_| rng.random::<f64>() * 10.0 - 3.0)
                .collect();
            let a = hungarian(&cost, n, m);
            let got: f64 = (0..n).map(|i| cost[i * m + a[i]]).sum();
            let mut seen = a.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), n, "distinct columns");
            // brute force over injective maps (permutations of m, first n entries)
            let best = permutations(m)
                .iter()
                .map(|p| (0..n).map(|i| cost[i * m + p[i]]).sum::<f64>())
                .fold(f64::INFINITY, f64::min);
            assert!((got - best).abs() < 1e-9, "{n}×{m}: {got} vs {best}");
            // more rows than columns: the transpose, extra rows unassigned
            let t: Vec<f64> = (0..m * n).map(|q| cost[(q % n) * m + q / n]).collect();
            let b = hungarian(&t, m, n);
            let got_t: f64 = (0..m)
                .filter(|&i| b[i] != usize::MAX)
                .map(|i| t[i * n + b[i]])
                .sum();
            assert!((got_t - best).abs() < 1e-9, "{m}×{n}");
            assert_eq!(b.iter().filter(|&&j| j == usize::MAX).count(), m - n);
        }
    }
}

#[test]
fn state_metrics() {
    // matched accuracy is invariant to renaming states
    let truth = [0, 0, 1, 1, 2, 2, 2, 1];
    let renamed: Vec<usize> = truth.iter().map(|&l| [2, 0, 1][l]).collect();
    assert_eq!(matched_accuracy(&renamed, &truth).unwrap(), 1.0);
    // more predicted states than labels: the extra state counts as wrong
    let acc = matched_accuracy(&[0, 0, 1, 1, 3, 3, 2, 1], &truth).unwrap();
    assert!((acc - 7.0 / 8.0).abs() < 1e-12, "{acc}");
    assert!(matched_accuracy(&[], &[]).is_err());
    assert!(matched_accuracy(&[0], &[0, 1]).is_err());
    // kNN: majority of the 3 nearest; a 2–1 vote wins; ties go to the smaller label
    let train = [0.0, 0.1, 0.2, 1.0, 1.1, 1.2];
    let labels = [0, 0, 1, 1, 1, 0];
    assert_eq!(
        knn_predict(&train, &labels, &[0.05, 1.05], 1, 3).unwrap(),
        vec![0, 1]
    );
    assert_eq!(knn_predict(&train, &labels, &[0.6], 1, 6).unwrap(), vec![0]);
    assert_eq!(
        knn_accuracy(&train, &labels, &[0.05, 1.05], &[0, 0], 1, 3).unwrap(),
        0.5
    );
    assert!(knn_accuracy(&train, &labels, &[f64::NAN], &[0], 1, 3).is_err());
    assert!(knn_accuracy(&train, &labels, &[0.1], &[0], 1, 0).is_err());
    assert!(knn_accuracy(&[], &[], &[0.1], &[0], 1, 3).is_err());
    // R²: mean over units; 1 for a perfect fit, 0 for the mean
    let y = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0];
    assert!((r2_score(&y, &y, 2, None).unwrap() - 1.0).abs() < 1e-9);
    let mean = [2.0, 20.0, 2.0, 20.0, 2.0, 20.0];
    assert!(r2_score(&y, &mean, 2, None).unwrap().abs() < 1e-8);
    let used = [true, false, true];
    let r = r2_score(&y, &[1.0, 10.0, 0.0, 0.0, 3.0, 30.0], 2, Some(&used)).unwrap();
    assert!((r - 1.0).abs() < 1e-9);
    assert!(r2_score(&y, &y[..4], 2, None).is_err());
    assert!(r2_score(&y, &y, 2, Some(&[false; 3])).is_err());
}

/// `p(y)`, the marginals and the pairwise sums by enumerating every state path.
fn enumerate(pi: &[f64], p: &[f64], ll: &[f64], k: usize) -> (f64, Vec<f64>, Vec<f64>, Vec<usize>) {
    let t = ll.len() / k;
    let paths: Vec<Vec<usize>> = (0..k.pow(t as u32))
        .map(|code| (0..t).map(|s| (code / k.pow(s as u32)) % k).collect())
        .collect();
    let lws: Vec<f64> = paths
        .iter()
        .map(|path| {
            let mut lw = pi[path[0]].ln() + ll[path[0]];
            for s in 1..t {
                lw += p[path[s - 1] * k + path[s]].ln() + ll[s * k + path[s]];
            }
            lw
        })
        .collect();
    let shift = lws.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    let mut marg = vec![0.0; t * k];
    let mut pair = vec![0.0; k * k];
    let (mut best, mut best_path) = (f64::NEG_INFINITY, vec![]);
    for (path, &lw) in paths.iter().zip(&lws) {
        let w = (lw - shift).exp();
        total += w;
        for s in 0..t {
            marg[s * k + path[s]] += w;
        }
        for s in 1..t {
            pair[path[s - 1] * k + path[s]] += w;
        }
        if lw > best {
            best = lw;
            best_path = path.clone();
        }
    }
    marg.iter_mut().for_each(|v| *v /= total);
    pair.iter_mut().for_each(|v| *v /= total);
    (total.ln() + shift, marg, pair, best_path)
}

#[test]
fn forward_backward_and_viterbi_match_enumeration() {
    let mut rng = neurodyn::rng::seeded(2);
    for (k, t) in [(2, 5), (3, 4), (3, 6)] {
        let mut pi: Vec<f64> = (0..k).map(|_| rng.random::<f64>() + 0.1).collect();
        let s: f64 = pi.iter().sum();
        pi.iter_mut().for_each(|v| *v /= s);
        let mut p: Vec<f64> = (0..k * k).map(|_| rng.random::<f64>() + 0.05).collect();
        for i in 0..k {
            let s: f64 = p[i * k..(i + 1) * k].iter().sum();
            p[i * k..(i + 1) * k].iter_mut().for_each(|v| *v /= s);
        }
        // log-likelihoods far from 0, to exercise the shifts
        let ll: Vec<f64> = (0..t * k)
            .map(|_| -300.0 + 5.0 * rng.random::<f64>())
            .collect();
        let fb = forward_backward(&pi, &p, &ll);
        let (lz, marg, pair, path) = enumerate(&pi, &p, &ll, k);
        assert!(
            (fb.log_likelihood - lz).abs() < 1e-9 * lz.abs(),
            "{} vs {lz}",
            fb.log_likelihood
        );
        for (a, b) in fb.gamma.iter().zip(&marg) {
            assert!((a - b).abs() < 1e-10);
        }
        for (a, b) in fb.xi_sum.iter().zip(&pair) {
            assert!((a - b).abs() < 1e-10);
        }
        assert_eq!(viterbi(&pi, &p, &ll), path);
    }
}

#[test]
fn arhmm_recovers_a_two_regime_switching_process() {
    // two AR(1) regimes in 2-D, switching every 60 steps, 3 trials
    let mut rng = neurodyn::rng::seeded(7);
    let a = [[0.95, 0.2, -0.2, 0.95], [0.5, -0.6, 0.6, 0.5]];
    let mut trials = Vec::new();
    let mut truth = Vec::new();
    for _ in 0..3 {
        let mut y = vec![1.0, 0.0];
        let mut lab = vec![0];
        for t in 1..240 {
            let s = (t / 60) % 2;
            let (p0, p1) = (y[(t - 1) * 2], y[(t - 1) * 2 + 1]);
            let n: f64 = rng.random::<f64>() - 0.5;
            y.push(a[s][0] * p0 + a[s][1] * p1 + 0.05 * n);
            y.push(
                a[s][2] * p0 + a[s][3] * p1 + 0.05 * (rng.random::<f64>() - 0.5) + 0.3 * s as f64,
            );
            lab.push(s);
        }
        truth.extend(lab);
        trials.push(y);
    }
    let refs: Vec<&[f64]> = trials.iter().map(|v| v.as_slice()).collect();
    let data = Sequences::from_trials(&refs, 2).unwrap();
    let cfg = ArHmmConfig {
        states: 2,
        restarts: 3,
        iters: 50,
        ..Default::default()
    };
    let (model, rep) = ArHmm::fit(&cfg, &data, &mut neurodyn::rng::seeded(1)).unwrap();
    assert!(rep.log_likelihood.is_finite());
    assert_eq!(rep.restarts.len(), 3);
    assert!(rep.restarts.iter().all(|l| *l <= rep.log_likelihood + 1e-9));
    let path = model.viterbi(&data);
    let acc = matched_accuracy(&path, &truth).unwrap();
    assert!(acc > 0.95, "Viterbi accuracy {acc}");
    let post = model.posterior(&data);
    let hard = neurodyn::metrics::argmax_rows(&post, 2);
    assert!(matched_accuracy(&hard, &truth).unwrap() > 0.95);
    assert!(
        (model.log_likelihood(&data) - rep.log_likelihood).abs() < 1e-6 * rep.log_likelihood.abs()
    );
    assert!(model.reconstruction_r2(&data) > 0.9);
    let f = model.forecast_r2(&data, 3);
    assert_eq!(f.len(), 3);
    assert!(f[0] > f[2] && f[0] > 0.8, "{f:?}");
    // bad settings
    for bad in [
        ArHmmConfig {
            states: 0,
            ..Default::default()
        },
        ArHmmConfig {
            restarts: 0,
            ..Default::default()
        },
        ArHmmConfig {
            cov_floor: 0.0,
            ..Default::default()
        },
    ] {
        assert!(ArHmm::fit(&bad, &data, &mut neurodyn::rng::seeded(0)).is_err());
    }
    let tiny = Sequences::new(vec![0.0; 6], 3, 2).unwrap();
    assert!(
        ArHmm::fit(
            &ArHmmConfig::default(),
            &tiny,
            &mut neurodyn::rng::seeded(0)
        )
        .is_err()
    );
}

/// `(counts, switches, mean max z)` of labelled soft states.
fn stats(z: &[f64], labels: &[usize]) -> ([usize; 4], usize, f64) {
    let mut c = [0; 4];
    labels.iter().for_each(|&l| c[l] += 1);
    let sw = labels.windows(2).filter(|w| w[0] != w[1]).count();
    let mm = z
        .chunks_exact(4)
        .map(|r| r.iter().copied().fold(0.0, f64::max))
        .sum::<f64>()
        / labels.len() as f64;
    (c, sw, mm)
}

#[test]
fn nascar_generator_has_the_reference_statistics() {
    // the reference files (reference/nascar.py, numpy's generator) against ours over seeds
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nascar");
    for (file, variant) in [
        ("standard_seed0_test1.npz", Variant::Standard),
        ("softsticky_seed0_test1.npz", Variant::SoftSticky),
    ] {
        let npz = neurodyn::io::read_npz(dir.join(file)).unwrap();
        let z = npz.get("train_z").unwrap().to_f64_vec();
        let l: Vec<usize> = npz
            .get("train_labels")
            .unwrap()
            .to_i64_vec()
            .unwrap()
            .iter()
            .map(|&v| v as usize)
            .collect();
        let (rc, rsw, rmm) = stats(&z, &l);
        let ours: Vec<_> = (0..6u64)
            .map(|s| {
                let d = generate(variant, 1000, 10, None, &mut neurodyn::rng::seeded(s)).unwrap();
                assert_eq!((d.y.len(), d.x.len(), d.c.len()), (10_000, 2000, 20));
                stats(&d.z, &d.labels)
            })
            .collect();
        let msw = ours.iter().map(|o| o.1 as f64).sum::<f64>() / 6.0;
        let mmm = ours.iter().map(|o| o.2).sum::<f64>() / 6.0;
        match variant {
            Variant::Standard => {
                // deterministic laps: nearly the same counts and switch count every seed
                assert!((msw - rsw as f64).abs() <= 3.0, "switches {msw} vs {rsw}");
                for o in &ours {
                    for k in 0..4 {
                        assert!(
                            (o.0[k] as f64 - rc[k] as f64).abs() <= 15.0,
                            "{:?} vs {rc:?}",
                            o.0
                        );
                    }
                }
                assert!(mmm > 0.99 && rmm > 0.99);
            }
            Variant::SoftSticky => {
                assert!(
                    (msw - rsw as f64).abs() < 0.2 * rsw as f64,
                    "switches {msw} vs {rsw}"
                );
                assert!((mmm - rmm).abs() < 0.05, "mean max z {mmm} vs {rmm}");
            }
        }
    }
    // the test sequence uses another seed and the training C
    let (tr, te) = train_test(Variant::SoftSticky, 4, 5, 300, 10).unwrap();
    assert_eq!(tr.c, te.c);
    assert_ne!(tr.labels, te.labels);
    assert!(train_test(Variant::Standard, 2, 2, 300, 10).is_err());
    assert!(
        generate(
            Variant::Standard,
            0,
            10,
            None,
            &mut neurodyn::rng::seeded(0)
        )
        .is_err()
    );
    assert!(
        generate(
            Variant::Standard,
            10,
            10,
            Some(&[1.0; 3]),
            &mut neurodyn::rng::seeded(0)
        )
        .is_err()
    );
}

#[test]
fn lorenz_generator_visits_both_lobes() {
    let d = lorenz(&LorenzConfig::default(), &mut neurodyn::rng::seeded(3)).unwrap();
    assert_eq!((d.x.len(), d.y.len(), d.labels.len()), (3000, 10_000, 1000));
    let right = d.labels.iter().filter(|&&l| l == 1).count();
    assert!(right > 200 && right < 800, "{right}");
    let switches = d.labels.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches >= 4, "{switches}");
    assert!(d.y.iter().all(|v| v.is_finite() && v.abs() < 20.0));
    for bad in [
        LorenzConfig {
            steps: 0,
            ..Default::default()
        },
        LorenzConfig {
            dt: 0.0,
            ..Default::default()
        },
        LorenzConfig {
            noise: -1.0,
            ..Default::default()
        },
    ] {
        assert!(lorenz(&bad, &mut neurodyn::rng::seeded(0)).is_err());
    }
}
