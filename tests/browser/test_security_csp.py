"""The Content-Security-Policy holds in a real browser: injected inline script does not run, the app's own does."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect


def test_inline_script_is_refused_by_the_browser(phone):
    phone.goto("/privacy")
    expect(phone.locator("h1")).to_have_text("Dine data hos os", use_inner_text=True)
    # what an XSS would do: add an inline script and an inline event handler
    from playwright.sync_api import Error

    with pytest.raises(Error, match="Content Security Policy"):
        phone.add_script_tag(content="window.pwned = true")
    untouched = phone.evaluate("""async () => {
        const img = document.createElement('img');
        const failed = new Promise(resolve => img.addEventListener('error', resolve));
        img.setAttribute('onerror', 'window.pwned = true');
        img.setAttribute('src', 'data:,not-an-image');
        document.body.appendChild(img);
        await failed;  // the inline handler, had it been allowed, ran before this listener
        return window.pwned === undefined;
    }""")
    assert untouched
