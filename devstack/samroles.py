"""Each function's role as SAM's transform generates it: run in the SAM venv (`python -m devstack.samroles`).

Reads the template (JSON, intrinsics in long form) on stdin; writes {"functions": {function: role},
"roles": {role: {"Policies": [...], "ManagedPolicyArns": [...]}}} with the intrinsics left for the
local stack to resolve. Imports only the standard library and samtranslator, which pins a pydantic
the layer cannot share, and so lives in .venv-sam (with the SAM CLI) only.
"""

import json
import os
import sys
from typing import Any


class _NoManagedPolicyLookup:
    """SAM asks IAM for managed policy ARNs it does not know; ours are all in its bundled list."""

    def load(self) -> dict[str, str]:
        return {}


def roles(template: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    template = {**template, "Transform": "AWS::Serverless-2016-10-31"}  # LanguageExtensions: our resolver's
    for resource in template["Resources"].values():  # as `sam package` leaves them: uploaded artefacts
        for key in ("CodeUri", "ContentUri"):
            if isinstance(resource.get("Properties", {}).get(key), str):
                resource["Properties"][key] = f"s3://local/{resource['Properties'][key]}"
    resources = transform(template, {}, _NoManagedPolicyLookup())["Resources"]
    functions = {
        logical_id: resource["Properties"]["Role"]["Fn::GetAtt"][0]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(resource["Properties"].get("Role"), dict)
    }
    return {
        "functions": functions,
        "roles": {
            role: {key: resources[role]["Properties"].get(key, []) for key in ("Policies", "ManagedPolicyArns")}
            for role in functions.values()
        },
    }


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the transform wants one; the ARNs keep ${AWS::Region}
    json.dump(roles(json.load(sys.stdin)), sys.stdout)
