"""The index manifest: what an index version was built with, and checksums of its files.

``manifest.json`` records the embedding model (id, checksum, dimension), the
chunking parameters, library versions, build time, counts, and the sha256 and
size of every data file.  Serving refuses an index whose model differs from
the one it loaded, and a file that is missing or does not match its checksum
is reported as corrupt, by name (and as truncated or grown when its size
changed), with how to fix it.

The manifest checks itself too (format 2): ``checksum`` is the sha256 of its
own content without that field, so a flipped byte anywhere in it — a count, a
file's checksum, the model id — is reported as a damaged manifest rather than
believed.  Format-1 manifests (no sizes, no self-checksum) still load.
Verifying hashes every file: 30-80 ms for the 48 MB of an 8,198-chunk index
with cross-lingual vectors (the evaluation corpus) in the page cache, on the
shared two-core machine — sha256 runs at about 1 GB/s — or 10-20% of the
0.2-0.6 s `open_index` takes; a cold disk adds its read time, which loading
would pay anyway.

Leaves out: where versions live and how they are swapped (``index.store.versions``).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from index.errors import REBUILD_HINT, IndexCorrupt, IndexMismatch

FILENAME = "manifest.json"
FORMAT_VERSION = 3  # 2: file sizes and the manifest's own checksum; 3: embedding `runtimes`
_LIBRARIES = ("article-qa", "faiss-cpu", "sentence-transformers", "torch", "jieba", "tiktoken")


# Serving or adding vectors across embedding runtimes needs this measured cosine to torch
# fp32 on the parity probe (the bound of issue 15: min >= 0.98).
PARITY_FLOOR = 0.98


@dataclass(frozen=True)
class ChunkParams:
    max_tokens: int
    overlap_tokens: int
    tokenizer: str = "cl100k_base"


@dataclass(frozen=True)
class AnnParams:
    """How the dense candidate search is built (``index.store.ann``).

    Below ``threshold`` chunks the flat index is searched exactly; from it on, an
    HNSW graph (``m`` links a node, ``ef_construction`` at build time) over
    ``storage`` codes (``sq8``: 8-bit scalar-quantised, or ``flat``) proposes the
    candidates, which are then scored exactly against the flat vectors.
    """

    threshold: int = 50_000
    m: int = 32
    ef_construction: int = 80
    storage: str = "sq8"


@dataclass
class Manifest:
    model_id: str
    model_checksum: str | None
    dimension: int
    chunking: ChunkParams
    aux_model_id: str | None = None
    aux_dimension: int = 0
    documents: int = 0
    chunks: int = 0
    built_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    files: dict[str, str] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    sizes: dict[str, int] = field(default_factory=dict)
    checksum: str | None = None  # sha256 of this manifest without this field (`_digest`)
    ann: AnnParams = field(default_factory=AnnParams)
    ann_built: bool = False  # whether this version has HNSW graphs (chunks >= ann.threshold)
    # The embedding runtimes whose vectors are in this version, each with its measured lowest
    # cosine to torch fp32 (None: never measured).  Indexes from before the field: torch.
    runtimes: dict[str, float | None] = field(default_factory=lambda: {"torch": 1.0})

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        ann = AnnParams(**data["ann"]) if "ann" in data else AnnParams()
        return cls(**{**data, "chunking": ChunkParams(**data["chunking"]), "ann": ann})

    def check_model(self, model_id: str, checksum: str | None) -> None:
        """Refuse an index built with another embedding model."""
        same_checksum = not (self.model_checksum and checksum) or self.model_checksum == checksum
        if self.model_id != model_id or not same_checksum:
            raise IndexMismatch(
                f"The index was built with embedding model {self.model_id!r} "
                f"(checksum {self.model_checksum}), but the service loaded {model_id!r} "
                f"(checksum {checksum}). Rebuild the index with `qa ingest --rebuild PATH` "
                "or set QA_EMBEDDING_MODEL to the index's model.",
                detail={"index_model": self.model_id, "service_model": model_id},
            )

    def check_runtime(self, runtime: str, parity: float | None) -> str | None:
        """Refuse vectors from a runtime whose parity with this index's was never measured.

        Another runtime of the same model is accepted when it and every runtime in the index
        have a measured parity of at least `PARITY_FLOOR` to torch fp32 (``make model``
        measures it); the return value is then a line for the log.
        """
        others = {name: p for name, p in self.runtimes.items() if name != runtime}
        if not others:
            return None
        measured = {**others, runtime: parity}
        if all(p is not None and p >= PARITY_FLOOR for p in measured.values()):
            parities = ", ".join(f"{n} {p:.4f}" for n, p in sorted(measured.items()))
            return (
                f"index vectors from {', '.join(sorted(others))}, queries from {runtime}: "
                f"lowest measured cosine to torch fp32 {parities} (floor {PARITY_FLOOR})"
            )
        raise IndexMismatch(
            f"The index's vectors were computed by the {', '.join(sorted(others))} runtime, "
            f"and the service would embed with {runtime!r}, whose parity with it was not "
            f"measured or is below {PARITY_FLOOR} ({measured}). Set QA_EMBED_RUNTIME to "
            f"{sorted(others)[0]!r}, run `make model` to measure parity, or rebuild the index "
            "with `qa ingest --rebuild PATH`.",
            detail={"index_runtimes": self.runtimes, "service_runtime": runtime},
        )

    def check_ann(self, params: AnnParams) -> None:
        """Refuse an index whose candidate search was built with other parameters."""
        if self.ann != params:
            raise IndexMismatch(
                f"The index was built with candidate-search parameters {self.ann}, but the "
                f"service is configured with {params}. Rebuild the index with "
                "`qa ingest --rebuild PATH` or set QA_ANN_THRESHOLD, QA_HNSW_M, "
                "QA_HNSW_EF_CONSTRUCTION and QA_HNSW_STORAGE to the index's values.",
                detail={"index_ann": asdict(self.ann), "service_ann": asdict(params)},
            )


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _digest(data: dict[str, object]) -> str:
    body = {key: value for key, value in data.items() if key != "checksum"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def write(directory: Path, manifest: Manifest, files: list[Path]) -> None:
    manifest.files = {p.name: sha256_file(p) for p in files}
    manifest.sizes = {p.name: p.stat().st_size for p in files}
    manifest.libraries = library_versions()
    manifest.format_version = FORMAT_VERSION
    manifest.checksum = _digest(asdict(manifest))
    (directory / FILENAME).write_text(manifest.to_json(), encoding="utf-8")


def read(directory: Path, *, verify: bool = True) -> Manifest:
    """Read a version's manifest; with ``verify``, check every file's size and checksum."""
    manifest = _parse(directory / FILENAME)
    if verify:
        for name, expected in manifest.files.items():
            _verify_file(directory / name, expected, manifest.sizes.get(name))
    return manifest


def _parse(path: Path) -> Manifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(
            f"The index manifest {path} is missing, so the version cannot be checked or "
            f"loaded. {REBUILD_HINT}.",
            detail={"file": FILENAME},
        ) from None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not JSON (truncated)
        raise _damaged(path, f"it is not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise _damaged(path, "it is not a JSON object")
    recorded = data.get("checksum")
    version = data.get("format_version")
    if recorded is None and version != 1:
        raise _damaged(path, "its own checksum is missing")
    if recorded is not None and recorded != _digest(data):
        raise _damaged(path, "its content does not match its own checksum")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise IndexMismatch(
            f"The index at {path.parent} was written by a newer article-qa (manifest format "
            f"{version}, this one reads up to {FORMAT_VERSION}). Upgrade article-qa, or "
            "rebuild the index with `qa ingest --rebuild PATH...`.",
            detail={"file": FILENAME},
        )
    try:
        manifest = Manifest.from_dict(data)
        if not all(isinstance(v, str) for v in manifest.files.values()):
            raise TypeError("file checksums must be strings")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _damaged(path, f"a field is missing or malformed ({exc})") from exc
    return manifest


def _damaged(path: Path, why: str) -> IndexCorrupt:
    return IndexCorrupt(
        f"The index manifest {path} is damaged: {why}. {REBUILD_HINT}.",
        detail={"file": FILENAME},
    )


def _verify_file(file: Path, expected: str, size: int | None) -> None:
    def corrupt(why: str) -> IndexCorrupt:
        return IndexCorrupt(
            f"Index file {file} {why}; the index version {file.parent.name} is corrupt. "
            f"{REBUILD_HINT}.",
            detail={"file": file.name, "version": file.parent.name},
        )

    try:
        actual = file.stat().st_size
    except FileNotFoundError:
        raise corrupt(f"is missing (the manifest lists it with sha256 {expected[:12]}…)") from None
    except OSError as exc:
        raise corrupt(f"cannot be read ({exc})") from exc
    try:
        digest = sha256_file(file)
    except OSError as exc:
        raise corrupt(f"cannot be read ({exc})") from exc
    if digest == expected:
        return
    if size is not None and actual != size:
        state = "truncated" if actual < size else "grown"
        raise corrupt(
            f"does not match its checksum in the manifest: it is {actual} bytes, "
            f"written with {size} ({state})"
        )
    raise corrupt(
        "does not match its checksum in the manifest (its content changed or was damaged "
        "after it was written)"
    )
