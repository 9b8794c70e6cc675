"""What validation can tell about object-storage URLs without reaching the store: each is
well formed (a bucket, no '..'), its filesystem package is installed, outputs and import
files stay below the prefixes the job file names."""

from __future__ import annotations

from collections.abc import Iterator

from zsync.locations import install_hint, is_url, missing_backend, normal_url
from zsync.spec.diagnostics import Path, Severity
from zsync.spec.model import Spec

Problem = tuple[Path, str, Severity]


def storage_problems(spec: Spec) -> Iterator[Problem]:
    defaults: Path = ("defaults",)
    urls = [(("defaults", "output_dir"), spec.output_url)] if spec.output_url else []
    urls += [(("defaults", "import_roots"), url) for url in spec.import_urls]
    for path, url in urls:
        yield from _url_problems(path, url, "a bucket (or container) and a prefix")
    if spec.storage_options and not (spec.output_url or spec.import_urls):
        yield (
            (*defaults, "storage_options"),
            "storage_options apply only to an output_dir or import_roots in object storage "
            "(s3://, gs://, az://); there is none",
            "warning",
        )
    for job in spec.jobs.values():
        if job.output and is_url(job.output):
            kept = f"below {spec.output_url}" if spec.output_url else "a path"
            yield (
                ("jobs", job.name, "output"),
                f"'{job.output}' isn't below the output directory: an output is {kept}, "
                "written relative to it",
                "error",
            )
        file = job.input_file
        if file and is_url(file):
            where: Path = ("jobs", job.name, "import", "file")
            if not any(_below(file, root) for root in spec.import_urls):
                yield (
                    where,
                    f"'{file}' is outside the output directory and defaults.import_roots: "
                    "imports read only objects there; to read from another bucket or prefix, "
                    "add it to defaults.import_roots",
                    "error",
                )
            else:
                yield from _url_problems(where, file, "a bucket and a key")


def _url_problems(path: Path, url: str, needs: str) -> Iterator[Problem]:
    if normal_url(url) is None:
        yield path, f"'{url}' needs {needs}, and no '..'", "error"
        return
    backend = missing_backend(url)
    if backend is not None:
        yield (
            path,
            f"'{url}' needs the {backend.package} package, which isn't installed: "
            f"{install_hint(backend)}",
            "error",
        )


def _below(url: str, root: str) -> bool:
    normal = normal_url(url)
    return normal is not None and normal.startswith(root.rstrip("/") + "/")
