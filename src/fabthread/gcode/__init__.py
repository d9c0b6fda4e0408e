"""G-code: one emitter driven by ``Dialect`` data, a reader, and a time estimator.

- ``emit.emit_gcode(toolpath, machine, material, dialect, ...)`` -> program text
- ``reader.read_gcode(text)`` -> ``moves.GcodeMoves``; ``reader.summarize(...)`` -> ProgramStats
- ``estimate.move_times(moves, limits)`` -> seconds per move (look-ahead planner kernel)

Submodules are imported explicitly (the kernels pull in numba).
"""
