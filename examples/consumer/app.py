#!/usr/bin/env python3
import aws_cdk as cdk

from mrap_constructs.rules import AwsDeployRules
from stacks.media import build

app = cdk.App()
build(app)
cdk.Validations.of(app).add_plugins(AwsDeployRules())
app.synth()
