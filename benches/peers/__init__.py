"""Peers that ``benches/compare.py`` measures pynet against.

Each module trains the seed-MNIST network (784 → 200 LeakyReLU → 10 Softmax,
CrossEntropy, ElasticNet on the weights, Adam) its own way:

- ``numpy_mlp``: hand-vectorised NumPy, whole-batch matrix products;
- ``per_example``: the original PyNet's algorithm, one example at a time;
- ``sklearn_mlp``: scikit-learn's ``MLPClassifier`` (ReLU, L2 only);
- ``torch_mlp``: an idiomatic PyTorch CPU loop;
- ``keras_mlp``: Keras 3 on TensorFlow (CPU, two threads), ``model.fit``.

``numpy_mlp``, ``torch_mlp`` and ``keras_mlp`` also train the TensorFlow
home-page network (784 → 128 ReLU → Dropout(0.2) → 10 Softmax, Adam, integer
labels, batch 32, 5 epochs) for the second table.

``sklearn_mlp``, ``torch_mlp`` and ``keras_mlp`` import their library lazily,
so a missing library only skips that peer.
"""
