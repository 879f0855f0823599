"""``ghlsync quickstart``: the emulator with demo data, extracted into DuckDB, three queries."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.run import ExtractResult, run_extract

QUERIES: list[tuple[str, str]] = [
    (
        "Open pipeline value by stage",
        """SELECT p.name AS pipeline, s.name AS stage, count(*) AS opportunities,
       round(sum(o.monetary_value), 2) AS value
FROM highlevel.opportunities o
JOIN highlevel.pipelines p ON p.id = o.pipeline_id AND p.location_id = o.location_id
CROSS JOIN unnest(from_json(p.stages, '[{"id": "VARCHAR", "name": "VARCHAR", "position": "DOUBLE"}]')) AS t(s)
WHERE o.status = 'open' AND s.id = o.pipeline_stage_id
GROUP BY p.name, s.name, s.position ORDER BY p.name, s.position""",
    ),
    (
        "Contacts by source",
        """SELECT coalesce(source, '(none)') AS source, count(*) AS contacts
FROM highlevel.contacts GROUP BY 1 ORDER BY contacts DESC, source""",
    ),
    (
        "New contacts per week (last 56 days)",
        """SELECT CAST(date_trunc('week', date_added) AS DATE) AS week, count(*) AS new_contacts
FROM highlevel.contacts
WHERE date_added >= now() - INTERVAL 56 DAY
GROUP BY 1 ORDER BY 1""",
    ),
]


@dataclass
class QuickstartResult:
    extract: ExtractResult
    database: Path
    answers: list[tuple[str, str, list[str], list[tuple[Any, ...]]]]


def quickstart(
    database: str | Path = "ghlsync-quickstart.duckdb",
    *,
    locations: int = 3,
    contacts: int = 1500,
    opportunities: int = 300,
    seed: int = 7,
    before_extract: Callable[[Any], None] | None = None,
) -> QuickstartResult:
    """Start the emulator on a free loopback port, extract everything, answer ``QUERIES``.

    ``before_extract(server)`` runs once the emulator is up, before the extract (the CLI's
    quickstart pushes a sample CSV into it there, so both directions show).
    """
    import duckdb

    from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions

    path = Path(database).resolve()
    options = SeedOptions(
        locations=locations, contacts=contacts, opportunities=opportunities, seed=seed
    )
    with (
        EmulatorServer(  # no search lag: the demo's pushed contacts must be in its extract
            options, EmulatorSettings(rate_limit=None, search_index_delay_ms=0)
        ) as server,
        tempfile.TemporaryDirectory(prefix="ghlsync-quickstart-") as workdir,
    ):
        config = ExtractConfig.of(
            [loc["id"] for loc in server.state.locations],
            tokens={loc["id"]: loc["token"] for loc in server.state.locations},
            base_url=server.base_url,
            rate_limit=False,
        )
        for suffix in ("", ".wal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if before_extract is not None:
            before_extract(server)
        result = run_extract(config, to=f"duckdb:///{path}", pipelines_dir=workdir)
    answers = []
    with duckdb.connect(str(path), read_only=True) as con:
        for title, sql in QUERIES:
            relation = con.sql(sql)
            answers.append((title, sql, list(relation.columns), relation.fetchall()))
    return QuickstartResult(result, path, answers)
