"""What CloudFormation does with a packaged template before it creates resources, with AWS's own code.

Run by the SAM CLI's Python (.venv-sam) as a long-lived process: `python sam_transform.py`, one request a
line on stdin, {"packaged": PATH, "parameter_sets": [...]} (values by name, pseudo parameters included); one
answer a line, the processed template of each set as a JSON list, until stdin ends: AWS's code is imported
once (3 s), not per request. CloudFormation runs the
template's transforms in the order listed: AWS::LanguageExtensions (here, the SAM CLI's implementation of
it), then AWS::Serverless-2016-10-31 (samtranslator, the code of SAM's hosted transform).
"""

import json
import sys

from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template names no managed policy by name (SAM looks names up in IAM): none to load."""

    def load(self) -> dict[str, str]:
        return {}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        with open(request["packaged"]) as packaged:
            template = yaml_parse(packaged.read())
        print(json.dumps([processed(template, parameters) for parameters in request["parameter_sets"]]), flush=True)


def processed(template: dict, parameters: dict) -> dict:
    expanded = expand_language_extensions(template, parameters, enabled=True).expanded_template
    expanded["Transform"] = [name for name in expanded["Transform"] if name != "AWS::LanguageExtensions"]
    return transform(expanded, parameters, NoManagedPolicies())


if __name__ == "__main__":
    main()
