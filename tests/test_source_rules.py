"""Rules the whole code base keeps, checked on its source: one place commits, one clock tells time.

Parsed, not grepped, so that a comment or this file's own strings do not count, and so that
`datetime.now(UTC)` (an instant) is told apart from `datetime.now()` (the server's wall clock).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = (
    "config",
    "tenants",
    "shared",
    "vendor_console",
    "customer_portal",
    "bench",
    "wsgi.py",
)
EVERYWHERE = (*APPLICATION, "tests", "migrations")
THE_UNIT_OF_WORK = ROOT / "shared" / "unit_of_work.py"


def python_files(*roots: str) -> list[Path]:
    files: list[Path] = []
    for name in roots:
        path = ROOT / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    assert files, roots
    return files


def calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return "?"


def where(path: Path, node: ast.AST) -> str:
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{name}:{node.lineno}"


def server_clock_reads(path: Path) -> list[str]:
    """`date.today()`, `datetime.today()`, `datetime.utcnow()`, `datetime.now()` with no zone."""
    found = []
    for call in calls(path):
        owner = dotted(call.func.value).removeprefix("datetime.")
        name = call.func.attr
        naive_now = name == "now" and not call.args and not call.keywords
        if (owner, name) in {("date", "today"), ("datetime", "today"), ("datetime", "utcnow")} or (
            owner == "datetime" and naive_now
        ):
            found.append(f"{where(path, call)} {owner}.{name}()")
    return found


def commits(path: Path) -> list[str]:
    return [where(path, call) for call in calls(path) if call.func.attr == "commit"]


def test_nothing_reads_the_server_clock():
    found = [line for path in python_files(*EVERYWHERE) for line in server_clock_reads(path)]
    assert found == [], "use shared.clock (the vendor's today) or a frozen time"


def test_only_the_unit_of_work_commits():
    found = [
        line
        for path in python_files(*APPLICATION)
        if path != THE_UNIT_OF_WORK
        for line in commits(path)
    ]
    assert found == [], "operations flush; shared.unit_of_work commits once per request or job"


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("from datetime import date\ndate.today()", True),
        ("import datetime\ndatetime.date.today()", True),
        ("from datetime import datetime\ndatetime.now()", True),
        ("import datetime\ndatetime.datetime.utcnow()", True),
        ("from datetime import datetime\ndatetime.today()", True),
        ("from datetime import UTC, datetime\ndatetime.now(UTC)", False),
        ("from datetime import datetime\ndatetime.now(tz=zone)", False),
        ("# date.today() in a comment\nx = 'datetime.now()'", False),
    ],
)
def test_the_scan_sees_what_it_must(tmp_path, source, flagged):
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert bool(server_clock_reads(path)) is flagged


def test_the_scan_sees_a_commit(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("db.session.commit()\nsession.commit ()\n# x.commit()\n", encoding="utf-8")
    assert len(commits(path)) == 2


# --- templates ----------------------------------------------------------------------------------

TEMPLATE_ROOTS = ("shared/templates", "vendor_console/templates", "customer_portal/templates")
# An instant (a column ending in _at, or `now`) printed with anything but the vendor's clock.
_OUTPUT = re.compile(r"\{\{(.*?)\}\}", re.S)
_SERVER_FORMAT = re.compile(r"datetimeformat|strftime|\|\s*datemedium|\|\s*datelong")


def templates() -> list[Path]:
    return sorted(
        path
        for name in TEMPLATE_ROOTS
        for path in (ROOT / name).rglob("*")
        if path.suffix in {".html", ".txt"}
    )


def raw_instants(path: Path) -> list[str]:
    """Outputs that print an instant bare, through another filter, or with a server-side format.

    An instant used as a test (`if invoice.sent_at`) or as an argument is not printed, so only a
    name that ends the expression or is followed by a filter counts.
    """
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for output in _OUTPUT.finditer(path.read_text(encoding="utf-8")):
        expression = output.group(1).strip()
        printed = False
        for instant in re.finditer(r"\b(?:\w+_at|now)\b", expression):
            rest = expression[instant.end() :].lstrip()
            if rest.startswith("|"):
                printed |= not re.match(r"\|\s*vendor_time\b", rest)
            else:
                printed |= rest == ""
        if printed or (_SERVER_FORMAT.search(expression) and re.search(r"_at\b|now", expression)):
            found.append(f"{name}: {{{{ {expression} }}}}")
    return found


def test_every_instant_in_a_template_is_shown_on_the_vendors_clock():
    found = [line for path in templates() for line in raw_instants(path)]
    assert found == [], "use |vendor_time: the vendor's zone, its abbreviation, no seconds"


@pytest.mark.parametrize(
    ("template", "flagged"),
    [
        ("{{ invoice.sent_at|datetimeformat('medium') }}", True),
        ("{{ key.created_at }}", True),
        ("{{ _('until %(d)s', d=r.expires_at|datemedium) }}", True),
        ("{{ m.created_at.strftime('%Y') }}", True),
        ("{{ invoice.sent_at|vendor_time if invoice.sent_at else _('Not sent yet') }}", False),
        ("{{ _('It is now %(time)s.', time=now|vendor_time) }}", False),
        ("{{ invoice.due_date|datemedium }}", False),  # a calendar day, not an instant
    ],
)
def test_the_template_scan_sees_what_it_must(tmp_path, template, flagged):
    path = tmp_path / "page.html"
    path.write_text(template, encoding="utf-8")
    assert bool(raw_instants(path)) is flagged
