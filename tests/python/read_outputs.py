#!/usr/bin/env python3
"""Check that the Parquet output of a Bot4 replay reads the same in pyarrow, polars and
DuckDB.

Usage: read_outputs.py OUTDIR

For every table folder of OUTDIR (ticks, bar_features, signals, orders, reports, fills,
positions, equity, risk, control, audit) it reads the part files with all three, and checks that

- the row counts agree across the three readers;
- they agree with summary.json: `ticks` and `fills` are the rows of ticks/ and fills/,
  and every `(table, rows, sha256)` of `digests` has that table's row count;
- every money and quantity column is a decimal in each reader (Decimal128(38, 12)),
  `ts` (a bar's `start` and `end`) is a timestamp, and the column sums agree exactly across the readers;
- the audit log is a whole hash chain, recomputed here with hashlib in stored order (part
  files by name): seq 1, 2, … without gaps, each prev_hash the previous entry's hash
  (64 zeros first), each hash sha256(prev_hash || "{seq}|{ts_ns}|{kind}|{payload}") as
  64 lowercase hex digits, and it ends at summary.json's `audit` head when there is one.

Exits 0 when everything holds, 1 with one line per problem otherwise, 2 on bad usage or
missing Python packages. Needs: pip install pyarrow polars duckdb
"""

from __future__ import annotations

import decimal
import hashlib
import json
import sys
from pathlib import Path
from typing import NoReturn

TABLES = [
    "ticks",
    "bar_features",
    "signals",
    "orders",
    "reports",
    "fills",
    "positions",
    "equity",
    "risk",
    "control",
    "audit",
]

# The decimal columns of each table, as documented in schemas/src/arrow/records.rs.
DECIMALS = {
    "ticks": ["price", "size", "bid_price", "bid_size", "ask_price", "ask_size"],
    "bar_features": ["open", "high", "low", "close", "volume"],
    "signals": ["bid", "ask"],
    "orders": ["price", "trigger", "qty"],
    "reports": ["fill_qty", "fill_price", "fee", "leaves_qty"],
    "fills": ["price", "qty", "fee"],
    "positions": ["qty", "avg_price", "mark", "cash", "realized_pnl", "unrealized_pnl", "fees"],
    "equity": ["equity", "realized_pnl", "unrealized_pnl", "fees", "gross_exposure", "peak"],
    "risk": ["exposure", "risk_at_stop"],
    "control": [],
    "audit": [],
}

# The timestamp columns of each table (`ts` where not listed).
TIMES = {"bar_features": ["start", "end"]}

PRECISION, SCALE = 38, 12


def usage(message: str) -> NoReturn:
    print(f"read_outputs.py: {message}", file=sys.stderr)
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    sys.exit(2)


try:
    import duckdb
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
except ImportError as e:
    usage(f"{e}; install the readers with `pip install pyarrow polars duckdb`")


def as_decimal(value) -> decimal.Decimal | None:
    """A sum as an exact decimal (None for the sum of no rows)."""
    if value is None:
        return None
    return decimal.Decimal(str(value)).normalize()


class Checker:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.problems: list[str] = []
        self.rows: dict[str, int] = {}
        # (entries, last hash) of the audit log, once its chain has been checked.
        self.audit_head: tuple[int, str] | None = None

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def table(self, name: str) -> None:
        folder = self.out / name
        parts = sorted(folder.glob("*.parquet"))
        if not parts:
            self.fail(f"{name}/: no part files")
            return
        glob = str(folder / "*.parquet")

        arrow = ds.dataset(str(folder), format="parquet").to_table()
        frame = pl.read_parquet(glob)
        con = duckdb.connect()
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{glob}')").fetchall()
        duck_types = {row[0]: str(row[1]) for row in described}
        duck_rows = con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0]

        counts = {"pyarrow": arrow.num_rows, "polars": frame.height, "duckdb": duck_rows}
        if len(set(counts.values())) != 1:
            self.fail(f"{name}/: row counts differ between readers: {counts}")
        self.rows[name] = arrow.num_rows

        for column in TIMES.get(name, ["ts"]):
            if column not in arrow.column_names:
                self.fail(f"{name}/: no `{column}` column")
                continue
            kinds = {
                "pyarrow": pa.types.is_timestamp(arrow.schema.field(column).type),
                "polars": isinstance(frame.schema[column], pl.Datetime),
                "duckdb": duck_types[column].startswith("TIMESTAMP"),
            }
            for reader, ok in kinds.items():
                if not ok:
                    self.fail(f"{name}/{column}: not a timestamp in {reader}")

        for column in DECIMALS[name]:
            if column not in arrow.column_names:
                self.fail(f"{name}/: no `{column}` column")
                continue
            self.decimal_column(name, column, arrow, frame, con, glob, duck_types)
        con.close()

    def decimal_column(self, name, column, arrow, frame, con, glob, duck_types) -> None:
        where = f"{name}/{column}"
        arrow_type = arrow.schema.field(column).type
        if not (
            pa.types.is_decimal(arrow_type)
            and arrow_type.precision == PRECISION
            and arrow_type.scale == SCALE
        ):
            self.fail(
                f"{where}: pyarrow reads {arrow_type}, expected decimal128({PRECISION}, {SCALE})"
            )
        polars_type = frame.schema[column]
        if not isinstance(polars_type, pl.Decimal) or polars_type.scale != SCALE:
            self.fail(f"{where}: polars reads {polars_type}, expected Decimal(scale={SCALE})")
        duck_type = duck_types[column]
        if duck_type != f"DECIMAL({PRECISION},{SCALE})":
            self.fail(f"{where}: duckdb reads {duck_type}, expected DECIMAL({PRECISION},{SCALE})")

        # The exact sum, as each reader computes it, must be the same number. (Over no
        # values polars sums to 0 and the others to null: nothing to compare.)
        if arrow[column].null_count == arrow.num_rows:
            return
        sums = {
            "pyarrow": as_decimal(pc.sum(arrow[column]).as_py()),
            "polars": as_decimal(frame.get_column(column).sum()),
            "duckdb": as_decimal(
                con.execute(f"SELECT sum(\"{column}\") FROM read_parquet('{glob}')").fetchone()[0]
            ),
        }
        if len(set(sums.values())) != 1:
            self.fail(f"{where}: sums differ between readers: {sums}")

    def audit_chain(self) -> None:
        """The audit log's chain, recomputed independently of Bot4's Rust."""
        parts = sorted((self.out / "audit").glob("*.parquet"))
        if not parts:
            return
        prev, seq = "0" * 64, 0
        for part in parts:
            table = pq.read_table(part)
            ts = pc.cast(table["ts"], pa.int64()).to_pylist()
            rows = zip(
                table["seq"].to_pylist(),
                ts,
                table["kind"].to_pylist(),
                table["payload"].to_pylist(),
                table["prev_hash"].to_pylist(),
                table["hash"].to_pylist(),
            )
            for row, (s, t, kind, payload, prev_hash, hash_) in enumerate(rows):
                where = f"audit/{part.name} row {row} (seq {s})"
                seq += 1
                if s != seq:
                    self.fail(f"{where}: expected seq {seq}")
                    return
                if prev_hash != prev:
                    self.fail(f"{where}: prev_hash is not the previous entry's hash")
                    return
                text = f"{s}|{t}|{kind}|{payload}".encode("utf-8")
                if hashlib.sha256(bytes.fromhex(prev) + text).hexdigest() != hash_:
                    self.fail(f"{where}: hash does not match its contents")
                    return
                prev = hash_
        self.audit_head = (seq, prev)

    def summary(self) -> None:
        path = self.out / "summary.json"
        try:
            summary = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            self.fail(f"summary.json: {e}")
            return
        for key in ["ticks", "fills"]:
            if key not in summary:
                self.fail(f"summary.json: no `{key}`")
            elif key in self.rows and summary[key] != self.rows[key]:
                self.fail(
                    f"summary.json: {key} = {summary[key]}, but {key}/ holds {self.rows[key]} rows"
                )
        head = summary.get("audit")
        found = self.audit_head
        if head is not None and found is not None:
            if (head.get("entries"), head.get("head")) != found:
                self.fail(
                    f"summary.json: audit head {head}, but audit/ ends after {found[0]} "
                    f"entries in {found[1]}"
                )
        for entry in summary.get("digests", []):
            table, rows = entry[0], entry[1]
            if table in self.rows and rows != self.rows[table]:
                self.fail(
                    f"summary.json: digest of {table} counts {rows} rows, {table}/ holds {self.rows[table]}"
                )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        usage("expected one argument, the output folder of a replay")
    out = Path(argv[1])
    if not out.is_dir():
        usage(f"{out} is not a folder")
    checker = Checker(out)
    for name in TABLES:
        try:
            checker.table(name)
        except Exception as e:  # noqa: BLE001 (a reader refusing a file is a finding)
            checker.fail(f"{name}/: {type(e).__name__}: {e}")
    try:
        checker.audit_chain()
    except Exception as e:  # noqa: BLE001
        checker.fail(f"audit/: {type(e).__name__}: {e}")
    checker.summary()
    if checker.problems:
        print(f"read_outputs.py: {out}: {len(checker.problems)} problem(s)", file=sys.stderr)
        for problem in checker.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    rows = ", ".join(f"{t} {n}" for t, n in checker.rows.items())
    print(f"read_outputs.py: {out}: pyarrow, polars and duckdb agree ({rows})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
