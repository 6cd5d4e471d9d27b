"""Every relative link in README.md and docs/ leads to a file of the repository (and heading, if named)."""

import re
from pathlib import Path

from devstack.template import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def links(page: Path) -> list[str]:
    """The link targets of a page's prose (code blocks hold no links)."""
    return [m["target"] for m in LINK.finditer(FENCE.sub("", page.read_text()))]


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    slugs: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slugs.add(slug if slug not in slugs else f"{slug}-1")
    return slugs


def broken(page: Path) -> list[str]:
    found = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto: — not ours to check offline
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.is_file():
            found.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            found.append(f"{target}: no such heading")
    return found


def test_the_docs_are_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(ROOT / "README.md")}
    pages = {page.resolve() for page in PAGES[1:] if page.parent.name != "decisions"}
    assert pages - linked == set()


def test_every_local_link_resolves():
    assert {page.relative_to(ROOT).as_posix(): broken(page) for page in PAGES if broken(page)} == {}


def test_the_readme_stays_an_entry_point():
    """About 200 lines (issue 17): the rest belongs in docs/."""
    assert len((ROOT / "README.md").read_text().splitlines()) <= 220
