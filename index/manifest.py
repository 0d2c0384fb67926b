"""The index manifest: what an index version was built with, and checksums of its files.

``manifest.json`` records the embedding model (id, checksum, dimension), the
chunking parameters, library versions, build time, counts, and the sha256 of
every data file.  Serving refuses an index whose model differs from the one it
loaded, and a file whose checksum does not match is reported as corrupt.

Leaves out: where versions live and how they are swapped (``index.versions``).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from index.errors import IndexCorrupt, IndexMismatch

FILENAME = "manifest.json"
FORMAT_VERSION = 1
_LIBRARIES = ("article-qa", "faiss-cpu", "sentence-transformers", "torch", "jieba", "tiktoken")


@dataclass(frozen=True)
class ChunkParams:
    max_tokens: int
    overlap_tokens: int
    tokenizer: str = "cl100k_base"


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

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["chunking"] = ChunkParams(**data["chunking"])
        return cls(**data)

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


def write(directory: Path, manifest: Manifest, files: list[Path]) -> None:
    manifest.files = {p.name: sha256_file(p) for p in files}
    manifest.libraries = library_versions()
    (directory / FILENAME).write_text(manifest.to_json(), encoding="utf-8")


def read(directory: Path, *, verify: bool = True) -> Manifest:
    """Read a version's manifest; with ``verify``, check every file's checksum."""
    path = directory / FILENAME
    try:
        manifest = Manifest.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorrupt(f"Index manifest {path} is missing or unreadable: {exc}") from exc
    if verify:
        for name, expected in manifest.files.items():
            file = directory / name
            if not file.is_file() or sha256_file(file) != expected:
                raise IndexCorrupt(
                    f"Index file {file} is missing or does not match its checksum in "
                    f"{path}; the index is corrupt. Rebuild it with `qa ingest --rebuild`.",
                    detail={"file": name},
                )
    return manifest
