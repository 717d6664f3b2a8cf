"""The lifecycle commands: one environment, stack by stack, on the emulator (default) or on AWS.

    scripts/lifecycle.sh up dev                     # emulator: start it, bootstrap, prerequisites, deploy all five layers
    scripts/lifecycle.sh destroy dev observability edge
    scripts/lifecycle.sh deploy dev edge observability
    scripts/lifecycle.sh down dev --stop-emulator   # every layer, in reverse, then stop the emulator
    scripts/lifecycle.sh plan dev compute --mock-upstream
    scripts/lifecycle.sh plan dev all --save plans/      # keep the plans and a summary of what they change
    scripts/lifecycle.sh apply dev --plans plans/        # apply exactly those, refusing a stale one
    scripts/lifecycle.sh plan dev --detailed-exitcode  # exit 2 when a layer's plan changes anything
    scripts/lifecycle.sh drift dev                  # what changed outside Terraform: exit 0 clean, 2 drifted, 1 error
    scripts/lifecycle.sh status dev                 # what is deployed, and any state lock held
    scripts/lifecycle.sh unlock dev network --lock-id <id>   # remove a dead run's state lock
    scripts/lifecycle.sh orphans dev                # what a killed run created that no state holds, per layer
    scripts/lifecycle.sh recover dev network        # adopt them at the next deploy (import blocks); --delete-anonymous for the rest
    scripts/lifecycle.sh up dev --target aws        # the same on AWS, with the credentials in the environment
    scripts/lifecycle.sh migrate dev --target aws   # fraud-api's schema migration task, as the schema owner, waited for
    scripts/lifecycle.sh release dev --target aws   # the migration, then CodeDeploy blue/green of the revision the compute layer registered
    scripts/lifecycle.sh smoke dev --target aws     # call the deployed API through its public endpoint

Exit codes: 0 done, 1 a stack failed (named), 2 bad usage or configuration, 3 refused by a guard,
4 an account prerequisite is missing, 5 the state could not be read (no state bucket, no or
refused credentials, throttling, S3 unreachable: the bucket and key named), 6 orphans found
(`orphans`), 130 interrupted (SIGINT, SIGTERM or SIGHUP; Terraform was let stop cleanly). `drift`
and `plan --detailed-exitcode` answer like Terraform's -detailed-exitcode instead: 0 nothing to
report, 2 changes (drift), 1 any error; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from config.environment_variables import read_environments, refuse_placeholders_for_aws
from config.environments import DEFAULT_REGION
from config.settings import ConfigError, EnvironmentConfig
from config.targets import DeploymentTarget
from lifecycle.account import with_account_id
from lifecycle.clients import TargetClients
from lifecycle.drift import check_drift, write_report
from lifecycle.emulator_adaptation import EmulatorGapError
from lifecycle.interrupts import Interrupted
from lifecycle.migration import DEFAULT_WAIT_MINUTES as MIGRATION_WAIT_MINUTES
from lifecycle.migration import MigrationFailed, migrate
from lifecycle.operations import Lifecycle, StackFailed
from lifecycle.prerequisites import PrerequisiteMissing
from lifecycle.progress import Progress
from lifecycle.recovery import OrphansFound, RecoveryFailed, adopting_orphans, recover, report_orphans
from lifecycle.resource_kinds import LiveResource
from lifecycle.release import DEFAULT_WAIT_MINUTES, ReleaseFailed, release
from lifecycle.smoke import SmokeFailed, smoke
from lifecycle.states import GuardRefusal, S3StateReader, StateUnreadable
from lifecycle.synth import SynthMismatch, synthesize, synthesized_images
from lifecycle.teardown import check_confirmation
from scripts import emulator
from scripts.paths import CACHE_ROOT, REPO_ROOT
from stacks.layers import DEPLOY_ORDER, Layer, stack_id

EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_PREREQUISITE, EXIT_STATE_UNREADABLE, EXIT_ORPHANS, EXIT_INTERRUPTED = 1, 2, 3, 4, 5, 6, 130
# What synthesizes for, plans or builds on real AWS: refused while a setting is still a placeholder.
REAL_DEPLOY_COMMANDS = ("synth", "up", "bootstrap", "prerequisites", "deploy", "plan", "apply", "drift")
# Terraform's -detailed-exitcode: there is something to report (changes, drift).
EXIT_CHANGES = 2
DEFAULT_AWS_WORKDIR = CACHE_ROOT / "lifecycle-aws"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--target", choices=("emulator", "aws"), default="emulator",
                        help="where to deploy: the local emulator (default) or the AWS account of the current credentials")
    common.add_argument("--workdir", type=Path, help="logs, the emulator and its bootstrap state (default .cache/emulator or .cache/lifecycle-aws)")
    common.add_argument("--outdir", type=Path, help="the synthesized stacks (default <workdir>/cdktf.out in the emulator, cdktf.out on AWS)")
    common.add_argument("--skip-synth", action="store_true", help="use the stacks already synthesized in --outdir (e.g. a CI artifact)")
    common.add_argument("-v", "--verbose", action="store_true", help="stream Terraform's output")
    common.add_argument("--report", type=Path, help="write each step's outcome and duration to this JSON file")

    parser = argparse.ArgumentParser(prog="scripts/lifecycle.sh", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog="\n".join(__doc__.splitlines()[2:]))
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=help_text, description=help_text)

    up = command("up", "start the emulator if needed, bootstrap the state bucket, ensure account prerequisites, deploy every layer")
    up.add_argument("environment")
    down = command("down", "destroy every layer of the environment, in reverse DAG order")
    down.add_argument("environment")
    down.add_argument("--stop-emulator", action="store_true", help="stop the emulator afterwards (it forgets everything)")
    for name, help_text in (("deploy", "deploy the given layers in DAG order (refused while a producer is missing)"),
                            ("destroy", "destroy the given layers in reverse DAG order (refused while a dependant is deployed)")):
        sub = command(name, help_text)
        sub.add_argument("environment")
        sub.add_argument("layers", nargs="+", metavar="LAYER", help=f"{', '.join(layer.value for layer in Layer)} or all")
    for sub in (down, commands.choices["destroy"]):
        sub.add_argument("--confirm", metavar="ENVIRONMENT",
                         help="the environment's name again: required to destroy any layer of an environment that asks for it (prod; "
                              "on a terminal it is asked for); a name of another environment is refused")
    plan = command("plan", "plan layers; with --mock-upstream, even before their producers were ever deployed")
    plan.add_argument("environment")
    plan.add_argument("layers", nargs="*", metavar="LAYER")
    plan.add_argument("--mock-upstream", action="store_true", help="give every upstream output a typed placeholder where its state has none")
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when a plan changes anything, 1 on any error (as Terraform's)")
    plan.add_argument("--save", type=Path, metavar="DIR",
                      help="keep each plan, its JSON and the state it was planned against in DIR, with a Markdown summary (DIR/summary.md), for `apply --plans`")
    apply = command("apply", "apply exactly the plans `plan --save` kept, in DAG order; refused when a layer's state moved since its plan")
    apply.add_argument("environment")
    apply.add_argument("--plans", type=Path, metavar="DIR", required=True, help="the directory `plan --save` wrote (never synthesizes: uses --outdir as planned)")
    drift = command("drift", "what changed outside Terraform: refresh-only plans of every deployed layer (exit 0 clean, 2 drifted, 1 error)")
    drift.add_argument("environment")
    drift.add_argument("layers", nargs="*", metavar="LAYER")
    drift.add_argument("--drift-report", type=Path, metavar="FILE", help="the drift as JSON (default <workdir>/drift-<environment>.json)")
    drift.add_argument("--summary", type=Path, metavar="FILE", help="append the drift as Markdown to FILE (a CI job summary)")
    status = command("status", "what is deployed: resources and serial of each layer's state, and any state lock held")
    status.add_argument("environment")
    unlock = command("unlock", "remove the state lock a dead run left on a layer (refused while it is younger than an hour, unless --force)")
    unlock.add_argument("environment")
    unlock.add_argument("layer", choices=[layer.value for layer in Layer])
    unlock.add_argument("--lock-id", help="the lock to remove, as `status` or the failed run showed it; refused if another lock is held now")
    unlock.add_argument("--force", action="store_true", help="remove a lock younger than an hour: only when you know the run that took it is dead")
    orphans = command("orphans", "what exists in the account for the environment but in no layer's state (a killed run's), per layer; exit 6 if any")
    orphans.add_argument("environment")
    recover_command = command("recover", "adopt the layer's orphans at its next deploy (import blocks); list, or delete, the anonymous ones")
    recover_command.add_argument("environment")
    recover_command.add_argument("layer", choices=[layer.value for layer in Layer])
    recover_command.add_argument("--delete-anonymous", action="store_true",
                                 help="delete the orphans that cannot be adopted (VPCs, subnets, NAT gateways, Elastic IPs, ...)")
    recover_command.add_argument("--confirm", metavar="ENVIRONMENT",
                                 help="the environment's name again: required with --delete-anonymous where a teardown asks for it (prod)")
    bootstrap = command("bootstrap", "step 0: the state bucket the environment's stacks keep their state in")
    bootstrap.add_argument("environment")
    prerequisites = command("prerequisites", "what the account must already have: checked on AWS, created in the emulator")
    prerequisites.add_argument("environment")
    image = command("image", "check that the synthesized stacks of ENVIRONMENT deploy exactly this fraud-api image")
    image.add_argument("environment")
    image.add_argument("expected", help="the image reference promoted from the previous environment, e.g. fraud-api@sha256:<digest>")
    migrate_command = command("migrate", "run fraud-api's schema migration task (the schema owner's login) and wait for it to exit 0")
    migrate_command.add_argument("environment")
    migrate_command.add_argument("--wait-minutes", type=int, default=MIGRATION_WAIT_MINUTES,
                                 help="how long the task may take before it is stopped (default %(default)s)")
    release_command = command("release", "run the schema migration, then roll the compute layer's task-definition revision out with a CodeDeploy blue/green deployment")
    release_command.add_argument("environment")
    release_command.add_argument("--wait-minutes", type=int, default=DEFAULT_WAIT_MINUTES,
                                 help="how long to wait beyond the deployment group's own waits (default %(default)s)")
    release_command.add_argument("--prepare", type=Path, metavar="DIR",
                                 help="deploy nothing: write the task definition, AppSpec and outputs the workflow's deploy action needs")
    release_command.add_argument("--image", help="refuse unless the revision runs exactly this image, e.g. fraud-api@sha256:<digest>")
    smoke_command = command("smoke", "call the deployed API through its public endpoint with a key of each usage plan")
    smoke_command.add_argument("environment")
    synth = command("synth", "synthesize for the target (emulator: with the emulator's gaps left out)")
    synth.add_argument("environments", nargs="*")
    emulator_command = command("emulator", "start, stop or show the local emulator")
    emulator_command.add_argument("action", choices=("start", "stop", "status"))
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    detailed = bool(arguments) and (arguments[0] == "drift" or (arguments[0] == "plan" and "--detailed-exitcode" in arguments))
    try:
        args = build_parser().parse_args(arguments)
    except SystemExit as usage:
        # argparse says 2 for bad usage, which a detailed exit code reserves for changes.
        if detailed and usage.code == EXIT_USAGE:
            return EXIT_FAILED
        raise
    return _main(args, detailed)


def _main(args: argparse.Namespace, detailed: bool) -> int:
    progress = Progress()
    workdir: Path = args.workdir or (emulator.DEFAULT_RUN_DIR if args.target == "emulator" else DEFAULT_AWS_WORKDIR)
    try:
        return _run(args, workdir, progress)
    except GuardRefusal as refusal:
        progress.summary()  # what a run refused half-way did before
        print(f"refused: {refusal}", file=sys.stderr)
        return EXIT_FAILED if detailed else EXIT_REFUSED
    except PrerequisiteMissing as missing:
        print(f"prerequisite missing: {missing}", file=sys.stderr)
        return EXIT_FAILED if detailed else EXIT_PREREQUISITE
    except StateUnreadable as unreadable:
        progress.summary()
        print(f"state unreadable: {unreadable}", file=sys.stderr)
        return EXIT_FAILED if detailed else EXIT_STATE_UNREADABLE
    except StackFailed as failure:
        progress.summary()
        print(f"error: {failure}", file=sys.stderr)
        return EXIT_FAILED
    except OrphansFound as found:
        print(f"orphans: {found}", file=sys.stderr)
        return EXIT_ORPHANS
    except (ReleaseFailed, MigrationFailed, SmokeFailed, RecoveryFailed) as failure:
        print(f"error: {failure}", file=sys.stderr)
        return EXIT_FAILED
    except (Interrupted, KeyboardInterrupt) as stop:
        progress.summary()
        print(f"interrupted: {stop or 'SIGINT received'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ConfigError, SynthMismatch, EmulatorGapError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED if detailed else EXIT_USAGE
    finally:
        if args.report:
            progress.write_report(args.report)


def _run(args: argparse.Namespace, workdir: Path, progress: Progress) -> int:
    if args.command == "emulator":
        return emulator.main([args.action, "--run-dir", str(workdir)])

    target = _resolve_target(args, workdir, progress)
    outdir: Path = args.outdir or (workdir / "cdktf.out" if target.is_emulator else REPO_ROOT / "cdktf.out")
    base_env = dict(os.environ)
    if not target.is_emulator and args.command != "image":
        if getattr(args, "layers", None) is not None:
            _layers(args.layers or ["all"])  # a typo is a usage error before any AWS call
        base_env = with_account_id(base_env, lambda: TargetClients(target, DEFAULT_REGION).client("sts"))
        if args.command in REAL_DEPLOY_COMMANDS:
            refuse_placeholders_for_aws(base_env)

    if args.command == "synth":
        _synth(target, args.environments, outdir, base_env, progress)
        return 0
    if args.command == "image":
        images = synthesized_images(outdir, args.environment)
        if not any(image == args.expected or image.endswith("/" + args.expected) for image in images):
            raise ConfigError(f"the synthesized {args.environment} stacks deploy {images or 'no container image'}, not {args.expected}")
        print(f"{args.environment} deploys {args.expected}")
        return 0

    (config,) = read_environments({**base_env, "FRAUD_ENVIRONMENTS": args.environment})
    confirmation = None
    if args.command in ("destroy", "down"):
        # Before the synth and any read: an unconfirmed teardown of prod costs nothing and changes nothing.
        stacks = [stack_id(layer, config.name) for layer in reversed(DEPLOY_ORDER) if layer in _layers(getattr(args, "layers", ["all"]))]
        confirmation = _teardown_confirmation(args.confirm, config, stacks, target)
        check_confirmation(config, stacks, confirmation)
    if args.command == "recover" and args.delete_anonymous and (args.confirm is not None or not _is_terminal()):
        # Like a teardown's, before any read: a deletion in prod refused for want of its name costs nothing.
        check_confirmation(config, [stack_id(Layer(args.layer), config.name)], args.confirm, action="delete the anonymous orphans of")
    clients = TargetClients(target, config.state.region)
    lifecycle = Lifecycle(
        target=target,
        environment=config,
        outdir=outdir,
        workdir=workdir,
        reader=S3StateReader(
            config.state.bucket,
            clients.client("s3"),
            bootstrap_command=" ".join(("scripts/lifecycle.sh bootstrap", config.name, *_same_target_options(args))),
        ),
        progress=progress,
        verbose=args.verbose,
        base_env=base_env,
        bootstrap_state=workdir / "bootstrap.tfstate" if target.is_emulator else None,
        cli_options=_same_target_options(args),
        clients=clients,
    )
    if args.command == "status":
        locks, now = lifecycle.locks(), datetime.now(UTC)
        for layer, state in lifecycle.status().items():
            described = "no state" if state is None else f"{state.managed_resources} resources, serial {state.serial}"
            print(f"{lifecycle.stack(layer):<22} {'deployed' if state and state.deployed else 'not deployed':<13} {described}")
            for line in lifecycle.lock_advice(layer, lock, now) if (lock := locks[layer]) else []:
                print(f"{'':<22} {line}")
        return 0
    if args.command == "unlock":
        layer = Layer(args.layer)
        if lifecycle.held_lock(layer, lock_id=args.lock_id, force=args.force) is None:
            return 0
        if not args.skip_synth:
            _synth(target, [config.name], outdir, base_env, progress)
        lifecycle.unlock(layer, lock_id=args.lock_id, force=args.force)
        return 0
    if args.command == "migrate":
        migrate(lifecycle, clients, wait_minutes=args.wait_minutes)
        return 0
    if args.command == "release":
        release(lifecycle, clients, prepare=args.prepare, image=args.image, wait_minutes=args.wait_minutes)
        return 0
    if args.command == "smoke":
        smoke(lifecycle, clients)
        return 0

    # Saved plans on AWS are sealed with the state's KMS key (lifecycle/sealing.py).
    kms = clients.client("kms") if not target.is_emulator else None
    if args.command == "apply":
        # A plan saved after `recover` imports what it wrote: its blocks are retired alike.
        with adopting_orphans(lifecycle, list(DEPLOY_ORDER), announce=False):
            lifecycle.apply_saved(args.plans, kms=kms)
        progress.summary()
        return 0
    if args.command == "plan" and args.save is not None and args.mock_upstream:
        raise ConfigError("--mock-upstream plans cannot be saved: --save itself plans with placeholders, for review only, "
                          "exactly the layers whose producers lack outputs they read")

    if not args.skip_synth:
        _synth(target, [config.name], outdir, base_env, progress)
    if args.command == "prerequisites":
        lifecycle.prerequisites(clients)
        return 0
    if args.command == "orphans":
        report_orphans(lifecycle, clients)
        return 0
    if args.command == "recover":
        layer = Layer(args.layer)

        def confirm(resources: list[LiveResource]) -> None:
            if args.confirm is None and config.teardown.confirm_with_name:
                what = f"delete these {len(resources)} orphans of {lifecycle.stack(layer)}"
                check_confirmation(config, [lifecycle.stack(layer)], _teardown_confirmation(None, config, [lifecycle.stack(layer)], target, what=what),
                                   action="delete the anonymous orphans of")

        recover(lifecycle, clients, layer, delete_anonymous=args.delete_anonymous, confirm=confirm)
        return 0
    if args.command in ("up", "bootstrap"):
        lifecycle.bootstrap(clients)
        if args.command == "bootstrap":
            return 0
        lifecycle.prerequisites(clients)
        with adopting_orphans(lifecycle, list(DEPLOY_ORDER)):
            _deploy_then_migrate_a_new_service(lifecycle, clients, list(DEPLOY_ORDER))
    elif args.command == "deploy":
        with adopting_orphans(lifecycle, _layers(args.layers)):
            _deploy_then_migrate_a_new_service(lifecycle, clients, _layers(args.layers))
    elif args.command == "destroy":
        lifecycle.destroy(_layers(args.layers), confirmation=confirmation)
    elif args.command == "down":
        lifecycle.destroy(list(DEPLOY_ORDER), confirmation=confirmation)
    elif args.command == "plan":
        plans = lifecycle.plan(_layers(args.layers or ["all"]), mock_upstream=args.mock_upstream, save=args.save, kms=kms)
        if args.detailed_exitcode and any(plan.has_changes for plan in plans.values()):
            progress.summary()
            return EXIT_CHANGES
    elif args.command == "drift":
        return _drift(lifecycle, args, workdir, progress)
    progress.summary()
    if getattr(args, "stop_emulator", False) and target.is_emulator:
        emulator.stop(workdir)
        progress.note("emulator stopped")
    return 0


def _drift(lifecycle: Lifecycle, args: argparse.Namespace, workdir: Path, progress: Progress) -> int:
    report = check_drift(lifecycle, _layers(args.layers or ["all"]))
    report_file = args.drift_report or workdir / f"drift-{args.environment}.json"
    write_report(report, report_file)
    if args.summary:
        with args.summary.open("a") as summary:
            summary.write(report.markdown())
    verdict = f"{len(report.drifted)} of {len(report.layers)} layers drifted" if report.drifted else "no drift"
    progress.section(f"drift {args.environment}: {verdict}{f', {len(report.failed)} could not be checked' if report.failed else ''}")
    for line in report.lines():
        progress.note(line)
    progress.note(f"report: {report_file}")
    progress.summary()
    return report.exit_code


def _teardown_confirmation(given: str | None, config: EnvironmentConfig, stacks: list[str], target: DeploymentTarget,
                           *, what: str | None = None) -> str | None:
    """`--confirm`, or for an environment that asks for its name, what is typed at the prompt (on a terminal only).

    `what` says what is about to happen (default: destroying `stacks`)."""
    if given is not None or not config.teardown.confirm_with_name or not _is_terminal():
        return given
    kept = " Final backups of its data are taken first." if config.data.final_backups_on_destroy and what is None else ""
    section = '"Tearing prod down"' if what is None else '"When a run dies"'
    print(f"About to {what or 'destroy ' + ', '.join(stacks)} on {'the emulator' if target.is_emulator else 'AWS'}.{kept} "
          f"See docs/lifecycle.md, {section}.", file=sys.stderr)
    try:
        return _ask(f"Type the environment's name ({config.name}) to {'destroy it' if what is None else 'go ahead'}: ").strip()
    except EOFError:
        return None


def _is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(prompt: str) -> str:
    return input(prompt)


def _same_target_options(args: argparse.Namespace) -> tuple[str, ...]:
    """The options that point another command at what this one used (for the commands it prints)."""
    options: list[str] = []
    if args.target == "aws":
        options += ["--target", "aws"]
    if args.workdir:
        options += ["--workdir", str(args.workdir)]
    if args.outdir:
        options += ["--outdir", str(args.outdir)]
    if args.skip_synth:
        options.append("--skip-synth")
    return tuple(options)


def _resolve_target(args: argparse.Namespace, workdir: Path, progress: Progress) -> DeploymentTarget:
    if args.target == "aws" or args.command == "image":
        return DeploymentTarget()
    running = emulator.running(workdir)
    if running is None and args.command == "up":
        running = emulator.start(workdir)
        progress.section(f"emulator started at {running.endpoint} (pid {running.pid}, log {running.log_file})")
    if running is None:
        raise ValueError(f"no emulator is running for {workdir}; start one with `up <environment>` or `emulator start`")
    return DeploymentTarget(emulator_endpoint=running.endpoint)


def _synth(target: DeploymentTarget, environments: list[str], outdir: Path, base_env: dict[str, str], progress: Progress) -> None:
    progress.start("synth", "synth")
    left_out = synthesize(target, environments, outdir, base_env)
    progress.done("synth", "synth", detail=f"{outdir}")
    for stack, addresses in left_out.items():
        if addresses:
            progress.note(f"{stack}: left out in the emulator (config/targets.py EMULATOR_GAPS): {', '.join(addresses)}")


def _deploy_then_migrate_a_new_service(lifecycle: Lifecycle, clients: TargetClients, layers: list[Layer]) -> None:
    """A compute layer this run creates gets its schema at once: its new service's tasks exit 3 until
    the migration has run, and no release may follow (`up`). Later schema changes run with each
    release, before traffic moves (docs/lifecycle.md, "Schema migrations")."""
    state = lifecycle.state(Layer.COMPUTE)
    creates_the_service = Layer.COMPUTE in layers and (state is None or not state.deployed)
    lifecycle.deploy(layers)
    if creates_the_service:
        migrate(lifecycle, clients)


def _layers(names: list[str]) -> list[Layer]:
    if "all" in names:
        return list(DEPLOY_ORDER)
    try:
        return [Layer(name) for name in names]
    except ValueError:
        raise ConfigError(f"unknown layer in {names}; choose from {', '.join(layer.value for layer in Layer)} or all") from None
