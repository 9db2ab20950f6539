"""The table the system test prints at the end: one row per scenario."""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = ("scenario", "logical tasks", "POSTs", "paid jobs", "replays", "tries", "result", "seconds")


@dataclass
class Row:
    scenario: str
    logical_tasks: int | str = "-"
    posts: int | str = "-"
    paid: int | str = "-"
    replays: int | str = "-"
    tries: int | str = "-"
    result: str = "not run"
    seconds: float | None = None
    #: Said after the result ("ok: 3 triggers moved in 17 s").
    note: str = ""

    def cells(self) -> list[str]:
        seconds = "-" if self.seconds is None else f"{self.seconds:.0f}"
        return [
            self.scenario,
            str(self.logical_tasks),
            str(self.posts),
            str(self.paid),
            str(self.replays),
            str(self.tries),
            f"{self.result}: {self.note}" if self.note else self.result,
            seconds,
        ]


ROWS: list[Row] = []
#: Lines printed under the table: what a scenario measured beyond its row.
NOTES: list[str] = []


def table(rows: list[Row]) -> str:
    lines = [list(COLUMNS), *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(COLUMNS))]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|-" + "-|-".join("-" * width for width in widths) + "-|"
    return "\n".join([render(lines[0]), rule, *(render(line) for line in lines[1:])])
