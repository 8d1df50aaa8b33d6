"""One identity per postmortem: an archived copy, another scheme or host case, a trailing slash
or tracking parameters name the same document; a postmortem without a URL is its text's hash."""

from __future__ import annotations

import pytest

from knowledge.canonical import canonical_url, document_id

SAME = "https://blog.cloudflare.com/todays-outage-post-mortem-82515"


@pytest.mark.parametrize(
    "url",
    [
        "https://blog.cloudflare.com/todays-outage-post-mortem-82515/",
        "HTTP://Blog.Cloudflare.COM/todays-outage-post-mortem-82515",
        "https://www.blog.cloudflare.com/todays-outage-post-mortem-82515#timeline",
        "https://blog.cloudflare.com/todays-outage-post-mortem-82515?utm_source=hn&utm_medium=x",
        "https://web.archive.org/web/20211006135542/https://blog.cloudflare.com/todays-outage-post-mortem-82515/",
        "http://web.archive.org/web/2019id_/blog.cloudflare.com/todays-outage-post-mortem-82515",
        "https://blog.cloudflare.com:443/todays-outage-post-mortem-82515",
        # a corpus line whose url field swallowed the next link of its Markdown
        "https://blog.cloudflare.com/todays-outage-post-mortem-82515/), [see also](https://x.example/",
    ],
)
def test_every_spelling_of_one_url_is_one_document(url: str) -> None:
    assert canonical_url(url) == SAME
    assert document_id(url, "any text") == SAME


def test_query_parameters_that_name_the_page_are_kept() -> None:
    assert canonical_url("https://youtube.com/watch?v=MoIdU0J0f0E") != canonical_url(
        "https://youtube.com/watch?v=LpFApeaGv7A"
    )
    assert canonical_url("https://x.example/?b=2&a=1") == canonical_url("https://x.example?a=1&b=2")


def test_a_postmortem_without_a_url_is_known_by_its_text() -> None:
    assert document_id("", "Disk  full\nagain") == document_id("", "disk full again")
    assert document_id("", "Disk full").startswith("sha:")
    assert document_id("not a url", "x") != document_id("not a url", "y")


@pytest.mark.parametrize("junk", ["javascript:alert(1)", "<!channel>", "http://[::1", "x" * 5000])
def test_what_is_not_an_http_url_does_not_become_one(junk: str) -> None:
    assert not document_id(junk, "text").startswith("https://")
    assert len(canonical_url(junk)) <= 2048
