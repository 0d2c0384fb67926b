"""Schema-based fuzzing of the HTTP API with Schemathesis, in process (ASGI, no network).

The app is ``create_app`` as served — models given (the fake embedder, a scripted LLM, so
answers carry ``mode``, ``verification`` and ``notices``), the index loaded from disk — over
a private copy of the fake sample index (the admin routes change it, called with an admin
key) and a private feedback store.  Every operation of its OpenAPI schema is a test case,
read from the app at collection time, so new routes are fuzzed without touching this file:
with data the schema allows, and with data it forbids when it takes any.  Checked:

* nothing answers 5xx;
* every status code, content type, header, body and stream event is one the schema
  documents for the operation;
* forbidden data is refused (4xx) and allowed data is not refused for its shape.

Then what Schemathesis cannot send or does not check: lone surrogates (``"\\ud800"``, JSON
that is not UTF-8) in every string and key of valid bodies; a method a path does not take
(405 with ``Allow``); the same app with no index (its 503s documented); and, as a property,
that an SSE event reads back as sent by any line reader.

Examples per operation are bounded and Hypothesis is derandomised (no example database),
so a run is the same every time; the file takes about half a minute.

(Schemathesis's own ``from_fixture``/``parametrize`` integration does not run under
pytest 9, which dropped ``Item._nodeid``; its strategies are used with ``@given`` here.)
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from api import sse
from api.app import create_app
from qa.runtime import Models
from qa.settings import Settings
from tests.fakes import FakeEmbedder
from tests.llm_fakes import scripted
from tests.sse import read_events

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 60
ADMIN_SECRET = "fuzz-admin-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}  # an admin key may call every route
REPLIES = (
    "中共兰州市委作出了关于切实发挥基层党组织战斗堡垒作用的决定[1]。"
    "兰州将在2030年前建成十座机场[7]。",
    "这些文章中没有这个问题的答案。",
)
CONFORMANCE = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
CHECKS = [
    not_a_server_error,
    *CONFORMANCE,
    checks.negative_data_rejection,
    checks.positive_data_acceptance,
]
# A body over QA_MAX_BODY_BYTES is refused with 413 before it is read: a rejection too.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
# What these schemas cannot say, answered 400 `invalid_input`: of a chat, that the last
# user-or-assistant message must be the user's and hold text; of an upload, that names are
# unique and base64 content is base64.
SEMANTIC_400 = ["/v1/chat/completions", "/v1/admin/documents"]
ACCEPTED = ["2xx", "400", "401", "403", "404", "409", "429"]
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTED}},
        "operations": [
            {
                "include-path": path,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
            }
            for path in SEMANTIC_400
        ],
    }
)
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations() -> list[tuple[str, GenerationMode]]:
    """(``"POST /v1/ask"``, mode) for every operation the app's schema lists: with allowed
    data, and with forbidden data when it takes any input."""
    spec = create_app(Settings()).openapi()
    cases = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                label = f"{method.upper()} {path}"
                cases.append((label, GenerationMode.POSITIVE))
                if operation.get("parameters") or operation.get("requestBody"):
                    cases.append((label, GenerationMode.NEGATIVE))
    return cases


@pytest.fixture(scope="module")
def api_schema(fake_index_dir: Path, dictionary, tmp_path_factory):
    """The app as served (models given, index loaded and reloaded from disk) over a copy of
    the fake index, which the admin routes change; a private feedback store."""
    root = tmp_path_factory.mktemp("fuzz")
    index_dir = root / "index"
    shutil.copytree(fake_index_dir, index_dir)
    app_settings = Settings(
        index_dir=index_dir,
        feedback_path=root / "feedback.sqlite3",
        admin_keys=[f"fuzz:{ADMIN_SECRET}"],
        rate_limit=0,
        reload_interval=0,
        crosslingual_encoder="none",
        min_dense_score=0.6,
        max_chunks_per_doc=5,
    )
    models = Models(FakeEmbedder(), dictionary, chat_model=scripted(*REPLIES))
    app = create_app(app_settings, models=models)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


@pytest.mark.parametrize(("label", "mode"), operations())
def test_the_operation_keeps_to_its_schema(api_schema, label, mode):
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate(checks=CHECKS, headers=ADMIN)

    try:
        fuzz()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip(f"{label}: the schema forbids no input it takes")


@pytest.fixture(scope="module")
def not_ready_schema(dictionary, tmp_path_factory):
    """The app as served with no index yet: question and document routes answer 503."""
    root = tmp_path_factory.mktemp("fuzz-not-ready")
    app_settings = Settings(
        index_dir=root / "no-index",
        feedback_path=root / "feedback.sqlite3",
        admin_keys=[f"fuzz:{ADMIN_SECRET}"],
        rate_limit=0,
        reload_interval=0,
        crosslingual_encoder="none",
    )
    app = create_app(app_settings, models=Models(FakeEmbedder(), dictionary))
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


@pytest.mark.parametrize(
    "label",
    [label for label, mode in operations() if mode is GenerationMode.POSITIVE],
)
def test_without_an_index_every_operation_keeps_to_its_schema(not_ready_schema, label):
    """503 `index_missing` is a documented answer wherever it can be given."""
    operation = not_ready_schema.find_operation_by_label(label)

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=5, derandomize=True, database=None, deadline=None, phases=[Phase.generate]
    )
    def fuzz(case):
        case.call_and_validate(checks=CONFORMANCE, headers=ADMIN)

    fuzz()


def bodies() -> list[str]:
    """The operations that take a JSON body."""
    spec = create_app(Settings()).openapi()
    return [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        and "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def with_surrogates(value: object) -> list[object]:
    """``value`` once per string in it (key or value), that string given a lone surrogate."""
    variants: list[object] = []
    if isinstance(value, str):
        variants.append(value + "\ud800")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            variants += [[*value[:i], v, *value[i + 1 :]] for v in with_surrogates(item)]
    elif isinstance(value, dict):
        variants.append({**value, "\udc80": 1})
        for key, item in value.items():
            variants += [{**value, key: v} for v in with_surrogates(item)]
    return variants


@pytest.mark.parametrize(
    "label",
    bodies(),
)
def test_a_lone_surrogate_anywhere_in_a_body_is_refused_not_a_crash(api_schema, label):
    """JSON may escape a code point UTF-8 cannot carry (``"\\ud800"``), which Schemathesis,
    sending UTF-8, never generates: put one in every string, and every key, of valid bodies."""
    operation = api_schema.find_operation_by_label(label)
    client = TestClient(api_schema.app, raise_server_exceptions=False)
    statuses = set()

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=5, derandomize=True, database=None, deadline=None, phases=[Phase.generate]
    )
    def send(case):
        for body in with_surrogates(case.body):
            response = client.request(
                operation.method.upper(),
                case.formatted_path,
                content=json.dumps(body),  # ASCII, the surrogates as \\u escapes
                headers={**ADMIN, "Content-Type": "application/json"},
            )
            statuses.add(response.status_code)
            assert response.status_code < 500, (body, response.text)
            response.json()  # the one error shape, even when it echoes the surrogate

    send()
    assert statuses & {400, 422}


def test_an_upload_name_too_long_for_the_disk_is_refused(api_schema):
    """200 characters is the documented limit, but 200 Chinese characters are 600 bytes of
    UTF-8, over the 255 a file name may have: the upload must be refused, not crash."""
    client = TestClient(api_schema.app, raise_server_exceptions=False)
    upload = {"name": "文" * 196 + ".txt", "content": "兰州市新建社区花园一百二十个。"}
    response = client.post("/v1/admin/documents", json={"documents": [upload]}, headers=ADMIN)
    assert response.status_code == 400, response.text


def test_an_undocumented_method_is_405_with_allow(api_schema):
    """Every path answers a method its schema does not list with 405 and an ``Allow`` header
    naming the documented methods (RFC 9110), in the one error shape."""
    client = TestClient(api_schema.app)
    for path, item in api_schema.raw_schema["paths"].items():
        documented = {method.upper() for method in item if method in METHODS}
        url = path.replace("{doc_id}", "004_7c2c5349670b6628")
        method = next(m for m in ("PATCH", "PUT", "DELETE") if m not in documented)
        response = client.request(method, url, headers=ADMIN)
        assert response.status_code == 405, (method, path, response.text)
        assert response.json()["error"]["code"] == "method_not_allowed"
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert documented <= allowed, (path, allowed)


# SSE encoding: whatever a passage or an answer holds cannot cut or forge an event ----------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, derandomize=True, deadline=None, database=None)
@given(
    st.sampled_from([None, "token", "done"]),
    json_values.filter(lambda v: not isinstance(v, str)),  # str payloads are raw text, below
)
def test_an_event_reads_back_as_sent_by_any_line_reader(name, data):
    encoded = sse.event(name, data)
    assert encoded.endswith("\n\n")
    for lines in (re.split(r"\r\n|\r|\n", encoded), encoded.splitlines()):  # spec; lenient
        assert list(read_events(lines)) == [(name, data)]


def test_a_text_payload_keeps_its_lines():
    encoded = sse.event(None, "a\r\nb\nc")
    assert encoded == "data: a\ndata: b\ndata: c\n\n"
    with pytest.raises(ValueError):
        sse.event("to\nken", {})
