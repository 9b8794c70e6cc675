"""The shipped examples work with this zsync: the GitHub Actions workflow
(examples/github-actions/zsync.yml) and the Dockerfile.

Every `zsync ...` command the workflow runs is checked against the click command tree, so a
renamed command or option breaks this test, not a user's nightly sync."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from zsync.cli import cli

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / "examples/github-actions/zsync.yml"
DOCKERFILE = REPO / "Dockerfile"
ZSYNC = str(Path(sys.executable).with_name("zsync"))
# Tokens that end one shell command (shlex splits these off with punctuation_chars).
SEPARATORS = frozenset({"|", "||", "&", "&&", ";", ";;", "(", ")", "<", ">", ">>", "<<<", "$"})
# Words after which a command begins.
KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "time"})
ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")  # FOO=1 zsync ...


def _workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict), "the workflow's `on:` should be a mapping"
    return triggers


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def _scripts(workflow: dict[Any, Any]) -> list[str]:
    jobs = workflow["jobs"].values()
    return [step["run"] for job in jobs for step in _steps(job) if "run" in step]


def zsync_commands(script: str) -> list[list[str]]:
    """Every `zsync ...` command in a shell script, as its words: across line continuations,
    inside `$(...)`, before a pipe or a redirection, after `then` or `do`; comments and
    `echo zsync` left out."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = [*lexer, ";"]
        current: list[str] | None = None
        at_start = True  # where a shell command may begin
        for i, word in enumerate(words):
            if word in SEPARATORS or word.endswith("=$"):
                if current:
                    commands.append(current)
                current, at_start = None, True
            elif current is not None:
                if not (word.isdigit() and words[i + 1] in SEPARATORS):  # the 2 of 2>/dev/null
                    current.append(word)
            elif at_start and word == "zsync":
                current = ["zsync"]
            else:
                at_start = word in KEYWORDS or (at_start and bool(ASSIGNMENT.match(word)))
        if current:
            commands.append(current)
    return commands


def _options(command: click.Command) -> dict[str, click.Parameter]:
    known: dict[str, click.Parameter] = {}
    for param in command.get_params(click.Context(command)):
        for name in [*param.opts, *param.secondary_opts]:
            if name.startswith("-"):
                known[name] = param
    return known


def check_command(words: list[str]) -> list[str]:
    """What is wrong with one `zsync ...` command line: unknown subcommands and options."""
    problems = []
    group_options = _options(cli)
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        if rest[0] not in group_options:
            problems.append(f"zsync has no option {rest[0]}")
        rest = rest[1:]
    if not rest:
        return problems
    assert isinstance(cli, click.Group)
    name, *args = rest
    command = cli.commands.get(name)
    if command is None:
        return [*problems, f"zsync has no command {name!r}"]
    known = _options(command)
    for arg in args:
        if not arg.startswith("-") or arg == "-":
            continue
        option = arg.split("=", 1)[0]
        if option not in known:
            problems.append(f"zsync {name} has no option {option}")
    return problems


# The parser itself, on the shapes a workflow's run: blocks take.
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("zsync validate jobs.yaml", [["zsync", "validate", "jobs.yaml"]]),
        (
            "zsync run jobs.yaml \\\n  --timeout 50m \\\n  --junit r.xml",
            [["zsync", "run", "jobs.yaml", "--timeout", "50m", "--junit", "r.xml"]],
        ),
        (
            "state=$(zsync status --output json 2>/dev/null || echo '{}')",
            [["zsync", "status", "--output", "json"]],
        ),
        ("zsync runs --output json | jq .  # zsync bogus", [["zsync", "runs", "--output", "json"]]),
        ('pip install "zoho-zsync==0.1.0"', []),
        ("# zsync run jobs.yaml --nope\necho zsync", []),
        ("if true; then zsync plan jobs.yaml; fi", [["zsync", "plan", "jobs.yaml"]]),
        ("GITHUB_ACTIONS=true zsync validate j.yaml", [["zsync", "validate", "j.yaml"]]),
        ("x=$(zsync --version)", [["zsync", "--version"]]),
    ],
)
def test_finds_zsync_commands(script: str, expected: list[list[str]]) -> None:
    assert zsync_commands(script) == expected


def test_check_command_catches_unknown_commands_and_options() -> None:
    assert check_command(["zsync", "run", "jobs.yaml", "--timeout", "5m"]) == []
    assert check_command(["zsync", "--version"]) == []
    assert check_command(["zsync", "sync", "jobs.yaml"]) == ["zsync has no command 'sync'"]
    assert check_command(["zsync", "run", "jobs.yaml", "--resumee"]) == [
        "zsync run has no option --resumee"
    ]
    assert check_command(["zsync", "status", "--output=json"]) == []


def test_every_zsync_command_in_the_workflow_exists() -> None:
    commands = [words for script in _scripts(_workflow()) for words in zsync_commands(script)]
    problems = [f"{' '.join(words)}: {p}" for words in commands for p in check_command(words)]
    assert problems == []
    subcommands = {words[1] for words in commands if len(words) > 1}
    assert {"validate", "plan", "run", "status"} <= subcommands


def test_the_workflow_runs_on_pull_requests_a_schedule_pushes_and_by_hand() -> None:
    triggers = _triggers(_workflow())
    assert {"pull_request", "schedule", "push", "workflow_dispatch"} <= set(triggers)
    assert triggers["schedule"][0]["cron"]
    assert triggers["push"]["branches"] == ["main"]
    assert "jobs.yaml" in triggers["pull_request"]["paths"]


def _job_running(workflow: dict[Any, Any], subcommand: str, flag: str | None = None) -> str:
    for name, job in workflow["jobs"].items():
        for step in _steps(job):
            for words in zsync_commands(step.get("run", "")):
                if words[1:2] == [subcommand] and (flag is None or flag in words):
                    return str(name)
    raise AssertionError(f"no job runs zsync {subcommand} {flag or ''}")


def test_the_pull_request_check_needs_no_secrets() -> None:
    workflow = _workflow()
    name = _job_running(workflow, "validate")
    job = workflow["jobs"][name]
    assert "pull_request" in job["if"]
    assert "secrets." not in yaml.safe_dump(job)
    assert _job_running(workflow, "plan") == name


def test_the_sync_uses_secrets_a_lock_step_timeouts_and_resumes() -> None:
    workflow = _workflow()
    name = _job_running(workflow, "run")
    job = workflow["jobs"][name]
    assert "pull_request" in job["if"]  # as `!= 'pull_request'`
    env = job["env"]
    for variable in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN"):
        assert env[variable] == f"${{{{ secrets.{variable} }}}}"
    # Every ${VAR} of the example job file without a default comes from a secret.
    example = (REPO / "jobs.example.yaml").read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)(?::-[^}]*)?\}", example)) <= set(env)

    assert job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is False
    runs = [w for s in _steps(job) for w in zsync_commands(s.get("run", "")) if w[1] == "run"]
    assert any("--resume" in words for words in runs)
    assert any("--resume" not in words for words in runs)
    for words in runs:
        assert "--junit" in words
        timeout = words[words.index("--timeout") + 1]
        minutes = int(timeout.removesuffix("m"))
        # zsync stops first, records timed_out, and the state is saved before GitHub kills it.
        assert 0 < minutes <= job["timeout-minutes"] - 5


def test_state_is_restored_then_always_saved_and_reports_always_uploaded() -> None:
    workflow = _workflow()
    job = workflow["jobs"][_job_running(workflow, "run")]
    steps = _steps(job)
    uses = [step.get("uses", "") for step in steps]
    restore = steps[uses.index("actions/cache/restore@v4")]
    save = steps[uses.index("actions/cache/save@v4")]
    upload = steps[uses.index("actions/upload-artifact@v4")]
    assert restore["with"]["path"] == save["with"]["path"] == ".zsync"
    assert "github.run_id" in save["with"]["key"]
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert uses.index("actions/cache/restore@v4") < uses.index("actions/cache/save@v4")
    for step in (save, upload):
        assert step["if"] == "always()"
    collect = [s for s in steps if ".zsync/runs/latest" in s.get("run", "")]
    assert collect and collect[0]["if"] == "always()"


def test_actions_are_official_and_pinned_by_major_version() -> None:
    workflow = _workflow()
    for job in workflow["jobs"].values():
        for step in _steps(job):
            if "uses" in step:
                assert re.fullmatch(r"actions/[\w-]+(/[\w-]+)?@v\d+", step["uses"]), step["uses"]


def test_the_workflow_installs_the_pinned_distribution() -> None:
    installs = [s for s in _scripts(_workflow()) if "pip install" in s]
    assert installs
    for script in installs:
        assert re.search(r'pip install "zoho-zsync==\d+\.\d+\.\d+"', script), script


def test_the_workflow_validate_command_passes_on_the_example_without_secrets(
    tmp_path: Path,
) -> None:
    workflow = _workflow()
    job = workflow["jobs"][_job_running(workflow, "validate")]
    [words] = [
        w for s in _steps(job) for w in zsync_commands(s.get("run", "")) if w[1] == "validate"
    ]
    shutil.copy(REPO / "jobs.example.yaml", tmp_path / "jobs.yaml")
    env = {
        "PATH": str(Path(sys.executable).parent),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    done = subprocess.run(
        [ZSYNC, *words[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "environment variable ZOHO_CLIENT_ID is not set" in done.stdout
    assert "::warning file=jobs.yaml" in done.stdout


# The Dockerfile, read as text: there is no Docker daemon to build it everywhere tests run.
def _stages() -> list[list[str]]:
    """Each build stage's instructions, continuation lines joined, comments left out."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    stages: list[list[str]] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_dockerfile_pins_python_and_builds_the_wheel_from_the_source() -> None:
    stages = _stages()
    assert len(stages) >= 2
    for stage in stages:
        assert re.fullmatch(r"FROM python:3\.\d+-slim( AS \w+)?", stage[0]), stage[0]
    build, final = stages[0], stages[-1]
    copies = " ".join(line for line in build if line.startswith("COPY "))
    # Whatever the wheel force-includes must be in the build context, or the build fails.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    included = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for source in ("pyproject.toml", "README.md", "zsync", *included):
        assert source in copies.split(), source
    assert any(re.search(r"pip wheel .*--wheel-dir /wheels \.$", line) for line in build)
    install = [line for line in final if "pip install" in line]
    assert install and "--no-index" in install[0] and "zoho-zsync" in install[0]
    assert "from=build" in install[0]


def test_dockerfile_runs_zsync_as_a_user_in_work() -> None:
    final = _stages()[-1]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert "WORKDIR /work" in final
    assert 'ENTRYPOINT ["zsync"]' in final
    assert 'CMD ["--help"]' in final
    env = " ".join(line for line in final if line.startswith("ENV "))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", ".zsync", "exports"):
        assert entry in ignored


def _docker_daemon() -> str | None:
    """Why the image can't be built here, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker command"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "docker info timed out"
    if info.returncode != 0:
        return "no Docker daemon (docker info failed)"
    return None


def test_the_image_builds_and_runs_zsync() -> None:
    if (why := _docker_daemon()) is not None:
        pytest.skip(f"can't build the image: {why}")
    tag = "zsync-test:examples"
    subprocess.run(["docker", "build", "-t", tag, str(REPO)], check=True, timeout=900)
    try:
        version = subprocess.run(
            ["docker", "run", "--rm", tag, "--version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert version.stdout.startswith("zsync, version ")
        whoami = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert whoami.stdout.strip() != "0"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


def test_the_distribution_name_is_the_one_the_readme_and_the_workflow_install() -> None:
    # PyPI's `zsync` is an unrelated file-sync tool: every install instruction names ours.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "zoho-zsync"
    assert project["scripts"] == {"zsync": "zsync.cli:main"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^pipx install zoho-zsync\b", readme, re.MULTILINE)
    assert not re.search(r"pip(x)? install zsync\b(?!`)", readme.replace("`pip install zsync`", ""))
    from zsync import __version__

    pins = re.findall(r"zoho-zsync==([\d.]+)", WORKFLOW.read_text(encoding="utf-8"))
    assert pins and set(pins) == {__version__}
