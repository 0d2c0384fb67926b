"""Feedback on answers: answer ids, POST /v1/feedback, the SQLite store, `qa feedback`."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import cli
from api.app import create_app
from index.errors import InvalidInput
from qa.feedback import FeedbackStore, FeedbackUnavailable
from qa.settings import Settings
from tests.conftest import ROOT
from tests.sse import read_events
from tests.test_api import assert_error

QUESTION = "兰州市委的决定要求什么?"
ANSWER_ID = re.compile(r"^ans_[0-9a-f]{32}$")


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "var" / "feedback.sqlite3"


@pytest.fixture
def client(fake_service, path):
    with TestClient(create_app(Settings(feedback_path=path), service=fake_service)) as c:
        yield c


def run_cli(monkeypatch, capsys, path: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("QA_FEEDBACK_PATH", str(path))
    status = cli.main(["feedback", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def in_subprocess(code: str, *args: str) -> subprocess.Popen[str]:
    script = "import sys\nfrom pathlib import Path\nfrom qa.feedback import FeedbackStore\n"
    return subprocess.Popen(
        [sys.executable, "-c", script + textwrap.dedent(code), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_every_answer_carries_a_fresh_answer_id(client):
    first = client.post("/v1/ask", json={"question": QUESTION}).json()
    second = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert ANSWER_ID.match(first["answer_id"]) and ANSWER_ID.match(second["answer_id"])
    assert first["answer_id"] != second["answer_id"]
    with client.stream("POST", "/v1/ask/stream", json={"question": QUESTION}) as r:
        events = list(read_events(r.iter_lines()))
    assert events[-1][0] == "done" and ANSWER_ID.match(events[-1][1]["answer_id"])


def test_feedback_round_trip_through_the_api_the_store_and_the_cli(
    client, path, monkeypatch, capsys
):
    answer = client.post("/v1/ask", json={"question": QUESTION}).json()
    payload = {
        "answer_id": answer["answer_id"],
        "rating": "down",
        "comment": "引用的段落不对\n第二行",
        "question": QUESTION,
    }
    r = client.post("/v1/feedback", json=payload)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "answer_id", "rating", "comment", "created_at"}
    assert body["answer_id"] == answer["answer_id"] and body["rating"] == "down"
    assert body["comment"] == payload["comment"] and body["id"].startswith("fb_")
    created = datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None and abs(datetime.now(UTC) - created).total_seconds() < 60
    up = client.post("/v1/feedback", json={"answer_id": "chatcmpl-abc", "rating": "up"})
    assert up.status_code == 201 and up.json()["comment"] is None

    (latest, stored) = FeedbackStore(path).list()
    assert latest.id == up.json()["id"] and latest.question is None
    assert stored.id == body["id"] and stored.question == QUESTION and stored.client is None
    assert FeedbackStore(path).count() == 2 and FeedbackStore(path).count(rating="up") == 1

    status, out, _ = run_cli(monkeypatch, capsys, path, "list", "--json", "--rating", "down")
    assert status == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {**body, "question": QUESTION, "client": None}
    ]
    status, out, _ = run_cli(monkeypatch, capsys, path, "list")
    assert status == 0 and answer["answer_id"] in out and "chatcmpl-abc" in out
    assert "引用的段落不对 第二行" in out and f"question: {QUESTION}" in out
    assert "2 of 2 shown; 1 up, 1 down" in out

    target = path.parent / "export.jsonl"
    status, out, _ = run_cli(monkeypatch, capsys, path, "export", "--out", str(target))
    assert status == 0 and "exported 2" in out
    exported = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [e["id"] for e in exported] == [body["id"], up.json()["id"]]  # oldest first


def test_the_cli_filters_by_time_rating_and_count(path, monkeypatch, capsys):
    store = FeedbackStore(path)
    for n, (day, rating) in enumerate([(1, "up"), (2, "down"), (3, "up"), (4, "up")]):
        record = store.add(f"ans_{n}", rating, comment=f"c{n}")
        with sqlite3.connect(path) as db:  # back-date it
            db.execute(
                "UPDATE feedback SET created_at = ? WHERE id = ?",
                (f"2025-01-0{day}T12:00:00.000Z", record.id),
            )

    def ids(*argv: str) -> list[str]:
        status, out, _ = run_cli(monkeypatch, capsys, path, "list", "--json", *argv)
        assert status == 0
        return [json.loads(line)["answer_id"] for line in out.splitlines()]

    assert ids() == ["ans_3", "ans_2", "ans_1", "ans_0"]
    assert ids("--since", "2025-01-02T12:00:00Z") == ["ans_3", "ans_2", "ans_1"]
    assert ids("--since", "2025-01-02T13:00+01:00") == ["ans_3", "ans_2", "ans_1"]
    assert ids("--since", "2025-01-03") == ["ans_3", "ans_2"]
    assert ids("--rating", "up", "--limit", "2") == ["ans_3", "ans_2"]
    with pytest.raises(SystemExit) as exit_:
        run_cli(monkeypatch, capsys, path, "list", "--since", "yesterday")
    assert exit_.value.code == 2


def test_the_cli_says_when_there_is_no_feedback_file(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nowhere" / "feedback.sqlite3"
    status, _, err = run_cli(monkeypatch, capsys, missing, "list")
    assert status == 1 and str(missing) in err and not missing.exists()


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"answer_id": "ans_1", "rating": "meh"}, "rating"),
        ({"answer_id": "ans_1", "rating": 1}, "rating"),
        ({"answer_id": "ans_1"}, "rating"),
        ({"rating": "up"}, "answer_id"),
        ({"answer_id": "", "rating": "up"}, "answer_id"),
        ({"answer_id": "ans 1; drop table", "rating": "up"}, "answer_id"),
        ({"answer_id": "a" * 101, "rating": "up"}, "answer_id"),
        ({"answer_id": "ans_1", "rating": "up", "comment": "长" * 2001}, "comment"),
        ({"answer_id": "ans_1", "rating": "up", "question": "问" * 2001}, "question"),
        ({"answer_id": "ans_1", "rating": "up", "stars": 5}, "stars"),
        (["ans_1", "up"], "body"),
    ],
)
def test_invalid_feedback_is_refused_in_the_one_error_shape(client, path, payload, where):
    error = assert_error(client.post("/v1/feedback", json=payload), 422, "invalid_request")
    assert any(problem.startswith(where) for problem in error["detail"]), error
    assert not path.exists()  # nothing was stored, or even opened


def test_malformed_json_is_400(client, path):
    r = client.post(
        "/v1/feedback",
        content=b'{"answer_id": "ans_1",',
        headers={"content-type": "application/json"},
    )
    assert_error(r, 400, "malformed_json")
    assert not path.exists()


def test_the_longest_comment_is_accepted(client, path):
    r = client.post(
        "/v1/feedback", json={"answer_id": "a" * 100, "rating": "up", "comment": "长" * 2000}
    )
    assert r.status_code == 201, r.text
    assert FeedbackStore(path).list()[0].comment == "长" * 2000


def test_an_unusable_feedback_file_is_503(fake_service, tmp_path):
    settings = Settings(feedback_path=tmp_path)  # a directory, not a file
    with TestClient(create_app(settings, service=fake_service)) as c:
        r = c.post("/v1/feedback", json={"answer_id": "ans_1", "rating": "up"})
    error = assert_error(r, 503, "feedback_unavailable")
    assert str(tmp_path) in error["message"]


def test_the_store_validates_what_it_is_given(path):
    store = FeedbackStore(path)
    for bad in (
        dict(answer_id="ans_1", rating="sideways"),
        dict(answer_id="", rating="up"),
        dict(answer_id="ans_1", rating="up", comment="x" * 2001),
    ):
        with pytest.raises(InvalidInput, match=r"rating|answer_id|comment"):
            store.add(**bad)  # type: ignore[arg-type]
    assert store.add("ans_1", "up", comment="  \n ").comment is None
    with pytest.raises(FeedbackUnavailable):
        FeedbackStore(path.parent / "other.sqlite3", create=False)


def test_feedback_survives_the_writer_being_killed_and_is_read_by_another_process(path):
    writer = in_subprocess(
        """
        import os, signal
        record = FeedbackStore(Path(sys.argv[1])).add("ans_killed", "down", comment="持久")
        print(record.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no clean shutdown of anything
        """,
        str(path),
    )
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == -9, err
    with sqlite3.connect(path) as db:  # a plain connection sees it, and the file is WAL
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT id, comment FROM feedback").fetchall() == [(out.strip(), "持久")]
    with FeedbackStore(path)._connect() as db:
        assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    FeedbackStore(path).add("ans_here", "up")
    reader = in_subprocess(
        "print(*(r.answer_id for r in FeedbackStore(Path(sys.argv[1])).list()))", str(path)
    )
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert out.split() == ["ans_here", "ans_killed"]


def test_concurrent_writer_processes_lose_nothing(path):
    """4 processes open a fresh file at the same moment and each adds 50 rows."""
    code = """
        import time
        go = Path(sys.argv[1]).with_name("go")
        Path(f"{go}-{sys.argv[2]}").touch()
        while not go.exists():
            time.sleep(0.001)
        store = FeedbackStore(Path(sys.argv[1]))
        for n in range(50):
            store.add(f"ans_{sys.argv[2]}_{n}", "up" if n % 2 else "down", comment=str(n))
        """
    path.parent.mkdir()
    writers = [in_subprocess(code, str(path), str(w)) for w in range(4)]
    deadline = time.monotonic() + 60
    while not all(path.with_name(f"go-{w}").exists() for w in range(4)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    path.with_name("go").touch()  # all four start together
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    store = FeedbackStore(path)
    records = store.list()
    assert len(records) == store.count() == 200 and len({r.id for r in records}) == 200
    expected = {f"ans_{w}_{n}" for w in range(4) for n in range(50)}
    assert {r.answer_id for r in records} == expected
    assert store.count(rating="up") == store.count(rating="down") == 100


def test_the_setting_is_read_and_documented(monkeypatch, tmp_path):
    default = Settings().feedback_path
    assert default == Path("var/feedback.sqlite3")
    assert not default.is_relative_to(Settings().index_dir)  # index versions are replaced
    monkeypatch.setenv("QA_FEEDBACK_PATH", str(tmp_path / "fb.sqlite3"))
    assert Settings().feedback_path == tmp_path / "fb.sqlite3"
    configuration = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert "| `QA_FEEDBACK_PATH` | path | `var/feedback.sqlite3` |" in configuration
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert "## Feedback: `POST /v1/feedback`" in api and "qa feedback list" in api
