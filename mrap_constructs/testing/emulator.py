"""A local AWS for CDK apps with MRAPs: moto in server mode on 127.0.0.1, with the project's corrections.

``cdk bootstrap`` and ``cdk deploy --all`` run against it unchanged (``env`` holds the variables they need);
custom resources run in-process (``cfn_models``), so what the handlers do is really exercised. Nothing leaves the
machine: every endpoint is ``127.0.0.1``.

Example:
    with LocalAws() as aws:
        subprocess.run(["npx", "cdk", "deploy", "--all", "--method=direct", "--require-approval", "never"],
                       env=aws.env, check=True)
        aws.client("s3control", "us-west-2").get_multi_region_access_point(AccountId=aws.account, Name="media")
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import ExitStack
from typing import Any

from mrap_constructs.testing import cfn_models, patches
from mrap_constructs.testing.clients import emulator_client
from mrap_constructs.testing.state import EmulatorState

#: moto's default account: what the ``testing`` credentials act in.
DEFAULT_ACCOUNT = "123456789012"
#: The role assumed (from the default account) to act in another account, as AWS Organizations names it. moto 5.2.5
#: does not check that it exists: ``STSBackend.assume_role`` issues the credentials in the account of the role ARN,
#: and every later request signed with them lands in that account (``moto.iam.models.get_account_id_from``).
ACCOUNT_ACCESS_ROLE = "OrganizationAccountAccessRole"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: How often a server thread looks for ``shutdown()`` between requests (socketserver's ``serve_forever``; its default
#: of 0.5 s made every ``stop`` wait up to half a second).
SHUTDOWN_POLL_SECONDS = 0.02


class _MotoServer:
    """moto's server as ``moto.server.ThreadedMotoServer`` builds it (its app and request handler), on a thread that
    stops within ``SHUTDOWN_POLL_SECONDS``; bound in the constructor, so a taken port fails there."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        self._server = make_server(host, port, DomainDispatcherApplication(create_backend_app), threaded=True,
                                   request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True,
                                        kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS})

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class LocalAws:
    """Start (and stop) an in-process moto server with the MRAP corrections applied.

    Args:
        port: TCP port on 127.0.0.1. Default: a free one.

    Attributes:
        endpoint_url, account, env (environment variables for the AWS CLI, boto3 and the CDK CLI), state (the
        ``EmulatorState``: routes, custom-resource log, batch jobs... of this emulator, new at every ``start``).

    ``start`` checks the installed moto (``patches.SUPPORTED_MOTO``), installs the corrections acting on a fresh
    ``state`` and resets moto's backends, so an emulator started after another in the same process sees nothing of
    it; ``stop`` stops the server and undoes the corrections. One ``LocalAws`` runs at a time in a process (moto's
    backends are process-wide).
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.account = DEFAULT_ACCOUNT
        self.state = EmulatorState(endpoint_url=self.endpoint_url)
        self.patches: patches.Installation | None = None
        self._server: _MotoServer | None = None
        self._stack: ExitStack | None = None
        self._credentials: dict[str, dict[str, str]] = {}

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` plus what points AWS tooling at the emulator, with throwaway credentials (default account)."""
        return self.env_for(self.account)

    def credentials(self, account: str) -> dict[str, str]:
        """Environment variables with credentials that act in ``account``: ``testing`` for the default account,
        else temporary ones from ``sts:AssumeRole`` of ``arn:aws:iam::ACCOUNT:role/OrganizationAccountAccessRole``
        (cached until ``reset``, which forgets them)."""
        if account == DEFAULT_ACCOUNT:
            return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        if account not in self._credentials:
            issued = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ACCOUNT_ACCESS_ROLE}",
                                                    RoleSessionName="mrap-local")["Credentials"]
            self._credentials[account] = {"AWS_ACCESS_KEY_ID": issued["AccessKeyId"],
                                          "AWS_SECRET_ACCESS_KEY": issued["SecretAccessKey"],
                                          "AWS_SESSION_TOKEN": issued["SessionToken"]}
        return self._credentials[account]

    def env_for(self, account: str) -> dict[str, str]:
        """``env`` with credentials acting in ``account`` (what ``cdk bootstrap`` of that account runs with)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_DEFAULT_"))}
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint_url,
            **self.credentials(account),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        })
        return env

    def start(self) -> LocalAws:
        import logging
        import warnings

        patches.check_moto_version()  # before importing moto's server: a clear message, not an ImportError
        from moto.core.base_backend import BackendDict
        from moto.core.model_instances import reset_model_data

        if self._server is not None:
            return self
        self.state = EmulatorState(endpoint_url=self.endpoint_url, routes_delay=self.state.routes_delay)
        self._credentials.clear()
        # Quiet: no request log; moto's "No CloudFormation support for X" is collected into state.skipped_types.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_logger = logging.getLogger("moto")
        moto_logger.setLevel(logging.WARNING)
        moto_logger.propagate = False
        collector = cfn_models.SkippedTypeCollector(self.state)
        warnings.filterwarnings("ignore", message="Tried to parse .* not supported by moto")
        # An update removing a resource of a type moto skipped (it never created one): nothing to delete.
        warnings.filterwarnings("ignore", message="Unable to delete .*, as it was never created")
        with ExitStack() as stack:
            self.patches = stack.enter_context(patches.installed(self.state))
            moto_logger.addHandler(collector)
            stack.callback(moto_logger.removeHandler, collector)
            # A fresh emulator: nothing of an earlier one in this process (what /moto-api/reset does).
            BackendDict.reset()
            reset_model_data()
            self._server = _MotoServer("127.0.0.1", self.port)
            self._server.start()
            self._stack = stack.pop_all()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._stack is not None:
            self._stack.close()
            self._stack = None
            self.patches = None

    def reset(self) -> None:
        """Forget every resource (between test scenarios)."""
        import requests

        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=30)
        self._credentials.clear()
        self.state.reset()

    def client(self, service: str, region: str = "us-east-1", account: str | None = None) -> Any:
        """A boto3 client on the emulator acting in ``account`` (default: the default account); s3control clients
        get the account host prefix stripped."""
        return emulator_client(self.endpoint_url, service, region, account)

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
