"""Run upstream's own test suites against our packages and hold the line on the result.

The runner itself lives outside this repository, in ``../shared/compat`` (or wherever
``COMPAT_DIR`` points): it downloads each upstream release's sdist at run time, installs our
packages into a fresh venv the way a user does, and runs upstream's tests against them.
Nothing upstream is stored here.

This script adds the two rules we keep:

* each suite passes at least ``FLOOR`` of its tests;
* every test that passes on upstream but not on ours is named in ``docs/compatibility.md``,
  with the reason we differ. A new difference that nobody wrote down fails the run.

Usage: python scripts/compat.py [--junit FILE] [--all] [SUITE ...]   (default: all three)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "compatibility.md"


@dataclass(frozen=True)
class Suite:
    """One upstream suite: the release it is pinned to and the floor we promise."""

    release: str
    floor: int
    total: int
    services: tuple[str, ...] = ()
    #: A ``-k`` expression leaving out documented differences whose upstream test is
    #: property-based: hypothesis spends about five minutes shrinking each failure, so the CI
    #: run leaves them out (``--all`` keeps them).
    slow_known: str = ""


#: Pinned releases, so that a new upstream release changes nothing until we choose it.
SUITES: dict[str, Suite] = {
    "asgiref": Suite("3.13.0", floor=128, total=134),
    # The other 3 are differences documented in docs/compatibility.md: the Date header, our own
    # status-line version, and test_request_body_chunking's race (it passes in some runs).
    "daphne": Suite(
        "4.2.3",
        floor=66,
        total=70,
        # -k, since --deselect matches by prefix (it would take test_headers_type too).
        slow_known="not (TestHTTPResponse and test_headers and not type)",
    ),
    "channels_redis": Suite("4.3.0", floor=112, total=118, services=("sentinel",)),
}

_SUMMARY = re.compile(r"^(\w+): (\d+) passed, (\d+) failed, (\d+) errors, (\d+) skipped$")


def compat_dir() -> Path:
    """``$COMPAT_DIR``, else the nearest ``shared/compat`` beside the checkout or an ancestor."""
    if "COMPAT_DIR" in os.environ:
        candidates = [Path(os.environ["COMPAT_DIR"])]
    else:
        candidates = [parent / "shared" / "compat" for parent in ROOT.parents]
    for found in candidates:
        if (found / "upstream-suite").is_file():
            return found
    sys.exit(
        f"no upstream-suite runner in {', '.join(map(str, candidates))}: put the shared/ "
        "folder beside the repository, or set COMPAT_DIR to the folder that holds upstream-suite"
    )


def read_outcomes(tsv: Path) -> dict[str, str]:
    """test id -> outcome, from the runner's tab-separated results."""
    outcomes: dict[str, str] = {}
    if tsv.is_file():
        for line in tsv.read_text().splitlines():
            test, _, outcome = line.partition("\t")
            if test:
                outcomes[test] = outcome.strip()
    return outcomes


def undocumented(lost: list[str], doc_text: str) -> list[str]:
    """The tests among ``lost`` that docs/compatibility.md does not name.

    A test is named by its function name (``test_x``, or ``test_x[param]``) inside backticks,
    the way the page's tables list them.
    """
    named = set(re.findall(r"`([^`\s]+)`", doc_text))
    missing = []
    for test in lost:
        short = test.rsplit("::", 1)[-1]
        base = short.split("[", 1)[0]
        if not ({test, short, base} & named):
            missing.append(test)
    return missing


def run_suite(
    name: str, suite: Suite, runner: Path, work: Path, everything: bool = False
) -> list[str]:
    """Run one suite; return the problems found (empty when it holds)."""
    for service in suite.services:
        subprocess.run([str(runner / "services.sh"), service], check=False)
    out = work / name
    env = {**os.environ, "VERSION": suite.release, "COMPAT_VENV": str(work / "venv")}
    if suite.slow_known and not everything:
        env["PYTEST_ARGS"] = f"-k '{suite.slow_known}'"
    proc = subprocess.run(
        [str(runner / "upstream-suite"), name, str(out)],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    print("\n".join(lines[-3:]))
    match = _SUMMARY.match(lines[-1]) if lines else None
    if match is None:
        return [f"{name}: the runner printed no summary line (exit {proc.returncode})"]
    passed = int(match.group(2))
    problems = []
    if passed < suite.floor:
        problems.append(f"{name}: {passed} of {suite.total} passed, below the floor {suite.floor}")
    baseline = read_outcomes(runner / "baselines" / f"{name}-results.tsv")
    ours = read_outcomes(out / f"{name}-results.tsv")
    lost = sorted(t for t, o in baseline.items() if o == "passed" and ours.get(t) != "passed")
    missing = undocumented(lost, DOC.read_text() if DOC.is_file() else "")
    for test in missing:
        problems.append(
            f"{name}: {test} passes upstream, {ours.get(test, 'missing')} here, "
            "and docs/compatibility.md does not say why"
        )
    print(
        f"{name}: {passed} of {suite.total} passed (floor {suite.floor}); "
        f"{len(lost)} upstream passes differ here, {len(lost) - len(missing)} of them "
        "explained in docs/compatibility.md"
    )
    return problems


def write_junit(path: Path, results: dict[str, list[str]]) -> None:
    """One test case per suite, so the CI's closing line counts these checks too."""
    bad = sum(1 for problems in results.values() if problems)
    suite = ET.Element("testsuite", name="compat", tests=str(len(results)), failures=str(bad))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    for name, problems in results.items():
        case = ET.SubElement(suite, "testcase", classname="compat", name=name)
        if problems:
            ET.SubElement(case, "failure", message=problems[0]).text = "\n".join(problems)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def main(argv: list[str]) -> int:
    junit = None
    if argv[:1] == ["--junit"]:
        junit, argv = Path(argv[1]), argv[2:]
    everything = "--all" in argv
    argv = [arg for arg in argv if arg != "--all"]
    names = argv or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        sys.exit(f"unknown suite(s) {unknown}; choose from {sorted(SUITES)}")
    runner = compat_dir()
    work = Path(os.environ.get("COMPAT_WORK", ROOT / ".cache" / "compat"))
    work.mkdir(parents=True, exist_ok=True)
    results = {n: run_suite(n, SUITES[n], runner, work, everything) for n in names}
    if junit is not None:
        write_junit(junit, results)
    problems = [p for found in results.values() for p in found]
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
