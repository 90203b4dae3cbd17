"""Pages on a phone: transfer size and load time in headless Chromium, and Lighthouse scores.

    .venv/bin/python -m bench.pages

Serves a demo database (``youthclub seed-demo``) under gunicorn, then on a 360×740 phone
viewport loads the catalogue, the young person's pass and the staff scanner, counting the
bytes that crossed the wire and the time to the load event. Lighthouse 12.2.3 (npm, in
bench/lighthouse; ``npm install`` there once) scores mobile performance and accessibility for
the catalogue, the sign-up form and the pass page. Goal: 95 or more each.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from statistics import median

from bench.common import ROOT, bench_app, database, gunicorn, migrate
from bench.report import write_section

CHROMIUM = "/usr/bin/chromium"
LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking " \
               "--disable-component-update --disable-sync --disable-dev-shm-usage"
DEMO_PASSWORD = "demo-hotspot-2026"


def seed(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    subprocess.run([str(ROOT / ".venv" / "bin" / "youthclub"), "seed-demo", "--password", DEMO_PASSWORD],
                   env=env, check=True, capture_output=True, cwd=ROOT)


def paths(app) -> dict[str, str]:
    """The pages to measure, found in the app's URL map."""
    from flask import url_for
    from sqlalchemy import select

    from youthclub.extensions import db
    from youthclub.i18n import local_today, to_utc
    from youthclub.models import Session

    with app.app_context(), app.test_request_context():
        rules = {r.endpoint: r for r in app.url_map.iter_rules()}
        scan = next(e for e, r in rules.items() if e.startswith("attendance.") and "scan" in r.rule and "<int:session_id>" in r.rule)
        register = next(e for e, r in rules.items() if e.startswith("accounts.") and "regist" in r.rule and not r.arguments)
        from datetime import time as t

        session_id = db.session.scalar(
            select(Session.id).where(Session.starts_at >= to_utc(local_today(), t(0, 0))).order_by(Session.starts_at).limit(1)
        )
        return {
            "catalogue": url_for("activities.catalogue"),
            "sign-up form": url_for(register),
            "pass": "/me/pass",
            "scanner": url_for(scan, session_id=session_id),
        }


def login(page, base, email):
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]:has-text('Log ind')")
    page.wait_for_load_state()


def measure(browser, base, path, email=None, runs=5):
    """Bytes transferred (encoded, as on the wire) and load-event time, median of ``runs`` cold loads."""
    sizes, times = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
        page = context.new_page()
        if email:
            login(page, base, email)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        total = {"bytes": 0}
        # the handler fires while this page loads, in this iteration
        cdp.on("Network.loadingFinished", lambda e: total.__setitem__("bytes", total["bytes"] + e["encodedDataLength"]))  # noqa: B023
        page.goto(base + path, wait_until="load")
        page.wait_for_timeout(300)
        times.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
        sizes.append(total["bytes"])
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
        context.close()
    return median(sizes), median(times), cookie


def lighthouse(url: str, cookie: str | None) -> dict:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    cmd = ["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility", "--form-factor=mobile", f"--chrome-flags={CHROME_FLAGS}"]
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    for _attempt in range(3):  # Lighthouse now and then loses its trace (NO_NAVSTART): run it again
        done = subprocess.run(cmd, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            break
    else:
        raise RuntimeError(f"lighthouse failed on {url}: {done.stderr[-1500:]}")
    data = json.loads(out.read_text())
    return {k: round(v["score"] * 100) for k, v in data["categories"].items()}


def main():
    from playwright.sync_api import sync_playwright

    with database("sqlite") as url:
        app = bench_app(url)
        migrate(app)
        seed(url)
        pages = paths(app)
        who = {"catalogue": None, "sign-up form": None, "pass": "ung@hotspot.example", "scanner": "personale@hotspot.example"}
        rows = []
        with gunicorn("bench.app:app", {"DATABASE_URL": url, "BENCH_SERVE": "1"}) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_FLAGS.split()[1:])
            for name, path in pages.items():
                size, load_ms, cookie = measure(browser, base, path, who[name])
                scores = lighthouse(base + path, cookie if who[name] else None) if name != "scanner" else {}
                rows.append((name, path, size, load_ms, scores))
                print(name, path, f"{size / 1024:.1f} KB", f"{load_ms:.0f} ms", scores)
            browser.close()
    lines = [
        "## Pages on a phone",
        "",
        "`bench/pages.py`: demo data, gunicorn, headless Chromium on a 360×740 phone viewport, cache "
        "disabled, median of 5 cold loads; bytes as transferred (the app serves uncompressed; a TLS "
        "proxy with gzip in front makes them smaller). Lighthouse 12.2.3, mobile form factor with its "
        "default simulated throttling. Goals: catalogue < 60 KB, scanner < 150 KB, Lighthouse ≥ 95. "
        "The scanner row is the page before the camera starts; the decoder and its worker load when "
        "scanning begins (the scanner journey measures the whole: see its section).",
        "",
        "| page | path | transferred | load event | Lighthouse performance | Lighthouse accessibility |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, path, size, load_ms, scores in rows:
        lines.append(f"| {name} | `{path}` | {size / 1024:.1f} KB | {load_ms:.0f} ms | "
                     f"{scores.get('performance', '—')} | {scores.get('accessibility', '—')} |")
    write_section("pages", "\n".join(lines))


if __name__ == "__main__":
    main()
