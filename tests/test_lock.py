"""The lock files (requirements/*.txt) pin what pyproject.toml asks for, inside its ranges.

`make` installs only the lock, so a dependency added to pyproject.toml without `make lock`
would be missing (or outside its range) in every environment: this fails first.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def read_lock(name: str) -> dict[str, Version]:
    """The lock's pins that apply to this interpreter and platform: name -> version."""
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = PIN.match(line)
        if not match:
            assert not re.match(r"^[A-Za-z0-9]", line), f"{name}: a requirement that is not a pin: {line!r}"
            continue
        package, version, marker = match.groups()
        if marker is None or Requirement(f"x; {marker}").marker.evaluate():
            assert canonicalize_name(package) not in pins, f"{name}: {package} pinned twice"
            pins[canonicalize_name(package)] = Version(version)
    return pins


def requirements(*extras: str) -> list[Requirement]:
    declared = list(PROJECT["dependencies"])
    for extra in extras:
        declared += PROJECT["optional-dependencies"][extra]
    return [Requirement(r) for r in declared]


def applies(requirement: Requirement, extras: tuple[str, ...]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**default_environment(), "extra": e}) for e in ("", *extras))


@pytest.mark.parametrize(("lock", "extras"), [("runtime.txt", ()), ("dev.txt", ("test", "dev"))])
def test_the_lock_pins_every_declared_dependency_inside_its_range(lock, extras):
    pins = read_lock(lock)
    for requirement in requirements(*extras):
        if not applies(requirement, extras):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is in pyproject.toml but not in requirements/{lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{lock} pins {name}=={pins[name]}, outside pyproject.toml's {requirement}: run `make lock`"
        )


def test_the_dev_lock_has_the_runtime_lock_s_versions():
    """Tests run on exactly the versions production installs."""
    runtime, dev = read_lock("runtime.txt"), read_lock("dev.txt")
    differing = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not differing, f"runtime.txt and dev.txt disagree (runtime, dev): {differing}"
