"""CNC milling and laser cutting: Part -> Toolpath.

    >>> from fabthread.cam import cam_part
    >>> tp = cam_part(part, machine, stock_material, tools, [ProfileOp(tool="flat_6mm")])

Operation specs and tool data live in ``fabthread.model.cam``; ``simulate_stock`` verifies a
toolpath on a heightmap of the stock.
"""

from fabthread.cam.plan import cam_part, place, stock_for
from fabthread.cam.simulate import part_heights, simulate_stock

__all__ = ["cam_part", "part_heights", "place", "simulate_stock", "stock_for"]
