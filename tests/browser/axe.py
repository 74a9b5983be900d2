"""axe-core (as shipped by the axe-playwright-python package) run against a live page."""

from __future__ import annotations

import json
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT

from tests.browser.live import ARTIFACTS

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RESULTS = ARTIFACTS / "axe"


async def audit(page: Any, name: str) -> dict[str, Any]:
    """Run axe with the WCAG 2.2 AA rules; save a summary; return the results."""
    await page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}
    results: dict[str, Any] = await page.evaluate(
        f"axe.run(document, {json.dumps(options)}).then(r => JSON.parse(JSON.stringify(r)))"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = {
        "page": name,
        "url": results["url"],
        "axe": results["testEngine"]["version"],
        "violations": [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]]}
            for v in results["violations"]
        ],
        "passes": len(results["passes"]),
        "incomplete": [v["id"] for v in results["incomplete"]],
        "inapplicable": len(results["inapplicable"]),
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def described(summary: dict[str, Any]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {', '.join(v['nodes'][:3])}" for v in summary["violations"]
    )
