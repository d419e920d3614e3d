"""The guard's accuracy on the project's own corpus of welfare prose (tests/unit/personal_data_corpus.jsonl):
needs, impact stories and supporter messages of a Korean district, one sentence a line with the kinds of
personal data a careful reader finds in it (none for most).

Recall of a kind: the share of sentences holding that kind in which the guard finds it. False positives of a
kind: the share of sentences NOT holding that kind in which the guard reports it anyway. Overall: a sentence
holding personal data is caught when every kind in it is found; a clean sentence is a false positive when
anything at all is reported. Run with ``-s`` to see the table (the README quotes it):

    .venv/bin/python -m pytest -q -s tests/unit/test_personal_data_corpus.py
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from kindcity.domain.personal_data import KINDS, find_personal_data

CORPUS = Path(__file__).with_name("personal_data_corpus.jsonl")
RECALL_GOAL = 0.99
FALSE_POSITIVE_GOAL = 0.01
ENOUGH = 20  # a kind with fewer examples than this is reported but not held to the goal


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    kinds: frozenset[str]


def _corpus() -> list[Line]:
    lines = []
    for number, raw in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        item = json.loads(raw)
        lines.append(Line(number, item["text"], frozenset(item["kinds"])))
    return lines


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.value:6.1%} ({self.hits}/{self.total})"


def _measure(lines: list[Line]):
    found = {line.number: {f.kind for f in find_personal_data(line.text)} for line in lines}
    per_kind = {}
    for kind in KINDS:
        holding = [line for line in lines if kind in line.kinds]
        others = [line for line in lines if kind not in line.kinds]
        per_kind[kind] = (Rate(sum(kind in found[line.number] for line in holding), len(holding)),
                          Rate(sum(kind in found[line.number] for line in others), len(others)))
    positives = [line for line in lines if line.kinds]
    clean = [line for line in lines if not line.kinds]
    overall = (Rate(sum(line.kinds <= found[line.number] for line in positives), len(positives)),
               Rate(sum(bool(found[line.number]) for line in clean), len(clean)))
    mistakes = [(line, found[line.number]) for line in lines if found[line.number] != line.kinds]
    return per_kind, overall, mistakes


def test_corpus_is_large_realistic_and_well_formed():
    lines = _corpus()
    assert len(lines) >= 300
    assert len({line.text for line in lines}) == len(lines)  # no sentence twice
    assert all(line.kinds <= set(KINDS) for line in lines)
    clean = sum(not line.kinds for line in lines)
    assert clean / len(lines) >= 0.5  # most public text holds no personal data
    assert all(sum(kind in line.kinds for line in lines) >= ENOUGH for kind in KINDS)


def test_recall_and_false_positives_per_kind_meet_the_goal():
    per_kind, overall, mistakes = _measure(_corpus())
    rows = [f"{'kind':<14} {'recall':>16}   {'false positives':>16}"]
    rows += [f"{kind:<14} {str(recall):>16}   {str(false):>16}" for kind, (recall, false) in per_kind.items()]
    rows.append(f"{'overall':<14} {str(overall[0]):>16}   {str(overall[1]):>16}")
    print("\npersonal-data guard on tests/unit/personal_data_corpus.jsonl\n" + "\n".join(rows))
    for line, found in mistakes:
        print(f"  line {line.number}: expected {sorted(line.kinds)}, found {sorted(found)}: {line.text}")
    assert overall[0].value >= RECALL_GOAL, "overall recall"
    assert overall[1].value <= FALSE_POSITIVE_GOAL, "overall false positives"
    for kind, (recall, false) in per_kind.items():
        if recall.total >= ENOUGH:
            assert recall.value >= RECALL_GOAL, f"{kind} recall"
        assert false.value <= FALSE_POSITIVE_GOAL, f"{kind} false positives"


@pytest.mark.parametrize("line", [line for line in _corpus() if line.kinds], ids=lambda line: f"line{line.number}")
def test_every_finding_in_the_corpus_is_masked(line):
    for finding in find_personal_data(line.text):
        value = unicodedata.normalize("NFKC", line.text[finding.offset:finding.offset + finding.length])
        digits = re.sub(r"\D", "", value)
        assert "*" in finding.masked and value not in finding.masked
        if len(digits) >= 6:  # the digits that identify a person are hidden
            assert digits not in re.sub(r"\D", "", finding.masked)
            assert finding.masked.count("*") >= 2
