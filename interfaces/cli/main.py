"""The `parindex` command line: one subcommand module per area."""

from __future__ import annotations

import argparse
import json
import os
import sys

from domain.errors import DomainError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def default_data_dir() -> str:
    return os.environ.get("PARINDEX_DATA_DIR", "parindex-data")


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        default=default_data_dir(),
        help="thư mục dữ liệu / data directory (env PARINDEX_DATA_DIR)",
    )


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="in JSON cho máy / machine output")


def emit(args: argparse.Namespace, data: object, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(text)


def build_parser() -> argparse.ArgumentParser:
    from interfaces.cli import (
        audit_cmd,
        client_cmd,
        cycle_cmd,
        demo_cmd,
        deploy_cmd,
        document_cmd,
        framework_cmd,
        log_cmd,
        oversight_cmd,
        past_cmd,
        plan_cmd,
        season_cmd,
        serve_cmd,
        survey_cmd,
        witness_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="parindex",
        description="parindex: sổ ghi điểm Chỉ số CCHC có chữ ký và nhật ký minh bạch "
        "(signed, verifiable PAR-index scoring).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        deploy_cmd,
        framework_cmd,
        log_cmd,
        audit_cmd,
        serve_cmd,
        client_cmd,
        season_cmd,
        cycle_cmd,
        past_cmd,
        survey_cmd,
        oversight_cmd,
        plan_cmd,
        document_cmd,
        demo_cmd,
        witness_cmd,
    ):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DomainError as e:
        lang = "en" if os.environ.get("PARINDEX_LANG", "vi") == "en" else "vi"
        print(
            f"Lỗi [{e.code}]: {e.message(lang)}"
            if lang == "vi"
            else f"Error [{e.code}]: {e.message(lang)}",
            file=sys.stderr,
        )
        for p in e.problems:
            where = ", ".join(
                f"{k}={v}" for k, v in p.as_dict(lang).items() if k in ("row", "column", "field")
            )
            print(f"  - [{p.code}] {where}: {p.as_dict(lang)['message']}", file=sys.stderr)
        return EXIT_FINDINGS if e.status < 500 else EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
