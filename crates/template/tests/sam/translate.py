"""Runs the AWS SAM transform (aws-sam-translator) on one template, offline.

Usage: translate.py TEMPLATE [PARAMETERS_JSON]. Prints one JSON object: {"version": ...,
"resources": {...}} with the transformed Resources, or {"version": ..., "errors": [...]} with
the messages of the translator's validation errors. Used by tests/sam_translator.rs to compare
wsflow's expansion of SAM resources with the reference's.
"""
import json
import os
import sys

import samtranslator
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """Policy loader for the transform: no network, no managed policy names."""

    def load(self):
        return {}


def main(path, parameters):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        template = yaml_parse(f.read())
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(props.get(key), str):  # what `sam package` does
                props[key] = f"s3://packaged/{logical_id}"
    out = {"version": samtranslator.__version__}
    try:
        out["resources"] = transform(template, parameters, NoManagedPolicies())["Resources"]
    except InvalidDocumentException as e:
        out["errors"] = [cause.message for cause in e.causes]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
