"""A real flow through a Python client generated from the published OpenAPI document by
openapi-python-client, against a real `kura serve`: create a project, save a binary file,
snapshot (waiting, and following an operation to its end), read the history and the file back,
restore, batch records, and read an error. Nothing here is patched by hand: the client is what
the generator made of docs/api/openapi.json.

Usage: python_flow.py URL TOKEN (the generated package `kura_client` on sys.path).
"""

import sys
import time
from io import BytesIO

from kura_client import AuthenticatedClient
from kura_client.api.files import read_file, save_file
from kura_client.api.operations import get_operation
from kura_client.api.projects import create_project, get_project
from kura_client.api.records import batch_project_records, get_project_record
from kura_client.api.versions import list_versions, restore_project, snapshot_project
from kura_client.models import (
    Batch,
    HttpError,
    NewProject,
    Operation,
    OpState,
    Project,
    RecordOpDelete,
    RecordOpDeleteOp,
    RecordOpPut,
    RecordOpPutOp,
    RestoreReport,
    RestoreReportOperation,
    RestoreRequest,
    Saved,
    SnapshotReport,
    SnapshotReportOperation,
    SnapshotRequest,
)
from kura_client.types import File


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def main(url: str, token: str) -> None:
    client = AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True)

    r = create_project.sync_detailed(client=client, body=NewProject(name="generated-client"))
    check(isinstance(r.parsed, Project), f"createProject answers a Project ({r.status_code})")
    project = r.parsed
    pid = project.id

    first = bytes(range(256)) * 64  # 16 KiB, every byte value: binary, not JSON
    r = save_file.sync_detailed(pid, "assets/logo.bin", client=client, body=File(payload=BytesIO(first)))
    check(isinstance(r.parsed, Saved), f"saveFile takes raw bytes ({r.status_code})")

    r = snapshot_project.sync_detailed(pid, client=client, body=SnapshotRequest(message="first"), wait=True)
    check(isinstance(r.parsed, SnapshotReportOperation) and r.parsed.state == OpState.SUCCEEDED, "snapshotProject?wait=true ends succeeded")
    check(isinstance(r.parsed.result, SnapshotReport), "its result is typed: a SnapshotReport")
    first_version = r.parsed.result.version.id
    check(isinstance(first_version, str) and len(first_version) == 40, "its result names the version")

    second = first[::-1]
    save_file.sync_detailed(pid, "assets/logo.bin", client=client, body=File(payload=BytesIO(second)))
    r = snapshot_project.sync_detailed(pid, client=client, body=SnapshotRequest(message="second"), idempotency_key="flow-second")
    check(r.status_code == 202 and isinstance(r.parsed, Operation), "snapshotProject answers 202 with an operation")
    check(r.headers.get("location") == f"/v1/operations/{r.parsed.id}", "and a Location header to follow")
    op = r.parsed
    deadline = time.monotonic() + 60
    while op.state == OpState.RUNNING:
        check(time.monotonic() < deadline, "the operation ends within a minute")
        op = get_operation.sync_detailed(op.id, client=client, wait=True, timeout_secs=5).parsed
    check(op.state == OpState.SUCCEEDED, "getOperation follows it to its end: succeeded")

    versions = list_versions.sync_detailed(pid, client=client).parsed
    check([v.message for v in versions][:2] == ["second", "first"], "listVersions: newest first")

    r = read_file.sync_detailed(pid, "assets/logo.bin", client=client)
    check(r.status_code == 200 and r.content == second, "readFile gives the bytes saved")

    r = restore_project.sync_detailed(pid, client=client, body=RestoreRequest(version=first_version), wait=True)
    check(isinstance(r.parsed, RestoreReportOperation) and r.parsed.state == OpState.SUCCEEDED, "restoreProject?wait=true ends succeeded")
    check(isinstance(r.parsed.result, RestoreReport) and r.parsed.result.version == first_version, "its result is typed: a RestoreReport of that version")
    r = read_file.sync_detailed(pid, "assets/logo.bin", client=client)
    check(r.content == first, "after the restore the file is the first version's")

    batch = Batch(
        ops=[
            RecordOpPut(collection="runs", key="a", value={"step": 1}, op=RecordOpPutOp.PUT),
            RecordOpPut(collection="runs", key="b", value={"step": 2}, op=RecordOpPutOp.PUT),
            RecordOpDelete(collection="runs", key="a", op=RecordOpDeleteOp.DELETE),
        ]
    )
    r = batch_project_records.sync_detailed(pid, client=client, body=batch)
    check(r.status_code == 200 and isinstance(r.parsed, list) and len(r.parsed) == 3, "batchProjectRecords applies three operations")
    r = get_project_record.sync_detailed(pid, "runs", "b", client=client)
    check(r.status_code == 200 and r.parsed.value == {"step": 2}, "getProjectRecord reads what the batch wrote")
    check(r.headers.get("etag") is not None, "with its ETag")
    r = get_project_record.sync_detailed(pid, "runs", "a", client=client)
    check(r.status_code == 404 and isinstance(r.parsed, HttpError) and r.parsed.code.value == "not_found", "a deleted record is a typed not_found error")

    r = get_project.sync_detailed("no-such-project", client=client)
    check(r.status_code == 404 and isinstance(r.parsed, HttpError), "getProject of an unknown project is an HttpError")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
