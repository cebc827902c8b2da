"""`parindex init` and `parindex key ...`."""

from __future__ import annotations

import argparse
import unicodedata
import uuid
from pathlib import Path

from application.commands import sign_command, utc_now_text
from application.deployment import init_deployment, open_app
from application.signing import keys
from domain.errors import DomainError
from interfaces.cli.main import add_data_dir, add_json, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="khởi tạo triển khai mới / create a deployment")
    add_data_dir(p)
    add_json(p)
    p.add_argument(
        "--origin",
        default="parindex.local/par-index",
        help="tên nguồn nhật ký trong điểm kiểm tra / checkpoint origin",
    )
    p.add_argument("--admin-name", default="Quản trị viên")
    p.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... (mặc định: SQLite trong thư mục dữ liệu)",
    )
    p.set_defaults(func=cmd_init)

    k = sub.add_parser("key", help="khóa cá nhân / personal keys").add_subparsers(
        dest="key_command", required=True, metavar="ACTION"
    )
    p = k.add_parser("new", help="tạo cặp khóa / make a key pair (file 0600)")
    p.add_argument("--out", required=True)
    p.add_argument("--name", default=None, help="họ tên / display name")
    add_json(p)
    p.set_defaults(func=cmd_key_new)

    p = k.add_parser("register", help="đăng ký khóa (ký bởi quản trị) / register a key")
    add_data_dir(p)
    add_json(p)
    p.add_argument("--admin-key", required=True, help="tệp khóa quản trị / admin key file")
    p.add_argument("--key", required=True, help="tệp khóa (hoặc khóa công khai) cần đăng ký")
    p.add_argument("--role", required=True)
    p.add_argument("--scope", required=True, help="*, province:X, authority:X, commune:X")
    p.add_argument("--name", required=True, help="họ tên người giữ khóa")
    p.set_defaults(func=cmd_key_register)

    p = k.add_parser("revoke", help="thu hồi khóa / revoke a key")
    add_data_dir(p)
    add_json(p)
    p.add_argument("--admin-key", required=True)
    p.add_argument("--key-id", required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_key_revoke)

    p = k.add_parser("rotate", help="thay khóa / rotate a key")
    add_data_dir(p)
    add_json(p)
    p.add_argument("--admin-key", required=True)
    p.add_argument("--old-key-id", required=True)
    p.add_argument("--new-key", required=True, help="tệp khóa mới / the new key file")
    p.set_defaults(func=cmd_key_rotate)


def load_key(path: str):
    try:
        return keys.load_actor_key_file(path)
    except (OSError, ValueError) as e:
        raise DomainError(
            "key_file_unreadable",
            f"Không đọc được tệp khóa: {e}",
            f"Cannot read the key file: {e}",
            status=400,
        ) from None


def submit(data_dir: str, signer_path: str, command: dict) -> dict:
    key_id, private, _doc = load_key(signer_path)
    command = {"id": f"cli-{uuid.uuid4()}", "issued_at": utc_now_text(), "actor": key_id, **command}
    app = open_app(data_dir)
    try:
        return app.handle(sign_command(command, private))
    finally:
        app.close()


def cmd_init(args: argparse.Namespace) -> int:
    r = init_deployment(
        args.data_dir,
        origin=args.origin,
        database_url=args.database_url,
        admin_name=_nfc(args.admin_name),
    )
    emit(
        args,
        r,
        (
            f"Đã khởi tạo triển khai tại {r['data_dir']} ({r['backend']}).\n"
            f"Khóa quản trị đầu tiên: {r['admin_key_id']}\n"
            f"Tệp khóa quản trị (0600): {r['admin_key_file']}\n"
            f"Khóa xác minh nhật ký: {r['log_key']}\n"
            f"Điểm kiểm tra đầu tiên:\n{r['checkpoint']}"
        ),
    )
    return 0


def cmd_key_new(args: argparse.Namespace) -> int:
    private = keys.generate()
    try:
        key_id = keys.save_actor_key_file(args.out, private, display_name=args.name)
    except FileExistsError:
        raise DomainError(
            "key_file_exists",
            f"Tệp '{args.out}' đã tồn tại; không ghi đè.",
            f"'{args.out}' exists; not overwritten.",
            status=409,
        ) from None
    public = keys.b64(keys.public_raw(private))
    emit(
        args,
        {"key_id": key_id, "public_key": public, "file": args.out},
        f"Mã khóa: {key_id}\nKhóa công khai: {public}\nTệp khóa bí mật (0600): {args.out}",
    )
    return 0


def _nfc(text: str | None) -> str | None:
    """Typed text in NFC, the one form a command's text may take (a terminal may pass NFD)."""
    return None if text is None else unicodedata.normalize("NFC", text)


def _public_of(arg: str) -> tuple[str, str]:
    path = Path(arg)
    if path.exists():
        key_id, private, _ = load_key(arg)
        return key_id, keys.b64(keys.public_raw(private))
    raw = keys.unb64(arg)
    return keys.actor_key_id(raw), arg


def cmd_key_register(args: argparse.Namespace) -> int:
    key_id, public = _public_of(args.key)
    r = submit(
        args.data_dir,
        args.admin_key,
        {
            "type": "register_key",
            "key_id": key_id,
            "public_key": public,
            "role": args.role,
            "scope": args.scope,
            "display_name": _nfc(args.name),
        },
    )
    emit(
        args,
        r,
        f"Đã đăng ký khóa {key_id} ({args.role}, {args.scope}); vị trí nhật ký {r['log_index']}.",
    )
    return 0


def cmd_key_revoke(args: argparse.Namespace) -> int:
    r = submit(
        args.data_dir,
        args.admin_key,
        {"type": "revoke_key", "key_id": args.key_id, "reason": _nfc(args.reason)},
    )
    emit(args, r, f"Đã thu hồi khóa {args.key_id}; vị trí nhật ký {r['log_index']}.")
    return 0


def cmd_key_rotate(args: argparse.Namespace) -> int:
    key_id, public = _public_of(args.new_key)
    r = submit(
        args.data_dir,
        args.admin_key,
        {
            "type": "rotate_key",
            "old_key_id": args.old_key_id,
            "key_id": key_id,
            "public_key": public,
        },
    )
    emit(args, r, f"Đã thay khóa {args.old_key_id} bằng {key_id}; vị trí {r['log_index']}.")
    return 0
