"""The per-provider schema transforms (``genkit._jsonschema``): a matrix of schema shapes.

Each transform is a pure function the provider backends call on the canonical schema
genkit builds from ``schema=``; these tests pin what each provider is sent for nested
models, lists, enums and Literals, optional fields, unions, ``$defs`` and
``dict[str, T]``, and which keywords are refused (naming them) or moved with a warning.
"""

from __future__ import annotations

import copy
import enum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

import genkit
from genkit._jsonschema import (
    anthropic_compatible,
    example_instance,
    gemini_json_schema,
    local_grammar_schema,
    openai_strict,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Leaf(BaseModel):
    n: int = Field(ge=0, le=9)


class Cat(BaseModel):
    kind: Literal["cat"]


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Matrix(BaseModel):
    """Every shape at once: nested, list, enum, Literal, optional, union, $ref + description."""

    nested: Leaf
    leaves: list[Leaf] = Field(min_length=2)
    color: Color
    mode: Literal["a", "b"]
    maybe: str | None = None
    pet: Cat | Dog
    noted: Leaf = Field(description="the leaf")


class Counts(BaseModel):
    counts: dict[str, int]


class Node(BaseModel):
    value: int
    children: list[Node] = []


CANONICAL = Matrix.model_json_schema()

OPENAI = {
    "$defs": {
        "Cat": {
            "properties": {"kind": {"const": "cat", "title": "Kind", "type": "string"}},
            "required": ["kind"],
            "title": "Cat",
            "type": "object",
            "additionalProperties": False,
        },
        "Color": {"enum": ["red", "blue"], "title": "Color", "type": "string"},
        "Dog": {
            "properties": {
                "kind": {"const": "dog", "title": "Kind", "type": "string"},
                "good": {"default": True, "title": "Good", "type": "boolean"},
            },
            "required": ["kind", "good"],
            "title": "Dog",
            "type": "object",
            "additionalProperties": False,
        },
        "Leaf": {
            "properties": {"n": {"maximum": 9, "minimum": 0, "title": "N", "type": "integer"}},
            "required": ["n"],
            "title": "Leaf",
            "type": "object",
            "additionalProperties": False,
        },
    },
    "description": "Every shape at once: nested, list, enum, Literal, optional, union, $ref + "
    "description.",
    "properties": {
        "nested": {"$ref": "#/$defs/Leaf"},
        "leaves": {
            "items": {"$ref": "#/$defs/Leaf"},
            "minItems": 2,
            "title": "Leaves",
            "type": "array",
        },
        "color": {"$ref": "#/$defs/Color"},
        "mode": {"enum": ["a", "b"], "title": "Mode", "type": "string"},
        "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Maybe"},
        "pet": {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "title": "Pet"},
        "noted": {
            "properties": {"n": {"maximum": 9, "minimum": 0, "title": "N", "type": "integer"}},
            "required": ["n"],
            "title": "Leaf",
            "type": "object",
            "description": "the leaf",
            "additionalProperties": False,
        },
    },
    "required": ["nested", "leaves", "color", "mode", "maybe", "pet", "noted"],
    "title": "Matrix",
    "type": "object",
    "additionalProperties": False,
}

ANTHROPIC = {
    "$defs": {
        "Cat": {
            "properties": {"kind": {"const": "cat", "type": "string"}},
            "required": ["kind"],
            "type": "object",
            "additionalProperties": False,
        },
        "Color": {"enum": ["red", "blue"], "type": "string"},
        "Dog": {
            "properties": {
                "kind": {"const": "dog", "type": "string"},
                "good": {"type": "boolean", "description": "{default: true}"},
            },
            "required": ["kind"],
            "type": "object",
            "additionalProperties": False,
        },
        "Leaf": {
            "properties": {"n": {"type": "integer", "description": "{maximum: 9, minimum: 0}"}},
            "required": ["n"],
            "type": "object",
            "additionalProperties": False,
        },
    },
    "description": "Every shape at once: nested, list, enum, Literal, optional, union, $ref + "
    "description.",
    "properties": {
        "nested": {"$ref": "#/$defs/Leaf"},
        "leaves": {
            "items": {"$ref": "#/$defs/Leaf"},
            "type": "array",
            "description": "{minItems: 2}",
        },
        "color": {"$ref": "#/$defs/Color"},
        "mode": {"enum": ["a", "b"], "type": "string"},
        "maybe": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "{default: null}",
        },
        "pet": {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]},
        "noted": {"$ref": "#/$defs/Leaf", "description": "the leaf"},
    },
    "required": ["nested", "leaves", "color", "mode", "pet", "noted"],
    "type": "object",
    "additionalProperties": False,
}

ANTHROPIC_MOVED = ["maximum", "minItems", "minimum"]

GEMINI = {
    "$defs": {
        "Cat": {
            "properties": {"kind": {"title": "Kind", "type": "string", "enum": ["cat"]}},
            "required": ["kind"],
            "title": "Cat",
            "type": "object",
        },
        "Color": {"enum": ["red", "blue"], "title": "Color", "type": "string"},
        "Dog": {
            "properties": {
                "kind": {"title": "Kind", "type": "string", "enum": ["dog"]},
                "good": {"title": "Good", "type": "boolean", "description": "{default: true}"},
            },
            "required": ["kind"],
            "title": "Dog",
            "type": "object",
        },
        "Leaf": {
            "properties": {"n": {"maximum": 9, "minimum": 0, "title": "N", "type": "integer"}},
            "required": ["n"],
            "title": "Leaf",
            "type": "object",
        },
    },
    "description": "Every shape at once: nested, list, enum, Literal, optional, union, $ref + "
    "description.",
    "properties": {
        "nested": {"$ref": "#/$defs/Leaf"},
        "leaves": {
            "items": {"$ref": "#/$defs/Leaf"},
            "minItems": 2,
            "title": "Leaves",
            "type": "array",
        },
        "color": {"$ref": "#/$defs/Color"},
        "mode": {"enum": ["a", "b"], "title": "Mode", "type": "string"},
        "maybe": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "title": "Maybe",
            "description": "{default: null}",
        },
        "pet": {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "title": "Pet"},
        "noted": {
            "properties": {"n": {"maximum": 9, "minimum": 0, "title": "N", "type": "integer"}},
            "required": ["n"],
            "title": "Leaf",
            "type": "object",
            "description": "the leaf",
        },
    },
    "required": ["nested", "leaves", "color", "mode", "pet", "noted"],
    "title": "Matrix",
    "type": "object",
}

LOCAL = {
    "$defs": {
        "Cat": {
            "properties": {"kind": {"const": "cat", "title": "Kind", "type": "string"}},
            "required": ["kind"],
            "title": "Cat",
            "type": "object",
            "additionalProperties": False,
        },
        "Color": {"enum": ["red", "blue"], "title": "Color", "type": "string"},
        "Dog": {
            "properties": {
                "kind": {"const": "dog", "title": "Kind", "type": "string"},
                "good": {"default": True, "title": "Good", "type": "boolean"},
            },
            "required": ["kind"],
            "title": "Dog",
            "type": "object",
            "additionalProperties": False,
        },
        "Leaf": {
            "properties": {"n": {"maximum": 9, "minimum": 0, "title": "N", "type": "integer"}},
            "required": ["n"],
            "title": "Leaf",
            "type": "object",
            "additionalProperties": False,
        },
    },
    "description": "Every shape at once: nested, list, enum, Literal, optional, union, $ref + "
    "description.",
    "properties": {
        "nested": {"$ref": "#/$defs/Leaf"},
        "leaves": {
            "items": {"$ref": "#/$defs/Leaf"},
            "minItems": 2,
            "title": "Leaves",
            "type": "array",
        },
        "color": {"$ref": "#/$defs/Color"},
        "mode": {"enum": ["a", "b"], "title": "Mode", "type": "string"},
        "maybe": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "title": "Maybe",
        },
        "pet": {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "title": "Pet"},
        "noted": {"$ref": "#/$defs/Leaf", "description": "the leaf"},
    },
    "required": ["nested", "leaves", "color", "mode", "pet", "noted"],
    "title": "Matrix",
    "type": "object",
    "additionalProperties": False,
}


def test_openai_strict_matrix() -> None:
    assert openai_strict(CANONICAL) == OPENAI


def test_anthropic_matrix_moves_constraints_with_warnings() -> None:
    schema, warnings = anthropic_compatible(CANONICAL)
    assert schema == ANTHROPIC
    assert sorted(w.split("'")[1] for w in warnings) == ANTHROPIC_MOVED
    assert all("genkit still validates" in w for w in warnings)


def test_gemini_matrix_keeps_its_keywords_and_rewrites_const() -> None:
    schema, warnings = gemini_json_schema(CANONICAL)
    assert schema == GEMINI
    assert warnings == []


def test_local_grammar_matrix_closes_every_object() -> None:
    assert local_grammar_schema(CANONICAL) == LOCAL


def test_transforms_never_change_their_input() -> None:
    before = copy.deepcopy(CANONICAL)
    openai_strict(CANONICAL)
    anthropic_compatible(CANONICAL)
    gemini_json_schema(CANONICAL)
    local_grammar_schema(CANONICAL)
    assert before == CANONICAL


# --------------------------------------------------------------------------- dict[str, T]

MAPPING = Counts.model_json_schema()


@pytest.mark.parametrize(
    "transform", [openai_strict, anthropic_compatible], ids=["openai", "anthropic"]
)
def test_open_mappings_are_refused_where_objects_must_be_closed(transform: Any) -> None:
    with pytest.raises(genkit.InvalidParameterError) as caught:
        transform(MAPPING)
    assert caught.value.parameter == "schema"
    assert "additionalProperties" in str(caught.value)
    assert "counts" in str(caught.value)


def test_open_mappings_reach_gemini_and_the_grammar_unchanged() -> None:
    counts = {"additionalProperties": {"type": "integer"}, "title": "Counts", "type": "object"}
    schema, warnings = gemini_json_schema(MAPPING)
    assert schema["properties"]["counts"] == counts
    assert warnings == []
    local = local_grammar_schema(MAPPING)
    assert local["properties"]["counts"] == counts
    assert local["additionalProperties"] is False


# --------------------------------------------------------------------------- keywords


@pytest.mark.parametrize(
    "keyword", ["allOf", "not", "if", "dependentRequired", "patternProperties"]
)
def test_openai_strict_refuses_what_it_cannot_express_naming_the_keyword(keyword: str) -> None:
    values: dict[str, Any] = {
        "allOf": [{"type": "string"}, {"minLength": 1}],
        "not": {"type": "null"},
        "if": {"type": "string"},
        "dependentRequired": {"a": ["b"]},
        "patternProperties": {"^x": {"type": "string"}},
    }
    schema = {"type": "object", "properties": {"a": {keyword: values[keyword]}}}
    with pytest.raises(genkit.InvalidParameterError) as caught:
        openai_strict(schema)
    assert repr(keyword) in str(caught.value)
    assert caught.value.provider == "openai"


def test_openai_strict_inlines_a_lone_all_of_and_a_ref_with_siblings() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"allOf": [{"$ref": "#/$defs/A"}], "description": "an A"},
            "b": {"$ref": "#/$defs/A"},
        },
        "required": ["a", "b"],
        "$defs": {"A": {"type": "object", "properties": {"x": {"type": "string"}}}},
    }
    out = openai_strict(schema)
    assert out["properties"]["a"] == {
        "type": "object",
        "properties": {"x": {"type": "string"}},
        "description": "an A",
        "additionalProperties": False,
        "required": ["x"],
    }
    assert out["properties"]["b"] == {"$ref": "#/$defs/A"}  # no siblings: stays a reference


def test_openai_strict_makes_an_optional_property_without_a_null_default_required() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "default": 3},
            "s": {"type": "string", "default": None},
            "e": {"enum": ["x", "y"], "default": None},
            "r": {"$ref": "#/$defs/R", "default": None},
        },
        "$defs": {"R": {"type": "object", "properties": {}}},
    }
    props = openai_strict(schema)["properties"]
    assert props["n"] == {"type": "integer", "default": 3}
    assert props["s"] == {"type": ["string", "null"]}
    assert props["e"] == {"enum": ["x", "y", None]}
    assert props["r"] == {"anyOf": [{"$ref": "#/$defs/R"}, {"type": "null"}]}


def test_openai_strict_keeps_a_recursive_model_as_references() -> None:
    canonical = genkit.structured.output_schema(Node, "openai").json_schema
    out = openai_strict(canonical)
    assert out["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert out["required"] == ["value", "children"]
    assert out["$defs"]["Node"]["additionalProperties"] is False


def test_anthropic_rewrites_one_of_and_filters_formats_and_min_items() -> None:
    schema = {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "ip": {"type": "string", "format": "ipv4"},
            "colour": {"type": "string", "format": "color", "description": "a colour"},
            "one": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "pick": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "both": {"allOf": [{"type": "string"}, {"maxLength": 3}]},
        },
    }
    out, warnings = anthropic_compatible(schema)
    props = out["properties"]
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["ip"] == {"type": "string", "format": "ipv4"}
    assert props["colour"] == {"type": "string", "description": 'a colour\n\n{format: "color"}'}
    assert props["one"]["minItems"] == 1
    assert props["pick"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert props["both"]["allOf"][1] == {"description": "{maxLength: 3}"}
    assert sorted(w.split("'")[1] for w in warnings) == ["format", "maxLength"]
    assert "$.properties.colour" in " ".join(warnings)


@pytest.mark.parametrize("keyword", ["allOf", "not", "if", "patternProperties"])
def test_gemini_refuses_what_changes_the_answer_naming_the_keyword(keyword: str) -> None:
    values: dict[str, Any] = {
        "allOf": [{"type": "string"}, {"minLength": 1}],
        "not": {"type": "null"},
        "if": {"type": "string"},
        "patternProperties": {"^x": {"type": "string"}},
    }
    with pytest.raises(genkit.InvalidParameterError) as caught:
        gemini_json_schema({"type": "object", "properties": {"a": {keyword: values[keyword]}}})
    assert repr(keyword) in str(caught.value)
    assert caught.value.provider == "gemini"


def test_gemini_moves_string_constraints_with_a_warning_and_rewrites_one_of() -> None:
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{3}$", "minLength": 3},
            "pick": {"oneOf": [{"const": 1}, {"const": "one"}]},
        },
    }
    out, warnings = gemini_json_schema(schema)
    assert out["properties"]["code"] == {
        "type": "string",
        "description": '{pattern: "^[A-Z]{3}$", minLength: 3}',
    }
    assert out["properties"]["pick"] == {"anyOf": [{"enum": [1]}, {"enum": ["one"]}]}
    assert sorted(w.split("'")[1] for w in warnings) == ["minLength", "pattern"]


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("model", [Matrix, Counts, Node, Dog])
def test_example_instance_is_valid_for_the_model(model: type[BaseModel]) -> None:
    value = example_instance(model.model_json_schema(), iter(["alpha", "beta", "gamma"]))
    model.model_validate(value)  # raises if invalid
    assert example_instance(model.model_json_schema(), iter(["alpha", "beta", "gamma"])) == value


@pytest.mark.parametrize(
    "transform",
    [
        openai_strict,
        lambda s: gemini_json_schema(s)[0],
        local_grammar_schema,
    ],
    ids=["openai", "gemini", "local"],
)
@pytest.mark.parametrize("model", [Matrix, Node, Dog])
def test_an_answer_shaped_by_a_provider_schema_validates_for_the_model(
    transform: Any, model: type[BaseModel]
) -> None:
    # Where nothing was moved into descriptions, what the provider's schema allows the
    # model allows too.  (Anthropic moves minItems here: genkit's own check catches it.)
    canonical = genkit.structured.output_schema(model, "test").json_schema
    value = example_instance(transform(canonical), iter(["a", "b", "c"]))
    model.model_validate(value)
