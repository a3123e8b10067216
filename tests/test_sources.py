"""The series' sources: every quote of Kutcher is word for word in an article, and every link into
REFERENCES.md or GLOSSARY.md points at an entry that exists."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
QUOTE = re.compile(r'"([^"]{3,}?)"|“([^”]{3,}?)”')


def article_quotes() -> list:
    """The words the press articles put in quotation marks, as REFERENCES.md lists them under "Quotes:"."""
    text = (ROOT / "REFERENCES.md").read_text()
    claims = text[text.index("## The claims"):text.index("## Sora")]
    listed = " ".join(re.findall(r"Quotes:(.*?)(?:Its own words|A summary|- <a|\Z)", claims, re.S))
    return [_words(m) for m in QUOTE.finditer(listed)]


def _words(match) -> str:
    """The quoted words, on one line."""
    return " ".join((match.group(1) or match.group(2)).split()).lower()


def paragraphs() -> list:
    """(where, paragraph) for every paragraph of the README and of the notebooks' Markdown cells."""
    found = [("README.md", p) for p in (ROOT / "README.md").read_text().split("\n\n")]
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        found += [(path.name, p) for c in cells if c["cell_type"] == "markdown"
                  for p in "".join(c["source"]).split("\n\n")]
    return found


def test_the_article_quotes_are_listed():
    quotes = article_quotes()
    assert len(quotes) >= 7 and any("realistic 10 to 15-second videos" in q for q in quotes)


def test_every_quote_of_kutcher_is_word_for_word_in_an_article():
    allowed = article_quotes()
    wrong = []
    for where, paragraph in paragraphs():
        if "Kutcher" not in paragraph and "he said" not in paragraph:
            continue
        for match in QUOTE.finditer(paragraph):
            words = _words(match)
            if len(words.split()) >= 2 and not any(words in q for q in allowed) and "`" not in words:
                wrong.append((where, words))
    assert not wrong, f"quoted, but not in an article's quotation marks (REFERENCES.md): {wrong}"


@pytest.mark.parametrize("name", ["REFERENCES.md", "GLOSSARY.md"])
def test_every_link_into_the_sources_has_its_entry(name):
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', (ROOT / name).read_text()))
    texts = [(ROOT / f).read_text() for f in ("README.md", "REFERENCES.md", "GLOSSARY.md")]
    texts += [p.read_text() for p in NOTEBOOKS]
    linked = {a for t in texts for a in re.findall(rf"{name}#([\w-]+)", t)}
    assert linked, f"nothing links into {name}"
    assert not linked - anchors, f"links to missing entries of {name}: {sorted(linked - anchors)}"
