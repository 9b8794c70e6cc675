"""The job file: load YAML with positions, interpolate ${VAR}s, validate, build the model."""

from zsync.spec.diagnostics import Diagnostic
from zsync.spec.load import LoadResult, load_spec, validate_spec
from zsync.spec.model import Spec

__all__ = ["Diagnostic", "LoadResult", "Spec", "load_spec", "validate_spec"]
