"""The results record shared by every benchmark: `record(...)` one figure, then `write(...)` json + markdown.

A figure is compared with its goal ("<= 10 s", ">= 10 x"); a missed goal is reported, never raised.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import subprocess
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CHROMIUM_CANDIDATES = (os.environ.get("CHROMIUM_PATH"), "/usr/lib/chromium/chromium", "/usr/bin/chromium")
# The asyncpg connection's methods that every statement of the app ends in (clinic.db runs them straight on the
# connection, COPY included): where the benchmarks count and time statements.
STATEMENT_METHODS = ("fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table")


@dataclass
class Result:
    name: str
    value: float | None  # None: the benchmark could not run (see note)
    unit: str
    goal: str  # e.g. "<= 10 s", ">= 10 x", "" for a figure reported without a goal
    compared_with: str  # "met", "MISSED (1.8x the goal)", "no goal", "not measured"
    machine: str
    note: str = ""


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and Path(candidate).exists():
            return candidate
    return None


@cache
def machine_info() -> dict[str, str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = " ".join(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    chromium = "none"
    path = chromium_path()
    if path:
        try:
            chromium = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                                      check=False).stdout.strip() or "unknown"
        except (OSError, subprocess.TimeoutExpired):
            chromium = "unknown"
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "memory": memory,
        "python": platform.python_version(),
        "chromium": chromium,
        "os": platform.platform(),
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "load": "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg()),
    }


def machine_label() -> str:
    info = machine_info()
    return f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, {info['chromium']}, {info['date'][:10]}"


GOAL = re.compile(r"^\s*(<=|>=|<|>)\s*([0-9.]+)")


def compare(value: float | None, goal: str) -> str:
    """Whether the value meets a goal written as "<= N unit" or ">= N unit"."""
    if value is None:
        return "not measured"
    match = GOAL.match(goal or "")
    if not match:
        return "no goal"
    op, target = match.group(1), float(match.group(2))
    ok = {"<=": value <= target, "<": value < target, ">=": value >= target, ">": value > target}[op]
    if ok:
        return "met"
    ratio = value / target if op.startswith("<") and target else (target / value if value else float("inf"))
    return f"MISSED ({ratio:.1f}x {'over' if op.startswith('<') else 'short of'} the goal)"


def record(results: list[Result], name: str, value: float | None, unit: str, goal: str = "",
           note: str = "") -> Result:
    result = Result(name=name, value=None if value is None else round(float(value), 3), unit=unit, goal=goal,
                    compared_with=compare(value, goal), machine=machine_label(), note=note)
    results.append(result)
    print(f"[bench] {name}: {fmt(result.value)} {unit}  (goal {goal or '-'}: {result.compared_with})"
          + (f"  {note}" if note else ""), flush=True)
    return result


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(results: list[Result]) -> str:
    info = machine_info()
    lines = ["# Benchmark results", "",
             f"Machine: {info['cpu']} · {info['cores']} cores · {info['memory']} RAM · Python {info['python']} · "
             f"{info['chromium']} · {info['os']} · {info['date']} · load average at start {info['load']} "
             "(other work on this machine inflates timings)", "",
             "| Benchmark | Value | Unit | Goal | Compared with goal | Note |",
             "|---|---:|---|---|---|---|"]
    for r in results:
        note = r.note.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.name} | {fmt(r.value)} | {r.unit} | {r.goal or '—'} | {r.compared_with} | {note} |")
    return "\n".join(lines) + "\n"


def write(results: list[Result], directory: Path = BENCH_DIR, readme: Path | None = None) -> str:
    """bench/results.json (a list of entries) and bench/results.md; returns the markdown. The tracked README
    gets the table only when asked (`make bench-readme` passes it)."""
    entries = [asdict(r) for r in results]
    (directory / "results.json").write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
    text = markdown(results)
    (directory / "results.md").write_text(text)
    if readme is not None:
        update_readme(text, readme)
    return text


README = BENCH_DIR.parent / "README.md"


def update_readme(table: str, readme: Path = README) -> None:
    """Put the latest full run's table between the README's bench markers."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    text = readme.read_text()
    if start not in text or end not in text:
        return
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    body = table.replace("# Benchmark results\n", "").strip()
    readme.write_text(f"{head}{start}\n{body}\n{end}{tail}")
