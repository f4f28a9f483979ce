"""agent-chat-ui as a person uses it, through Playwright: the setup form, the message box, the history, the inbox.

Locators are the UI's visible texts, roles and form ids wherever it has them (only the history toggle, an icon
button, is found by its icon), so the tests read as the steps a user takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.async_api import BrowserContext, Locator, Page, Request, expect

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium waits on Google services that a closed network never answers.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
# The toasts the UI raises when /info fails (wrong URL, key or CORS) and when a run's stream fails.
UI_ERRORS = ("Failed to connect to LangGraph server", "An error occurred. Please try again.")
LONG = 120_000  # ms: a report on scripted models takes seconds, but two cores may be busy with other tests

@dataclass
class ApiCalls:
    """The browser's requests to the API: method, path and the key they carried."""

    base_url: str
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    async def record(self, request: Request) -> None:
        if request.url.startswith(self.base_url):
            headers = await request.all_headers()
            path = request.url[len(self.base_url):].split("?")[0]
            self.seen.append((request.method, path, headers.get("x-api-key")))

    def keys_sent_to(self, method: str, path: str) -> list[str | None]:
        return [key for m, p, key in self.seen if m == method and p == path]


class ChatPage:
    def __init__(self, page: Page, ui_url: str) -> None:
        self.page = page
        self.ui_url = ui_url

    @classmethod
    async def open(cls, context: BrowserContext, ui_url: str) -> ChatPage:
        page = await context.new_page()
        await page.goto(ui_url)
        return cls(page, ui_url)

    async def connect(self, api_url: str, assistant_id: str, api_key: str) -> None:
        """Fill the UI's setup form: deployment URL, assistant / graph id, API key (sent as X-Api-Key)."""
        await self.page.locator("#apiUrl").fill(api_url)
        await self.page.locator("#assistantId").fill(assistant_id)
        await self.page.locator("#apiKey").fill(api_key)
        await self.page.get_by_role("button", name="Continue").click()
        await self.page.get_by_placeholder("Type your message...").wait_for()

    async def ask(self, text: str) -> None:
        box = self.page.get_by_placeholder("Type your message...")
        await box.fill(text)
        await self.page.get_by_role("button", name="Send").click()

    async def wait_for_text(self, text: str, timeout: float = LONG) -> None:
        await self._unless_error(self.page.get_by_text(text, exact=False), timeout)

    async def wait_for_button(self, name: str, timeout: float = LONG) -> Locator:
        button = self.page.get_by_role("button", name=name)
        await self._unless_error(button, timeout)
        return button

    async def _unless_error(self, target: Locator, timeout: float) -> None:
        """Wait for `target`, but fail at once with the UI's own words when it shows an error toast instead."""
        error = self.page.get_by_text(UI_ERRORS[0]).or_(self.page.get_by_text(UI_ERRORS[1]))
        await target.or_(error).first.wait_for(timeout=timeout)
        if await error.count():
            toasts = await self.page.locator("[data-sonner-toast]").all_inner_texts()
            raise AssertionError(f"agent-chat-ui shows an error: {toasts}")

    async def wait_until_idle(self, timeout: float = LONG) -> None:
        """The run is over when the Send button is back (the UI shows Cancel while it streams)."""
        await self.page.get_by_role("button", name="Send").wait_for(timeout=timeout)

    async def report_links(self) -> list[str]:
        hrefs: list[str] = await self.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        return hrefs

    async def open_history(self) -> list[str]:
        """Open the thread history panel (its toggle sets `chatHistoryOpen` in the URL) and read its entries,
        each the thread's first message, once they have loaded."""
        if "chatHistoryOpen=true" not in self.page.url:
            # The toggle is an icon button; the top bar's is the last one (the panel's own sits off screen).
            await self.page.locator("button:has(svg.lucide-panel-right-close)").last.click()
            await self.page.wait_for_url("**chatHistoryOpen=true**")
        await expect(self._history_panel()).to_be_in_viewport()
        entries = self._history_panel().locator("button p")
        await entries.first.wait_for(timeout=LONG)
        return [text.strip() for text in await entries.all_inner_texts()]

    async def start_new_thread(self) -> None:
        """Leave the open thread for the start page, as the title button in the UI's top bar does."""
        await self.page.get_by_role("button", name="Agent Chat").click()
        await self.page.wait_for_function("!new URL(location.href).searchParams.get('threadId')")

    async def open_thread(self, label: str) -> None:
        await self._history_panel().get_by_role("button", name=label).first.click()

    def _history_panel(self) -> Locator:
        return self.page.get_by_role("heading", name="Thread History").locator("xpath=../..")

    async def screenshot(self, path: str) -> None:
        await self.page.screenshot(path=path, full_page=False)
