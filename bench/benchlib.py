"""What both benches print about the machine they ran on."""

from __future__ import annotations

from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def latency_line(name: str, r: dict) -> str:
    """One read's row of a latency table (`r` as status_bench._ms makes it)."""
    return (
        f"{name:<24} p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>7.2f} ms  "
        f"max {r['max_ms']:>7.2f} ms  ({r['reads']} reads)"
    )


def save_results(results_dir: Path, prefix: str, report: dict) -> Path:
    """`report` as JSON in `results_dir`/<prefix>-<UTC stamp>.json (git-ignored)."""
    import json
    from datetime import UTC, datetime

    results_dir.mkdir(exist_ok=True)
    out = results_dir / f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    return out


def latencies(samples: list[float]) -> dict:
    """p50, p99 and max in milliseconds of timed reads (seconds), and how many."""
    import statistics

    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "reads": len(ordered),
    }
