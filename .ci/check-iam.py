"""Least-privilege check on the deployed shape of template.yaml.

Runs the AWS SAM transform (aws-sam-translator, which cfn-lint depends on)
the way `sam deploy` does after packaging, then fails if any IAM role gets an
AWS managed policy or any policy statement has `Resource: "*"`, or any Lambda
permission is not for one function of the template from one source ARN.
Checked for every combination of EnableUrlPath and AuthMode.
"""
import copy
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """Policy loader for the transform: no network, no managed policy names."""

    def load(self):
        return {}


def bare_star_resources(name, node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Resource" and (value == "*" or (isinstance(value, list) and "*" in value)):
                found.append(name)
            bare_star_resources(name, value, found)
    elif isinstance(node, list):
        for value in node:
            bare_star_resources(name, value, found)


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        template = yaml_parse(f.read())
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(props.get(key), str):  # what `sam package` does
                props[key] = f"s3://packaged/{logical_id}"
    problems = []
    combinations = [
        {"EnableUrlPath": url, "AuthMode": auth, "AuthSecret": "check-iam-placeholder"}
        for url in ("true", "false")
        for auth in ("none", "jwt")
    ]
    for params in combinations:
        out = transform(copy.deepcopy(template), params, NoManagedPolicies())
        for name, resource in out["Resources"].items():
            if resource["Type"] == "AWS::Lambda::Permission":
                props = resource["Properties"]
                function = props.get("FunctionName")
                if not (isinstance(function, dict) and set(function) <= {"Ref", "Fn::GetAtt"}):
                    problems.append(f"{name}: FunctionName must name one function of the template")
                if not props.get("SourceArn"):
                    problems.append(f"{name}: a Lambda permission without SourceArn")
            if resource["Type"] == "AWS::IAM::Role" and resource["Properties"].get("ManagedPolicyArns"):
                problems.append(f"{name}: managed policies {resource['Properties']['ManagedPolicyArns']}")
            found = []
            bare_star_resources(name, resource, found)
            problems += [f"{n}: a statement with Resource \"*\"" for n in found]
    for p in sorted(set(problems)):
        print(f"IAM: {p}")
    if problems:
        return 1
    print(f"{path}: every role's policies name their resources (after the SAM transform)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
