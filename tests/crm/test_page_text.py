from __future__ import annotations

from crm.services.web import page_text, sentences
from integrations.values import ScrapedPage


def test_raw_html_goes_through_trafilatura_and_markdown_stays() -> None:
    html = (
        "<html><body><nav>Home | About</nav><article><p>Acme Dental provides implants and emergency "
        "appointments for families in Austin since 2004.</p></article><footer>(c) Acme</footer></body></html>"
    )
    text = page_text(ScrapedPage(url="https://acme.com", markdown=html))
    assert "implants" in text and "<p>" not in text
    assert page_text(ScrapedPage(url="https://acme.com", markdown="# Acme\n\nAcme sells teeth.")).startswith("# Acme")
    assert page_text(ScrapedPage(url="https://acme.com", markdown="gone", status_code=404)) == ""
    assert sentences("# News\n\n- Acme opened a new location.\nShort.") == ["Acme opened a new location."]
