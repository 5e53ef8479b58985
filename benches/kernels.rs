//! Kernel benchmarks at the shapes of the seed MNIST workload
//! (784 → 200 → 10, mini-batches of 32 and 256). Run with `cargo bench`;
//! criterion reports time and, where set, GFLOP/s as "elements".

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array1, Array2};
use pynet::activations::Activation;
use pynet::costs::Cost;
use pynet::init::Initializer;
use pynet::layers::DenseLayer;
use pynet::layers::LayerSpec;
use pynet::linalg::{gemm, gemm_flops};
use pynet::network::{Event, Network, NetworkConfig, TrainOptions};
use pynet::optimizers::{Optimizer, Penalty, Rule, DEFAULT_EPSILON};
use pynet::real::Real;
use pynet::regularizers::Regularizer;
use pynet::targets::Targets;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::ops::ControlFlow;

const INPUTS: usize = 784;
const HIDDEN: usize = 200;
const OUTPUTS: usize = 10;

fn random_matrix(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0))
}

fn elastic_net() -> Option<Regularizer> {
    Some(Regularizer::ElasticNet {
        l1_penalty: 1e-4,
        l2_penalty: 1e-4,
    })
}

fn seed_network() -> Network<f64> {
    let config = NetworkConfig {
        input_nodes: INPUTS,
        hidden: vec![LayerSpec::Dense {
            nodes: HIDDEN,
            activation: Activation::ReLU { leak: 0.01 },
            regularizer: elastic_net(),
        }],
        output: LayerSpec::Dense {
            nodes: OUTPUTS,
            activation: Activation::Softmax,
            regularizer: elastic_net(),
        },
        cost: Cost::CrossEntropy,
        optimizer: Optimizer::new(
            Rule::Adam {
                decay_rate1: 0.9,
                decay_rate2: 0.999,
            },
            0.001,
            DEFAULT_EPSILON,
        )
        .unwrap_or_else(|e| panic!("{e}")),
        initializer: Initializer::GlorotUniform,
        seed: 1,
    };
    Network::new(&config).unwrap_or_else(|e| panic!("{e}"))
}

/// The products of the hidden layer: forward and weight gradient (the
/// input gradient is skipped for the first layer), in both precisions.
fn matrix_products(c: &mut Criterion) {
    products::<f64>(c, "gemm");
    products::<f32>(c, "gemm float32");
}

fn products<T: Real>(c: &mut Criterion, name: &str) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let weights = random_matrix(HIDDEN, INPUTS, &mut rng).mapv(T::lit);
    let mut group = c.benchmark_group(name);
    for batch in [32, 256, 4096] {
        let inputs = random_matrix(batch, INPUTS, &mut rng).mapv(T::lit);
        let grad_z = random_matrix(batch, HIDDEN, &mut rng).mapv(T::lit);
        let mut z = Array2::<T>::zeros((batch, HIDDEN));
        let mut grad_w = Array2::<T>::zeros((HIDDEN, INPUTS));
        group.throughput(Throughput::Elements(gemm_flops(batch, INPUTS, HIDDEN) as u64));
        group.bench_with_input(BenchmarkId::new("forward X·Wt", batch), &batch, |b, _| {
            b.iter(|| gemm(T::one(), inputs.view(), weights.t(), T::zero(), &mut z.view_mut()))
        });
        group.bench_with_input(BenchmarkId::new("weight gradient dZt·X", batch), &batch, |b, _| {
            b.iter(|| gemm(T::one(), grad_z.t(), inputs.view(), T::zero(), &mut grad_w.view_mut()))
        });
    }
    group.finish();
}

fn dense_layer(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let layer = DenseLayer {
        weights: random_matrix(HIDDEN, INPUTS, &mut rng) * 0.05,
        biases: Array1::zeros(HIDDEN),
        activation: Activation::ReLU { leak: 0.01 },
        regularizer: elastic_net(),
    };
    let mut group = c.benchmark_group("dense 784→200");
    for batch in [32, 256] {
        let inputs = random_matrix(batch, INPUTS, &mut rng);
        let incoming = random_matrix(batch, HIDDEN, &mut rng);
        let mut z = Array2::zeros((batch, HIDDEN));
        let mut a = Array2::zeros((batch, HIDDEN));
        let mut grad_z = Array2::zeros((batch, HIDDEN));
        let mut grad_w = Array2::zeros((HIDDEN, INPUTS));
        let mut grad_b = Array1::zeros(HIDDEN);
        group.throughput(Throughput::Elements(gemm_flops(batch, INPUTS, HIDDEN) as u64));
        group.bench_with_input(BenchmarkId::new("forward", batch), &batch, |b, _| {
            b.iter(|| {
                layer
                    .forward(inputs.view(), z.view_mut(), a.view_mut())
                    .unwrap_or_else(|e| panic!("{e}"))
            })
        });
        group.throughput(Throughput::Elements(2 * gemm_flops(batch, INPUTS, HIDDEN) as u64));
        group.bench_with_input(BenchmarkId::new("backward", batch), &batch, |b, _| {
            b.iter(|| {
                layer
                    .activation
                    .backward(z.view(), a.view(), incoming.view(), grad_z.view_mut())
                    .unwrap_or_else(|e| panic!("{e}"));
                layer.parameter_gradients(inputs.view(), grad_z.view(), grad_w.view_mut(), grad_b.view_mut());
            })
        });
    }
    group.finish();
}

fn optimizer_step(c: &mut Criterion) {
    let optimizer = Optimizer::new(
        Rule::Adam {
            decay_rate1: 0.9,
            decay_rate2: 0.999,
        },
        0.001,
        DEFAULT_EPSILON,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let len = HIDDEN * INPUTS;
    let mut params = vec![0.1f64; len];
    let mut buffer = vec![0.01f64; len];
    let mut state = optimizer.new_state::<f64>(len);
    let mut step = 0;
    let penalty = Penalty {
        l1: 1e-4,
        l2: 1e-4,
        decays: false,
    };
    // The fused pass as training runs it: regularize, update the moments,
    // write the new parameters into the gradient buffer, then swap.
    c.bench_function("fused adam + elastic-net step 784×200", |b| {
        b.iter(|| {
            step += 1;
            let summary = optimizer.update_into(&params, &mut buffer, &mut state, step, penalty);
            std::mem::swap(&mut params, &mut buffer);
            black_box(summary)
        })
    });
}

/// One epoch of the seed workload on 6,000 synthetic examples (a tenth of
/// MNIST, so criterion's repetitions stay short); scale by 10 for MNIST.
fn training_epoch(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let examples = 6000;
    let inputs = random_matrix(examples, INPUTS, &mut rng);
    let mut targets = Array2::zeros((examples, OUTPUTS));
    for (i, mut row) in targets.rows_mut().into_iter().enumerate() {
        row[i % OUTPUTS] = 1.0;
    }
    let mut group = c.benchmark_group("epoch of 6000 examples");
    group.sample_size(10);
    let flops = 3.0 * gemm_flops(examples, INPUTS, HIDDEN) + 4.0 * gemm_flops(examples, HIDDEN, OUTPUTS);
    group.throughput(Throughput::Elements(flops as u64));
    for batch in [32, 256] {
        let mut network = seed_network();
        group.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, &batch| {
            let options = TrainOptions {
                epochs: 1,
                mini_batch_size: batch,
                normalizer: None,
                metric: None,
                validation: None,
                early_stopping: None,
                shuffle: true,
                sample_weight: None,
                validation_weight: None,
            };
            b.iter(|| {
                let mut observer = |_: Event| ControlFlow::Continue(());
                black_box(
                    network
                        .train(inputs.view(), Targets::Rows(targets.view()), &options, &mut observer)
                        .unwrap_or_else(|e| panic!("{e}")),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, matrix_products, dense_layer, optimizer_step, training_epoch);
criterion_main!(benches);
