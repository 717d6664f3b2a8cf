"""docs/requirements.md stays true: every path, construct, setting and test it cites exists.

The page is the traceability table from each requirement to the code that builds it and the tests
that prove it; a renamed test or a moved module would silently break that chain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.paths import REPO_ROOT

DOC = REPO_ROOT / "docs" / "requirements.md"
TEXT = DOC.read_text()
ROWS = [line for line in TEXT.splitlines() if line.startswith("| <a id=")]
SETTINGS = (REPO_ROOT / "config" / "settings.py").read_text()
PATH = re.compile(
    r"^(tests|components|stacks|config|services|lifecycle|scripts|benchmarks|docs|\.github|\.ci)/|^(README\.md|app\.py|cdktf\.json)$"
)


def _row_id(row: str) -> str:
    return re.search(r'id="([^"]+)"', row).group(1)


def _settings_class_has(cls: str, field: str) -> bool:
    body = re.search(rf"^class {cls}\b.*?(?=^class |\Z)", SETTINGS, re.S | re.M)
    return bool(body) and bool(re.search(rf"^    {field}\b|def {field}\b", body.group(0), re.M))


def _problems_in(row: str) -> list[str]:
    """Each backticked token is checked in the context of the path cited before it in the same cell."""
    problems = []
    for cell in row.strip().strip("|").split(" | ")[1:]:
        for segment in cell.split("<br>"):
            current: Path | None = None
            settings_class = None
            for token in re.findall(r"`([^`]+)`", segment):
                if PATH.match(token):
                    path = REPO_ROOT / token.split("<")[0].rstrip("/")
                    if not path.exists():
                        problems.append(f"no path {token}")
                    current, settings_class = (path if path.is_file() else None), None
                elif token.startswith("test_"):
                    if current is None or not current.name.startswith("test_"):
                        problems.append(f"{token} is not preceded by its test file")
                    elif not re.search(rf"^\s*(async )?def {re.escape(token)}\(", current.read_text(), re.M):
                        problems.append(f"no {token} in {current.relative_to(REPO_ROOT)}")
                elif match := re.match(r"^([A-Z]\w*Settings|EnvironmentConfig)\.(\w+)$", token):
                    settings_class = match.group(1)
                    if not _settings_class_has(*match.groups()):
                        problems.append(f"no setting {token}")
                elif settings_class and re.fullmatch(r"[a-z_]\w*", token):
                    if not _settings_class_has(settings_class, token):
                        problems.append(f"no setting {settings_class}.{token}")
                elif re.fullmatch(r"[A-Za-z_]\w*", token) and current is not None and current.suffix == ".py" and not current.name.startswith("test_"):
                    if not re.search(rf"\b{re.escape(token)}\b", current.read_text()):
                        problems.append(f"{token} is not in {current.relative_to(REPO_ROOT)}")
    return problems


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_every_citation_of_the_requirement_exists(row):
    assert not _problems_in(row), _problems_in(row)


def test_ids_are_unique_and_every_cited_id_has_a_row():
    ids = [_row_id(row) for row in ROWS]
    assert len(ids) == len(set(ids)) > 100
    assert not {ref for ref in re.findall(r"\bR\d+\.\d+\b", TEXT) if ref not in ids}


def test_links_to_other_docs_land_on_a_heading():
    def anchors(page: Path) -> set[str]:
        found, in_code = set(re.findall(r'<a id="([^"]+)"></a>', page.read_text())), False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                in_code = not in_code
            elif not in_code and line.startswith("#"):
                found.add(re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-"))
        return found

    broken = []
    for target, anchor in re.findall(r"\]\(([^)#]*)(?:#([^)]+))?\)", TEXT):
        page = DOC if not target else DOC.parent / target
        if not page.exists() or (anchor and page.suffix == ".md" and anchor not in anchors(page)):
            broken.append(f"{target}#{anchor}")
    assert not broken


def test_the_check_catches_a_renamed_test():
    row = next(row for row in ROWS if "test_" in row)
    renamed = re.sub(r"`(test_\w+)`", r"`\1_renamed`", row, count=1)
    assert any("_renamed" in problem for problem in _problems_in(renamed))
