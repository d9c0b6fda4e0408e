"""fabthread: the digital thread from a parametric design to a part made at a local hub.

Library entry points for order systems::

    import fabthread
    bundle = fabthread.run_order(order_dict_or_Order, out_dir="out")
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fabthread")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"


def __getattr__(name: str):  # lazy: importing fabthread must stay cheap (no cadquery, no numba)
    if name in ("run_order", "slice_mesh", "load_order"):
        from fabthread import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
