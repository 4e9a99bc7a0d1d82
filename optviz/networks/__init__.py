"""Networks: a small MLP as a problem every optimizer trains, on the lectures' datasets.

    from optviz.networks import Network, make_dataset, train
    net = Network(make_dataset("xor"), hidden=(8, 8), activation="tanh", init="xavier")
    run = train(net, ["gd", "momentum", "adam"], steps=300)
    run.train_loss[:, 0, -1]                  # each row's final training loss

See :mod:`optviz.networks.mlp` (the network, its parameter vector in torch's layout),
:mod:`optviz.networks.data` (datasets) and :mod:`optviz.networks.train` (the training).
"""
from .data import DATASETS, DataError, Dataset, from_arrays, make_dataset
from .mlp import ACTIVATIONS, INITS, LOSSES, Network, NetworkError
from .train import NOT_FOR_NETWORKS, TRAINS, NetworkRun, train

__all__ = ["Network", "NetworkError", "NetworkRun", "Dataset", "DataError", "DATASETS",
           "ACTIVATIONS", "INITS", "LOSSES", "NOT_FOR_NETWORKS", "TRAINS", "make_dataset",
           "from_arrays", "train"]
