"""Networks, a kind of problem: a small MLP on the lectures' datasets, the planes that
show a D-dimensional training in 2-D, and the exact slice of a plane as a surface.

    from optviz.networks import Network, make_dataset
    from optviz.training import train
    net = Network(make_dataset("xor"), hidden=(8, 8), activation="tanh", init="xavier")
    run = train(net, ["gd", "momentum", "adam"], steps=300)
    run.train_loss[:, 0, -1]                  # each row's final training loss

:mod:`optviz.networks.data` (datasets), :mod:`optviz.networks.mlp` (the network, its
parameter vector in torch's layout), :mod:`optviz.networks.planes` (planes, the loss on
them), :mod:`optviz.networks.slice` (a plane as a surface); the training loop is
machinery, :mod:`optviz.training`.
"""
from .data import DATASETS, DataError, Dataset, from_arrays, make_dataset
from .mlp import ACTIVATIONS, INITS, LOSSES, Network, NetworkError

__all__ = ["Network", "NetworkError", "Dataset", "DataError", "DATASETS", "ACTIVATIONS",
           "INITS", "LOSSES", "make_dataset", "from_arrays"]
