// The baseline's custom-resource handler, shipped as a file asset like the project's (aws-cdk-lib's SDK-call
// handler). The bench only synthesizes: this stand-in is never deployed.
exports.handler = async () => ({});
