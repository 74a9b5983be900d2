"""The mutation check (bench/mutants.py): every hand-written mutant of a rule that guards
residents or staff is caught by the tests named for it. Slow (a pytest run per mutant);
CI runs it with the other slow runs (`make test-slow`), and `python -m bench.mutants` prints the score."""

from __future__ import annotations

import pytest

from bench.mutants import MUTANTS, run


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_mutant_is_caught() -> None:
    results = run(MUTANTS)
    missed = [mutant.name for mutant, caught in results if not caught]
    assert missed == []
    assert len(results) >= 8
