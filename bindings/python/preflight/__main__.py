"""`python -m preflight ...` runs the `preflight` command: the C++ binary that `pip install .`
puts in the environment's scripts directory (the same file `preflight` on PATH runs).
Its arguments, standard streams and exit status are the command's own."""
from __future__ import annotations

import os
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import NoReturn, Optional


def binary() -> Optional[str]:
    """The path of the `preflight` executable, or None."""
    override = os.environ.get("PREFLIGHT_CLI")
    if override:
        return override
    # An in-tree build: <build>/python/preflight/__main__.py next to <build>/preflight.
    in_tree = Path(__file__).resolve().parents[2] / "preflight"
    if in_tree.is_file():
        return str(in_tree)
    # Installed: the wheel's RECORD names the script wherever the install scheme put it.
    try:
        for entry in metadata.distribution("preflight").files or []:
            if entry.name == "preflight" and entry.parent.name in ("bin", "Scripts"):
                path = Path(str(entry.locate())).resolve()
                if path.is_file():
                    return str(path)
    except metadata.PackageNotFoundError:
        pass
    return shutil.which("preflight")


def main() -> NoReturn:
    path = binary()
    if path is None:
        sys.stderr.write("preflight: the preflight command is not installed with this package\n")
        sys.exit(1)
    os.execv(path, [path, *sys.argv[1:]])


if __name__ == "__main__":
    main()
