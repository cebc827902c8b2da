"""Publishing a framework (admin)."""

from __future__ import annotations

from application.errors import NotFound
from application.handlers.base import Context, check_fields, handler
from domain.errors import DomainError
from domain.framework import content_digest
from domain.framework.published import check_published
from domain.framework_record import PublishedFramework


@handler("publish_framework")
def publish_framework(ctx: Context) -> list:
    """A new framework version; immutable once published."""
    check_fields(ctx, ("framework",))
    data = ctx.field("framework", dict)
    framework = check_published(data)  # ValidationFailed lists every fault, by path
    framework_id = str(framework.id)
    if ctx.app.framework_record(framework_id) is not None:
        raise DomainError(
            "framework_exists",
            f"Bộ tiêu chí {framework_id} đã được công bố; hãy tạo phiên bản mới.",
            f"Framework {framework_id} is already published; make a new version.",
            field="framework",
            status=409,
        )
    supersedes = framework.meta.supersedes
    if supersedes and ctx.app.framework_record(supersedes) is None:
        raise NotFound(
            f"bộ tiêu chí được thay thế {supersedes}",
            f"superseded framework {supersedes}",
            code="framework_not_found",
        )
    return [
        PublishedFramework(
            framework_id=framework_id,
            framework=data,
            digest=content_digest(framework),
            signed=ctx.signed.stored(),
        )
    ]
