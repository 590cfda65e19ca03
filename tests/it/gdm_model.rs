//! The GDM: the ELBO's gradient equals finite differences for fixed Gumbel draws (every
//! option), trials and masks, inference, training, and bad input as errors, never panics.

use neurodyn::models::gdm::{
    Emission, Gdm, GdmConfig, PosteriorKind, Sequences, Switching, gumbel_noise,
};
use neurodyn::tape::Tape;
use neurodyn::tape::check::{GradCheckOptions, gradcheck};
use neurodyn::train::Control;
use neurodyn::train::gdm::{GdmFitConfig, GdmStop, fit};

/// A smooth multichannel series (`steps × obs`).
fn series(steps: usize, obs: usize, phase: f64) -> Vec<f64> {
    (0..steps * obs)
        .map(|i| {
            let (t, n) = ((i / obs) as f64, (i % obs) as f64);
            (0.3 * t + phase + n).sin() + 0.1 * (1.7 * t * (n + 1.0)).cos()
        })
        .collect()
}

fn gumbel(rows: usize, seed: u64) -> Vec<f64> {
    let mut g = vec![0.0; rows];
    gumbel_noise(&mut neurodyn::rng::seeded(seed), &mut g);
    g
}

/// Gradient check of the negative ELBO of `cfg` on `data` with fixed noise.
fn check_elbo(cfg: GdmConfig, data: &Sequences<f64>, samples: usize, seed: u64) {
    let k = cfg.states;
    let model = Gdm::<f64>::new(cfg.clone(), &mut neurodyn::rng::seeded(seed)).unwrap();
    let prep = model.prepare(data).unwrap();
    let g = gumbel(samples * data.total_steps() * k, seed + 1);
    let report = gradcheck(
        model.store(),
        |t, s| {
            let v = model.record_from(t, s);
            model.neg_elbo(t, &v, &prep, &g, samples).loss
        },
        &GradCheckOptions::default(),
    );
    assert!(report.passed, "{cfg:?}: {report}");
    assert!(report.loss.is_finite());
}

#[test]
fn elbo_gradient_matches_finite_differences() {
    let base = GdmConfig {
        states: 3,
        obs: 4,
        proj: 2,
        ..GdmConfig::default()
    };
    let d = Sequences::new(series(9, 4, 0.0), 9, 4).unwrap();
    check_elbo(base.clone(), &d, 3, 1);
    // small temperature
    check_elbo(
        GdmConfig {
            tau: 0.3,
            ..base.clone()
        },
        &d,
        2,
        2,
    );
    // several lags and a frozen-F configuration (the gradient still exists)
    check_elbo(
        GdmConfig {
            lags: 3,
            train_f: false,
            ..base.clone()
        },
        &d,
        2,
        3,
    );
    // trials of different lengths
    let trials = Sequences::from_trials(
        &[&series(5, 4, 0.3), &series(3, 4, 1.0), &series(1, 4, 2.0)],
        4,
    )
    .unwrap();
    check_elbo(
        GdmConfig {
            lags: 2,
            ..base.clone()
        },
        &trials,
        2,
        4,
    );
    // inputs
    let with_u = Sequences::new(series(7, 4, 0.5), 7, 4)
        .unwrap()
        .with_inputs(series(7, 2, 1.5), 2)
        .unwrap();
    check_elbo(
        GdmConfig {
            inputs: 2,
            ..base.clone()
        },
        &with_u,
        2,
        5,
    );
    // Poisson counts
    let counts: Vec<f64> = (0..8 * 4).map(|i| ((i * 5) % 7) as f64).collect();
    let pc = Sequences::new(counts, 8, 4).unwrap();
    check_elbo(
        GdmConfig {
            emission: Emission::Poisson,
            ..base.clone()
        },
        &pc,
        2,
        6,
    );
    // the bidirectional GRU posterior
    check_elbo(
        GdmConfig {
            posterior: PosteriorKind::BiGru { hidden: 3 },
            ..base.clone()
        },
        &trials,
        2,
        7,
    );
    // one sample, two states, one observation channel
    let one = Sequences::new(series(6, 1, 0.0), 6, 1).unwrap();
    check_elbo(
        GdmConfig {
            states: 2,
            obs: 1,
            proj: 1,
            ..base
        },
        &one,
        1,
        8,
    );
}

/// `(ln p(z), ln p(y|z), ln q)` of a model on data with noise `g`.
fn parts(model: &Gdm<f64>, data: &Sequences<f64>, g: &[f64], m: usize) -> [f64; 4] {
    let prep = model.prepare(data).unwrap();
    let mut t = Tape::new();
    let v = model.record(&mut t);
    let p = model.neg_elbo(&mut t, &v, &prep, g, m);
    [
        t.scalar(p.log_prior),
        t.scalar(p.log_lik),
        t.scalar(p.log_q),
        t.scalar(p.entropy),
    ]
}

#[test]
fn trials_are_independent_and_padding_is_ignored() {
    let cfg = GdmConfig {
        states: 3,
        obs: 2,
        proj: 2,
        lags: 2,
        ..GdmConfig::default()
    };
    let model = Gdm::<f64>::new(cfg, &mut neurodyn::rng::seeded(0)).unwrap();
    let (a, b) = (series(6, 2, 0.0), series(4, 2, 1.0));
    let both = Sequences::from_trials(&[&a, &b], 2).unwrap();
    // one sample: noise rows for trial a then trial b
    let g = gumbel(10 * 3, 3);
    let pa = parts(
        &model,
        &Sequences::new(a.clone(), 6, 2).unwrap(),
        &g[..18],
        1,
    );
    let pb = parts(
        &model,
        &Sequences::new(b.clone(), 4, 2).unwrap(),
        &g[18..],
        1,
    );
    let pab = parts(&model, &both, &g, 1);
    for i in 0..3 {
        assert!(
            (pab[i] - pa[i] - pb[i]).abs() < 1e-10 * pab[i].abs().max(1.0),
            "term {i}: {} vs {} + {}",
            pab[i],
            pa[i],
            pb[i]
        );
    }
    // the same trials as a padded batch with a mask
    let mut y = vec![f64::NAN; 2 * 6 * 2];
    y[..12].copy_from_slice(&a);
    y[12..20].copy_from_slice(&b);
    let mut mask = vec![true; 12];
    mask[10..].fill(false);
    let padded = Sequences::from_padded(&y, &mask, 2, 6, 2).unwrap();
    assert_eq!(padded, both);
    let gap = [
        true, false, true, true, true, true, true, true, true, true, true, true,
    ];
    assert!(Sequences::from_padded(&y, &gap, 2, 6, 2).is_err());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let ok = GdmConfig::default();
    for (cfg, field) in [
        (
            GdmConfig {
                states: 1,
                ..ok.clone()
            },
            "states",
        ),
        (
            GdmConfig {
                states: 0,
                ..ok.clone()
            },
            "states",
        ),
        (
            GdmConfig {
                tau: 0.0,
                ..ok.clone()
            },
            "tau",
        ),
        (
            GdmConfig {
                tau: -0.5,
                ..ok.clone()
            },
            "tau",
        ),
        (
            GdmConfig {
                tau: f64::NAN,
                ..ok.clone()
            },
            "tau",
        ),
        (
            GdmConfig {
                obs: 0,
                ..ok.clone()
            },
            "obs",
        ),
        (
            GdmConfig {
                proj: 0,
                ..ok.clone()
            },
            "proj",
        ),
        (
            GdmConfig {
                lags: 0,
                ..ok.clone()
            },
            "lags",
        ),
        (
            GdmConfig {
                posterior: PosteriorKind::BiGru { hidden: 0 },
                ..ok.clone()
            },
            "posterior.hidden",
        ),
    ] {
        let e = Gdm::<f64>::new(cfg, &mut neurodyn::rng::seeded(0)).unwrap_err();
        assert_eq!(e.field, field, "{e}");
    }
    // data
    let e = Sequences::<f64>::new(vec![0.0, f64::NAN, 1.0, 2.0], 2, 2).unwrap_err();
    assert!(
        e.reason.contains("NaN observation at step 0, channel 1"),
        "{e}"
    );
    let e = Sequences::<f64>::new(vec![0.0, f64::INFINITY], 2, 1).unwrap_err();
    assert!(e.reason.contains("infinite"), "{e}");
    assert!(
        Sequences::<f64>::new(vec![], 0, 3)
            .unwrap_err()
            .reason
            .contains("empty")
    );
    assert!(
        Sequences::<f64>::from_trials(&[], 3)
            .unwrap_err()
            .reason
            .contains("empty")
    );
    assert!(Sequences::<f64>::new(vec![0.0; 5], 2, 3).is_err());
    assert!(
        Sequences::<f64>::new(vec![0.0; 6], 2, 3)
            .unwrap()
            .with_inputs(vec![0.0; 3], 2)
            .is_err()
    );
    let e = Sequences::<f64>::from_trials(&[&[1.0, 2.0], &[]], 2).unwrap_err();
    assert_eq!(e.field, "y[1]");
    // data that does not fit the model
    let model = Gdm::<f64>::new(ok.clone(), &mut neurodyn::rng::seeded(0)).unwrap();
    let wrong = Sequences::new(vec![0.0; 12], 4, 3).unwrap();
    let e = model.prepare(&wrong).unwrap_err();
    assert!(
        e.reason.contains("3 channels") && e.reason.contains("N = 10"),
        "{e}"
    );
    let mut rng = neurodyn::rng::seeded(0);
    assert!(model.soft_states(&wrong, 5, &mut rng).is_err());
    assert!(model.forecast(&wrong, 3, 5, &mut rng).is_err());
    let right = Sequences::new(vec![0.5; 30], 3, 10).unwrap();
    assert!(model.soft_states(&right, 0, &mut rng).is_err());
    assert!(model.forecast(&right, 0, 5, &mut rng).is_err());
    let poisson = Gdm::<f64>::new(
        GdmConfig {
            emission: Emission::Poisson,
            ..ok
        },
        &mut rng,
    )
    .unwrap();
    let e = poisson.prepare(&right).unwrap_err();
    assert!(e.reason.contains("counts"), "{e}");
    // training settings
    let mut m = model.clone();
    for bad in [
        GdmFitConfig {
            iters: 0,
            ..Default::default()
        },
        GdmFitConfig {
            samples: 0,
            ..Default::default()
        },
        GdmFitConfig {
            lr: -1.0,
            ..Default::default()
        },
        GdmFitConfig {
            clip: Some(0.0),
            ..Default::default()
        },
    ] {
        assert!(fit(&mut m, &right, &bad, &mut rng, |_| Control::Continue).is_err());
    }
    assert!(
        fit(&mut m, &wrong, &GdmFitConfig::default(), &mut rng, |_| {
            Control::Continue
        })
        .is_err()
    );
}

#[test]
fn training_raises_the_elbo_and_freezing_keeps_f() {
    let d = Sequences::new(series(60, 3, 0.0), 60, 3).unwrap();
    let cfg = GdmConfig {
        states: 2,
        obs: 3,
        proj: 2,
        train_f: false,
        ..GdmConfig::default()
    };
    let mut rng = neurodyn::rng::seeded(4);
    let mut model = Gdm::<f64>::new(cfg, &mut rng).unwrap();
    let f0 = model.store().get(model.f_id()).to_vec();
    let fc = GdmFitConfig {
        iters: 120,
        samples: 3,
        early_stop: None,
        ..Default::default()
    };
    let rep = fit(&mut model, &d, &fc, &mut rng, |_| Control::Continue).unwrap();
    assert_eq!((rep.iters, rep.stop.clone()), (120, GdmStop::Completed));
    let first: f64 = rep.elbo[..10].iter().sum::<f64>() / 10.0;
    let last: f64 = rep.elbo[110..].iter().sum::<f64>() / 10.0;
    assert!(last > first + 10.0, "ELBO {first} → {last}");
    assert_eq!(
        model.store().get(model.f_id()),
        f0.as_slice(),
        "F is frozen"
    );
    // the observer can stop a run; early stopping ends a run that no longer improves
    let rep = fit(&mut model, &d, &fc, &mut rng, |r| {
        if r.iter == 5 {
            Control::Stop
        } else {
            Control::Continue
        }
    })
    .unwrap();
    assert_eq!((rep.iters, rep.stop), (5, GdmStop::Interrupted));
    let still = GdmFitConfig {
        iters: 400,
        samples: 3,
        lr: 1e-9,
        ..Default::default()
    };
    let rep = fit(&mut model, &d, &still, &mut rng, |_| Control::Continue).unwrap();
    assert_eq!(rep.stop, GdmStop::EarlyStopped);
    assert!(rep.iters > 100 && rep.iters < 400, "{}", rep.iters);
    // f32 and f64 training from the same start agree closely over a few steps
    let cfg = GdmConfig {
        states: 2,
        obs: 3,
        proj: 2,
        ..GdmConfig::default()
    };
    let m64 = Gdm::<f64>::new(cfg, &mut neurodyn::rng::seeded(1)).unwrap();
    let mut a = m64.clone();
    let mut b = m64.cast::<f32>();
    let few = GdmFitConfig {
        iters: 5,
        samples: 2,
        early_stop: None,
        ..Default::default()
    };
    let ra = fit(&mut a, &d, &few, &mut neurodyn::rng::seeded(2), |_| {
        Control::Continue
    })
    .unwrap();
    let rb = fit(
        &mut b,
        &d.cast(),
        &few,
        &mut neurodyn::rng::seeded(2),
        |_| Control::Continue,
    )
    .unwrap();
    for (x, y) in ra.elbo.iter().zip(&rb.elbo) {
        assert!((x - y).abs() < 1e-3 * x.abs().max(1.0), "{x} vs {y}");
    }
}

#[test]
fn inference_shapes_and_simplex() {
    let d = Sequences::from_trials(&[&series(12, 3, 0.0), &series(7, 3, 1.0)], 3).unwrap();
    for switching in [Switching::Soft, Switching::Hard] {
        let cfg = GdmConfig {
            states: 3,
            obs: 3,
            proj: 2,
            lags: 2,
            switching,
            ..GdmConfig::default()
        };
        let mut rng = neurodyn::rng::seeded(0);
        let model = Gdm::<f64>::new(cfg, &mut rng).unwrap();
        let z = model.soft_states(&d, 7, &mut rng).unwrap();
        assert_eq!(z.len(), 19 * 3);
        for r in z.chunks_exact(3) {
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            if switching == Switching::Hard {
                // fractions of 7 one-hot samples
                assert!(r.iter().all(|v| ((v * 7.0).round() - v * 7.0).abs() < 1e-9));
            }
        }
        let y = model.reconstruct(&d, 4, &mut rng).unwrap();
        assert_eq!(y.len(), 19 * 3);
        assert!(y.iter().all(|v| v.is_finite()));
        let f = model.forecast(&d, 4, 3, &mut rng).unwrap();
        for k in 1..=4 {
            let (p, ok) = f.horizon(k);
            assert_eq!((p.len(), ok.len()), (19 * 3, 19));
            // valid targets: step ≥ k + L − 1 inside each trial
            let want = (12 - (k + 1)) + (7 - (k + 1));
            assert_eq!(ok.iter().filter(|&&b| b).count(), want, "k = {k}");
            assert!(!ok[0] && !ok[12], "no forecast of a trial's first step");
        }
    }
}

#[test]
fn reference_case_loss_from_the_library() {
    // the case in tests/data/cases, evaluated through the library API
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases/gdm_neg_elbo.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let exp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_extension("expected.json")).unwrap(),
    )
    .unwrap();
    fn flat(v: &serde_json::Value, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
            x => out.push(x.as_f64().unwrap()),
        }
    }
    let m = &v["model"];
    let cfg = GdmConfig {
        states: m["states"].as_u64().unwrap() as usize,
        obs: m["obs"].as_u64().unwrap() as usize,
        proj: m["proj"].as_u64().unwrap() as usize,
        tau: m["tau"].as_f64().unwrap(),
        ..GdmConfig::default()
    };
    let params: Vec<(String, Vec<f64>)> = v["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, x)| {
            let mut o = Vec::new();
            flat(x, &mut o);
            (k.clone(), o)
        })
        .collect();
    let model = Gdm::from_params(cfg.clone(), &params).unwrap();
    let (mut y, mut g) = (Vec::new(), Vec::new());
    flat(&v["data"]["y"], &mut y);
    flat(&v["data"]["gumbel"], &mut g);
    let t = y.len() / cfg.obs;
    let m_samples = g.len() / (t * cfg.states);
    let data = Sequences::new(y, t, cfg.obs).unwrap();
    let prep = model.prepare(&data).unwrap();
    let mut tape = Tape::new();
    let vars = model.record(&mut tape);
    let p = model.neg_elbo(&mut tape, &vars, &prep, &g, m_samples);
    let want = exp["loss"].as_f64().unwrap();
    assert!((tape.scalar(p.loss) - want).abs() < 1e-9 * want.abs());
    // a missing or misshapen parameter is named
    let e = Gdm::from_params(cfg.clone(), &params[1..]).unwrap_err();
    assert!(e.field.starts_with("params."), "{e}");
    let mut bad = params.clone();
    bad[0].1.push(0.0);
    let e = Gdm::from_params(cfg, &bad).unwrap_err();
    assert_eq!(e.field, format!("params.{}", bad[0].0));
}
