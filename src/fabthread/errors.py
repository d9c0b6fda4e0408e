"""One error hierarchy for the whole package.

``UserError`` is everything a user can fix (a bad design name, parameter, order, profile,
mesh, or a part that does not fit the machine). The CLI turns it into one line on stderr and
exit code 2. ``InternalError`` is a bug in fabthread: exit code 3 with a hint to report it.
Library code raises; only ``cli/`` maps exceptions to exit codes.
"""

from __future__ import annotations


class FabError(Exception):
    """Base of every error fabthread raises on purpose."""


class UserError(FabError):
    """Input the user can fix. The message names the file, key or parameter and what is allowed."""


class DesignError(UserError):
    """Unknown design, broken design folder, or a design script that failed to build."""


class ParamError(UserError):
    """A parameter value that is unknown, of the wrong type, out of range or breaks a constraint."""


class ProfileError(UserError):
    """A machine or material profile that is missing, malformed, or has unknown keys."""


class OrderError(UserError):
    """A malformed order (JSON shape, missing fields, unavailable material or color)."""


class MeshError(UserError):
    """A mesh that cannot be read or sliced (empty, open beyond repair, unknown format)."""


class FitError(UserError):
    """A part that does not fit the target machine's build volume or work area."""


class GcodeError(UserError):
    """A G-code file that cannot be read, or a word a dialect does not support."""


class BundleError(UserError):
    """A bundle that is malformed or fails verification (hash or size mismatch)."""


class InternalError(FabError):
    """A bug in fabthread: an invariant that should always hold did not."""
