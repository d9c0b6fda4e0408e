"""Where the embedded data lives: ``designs/`` and ``profiles/`` at the project root.

``FABTHREAD_HOME`` points elsewhere (a hub's own catalog); otherwise the source tree this
package was installed from (``pip install -e .``).
"""

from __future__ import annotations

import os
from pathlib import Path


def data_root() -> Path:
    env = os.environ.get("FABTHREAD_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2]


def designs_dir() -> Path:
    return data_root() / "designs"


def profiles_dir() -> Path:
    return data_root() / "profiles"
