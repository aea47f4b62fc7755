"""A conformance suite for S3 Multi-Region Access Points: documented AWS behaviours, each with its source, run
against any target (this project's emulator, a real AWS account, another emulator's endpoint).

It lives in the library (``mrap_constructs.testing``) so application teams can score the emulator they test against
from their own CI, with the same cases this project holds its emulator to.

Example:
    from mrap_constructs.testing.conformance import EmulatorTarget, run, score
    print(score(run(EmulatorTarget())))

Command line: ``python -m mrap_constructs.testing.conformance --target emulator|aws|URL`` (``--help``).
"""

from mrap_constructs.testing.conformance.cases import CASES, Case, Result, Skip
from mrap_constructs.testing.conformance.runner import run, run_case, score, table
from mrap_constructs.testing.conformance.targets import AwsTarget, EmulatorTarget, EndpointTarget, Target
from mrap_constructs.testing.conformance.world import World

__all__ = ["CASES", "AwsTarget", "Case", "EmulatorTarget", "EndpointTarget", "Result", "Skip", "Target", "World",
           "run", "run_case", "score", "table"]
