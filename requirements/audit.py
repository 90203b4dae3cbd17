"""Known vulnerabilities in the locked versions: pip-audit over the lock files (`make audit`).

Fails (exit 1) when a locked version has a known vulnerability. pip-audit counts a package it
could not look up as "skipped" and still reports "No known vulnerabilities found"; an audit that
looked nothing up must not read as clean, so skipped packages fail too, unless
`--allow-unaudited` is given, and then they are named in a warning.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("locks", nargs="+", help="hashed lock files (requirements/*.txt)")
    parser.add_argument("--allow-unaudited", action="store_true",
                        help="warn instead of failing when the vulnerability service could not be asked")
    args = parser.parse_args()
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes",
               "--progress-spinner", "off", "--format", "json"]
    for lock in args.locks:
        command += ["-r", lock]
    run = subprocess.run(command, capture_output=True, text=True)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(run.stderr)
        print(f"audit: pip-audit gave no report (exit {run.returncode})", file=sys.stderr)
        return 1

    audited = [d for d in report["dependencies"] if "skip_reason" not in d]
    skipped = [d for d in report["dependencies"] if "skip_reason" in d]
    vulnerable = [d for d in audited if d["vulns"]]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln["fix_versions"]) or "no fixed version yet"
            print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    print(f"audit: {len(audited)} locked packages audited, {len(vulnerable)} with known vulnerabilities, "
          f"{len(skipped)} could not be audited")
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        reason = skipped[0]["skip_reason"]
        print(f"audit: not audited: {names}\naudit: for example: {reason}", file=sys.stderr)
    if vulnerable:
        print("audit: move the packages above to a fixed version (docs/DEVELOPING.md, Dependencies)",
              file=sys.stderr)
        return 1
    if skipped and not args.allow_unaudited:
        print("audit: the vulnerability service could not be asked for every package; "
              "this is not a clean audit", file=sys.stderr)
        return 1
    if skipped:
        print(f"WARNING: {len(skipped)} locked packages were NOT checked for known vulnerabilities "
              "(the vulnerability service did not answer for them)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
