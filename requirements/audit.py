"""Known vulnerabilities in the locked versions: pip-audit over the lock files (`make audit`).

pip-audit asks PyPI's per-version JSON API (`/pypi/NAME/VERSION/json`) for each locked package.
Where that API does not answer (some build machines reach PyPI only through a mirror that lacks
it), pip-audit skips the package and still says "No known vulnerabilities found". Then this
script asks PyPI's project API (`/pypi/NAME/json`) instead: it lists the known vulnerabilities of
the project's latest release, so it covers every locked version that is the latest release.

Fails (exit 1) when a locked version has a known vulnerability, and when a locked package could
not be audited either way, unless `--allow-unaudited` is given: then those are named in a warning.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

import requests
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked_versions(locks: list[str]) -> dict[str, str]:
    """The pins that apply to this interpreter and platform: name -> version."""
    pins = {}
    for lock in locks:
        with open(lock, encoding="utf-8") as f:
            for line in f:
                match = PIN.match(line.rstrip("\n"))
                if match:
                    name, version, marker = match.groups()
                    if marker is None or Requirement(f"x; {marker}").marker.evaluate():
                        pins[canonicalize_name(name)] = version
    return pins


def pip_audit(locks: list[str]) -> list[dict]:
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes",
               "--progress-spinner", "off", "--format", "json"]
    for lock in locks:
        command += ["-r", lock]
    run = subprocess.run(command, capture_output=True, text=True)
    try:
        return json.loads(run.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError):
        sys.stderr.write(run.stderr)
        raise SystemExit(f"audit: pip-audit gave no report (exit {run.returncode})") from None


def latest_release_vulnerabilities(session: requests.Session, name: str, version: str) -> list[dict] | None:
    """The known vulnerabilities of ``name`` ``version`` from PyPI's project API; None when the
    locked version is not the latest release (the API lists only that one's) or PyPI did not answer."""
    try:
        response = session.get(f"https://pypi.org/pypi/{name}/json", timeout=30)
        response.raise_for_status()
        project = response.json()
    except (requests.RequestException, ValueError):
        return None
    if Version(project["info"]["version"]) != Version(version) or "vulnerabilities" not in project:
        return None
    return [
        {"id": v["id"], "fix_versions": v.get("fixed_in") or [], "aliases": v.get("aliases") or []}
        for v in project["vulnerabilities"] if not v.get("withdrawn")
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("locks", nargs="+", help="hashed lock files (requirements/*.txt)")
    parser.add_argument("--allow-unaudited", action="store_true",
                        help="warn instead of failing when a package could not be audited")
    args = parser.parse_args()
    versions = locked_versions(args.locks)

    findings: dict[str, list[dict]] = {}
    by_pip_audit, by_project_api, unaudited = 0, 0, []
    with requests.Session() as session:
        for dep in pip_audit(args.locks):
            name = canonicalize_name(dep["name"])
            if "skip_reason" not in dep:
                by_pip_audit += 1
                findings[name] = dep["vulns"]
                continue
            vulns = latest_release_vulnerabilities(session, name, versions.get(name, ""))
            if vulns is None:
                unaudited.append(f"{name} {versions.get(name, '?')} ({dep['skip_reason']})")
            else:
                by_project_api += 1
                findings[name] = vulns

    vulnerable = {name: vulns for name, vulns in findings.items() if vulns}
    for name, vulns in sorted(vulnerable.items()):
        for vuln in vulns:
            fixed = ", ".join(vuln["fix_versions"]) or "no fixed version yet"
            aliases = f" ({', '.join(vuln['aliases'])})" if vuln.get("aliases") else ""
            print(f"{name} {versions.get(name, '?')}: {vuln['id']}{aliases}, fixed in {fixed}")
    print(f"audit: {by_pip_audit + by_project_api} locked packages audited ({by_pip_audit} by pip-audit, "
          f"{by_project_api} through PyPI's project API), {len(vulnerable)} with known vulnerabilities, "
          f"{len(unaudited)} not audited")
    for line in unaudited:
        print(f"audit: not audited: {line}", file=sys.stderr)
    if vulnerable:
        print("audit: raise the lower bound in pyproject.toml to a fixed version and run `make lock`",
              file=sys.stderr)
        return 1
    if unaudited and not args.allow_unaudited:
        print("audit: some locked packages could not be audited; this is not a clean audit", file=sys.stderr)
        return 1
    if unaudited:
        print(f"WARNING: {len(unaudited)} locked packages were NOT checked for known vulnerabilities", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
