"""fabthread: the digital thread from a parametric design to a part made at a local hub.

Library entry points for order systems::

    import fabthread
    bundle = fabthread.run_order(order_dict_or_Order, out_dir="out")
"""

#: The one place the version is written (pyproject.toml reads it from here): reading it back
#: from the installed metadata costs every command about 0.1 s of start-up.
__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: importing fabthread must stay cheap (no cadquery, no numba)
    if name in ("run_order", "slice_mesh", "load_order"):
        from fabthread import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
