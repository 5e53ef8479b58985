"""Peers that ``benches/compare.py`` measures pynet against.

Each module trains the seed-MNIST network (784 → 200 LeakyReLU → 10 Softmax,
CrossEntropy, ElasticNet on the weights, Adam) its own way:

- ``numpy_mlp``: hand-vectorised NumPy, whole-batch matrix products;
- ``per_example``: the original PyNet's algorithm, one example at a time;
- ``sklearn_mlp``: scikit-learn's ``MLPClassifier`` (ReLU, L2 only);
- ``torch_mlp``: an idiomatic PyTorch CPU loop.

``sklearn_mlp`` and ``torch_mlp`` import their library lazily, so a missing
library only skips that peer.
"""
