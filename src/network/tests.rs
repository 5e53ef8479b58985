use super::*;
use crate::activations::Activation;
use crate::layers::LayerSpec;
use crate::metrics::ErrorMetric;
use crate::normalizers::NormalizerKind;
use crate::optimizers::{Rule, DEFAULT_EPSILON};
use crate::regularizers::Regularizer;
use crate::targets::Targets;
use ndarray::{array, Array2};
use std::ops::ControlFlow;

fn config(output: Activation, cost: Cost, rule: Rule, learning_rate: f64) -> NetworkConfig {
    NetworkConfig {
        input_nodes: 3,
        hidden: vec![LayerSpec::Dense {
            nodes: 4,
            activation: Activation::Tanh,
            regularizer: Some(Regularizer::ElasticNet {
                l1_penalty: 1e-3,
                l2_penalty: 1e-3,
            }),
        }],
        output: LayerSpec::Dense {
            nodes: 2,
            activation: output,
            regularizer: Some(Regularizer::L2Norm { penalty: 1e-2 }),
        },
        cost,
        optimizer: Optimizer::new(rule, learning_rate, DEFAULT_EPSILON).unwrap(),
        initializer: Initializer::GlorotUniform,
        seed: 3,
    }
}

fn data() -> (Array2<f64>, Array2<f64>) {
    let inputs = array![
        [0.5, -1.0, 2.0],
        [1.5, 0.3, -0.7],
        [-0.2, 0.8, 0.1],
        [1.0, 1.0, 1.0],
        [-1.3, 0.2, 0.9]
    ];
    let targets = array![[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
    (inputs, targets)
}

fn options(epochs: usize, mini_batch_size: usize) -> TrainOptions<'static> {
    TrainOptions {
        epochs,
        mini_batch_size,
        normalizer: None,
        metric: None,
        validation: None,
        early_stopping: None,
        shuffle: true,
        sample_weight: None,
        validation_weight: None,
    }
}

fn no_observer(_: Event) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

#[test]
fn whole_network_gradient_matches_central_differences() {
    for (activation, cost) in [
        (Activation::Softmax, Cost::CrossEntropy),
        (Activation::Sigmoid, Cost::MeanSquaredError),
        (Activation::Linear, Cost::LogCosh),
        (Activation::Softmax, Cost::Huber { threshold: 0.3 }),
    ] {
        let network: Network<f64> =
            Network::new(&config(activation.clone(), cost.clone(), Rule::GradientDescent, 0.1)).unwrap();
        let (inputs, targets) = data();
        let gradients = network
            .compute_gradients(inputs.view(), Targets::Rows(targets.view()), None)
            .unwrap();
        let h = 1e-6;
        for (l, (grad_weights, _)) in gradients.iter().enumerate() {
            for ((i, j), &analytic) in grad_weights.indexed_iter() {
                let cost_at = |delta: f64| {
                    let mut perturbed = network.clone();
                    perturbed.dense_layers_mut().nth(l).unwrap().weights[[i, j]] += delta;
                    perturbed
                        .compute_cost(inputs.view(), Targets::Rows(targets.view()), None)
                        .unwrap()
                };
                let numeric = (cost_at(h) - cost_at(-h)) / (2.0 * h);
                let scale = analytic.abs().max(numeric.abs()).max(1e-6);
                assert!(
                    (analytic - numeric).abs() / scale < 1e-6,
                    "{activation:?}/{cost:?} layer {l} ({i},{j}): {analytic} vs {numeric}"
                );
            }
        }
    }
}

#[test]
fn training_lowers_the_cost_and_handles_a_partial_last_batch() {
    let rule = Rule::Adam {
        decay_rate1: 0.9,
        decay_rate2: 0.999,
    };
    let mut network: Network<f64> = Network::new(&config(Activation::Softmax, Cost::CrossEntropy, rule, 0.05)).unwrap();
    let (inputs, targets) = data();
    let before = network
        .compute_cost(inputs.view(), Targets::Rows(targets.view()), None)
        .unwrap();
    let mut batches_seen = Vec::new();
    let report = network
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(50, 2),
            &mut |event| {
                if let Event::Batch { epoch: 1, batch, .. } = event {
                    batches_seen.push(batch);
                }
                ControlFlow::Continue(())
            },
        )
        .unwrap();
    assert_eq!(batches_seen, vec![1, 2, 3], "5 examples in batches of 2");
    assert_eq!(report.history.len(), 50);
    assert_eq!(network.step, 150);
    let after = network
        .compute_cost(inputs.view(), Targets::Rows(targets.view()), None)
        .unwrap();
    assert!(after < 0.5 * before, "cost {before} -> {after}");
}

#[test]
fn batch_of_one_and_batch_larger_than_the_data_both_work() {
    let (inputs, targets) = data();
    for batch in [1, 100] {
        let mut network: Network<f64> = Network::new(&config(
            Activation::Linear,
            Cost::MeanSquaredError,
            Rule::GradientDescent,
            0.01,
        ))
        .unwrap();
        let report = network
            .train(
                inputs.view(),
                Targets::Rows(targets.view()),
                &options(2, batch),
                &mut no_observer,
            )
            .unwrap();
        assert_eq!(report.history.len(), 2);
        assert_eq!(network.step, if batch == 1 { 10 } else { 2 });
    }
}

#[test]
fn one_seed_gives_bit_identical_training() {
    let (inputs, targets) = data();
    let run = |seed| {
        let mut cfg = config(
            Activation::Softmax,
            Cost::CrossEntropy,
            Rule::Momentum { decay_rate: 0.9 },
            0.1,
        );
        cfg.seed = seed;
        let mut network: Network<f64> = Network::new(&cfg).unwrap();
        network
            .train(
                inputs.view(),
                Targets::Rows(targets.view()),
                &options(3, 2),
                &mut no_observer,
            )
            .unwrap();
        network.parameters()
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}

#[test]
fn a_normalizer_is_applied_to_every_batch() {
    let (inputs, _) = data();
    let mut normalizer = Normalizer::new(NormalizerKind::ZScore);
    normalizer.fit(inputs.view(), None).unwrap();
    let network: Network<f64> = Network::new(&config(
        Activation::Linear,
        Cost::MeanSquaredError,
        Rule::GradientDescent,
        0.1,
    ))
    .unwrap();
    let normalized = normalizer.transform(inputs.view()).unwrap();
    let direct = network.predict(normalized.view(), None).unwrap();
    let through = network.predict(inputs.view(), Some(&normalizer)).unwrap();
    assert_eq!(direct, through);
}

#[test]
fn prediction_in_chunks_equals_one_pass() {
    let network: Network<f64> = Network::new(&config(
        Activation::Softmax,
        Cost::CrossEntropy,
        Rule::GradientDescent,
        0.1,
    ))
    .unwrap();
    let rows = CHUNK_ROWS * 2 + 17;
    let inputs = Array2::from_shape_fn((rows, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
    let predictions = network.predict(inputs.view(), None).unwrap();
    let last = network.predict(inputs.slice(s![rows - 1.., ..]), None).unwrap();
    assert_eq!(predictions.row(rows - 1), last.row(0));
}

#[test]
fn divergence_is_reported_before_the_bad_update() {
    let (inputs, targets) = data();
    let mut network: Network<f64> = Network::new(&config(
        Activation::Linear,
        Cost::MeanSquaredError,
        Rule::GradientDescent,
        1e200,
    ))
    .unwrap();
    let report = network
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(10, 5),
            &mut no_observer,
        )
        .unwrap();
    assert!(
        matches!(report.error, Some(Error::Diverged { .. })),
        "{:?}",
        report.error
    );
    assert!(report.history.len() < 10);
    for (weights, biases) in network.parameters() {
        assert!(weights.iter().chain(biases.iter()).all(|v| v.is_finite()));
    }
}

#[test]
fn an_observer_can_stop_training_after_a_batch() {
    let (inputs, targets) = data();
    let mut network: Network<f64> = Network::new(&config(
        Activation::Linear,
        Cost::MeanSquaredError,
        Rule::GradientDescent,
        0.01,
    ))
    .unwrap();
    let report = network
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(10, 1),
            &mut |event| match event {
                Event::Batch { batch: 2, .. } => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            },
        )
        .unwrap();
    assert!(report.interrupted);
    assert_eq!(network.step, 2);
}

#[test]
fn bad_examples_are_rejected_with_the_argument_named() {
    let network: Network<f64> = Network::new(&config(
        Activation::Softmax,
        Cost::CrossEntropy,
        Rule::GradientDescent,
        0.1,
    ))
    .unwrap();
    let (inputs, targets) = data();
    let message = |r: Result<()>| r.unwrap_err().to_string();
    let check =
        |x: ArrayView2<f64>, t: ArrayView2<f64>| network.check_examples(x, Targets::Rows(t), "inputs", "targets", None);
    assert!(message(check(inputs.slice(s![..0, ..]), targets.view())).starts_with("inputs"));
    assert!(message(check(inputs.view(), targets.slice(s![..2, ..]))).starts_with("targets"));
    assert!(message(check(inputs.slice(s![.., ..2]), targets.view())).contains("3 features"));
    let mut nan = inputs.clone();
    nan[[1, 1]] = f64::NAN;
    assert!(message(check(nan.view(), targets.view())).contains("NaN"));
    let soft = targets.mapv(|t| t * 0.5);
    assert!(message(check(inputs.view(), soft.view())).contains("one-hot"));
    assert!(check_counts(0, 1).is_err());
    assert!(check_counts(1, -3).is_err());
}

#[test]
fn set_parameters_checks_shapes_and_changes_nothing_on_error() {
    let mut network: Network<f64> = Network::new(&config(
        Activation::Linear,
        Cost::MeanSquaredError,
        Rule::GradientDescent,
        0.1,
    ))
    .unwrap();
    let before = network.parameters();
    let wrong_w = Array2::zeros((4, 2));
    let b = Array1::zeros(4);
    let (w_out, b_out) = (&before[1].0, &before[1].1);
    let error = network
        .set_parameters(vec![(wrong_w.view(), b.view()), (w_out.view(), b_out.view())])
        .unwrap_err();
    assert!(error.to_string().starts_with("weights"), "{error}");
    assert_eq!(network.parameters(), before);
    let good_w = Array2::ones((4, 3));
    network
        .set_parameters(vec![(good_w.view(), b.view()), (w_out.view(), b_out.view())])
        .unwrap();
    assert_eq!(network.parameters()[0].0, good_w);
}

#[test]
fn float32_training_tracks_float64() {
    let (inputs, targets) = data();
    let cfg = config(Activation::Softmax, Cost::CrossEntropy, Rule::GradientDescent, 0.1);
    let mut single: Network<f32> = Network::new(&cfg).unwrap();
    let mut double: Network<f64> = Network::new(&cfg).unwrap();
    single
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(5, 2),
            &mut no_observer,
        )
        .unwrap();
    double
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(5, 2),
            &mut no_observer,
        )
        .unwrap();
    for ((ws, _), (wd, _)) in single.parameters().iter().zip(double.parameters().iter()) {
        for (&a, &b) in ws.iter().zip(wd.iter()) {
            assert!((f64::from(a) - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}

#[test]
fn history_records_cost_and_metric_before_each_update() {
    let (inputs, targets) = data();
    let mut network: Network<f64> = Network::new(&config(
        Activation::Softmax,
        Cost::CrossEntropy,
        Rule::GradientDescent,
        0.5,
    ))
    .unwrap();
    let metric = ErrorMetric::PercentCorrect;
    let expected_cost = network
        .compute_cost(inputs.view(), Targets::Rows(targets.view()), None)
        .unwrap();
    let predictions = network.predict(inputs.view(), None).unwrap();
    let expected_metric = metric.compute(predictions.view(), targets.view()).unwrap();
    let options = TrainOptions {
        metric: Some(&metric),
        validation: Some((inputs.view(), Targets::Rows(targets.view()))),
        ..options(1, 5)
    };
    let report = network
        .train(inputs.view(), Targets::Rows(targets.view()), &options, &mut no_observer)
        .unwrap();
    let record = report.history[0];
    // One full batch: the epoch's figures are those before its only update.
    assert!((record.cost - expected_cost).abs() < 1e-12);
    assert_eq!(record.metric, Some(expected_metric));
    // Validation uses the parameters after the epoch.
    let after = network
        .compute_cost(inputs.view(), Targets::Rows(targets.view()), None)
        .unwrap();
    assert!((record.validation_cost.unwrap() - after).abs() < 1e-12);
}

#[test]
fn early_stopping_stops_and_restores_the_best_epoch() {
    let (inputs, targets) = data();
    // A validation set whose labels contradict the training labels: its
    // cost rises as training fits the training set.
    let flipped = targets.mapv(|t| 1.0 - t);
    let mut network: Network<f64> = Network::new(&config(
        Activation::Softmax,
        Cost::CrossEntropy,
        Rule::Adam {
            decay_rate1: 0.9,
            decay_rate2: 0.999,
        },
        0.05,
    ))
    .unwrap();
    let stopping = EarlyStopping::new(2, 0.0, true, Monitor::ValidationCost, Direction::Auto).unwrap();
    let mut snapshots = Vec::new();
    let options = TrainOptions {
        validation: Some((inputs.view(), Targets::Rows(flipped.view()))),
        early_stopping: Some(stopping),
        ..options(50, 5)
    };
    let parameters_before = network.parameters();
    let report = network
        .train(inputs.view(), Targets::Rows(targets.view()), &options, &mut |event| {
            if let Event::Epoch(_) = event {
                snapshots.push(());
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    assert!(report.stopped_early);
    assert!(report.history.len() < 50);
    let costs: Vec<f64> = report.history.iter().map(|r| r.validation_cost.unwrap()).collect();
    let best = costs.iter().cloned().fold(f64::INFINITY, f64::min);
    let best_epoch = costs.iter().position(|&c| c == best).unwrap() + 1;
    assert_eq!(report.restored_epoch, Some(best_epoch).filter(|&e| e != costs.len()));
    let restored_cost = network
        .compute_cost(inputs.view(), Targets::Rows(flipped.view()), None)
        .unwrap();
    assert!((restored_cost - best).abs() < 1e-12, "{restored_cost} vs {best}");
    assert_ne!(network.parameters(), parameters_before);
}

#[test]
fn early_stopping_on_validation_cost_needs_validation_data() {
    let (inputs, targets) = data();
    let network: Network<f64> = Network::new(&config(
        Activation::Linear,
        Cost::MeanSquaredError,
        Rule::GradientDescent,
        0.1,
    ))
    .unwrap();
    let options = TrainOptions {
        early_stopping: Some(EarlyStopping::new(1, 0.0, true, Monitor::ValidationCost, Direction::Auto).unwrap()),
        ..options(1, 1)
    };
    let error = network
        .check_training(inputs.view(), Targets::Rows(targets.view()), &options)
        .unwrap_err();
    assert!(error.to_string().starts_with("early_stopping"));
    assert!(EarlyStopping::new(-1, 0.0, true, Monitor::TrainingCost, Direction::Auto).is_err());
    assert!(EarlyStopping::new(1, -0.5, true, Monitor::TrainingCost, Direction::Auto).is_err());
}

#[test]
fn a_restored_checkpoint_resumes_training_bit_for_bit() {
    let (inputs, targets) = data();
    let rule = Rule::Adam {
        decay_rate1: 0.9,
        decay_rate2: 0.999,
    };
    let mut straight: Network<f64> =
        Network::new(&config(Activation::Softmax, Cost::CrossEntropy, rule, 0.05)).unwrap();
    straight
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(4, 2),
            &mut no_observer,
        )
        .unwrap();

    let mut first: Network<f64> = Network::new(&config(Activation::Softmax, Cost::CrossEntropy, rule, 0.05)).unwrap();
    first
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(2, 2),
            &mut no_observer,
        )
        .unwrap();
    let mut resumed: Network<f64> = Network::new(&NetworkConfig {
        seed: 999,
        ..config(Activation::Softmax, Cost::CrossEntropy, rule, 0.05)
    })
    .unwrap();
    let parameters = first.parameters();
    resumed
        .set_parameters(parameters.iter().map(|(w, b)| (w.view(), b.view())).collect())
        .unwrap();
    resumed
        .set_optimizer_slots(first.step, first.optimizer_slots())
        .unwrap();
    resumed.set_rng_state(first.rng_state());
    resumed.set_dropout_rng_state(first.dropout_rng_state());
    resumed
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(2, 2),
            &mut no_observer,
        )
        .unwrap();
    assert_eq!(resumed.parameters(), straight.parameters());
}

#[test]
fn absurd_layer_sizes_are_refused_before_allocating() {
    let mut cfg = config(Activation::Linear, Cost::MeanSquaredError, Rule::GradientDescent, 0.1);
    cfg.hidden[0] = LayerSpec::Dense {
        nodes: 1 << 40,
        activation: Activation::Tanh,
        regularizer: None,
    };
    let error = Network::<f64>::new(&cfg).unwrap_err();
    assert!(error.to_string().starts_with("nodes"), "{error}");
    cfg.input_nodes = usize::MAX;
    assert!(Network::<f32>::new(&cfg).is_err());
}

fn with_dropout(rate: f64, rule: Rule) -> NetworkConfig {
    let mut cfg = config(Activation::Softmax, Cost::CrossEntropy, rule, 0.05);
    cfg.hidden.push(LayerSpec::Dropout { rate });
    cfg
}

#[test]
fn layers_and_parameters_have_names() {
    let network: Network<f64> = Network::new(&with_dropout(0.5, Rule::GradientDescent)).unwrap();
    assert_eq!(network.layer_names(), ["dense_0", "dropout_0", "dense_1"]);
    assert_eq!(
        network.parameter_names(),
        ["dense_0.weights", "dense_0.biases", "dense_1.weights", "dense_1.biases"]
    );
    let named = network.named_parameters();
    assert_eq!(named[2].1.shape(), &[2, 4]);
    assert_eq!(named[1].1.shape(), &[4]);
}

#[test]
fn dropout_is_the_identity_in_inference_and_at_rate_zero() {
    let (inputs, targets) = data();
    let plain: Network<f64> = Network::new(&config(
        Activation::Softmax,
        Cost::CrossEntropy,
        Rule::GradientDescent,
        0.05,
    ))
    .unwrap();
    let dropped: Network<f64> = Network::new(&with_dropout(0.5, Rule::GradientDescent)).unwrap();
    // Same seed, no parameters in dropout: the same initialisation.
    assert_eq!(plain.parameters(), dropped.parameters());
    assert_eq!(
        plain.predict(inputs.view(), None).unwrap(),
        dropped.predict(inputs.view(), None).unwrap()
    );
    let (mut plain, mut zero): (Network<f64>, Network<f64>) =
        (plain, Network::new(&with_dropout(0.0, Rule::GradientDescent)).unwrap());
    plain
        .train(
            inputs.view(),
            Targets::Rows(targets.view()),
            &options(3, 2),
            &mut no_observer,
        )
        .unwrap();
    zero.train(
        inputs.view(),
        Targets::Rows(targets.view()),
        &options(3, 2),
        &mut no_observer,
    )
    .unwrap();
    assert_eq!(plain.parameters(), zero.parameters());
}

#[test]
fn dropout_training_is_reproducible_and_differs_from_none() {
    let (inputs, targets) = data();
    let train = |rate: f64| {
        let mut network: Network<f64> = Network::new(&with_dropout(rate, Rule::GradientDescent)).unwrap();
        network
            .train(
                inputs.view(),
                Targets::Rows(targets.view()),
                &options(3, 2),
                &mut no_observer,
            )
            .unwrap();
        network.parameters()
    };
    assert_eq!(train(0.5), train(0.5));
    assert_ne!(train(0.5), train(0.0));
}

#[test]
fn dropout_gradient_matches_central_differences_with_a_fixed_mask() {
    let (inputs, targets) = data();
    let network: Network<f64> = Network::new(&with_dropout(0.4, Rule::GradientDescent)).unwrap();
    // compute_gradients draws the mask the next batch would (without
    // advancing the stream); the cost under that same mask:
    let masked_cost = |candidate: &Network<f64>| {
        let rows: Vec<usize> = (0..inputs.nrows()).collect();
        let mut workspace = Workspace::new(candidate, rows.len(), true, true);
        workspace
            .gather(inputs.view(), Some(Targets::Rows(targets.view())), &rows, None)
            .unwrap();
        let mut rng = network.dropout_rng.clone();
        candidate
            .forward(&mut workspace, rows.len(), Mode::Training { dropout_rng: &mut rng })
            .unwrap();
        candidate.batch_cost(&workspace, rows.len()).unwrap() + candidate.penalty().unwrap()
    };
    let gradients = network
        .compute_gradients(inputs.view(), Targets::Rows(targets.view()), None)
        .unwrap();
    let h = 1e-6;
    for (l, (grad_weights, _)) in gradients.iter().enumerate() {
        for ((i, j), &analytic) in grad_weights.indexed_iter() {
            let cost_at = |delta: f64| {
                let mut perturbed = network.clone();
                perturbed.dense_layers_mut().nth(l).unwrap().weights[[i, j]] += delta;
                masked_cost(&perturbed)
            };
            let numeric = (cost_at(h) - cost_at(-h)) / (2.0 * h);
            let scale = analytic.abs().max(numeric.abs()).max(1e-6);
            assert!(
                (analytic - numeric).abs() / scale < 1e-6,
                "layer {l} ({i},{j}): {analytic} vs {numeric}"
            );
        }
    }
}

#[test]
fn compute_then_apply_gradients_is_one_training_step() {
    let (inputs, targets) = data();
    let adam_w = Rule::AdamW {
        decay_rate1: 0.9,
        decay_rate2: 0.999,
        weight_decay: 0.1,
    };
    for rule in [
        Rule::GradientDescent,
        Rule::Momentum { decay_rate: 0.9 },
        Rule::RMSProp { decay_rate: 0.9 },
        Rule::Adam {
            decay_rate1: 0.9,
            decay_rate2: 0.999,
        },
        adam_w,
    ] {
        let cfg = config(Activation::Softmax, Cost::CrossEntropy, rule, 0.05);
        let mut trained: Network<f64> = Network::new(&cfg).unwrap();
        let mut applied: Network<f64> = Network::new(&cfg).unwrap();
        let whole_batch = TrainOptions {
            shuffle: false,
            ..options(1, inputs.nrows())
        };
        for _ in 0..3 {
            trained
                .train(
                    inputs.view(),
                    Targets::Rows(targets.view()),
                    &whole_batch,
                    &mut no_observer,
                )
                .unwrap();
            let gradients = applied
                .compute_gradients(inputs.view(), Targets::Rows(targets.view()), None)
                .unwrap();
            applied
                .apply_gradients(gradients.iter().map(|(w, b)| (w.view(), b.view())).collect())
                .unwrap();
        }
        assert_eq!(trained.parameters(), applied.parameters(), "{rule:?}");
        assert_eq!(trained.optimizer_slots(), applied.optimizer_slots(), "{rule:?}");
        assert_eq!(trained.step, applied.step);
    }
}

#[test]
fn bad_gradients_change_nothing() {
    let (inputs, targets) = data();
    let mut network: Network<f64> = Network::new(&config(
        Activation::Softmax,
        Cost::CrossEntropy,
        Rule::Adam {
            decay_rate1: 0.9,
            decay_rate2: 0.999,
        },
        0.05,
    ))
    .unwrap();
    let gradients = network
        .compute_gradients(inputs.view(), Targets::Rows(targets.view()), None)
        .unwrap();
    let before = (network.parameters(), network.optimizer_slots(), network.step);
    let short: Vec<_> = gradients[..1].iter().map(|(w, b)| (w.view(), b.view())).collect();
    assert!(network.apply_gradients(short).is_err());
    let mut infinite = gradients.clone();
    infinite[0].0[[0, 0]] = f64::INFINITY;
    assert!(network
        .apply_gradients(infinite.iter().map(|(w, b)| (w.view(), b.view())).collect())
        .is_err());
    assert_eq!(before, (network.parameters(), network.optimizer_slots(), network.step));
}

#[test]
fn named_optimizer_state_is_checked_by_name() {
    let network: Network<f64> = Network::new(&config(
        Activation::Softmax,
        Cost::CrossEntropy,
        Rule::Momentum { decay_rate: 0.9 },
        0.05,
    ))
    .unwrap();
    let slots = network.optimizer_slots();
    assert_eq!(slots.len(), 4);
    assert_eq!(
        (slots[0].parameter.as_str(), slots[0].slot.as_str()),
        ("dense_0.weights", "velocity")
    );
    let mut other = network.clone();
    let mut missing = slots.clone();
    missing.pop();
    assert!(other.set_optimizer_slots(1, missing).is_err());
    let mut renamed = slots.clone();
    renamed[0].slot = "first_moment".into();
    assert!(other.set_optimizer_slots(1, renamed).is_err());
    assert_eq!(other.step, 0);
    other.set_optimizer_slots(7, slots).unwrap();
    assert_eq!(other.step, 7);
}

#[test]
fn class_labels_train_exactly_like_one_hot_rows() {
    let (inputs, targets) = data();
    let labels: Array1<f64> = targets.rows().into_iter().map(|row| row[1]).collect();
    let cfg = config(Activation::Softmax, Cost::CrossEntropy, Rule::GradientDescent, 0.1);
    let mut rows: Network<f64> = Network::new(&cfg).unwrap();
    let mut classes: Network<f64> = Network::new(&cfg).unwrap();
    rows.train(
        inputs.view(),
        Targets::Rows(targets.view()),
        &options(3, 2),
        &mut no_observer,
    )
    .unwrap();
    classes
        .train(
            inputs.view(),
            Targets::Classes(labels.view()),
            &options(3, 2),
            &mut no_observer,
        )
        .unwrap();
    assert_eq!(rows.parameters(), classes.parameters());
    assert_eq!(
        rows.compute_cost(inputs.view(), Targets::Rows(targets.view()), None)
            .unwrap(),
        classes
            .compute_cost(inputs.view(), Targets::Classes(labels.view()), None)
            .unwrap()
    );
    for bad in [
        array![0.0, 1.0, 2.0, 0.0, 1.0],
        array![0.0, 1.0, 0.5, 0.0, 1.0],
        array![0.0, -1.0, 1.0, 0.0, 1.0],
    ] {
        let error = classes
            .check_examples(inputs.view(), Targets::Classes(bad.view()), "inputs", "targets", None)
            .unwrap_err();
        assert!(error.to_string().starts_with("targets"), "{error}");
    }
}
