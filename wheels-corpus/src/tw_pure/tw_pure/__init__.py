"""tw_pure: a pure-Python test wheel of the truewheel corpus."""

from importlib import resources

__version__ = "0.1.0"


def greeting() -> str:
    """Return the text of the package data file tw_pure/greeting.txt."""
    return resources.files(__name__).joinpath("greeting.txt").read_text(encoding="utf-8").strip()


def main() -> int:
    """Entry point of the `tw-pure` console script."""
    from .sub.shout import shout

    print(shout(greeting()))
    return 0
