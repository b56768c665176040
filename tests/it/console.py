"""Drives one page of the mediamesh console in a real headless Chromium (Debian's, through
Playwright) for tests/it/console.rs: one JSON command per line on stdin, one JSON answer per
line on stdout. The test keeps the page open for its whole run, so what it sees is the page
updating itself, never a reload.

Commands: goto {url}; eval {js}; wait {js, ms} (until the expression is truthy, returns it);
click {selector}; screenshot {path}; errors (console errors and page exceptions so far).
"""
import json
import sys
import time

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def wait(page, js, ms):
    """Polls `js` until truthy (wait_for_function would need eval, which the console's
    Content-Security-Policy forbids, as it should)."""
    deadline = time.monotonic() + ms / 1000
    while True:
        value = page.evaluate(js)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still {value!r} after {ms} ms: {js}")
        page.wait_for_timeout(100)


def main():
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.on("pageerror", lambda e: errors.append(f"exception: {e}"))
        page.on(
            "console",
            lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        for line in sys.stdin:
            command = json.loads(line)
            op = command["op"]
            try:
                if op == "goto":
                    page.goto(command["url"])
                    wait(page, "document.body.dataset.ready === 'true'", 20000)
                    value = page.title()
                elif op == "eval":
                    value = page.evaluate(command["js"])
                elif op == "wait":
                    value = wait(page, command["js"], command.get("ms", 20000))
                elif op == "click":
                    page.click(command["selector"])
                    value = None
                elif op == "screenshot":
                    page.screenshot(path=command["path"], full_page=True)
                    value = command["path"]
                elif op == "errors":
                    value = errors
                elif op == "quit":
                    break
                else:
                    raise ValueError(f"unknown op {op}")
                answer = {"ok": True, "value": value}
            except Exception as error:  # the test reports it with the command
                answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            print(json.dumps(answer), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
