"""The JSON form of a table: the same document as TOML, for tools.

``schema/table.schema.json`` in the package is generated from the model
(:func:`schema`); a test keeps the shipped file equal to it.
"""

from __future__ import annotations

import json
from typing import Any

from destconfig.formats import NESTED_TOO_DEEPLY, FormatError, Problem, decoded
from destconfig.formats.toml import from_document, to_document
from destconfig.gcpause import without_gc
from destconfig.model import Table


def dumps(table: Table) -> bytes:
    return (json.dumps(to_document(table), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@without_gc
def loads(data: bytes) -> Table:
    text = decoded(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError([Problem(error.lineno, error.msg)]) from None
    except RecursionError:
        raise FormatError([Problem(None, NESTED_TOO_DEEPLY)]) from None
    return from_document(document)


def schema() -> dict[str, Any]:
    """The JSON Schema of the document, from the pydantic model."""
    document = Table.model_json_schema(mode="serialization")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "destconfig table"
    return document


def schema_text() -> str:
    """The shipped file's text: ``python -m destconfig.formats.json > destconfig/schema/...``."""
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(schema_text())
