"""The pool of large output buffers (optviz.buffers): a buffer is handed out again only
when nothing refers to it any more, and runs that are kept never share memory."""
import numpy as np

from optviz import OptimizerSpec, Scene, buffers, simulate

BIG = (10, 2, 5_000_000)           # 800 MB of float64: above buffers.MIN_BYTES


def test_a_buffer_is_reused_only_once_every_view_of_it_is_gone():
    buffers.release()
    a = buffers.empty(BIG)
    view = a.transpose(1, 0, 2)[0, 3]          # a view of a view
    del a
    b = buffers.empty(BIG)
    assert not np.shares_memory(b, view)       # the view still uses the first buffer
    del view, b
    c = buffers.empty(BIG)
    assert c.base is not None and c.base.size == np.prod(BIG)
    first = id(c.base)         # (not the buffer itself: holding it keeps it in use)
    del c
    d = buffers.empty(BIG)
    assert id(d.base) == first                 # idle again: handed out again
    del d
    buffers.release()
    assert not buffers._buffers


def test_small_arrays_are_plain_and_never_pooled():
    buffers.release()
    small = buffers.empty((3, 4))
    assert small.shape == (3, 4) and small.base is None and not buffers._buffers


def test_two_large_runs_kept_side_by_side_do_not_share_memory():
    buffers.release()
    starts = np.random.default_rng(0).uniform(-2, 2, (60_000, 2))
    scene = Scene("rosenbrock", [OptimizerSpec("adam", lr=0.01)], starts=starts, steps=100)
    assert scene.steps * len(starts) * 2 * 8 > buffers.MIN_BYTES
    first = simulate(scene, record_grad=False)
    kept = first.path.copy()
    second = simulate(scene.replace(starts=starts[::-1].copy()), record_grad=False)
    assert not np.shares_memory(first.path, second.path)
    np.testing.assert_array_equal(first.path, kept)      # the second run wrote elsewhere
    np.testing.assert_array_equal(second.path[0], first.path[0, ::-1])
    del first, second
    third = simulate(scene, record_grad=False)           # reuses a buffer, same answer
    np.testing.assert_array_equal(third.path, kept)
    del third
    buffers.release()
